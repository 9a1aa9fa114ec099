/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-minitel.c: Minitel status line, text to videotex bytes (accents
 * through the G2 set) and the byte <-> text frame mapping.
 *
 * Pure functions, no I/O: the session and the WebSocket link call them, the
 * unit tests and fuzzers call them directly. */
#include "config.h"

#include "mgw-minitel.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <string.h>

/* The lowercase letters a Minitel draws with an accent from its G2 set
 * (STUM1B): SS2, the accent, the letter. Nothing else combines. */
static guint8
g2_accent (gunichar base,
           gunichar mark)
{
  switch (mark)
    {
    case 0x0300: /* grave */
      return strchr ("aeu", (int) base) ? 0x41 : 0;
    case 0x0301: /* acute */
      return base == 'e' ? 0x42 : 0;
    case 0x0302: /* circumflex */
      return strchr ("aeiou", (int) base) ? 0x43 : 0;
    case 0x0308: /* diaeresis */
      return strchr ("aeiou", (int) base) ? 0x48 : 0;
    case 0x0327: /* cedilla */
      return base == 'c' ? 0x4b : 0;
    default:
      return 0;
    }
}

/* Characters with a G2 form of their own, and spellings for the common
 * ones that have none. */
static gboolean
append_special (GByteArray *out,
                gunichar    c)
{
  static const struct { gunichar c; guint8 g2; const char *text; } table[] = {
    { 0x00a3, 0x23, NULL },   /* £ */
    { 0x00a7, 0x27, NULL },   /* § */
    { 0x2190, 0x2c, NULL },   /* ← */
    { 0x2191, 0x2d, NULL },   /* ↑ */
    { 0x2192, 0x2e, NULL },   /* → */
    { 0x2193, 0x2f, NULL },   /* ↓ */
    { 0x00b0, 0x30, NULL },   /* ° */
    { 0x00b1, 0x31, NULL },   /* ± */
    { 0x00f7, 0x38, NULL },   /* ÷ */
    { 0x00bc, 0x3c, NULL },   /* ¼ */
    { 0x00bd, 0x3d, NULL },   /* ½ */
    { 0x00be, 0x3e, NULL },   /* ¾ */
    { 0x0152, 0x6a, NULL },   /* Œ */
    { 0x0153, 0x7a, NULL },   /* œ */
    { 0x00df, 0x7b, NULL },   /* ß */
    { 0x00c6, 0, "AE" },      /* Æ */
    { 0x00e6, 0, "ae" },      /* æ */
    { 0x00d8, 0, "O" },       /* Ø */
    { 0x00f8, 0, "o" },       /* ø */
    { 0x0141, 0, "L" },       /* Ł */
    { 0x0142, 0, "l" },       /* ł */
    { 0x0110, 0, "D" },       /* Đ */
    { 0x0111, 0, "d" },       /* đ */
    { 0x00d0, 0, "D" },       /* Ð */
    { 0x00f0, 0, "d" },       /* ð */
    { 0x00de, 0, "Th" },      /* Þ */
    { 0x00fe, 0, "th" },      /* þ */
    { 0x00ab, 0, "\"" },     /* « */
    { 0x00bb, 0, "\"" },     /* » */
    { 0x2039, 0, "<" },       /* ‹ */
    { 0x203a, 0, ">" },       /* › */
    { 0x201c, 0, "\"" },     /* “ */
    { 0x201d, 0, "\"" },     /* ” */
    { 0x201e, 0, "\"" },     /* „ */
    { 0x2018, 0, "'" },       /* ‘ */
    { 0x2019, 0, "'" },       /* ’ */
    { 0x201a, 0, "'" },       /* ‚ */
    { 0x2026, 0, "..." },     /* … */
    { 0x2010, 0, "-" },       /* hyphen */
    { 0x2011, 0, "-" },       /* non-breaking hyphen */
    { 0x2013, 0, "-" },       /* – */
    { 0x2014, 0, "-" },       /* — */
    { 0x2212, 0, "-" },       /* minus */
    { 0x00a0, 0, " " },       /* no-break space */
    { 0x202f, 0, " " },       /* narrow no-break space (French : ; ! ?) */
    { 0x2009, 0, " " },       /* thin space */
    { 0x00d7, 0, "x" },       /* × */
    { 0x20ac, 0, "EUR" },     /* € */
    { 0x00a9, 0, "(C)" },     /* © */
    { 0x00ae, 0, "(R)" },     /* ® */
    { 0x2122, 0, "TM" },      /* ™ */
    { 0x00b7, 0, "." },       /* · */
    { 0x2022, 0, "*" },       /* • */
    { 0x00b5, 0, "u" },       /* µ */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    if (table[i].c == c)
      {
        if (table[i].g2 != 0)
          {
            guint8 seq[2] = { MGW_MINITEL_SS2, table[i].g2 };
            g_byte_array_append (out, seq, sizeof seq);
          }
        else
          g_byte_array_append (out, (const guint8 *) table[i].text, strlen (table[i].text));
        return TRUE;
      }
  return FALSE;
}

/* One character, as the Minitel can show it. Returns how many places it
 * takes on the screen. */
static guint
append_char (GByteArray *out,
             gunichar    c)
{
  gunichar parts[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
  gsize n;
  guint before = out->len;

  if (c >= 0x20 && c < 0x7f)
    {
      guint8 b = (guint8) c;
      g_byte_array_append (out, &b, 1);
      return 1;
    }
  if (append_special (out, c))
    goto counted;
  n = g_unichar_fully_decompose (c, FALSE, parts, G_N_ELEMENTS (parts));
  if (n >= 1 && parts[0] < 0x80 && g_ascii_isalpha ((char) parts[0]))
    {
      guint8 accent = n == 2 ? g2_accent (parts[0], parts[1]) : 0;
      guint8 base = (guint8) parts[0];

      /* Uppercase letters have no accented form: the plain letter. */
      if (accent != 0)
        {
          guint8 seq[3] = { MGW_MINITEL_SS2, accent, base };
          g_byte_array_append (out, seq, sizeof seq);
        }
      else
        g_byte_array_append (out, &base, 1);
      return 1;
    }
  g_byte_array_append (out, (const guint8 *) "?", 1);
  return 1;

counted:
  /* A G2 sequence is one place; a spelling is as many as its letters. */
  return out->data[before] == MGW_MINITEL_SS2 ? 1 : out->len - before;
}

static void
append_utf8 (GByteArray *out,
             const char *text,
             gssize      len,
             guint       max_width)
{
  const char *p = text;
  const char *end = text + (len < 0 ? strlen (text) : (gsize) len);
  guint width = 0;

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      guint before = out->len;

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          c = 0xfffd;   /* shown as '?' */
          p++;
        }
      else
        p = g_utf8_next_char (p);
      /* A letter followed by a combining accent is the accented letter;
       * an accent left alone is not shown. */
      while (p < end)
        {
          gunichar mark = g_utf8_get_char_validated (p, end - p);
          gunichar composed;

          if (mark == (gunichar) -1 || mark == (gunichar) -2 || !g_unichar_ismark (mark))
            break;
          if (g_unichar_compose (c, mark, &composed))
            c = composed;
          p = g_utf8_next_char (p);
        }
      if (g_unichar_ismark (c))
        continue;
      width += append_char (out, c);
      if (width > max_width)
        {
          g_byte_array_set_size (out, before);
          return;
        }
    }
}

