/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-proxy.c: the client's real address behind a proxy -- the PROXY
 * protocol parser (v1 text, v2 binary; every prefix of a valid header asks
 * for more, every malformed one is refused, garbage never crashes), the
 * untrusted-peer check, and the Forwarded / X-Forwarded-For reader. */
#include "config.h"

#include "mgw-error.h"
#include "mgw-proxy.h"

#include <gio/gio.h>
#include <string.h>

#define V2_SIG "\r\n\r\n\0\r\nQUIT\n"

/* Parses an exact-size heap copy of data, so that ASan sees any read past
 * len; checks that an error is set exactly on MGW_PROXY_ERROR. */
static MgwProxyResult
parse_len (const void   *data,
           gsize         len,
           MgwProxyInfo *info,
           GError      **error_out)
{
  g_autofree guint8 *copy = g_malloc (MAX (len, 1));
  g_autoptr(GError) error = NULL;
  MgwProxyResult result;

  if (len > 0)
    memcpy (copy, data, len);
  result = mgw_proxy_parse (copy, len, info, &error);
  if (result == MGW_PROXY_ERROR)
    {
      g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
      g_assert_nonnull (error->message);
      g_assert_cmpstr (error->message, !=, "");
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
  else
    g_assert_no_error (error);
  if (result == MGW_PROXY_DONE)
    {
      g_assert_cmpuint (info->header_len, >, 0);
      g_assert_cmpuint (info->header_len, <=, len);
    }
  if (error_out != NULL)
    *error_out = g_steal_pointer (&error);
  return result;
}

static void
assert_done_len (const void *data,
                 gsize       len,
                 gsize       header_len,
                 gboolean    local,
                 const char *address,
                 guint16     port)
{
  MgwProxyInfo info;

  memset (&info, 0xaa, sizeof info);
  g_assert_cmpint (parse_len (data, len, &info, NULL), ==, MGW_PROXY_DONE);
  g_assert_cmpuint (info.header_len, ==, header_len);
  g_assert_cmpint (info.local, ==, local);
  g_assert_cmpstr (info.address, ==, address);
  g_assert_cmpuint (info.port, ==, port);
}

static void
assert_done (const char *text,
             gboolean    local,
             const char *address,
             guint16     port)
{
  assert_done_len (text, strlen (text), strlen (text), local, address, port);
}

/* data, printable in a failure message */
static char *
shown_bytes (const void *data,
             gsize       len)
{
  GString *shown = g_string_new (NULL);
  const guint8 *bytes = data;
  gsize i;

  for (i = 0; i < len; i++)
    if (g_ascii_isprint (bytes[i]) && bytes[i] != '\\')
      g_string_append_c (shown, bytes[i]);
    else
      g_string_append_printf (shown, "\\x%02x", bytes[i]);
  return g_string_free (shown, FALSE);
}

static void
assert_result_len (const void     *data,
                   gsize           len,
                   MgwProxyResult  expected)
{
  MgwProxyInfo info;
  MgwProxyResult result;

  memset (&info, 0x55, sizeof info);
  result = parse_len (data, len, &info, NULL);
  if (result != expected)
    {
      g_autofree char *shown = shown_bytes (data, len);

      g_error ("'%s' (%" G_GSIZE_FORMAT " bytes) gave %d instead of %d",
               shown, len, result, expected);
    }
}

static void
assert_result (const char     *text,
               MgwProxyResult  expected)
{
  assert_result_len (text, strlen (text), expected);
}

static void
assert_error (const char *text)
{
  assert_result (text, MGW_PROXY_ERROR);
}

/* Every prefix of a valid header asks for more; the whole is parsed. */
static void
assert_prefixes_need_more (const void *data,
                           gsize       len)
{
  gsize n;

  for (n = 0; n < len; n++)
    assert_result_len (data, n, MGW_PROXY_NEED_MORE);
  assert_result_len (data, len, MGW_PROXY_DONE);
}

/* PROXY v1: accepted */

static void
test_v1_tcp4 (void)
{
  assert_done ("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", FALSE, "192.0.2.1", 56324);
  assert_done ("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
               FALSE, "255.255.255.255", 65535);
  assert_done ("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", FALSE, "0.0.0.0", 0);
}

static void
test_v1_tcp6 (void)
{
  assert_done ("PROXY TCP6 2001:db8::1 2001:db8::2 4242 23\r\n", FALSE, "2001:db8::1", 4242);
  /* Printed the way GInetAddress prints it: compressed, lower case. */
  assert_done ("PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:00AB ::1 1 2\r\n",
               FALSE, "2001:db8::ab", 1);
  assert_done ("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
               FALSE, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
  /* An IPv4 client on a dual-stack listener. */
  assert_done ("PROXY TCP6 ::ffff:192.0.2.7 ::1 80 81\r\n", FALSE, "192.0.2.7", 80);
}

static void
test_v1_unknown (void)
{
  assert_done ("PROXY UNKNOWN\r\n", TRUE, "", 0);
  assert_done ("PROXY UNKNOWN ffff:f::f ffff:f::f 65535 65535\r\n", TRUE, "", 0);
  /* Whatever follows UNKNOWN is ignored, even if it is not addresses. */
  assert_done ("PROXY UNKNOWN what  ever\t\x01\xff\r\n", TRUE, "", 0);
  /* The longest line the spec allows: 107 bytes, CRLF included. */
  {
    g_autoptr(GString) line = g_string_new ("PROXY UNKNOWN ");

    while (line->len < MGW_PROXY_V1_MAX - 2)
      g_string_append_c (line, 'x');
    g_string_append (line, "\r\n");
    g_assert_cmpuint (line->len, ==, MGW_PROXY_V1_MAX);
    assert_done (line->str, TRUE, "", 0);
    assert_prefixes_need_more (line->str, line->len);
  }
}

static void
test_v1_trailing (void)
{
  const char *text = "PROXY TCP4 10.1.2.3 10.0.0.1 1234 23\r\n\x1b\x39\x7bGET / HTTP/1.1\r\n";
  gsize header = strlen ("PROXY TCP4 10.1.2.3 10.0.0.1 1234 23\r\n");
  g_autofree char *copy = g_strdup (text);
  MgwProxyInfo info;

  assert_done_len (text, strlen (text), header, FALSE, "10.1.2.3", 1234);
  /* The bytes after the header are left alone. */
  g_assert_cmpint (mgw_proxy_parse ((const guint8 *) copy, strlen (copy), &info, NULL),
                   ==, MGW_PROXY_DONE);
  g_assert_cmpstr (copy + info.header_len, ==, "\x1b\x39\x7bGET / HTTP/1.1\r\n");
  g_assert_cmpstr (copy, ==, text);
  /* Even a second PROXY line after the first is not our business. */
  assert_done_len ("PROXY UNKNOWN\r\nPROXY TCP4 1.2.3.4 1.2.3.4 1 1\r\n",
                   strlen ("PROXY UNKNOWN\r\nPROXY TCP4 1.2.3.4 1.2.3.4 1 1\r\n"),
                   15, TRUE, "", 0);
  /* Trailing bytes count even if the line came with exactly one more byte. */
  assert_done_len ("PROXY UNKNOWN\r\nX", 16, 15, TRUE, "", 0);
}

static void
test_v1_prefixes (void)
{
  const char *valid[] = {
    "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n",
    "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
    "PROXY TCP6 2001:db8::1 2001:db8::2 4242 23\r\n",
    /* The longest TCP6 line: 104 bytes */
    "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
    "PROXY TCP6 ::ffff:255.255.255.255 ::1 1 2\r\n",
    "PROXY TCP6 ::ffff:192.0.2.7 ::1 80 81\r\n",
    "PROXY UNKNOWN\r\n",
    "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (valid); i++)
    assert_prefixes_need_more (valid[i], strlen (valid[i]));
}

/* PROXY v1: refused */

static void
test_v1_bad_family (void)
{
  assert_error ("PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n");
  assert_error ("PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n");
  assert_error ("PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n");
  assert_error ("PROXY TCP 1.2.3.4 1.2.3.4 1 2\r\n");
  assert_error ("PROXY TCP44 1.2.3.4 1.2.3.4 1 2\r\n");
  assert_error ("PROXY UNKNOWNX\r\n");
  assert_error ("PROXY unknown\r\n");
  assert_error ("PROXY \r\n");
  /* Refused as soon as the word cannot become a known one. */
  assert_error ("PROXY TCP5");
  assert_error ("PROXY X");
  assert_error ("PROXY TCP4X");
}

static void
test_v1_missing_fields (void)
{
  assert_error ("PROXY TCP4\r\n");
  assert_error ("PROXY TCP4 1.2.3.4\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n");
  assert_error ("PROXY TCP6 ::1 ::2 1\r\n");
  /* A trailing space is an empty sixth field... or a missing one. */
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n");
  /* Refused on the CR, before the LF arrives. */
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1\r");
}

static void
test_v1_extra_field (void)
{
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 x");
}

static void
test_v1_bad_address (void)
{
  /* Not addresses */
  assert_error ("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n");
  assert_error ("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n");
  assert_error ("PROXY TCP4 localhost 5.6.7.8 1 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n");
  assert_error ("PROXY TCP6 2001:db8:::1 ::1 1 2\r\n");
  assert_error ("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n");
  assert_error ("PROXY TCP6 [::1] ::1 1 2\r\n");
  assert_error ("PROXY TCP6 ::1 ::g 1 2\r\n");
  /* Addresses of the other family */
  assert_error ("PROXY TCP4 ::1 5.6.7.8 1 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 ::1 1 2\r\n");
  assert_error ("PROXY TCP4 ::ffff:1.2.3.4 5.6.7.8 1 2\r\n");
  assert_error ("PROXY TCP6 1.2.3.4 ::1 1 2\r\n");
  assert_error ("PROXY TCP6 ::1 1.2.3.4 1 2\r\n");
  /* Refused before the line ends */
  assert_error ("PROXY TCP4 ::");
  assert_error ("PROXY TCP4 1.2.3.4.5.6.7.8.9.10");
  assert_error ("PROXY TCP6 ::x");
}

static void
test_v1_bad_port (void)
{
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 123456 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 80 +2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 http 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 80 2\t\r\n");
  /* Refused as soon as the digits overflow */
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 65536");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 +");
}

static void
test_v1_double_space (void)
{
  assert_error ("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n");
  assert_error ("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n");
  assert_error ("PROXY TCP4 1.2.3.4  ");
  /* Only a space separates fields. */
  assert_error ("PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n");
  assert_result ("PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", MGW_PROXY_ABSENT);
}

static void
test_v1_lowercase (void)
{
  /* Not the signature: no header at all, the bytes are the client's. */
  assert_result ("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", MGW_PROXY_ABSENT);
  assert_result ("Proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", MGW_PROXY_ABSENT);
  assert_result ("PROXy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", MGW_PROXY_ABSENT);
}

static void
test_v1_missing_lf (void)
{
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n");
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX");
  assert_error ("PROXY UNKNOWN\r ");
  assert_error ("PROXY UNKNOWN a\rb\r\n");
  /* A bare LF is not a line end either. */
  assert_error ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n");
  assert_error ("PROXY UNKNOWN\n");
  assert_error ("PROXY UNKNOWN a\nb\r\n");
  /* The CR alone is a valid prefix. */
  assert_result ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", MGW_PROXY_NEED_MORE);
}

static void
test_v1_nul (void)
{
  static const char with_nul[] = "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n";
  static const char unknown_nul[] = "PROXY UNKNOWN \0\r\n";
  static const char early_nul[] = "PROXY UNKNOWN \0";
  static const char port_nul[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\0\r\n";

  assert_result_len (with_nul, sizeof with_nul - 1, MGW_PROXY_ERROR);
  assert_result_len (unknown_nul, sizeof unknown_nul - 1, MGW_PROXY_ERROR);
  assert_result_len (early_nul, sizeof early_nul - 1, MGW_PROXY_ERROR);
  assert_result_len (port_nul, sizeof port_nul - 1, MGW_PROXY_ERROR);
}

static void
test_v1_oversized (void)
{
  g_autoptr(GString) line = g_string_new ("PROXY UNKNOWN ");
  g_autoptr(GError) error = NULL;
  MgwProxyInfo info;

  while (line->len < MGW_PROXY_V1_MAX - 1)
    g_string_append_c (line, 'x');
  /* 106 bytes of valid prefix: still waiting. */
  g_assert_cmpuint (line->len, ==, MGW_PROXY_V1_MAX - 1);
  assert_result_len (line->str, line->len, MGW_PROXY_NEED_MORE);
  /* 107 bytes without CRLF: refused, never NEED_MORE again. */
  g_string_append_c (line, 'x');
  g_assert_cmpint (parse_len (line->str, line->len, &info, &error), ==, MGW_PROXY_ERROR);
  g_assert_nonnull (strstr (error->message, "107"));
  g_string_append (line, "\r\n");
  assert_result_len (line->str, line->len, MGW_PROXY_ERROR);
  while (line->len < 4096)
    g_string_append_c (line, 'y');
  assert_result_len (line->str, line->len, MGW_PROXY_ERROR);
  /* A 108-byte line, CRLF included. */
  g_string_assign (line, "PROXY UNKNOWN ");
  while (line->len < MGW_PROXY_V1_MAX - 1)
    g_string_append_c (line, 'x');
  g_string_append (line, "\r\n");
  g_assert_cmpuint (line->len, ==, MGW_PROXY_V1_MAX + 1);
  assert_result_len (line->str, line->len, MGW_PROXY_ERROR);
  assert_result_len (line->str, MGW_PROXY_V1_MAX, MGW_PROXY_ERROR);
  assert_result_len (line->str, MGW_PROXY_V1_MAX - 1, MGW_PROXY_NEED_MORE);
  /* ... whose CR, the 107th byte, is refused before the LF comes. */
  g_assert_cmpint (line->str[MGW_PROXY_V1_MAX - 1], ==, '\r');
}

/* PROXY v2 */

/* A v2 header: signature, ver_cmd, fam, the block's length, the block. */
static GByteArray *
v2_header (guint8        ver_cmd,
           guint8        fam,
           guint16       length,
           const guint8 *block,
           gsize         block_len)
{
  GByteArray *header = g_byte_array_new ();
  guint8 fixed[4] = { ver_cmd, fam, length >> 8, length & 0xff };

  g_byte_array_append (header, (const guint8 *) V2_SIG, 12);
  g_byte_array_append (header, fixed, sizeof fixed);
  if (block_len > 0)
    g_byte_array_append (header, block, block_len);
  return header;
}

static GByteArray *
v2_tcp4 (void)
{
  static const guint8 block[] = {
    192, 0, 2, 1,     /* source */
    198, 51, 100, 2,  /* destination */
    0xdc, 0x04,       /* 56324 */
    0x01, 0xbb,       /* 443 */
  };

  return v2_header (0x21, 0x11, sizeof block, block, sizeof block);
}

static GByteArray *
v2_tcp6 (void)
{
  static const guint8 block[] = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
    0x10, 0x92,       /* 4242 */
    0x00, 0x17,       /* 23 */
  };

  return v2_header (0x21, 0x21, sizeof block, block, sizeof block);
}

static void
test_v2_tcp4 (void)
{
  g_autoptr(GByteArray) header = v2_tcp4 ();

  g_assert_cmpuint (header->len, ==, 28);
  assert_done_len (header->data, header->len, 28, FALSE, "192.0.2.1", 56324);
}

static void
test_v2_tcp6 (void)
{
  g_autoptr(GByteArray) header = v2_tcp6 ();
  static const guint8 mapped[36] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 9,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    0xff, 0xff, 0, 80,
  };
  g_autoptr(GByteArray) v4_mapped = v2_header (0x21, 0x21, 36, mapped, 36);

  g_assert_cmpuint (header->len, ==, 52);
  assert_done_len (header->data, header->len, 52, FALSE, "2001:db8::1", 4242);
  assert_done_len (v4_mapped->data, v4_mapped->len, 52, FALSE, "203.0.113.9", 65535);
}

static void
test_v2_local (void)
{
  g_autoptr(GByteArray) empty = v2_header (0x20, 0x00, 0, NULL, 0);
  g_autoptr(GByteArray) with_tcp4 = v2_tcp4 ();
  g_autoptr(GByteArray) with_udp = v2_tcp4 ();
  g_autoptr(GByteArray) short_block = v2_header (0x20, 0x21, 4, (const guint8 *) "abcd", 4);

  assert_done_len (empty->data, empty->len, 16, TRUE, "", 0);
  /* LOCAL: the block, family included, is discarded. */
  with_tcp4->data[12] = 0x20;
  assert_done_len (with_tcp4->data, with_tcp4->len, 28, TRUE, "", 0);
  with_udp->data[12] = 0x20;
  with_udp->data[13] = 0x12;
  assert_done_len (with_udp->data, with_udp->len, 28, TRUE, "", 0);
  assert_done_len (short_block->data, short_block->len, 20, TRUE, "", 0);
}

static void
test_v2_unspec (void)
{
  g_autoptr(GByteArray) empty = v2_header (0x21, 0x00, 0, NULL, 0);
  g_autoptr(GByteArray) junk = v2_header (0x21, 0x00, 5, (const guint8 *) "12345", 5);

  assert_done_len (empty->data, empty->len, 16, TRUE, "", 0);
  assert_done_len (junk->data, junk->len, 21, TRUE, "", 0);
}

static void
test_v2_unix (void)
{
  guint8 block[216];
  g_autoptr(GByteArray) stream = NULL;
  g_autoptr(GByteArray) dgram = NULL;

  memset (block, 0, sizeof block);
  memcpy (block, "/run/haproxy.sock", 17);
  memcpy (block + 108, "/run/moipgw.sock", 16);
  stream = v2_header (0x21, 0x31, sizeof block, block, sizeof block);
  dgram = v2_header (0x21, 0x32, sizeof block, block, sizeof block);
  assert_done_len (stream->data, stream->len, 16 + 216, TRUE, "", 0);
  assert_done_len (dgram->data, dgram->len, 16 + 216, TRUE, "", 0);
  assert_prefixes_need_more (stream->data, stream->len);
}

static void
test_v2_tlv (void)
{
  g_autoptr(GByteArray) header = v2_tcp4 ();
  /* PP2_TYPE_ALPN "h2", PP2_TYPE_AUTHORITY "example.org", then a NOOP of
   * garbage: none of it is looked at. */
  static const guint8 tlvs[] = {
    0x01, 0x00, 0x02, 'h', '2',
    0x02, 0x00, 0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g',
    0x04, 0x00, 0x03, 0xff, 0x00, 0x0d,
  };
  gsize length = 12 + sizeof tlvs;
  g_autoptr(GByteArray) with_trailing = NULL;

  g_byte_array_append (header, tlvs, sizeof tlvs);
  header->data[14] = length >> 8;
  header->data[15] = length & 0xff;
  assert_done_len (header->data, header->len, 16 + length, FALSE, "192.0.2.1", 56324);
  assert_prefixes_need_more (header->data, header->len);

  /* Malformed TLVs are not validated beyond the length. */
  header->data[header->len - 4] = 0xff;
  assert_done_len (header->data, header->len, 16 + length, FALSE, "192.0.2.1", 56324);

  /* Trailing data after the header is the client's. */
  with_trailing = g_byte_array_new ();
  g_byte_array_append (with_trailing, header->data, header->len);
  g_byte_array_append (with_trailing, (const guint8 *) "\xff\xfb\x01", 3);
  assert_done_len (with_trailing->data, with_trailing->len, 16 + length,
                   FALSE, "192.0.2.1", 56324);

  /* The largest block accepted: IPv6 addresses and 500 bytes of TLV. */
  {
    g_autoptr(GByteArray) largest = v2_tcp6 ();
    guint8 padding[500];

    memset (padding, 0, sizeof padding);
    g_byte_array_append (largest, padding, sizeof padding);
    largest->data[14] = 536 >> 8;
    largest->data[15] = 536 & 0xff;
    g_assert_cmpuint (largest->len, ==, MGW_PROXY_V2_MAX);
    assert_done_len (largest->data, largest->len, MGW_PROXY_V2_MAX,
                     FALSE, "2001:db8::1", 4242);
    assert_prefixes_need_more (largest->data, largest->len);
  }
}

static void
test_v2_udp (void)
{
  g_autoptr(GByteArray) udp4 = v2_tcp4 ();
  g_autoptr(GByteArray) udp6 = v2_tcp6 ();

  udp4->data[13] = 0x12;
  udp6->data[13] = 0x22;
  assert_result_len (udp4->data, udp4->len, MGW_PROXY_ERROR);
  assert_result_len (udp6->data, udp6->len, MGW_PROXY_ERROR);
  /* Refused as soon as the family byte is in. */
  assert_result_len (udp4->data, 14, MGW_PROXY_ERROR);
}

static void
test_v2_bad_family (void)
{
  static const guint8 families[] = { 0x01, 0x10, 0x13, 0x20, 0x23, 0x30, 0x33, 0x41, 0xff };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (families); i++)
    {
      g_autoptr(GByteArray) header = v2_tcp6 ();

      header->data[13] = families[i];
      assert_result_len (header->data, header->len, MGW_PROXY_ERROR);
    }
}

