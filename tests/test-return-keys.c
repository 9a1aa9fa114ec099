/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-return-keys.c: the return sequences ([redirect] return-keys,
 * "return-keys" in profiles.json): their text form (every item, every
 * error, the canonical form parsing back), and the matcher, fed the
 * user's bytes cut at every boundary, against a naive search of the
 * whole stream. */
#include "config.h"

#include "mgw-error.h"
#include "mgw-minitel.h"
#include "mgw-return-keys.h"

#include <string.h>

#define S(lit) (const guint8 *) lit, sizeof lit - 1

static MgwReturnKeys
parse (const char *text)
{
  MgwReturnKeys keys;
  g_autoptr(GError) error = NULL;

  if (!mgw_return_keys_parse (&keys, text, &error))
    g_error ("'%s' refused: %s", text, error->message);
  return keys;
}

static void
test_parse (void)
{
  static const struct { const char *text; const char *bytes; gsize len; } cases[] = {
    { "'***' Sommaire", "***\x13\x46", 5 },
    { "\"***\" SEP F", "***\x13\x46", 5 },
    { "  '***'Sommaire  ", "***\x13\x46", 5 },
    { "sommaire SOMMAIRE", "\x13\x46\x13\x46", 4 },
    { "Envoi Retour Répétition Repetition RÉPÉTITION", "\x13\x41\x13\x42\x13\x43\x13\x43\x13\x43", 10 },
    { "Guide Annulation Correction Suite Connexion/Fin",
      "\x13\x44\x13\x45\x13\x47\x13\x48\x13\x49", 10 },
    { "sep f", "\x13\x66", 2 },
    { "SEP \\x59", "\x13\x59", 2 },
    { "SEP\t\\x13", "\x13\x13", 2 },
    { "\\x2a\\x2A", "**", 2 },
    { "'a\\'b\\\\c\\\"d\\x7e'", "a'b\\c\"d~", 8 },
    { "\"it's\"", "it's", 4 },
    { "'a;b'", "a;b", 3 },
    { "'  '", "  ", 2 },
    { "'0123456789abcdef'", "0123456789abcdef", 16 },
    { "\\x13\\x49'x'", "\x13\x49x", 3 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MgwReturnKeys keys = parse (cases[i].text);

      g_test_message ("%s", cases[i].text);
      g_assert_cmpuint (keys.n, ==, 1);
      g_assert_cmpmem (keys.bytes[0], keys.len[0], cases[i].bytes, cases[i].len);
    }
}

/* A list: ';' outside quotes separates, empty items are skipped, "" is
 * an empty list (no sequence). */
static void
test_list (void)
{
  MgwReturnKeys keys = parse ("'***' Sommaire; ';' Envoi ;; '#' SEP \\x3B;");

  g_assert_cmpuint (keys.n, ==, 3);
  g_assert_cmpmem (keys.bytes[0], keys.len[0], "***\x13\x46", 5);
  g_assert_cmpmem (keys.bytes[1], keys.len[1], ";\x13\x41", 3);
  g_assert_cmpmem (keys.bytes[2], keys.len[2], "#\x13;", 3);

  keys = parse ("");
  g_assert_cmpuint (keys.n, ==, 0);
  keys = parse (" ; ;");
  g_assert_cmpuint (keys.n, ==, 0);
  keys = parse ("Sommaire;Sommaire;Sommaire;Sommaire;Sommaire;Sommaire;Sommaire;Sommaire");
  g_assert_cmpuint (keys.n, ==, MGW_RETURN_KEYS_MAX);
}

/* Every mistake is refused, saying what is wrong and in which sequence;
 * a refused list leaves nothing. */
static void
test_bad (void)
{
  static const struct { const char *text; const char *needle; } cases[] = {
    { "'***' Somaire", "\"Somaire\" is not a key name" },
    { "*** Sommaire", "\"***\" is not a key name" },
    { "Sommaire; x", "\"x\": \"x\" is not a key name" },
    { "'***", "quotes not closed" },
    { "'***\\'", "quotes not closed" },
    { "\"abc'", "quotes not closed" },
    { "''", "empty text in quotes" },
    { "'\t'", "only printable ASCII" },
    { "'é'", "only printable ASCII" },
    { "'\\n'", "unknown escape" },
    { "'\\x4'", "two hexadecimal digits" },
    { "\\x", "two hexadecimal digits" },
    { "\\xG0", "two hexadecimal digits" },
    { "\\n", "two hexadecimal digits" },
    { "SEP", "SEP must be followed by one key code" },
    { "SEP FF", "SEP must be followed by one key code" },
    { "SEP é", "SEP must be followed by one key code" },
    { "SEP \\x1", "SEP must be followed by one key code" },
    { "'*' SEP", "SEP must be followed by one key code" },
    { "'*' \\x13", "ends with SEP" },
    { "SEP \\x13 \\x13", "ends with SEP" },
    { "'0123456789abcdef' Envoi", "longer than 16 bytes" },
    { "'0123456789abcdefg'", "longer than 16 bytes" },
    { "Sommaire;Sommaire;Sommaire;Sommaire;Sommaire;Sommaire;Sommaire;Sommaire;Envoi",
      "more than 8 return sequences" },
    { "\xff", "not valid UTF-8" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MgwReturnKeys keys = parse ("Envoi");
      g_autoptr(GError) error = NULL;

      if (mgw_return_keys_parse (&keys, cases[i].text, &error))
        g_error ("case %" G_GSIZE_FORMAT " '%s' was accepted", i, cases[i].text);
      g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": '%s' does not say '%s'", i, error->message,
                 cases[i].needle);
      g_assert_cmpuint (keys.n, ==, 0);
    }

  /* One sequence at a time (profiles.json): a ';' outside quotes, an
   * empty string. */
  {
    MgwReturnKeys keys = { 0 };
    g_autoptr(GError) error = NULL;

    g_assert_false (mgw_return_keys_add_text (&keys, "Sommaire; Envoi", &error));
    g_assert_nonnull (strstr (error->message, "';' only separates sequences"));
    g_clear_error (&error);
    g_assert_false (mgw_return_keys_add_text (&keys, "  ", &error));
    g_assert_nonnull (strstr (error->message, "an empty sequence"));
    g_assert_cmpuint (keys.n, ==, 0);
  }
}

/* The canonical text of a sequence parses back to the same bytes. */
static void
test_describe (void)
{
  static const struct { const char *bytes; gsize len; const char *text; } cases[] = {
    { "***\x13\x46", 5, "'***' Sommaire" },
    { "\x13\x43\x13\x49", 4, "Répétition Connexion/Fin" },
    { "\x13\x59\x13;", 4, "SEP Y SEP \\x3B" },
    { "it's \\", 6, "'it\\'s \\\\'" },
    { "\x01\x13\x13\xff" "a", 5, "\\x01 SEP \\x13 \\xFF 'a'" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MgwReturnKeys keys = { 0 };
      MgwReturnKeys again;
      g_autofree char *text = NULL;

      g_assert_true (mgw_return_keys_add_bytes (&keys, (const guint8 *) cases[i].bytes,
                                                cases[i].len, NULL));
      text = mgw_return_keys_describe (&keys, 0);
      g_assert_cmpstr (text, ==, cases[i].text);
      again = parse (text);
      g_assert_cmpuint (again.n, ==, 1);
      g_assert_cmpmem (again.bytes[0], again.len[0], cases[i].bytes, cases[i].len);
    }
}

static void
test_add_bytes (void)
{
  MgwReturnKeys keys = { 0 };
  g_autoptr(GError) error = NULL;
  guint8 long_one[MGW_RETURN_KEYS_MAX_LEN + 1];

  memset (long_one, '*', sizeof long_one);
  g_assert_false (mgw_return_keys_add_bytes (&keys, NULL, 0, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (mgw_return_keys_add_bytes (&keys, long_one, sizeof long_one, &error));
  g_assert_nonnull (strstr (error->message, "longer than"));
  g_clear_error (&error);
  g_assert_false (mgw_return_keys_add_bytes (&keys, S ("ab\x13"), &error));
  g_assert_nonnull (strstr (error->message, "ends with SEP"));
  g_clear_error (&error);
  g_assert_cmpuint (keys.n, ==, 0);
  g_assert_true (mgw_return_keys_add_bytes (&keys, long_one, MGW_RETURN_KEYS_MAX_LEN, &error));
  g_assert_true (mgw_return_keys_add_bytes (&keys, S ("\x13\x13"), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (keys.n, ==, 2);
}

/* --- the matcher --- */

/* The first sequence in the whole stream, as the matcher must find it:
 * the earliest end, the longest ending there, never beginning on a key's
 * code. -1 when none; else *start and *end around it. */
static int
naive_find (const MgwReturnKeys *keys,
            const guint8        *d,
            gsize                len,
            gsize               *start,
            gsize               *end)
{
  g_autofree gboolean *code = g_new0 (gboolean, len + 1);

  for (gsize i = 1; i <= len; i++)
    code[i] = !code[i - 1] && d[i - 1] == MGW_MINITEL_SEP;
  for (gsize e = 1; e <= len; e++)
    {
      int best = -1;
      gsize best_len = 0;

      for (guint s = 0; s < keys->n; s++)
        {
          gsize l = keys->len[s];
          if (l <= e && l > best_len && !code[e - l] && memcmp (d + e - l, keys->bytes[s], l) == 0)
            {
              best = (int) s;
              best_len = l;
            }
        }
      if (best >= 0)
        {
          *start = e - best_len;
          *end = e;
          return best;
        }
    }
  return -1;
}

/* Feeds `d` cut at the offsets of `cuts` (increasing, within the
 * stream); checks the matcher against naive_find: what went out, where
 * it stopped, which sequence, and that nothing is lost. */
static void
check_cut (const MgwReturnKeys *keys,
           const guint8        *d,
           gsize                len,
           const gsize         *cuts,
           gsize                n_cuts)
{
  MgwKeyMatcher m;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize start = 0, end = 0, pos = 0;
  int want = naive_find (keys, d, len, &start, &end);
  int got = -1;

  mgw_key_matcher_init (&m, keys);
  for (gsize c = 0; c <= n_cuts && got < 0; c++)
    {
      gsize next = c < n_cuts ? cuts[c] : len;
      gsize consumed = 0;

      got = mgw_key_matcher_feed (&m, d + pos, next - pos, out, &consumed);
      g_assert_cmpuint (consumed, <=, next - pos);
      g_assert_cmpuint (mgw_key_matcher_get_held (&m), <, MGW_RETURN_KEYS_MAX_LEN);
      if (got < 0)
        g_assert_cmpuint (consumed, ==, next - pos);
      else
        {
          g_assert_cmpuint (mgw_key_matcher_get_held (&m), ==, 0);
          pos += consumed;
          break;
        }
      /* What went out and what is held are the stream so far. */
      g_assert_cmpuint (out->len + mgw_key_matcher_get_held (&m), ==, next);
      pos = next;
    }
  g_assert_cmpint (got, ==, want);
  if (want >= 0)
    {
      g_assert_cmpuint (pos, ==, end);
      g_assert_cmpmem (out->data, out->len, d, start);
    }
  else
    {
      mgw_key_matcher_flush (&m, out);
      g_assert_cmpmem (out->data, out->len, d, len);
    }
}

/* Every way to cut the stream in one, two or three reads. */
static void
check_all_cuts (const MgwReturnKeys *keys,
                const guint8        *d,
                gsize                len)
{
  check_cut (keys, d, len, NULL, 0);
  for (gsize a = 0; a <= len; a++)
    {
      check_cut (keys, d, len, &a, 1);
      for (gsize b = a; b <= len; b++)
        check_cut (keys, d, len, (gsize[]) { a, b }, 2);
    }
}

static void
test_match (void)
{
  MgwReturnKeys keys = parse ("'***' Sommaire");
  MgwKeyMatcher m;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize consumed;

  mgw_key_matcher_init (&m, &keys);
  g_assert_true (mgw_key_matcher_is_active (&m));
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("ab***\x13\x46" "cd"), out, &consumed), ==, 0);
  g_assert_cmpuint (consumed, ==, 7);
  g_assert_cmpmem (out->data, out->len, "ab", 2);
  g_assert_cmpuint (mgw_key_matcher_get_held (&m), ==, 0);

  /* Held across reads, byte by byte. */
  g_byte_array_set_size (out, 0);
  for (gsize i = 0; i < 4; i++)
    {
      g_assert_cmpint (mgw_key_matcher_feed (&m, (const guint8 *) "***\x13" + i, 1, out,
                                             &consumed), ==, -1);
      g_assert_cmpuint (out->len, ==, 0);
      g_assert_cmpuint (mgw_key_matcher_get_held (&m), ==, i + 1);
    }
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("\x46"), out, &consumed), ==, 0);
  g_assert_cmpuint (out->len, ==, 0);

  check_all_cuts (&keys, S ("ab***\x13\x46" "cd"));
  check_all_cuts (&keys, S ("****\x13\x46"));
  check_all_cuts (&keys, S ("\x13\x46***\x13\x46"));
}

/* Bytes that begin a sequence and turn out not to be it go out, in
 * order, none lost: another key after the stars, a star too many, a key
 * code that looks like the start of one. */
static void
test_not_the_sequence (void)
{
  MgwReturnKeys keys = parse ("'***' Sommaire; 'AB'");
  MgwKeyMatcher m;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize consumed;

  mgw_key_matcher_init (&m, &keys);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("**x"), out, &consumed), ==, -1);
  g_assert_cmpmem (out->data, out->len, "**x", 3);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("***\x13"), out, &consumed), ==, -1);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("\x41"), out, &consumed), ==, -1);
  g_assert_cmpmem (out->data, out->len, "**x***\x13\x41", 8);
  g_assert_cmpuint (mgw_key_matcher_get_held (&m), ==, 0);

  /* Envoi (SEP A) then B is not 'AB': the A is a key's code. */
  g_byte_array_set_size (out, 0);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("x\x13"), out, &consumed), ==, -1);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("\x41"), out, &consumed), ==, -1);
  g_assert_cmpmem (out->data, out->len, "x\x13\x41", 3);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("B"), out, &consumed), ==, -1);
  g_assert_cmpmem (out->data, out->len, "x\x13\x41" "B", 4);
  /* After SEP SEP (a key whose code is SEP), an A is an A. */
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("\x13\x13" "AB"), out, &consumed), ==, 1);
  g_assert_cmpuint (consumed, ==, 4);

  /* Held, then flushed: everything, in order. */
  g_byte_array_set_size (out, 0);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("1***\x13"), out, &consumed), ==, -1);
  g_assert_cmpmem (out->data, out->len, "1", 1);
  mgw_key_matcher_flush (&m, out);
  g_assert_cmpmem (out->data, out->len, "1***\x13", 5);
  /* The flushed SEP's code is still a code. */
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("AB"), out, &consumed), ==, -1);
  g_assert_cmpmem (out->data, out->len, "1***\x13" "AB", 7);

  check_all_cuts (&keys, S ("**x***\x13\x41" "AB"));
  check_all_cuts (&keys, S ("\x13\x41" "B\x13\x13" "AB"));
}

