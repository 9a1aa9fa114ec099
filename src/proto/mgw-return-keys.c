/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-return-keys.c: return sequences, their text form and the matcher.
 *
 * A redirected user comes back to the default server with Connexion/Fin;
 * some terminals cannot send it (MiEdit's key sends nothing) and some
 * services hang up on it themselves, so the operator may name other
 * sequences that do the same, such as MiniPavi's "***" then Sommaire.
 * A sequence is written as items separated by blanks:
 *
 *   Envoi Retour Répétition (or Repetition) Guide Annulation Sommaire
 *   Correction Suite Connexion/Fin   a function key: SEP and its code,
 *                                    0x41 to 0x49 (case ignored)
 *   SEP X, SEP \xNN                  SEP and any code
 *   'text' or "text"                 its bytes: printable ASCII, with
 *                                    \\ \' \" and \xNN inside
 *   \xNN                             one byte, two hexadecimal digits
 *
 * e.g. '***' Sommaire (2A 2A 2A 13 46); a list separates sequences with
 * ';' (outside quotes). A bare word that is not a key name is refused (a
 * misspelt Sommaire is not taken for text).
 *
 * The matcher reads the user's bytes as they come, cut anywhere: what
 * cannot be part of a sequence goes out at once, in order; the longest
 * end of the stream that may still begin one is held (at most
 * MGW_RETURN_KEYS_MAX_LEN - 1 bytes) until the next bytes decide, or its
 * owner's timer flushes it. It knows Minitel keys: the byte after a SEP
 * is that key's code, never the start of a sequence, so a key is never
 * cut in two (Envoi, SEP A, is not an 'A' that begins a sequence 'AB').
 * Pure: no I/O, no clock. */
#include "config.h"

#include "mgw-return-keys.h"
#include "mgw-error.h"
#include "mgw-minitel.h"

#include <glib/gi18n.h>
#include <string.h>

static const struct
{
  const char *name;
  guint8      code;
} key_names[] = {
  { "Envoi", 0x41 },
  { "Retour", 0x42 },
  { "Répétition", 0x43 },
  { "Repetition", 0x43 },
  { "Guide", 0x44 },
  { "Annulation", 0x45 },
  { "Sommaire", 0x46 },
  { "Correction", 0x47 },
  { "Suite", 0x48 },
  { "Connexion/Fin", 0x49 },
};

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

static int
hex_value (char c)
{
  return g_ascii_isxdigit (c) ? g_ascii_xdigit_value (c) : -1;
}

/* The key code of a word that names a key, or 0. */
static guint8
key_code (const char *word,
          gsize       len)
{
  g_autofree char *folded = g_utf8_casefold (word, (gssize) len);
  g_autofree char *normal = g_utf8_normalize (folded, -1, G_NORMALIZE_DEFAULT_COMPOSE);

  for (gsize i = 0; i < G_N_ELEMENTS (key_names); i++)
    {
      g_autofree char *name = g_utf8_casefold (key_names[i].name, -1);
      g_autofree char *name_normal = g_utf8_normalize (name, -1, G_NORMALIZE_DEFAULT_COMPOSE);

      if (normal != NULL && g_strcmp0 (normal, name_normal) == 0)
        return key_names[i].code;
    }
  return 0;
}

/* Whether the last byte is a SEP that waits for its key code (a byte
 * after a SEP is that key's code, and a code is never a key's SEP). */
static gboolean
ends_with_lone_sep (const guint8 *data,
                    gsize         len)
{
  gboolean code = FALSE;

  for (gsize i = 0; i + 1 < len; i++)
    code = !code && data[i] == MGW_MINITEL_SEP;
  return len > 0 && !code && data[len - 1] == MGW_MINITEL_SEP;
}

/* The checks every sequence passes, `shown` naming it in the error. */
static gboolean
check_bytes (const MgwReturnKeys  *keys,
             const guint8         *data,
             gsize                 len,
             const char           *shown,
             GError              **error)
{
  if (len == 0)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("\"%s\": an empty sequence"), shown);
      return FALSE;
    }
  if (len > MGW_RETURN_KEYS_MAX_LEN)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("\"%s\": longer than %d bytes"),
                   shown, MGW_RETURN_KEYS_MAX_LEN);
      return FALSE;
    }
  if (ends_with_lone_sep (data, len))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("\"%s\": ends with SEP, a function key without its code"), shown);
      return FALSE;
    }
  if (keys->n >= MGW_RETURN_KEYS_MAX)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("more than %d return sequences"),
                   MGW_RETURN_KEYS_MAX);
      return FALSE;
    }
  return TRUE;
}