static void
test_v2_bad_version (void)
{
  static const guint8 ver_cmds[] = { 0x01, 0x11, 0x31, 0xf1, 0x10, 0x00 };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (ver_cmds); i++)
    {
      g_autoptr(GByteArray) header = v2_tcp4 ();

      header->data[12] = ver_cmds[i];
      assert_result_len (header->data, header->len, MGW_PROXY_ERROR);
      assert_result_len (header->data, 13, MGW_PROXY_ERROR);
    }
}

static void
test_v2_bad_command (void)
{
  guint cmd;

  for (cmd = 2; cmd <= 0xf; cmd++)
    {
      g_autoptr(GByteArray) header = v2_tcp4 ();

      header->data[12] = 0x20 | cmd;
      assert_result_len (header->data, header->len, MGW_PROXY_ERROR);
      assert_result_len (header->data, 13, MGW_PROXY_ERROR);
    }
}

static void
test_v2_too_long (void)
{
  g_autoptr(GByteArray) header = v2_header (0x21, 0x11, 537, NULL, 0);
  g_autoptr(GByteArray) local = v2_header (0x20, 0x00, 0xffff, NULL, 0);
  g_autoptr(GByteArray) max = v2_header (0x21, 0x11, 536, NULL, 0);

  /* Refused from the length alone, without waiting for the block. */
  assert_result_len (header->data, header->len, MGW_PROXY_ERROR);
  assert_result_len (local->data, local->len, MGW_PROXY_ERROR);
  /* 536 is fine: wait for it. */
  assert_result_len (max->data, max->len, MGW_PROXY_NEED_MORE);
}