/* Of two sequences ending at the same byte the longest wins; a shorter
 * one ending sooner wins over a longer one still going. */
static void
test_longest (void)
{
  MgwReturnKeys keys = parse ("'*' Sommaire; '**' Sommaire; 'aab'; 'ab'");
  MgwKeyMatcher m;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize consumed;

  mgw_key_matcher_init (&m, &keys);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("x**\x13\x46"), out, &consumed), ==, 1);
  g_assert_cmpmem (out->data, out->len, "x", 1);
  g_byte_array_set_size (out, 0);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("aaab"), out, &consumed), ==, 2);
  g_assert_cmpmem (out->data, out->len, "a", 1);
  check_all_cuts (&keys, S ("x**\x13\x46"));
  check_all_cuts (&keys, S ("aaab"));
  check_all_cuts (&keys, S ("aaaaa*a**\x13"));
}

/* No sequence: everything goes at once, nothing is ever held. */
static void
test_inactive (void)
{
  MgwKeyMatcher m;
  MgwReturnKeys none = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize consumed;

  mgw_key_matcher_init (&m, NULL);
  g_assert_false (mgw_key_matcher_is_active (&m));
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("***\x13"), out, &consumed), ==, -1);
  g_assert_cmpuint (consumed, ==, 4);
  g_assert_cmpuint (mgw_key_matcher_get_held (&m), ==, 0);
  mgw_key_matcher_init (&m, &none);
  g_assert_cmpint (mgw_key_matcher_feed (&m, S ("\x46"), out, &consumed), ==, -1);
  g_assert_cmpmem (out->data, out->len, "***\x13\x46", 5);
}

