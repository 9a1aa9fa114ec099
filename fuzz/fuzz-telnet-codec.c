/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-telnet-codec.c: mgw_telnet_codec_decode with both roles and every
 * start mode, the input fed in chunks whose sizes come from the input;
 * the chunked decode must give what a one-shot decode gives (the codec
 * promises any split works); encode -> decode must give the data back.
 *
 * Input: byte 0 = role (bit 0) and start mode (bits 1-2, mod 3),
 *        bytes 1-4 = chunk sizes (cycled, each 1..32), the rest = peer bytes. */
#include "fuzz-common.h"
#include "mgw-telnet-codec.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static void
decode_all (MgwTelnetRole role, MgwTelnetStart start,
            const guint8 *in, gsize len, const guint8 *sizes, gsize n_sizes,
            GByteArray *data, GByteArray *reply)
{
  MgwTelnetCodec *codec = mgw_telnet_codec_new (role, start);
  gsize pos = 0, k = 0;

  mgw_telnet_codec_start (codec, reply);
  while (pos < len)
    {
      gsize chunk = n_sizes ? (gsize) (sizes[k % n_sizes] % 32) + 1 : len;

      k++;

      chunk = MIN (chunk, len - pos);
      mgw_telnet_codec_decode (codec, in + pos, chunk, data, reply);
      pos += chunk;
    }
  /* Exercise the queries. */
  for (guint opt = 0; opt < 40; opt++)
    {
      (void) mgw_telnet_codec_us_enabled (codec, (guint8) opt);
      (void) mgw_telnet_codec_him_enabled (codec, (guint8) opt);
    }
  (void) mgw_telnet_codec_get_refused (codec);
  (void) mgw_telnet_codec_get_sb_truncated (codec);
  mgw_telnet_codec_free (codec);
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  if (size < 5)
    return 0;

  MgwTelnetRole role = (buf[0] & 1) ? MGW_TELNET_ROLE_CLIENT : MGW_TELNET_ROLE_SERVER;
  MgwTelnetStart start = (MgwTelnetStart) (((buf[0] >> 1) & 3) % 3);
  const guint8 *sizes = buf + 1;
  const guint8 *in = buf + 5;
  gsize len = size - 5;

  GByteArray *data1 = g_byte_array_new (), *reply1 = g_byte_array_new ();
  GByteArray *data2 = g_byte_array_new (), *reply2 = g_byte_array_new ();

  decode_all (role, start, in, len, NULL, 0, data1, reply1);
  decode_all (role, start, in, len, sizes, 4, data2, reply2);

  /* Data bytes never grow: commands are stripped, IAC IAC -> one byte. */
  FUZZ_CHECK (data1->len <= len);
  /* Any split gives the same result. */
  FUZZ_CHECK (data1->len == data2->len);
  FUZZ_CHECK (FUZZ_MEM_EQ (data1->data, data2->data, data1->len));
  FUZZ_CHECK (reply1->len == reply2->len);
  FUZZ_CHECK (FUZZ_MEM_EQ (reply1->data, reply2->data, reply1->len));

  /* Round trip: what we encode, the peer's codec decodes back unchanged
   * (whatever the split), and it answers nothing. */
  {
    GByteArray *enc = g_byte_array_new ();
    GByteArray *dec = g_byte_array_new (), *rep = g_byte_array_new ();

    mgw_telnet_encode (in, len, enc);
    FUZZ_CHECK (enc->len >= len);
    decode_all (role == MGW_TELNET_ROLE_SERVER ? MGW_TELNET_ROLE_CLIENT : MGW_TELNET_ROLE_SERVER,
                MGW_TELNET_START_NONE, enc->data, enc->len, sizes, 4, dec, rep);
    FUZZ_CHECK (dec->len == len);
    FUZZ_CHECK (FUZZ_MEM_EQ (dec->data, in, len));
    FUZZ_CHECK (rep->len == 0);
    g_byte_array_unref (enc);
    g_byte_array_unref (dec);
    g_byte_array_unref (rep);
  }

  g_byte_array_unref (data1);
  g_byte_array_unref (reply1);
  g_byte_array_unref (data2);
  g_byte_array_unref (reply2);
  return 0;
}