static void
test_v2_truncated_block (void)
{
  g_autoptr(GByteArray) tcp4 = v2_tcp4 ();
  g_autoptr(GByteArray) tcp6 = v2_tcp6 ();
  g_autoptr(GByteArray) tcp4_empty = v2_header (0x21, 0x11, 0, NULL, 0);

  tcp4->data[15] = 11;
  assert_result_len (tcp4->data, tcp4->len, MGW_PROXY_ERROR);
  assert_result_len (tcp4->data, 16, MGW_PROXY_ERROR);
  tcp6->data[15] = 35;
  assert_result_len (tcp6->data, tcp6->len, MGW_PROXY_ERROR);
  /* A TCP/IPv6 block of IPv4 size */
  tcp6->data[15] = 12;
  assert_result_len (tcp6->data, tcp6->len, MGW_PROXY_ERROR);
  assert_result_len (tcp4_empty->data, tcp4_empty->len, MGW_PROXY_ERROR);
}

static void
test_v2_signature (void)
{
  g_autoptr(GByteArray) header = v2_tcp4 ();
  gsize i;

  for (i = 0; i < 12; i++)
    {
      g_autoptr(GByteArray) copy = g_byte_array_new ();

      g_byte_array_append (copy, header->data, header->len);
      copy->data[i] ^= 0x20;
      assert_result_len (copy->data, copy->len, MGW_PROXY_ABSENT);
      /* As soon as the changed byte is in. */
      assert_result_len (copy->data, i + 1, MGW_PROXY_ABSENT);
      if (i > 0)
        assert_result_len (copy->data, i, MGW_PROXY_NEED_MORE);
    }
  /* "\r\n\r\n" then anything but NUL: a blank line, not a signature. */
  assert_result ("\r\n\r\nGET", MGW_PROXY_ABSENT);
  assert_result ("\r\n\r\n", MGW_PROXY_NEED_MORE);
  assert_result_len ("\r\n\r\n\0", 5, MGW_PROXY_NEED_MORE);
  assert_result_len ("\r\n\r\n\0\r\nQUIT", 11, MGW_PROXY_NEED_MORE);
  assert_result_len ("\r\n\r\n\0\r\nQUIT\r", 12, MGW_PROXY_ABSENT);
}

