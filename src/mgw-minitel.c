/* mgw-minitel.c: Minitel status line and the byte <-> text frame mapping.
 *
 * Pure functions, no I/O: the session and the WebSocket link call them, the
 * unit tests and fuzzers call them directly. */
#include "config.h"

#include "mgw-minitel.h"
#include "mgw-error.h"

#include <string.h>

GBytes *
mgw_minitel_status_line (const char *text)
{
  GByteArray *line = g_byte_array_new ();
  static const guint8 head[] = { MGW_MINITEL_US, 0x40, 0x41 };
  static const guint8 tail[] = { MGW_MINITEL_CAN, MGW_MINITEL_LF };

  g_byte_array_append (line, head, sizeof head);
  g_byte_array_append (line, (const guint8 *) text, strlen (text));
  g_byte_array_append (line, tail, sizeof tail);
  return g_byte_array_free_to_bytes (line);
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

GBytes *
mgw_latin1_to_utf8 (const guint8 *data,
                    gsize         len)
{
  guint8 *out = g_malloc (len * 2 + 1);
  gsize n = 0;

  for (gsize i = 0; i < len; i++)
    {
      guint8 b = data[i];

      if (b < 0x80)
        out[n++] = b;
      else
        {
          out[n++] = 0xc0 | (b >> 6);
          out[n++] = 0x80 | (b & 0x3f);
        }
    }
  return g_bytes_new_take (g_realloc (out, n ? n : 1), n);
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
