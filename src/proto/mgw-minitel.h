/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-minitel.h: Minitel byte conventions used by the gateway. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MGW_MINITEL_SEP 0x13
#define MGW_MINITEL_ESC 0x1b
#define MGW_MINITEL_US  0x1f
#define MGW_MINITEL_CAN 0x18
#define MGW_MINITEL_LF  0x0a
#define MGW_MINITEL_SS2 0x19

/* Places of the status line from column 1, the last one left free so
 * that the cursor never wraps into the service's screen. */
#define MGW_MINITEL_STATUS_WIDTH 39

#define MGW_MINITEL_KEY_CONNEXION_FIN       0x49
#define MGW_MINITEL_KEY_CONNEXION_FIN_MODEM 0x59

/* ENQROM, the server asking the terminal for its ROM id: ESC 0x39 0x7B. */
gboolean mgw_minitel_scan_enqrom (guint        *state,
                                  const guint8 *data,
                                  gsize         len);
/* Offset of the first Connexion/Fin key (SEP 0x49 or SEP 0x59), or -1. */
gssize   mgw_minitel_find_connexion_fin (const guint8 *data,
                                         gsize         len);

/* UTF-8 text as videotex bytes a Minitel shows: printable ASCII as is,
 * the lowercase accented letters of French through G2 (SS2, accent,
 * letter), £ § ° ± ÷ ¼ ½ ¾ ← ↑ → ↓ Œ œ ß through G2, other letters
 * without their accent (uppercase ones included: they have no G2 form),
 * common punctuation spelt in ASCII (« » → ", ’ → ', … → ...), anything
 * else (controls, DEL, emoji, invalid UTF-8) as '?'. Never a byte of
 * 0x80 or above, never a control but SS2. `len` -1: NUL-terminated. */
GBytes  *mgw_minitel_from_utf8 (const char *text,
                                gssize      len);

/* Status line ("line zero"): US 0x40 0x41, text (UTF-8, mapped as by
 * mgw_minitel_from_utf8() and cut to MGW_MINITEL_STATUS_WIDTH places),
 * CAN, LF. */
GBytes  *mgw_minitel_status_line (const char *text);

/* The longest operator message (bytes of UTF-8) taken for users' status
 * lines; on the line, what goes beyond its places is cut as by
 * mgw_minitel_status_line (). */
#define MGW_MINITEL_MESSAGE_MAX 200

/* An operator's text for users' status lines: not empty, valid UTF-8,
 * no control character (C0, DEL, C1), at most MGW_MINITEL_MESSAGE_MAX
 * bytes. FALSE and `error` (MGW_ERROR_BAD_INPUT, saying which) otherwise. */
gboolean mgw_minitel_check_message (const char  *text,
                                    GError     **error);

/* Text frames carry one code point per byte (latin-1 inside UTF-8). */
GBytes  *mgw_latin1_to_utf8 (const guint8 *data,
                             gsize         len);
void     mgw_latin1_append_utf8 (const guint8 *data,
                                 gsize         len,
                                 GByteArray   *out);
gboolean mgw_utf8_to_latin1 (const char   *text,
                             gsize         len,
                             GByteArray   *out,
                             GError      **error);

G_END_DECLS