/* Random sequences and streams over a few bytes (SEP among them, so keys
 * and their codes are everywhere), every cut in up to three reads,
 * against the naive search. A fixed seed: the same cases every run. */
static void
test_random (void)
{
  static const guint8 alphabet[] = { '*', 'a', MGW_MINITEL_SEP, 0x46, 0x49 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);

  for (guint round = 0; round < 400; round++)
    {
      MgwReturnKeys keys = { 0 };
      guint8 stream[12];
      gsize len = g_rand_int_range (rand, 0, sizeof stream + 1);
      guint n = g_rand_int_range (rand, 1, 4);

      while (keys.n < n)
        {
          guint8 seq[5];
          gsize l = g_rand_int_range (rand, 1, sizeof seq + 1);

          for (gsize i = 0; i < l; i++)
            seq[i] = alphabet[g_rand_int_range (rand, 0, G_N_ELEMENTS (alphabet))];
          mgw_return_keys_add_bytes (&keys, seq, l, NULL);   /* a lone SEP at the end: skipped */
        }
      for (gsize i = 0; i < len; i++)
        stream[i] = alphabet[g_rand_int_range (rand, 0, G_N_ELEMENTS (alphabet))];
      /* Often the stream holds one of them. */
      if (len > 5 && g_rand_boolean (rand))
        {
          guint s = g_rand_int_range (rand, 0, keys.n);
          gsize at = g_rand_int_range (rand, 0, len - keys.len[s] + 1);
          memcpy (stream + at, keys.bytes[s], keys.len[s]);
        }
      check_all_cuts (&keys, stream, len);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/return-keys/parse", test_parse);
  g_test_add_func ("/return-keys/list", test_list);
  g_test_add_func ("/return-keys/bad", test_bad);
  g_test_add_func ("/return-keys/describe", test_describe);
  g_test_add_func ("/return-keys/add-bytes", test_add_bytes);
  g_test_add_func ("/return-keys/match", test_match);
  g_test_add_func ("/return-keys/not-the-sequence", test_not_the_sequence);
  g_test_add_func ("/return-keys/longest", test_longest);
  g_test_add_func ("/return-keys/inactive", test_inactive);
  g_test_add_func ("/return-keys/random", test_random);
  return g_test_run ();
}
