/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-recording.c: the recording format (mgw-recording.c): every byte
 * survives a round trip, masked chunks keep only their length, marks and
 * headers parse back, bad lines are refused with a reason, ids are never
 * paths, and replay pacing follows speed, baud and the idle limit. */
#include "config.h"

#include "mgw-error.h"
#include "mgw-recording.h"

#include <string.h>

static void
parse_one (const GString     *out,
           gsize              from,
           MgwRecordingEvent *event)
{
  const char *line = out->str + from;
  const char *nl = strchr (line, '\n');
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (nl);
  g_assert_cmpuint ((gsize) (nl - out->str) + 1, ==, out->len);
  g_assert_true (mgw_recording_parse_event (line, (gsize) (nl - line), event, &error));
  g_assert_no_error (error);
}

static void
test_every_byte (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  guint8 all[256];
  MgwRecordingEvent event;

  for (guint i = 0; i < 256; i++)
    all[i] = (guint8) i;
  mgw_recording_append_chunk (out, 12345678, MGW_RECORDING_TARGET, 3, all, sizeof all);
  /* One line: no raw control byte, UTF-8 throughout. */
  g_assert_null (memchr (out->str, '\r', out->len));
  g_assert_true (g_utf8_validate (out->str, (gssize) out->len, NULL));
  g_assert_true (g_str_has_prefix (out->str, "[12.345678,\"t\",\""));
  g_assert_true (g_str_has_suffix (out->str, "\",3]\n"));

  parse_one (out, 0, &event);
  g_assert_cmpint (event.time, ==, 12345678);
  g_assert_cmpint (event.kind, ==, MGW_RECORDING_TARGET);
  g_assert_cmpuint (event.redirection, ==, 3);
  g_assert_cmpmem (event.data->data, event.data->len, all, sizeof all);
  g_assert_true (mgw_recording_kind_is_screen (event.kind));
  mgw_recording_event_clear (&event);
}

