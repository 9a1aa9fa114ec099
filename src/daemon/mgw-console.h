/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-console.h: the admin text console ("display"; docs/protocol.md,
 * Admin console). */
#pragma once

#include <gio/gio.h>

#include "mgw-gateway.h"
#include "mgw-teletel.h"

G_BEGIN_DECLS

#define MGW_TYPE_CONSOLE (mgw_console_get_type ())
G_DECLARE_FINAL_TYPE (MgwConsole, mgw_console, MGW, CONSOLE, GObject)

MgwConsole *mgw_console_new          (MgwGateway  *gateway,
                                      MgwTeletel  *teletel);
gboolean    mgw_console_start        (MgwConsole  *self,
                                      GError     **error);
guint16     mgw_console_get_port     (MgwConsole  *self);
guint       mgw_console_get_n_clients (MgwConsole *self);

G_END_DECLS
