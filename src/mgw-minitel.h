/* mgw-minitel.h: Minitel byte conventions used by the gateway. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MGW_MINITEL_SEP 0x13
#define MGW_MINITEL_ESC 0x1b
#define MGW_MINITEL_US  0x1f
#define MGW_MINITEL_CAN 0x18
#define MGW_MINITEL_LF  0x0a

/* Status line ("line zero"): US 0x40 0x41, text, CAN, LF. */
GBytes  *mgw_minitel_status_line (const char *text);

/* Text frames carry one code point per byte (latin-1 inside UTF-8). */
GBytes  *mgw_latin1_to_utf8 (const guint8 *data,
                             gsize         len);
gboolean mgw_utf8_to_latin1 (const char   *text,
                             gsize         len,
                             GByteArray   *out,
                             GError      **error);

G_END_DECLS