GBytes *
mgw_minitel_from_utf8 (const char *text,
                       gssize      len)
{
  GByteArray *out = g_byte_array_new ();

  append_utf8 (out, text, len, G_MAXUINT);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
mgw_minitel_status_line (const char *text)
{
  GByteArray *line = g_byte_array_new ();
  static const guint8 head[] = { MGW_MINITEL_US, 0x40, 0x41 };
  static const guint8 tail[] = { MGW_MINITEL_CAN, MGW_MINITEL_LF };

  g_byte_array_append (line, head, sizeof head);
  append_utf8 (line, text, -1, MGW_MINITEL_STATUS_WIDTH);
  g_byte_array_append (line, tail, sizeof tail);
  return g_byte_array_free_to_bytes (line);
}

gboolean
mgw_minitel_check_message (const char  *text,
                           GError     **error)
{
  gsize len;

  g_return_val_if_fail (text != NULL, FALSE);

  len = strlen (text);
  if (len == 0)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, _("The message is empty"));
      return FALSE;
    }
  if (len > MGW_MINITEL_MESSAGE_MAX)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                   _("The message is %u bytes long, more than %u"), (guint) MIN (len, G_MAXUINT),
                   (guint) MGW_MINITEL_MESSAGE_MAX);
      return FALSE;
    }
  if (!g_utf8_validate (text, len, NULL))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, _("The message is not valid UTF-8"));
      return FALSE;
    }
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                       _("The message holds a control character (U+%04X)"), c);
          return FALSE;
        }
    }
  return TRUE;
}