static void
test_v2_prefixes (void)
{
  g_autoptr(GByteArray) tcp4 = v2_tcp4 ();
  g_autoptr(GByteArray) tcp6 = v2_tcp6 ();
  g_autoptr(GByteArray) local = v2_header (0x20, 0x00, 0, NULL, 0);
  g_autoptr(GByteArray) local_block = v2_header (0x20, 0x00, 3, (const guint8 *) "abc", 3);
  g_autoptr(GByteArray) unspec = v2_header (0x21, 0x00, 0, NULL, 0);

  assert_prefixes_need_more (tcp4->data, tcp4->len);
  assert_prefixes_need_more (tcp6->data, tcp6->len);
  assert_prefixes_need_more (local->data, local->len);
  assert_prefixes_need_more (local_block->data, local_block->len);
  assert_prefixes_need_more (unspec->data, unspec->len);
}

/* No header */

static void
test_absent (void)
{
  static const guint8 iac[] = { 0xff, 0xfd, 0x03 };
  static const guint8 nul[] = { 0x00, 'P' };

  assert_result ("GET / HTTP/1.1\r\n", MGW_PROXY_ABSENT);
  assert_result ("G", MGW_PROXY_ABSENT);
  assert_result_len (iac, sizeof iac, MGW_PROXY_ABSENT);
  assert_result_len (iac, 1, MGW_PROXY_ABSENT);
  assert_result_len (nul, sizeof nul, MGW_PROXY_ABSENT);
  assert_result ("PROXX", MGW_PROXY_ABSENT);
  assert_result ("PROXY\r\n", MGW_PROXY_ABSENT);
  assert_result ("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", MGW_PROXY_ABSENT);
  assert_result ("\n", MGW_PROXY_ABSENT);
  assert_result ("\r\r", MGW_PROXY_ABSENT);
  assert_result (" PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", MGW_PROXY_ABSENT);
  /* Too short to tell */
  assert_result ("", MGW_PROXY_NEED_MORE);
  assert_result ("P", MGW_PROXY_NEED_MORE);
  assert_result ("PRO", MGW_PROXY_NEED_MORE);
  assert_result ("PROXY", MGW_PROXY_NEED_MORE);
  assert_result ("\r", MGW_PROXY_NEED_MORE);
}

