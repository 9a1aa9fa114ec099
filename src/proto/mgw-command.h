/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-command.h: the Teletel command channel's wire format (compat). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longest command line accepted from Teletel. */
#define MGW_COMMAND_MAX_LINE 4096

typedef struct
{
  guint   id;               /* the session ("PID") */
  char   *server_session;
  char   *command;          /* "CONNECT" */
  char   *uri;
  gboolean has_ping;        /* FALSE for None */
  guint   ping;             /* seconds */
  char  **subprotocols;     /* never NULL */
  char   *raw;              /* the line as received */
} MgwCommand;

void        mgw_command_free   (MgwCommand  *command);
MgwCommand *mgw_command_parse  (const char  *line,
                                gsize        len,
                                GError     **error);

/* Gateway -> Teletel messages. */
char *mgw_command_new_user         (gboolean    telnet,
                                    const char *ip,
                                    guint       port,
                                    guint       id);
char *mgw_command_user_event       (const char *event,
                                    guint       id,
                                    const char *detail);
char *mgw_command_user_gone        (guint       id);

/* The identification line sent to the default server after the first
 * ENQROM: PID=<id>,IP=<ip>,PORT=<port>,Access=<Telnet|WS>\n */
char *mgw_command_identification   (guint       id,
                                    const char *ip,
                                    guint       port,
                                    gboolean    telnet);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwCommand, mgw_command_free)

G_END_DECLS