/* Looks for ESC 0x39 0x7B in a stream cut anywhere: `state` (0 at the
 * start of the stream) carries how much of it ended the previous chunk.
 * Returns TRUE when the sequence completes in `data`. */
gboolean
mgw_minitel_scan_enqrom (guint        *state,
                         const guint8 *data,
                         gsize         len)
{
  static const guint8 enqrom[] = { MGW_MINITEL_ESC, 0x39, 0x7b };
  gboolean found = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == enqrom[*state])
        (*state)++;
      else
        *state = data[i] == enqrom[0] ? 1 : 0;  /* no byte repeats in it */
      if (*state == sizeof enqrom)
        {
          found = TRUE;
          *state = 0;
        }
    }
  return found;
}

gssize
mgw_minitel_find_connexion_fin (const guint8 *data,
                                gsize         len)
{
  for (gsize i = 0; i + 1 < len; i++)
    if (data[i] == MGW_MINITEL_SEP &&
        (data[i + 1] == MGW_MINITEL_KEY_CONNEXION_FIN ||
         data[i + 1] == MGW_MINITEL_KEY_CONNEXION_FIN_MODEM))
      return (gssize) i;
  return -1;
}

/* Appends the text frame of `data` (one code point per byte) to `out`. */
void
mgw_latin1_append_utf8 (const guint8 *data,
                        gsize         len,
                        GByteArray   *out)
{
  guint8 *p;
  guint start = out->len;

  g_byte_array_set_size (out, start + len * 2);
  p = out->data + start;
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = data[i];

      if (b < 0x80)
        *p++ = b;
      else
        {
          *p++ = 0xc0 | (b >> 6);
          *p++ = 0x80 | (b & 0x3f);
        }
    }
  g_byte_array_set_size (out, p - out->data);
}

GBytes *
mgw_latin1_to_utf8 (const guint8 *data,
                    gsize         len)
{
  GByteArray *out = g_byte_array_sized_new (len * 2 + 1);

  mgw_latin1_append_utf8 (data, len, out);
  return g_byte_array_free_to_bytes (out);
}

/* Decodes a text frame: each code point must be U+0000..U+00FF (NUL
 * included, which g_utf8_validate() refuses). On error `out` is left as
 * it was. */
gboolean
mgw_utf8_to_latin1 (const char  *text,
                    gsize        len,
                    GByteArray  *out,
                    GError     **error)
{
  const guint8 *p = (const guint8 *) text;
  guint start_len = out->len;
  guint8 *dst;
  gsize i = 0, n = 0;

  g_byte_array_set_size (out, start_len + len);
  dst = out->data + start_len;
  while (i < len)
    {
      guint8 b = p[i];

      if (b < 0x80)
        {
          dst[n++] = b;
          i++;
        }
      else if ((b == 0xc2 || b == 0xc3) && i + 1 < len && (p[i + 1] & 0xc0) == 0x80)
        {
          dst[n++] = (guint8) (((b & 0x03) << 6) | (p[i + 1] & 0x3f));
          i += 2;
        }
      else
        {
          gunichar c = g_utf8_get_char_validated ((const char *) p + i, len - i);

          g_byte_array_set_size (out, start_len);
          if (b >= 0xc4 && c != (gunichar) -1 && c != (gunichar) -2)
            g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                         "text frame holds code point U+%04X, above U+00FF",
                         (guint) c);
          else
            g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                         "text frame is not valid UTF-8 (byte 0x%02x at offset %" G_GSIZE_FORMAT ")",
                         b, i);
          return FALSE;
        }
    }
  g_byte_array_set_size (out, start_len + n);
  return TRUE;
}