/* Checks what must hold for any input: a prefix that was parsed, refused
 * or recognised as no header stays so however many bytes follow, and a
 * valid prefix never exceeds the version's maximum. */
static void
check_invariants (const guint8 *data,
                  gsize         len)
{
  MgwProxyResult settled = MGW_PROXY_NEED_MORE;
  MgwProxyInfo settled_info = { 0 };
  gsize n;

  for (n = 0; n <= len; n++)
    {
      MgwProxyInfo info;
      MgwProxyResult result;

      memset (&info, 0, sizeof info);
      result = parse_len (data, n, &info, NULL);
      g_assert_cmpint (result, >=, MGW_PROXY_NEED_MORE);
      g_assert_cmpint (result, <=, MGW_PROXY_ERROR);
      /* What detect() calls a header (or the start of one), parse() does too. */
      if (mgw_proxy_detect (data, n) != MGW_PROXY_ABSENT)
        g_assert_cmpint (result, !=, MGW_PROXY_ABSENT);
      if (result == MGW_PROXY_NEED_MORE)
        {
          g_assert_cmpint (settled, ==, MGW_PROXY_NEED_MORE);
          if (n > 0 && data[0] == 'P')
            g_assert_cmpuint (n, <, MGW_PROXY_V1_MAX);
          else
            g_assert_cmpuint (n, <, MGW_PROXY_V2_MAX);
          continue;
        }
      if (settled == MGW_PROXY_NEED_MORE)
        {
          settled = result;
          settled_info = info;
          continue;
        }
      g_assert_cmpint (result, ==, settled);
      if (result == MGW_PROXY_DONE)
        {
          g_assert_cmpuint (info.header_len, ==, settled_info.header_len);
          g_assert_cmpint (info.local, ==, settled_info.local);
          g_assert_cmpstr (info.address, ==, settled_info.address);
          g_assert_cmpuint (info.port, ==, settled_info.port);
        }
      if (result == MGW_PROXY_DONE && info.header_len < n)
        break;   /* past the header: the rest is the client's */
    }
}

static void
test_garbage (void)
{
  guint round;

  for (round = 0; round < 2000; round++)
    {
      gsize len = g_test_rand_int_range (0, 700);
      g_autofree guint8 *data = g_malloc (MAX (len, 1));
      gsize i;

      for (i = 0; i < len; i++)
        data[i] = g_test_rand_int_range (0, 256);
      /* Most rounds start with a signature, to reach past it. */
      if (round % 3 == 1 && len >= 6)
        memcpy (data, "PROXY ", 6);
      else if (round % 3 == 2 && len >= 14)
        {
          memcpy (data, V2_SIG, 12);
          data[12] = 0x20 | (data[12] & 1);
          if (g_test_rand_bit ())
            data[13] = g_test_rand_bit () ? 0x11 : 0x21;
          if (len >= 16)
            data[14] = g_test_rand_int_range (0, 3);
        }
      check_invariants (data, MIN (len, round % 3 == 1 ? 200 : len));
    }
}

static void
test_mutations (void)
{
  const char *v1[] = {
    "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nhello",
    "PROXY TCP6 2001:db8::1 2001:db8::2 4242 23\r\n",
    "PROXY UNKNOWN\r\n",
  };
  g_autoptr(GByteArray) tcp4 = v2_tcp4 ();
  g_autoptr(GByteArray) tcp6 = v2_tcp6 ();
  static const char alphabet[] = "PROXY TCP46UNKNOW0123456789abcdef:. \r\n\0\x11\x21\x20";
  guint round;

  for (round = 0; round < 1500; round++)
    {
      g_autoptr(GByteArray) data = g_byte_array_new ();
      guint flips = g_test_rand_int_range (1, 4);
      guint pick = round % 5;
      guint i;

      if (pick < 3)
        g_byte_array_append (data, (const guint8 *) v1[pick], strlen (v1[pick]));
      else if (pick == 3)
        g_byte_array_append (data, tcp4->data, tcp4->len);
      else
        g_byte_array_append (data, tcp6->data, tcp6->len);
      for (i = 0; i < flips; i++)
        {
          guint at = g_test_rand_int_range (0, data->len);

          switch (g_test_rand_int_range (0, 3))
            {
            case 0:
              data->data[at] = alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)];
              break;
            case 1:
              data->data[at] = g_test_rand_int_range (0, 256);
              break;
            default:
              g_byte_array_remove_index (data, at);
              if (data->len == 0)
                g_byte_array_append (data, (const guint8 *) "P", 1);
              break;
            }
        }
      check_invariants (data->data, data->len);
    }
}

/* Untrusted peers */

static void
assert_detect (const char     *data,
               gsize           len,
               MgwProxyResult  expected)
{
  g_autofree char *raw = g_strndup (data, len);
  g_autofree char *shown = g_strescape (raw, NULL);

  g_test_message ("detect \"%s\" (%zu bytes)", shown, len);
  g_assert_cmpint (mgw_proxy_detect ((const guint8 *) data, len), ==, expected);
}

