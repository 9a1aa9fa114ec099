/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-minitel.c: ENQROM scanning across chunks (same answer as a naive
 * search), Connexion/Fin search (same as a naive search), and the
 * latin-1 <-> UTF-8 text frame conversions (round trips are identities).
 *
 * Input: byte 0 = chunk size seed, the rest = stream / text. */
#include "fuzz-common.h"
#include "mgw-minitel.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static gboolean
naive_contains (const guint8 *d, gsize len, const guint8 *needle, gsize nlen)
{
  for (gsize i = 0; i + nlen <= len; i++)
    if (FUZZ_MEM_EQ (d + i, needle, nlen))
      return TRUE;
  return FALSE;
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  if (size < 1)
    return 0;

  guint8 seed = buf[0];
  const guint8 *d = buf + 1;
  gsize len = size - 1;

  /* ENQROM across chunks. */
  {
    static const guint8 enqrom[] = { 0x1b, 0x39, 0x7b };
    guint state = 0;
    gboolean found = FALSE;
    gsize pos = 0, k = 0;

    while (pos < len)
      {
        gsize want = ((seed + k * 7) % 5) + 1;
        gsize chunk = MIN (want, len - pos);

        k++;

        found |= mgw_minitel_scan_enqrom (&state, d + pos, chunk);
        FUZZ_CHECK (state < 3);
        pos += chunk;
      }
    FUZZ_CHECK (found == naive_contains (d, len, enqrom, 3));

    state = 0;
    FUZZ_CHECK (mgw_minitel_scan_enqrom (&state, d, len) == found);
  }

  /* Connexion/Fin. */
  {
    gssize off = mgw_minitel_find_connexion_fin (d, len);
    gssize expect = -1;

    for (gsize i = 0; i + 1 < len; i++)
      if (d[i] == MGW_MINITEL_SEP
          && (d[i + 1] == MGW_MINITEL_KEY_CONNEXION_FIN
              || d[i + 1] == MGW_MINITEL_KEY_CONNEXION_FIN_MODEM))
        {
          expect = (gssize) i;
          break;
        }
    FUZZ_CHECK (off == expect);
  }

  /* latin-1 -> UTF-8 -> latin-1 gives the bytes back. */
  {
    GBytes *utf8 = mgw_latin1_to_utf8 (d, len);
    gsize ulen;
    const char *u = g_bytes_get_data (utf8, &ulen);
    GByteArray *back = g_byte_array_new ();
    GError *error = NULL;

    g_byte_array_append (back, (const guint8 *) "pfx", 3);
    FUZZ_CHECK (mgw_utf8_to_latin1 (u, ulen, back, &error));
    FUZZ_CHECK (error == NULL);
    FUZZ_CHECK (back->len == len + 3);
    FUZZ_CHECK (FUZZ_MEM_EQ (back->data, "pfx", 3));
    FUZZ_CHECK (FUZZ_MEM_EQ (back->data + 3, d, len));
    g_byte_array_unref (back);
    g_bytes_unref (utf8);
  }

  /* Arbitrary UTF-8 -> latin-1: on success re-encoding gives the text back
   * (only U+0000..U+00FF, no overlongs); on failure out is untouched. */
  {
    GByteArray *out = g_byte_array_new ();
    GError *error = NULL;

    g_byte_array_append (out, (const guint8 *) "ab", 2);
    if (mgw_utf8_to_latin1 ((const char *) d, len, out, &error))
      {
        FUZZ_CHECK (error == NULL);
        FUZZ_CHECK (out->len >= 2 && out->len - 2 <= len);
        GBytes *again = mgw_latin1_to_utf8 (out->data + 2, out->len - 2);
        gsize alen;
        const guint8 *a = g_bytes_get_data (again, &alen);

        FUZZ_CHECK (alen == len);
        FUZZ_CHECK (FUZZ_MEM_EQ (a, d, len));
        g_bytes_unref (again);
      }
    else
      {
        FUZZ_CHECK (error != NULL);
        FUZZ_CHECK (out->len == 2 && FUZZ_MEM_EQ (out->data, "ab", 2));
        g_error_free (error);
      }
    g_byte_array_unref (out);
  }

  /* Status line from text (NUL-terminated copy). */
  {
    char *text = g_strndup ((const char *) d, len);
    if (g_utf8_validate (text, -1, NULL))
      {
        GBytes *line = mgw_minitel_status_line (text);
        if (line)
          g_bytes_unref (line);
      }
    g_free (text);
  }
  return 0;
}
