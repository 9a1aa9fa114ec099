/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-return-keys.c: the return sequences' text form and their matcher.
 *
 * Text: the input (up to its first NUL) parsed as a list: FALSE <=> an
 * error, and then an empty list; TRUE: each sequence 1..MAX_LEN bytes,
 * not ending with a lone SEP, and its canonical text parses back to the
 * same bytes.
 *
 * Matcher: byte 0 seeds the read sizes; byte 1 the number of sequences
 * (1-4) and whether bytes are taken as they are or mapped onto five
 * (* a SEP F I, so that sequences and keys meet often); then each
 * sequence is a length byte (1-6) and its bytes; the rest is the stream.
 * Fed in reads of 1-7 bytes: the sequence found, where, and what went out
 * are those of a naive search of the whole stream (earliest end, longest
 * there, never beginning on a key's code); nothing is lost; no more than
 * MAX_LEN - 1 bytes are ever held; a read that ends the output on a SEP
 * waiting for its code leaves nothing held (a key is never cut). */
#include "fuzz-common.h"
#include "mgw-minitel.h"
#include "mgw-return-keys.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static void
fuzz_text (const guint8 *buf,
           size_t        size)
{
  char *text = g_strndup ((const char *) buf, size);
  MgwReturnKeys keys;
  GError *error = NULL;
  gboolean ok = mgw_return_keys_parse (&keys, text, &error);

  FUZZ_CHECK (ok == (error == NULL));
  if (!ok)
    {
      FUZZ_CHECK (keys.n == 0);
      g_error_free (error);
    }
  for (guint i = 0; ok && i < keys.n; i++)
    {
      char *again_text = mgw_return_keys_describe (&keys, i);
      MgwReturnKeys again;
      gboolean code = FALSE;

      FUZZ_CHECK (keys.len[i] >= 1 && keys.len[i] <= MGW_RETURN_KEYS_MAX_LEN);
      for (guint k = 0; k + 1 < keys.len[i]; k++)
        code = !code && keys.bytes[i][k] == MGW_MINITEL_SEP;
      FUZZ_CHECK (code || keys.bytes[i][keys.len[i] - 1] != MGW_MINITEL_SEP);
      FUZZ_CHECK (mgw_return_keys_parse (&again, again_text, NULL));
      FUZZ_CHECK (again.n == 1 && again.len[0] == keys.len[i]);
      FUZZ_CHECK (FUZZ_MEM_EQ (again.bytes[0], keys.bytes[i], keys.len[i]));
      g_free (again_text);
    }
  FUZZ_CHECK (!ok || keys.n <= MGW_RETURN_KEYS_MAX);
  g_free (text);
}

static int
naive_find (const MgwReturnKeys *keys,
            const guint8        *d,
            gsize                len,
            gsize               *start,
            gsize               *end)
{
  gboolean *code = g_new0 (gboolean, len + 1);
  int found = -1;

  for (gsize i = 1; i <= len; i++)
    code[i] = !code[i - 1] && d[i - 1] == MGW_MINITEL_SEP;
  for (gsize e = 1; e <= len && found < 0; e++)
    {
      gsize best_len = 0;

      for (guint s = 0; s < keys->n; s++)
        {
          gsize l = keys->len[s];
          if (l <= e && l > best_len && !code[e - l] && memcmp (d + e - l, keys->bytes[s], l) == 0)
            {
              found = (int) s;
              best_len = l;
            }
        }
      if (found >= 0)
        {
          *start = e - best_len;
          *end = e;
        }
    }
  g_free (code);
  return found;
}

static void
fuzz_matcher (const guint8 *buf,
              size_t        size)
{
  static const guint8 alphabet[] = { '*', 'a', MGW_MINITEL_SEP, 0x46, 0x49 };
  MgwReturnKeys keys = { 0 };
  MgwKeyMatcher m;
  GByteArray *out = g_byte_array_new ();
  guint8 *stream;
  gsize pos = 2, len, start = 0, end = 0, at = 0;
  guint want_n;
  gboolean mapped;
  int want, got = -1;

  if (size < 3)
    goto done;
  want_n = 1 + (buf[1] & 3);
  mapped = (buf[1] & 4) != 0;
  while (keys.n < want_n && pos < size)
    {
      gsize l = 1 + buf[pos++] % 6;
      guint8 seq[6];

      if (pos + l > size)
        break;
      for (gsize i = 0; i < l; i++)
        seq[i] = mapped ? alphabet[buf[pos + i] % G_N_ELEMENTS (alphabet)] : buf[pos + i];
      pos += l;
      mgw_return_keys_add_bytes (&keys, seq, l, NULL);   /* refused ones are skipped */
    }
  len = size - pos;
  stream = g_malloc (len + 1);
  for (gsize i = 0; i < len; i++)
    stream[i] = mapped ? alphabet[buf[pos + i] % G_N_ELEMENTS (alphabet)] : buf[pos + i];
  want = naive_find (&keys, stream, len, &start, &end);

  mgw_key_matcher_init (&m, &keys);
  for (gsize k = 0; at < len || k == 0; k++)
    {
      gsize chunk = MIN (((buf[0] + k * 5) % 7) + 1, len - at);
      gsize consumed = 0;

      got = mgw_key_matcher_feed (&m, stream + at, chunk, out, &consumed);
      FUZZ_CHECK (consumed <= chunk);
      FUZZ_CHECK (mgw_key_matcher_get_held (&m) < MGW_RETURN_KEYS_MAX_LEN);
      if (got >= 0)
        {
          FUZZ_CHECK (mgw_key_matcher_get_held (&m) == 0);
          at += consumed;
          break;
        }
      FUZZ_CHECK (consumed == chunk);
      at += chunk;
      FUZZ_CHECK (out->len + mgw_key_matcher_get_held (&m) == at);
      /* A key is never cut: output that ends on a SEP waiting for its
       * code holds nothing back after it. */
      if (out->len > 0 && out->data[out->len - 1] == MGW_MINITEL_SEP &&
          mgw_key_matcher_get_held (&m) > 0)
        {
          gboolean code = FALSE;
          for (guint i = 0; i + 1 < out->len; i++)
            code = !code && out->data[i] == MGW_MINITEL_SEP;
          FUZZ_CHECK (code);
        }
      if (len == 0)
        break;
    }
  FUZZ_CHECK (got == want);
  if (want >= 0)
    {
      FUZZ_CHECK (at == end);
      FUZZ_CHECK (out->len == start && FUZZ_MEM_EQ (out->data, stream, start));
    }
  else
    {
      mgw_key_matcher_flush (&m, out);
      FUZZ_CHECK (out->len == len && FUZZ_MEM_EQ (out->data, stream, len));
    }
  g_free (stream);
done:
  g_byte_array_unref (out);
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  fuzz_text (buf, size);
  fuzz_matcher (buf, size);
  return 0;
}