static void
test_detect (void)
{
  g_autoptr(GByteArray) v2 = v2_tcp4 ();
  static const struct {
    const char *header;
    gsize       start;   /* the signature and protocol word */
  } v1[] = {
    { "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 11 },
    { "PROXY TCP6 ::1 ::1 1 2\r\n", 11 },
    { "PROXY UNKNOWN\r\n", 13 },
  };
  static const guint8 iac[] = { 0xff, 0xfb, 0x01 };

  /* Every strict prefix of a header start is user data so far, and
   * asks for more bytes; the whole start is a header, even when what
   * follows is malformed. */
  for (gsize i = 0; i < G_N_ELEMENTS (v1); i++)
    {
      for (gsize n = 0; n < v1[i].start; n++)
        assert_detect (v1[i].header, n, MGW_PROXY_NEED_MORE);
      for (gsize n = v1[i].start; n <= strlen (v1[i].header); n++)
        assert_detect (v1[i].header, n, MGW_PROXY_DONE);
    }
  for (gsize n = 0; n < 12; n++)
    assert_detect ((const char *) v2->data, n, MGW_PROXY_NEED_MORE);
  for (gsize n = 12; n <= v2->len; n++)
    assert_detect ((const char *) v2->data, n, MGW_PROXY_DONE);
  assert_detect ("PROXY TCP4 garbage", 18, MGW_PROXY_DONE);
  g_assert_cmpint (strlen ("PROXY UNKNOWN"), ==, MGW_PROXY_DETECT_MAX);

  /* What a user types first is not a header. */
  assert_detect ("PROXY garbage", 13, MGW_PROXY_ABSENT);
  assert_detect ("PROXY \r\n", 8, MGW_PROXY_ABSENT);
  assert_detect ("PROXY\r\n", 7, MGW_PROXY_ABSENT);
  assert_detect ("PROXX", 5, MGW_PROXY_ABSENT);
  assert_detect ("proxy tcp4 ", 11, MGW_PROXY_ABSENT);
  assert_detect ("Pa", 2, MGW_PROXY_ABSENT);
  assert_detect ("\r\n\r\nX", 5, MGW_PROXY_ABSENT);
  assert_detect ("\r\n\r", 3, MGW_PROXY_NEED_MORE);
  assert_detect ("\r\0", 2, MGW_PROXY_ABSENT);
  assert_detect ("GET / HTTP/1.1\r\n", 16, MGW_PROXY_ABSENT);
  assert_detect ((const char *) iac, sizeof iac, MGW_PROXY_ABSENT);
  assert_detect ("x", 1, MGW_PROXY_ABSENT);
}

/* Forwarded / X-Forwarded-For */

static void
assert_forwarded (const char *forwarded,
                  const char *x_forwarded_for,
                  const char *address,
                  guint16     port)
{
  g_autofree char *found = NULL;
  guint16 found_port = 4321;

  if (!mgw_proxy_parse_forwarded (forwarded, x_forwarded_for, &found, &found_port))
    g_error ("Forwarded '%s' / X-Forwarded-For '%s' gave no address",
             forwarded ? forwarded : "(null)", x_forwarded_for ? x_forwarded_for : "(null)");
  g_assert_cmpstr (found, ==, address);
  g_assert_cmpuint (found_port, ==, port);

  /* port may be NULL */
  g_clear_pointer (&found, g_free);
  g_assert_true (mgw_proxy_parse_forwarded (forwarded, x_forwarded_for, &found, NULL));
  g_assert_cmpstr (found, ==, address);
}

static void
assert_no_forwarded (const char *forwarded,
                     const char *x_forwarded_for)
{
  char *untouched = (char *) "untouched";
  char *found = untouched;
  guint16 port = 4321;

  if (mgw_proxy_parse_forwarded (forwarded, x_forwarded_for, &found, &port))
    g_error ("Forwarded '%s' / X-Forwarded-For '%s' gave '%s'",
             forwarded ? forwarded : "(null)", x_forwarded_for ? x_forwarded_for : "(null)",
             found);
  g_assert_true (found == untouched);
  g_assert_cmpuint (port, ==, 4321);
}

static void
test_forwarded_single (void)
{
  assert_forwarded ("for=192.0.2.60", NULL, "192.0.2.60", 0);
  assert_forwarded ("for=192.0.2.60;proto=http;by=203.0.113.43", NULL, "192.0.2.60", 0);
  assert_forwarded ("proto=https;for=192.0.2.60", NULL, "192.0.2.60", 0);
  assert_forwarded ("for=\"192.0.2.60\"", NULL, "192.0.2.60", 0);
  assert_forwarded ("for=\"192.0.2.60:4711\"", NULL, "192.0.2.60", 4711);
  assert_forwarded ("for=192.0.2.60:4711", NULL, "192.0.2.60", 4711);
  assert_forwarded ("for=\"192.0.2.60:_port\"", NULL, "192.0.2.60", 0);
  assert_forwarded ("  for=192.0.2.60 ; proto=http  ", NULL, "192.0.2.60", 0);
  assert_forwarded ("by=\"a;b,c\";for=192.0.2.60", NULL, "192.0.2.60", 0);
  assert_forwarded ("for=\"\\192.0.2.60\"", NULL, "192.0.2.60", 0);
}

static void
test_forwarded_multiple (void)
{
  assert_forwarded ("for=192.0.2.43, for=198.51.100.17", NULL, "198.51.100.17", 0);
  assert_forwarded ("for=192.0.2.43,for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com",
                    NULL, "198.51.100.17", 0);
  assert_forwarded ("for=\"[2001:db8::1]\", for=192.0.2.43", NULL, "192.0.2.43", 0);
  /* A comma inside a quoted string does not split. */
  assert_forwarded ("for=192.0.2.43, for=198.51.100.17;host=\"a,b\"", NULL, "198.51.100.17", 0);
  /* Empty list elements are ignored. */
  assert_forwarded ("for=192.0.2.43, , for=198.51.100.17,", NULL, "198.51.100.17", 0);
  /* Only the last element counts, even if it has no usable for=. */
  assert_no_forwarded ("for=192.0.2.43, proto=http", NULL);
  assert_no_forwarded ("for=192.0.2.43, for=unknown", NULL);
}

static void
test_forwarded_ipv6 (void)
{
  assert_forwarded ("for=\"[2001:db8:cafe::17]:4711\"", NULL, "2001:db8:cafe::17", 4711);
  assert_forwarded ("for=\"[2001:db8:cafe::17]\"", NULL, "2001:db8:cafe::17", 0);
  assert_forwarded ("for=\"[2001:DB8:CAFE:0::17]:80\"", NULL, "2001:db8:cafe::17", 80);
  assert_forwarded ("for=\"[2001:db8::1]:_abc-1.x\"", NULL, "2001:db8::1", 0);
  /* Some proxies leave it unquoted. */
  assert_forwarded ("for=[2001:db8::1]:8080", NULL, "2001:db8::1", 8080);
  assert_no_forwarded ("for=\"[2001:db8::1]:65536\"", NULL);
  assert_no_forwarded ("for=\"[2001:db8::1]:\"", NULL);
  assert_no_forwarded ("for=\"[2001:db8::1]80\"", NULL);
  assert_no_forwarded ("for=\"[2001:db8::1\"", NULL);
  assert_no_forwarded ("for=\"[192.0.2.1]\"", NULL);
  assert_no_forwarded ("for=\"[2001:db8::1]:_a b\"", NULL);
}

static void
test_forwarded_unknown (void)
{
  assert_no_forwarded ("for=unknown", NULL);
  assert_no_forwarded ("for=\"unknown\"", NULL);
  assert_no_forwarded ("for=UNKNOWN", NULL);
  assert_no_forwarded ("for=\"unknown:4711\"", NULL);
}

static void
test_forwarded_obfuscated (void)
{
  assert_no_forwarded ("for=_hidden", NULL);
  assert_no_forwarded ("for=\"_hidden:4711\"", NULL);
  assert_no_forwarded ("for=_SEVKISEK", NULL);
}

static void
test_forwarded_case (void)
{
  assert_forwarded ("For=192.0.2.60", NULL, "192.0.2.60", 0);
  assert_forwarded ("FOR=\"[::1]:1\"", NULL, "::1", 1);
  assert_forwarded ("Proto=http;fOr=192.0.2.60", NULL, "192.0.2.60", 0);
  /* "for" must be the whole name. */
  assert_no_forwarded ("xfor=192.0.2.60", NULL);
  assert_no_forwarded ("fore=192.0.2.60", NULL);
}

static void
test_forwarded_malformed (void)
{
  assert_no_forwarded ("", NULL);
  assert_no_forwarded ("   ", NULL);
  assert_no_forwarded (",,", NULL);
  assert_no_forwarded ("for", NULL);
  assert_no_forwarded ("for=", NULL);
  assert_no_forwarded ("for=\"\"", NULL);
  assert_no_forwarded ("=192.0.2.60", NULL);
  assert_no_forwarded ("for=\"192.0.2.60", NULL);
  assert_no_forwarded ("for=\"192.0.2.60\\\"", NULL);
  assert_no_forwarded ("for=\"192.0.2.60\"x", NULL);
  assert_no_forwarded ("for=192.0.2.60;for=192.0.2.61", NULL);
  assert_no_forwarded ("for=192.0.2.60;proto", NULL);
  assert_no_forwarded ("f(r=192.0.2.60", NULL);
  assert_no_forwarded ("for=192.0.2.60 x", NULL);
  assert_no_forwarded ("for = 192.0.2.60", NULL);
  assert_no_forwarded ("for=example.com", NULL);
  assert_no_forwarded ("for=192.0.2.256", NULL);
  assert_no_forwarded ("for=192.0.2.60:http", NULL);
  assert_no_forwarded ("for=192.0.2.60:-1", NULL);
  assert_no_forwarded ("for=192.0.2.60:1:2", NULL);
  assert_no_forwarded ("for=fe80::1%25eth0", NULL);
  assert_no_forwarded ("by=192.0.2.60", NULL);
}

static void
test_xff_single (void)
{
  assert_forwarded (NULL, "192.0.2.60", "192.0.2.60", 0);
  assert_forwarded (NULL, "  192.0.2.60\t", "192.0.2.60", 0);
}

static void
test_xff_multiple (void)
{
  assert_forwarded (NULL, "203.0.113.195, 70.41.3.18, 150.172.238.178", "150.172.238.178", 0);
  assert_forwarded (NULL, "203.0.113.195,150.172.238.178", "150.172.238.178", 0);
  /* Even if an earlier entry is garbage (a client can write anything). */
  assert_forwarded (NULL, "evil, <script>, 150.172.238.178", "150.172.238.178", 0);
  assert_forwarded (NULL, "203.0.113.195, 150.172.238.178, ", "150.172.238.178", 0);
}

static void
test_xff_spaces (void)
{
  assert_forwarded (NULL, " 203.0.113.195 ,\t150.172.238.178  ", "150.172.238.178", 0);
  assert_no_forwarded (NULL, "150.172. 238.178");
}

static void
test_xff_port (void)
{
  assert_forwarded (NULL, "203.0.113.195:41237", "203.0.113.195", 41237);
  assert_forwarded (NULL, "10.0.0.1, 203.0.113.195:0", "203.0.113.195", 0);
  assert_forwarded (NULL, "203.0.113.195:00080", "203.0.113.195", 80);
  assert_no_forwarded (NULL, "203.0.113.195:065535");
  assert_no_forwarded (NULL, "203.0.113.195:65536");
  assert_no_forwarded (NULL, "203.0.113.195:");
  assert_no_forwarded (NULL, "203.0.113.195:+80");
  assert_no_forwarded (NULL, "203.0.113.195:_hidden");
}

static void
test_xff_ipv6 (void)
{
  assert_forwarded (NULL, "2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3:8d3:1319:8a2e:370:7348", 0);
  assert_forwarded (NULL, "203.0.113.195, 2001:DB8::1", "2001:db8::1", 0);
  assert_forwarded (NULL, "::1", "::1", 0);
}

static void
test_xff_ipv6_port (void)
{
  assert_forwarded (NULL, "[2001:db8::1]:8080", "2001:db8::1", 8080);
  assert_forwarded (NULL, "[2001:db8::1]", "2001:db8::1", 0);
  assert_forwarded (NULL, "10.0.0.1, [2001:db8::1]:1", "2001:db8::1", 1);
  assert_no_forwarded (NULL, "[2001:db8::1]:99999");
  assert_no_forwarded (NULL, "[2001:db8::1");
  assert_no_forwarded (NULL, "[10.0.0.1]:80");
}

static void
test_xff_garbage (void)
{
  assert_no_forwarded (NULL, "");
  assert_no_forwarded (NULL, " , ,");
  assert_no_forwarded (NULL, "unknown");
  assert_no_forwarded (NULL, "192.0.2.60, unknown");
  assert_no_forwarded (NULL, "example.com");
  assert_no_forwarded (NULL, "192.0.2");
  assert_no_forwarded (NULL, "192.0.2.60.1");
  assert_no_forwarded (NULL, "\"192.0.2.60\"");
  assert_no_forwarded (NULL, "192.0.2.60;x");
  assert_no_forwarded (NULL, "fe80::1%eth0");
  assert_no_forwarded (NULL, "2001:db8::1:80:x");
  assert_no_forwarded (NULL, "\xff\xfe");
}

static void
test_forwarded_precedence (void)
{
  assert_forwarded ("for=192.0.2.60", "203.0.113.195", "192.0.2.60", 0);
  assert_forwarded ("for=\"[2001:db8::1]:443\"", "203.0.113.195:80", "2001:db8::1", 443);
  /* Forwarded yields nothing: X-Forwarded-For is used. */
  assert_forwarded ("for=unknown", "203.0.113.195", "203.0.113.195", 0);
  assert_forwarded ("for=_hidden", "203.0.113.195", "203.0.113.195", 0);
  assert_forwarded ("proto=http", "203.0.113.195", "203.0.113.195", 0);
  assert_forwarded ("garbage\"", "203.0.113.195", "203.0.113.195", 0);
  assert_no_forwarded ("for=unknown", "unknown");
}

static void
test_forwarded_none (void)
{
  assert_no_forwarded (NULL, NULL);
  assert_no_forwarded ("", "");
}

static void
test_forwarded_v4_mapped (void)
{
  assert_forwarded ("for=\"[::ffff:192.0.2.1]:80\"", NULL, "192.0.2.1", 80);
  assert_forwarded ("for=\"[::FFFF:c000:0201]\"", NULL, "192.0.2.1", 0);
  assert_forwarded (NULL, "::ffff:10.0.0.1", "10.0.0.1", 0);
  assert_forwarded (NULL, "[::ffff:10.0.0.1]:22", "10.0.0.1", 22);
  /* Not mapped: left as IPv6. */
  assert_forwarded (NULL, "::10.0.0.1", "::10.0.0.1", 0);
}

static void
test_forwarded_garbage (void)
{
  static const char alphabet[] = "for=\"[]:;,_ \\unkow0123456789abcdef.\t";
  guint round;

  for (round = 0; round < 3000; round++)
    {
      gsize len = g_test_rand_int_range (0, 40);
      g_autofree char *forwarded = g_malloc (len + 1);
      g_autofree char *xff = g_malloc (len + 1);
      g_autofree char *address = NULL;
      guint16 port;
      gsize i;

      for (i = 0; i < len; i++)
        {
          forwarded[i] = alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)];
          xff[i] = g_test_rand_int_range (1, 256);
        }
      forwarded[len] = '\0';
      xff[len] = '\0';
      if (mgw_proxy_parse_forwarded (forwarded, round % 2 ? xff : NULL, &address, &port))
        {
          g_autoptr(GInetAddress) parsed = g_inet_address_new_from_string (address);

          g_assert_nonnull (parsed);
          g_clear_pointer (&address, g_free);
        }
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/proxy/v1/tcp4", test_v1_tcp4);
  g_test_add_func ("/proxy/v1/tcp6", test_v1_tcp6);
  g_test_add_func ("/proxy/v1/unknown", test_v1_unknown);
  g_test_add_func ("/proxy/v1/trailing", test_v1_trailing);
  g_test_add_func ("/proxy/v1/prefixes", test_v1_prefixes);
  g_test_add_func ("/proxy/v1/bad-family", test_v1_bad_family);
  g_test_add_func ("/proxy/v1/missing-fields", test_v1_missing_fields);
  g_test_add_func ("/proxy/v1/extra-field", test_v1_extra_field);
  g_test_add_func ("/proxy/v1/bad-address", test_v1_bad_address);
  g_test_add_func ("/proxy/v1/bad-port", test_v1_bad_port);
  g_test_add_func ("/proxy/v1/double-space", test_v1_double_space);
  g_test_add_func ("/proxy/v1/lowercase", test_v1_lowercase);
  g_test_add_func ("/proxy/v1/missing-lf", test_v1_missing_lf);
  g_test_add_func ("/proxy/v1/nul", test_v1_nul);
  g_test_add_func ("/proxy/v1/oversized", test_v1_oversized);
  g_test_add_func ("/proxy/v2/tcp4", test_v2_tcp4);
  g_test_add_func ("/proxy/v2/tcp6", test_v2_tcp6);
  g_test_add_func ("/proxy/v2/local", test_v2_local);
  g_test_add_func ("/proxy/v2/unspec", test_v2_unspec);
  g_test_add_func ("/proxy/v2/unix", test_v2_unix);
  g_test_add_func ("/proxy/v2/tlv", test_v2_tlv);
  g_test_add_func ("/proxy/v2/udp", test_v2_udp);
  g_test_add_func ("/proxy/v2/bad-family", test_v2_bad_family);
  g_test_add_func ("/proxy/v2/bad-version", test_v2_bad_version);
  g_test_add_func ("/proxy/v2/bad-command", test_v2_bad_command);
  g_test_add_func ("/proxy/v2/too-long", test_v2_too_long);
  g_test_add_func ("/proxy/v2/truncated-block", test_v2_truncated_block);
  g_test_add_func ("/proxy/v2/signature", test_v2_signature);
  g_test_add_func ("/proxy/v2/prefixes", test_v2_prefixes);
  g_test_add_func ("/proxy/absent", test_absent);
  g_test_add_func ("/proxy/garbage", test_garbage);
  g_test_add_func ("/proxy/mutations", test_mutations);
  g_test_add_func ("/proxy/detect", test_detect);
  g_test_add_func ("/proxy/forwarded/single", test_forwarded_single);
  g_test_add_func ("/proxy/forwarded/multiple", test_forwarded_multiple);
  g_test_add_func ("/proxy/forwarded/ipv6", test_forwarded_ipv6);
  g_test_add_func ("/proxy/forwarded/unknown", test_forwarded_unknown);
  g_test_add_func ("/proxy/forwarded/obfuscated", test_forwarded_obfuscated);
  g_test_add_func ("/proxy/forwarded/case", test_forwarded_case);
  g_test_add_func ("/proxy/forwarded/malformed", test_forwarded_malformed);
  g_test_add_func ("/proxy/forwarded/precedence", test_forwarded_precedence);
  g_test_add_func ("/proxy/forwarded/none", test_forwarded_none);
  g_test_add_func ("/proxy/forwarded/v4-mapped", test_forwarded_v4_mapped);
  g_test_add_func ("/proxy/forwarded/garbage", test_forwarded_garbage);
  g_test_add_func ("/proxy/x-forwarded-for/single", test_xff_single);
  g_test_add_func ("/proxy/x-forwarded-for/multiple", test_xff_multiple);
  g_test_add_func ("/proxy/x-forwarded-for/spaces", test_xff_spaces);
  g_test_add_func ("/proxy/x-forwarded-for/port", test_xff_port);
  g_test_add_func ("/proxy/x-forwarded-for/ipv6", test_xff_ipv6);
  g_test_add_func ("/proxy/x-forwarded-for/ipv6-port", test_xff_ipv6_port);
  g_test_add_func ("/proxy/x-forwarded-for/garbage", test_xff_garbage);

  return g_test_run ();
}