static void
append (MgwReturnKeys *keys,
        const guint8  *data,
        gsize          len)
{
  memcpy (keys->bytes[keys->n], data, len);
  keys->len[keys->n] = (guint8) len;
  keys->n++;
}

gboolean
mgw_return_keys_add_bytes (MgwReturnKeys  *keys,
                           const guint8   *data,
                           gsize           len,
                           GError        **error)
{
  g_autofree char *shown = NULL;
  GString *hex;

  g_return_val_if_fail (keys != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  hex = g_string_new (NULL);
  for (gsize i = 0; i < len && i <= MGW_RETURN_KEYS_MAX_LEN; i++)
    g_string_append_printf (hex, "\\x%02X", data[i]);
  if (len > MGW_RETURN_KEYS_MAX_LEN + 1)
    g_string_append (hex, "...");
  shown = g_string_free (hex, FALSE);
  if (!check_bytes (keys, data, len, shown, error))
    return FALSE;
  append (keys, data, len);
  return TRUE;
}

/* Reads \xNN at *p (the backslash): the byte, *p past it; -1 if bad. */
static int
read_hex_escape (const char **p)
{
  const char *s = *p;
  int hi, lo;

  if (s[1] != 'x' && s[1] != 'X')
    return -1;
  hi = hex_value (s[2]);
  lo = hi >= 0 ? hex_value (s[3]) : -1;
  if (lo < 0)
    return -1;
  *p = s + 4;
  return hi * 16 + lo;
}

typedef struct
{
  guint8 bytes[MGW_RETURN_KEYS_MAX_LEN + 1];
  gsize  len;        /* may go past the limit: counted, not kept */
} Buffer;

static void
put (Buffer *b,
     guint8  byte)
{
  if (b->len < sizeof b->bytes)
    b->bytes[b->len] = byte;
  b->len++;
}

/* 'text' or "text" at *p; *p past the closing quote. */
static gboolean
read_quoted (const char  **p,
             Buffer       *b,
             const char   *shown,
             GError      **error)
{
  char quote = **p;
  const char *s = *p + 1;
  gsize before = b->len;

  while (*s != quote)
    {
      guchar c = (guchar) *s;

      if (c == '\0')
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("\"%s\": quotes not closed"), shown);
          return FALSE;
        }
      if (c == '\\')
        {
          int byte;

          if (s[1] == '\\' || s[1] == '\'' || s[1] == '"')
            {
              put (b, (guint8) s[1]);
              s += 2;
              continue;
            }
          if (s[1] == 'x' || s[1] == 'X')
            {
              byte = read_hex_escape (&s);
              if (byte < 0)
                {
                  g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                               _("\"%s\": \\x must be followed by two hexadecimal digits"), shown);
                  return FALSE;
                }
              put (b, (guint8) byte);
              continue;
            }
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("\"%s\": unknown escape in quotes (\\\\, \\', \\\" or \\xNN)"), shown);
          return FALSE;
        }
      if (c < 0x20 || c > 0x7e)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("\"%s\": only printable ASCII goes in quotes; write other bytes as \\xNN"),
                       shown);
          return FALSE;
        }
      put (b, c);
      s++;
    }
  if (b->len == before)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("\"%s\": empty text in quotes"), shown);
      return FALSE;
    }
  *p = s + 1;
  return TRUE;
}

/* One sequence's items into `b`. */
static gboolean
read_sequence (const char  *text,
               Buffer      *b,
               const char  *shown,
               GError     **error)
{
  const char *p = text;

  for (;;)
    {
      const char *start;
      guint8 code;

      while (is_blank (*p))
        p++;
      if (*p == '\0')
        return TRUE;
      if (*p == '\'' || *p == '"')
        {
          if (!read_quoted (&p, b, shown, error))
            return FALSE;
          continue;
        }
      if (*p == '\\')
        {
          int byte = read_hex_escape (&p);
          if (byte < 0)
            {
              g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                           _("\"%s\": \\x must be followed by two hexadecimal digits"), shown);
              return FALSE;
            }
          put (b, (guint8) byte);
          continue;
        }
      if (*p == ';')
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("\"%s\": ';' only separates sequences; in quotes (';') it is text"),
                       shown);
          return FALSE;
        }
      start = p;
      while (*p != '\0' && !is_blank (*p) && *p != '\'' && *p != '"' && *p != '\\' && *p != ';')
        p++;
      if (p - start == 3 && g_ascii_strncasecmp (start, "SEP", 3) == 0)
        {
          while (is_blank (*p))
            p++;
          put (b, MGW_MINITEL_SEP);
          if (*p == '\\')
            {
              int byte = read_hex_escape (&p);
              if (byte >= 0)
                {
                  put (b, (guint8) byte);
                  continue;
                }
            }
          else if ((guchar) *p > 0x20 && (guchar) *p < 0x7f && *p != ';' &&
                   (p[1] == '\0' || is_blank (p[1])))
            {
              put (b, (guint8) *p);
              p++;
              continue;
            }
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("\"%s\": SEP must be followed by one key code, a character (SEP F) "
                         "or \\xNN"), shown);
          return FALSE;
        }
      code = key_code (start, p - start);
      if (code == 0)
        {
          g_autofree char *word = g_strndup (start, p - start);
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("\"%s\": \"%s\" is not a key name (Envoi, Retour, Répétition, Guide, "
                         "Annulation, Sommaire, Correction, Suite, Connexion/Fin); text goes "
                         "in quotes, as in '***'"), shown, word);
          return FALSE;
        }
      put (b, MGW_MINITEL_SEP);
      put (b, code);
    }
}

