/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl.h: what the commands of moipgwctl share: the state of a
 * run (Ctl), the command table's entry, reaching the gateway over
 * D-Bus and reporting its errors (moipgwctl-bus.c), and the one place
 * for output, tables for people and JSON for programs
 * (moipgwctl-output.c). Each command is a file, moipgwctl-VERB.c. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>

#include "mgw-dbus-generated.h"

G_BEGIN_DECLS

/* Exit status 1 is EXIT_FAILURE: not running, denied, refused... */
#define EXIT_USAGE 2

#define BUS_NAME "org.moipgw.Gateway1"
#define GATEWAY_PATH "/org/moipgw/Gateway1"
#define SESSIONS_PATH GATEWAY_PATH "/sessions/"
#define DBUS_ERROR_PREFIX "org.freedesktop.DBus.Error."
#define PROXY_FLAGS G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START

typedef struct
{
  gboolean         session_bus;
  gboolean         json;
  char            *days;
  char            *speed;        /* replay */
  char            *baud;
  char            *idle_limit;
  gboolean         raw;
  gboolean         all;        /* message --all */
  char            *target;     /* message --target */
  char            *grace;      /* drain --grace */
  gboolean         stop;       /* record --stop */
  GDBusConnection *connection;
} Ctl;

/* A command's body; `args` holds from min_args to max_args arguments,
 * its options already parsed into the Ctl. Returns the exit status. */
typedef int (*MgwCtlRunFunc) (Ctl  *ctl,
                              char **args);

typedef struct
{
  const char    *name;
  const char    *params;    /* shown after the name in the usage line */
  const char    *summary;
  guint          min_args;
  guint          max_args;
  MgwCtlRunFunc  run;
} MgwCtlCommand;

/* --- the commands, one file each --- */

int mgw_ctl_cmd_status     (Ctl *ctl, char **args);
int mgw_ctl_cmd_sessions   (Ctl *ctl, char **args);
int mgw_ctl_cmd_session    (Ctl *ctl, char **args);
int mgw_ctl_cmd_disconnect (Ctl *ctl, char **args);
int mgw_ctl_cmd_record     (Ctl *ctl, char **args);
int mgw_ctl_cmd_bans       (Ctl *ctl, char **args);
int mgw_ctl_cmd_ban        (Ctl *ctl, char **args);
int mgw_ctl_cmd_unban      (Ctl *ctl, char **args);
int mgw_ctl_cmd_reload     (Ctl *ctl, char **args);
int mgw_ctl_cmd_teletel    (Ctl *ctl, char **args);
int mgw_ctl_cmd_monitor    (Ctl *ctl, char **args);
int mgw_ctl_cmd_recordings (Ctl *ctl, char **args);
int mgw_ctl_cmd_replay     (Ctl *ctl, char **args);
int mgw_ctl_cmd_message    (Ctl *ctl, char **args);
int mgw_ctl_cmd_drain      (Ctl *ctl, char **args);
int mgw_ctl_cmd_resume     (Ctl *ctl, char **args);
int mgw_ctl_cmd_watch      (Ctl *ctl, char **args);

/* A session id as `sessions` shows it; FALSE, said, otherwise
 * (moipgwctl-sessions.c). */
gboolean mgw_ctl_parse_id  (const char *text,
                            guint32    *id);

/* --- the gateway on the bus (moipgwctl-bus.c) --- */

int                  mgw_ctl_not_running          (Ctl         *ctl);
int                  mgw_ctl_report_error         (Ctl         *ctl,
                                                   GError      *error,
                                                   const char  *what);
gboolean             mgw_ctl_proxy_has_properties (gpointer     proxy);
MgwDBusGateway      *mgw_ctl_get_gateway_full     (Ctl         *ctl,
                                                   int         *status,
                                                   gboolean     absent_ok);
MgwDBusGateway      *mgw_ctl_get_gateway          (Ctl         *ctl,
                                                   int         *status);
GDBusObjectManager  *mgw_ctl_get_manager_full     (Ctl         *ctl,
                                                   int         *status,
                                                   gboolean     absent_ok);
GDBusObjectManager  *mgw_ctl_get_manager          (Ctl         *ctl,
                                                   int         *status);
MgwDBusSession      *mgw_ctl_get_session          (Ctl         *ctl,
                                                   guint32      id,
                                                   int         *status);

/* Where a session's user connects from (ListPeers). */
typedef struct
{
  char    *address;
  guint16  port;
} MgwCtlPeer;

/* The peers of the sessions `ids` (n_ids of them; none: all), session id
 * -> MgwCtlPeer. NULL when they cannot be had: *denied then says whether
 * the gateway refused (the caller is neither root nor in the moipgw
 * group); other failures are reported by the command's next call. */
GHashTable          *mgw_ctl_get_peers            (Ctl           *ctl,
                                                   const guint32 *ids,
                                                   gsize          n_ids,
                                                   gboolean      *denied);

/* --- output (moipgwctl-output.c) --- */
typedef struct _MgwCtlTable MgwCtlTable;

void         mgw_ctl_print_error      (const char  *format,
                                       ...) G_GNUC_PRINTF (1, 2);

char        *mgw_ctl_format_time      (gint64       usec);
void         mgw_ctl_json_add_time    (JsonBuilder *b,
                                       const char  *name,
                                       gint64       usec);
/* address:port, [address]:port for IPv6; "-" for NULL. */
char        *mgw_ctl_format_peer      (const MgwCtlPeer *peer);
/* PeerAddress and PeerPort, as members of the open JSON object (none
 * for a NULL peer) or rows of `table` (saying who may see them). */
void         mgw_ctl_add_peer         (const MgwCtlPeer *peer,
                                       JsonBuilder      *b,
                                       MgwCtlTable      *table);
const char  *mgw_ctl_or_dash          (const char  *s);

void         mgw_ctl_print_json       (JsonBuilder *b,
                                       gboolean     pretty);
gboolean     mgw_ctl_write_stdout     (const guint8 *data,
                                       gsize         len);


MgwCtlTable *mgw_ctl_table_new        (guint        n_columns,
                                       guint32      right);
void         mgw_ctl_table_free       (MgwCtlTable *t);
void         mgw_ctl_table_take       (MgwCtlTable *t,
                                       char        *cell);
void         mgw_ctl_table_add        (MgwCtlTable *t,
                                       const char  *cell);
void         mgw_ctl_table_print      (MgwCtlTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwCtlTable, mgw_ctl_table_free)

void         mgw_ctl_add_properties   (gpointer     proxy,
                                       JsonBuilder *b,
                                       MgwCtlTable *table);
int          mgw_ctl_print_properties (Ctl         *ctl,
                                       gpointer     proxy);
/* Its properties and its peer (NULL: not to be seen by this caller). */
int          mgw_ctl_print_session    (Ctl              *ctl,
                                       MgwDBusSession   *session,
                                       const MgwCtlPeer *peer);

JsonBuilder *mgw_ctl_action_begin     (const char  *command);
void         mgw_ctl_action_end       (JsonBuilder *b);
JsonBuilder *mgw_ctl_event_begin      (const char  *event,
                                       gint64       now);
void         mgw_ctl_event_end        (Ctl         *ctl,
                                       JsonBuilder *b,
                                       gint64       now,
                                       const char  *text);

G_END_DECLS
