/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-minitel.c: the status line, text to videotex bytes and the byte <->
 * text frame mapping. */
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
assert_videotex (const char   *utf8,
                 const char   *expected,
                 gsize         expected_len)
{
  g_autoptr(GBytes) bytes = mgw_minitel_from_utf8 (utf8, -1);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_autofree char *escaped = g_strescape (utf8, NULL);

  g_test_message ("'%s'", escaped);
  g_assert_cmpmem (data, len, expected, expected_len);
  /* Nothing a Minitel would take for something else. */
  for (gsize i = 0; i < len; i++)
    g_assert_true (data[i] == 0x19 || (data[i] >= 0x20 && data[i] < 0x7f));
}
#define VT(utf8, bytes) assert_videotex (utf8, bytes, sizeof bytes - 1)

static void
test_from_utf8_ascii (void)
{
  VT ("SERVICE FULL, RETRY LATER", "SERVICE FULL, RETRY LATER");
  VT (" !\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~",
      " !\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~");
  VT ("", "");
}

/* Every accented letter of French, lowercase through G2, uppercase plain. */
static void
test_from_utf8_french (void)
{
  VT ("\xc3\xa0\xc3\xa2\xc3\xa4", "\x19\x41" "a" "\x19\x43" "a" "\x19\x48" "a");      /* à â ä */
  VT ("\xc3\xa9\xc3\xa8\xc3\xaa\xc3\xab",
      "\x19\x42" "e" "\x19\x41" "e" "\x19\x43" "e" "\x19\x48" "e");                    /* é è ê ë */
  VT ("\xc3\xae\xc3\xaf", "\x19\x43" "i" "\x19\x48" "i");                               /* î ï */
  VT ("\xc3\xb4\xc3\xb6", "\x19\x43" "o" "\x19\x48" "o");                               /* ô ö */
  VT ("\xc3\xb9\xc3\xbb\xc3\xbc", "\x19\x41" "u" "\x19\x43" "u" "\x19\x48" "u");      /* ù û ü */
  VT ("\xc3\xa7", "\x19\x4b" "c");                                                      /* ç */
  VT ("\xc3\xbf", "y");                                                                 /* ÿ: no G2 form */
  VT ("\xc3\x80\xc3\x82\xc3\x84\xc3\x89\xc3\x88\xc3\x8a\xc3\x8b\xc3\x8e\xc3\x8f"
      "\xc3\x94\xc3\x96\xc3\x99\xc3\x9b\xc3\x9c\xc3\x87\xc5\xb8",
      "AAAEEEEIIOOUUUCY");                                                              /* À Â Ä É È Ê Ë Î Ï Ô Ö Ù Û Ü Ç Ÿ */
  VT ("\xc5\x93\xc5\x92", "\x19\x7a\x19\x6a");                                          /* œ Œ */
  VT ("\xc3\xa6\xc3\x86", "aeAE");                                                      /* æ Æ */
  /* Decomposed input (e + combining acute) is the same letter. */
  VT ("e\xcc\x81", "\x19\x42" "e");
  VT ("R\xc3\x89" "ESSAYEZ PLUS TARD", "REESSAYEZ PLUS TARD");
  VT ("Arr\xc3\xaat\xc3\xa9", "Arr\x19\x43" "et\x19\x42" "e");
}

static void
test_from_utf8_others (void)
{
  VT ("\xc3\xa1\xc3\xad\xc3\xb3\xc3\xba\xc3\xb1\xc3\xa5", "aiouna");                   /* á í ó ú ñ å */
  VT ("\xc3\x9f", "\x19\x7b");                                                          /* ß */
  VT ("\xc2\xa3\xc2\xa7\xc2\xb0\xc2\xb1\xc3\xb7\xc2\xbc\xc2\xbd\xc2\xbe",
      "\x19\x23\x19\x27\x19\x30\x19\x31\x19\x38\x19\x3c\x19\x3d\x19\x3e");
  VT ("\xe2\x86\x90\xe2\x86\x91\xe2\x86\x92\xe2\x86\x93", "\x19\x2c\x19\x2d\x19\x2e\x19\x2f");
  VT ("\xc2\xab" "3615\xc2\xa0" "\xc2\xbb", "\"3615 \"");                               /* « 3615 » */
  VT ("l\xe2\x80\x99" "annuaire\xe2\x80\xaf!", "l'annuaire !");                         /* ’ and narrow nbsp */
  VT ("\xe2\x80\x9c" "a\xe2\x80\x9d", "\"a\"");
  VT ("attendez\xe2\x80\xa6", "attendez...");
  VT ("a\xe2\x80\x94" "b\xe2\x80\x93" "c", "a-b-c");
  VT ("1\xe2\x82\xac", "1EUR");                                                         /* € */
  VT ("\xf0\x9f\x98\x80!", "?!");                                                       /* emoji */
  VT ("\xe4\xb8\xad", "?");                                                             /* CJK */
  VT ("\xce\xb1\xd0\xb4", "??");                                                        /* Greek, Cyrillic */
}

static void
test_from_utf8_controls (void)
{
  /* Controls and DEL in a text are never passed on: callers add theirs. */
  VT ("a\x1b" "b\x7f" "c\n\r\x13I\x19", "a?b?c???I?");
  /* C1 controls, as UTF-8. */
  VT ("\xc2\x85\xc2\x9b", "??");
}