static void
test_kinds (void)
{
  static const struct { MgwRecordingKind kind; const char *letter; gboolean screen; } kinds[] = {
    { MGW_RECORDING_USER, "u", FALSE },
    { MGW_RECORDING_SERVER, "s", TRUE },
    { MGW_RECORDING_TARGET, "t", TRUE },
    { MGW_RECORDING_GATEWAY, "g", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      g_autofree char *expect = g_strdup_printf ("[0.000001,\"%s\",\"A\\\"\\\\\"]\n", kinds[i].letter);
      MgwRecordingEvent event;

      mgw_recording_append_chunk (out, 1, kinds[i].kind, 0, (const guint8 *) "A\"\\", 3);
      g_assert_cmpstr (out->str, ==, expect);
      parse_one (out, 0, &event);
      g_assert_cmpint (event.kind, ==, kinds[i].kind);
      g_assert_cmpuint (event.redirection, ==, 0);
      g_assert_cmpmem (event.data->data, event.data->len, "A\"\\", 3);
      g_assert_cmpint (mgw_recording_kind_is_screen (event.kind), ==, kinds[i].screen);
      mgw_recording_event_clear (&event);
    }
}

static void
test_masked (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  MgwRecordingEvent event;

  mgw_recording_append_masked (out, 2500000, 1, 7);
  g_assert_cmpstr (out->str, ==, "[2.500000,\"u\",7,1]\n");
  parse_one (out, 0, &event);
  g_assert_cmpint (event.kind, ==, MGW_RECORDING_USER);
  g_assert_null (event.data);
  g_assert_cmpuint (event.masked, ==, 7);
  g_assert_cmpuint (event.redirection, ==, 1);
  mgw_recording_event_clear (&event);
}

static void
test_mark (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  MgwRecordingEvent event;

  mgw_recording_append_mark (out, 3000000, "redirect",
                             "target", "ws://example.org:8080/\"x\"",
                             "#redirection", (guint64) 2, NULL);
  g_assert_cmpstr (out->str, ==,
                   "[3.000000,\"m\",{\"event\":\"redirect\",\"target\":"
                   "\"ws://example.org:8080/\\\"x\\\"\",\"redirection\":2}]\n");
  parse_one (out, 0, &event);
  g_assert_cmpint (event.kind, ==, MGW_RECORDING_MARK);
  g_assert_cmpstr (event.event, ==, "redirect");
  g_assert_nonnull (strstr (event.detail, "\"redirection\":2"));
  g_assert_false (mgw_recording_kind_is_screen (event.kind));
  mgw_recording_event_clear (&event);
}

static void
test_header (void)
{
  MgwRecordingHeader header = {
    .id = (char *) "20261203-164225-12",
    .session = 12,
    .peer = (char *) "2001:db8::1",
    .port = 40112,
    .access = (char *) "WS",
    .start = G_GINT64_CONSTANT (1796316145123456),
    .offset = 1500000,
    .gateway = (char *) "moipgw 1.0 \"été\"",
    .input = MGW_RECORDING_INPUT_DROP,
    .max_size = 1048576,
  };
  MgwRecordingHeader back;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  mgw_recording_append_header (out, &header);
  g_assert_true (g_str_has_suffix (out->str, "}\n"));
  g_assert_true (mgw_recording_parse_header (out->str, out->len - 1, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (back.id, ==, header.id);
  g_assert_cmpuint (back.session, ==, 12);
  g_assert_cmpstr (back.peer, ==, header.peer);
  g_assert_cmpuint (back.port, ==, 40112);
  g_assert_cmpstr (back.access, ==, "WS");
  g_assert_cmpint (back.start, ==, header.start);
  g_assert_cmpint (back.offset, ==, 1500000);
  g_assert_cmpstr (back.gateway, ==, header.gateway);
  g_assert_cmpint (back.input, ==, MGW_RECORDING_INPUT_DROP);
  g_assert_cmpuint (back.max_size, ==, 1048576);
  mgw_recording_header_clear (&back);
  g_assert_null (back.id);
}

static void
test_bad_lines (void)
{
  static const char *const events[] = {
    "",
    "not json",
    "{\"a\":1}",
    "[]",
    "[1,\"s\"]",
    "[1,\"s\",\"a\",1,2]",
    "[-1,\"s\",\"a\"]",
    "[\"1\",\"s\",\"a\"]",
    "[1,\"x\",\"a\"]",
    "[1,\"ss\",\"a\"]",
    "[1,\"s\",\"\\u0100\"]",
    "[1,\"s\",7]",
    "[1,\"s\",\"a\",-1]",
    "[1,\"s\",\"a\",\"1\"]",
    "[1,\"m\",\"a\"]",
    "[1,\"m\",{\"no\":\"event\"}]",
    "[1,\"m\",{\"event\":\"x\"},1]",
    "[1,\"u\",-3]",
    "[1e300,\"s\",\"a\"]",
  };
  static const char *const headers[] = {
    "[1,\"s\",\"a\"]",
    "{\"moipgw-recording\":2,\"id\":\"1\"}",
    "{\"moipgw-recording\":1}",
    "{\"moipgw-recording\":1,\"id\":\"../etc\",\"session\":1,\"peer\":\"\",\"port\":1,"
    "\"access\":\"WS\",\"start\":0,\"offset\":0,\"gateway\":\"\",\"input\":\"mask\",\"max-size\":0}",
    "{\"moipgw-recording\":1,\"id\":\"1\",\"session\":1,\"peer\":\"\",\"port\":70000,"
    "\"access\":\"WS\",\"start\":0,\"offset\":0,\"gateway\":\"\",\"input\":\"mask\",\"max-size\":0}",
    "{\"moipgw-recording\":1,\"id\":\"1\",\"session\":1,\"peer\":\"\",\"port\":1,"
    "\"access\":\"WS\",\"start\":0,\"offset\":0,\"gateway\":\"\",\"input\":\"show\",\"max-size\":0}",
  };
  char with_nul[] = "[1,\"s\",\"a\"]";

  for (guint i = 0; i < G_N_ELEMENTS (events); i++)
    {
      g_autoptr(GError) error = NULL;
      MgwRecordingEvent event;

      g_test_message ("event %s", events[i]);
      g_assert_false (mgw_recording_parse_event (events[i], strlen (events[i]), &event, &error));
      g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
      g_assert_null (event.data);
      g_assert_null (event.event);
    }
  for (guint i = 0; i < G_N_ELEMENTS (headers); i++)
    {
      g_autoptr(GError) error = NULL;
      MgwRecordingHeader header;

      g_test_message ("header %s", headers[i]);
      g_assert_false (mgw_recording_parse_header (headers[i], strlen (headers[i]), &header, &error));
      g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
      g_assert_null (header.id);
    }
  with_nul[8] = '\0';
  {
    g_autoptr(GError) error = NULL;
    MgwRecordingEvent event;

    g_assert_false (mgw_recording_parse_event (with_nul, sizeof with_nul - 1, &event, &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  }
}

static void
test_ids (void)
{
  /* 2026-12-03 16:42:25 UTC */
  gint64 start = G_GINT64_CONSTANT (1796316145) * G_USEC_PER_SEC + 999999;
  g_autofree char *id = mgw_recording_make_id (start, 12, 0);
  g_autofree char *again = mgw_recording_make_id (start, 12, 1);

  g_assert_cmpstr (id, ==, "20261203-164225-12");
  g_assert_cmpstr (again, ==, "20261203-164225-12-2");
  g_assert_true (mgw_recording_id_is_valid (id));
  g_assert_true (mgw_recording_id_is_valid (again));
  g_assert_false (mgw_recording_id_is_valid (NULL));
  g_assert_false (mgw_recording_id_is_valid (""));
  g_assert_false (mgw_recording_id_is_valid ("-1"));
  g_assert_false (mgw_recording_id_is_valid ("../x"));
  g_assert_false (mgw_recording_id_is_valid ("1/2"));
  g_assert_false (mgw_recording_id_is_valid ("12.mgwrec"));
  g_assert_false (mgw_recording_id_is_valid ("11111111111111111111111111111111111111111111111111111111111111111"));
}

static void
test_pace_speed (void)
{
  MgwReplayPace pace;

  mgw_replay_pace_init (&pace, 1, 0, 0);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 5000000, 10), ==, 0);   /* starts at once */
  g_assert_cmpint (mgw_replay_pace_next (&pace, 6000000, 10), ==, 1000000);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 6000000, 10), ==, 1000000);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 5000000, 10), ==, 1000000);   /* never back */
  g_assert_cmpint (mgw_replay_pace_next (&pace, 8000000, 10), ==, 4000000);
  g_assert_cmpuint (mgw_replay_pace_allowed (&pace, 0, 0, 10), ==, 10);

  mgw_replay_pace_init (&pace, 2, 0, 0);
  mgw_replay_pace_next (&pace, 0, 1);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 3000000, 1), ==, 1500000);

  mgw_replay_pace_init (&pace, 0, 0, 0);
  mgw_replay_pace_next (&pace, 0, 1);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 3000000, 1), ==, 0);

  /* An hour's pause cut to two seconds. */
  mgw_replay_pace_init (&pace, 1, 0, 2000000);
  mgw_replay_pace_next (&pace, 0, 1);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 3600000000, 1), ==, 2000000);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 3601000000, 1), ==, 3000000);
}

