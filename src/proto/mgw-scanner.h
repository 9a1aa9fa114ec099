/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-scanner.h: whether the first bytes a Telnet or raw TCP peer sends
 * are plainly another protocol's (an HTTP request line, a TLS
 * ClientHello, an SSH banner, an RDP or SMB negotiation): what port
 * scanners send at once, and no Minitel, emulator or telnet client ever
 * does. Pure functions, no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Never more bytes than this are needed to decide. */
#define MGW_SCANNER_PROBE_MAX 64

/* The protocol the first bytes of a stream belong to ("http", "tls",
 * "ssh", "rdp", "smb"), or NULL: Minitel bytes, telnet negotiation, or
 * too short to tell. */
const char *mgw_scanner_classify  (const guint8 *data,
                                   gsize         len);
/* TRUE while data, not classified, is a proper prefix of what would be
 * (a lone "G", "\x16\x03"): more bytes may decide. Always FALSE from
 * MGW_SCANNER_PROBE_MAX bytes on. */
gboolean    mgw_scanner_need_more (const guint8 *data,
                                   gsize         len);

G_END_DECLS