static void
test_from_utf8_invalid (void)
{
  VT ("a\xc3" "z", "a?z");
  VT ("\xff\xfe", "??");
  VT ("\xc0\x80", "??");
  VT ("\xed\xa0\x80", "???");
  VT ("\xe2\x82", "??");
  VT ("\x80" "ok", "?ok");

  /* A length stops before the NUL. */
  g_autoptr(GBytes) bytes = mgw_minitel_from_utf8 ("\xc3\xa9" "abc", 3);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "\x19\x42" "ea", 4);
}

static void
test_status_line_accents (void)
{
  /* "FIN : SESSION TERMINÉE" (as a translation may put it), é in lowercase. */
  g_autoptr(GBytes) upper = mgw_minitel_status_line ("TERMIN\xc3\x89" "E");
  g_autoptr(GBytes) lower = mgw_minitel_status_line ("Termin\xc3\xa9" "e");
  static const guint8 expected_upper[] = { 0x1f, 0x40, 0x41, 'T', 'E', 'R', 'M', 'I', 'N', 'E', 'E',
                                           0x18, 0x0a };
  static const guint8 expected_lower[] = { 0x1f, 0x40, 0x41, 'T', 'e', 'r', 'm', 'i', 'n',
                                           0x19, 0x42, 'e', 'e', 0x18, 0x0a };

  g_assert_cmpmem (g_bytes_get_data (upper, NULL), g_bytes_get_size (upper),
                   expected_upper, sizeof expected_upper);
  g_assert_cmpmem (g_bytes_get_data (lower, NULL), g_bytes_get_size (lower),
                   expected_lower, sizeof expected_lower);
}

static void
test_status_line_width (void)
{
  /* 45 letters: 39 places kept, a G2 letter taking one place. */
  g_autoptr(GString) text = g_string_new ("\xc3\xa9");
  g_autoptr(GBytes) line = NULL;
  gsize len;
  const guint8 *data;

  for (int i = 0; i < 44; i++)
    g_string_append_c (text, 'A' + i % 26);
  line = mgw_minitel_status_line (text->str);
  data = g_bytes_get_data (line, &len);
  g_assert_cmpuint (len, ==, 3 + 2 + 39 + 2);
  g_assert_cmpmem (data + 3, 3, "\x19\x42" "e", 3);
  g_assert_cmpint (data[3 + 2 + 38], ==, 'A' + 37 % 26);
  g_assert_cmpint (data[len - 2], ==, 0x18);

  /* A spelling that would cross the edge is left out whole. */
  g_string_assign (text, "");
  for (int i = 0; i < 37; i++)
    g_string_append_c (text, 'x');
  g_string_append (text, "\xe2\x80\xa6");
  g_clear_pointer (&line, g_bytes_unref);
  line = mgw_minitel_status_line (text->str);
  g_assert_cmpuint (g_bytes_get_size (line), ==, 3 + 37 + 2);
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

/* An operator's message: what it may not hold, and what it may. */
static void
test_check_message (void)
{
  g_autofree char *longest = g_strnfill (MGW_MINITEL_MESSAGE_MAX, 'x');
  g_autofree char *too_long = g_strnfill (MGW_MINITEL_MESSAGE_MAX + 1, 'x');
  static const char *good[] = {
    "SERVICE CLOSING AT 22:00", "Fermeture \xc3\xa0 22 h, d\xc3\xa9sol\xc3\xa9", "\xe2\x82\xac \xf0\x9f\x98\x80",
  };
  static const char *bad[] = {
    "", "a\tb", "a\rb", "a\x1b" "b", "a\x7f" "b", "a\xc2\x85" "b", "a\xc3" "z", "\xff",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (mgw_minitel_check_message (good[i], &error));
      g_assert_no_error (error);
    }
  g_assert_true (mgw_minitel_check_message (longest, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (mgw_minitel_check_message (bad[i], &error));
      g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
      g_test_message ("%s", error->message);
    }
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (mgw_minitel_check_message (too_long, &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
    g_assert_cmpstr (error->message, ==, "The message is 201 bytes long, more than 200");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/minitel/status-line", test_status_line);
  g_test_add_func ("/minitel/status-line/accents", test_status_line_accents);
  g_test_add_func ("/minitel/status-line/width", test_status_line_width);
  g_test_add_func ("/minitel/check-message", test_check_message);
  g_test_add_func ("/minitel/from-utf8/ascii", test_from_utf8_ascii);
  g_test_add_func ("/minitel/from-utf8/french", test_from_utf8_french);
  g_test_add_func ("/minitel/from-utf8/others", test_from_utf8_others);
  g_test_add_func ("/minitel/from-utf8/controls", test_from_utf8_controls);
  g_test_add_func ("/minitel/from-utf8/invalid", test_from_utf8_invalid);
  g_test_add_func ("/minitel/latin1/roundtrip", test_latin1_roundtrip);
  g_test_add_func ("/minitel/latin1/examples", test_latin1_examples);
  g_test_add_func ("/minitel/latin1/above-ff", test_above_ff_refused);
  g_test_add_func ("/minitel/latin1/invalid-utf8", test_invalid_utf8_refused);
  return g_test_run ();
}