static void
test_pace_baud (void)
{
  MgwReplayPace pace;

  /* 1200 baud: 120 bytes a second. 240 bytes at once take 2 s; what
   * was recorded 1 s later waits for the line. */
  mgw_replay_pace_init (&pace, 1, 1200, 0);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 0, 240), ==, 0);
  g_assert_cmpuint (mgw_replay_pace_allowed (&pace, 0, 0, 240), ==, 1);
  g_assert_cmpuint (mgw_replay_pace_allowed (&pace, 0, 500000, 240), ==, 61);
  g_assert_cmpuint (mgw_replay_pace_allowed (&pace, 0, 2000000, 240), ==, 240);
  g_assert_cmpuint (mgw_replay_pace_allowed (&pace, 100, 0, 240), ==, 0);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 1000000, 12), ==, 2000000);
  /* Recorded 10 s later: the line is free again. */
  g_assert_cmpint (mgw_replay_pace_next (&pace, 11000000, 12), ==, 11000000);

  /* At once, but at the line's pace. */
  mgw_replay_pace_init (&pace, 0, 9600, 0);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 0, 960), ==, 0);
  g_assert_cmpint (mgw_replay_pace_next (&pace, 50000000, 960), ==, 1000000);
}

static void
test_input_names (void)
{
  MgwRecordingInput input;

  for (MgwRecordingInput i = MGW_RECORDING_INPUT_KEEP; i <= MGW_RECORDING_INPUT_DROP; i++)
    {
      g_assert_true (mgw_recording_input_from_string (mgw_recording_input_to_string (i), &input));
      g_assert_cmpint (input, ==, i);
    }
  g_assert_false (mgw_recording_input_from_string ("Mask", &input));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recording/every-byte", test_every_byte);
  g_test_add_func ("/recording/kinds", test_kinds);
  g_test_add_func ("/recording/masked", test_masked);
  g_test_add_func ("/recording/mark", test_mark);
  g_test_add_func ("/recording/header", test_header);
  g_test_add_func ("/recording/bad-lines", test_bad_lines);
  g_test_add_func ("/recording/ids", test_ids);
  g_test_add_func ("/recording/pace-speed", test_pace_speed);
  g_test_add_func ("/recording/pace-baud", test_pace_baud);
  g_test_add_func ("/recording/input-names", test_input_names);
  return g_test_run ();
}
