/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-gateway.h: the gateway: listeners, sessions and their counters. */
#pragma once

#include <gio/gio.h>

#include "mgw-address-set.h"
#include "mgw-ban-list.h"
#include "mgw-config.h"
#include "mgw-legacy-config.h"
#include "mgw-recordings.h"
#include "mgw-session.h"
#include "mgw-tls-handshake.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 sessions_total[MGW_N_ACCESS];
  guint64 timeouts[MGW_N_TIMEOUTS];
  guint64 bad_input;
  guint64 bad_commands;    /* CONNECTs for unknown or busy sessions */
  guint64 redirections;    /* redirections that reached their target */
  guint64 refused_banned;  /* connections of banned addresses */
  guint64 refused_full;    /* users turned away by the caps */
  guint64 proxy_refused;   /* bad or untrusted PROXY headers */
  guint64 scanners;        /* sessions whose first bytes were another protocol's */
  guint64 refused_rate;    /* connections beyond [bans] connection-rate */
  guint64 refused_pending; /* connections beyond [session] max-pending-per-address */
  guint64 refused_draining; /* users turned away while draining */
  /* Session recordings (mgw-recorder.h) */
  guint64 recordings_started;       /* files created */
  guint64 recording_bytes;          /* written */
  guint64 recording_dropped_bytes;  /* of events dropped: the disk did not keep up */
  guint64 recording_dropped_events;
  guint64 recording_failures;       /* never created, or stopped by a write error */
  guint64 recordings_truncated;     /* reached [recording] max-size */
  /* Plain HTTP on the WebSocket port (mgw-web.h) */
  guint64 web_requests;             /* answered, whatever the status */
  guint64 web_errors;               /* answered with 4xx or 5xx */
  guint64 web_bytes;                /* of bodies sent (as promised: a cut answer counts whole) */
} MgwCounters;

#define MGW_TYPE_GATEWAY (mgw_gateway_get_type ())
G_DECLARE_FINAL_TYPE (MgwGateway, mgw_gateway, MGW, GATEWAY, GObject)

MgwGateway        *mgw_gateway_new              (MgwConfig   *config);
gboolean           mgw_gateway_start            (MgwGateway  *self,
                                                 GError     **error);
/* `status` as for mgw_session_end(): an N_() text or NULL. */
void               mgw_gateway_stop             (MgwGateway  *self,
                                                 const char  *status);
guint16            mgw_gateway_get_telnet_port  (MgwGateway  *self);
guint16            mgw_gateway_get_ws_port      (MgwGateway  *self);
/* The wss:// listener's port (0: none), the certificate it shows (NULL:
 * none), why the last reload kept it (NULL: it did not), and its
 * handshakes. */
guint16            mgw_gateway_get_ws_tls_port  (MgwGateway  *self);
MgwTlsIdentity    *mgw_gateway_get_tls_identity (MgwGateway  *self);
const char        *mgw_gateway_get_tls_problem  (MgwGateway  *self);
MgwTlsHandshakes  *mgw_gateway_get_tls_handshakes (MgwGateway *self);
/* The raw TCP users' port ([listen] raw-port); 0 when there is none. */
guint16            mgw_gateway_get_raw_port     (MgwGateway  *self);
/* The keys ("[listen] telnet-port") the last reload read with a new
 * value it could not apply: they wait for a restart. Empty, never NULL. */
const char * const *mgw_gateway_get_restart_pending (MgwGateway *self);
/* A port this machine serves for the gateway besides its user
 * listeners (console, metrics): never a redirect target. */
void               mgw_gateway_add_own_port     (MgwGateway  *self,
                                                 guint16      port);
guint              mgw_gateway_get_n_sessions   (MgwGateway  *self);
/* Entries in the tables kept by peer address (docs/security.md). */
guint              mgw_gateway_get_address_table_size (MgwGateway *self);
guint              mgw_gateway_get_n_sessions_by_access (MgwGateway *self,
                                                         MgwAccess    access);
MgwSession        *mgw_gateway_lookup_session   (MgwGateway  *self,
                                                 guint        id);
const MgwCounters *mgw_gateway_get_counters     (MgwGateway  *self);
MgwConfig         *mgw_gateway_get_config       (MgwGateway  *self);
/* NULL before start. */
MgwRecordings     *mgw_gateway_get_recordings   (MgwGateway  *self);
MgwCommandLink    *mgw_gateway_get_command_link (MgwGateway  *self);
gboolean           mgw_gateway_reload_profiles  (MgwGateway  *self,
                                                 GError     **error);
gboolean           mgw_gateway_reload           (MgwGateway  *self,
                                                 MgwConfig   *config,
                                                 GError     **error);
/* The ban rules, in one place for the gateway, D-Bus and the console. */
/* A manual ban (duration 0: the configured one, with escalation); the
 * address's open sessions end with DISCONNECTED BY THE OPERATOR. */
gboolean           mgw_gateway_ban              (MgwGateway  *self,
                                                 const char  *address,
                                                 const char  *reason,
                                                 gint64       duration_us,
                                                 char       **banned,
                                                 GError     **error);
/* The short-session rule (a port scanner leaves at once): bans address
 * when duration_us is under [bans] min-session; what: "session",
 * "console session", for the reason. */
void               mgw_gateway_judge_short_session (MgwGateway *self,
                                                    const char *address,
                                                    gint64      duration_us,
                                                    const char *what);
gboolean           mgw_gateway_unban            (MgwGateway  *self,
                                                 const char  *address,
                                                 GError     **error);
MgwBanList        *mgw_gateway_get_ban_list     (MgwGateway  *self);
/* Operator actions, in one place for D-Bus and the console. */
/* `text` (mgw_minitel_check_message ()) on the status line of every open
 * session, or of those redirected to `target` (NULL or "": all); returns
 * how many were told. */
guint              mgw_gateway_message          (MgwGateway  *self,
                                                 const char  *text,
                                                 const char  *target);
/* Drains the gateway: new users refused (SERVICE CLOSING, RETRY LATER),
 * the open sessions told `text` (NULL: SERVICE CLOSING IN n MIN) and
 * ended with SERVICE CLOSED after `grace_s` seconds (0: now, untold).
 * Again while draining: the new grace, from now, and the new text. */
void               mgw_gateway_drain            (MgwGateway  *self,
                                                 guint        grace_s,
                                                 const char  *text);
/* Admits users again, the grace cancelled (sessions already ended stay
 * ended); FALSE when the gateway was not draining. */
gboolean           mgw_gateway_resume           (MgwGateway  *self);
gboolean           mgw_gateway_get_draining     (MgwGateway  *self);
/* When the sessions left end (or ended), µs since the epoch; 0 when not
 * draining. */
gint64             mgw_gateway_get_drain_deadline (MgwGateway *self);
GList             *mgw_gateway_get_sessions     (MgwGateway  *self);
/* Records a session from now on ([recording] input and max-size in
 * force); G_IO_ERROR_NOT_SUPPORTED when recordings are off (no
 * directory), else as mgw_session_start_recording (). */
gboolean           mgw_gateway_record_session   (MgwGateway  *self,
                                                 MgwSession  *session,
                                                 GError     **error);
/* Recordings being written or closed (ended sessions' too). */
guint              mgw_gateway_get_n_recordings (MgwGateway  *self);
gint64             mgw_gateway_get_start_time   (MgwGateway  *self);

G_END_DECLS
