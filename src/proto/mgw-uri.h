/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-uri.h: what the gateway needs of a server's URI (ws://, wss://,
 * telnet://, tcp://): its port, written or its scheme's. Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The port of a ws (80), wss (443) or telnet (23) URI without one; 0
 * for another scheme, tcp included (a raw TCP target has no usual
 * port: its URI must write one). Case-insensitive. */
guint16  mgw_uri_scheme_port (const char *scheme);
/* The URI's port, or its scheme's when it names none (0: unknown). */
guint16  mgw_uri_get_port    (GUri       *uri);

G_END_DECLS