gboolean
mgw_return_keys_add_text (MgwReturnKeys  *keys,
                          const char     *text,
                          GError        **error)
{
  g_autofree char *shown = NULL;
  Buffer b = { { 0 }, 0 };

  g_return_val_if_fail (keys != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, MGW_ERROR, MGW_ERROR_CONFIG,
                           _("a return sequence is not valid UTF-8"));
      return FALSE;
    }
  shown = g_strstrip (g_strdup (text));
  if (!read_sequence (shown, &b, shown, error))
    return FALSE;
  if (!check_bytes (keys, b.bytes, MIN (b.len, MGW_RETURN_KEYS_MAX_LEN + 1), shown, error))
    return FALSE;
  append (keys, b.bytes, b.len);
  return TRUE;
}

gboolean
mgw_return_keys_parse (MgwReturnKeys  *keys,
                       const char     *text,
                       GError        **error)
{
  const char *p = text;

  g_return_val_if_fail (keys != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  memset (keys, 0, sizeof *keys);
  while (*p != '\0')
    {
      const char *start = p;
      char quote = 0;
      g_autofree char *item = NULL;

      /* Up to the next ';' outside quotes. */
      for (; *p != '\0' && (quote != 0 || *p != ';'); p++)
        {
          if (quote != 0 && *p == '\\' && p[1] != '\0')
            p++;
          else if (quote != 0 && *p == quote)
            quote = 0;
          else if (quote == 0 && (*p == '\'' || *p == '"'))
            quote = *p;
        }
      item = g_strndup (start, p - start);
      if (*p == ';')
        p++;
      g_strstrip (item);
      if (*item == '\0')
        continue;
      if (!mgw_return_keys_add_text (keys, item, error))
        {
          memset (keys, 0, sizeof *keys);
          return FALSE;
        }
    }
  return TRUE;
}

char *
mgw_return_keys_describe (const MgwReturnKeys *keys,
                          guint                i)
{
  GString *text;
  const guint8 *s;
  gsize len;

  g_return_val_if_fail (keys != NULL, NULL);
  g_return_val_if_fail (i < keys->n, NULL);

  text = g_string_new (NULL);
  s = keys->bytes[i];
  len = keys->len[i];
  for (gsize k = 0; k < len;)
    {
      if (text->len > 0)
        g_string_append_c (text, ' ');
      if (s[k] == MGW_MINITEL_SEP && k + 1 < len)
        {
          guint8 code = s[k + 1];

          if (code >= 0x41 && code <= 0x49)
            {
              for (gsize n = 0; n < G_N_ELEMENTS (key_names); n++)
                if (key_names[n].code == code)
                  {
                    g_string_append (text, key_names[n].name);
                    break;
                  }
            }
          else if (g_ascii_isalnum (code))
            g_string_append_printf (text, "SEP %c", code);
          else
            g_string_append_printf (text, "SEP \\x%02X", code);
          k += 2;
        }
      else if (s[k] >= 0x20 && s[k] < 0x7f)
        {
          g_string_append_c (text, '\'');
          for (; k < len && s[k] >= 0x20 && s[k] < 0x7f; k++)
            {
              if (s[k] == '\'' || s[k] == '\\')
                g_string_append_c (text, '\\');
              g_string_append_c (text, (char) s[k]);
            }
          g_string_append_c (text, '\'');
        }
      else
        g_string_append_printf (text, "\\x%02X", s[k++]);
    }
  return g_string_free (text, FALSE);
}

/* --- the matcher --- */

static gboolean
is_first (const MgwKeyMatcher *m,
          guint8               b)
{
  return (m->first[b >> 5] >> (b & 31)) & 1;
}

void
mgw_key_matcher_init (MgwKeyMatcher       *matcher,
                      const MgwReturnKeys *keys)
{
  g_return_if_fail (matcher != NULL);

  memset (matcher, 0, sizeof *matcher);
  if (keys == NULL)
    return;
  matcher->keys = *keys;
  for (guint i = 0; i < keys->n; i++)
    matcher->first[keys->bytes[i][0] >> 5] |= 1u << (keys->bytes[i][0] & 31);
}

gboolean
mgw_key_matcher_is_active (const MgwKeyMatcher *matcher)
{
  g_return_val_if_fail (matcher != NULL, FALSE);

  return matcher->keys.n > 0;
}

/* Whether w[0..n) is a proper beginning of a sequence. */
static gboolean
begins_one (const MgwKeyMatcher *m,
            const guint8        *w,
            gsize                n)
{
  for (guint s = 0; s < m->keys.n; s++)
    if (m->keys.len[s] > n && memcmp (m->keys.bytes[s], w, n) == 0)
      return TRUE;
  return FALSE;
}

int
mgw_key_matcher_feed (MgwKeyMatcher *matcher,
                      const guint8  *data,
                      gsize          len,
                      GByteArray    *out,
                      gsize         *consumed)
{
  MgwKeyMatcher *m = matcher;
  gsize i = 0;

  g_return_val_if_fail (matcher != NULL, -1);
  g_return_val_if_fail (data != NULL || len == 0, -1);
  g_return_val_if_fail (out != NULL, -1);
  g_return_val_if_fail (consumed != NULL, -1);

  *consumed = len;
  if (m->keys.n == 0)
    {
      g_byte_array_append (out, data, (guint) len);
      return -1;
    }
  while (i < len)
    {
      guint8 w[MGW_RETURN_KEYS_MAX_LEN + 1];
      gboolean code[MGW_RETURN_KEYS_MAX_LEN + 1];
      gsize n, j;
      int best = -1;
      gsize best_len = 0;

      if (m->held_len == 0)
        {
          /* Bytes that begin nothing (key codes among them) go at once. */
          gsize start = i;

          while (i < len && (m->code_next || !is_first (m, data[i])))
            {
              m->code_next = !m->code_next && data[i] == MGW_MINITEL_SEP;
              i++;
            }
          g_byte_array_append (out, data + start, (guint) (i - start));
          if (i == len)
            break;
        }

      /* The held bytes and the next one. */
      n = m->held_len + 1;
      memcpy (w, m->held, m->held_len);
      w[n - 1] = data[i++];
      code[0] = m->held_len == 0 && m->code_next;
      for (gsize k = 1; k < n; k++)
        code[k] = !code[k - 1] && w[k - 1] == MGW_MINITEL_SEP;

      /* A sequence that ends here, the longest. */
      for (guint s = 0; s < m->keys.n; s++)
        {
          gsize l = m->keys.len[s];

          if (l <= n && l > best_len && !code[n - l] &&
              memcmp (w + n - l, m->keys.bytes[s], l) == 0)
            {
              best = (int) s;
              best_len = l;
            }
        }
      if (best >= 0)
        {
          g_byte_array_append (out, w, (guint) (n - best_len));
          m->held_len = 0;
          m->code_next = FALSE;   /* no sequence ends with a lone SEP */
          *consumed = i;
          return best;
        }

      /* The longest end of it that may still begin one stays held. */
      for (j = 0; j < n; j++)
        if (!code[j] && begins_one (m, w + j, n - j))
          break;
      g_byte_array_append (out, w, (guint) j);
      m->held_len = (guint) (n - j);
      memmove (m->held, w + j, m->held_len);
      if (m->held_len == 0)
        m->code_next = !code[n - 1] && w[n - 1] == MGW_MINITEL_SEP;
    }
  return -1;
}

void
mgw_key_matcher_flush (MgwKeyMatcher *matcher,
                       GByteArray    *out)
{
  gboolean code = FALSE;

  g_return_if_fail (matcher != NULL);
  g_return_if_fail (out != NULL);

  if (matcher->held_len == 0)
    return;
  g_byte_array_append (out, matcher->held, matcher->held_len);
  for (guint k = 0; k + 1 < matcher->held_len; k++)
    code = !code && matcher->held[k] == MGW_MINITEL_SEP;
  matcher->code_next = !code && matcher->held[matcher->held_len - 1] == MGW_MINITEL_SEP;
  matcher->held_len = 0;
}

void
mgw_key_matcher_reset (MgwKeyMatcher *matcher)
{
  g_return_if_fail (matcher != NULL);

  matcher->held_len = 0;
  matcher->code_next = FALSE;
}

guint
mgw_key_matcher_get_held (const MgwKeyMatcher *matcher)
{
  g_return_val_if_fail (matcher != NULL, 0);

  return matcher->held_len;
}
