/* test-minitel.c: the status line and the byte <-> text frame mapping. */
#include "config.h"

#include "mgw-error.h"
#include "mgw-minitel.h"

#include <string.h>

static void
test_status_line (void)
{
  g_autoptr(GBytes) line = mgw_minitel_status_line ("CONNECT");
  static const guint8 expected[] = { 0x1f, 0x40, 0x41, 'C', 'O', 'N', 'N', 'E',
                                     'C', 'T', 0x18, 0x0a };
  gsize len;
  const guint8 *data = g_bytes_get_data (line, &len);

  g_assert_cmpmem (data, len, expected, sizeof expected);
}

static void
test_latin1_roundtrip (void)
{
  guint8 all[256];
  g_autoptr(GByteArray) back = g_byte_array_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 256; i++)
    all[i] = i;
  g_autoptr(GBytes) text = mgw_latin1_to_utf8 (all, sizeof all);
  gsize len;
  const char *utf8 = g_bytes_get_data (text, &len);

  /* 128 one-byte and 128 two-byte sequences, valid UTF-8, NUL kept. */
  g_assert_cmpuint (len, ==, 128 + 2 * 128);
  /* Valid UTF-8 once the NUL (legal in a frame) is left aside. */
  g_assert_true (g_utf8_validate_len (utf8 + 1, len - 1, NULL));
  g_assert_true (mgw_utf8_to_latin1 (utf8, len, back, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (back->data, back->len, all, sizeof all);
}

static void
test_latin1_examples (void)
{
  static const guint8 bytes[] = { 'A', 0xe9, 0x13, 0x49, 0xff };
  g_autoptr(GBytes) text = mgw_latin1_to_utf8 (bytes, sizeof bytes);
  gsize len;
  const char *utf8 = g_bytes_get_data (text, &len);

  g_assert_cmpmem (utf8, len, "A\xc3\xa9\x13I\xc3\xbf", 7);

  g_autoptr(GBytes) empty = mgw_latin1_to_utf8 (bytes, 0);
  g_assert_cmpuint (g_bytes_get_size (empty), ==, 0);
}

static void
test_above_ff_refused (void)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  const char *euro = "ab\xe2\x82\xac" "cd";   /* U+20AC */

  g_byte_array_append (out, (const guint8 *) "x", 1);
  g_assert_false (mgw_utf8_to_latin1 (euro, strlen (euro), out, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  /* Nothing of the bad frame is kept. */
  g_assert_cmpuint (out->len, ==, 1);
}

static void
test_invalid_utf8_refused (void)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  static const char *bad[] = {
    "a\xc3" "z",       /* lead byte without continuation */
    "a\xc3",           /* truncated at the end */
    "\xc0\x80",        /* overlong NUL */
    "\xc1\xbf",        /* overlong */
    "\x80",            /* lone continuation */
    "\xed\xa0\x80",    /* surrogate */
    "\xff",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      g_assert_false (mgw_utf8_to_latin1 (bad[i], strlen (bad[i]), out, &error));
      g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
      g_assert_cmpuint (out->len, ==, 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/minitel/status-line", test_status_line);
  g_test_add_func ("/minitel/latin1/roundtrip", test_latin1_roundtrip);
  g_test_add_func ("/minitel/latin1/examples", test_latin1_examples);
  g_test_add_func ("/minitel/latin1/above-ff", test_above_ff_refused);
  g_test_add_func ("/minitel/latin1/invalid-utf8", test_invalid_utf8_refused);
  return g_test_run ();
}
