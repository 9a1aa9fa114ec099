/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-command-link.h: the gateway's WebSocket client to the Teletel
 * command channel. */
#pragma once

#include <gio/gio.h>

#include "mgw-command.h"

G_BEGIN_DECLS

#define MGW_TYPE_COMMAND_LINK (mgw_command_link_get_type ())
G_DECLARE_FINAL_TYPE (MgwCommandLink, mgw_command_link, MGW, COMMAND_LINK, GObject)

MgwCommandLink *mgw_command_link_new           (GTlsDatabase   *tls_database,
                                                const char     *uri,
                                                guint           retry_ms,
                                                guint           queue_max);
void            mgw_command_link_start         (MgwCommandLink *self);
void            mgw_command_link_send          (MgwCommandLink *self,
                                                const char     *message);
gboolean        mgw_command_link_get_connected (MgwCommandLink *self);
guint64         mgw_command_link_get_dropped   (MgwCommandLink *self);
guint64         mgw_command_link_get_bad_commands (MgwCommandLink *self);
const char     *mgw_command_link_get_uri       (MgwCommandLink *self);

G_END_DECLS
