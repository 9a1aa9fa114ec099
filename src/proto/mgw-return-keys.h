/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-return-keys.h: the return sequences that bring a redirected user
 * back to the default server besides Connexion/Fin ([redirect]
 * return-keys, "return-keys" in profiles.json), and the matcher that
 * finds them in the user's byte stream however it is cut. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sequences in one list, and bytes in one sequence, at most. */
#define MGW_RETURN_KEYS_MAX     8
#define MGW_RETURN_KEYS_MAX_LEN 16

/* A list of byte sequences, a plain value (copied by assignment). */
typedef struct
{
  guint  n;
  guint8 len[MGW_RETURN_KEYS_MAX];
  guint8 bytes[MGW_RETURN_KEYS_MAX][MGW_RETURN_KEYS_MAX_LEN];
} MgwReturnKeys;

/* Appends one sequence written as text (see mgw-return-keys.c: key
 * names such as Sommaire, 'text' in quotes, SEP X, \xNN, separated by
 * blanks). FALSE, `keys` unchanged, with a translated error
 * (MGW_ERROR_CONFIG) naming what is wrong. */
gboolean mgw_return_keys_add_text  (MgwReturnKeys  *keys,
                                    const char     *text,
                                    GError        **error);
/* Appends one sequence given as bytes: 1 to MGW_RETURN_KEYS_MAX_LEN of
 * them, not ending with a SEP that waits for its key code. */
gboolean mgw_return_keys_add_bytes (MgwReturnKeys  *keys,
                                    const guint8   *data,
                                    gsize           len,
                                    GError        **error);
/* Parses a list of sequences separated by ';' (outside quotes; empty
 * items skipped: "" is an empty list) into `keys`, which is emptied
 * first; on error `keys` is left empty. */
gboolean mgw_return_keys_parse     (MgwReturnKeys  *keys,
                                    const char     *text,
                                    GError        **error);
/* Sequence `i` as text in the syntax above, which parses back to the
 * same bytes: key names for SEP 0x41..0x49, 'text' for printable ASCII,
 * SEP X or \xNN for the rest. */
char    *mgw_return_keys_describe  (const MgwReturnKeys *keys,
                                    guint                i);

/* --- the matcher --- */

typedef struct
{
  MgwReturnKeys keys;
  guint32       first[8];      /* bitmap of the sequences' first bytes */
  guint8        held[MGW_RETURN_KEYS_MAX_LEN];
  guint         held_len;
  gboolean      code_next;     /* nothing held and the next byte is a key's code */
} MgwKeyMatcher;

/* `keys` NULL or empty: a matcher that lets everything through. */
void     mgw_key_matcher_init     (MgwKeyMatcher       *matcher,
                                   const MgwReturnKeys *keys);
gboolean mgw_key_matcher_is_active (const MgwKeyMatcher *matcher);
/* Feeds the next bytes of the stream. The bytes that cannot be part of
 * a sequence are appended to `out`, in order; the longest end of the
 * stream that may still begin one is held. Returns -1 when no sequence
 * completed in `data` (all of it consumed); else the index of the one
 * that did (the longest of those ending at that byte), *consumed the
 * bytes of `data` up to its end (the rest is not looked at), `out`
 * holding what came before it, and nothing held. A sequence never
 * begins on the code of a function key (the byte after a SEP), so a key
 * is never cut in two. */
int      mgw_key_matcher_feed     (MgwKeyMatcher       *matcher,
                                   const guint8        *data,
                                   gsize                len,
                                   GByteArray          *out,
                                   gsize               *consumed);
/* The held bytes turned out not to be a sequence (their time ran out, or
 * the stream goes elsewhere): appended to `out`, nothing held. */
void     mgw_key_matcher_flush    (MgwKeyMatcher       *matcher,
                                   GByteArray          *out);
/* Drops the held bytes and starts a new stream. */
void     mgw_key_matcher_reset    (MgwKeyMatcher       *matcher);
guint    mgw_key_matcher_get_held (const MgwKeyMatcher *matcher);

G_END_DECLS
