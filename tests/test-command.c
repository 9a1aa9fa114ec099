/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-command.c: the Teletel command channel's wire format
 * (docs/protocol.md, Command channel) --
 * the CONNECT parser and the gateway -> Teletel formatters -- and the two
 * Minitel byte scanners the redirection relies on (ENQROM, Connexion/Fin:
 * docs/protocol.md, ENQROM identification; Redirection and the return). */
#include "config.h"

#include "mgw-command.h"
#include "mgw-error.h"
#include "mgw-minitel.h"

#include <string.h>

static MgwCommand *
parse (const char  *line,
       GError     **error)
{
  return mgw_command_parse (line, strlen (line), error);
}

/* Parses a line that must be refused; returns the error for the caller to
 * look at. */
static GError *
parse_bad_len (const char *line,
               gsize       len)
{
  GError *error = NULL;
  g_autoptr(MgwCommand) cmd = mgw_command_parse (line, len, &error);

  if (cmd != NULL)
    g_error ("'%.*s' was accepted", (int) MIN (len, 200), line);
  g_assert_nonnull (error);
  g_assert_true (error->domain == MGW_ERROR);
  g_assert_nonnull (error->message);
  g_assert_cmpstr (error->message, !=, "");
  return error;
}

static GError *
parse_bad (const char *line)
{
  return parse_bad_len (line, strlen (line));
}

/* Parser: accepted lines */

static void
test_parse_basic (void)
{
  const char *line = "PID=12,345,CONNECT,ws://host:8080/path,None,[]";
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwCommand) cmd = parse (line, &error);

  g_assert_no_error (error);
  g_assert_nonnull (cmd);
  g_assert_cmpuint (cmd->id, ==, 12);
  g_assert_cmpstr (cmd->server_session, ==, "345");
  g_assert_cmpstr (cmd->command, ==, "CONNECT");
  g_assert_cmpstr (cmd->uri, ==, "ws://host:8080/path");
  g_assert_false (cmd->has_ping);
  g_assert_cmpuint (cmd->ping, ==, 0);
  g_assert_nonnull (cmd->subprotocols);
  g_assert_cmpstrv (cmd->subprotocols, ((const char *[]) { NULL }));
  g_assert_cmpstr (cmd->raw, ==, line);
}

static void
test_parse_ping (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwCommand) cmd = parse ("PID=1,2,CONNECT,wss://h/,10,[]", &error);

  g_assert_no_error (error);
  g_assert_true (cmd->has_ping);
  g_assert_cmpuint (cmd->ping, ==, 10);

  /* `None` is matched without regard to case, as the config parser does. */
  g_clear_pointer (&cmd, mgw_command_free);
  cmd = parse ("PID=1,2,CONNECT,wss://h/,none,[]", &error);
  g_assert_no_error (error);
  g_assert_false (cmd->has_ping);

  /* Spaces around the ping are tolerated. */
  g_clear_pointer (&cmd, mgw_command_free);
  cmd = parse ("PID=1,2,CONNECT,wss://h/, 30 ,[]", &error);
  g_assert_no_error (error);
  g_assert_true (cmd->has_ping);
  g_assert_cmpuint (cmd->ping, ==, 30);
}

/* The subprotocol list may itself hold commas: the split stops at five
 * fields so it stays whole. */
static void
test_parse_subprotocols (void)
{
  static const struct { const char *line; const char *out[3]; } cases[] = {
    { "PID=3,4,CONNECT,ws://h/,None,[\"binary\",\"tty\"]", { "binary", "tty", NULL } },
    { "PID=3,4,CONNECT,ws://h/,None,['tty']", { "tty", NULL } },
    { "PID=3,4,CONNECT,ws://h/,None,[ 'binary', 'tty' ]", { "binary", "tty", NULL } },
    { "PID=3,4,CONNECT,ws://h/,None,[]", { NULL } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MgwCommand) cmd = parse (cases[i].line, &error);

      g_assert_no_error (error);
      g_assert_nonnull (cmd);
      g_assert_cmpstr (cmd->uri, ==, "ws://h/");
      g_assert_false (cmd->has_ping);
      g_assert_cmpstrv (cmd->subprotocols, cases[i].out);
      g_assert_cmpstr (cmd->raw, ==, cases[i].line);
    }
}

/* A trailing line end is not part of the command, nor of `raw` (which
 * UserGotCommand echoes back). */
static void
test_parse_line_end (void)
{
  static const char *lines[] = {
    "PID=7,8,CONNECT,ws://h/,10,['tty']\r\n",
    "PID=7,8,CONNECT,ws://h/,10,['tty']\n",
    "PID=7,8,CONNECT,ws://h/,10,['tty']\r",
    "PID=7,8,CONNECT,ws://h/,10,['tty']\r\n\r\n",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MgwCommand) cmd = parse (lines[i], &error);

      g_assert_no_error (error);
      g_assert_cmpuint (cmd->id, ==, 7);
      g_assert_cmpuint (cmd->ping, ==, 10);
      g_assert_cmpstrv (cmd->subprotocols, ((const char *[]) { "tty", NULL }));
      g_assert_cmpstr (cmd->raw, ==, "PID=7,8,CONNECT,ws://h/,10,['tty']");
    }
}

/* The parser reads exactly `len` bytes: a frame is not NUL-terminated. */
static void
test_parse_binary_safe (void)
{
  static const char frame[] = "PID=5,9,CONNECT,ws://x/,None,[]GARBAGE,,,\xff";
  gsize len = strlen ("PID=5,9,CONNECT,ws://x/,None,[]");
  g_autofree char *copy = g_memdup2 (frame, len);   /* no NUL after it */
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwCommand) cmd = NULL;

  cmd = mgw_command_parse (frame, len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cmd->uri, ==, "ws://x/");
  g_assert_cmpstrv (cmd->subprotocols, ((const char *[]) { NULL }));
  g_assert_cmpstr (cmd->raw, ==, "PID=5,9,CONNECT,ws://x/,None,[]");

  /* Run under ASan, this catches a read past the end of the buffer. */
  g_clear_pointer (&cmd, mgw_command_free);
  cmd = mgw_command_parse (copy, len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cmd->id, ==, 5);
  g_assert_cmpstr (cmd->server_session, ==, "9");
}

static void
test_parse_id_bounds (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwCommand) cmd = NULL;

  cmd = parse ("PID=0,0,CONNECT,ws://h/,None,[]", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cmd->id, ==, 0);

  g_clear_pointer (&cmd, mgw_command_free);
  cmd = parse ("PID=4294967295,1,CONNECT,ws://h/,None,[]", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cmd->id, ==, G_MAXUINT);
}

/* The longest line accepted is MGW_COMMAND_MAX_LINE bytes. */
static void
test_parse_max_line (void)
{
  const char *head = "PID=1,2,CONNECT,ws://h/";
  const char *tail = ",None,[]";
  g_autoptr(GString) line = g_string_new (head);
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwCommand) cmd = NULL;

  while (line->len < MGW_COMMAND_MAX_LINE - strlen (tail))
    g_string_append_c (line, 'a');
  g_string_append (line, tail);
  g_assert_cmpuint (line->len, ==, MGW_COMMAND_MAX_LINE);

  cmd = mgw_command_parse (line->str, line->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (cmd->uri), ==,
                    MGW_COMMAND_MAX_LINE - strlen ("PID=1,2,CONNECT,") - strlen (tail));

  /* The bound counts the line end too: the same line followed by "\n"
   * is refused (documents the current behaviour). */
  g_clear_pointer (&cmd, mgw_command_free);
  g_string_append_c (line, '\n');
  g_clear_error (&error);
  error = parse_bad_len (line->str, line->len);
  g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
}

/* Parser: refused lines */

static void
test_parse_malformed (void)
{
  static const struct { const char *line; const char *needle; } cases[] = {
    { "", "PID=" },
    { "\r\n", "PID=" },
    { "CONNECT,ws://h/,None,[]", "PID=" },
    { "pid=1,2,CONNECT,ws://h/,None,[]", "PID=" },
    { " PID=1,2,CONNECT,ws://h/,None,[]", "PID=" },
    { "PID=", "nothing after" },
    { "PID=12", "nothing after" },
    { "PID=,2,CONNECT,ws://h/,None,[]", "''" },
    { "PID=x,2,CONNECT,ws://h/,None,[]", "'x'" },
    { "PID=12x,2,CONNECT,ws://h/,None,[]", "'12x'" },
    { "PID= 12,2,CONNECT,ws://h/,None,[]", "' 12'" },
    { "PID=0x10,2,CONNECT,ws://h/,None,[]", "'0x10'" },
    { "PID=-1,2,CONNECT,ws://h/,None,[]", "'-1'" },
    { "PID=+1,2,CONNECT,ws://h/,None,[]", "'+1'" },
    { "PID=4294967296,2,CONNECT,ws://h/,None,[]", "'4294967296'" },
    { "PID=99999999999999999999999,2,CONNECT,ws://h/,None,[]", "'99999999999999999999999'" },
    { "PID=1,", "no command name" },
    { "PID=1,2", "no command name" },
    { "PID=1,2,CONNECT", "the URI" },
    { "PID=1,2,CONNECT,ws://h/", "the ping interval" },
    { "PID=1,2,CONNECT,ws://h/,None", "the subprotocols" },
    { "PID=1,2,CONNECT,,None,[]", "empty URI" },
    { "PID=1,2,CONNECT, ,None,[]", "empty URI" },
    { "PID=1,2,CONNECT,ws://h/,ten,[]", "ping" },
    { "PID=1,2,CONNECT,ws://h/,-1,[]", "ping" },
    { "PID=1,2,CONNECT,ws://h/,,[]", "ping" },
    { "PID=1,2,CONNECT,ws://h/,1.5,[]", "ping" },
    { "PID=1,2,CONNECT,ws://h/,86401,[]", "ping" },
    { "PID=1,2,CONNECT,ws://h/,None,[\"a b\"]", "not a valid subprotocol" },
    { "PID=1,2,CONNECT,ws://h/,None,[\"unterminated\"", "does not end with ']'" },
    { "PID=1,2,CONNECT,ws://h/,None,[\"a\",]", "not a valid subprotocol" },
    { "PID=1,2,CONNECT,ws://h/,None,[\"\"]", "not a valid subprotocol" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = parse_bad (cases[i].line);

      g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("case %" G_GSIZE_FORMAT " '%s': '%s' does not name '%s'", i,
                 cases[i].line, error->message, cases[i].needle);
    }
}

/* Only CONNECT exists; anything else is refused and named. */
static void
test_parse_unknown_command (void)
{
  static const struct { const char *line; const char *needle; } cases[] = {
    { "PID=1,2,DISCONNECT,ws://h/,None,[]", "'DISCONNECT'" },
    { "PID=1,2,DISCONNECT", "'DISCONNECT'" },
    { "PID=1,2,connect,ws://h/,None,[]", "'connect'" },
    { "PID=1,2,,ws://h/,None,[]", "''" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = parse_bad (cases[i].line);

      /* Note: reported as MGW_ERROR_FAILED, where every other malformed
       * line gives MGW_ERROR_BAD_INPUT; only the domain is checked here. */
      if (strstr (error->message, cases[i].needle) == NULL ||
          strstr (error->message, "unknown command") == NULL)
        g_error ("case %" G_GSIZE_FORMAT " '%s': '%s' does not name '%s'", i,
                 cases[i].line, error->message, cases[i].needle);
    }
}

static void
test_parse_nul (void)
{
  static const char line[] = "PID=1,2,CONNECT,ws://h/\0evil,None,[]";
  static const char at_end[] = "PID=1,2,CONNECT,ws://h/,None,[]\0";
  static const char at_start[] = "\0PID=1,2,CONNECT,ws://h/,None,[]";
  g_autoptr(GError) e1 = parse_bad_len (line, sizeof line - 1);
  g_autoptr(GError) e2 = parse_bad_len (at_end, sizeof at_end - 1);
  g_autoptr(GError) e3 = parse_bad_len (at_start, sizeof at_start - 1);

  g_assert_error (e1, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  g_assert_nonnull (strstr (e1->message, "NUL"));
  g_assert_error (e2, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  g_assert_error (e3, MGW_ERROR, MGW_ERROR_BAD_INPUT);
}

static void
test_parse_too_long (void)
{
  g_autoptr(GString) line = g_string_new ("PID=1,2,CONNECT,ws://h/");
  g_autoptr(GString) huge = NULL;
  g_autoptr(GError) error = NULL;

  while (line->len < MGW_COMMAND_MAX_LINE + 1 - strlen (",None,[]"))
    g_string_append_c (line, 'a');
  g_string_append (line, ",None,[]");
  g_assert_cmpuint (line->len, ==, MGW_COMMAND_MAX_LINE + 1);
  error = parse_bad_len (line->str, line->len);
  g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  g_assert_nonnull (strstr (error->message, "longer than"));

  /* A megabyte: refused up front, and without scanning it all. */
  g_clear_error (&error);
  huge = g_string_new (line->str);
  while (huge->len < 1024 * 1024)
    g_string_append (huge, ",x");
  error = parse_bad_len (huge->str, huge->len);
  g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
}

/* Thousands of comma-separated fields, within the length bound. The split
 * stops at five fields, so what this yields depends on where the commas
 * are: documented by the assertions below. None of them may crash. */
static void
test_parse_many_fields (void)
{
  g_autoptr(GString) line = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwCommand) cmd = NULL;
  guint n = 0;

  /* Commas inside the subprotocol list: a CONNECT carrying ~2000 of them. */
  line = g_string_new ("PID=1,2,CONNECT,ws://h/,None,[p");
  while (line->len < MGW_COMMAND_MAX_LINE - 3)
    {
      g_string_append (line, ",p");
      n++;
    }
  g_string_append_c (line, ']');
  g_assert_cmpuint (n, >, 1000);
  cmd = mgw_command_parse (line->str, line->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cmd);
  g_assert_cmpuint (g_strv_length (cmd->subprotocols), ==, n + 1);
  g_assert_cmpstr (cmd->subprotocols[n], ==, "p");
  g_clear_pointer (&cmd, mgw_command_free);
  g_string_free (g_steal_pointer (&line), TRUE);

  /* Nothing but commas: an empty command name, refused as unknown. */
  line = g_string_new ("PID=1");
  while (line->len < MGW_COMMAND_MAX_LINE)
    g_string_append_c (line, ',');
  g_clear_error (&error);
  error = parse_bad_len (line->str, line->len);
  g_assert_nonnull (strstr (error->message, "unknown command ''"));
  g_string_free (g_steal_pointer (&line), TRUE);

  /* Commas right after the ping: the fifth field is ",,,,...", a list of
   * empty names, refused. */
  line = g_string_new ("PID=1,2,CONNECT,ws://h/,None");
  while (line->len < MGW_COMMAND_MAX_LINE)
    g_string_append_c (line, ',');
  g_clear_error (&error);
  error = parse_bad_len (line->str, line->len);
  g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  g_string_free (g_steal_pointer (&line), TRUE);

  /* One-letter fields after CONNECT: the URI is "x", the ping "x" is
   * refused. */
  line = g_string_new ("PID=1,2,CONNECT");
  while (line->len < MGW_COMMAND_MAX_LINE - 2)
    g_string_append (line, ",x");
  g_clear_error (&error);
  error = parse_bad_len (line->str, line->len);
  g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  g_assert_nonnull (strstr (error->message, "ping"));
}

/* Formatters: exact bytes (compat with the original) */

static void
test_format_new_user (void)
{
  g_autofree char *telnet = mgw_command_new_user (TRUE, "192.0.2.7", 1234, 5);
  g_autofree char *ws = mgw_command_new_user (FALSE, "192.0.2.7", 1234, 5);
  g_autofree char *v6 = mgw_command_new_user (FALSE, "2001:db8::1", 65535, G_MAXUINT);

  g_assert_cmpstr (telnet, ==, "NewTelnetUser,192.0.2.7,1234,5");
  g_assert_cmpstr (ws, ==, "NewWsUser,192.0.2.7,1234,5");
  g_assert_cmpstr (v6, ==, "NewWsUser,2001:db8::1,65535,4294967295");
}

static void
test_format_user_event (void)
{
  static const char *events[] = {
    "UserRedirecting", "UserRedirected", "UserRequestedClose", "UserRedirectEnded",
  };
  g_autofree char *got = mgw_command_user_event ("UserGotCommand", 5,
                                                 "PID=5,9,CONNECT,ws://x/,None,[]");
  g_autofree char *gone = mgw_command_user_gone (5);
  g_autofree char *gone0 = mgw_command_user_gone (0);

  g_assert_cmpstr (got, ==, "UserGotCommand,,,5,PID=5,9,CONNECT,ws://x/,None,[]");
  for (gsize i = 0; i < G_N_ELEMENTS (events); i++)
    {
      g_autofree char *message = mgw_command_user_event (events[i], 5, "345");
      g_autofree char *expected = g_strconcat (events[i], ",,,5,345", NULL);

      g_assert_cmpstr (message, ==, expected);
    }
  g_assert_cmpstr (gone, ==, "UserGone,,,5");
  g_assert_cmpstr (gone0, ==, "UserGone,,,0");
}

/* UserGotCommand echoes the command as parsed (raw), byte for byte. */
static void
test_format_got_command_roundtrip (void)
{
  const char *line = "PID=5,9,CONNECT,ws://x/,10,[\"binary\", 'tty']\r\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwCommand) cmd = parse (line, &error);
  g_autofree char *message = NULL;

  g_assert_no_error (error);
  message = mgw_command_user_event ("UserGotCommand", cmd->id, cmd->raw);
  g_assert_cmpstr (message, ==, "UserGotCommand,,,5,PID=5,9,CONNECT,ws://x/,10,[\"binary\", 'tty']");
}

static void
test_format_identification (void)
{
  g_autofree char *telnet = mgw_command_identification (5, "192.0.2.7", 1234, TRUE);
  g_autofree char *ws = mgw_command_identification (5, "192.0.2.7", 1234, FALSE);
  g_autofree char *v6 = mgw_command_identification (42, "::1", 40000, TRUE);
  g_autofree char *mapped = mgw_command_identification (7, "::ffff:192.0.2.7", 1, FALSE);

  g_assert_cmpstr (telnet, ==, "PID=5,IP=192.0.2.7,PORT=1234,Access=Telnet\n");
  g_assert_cmpstr (ws, ==, "PID=5,IP=192.0.2.7,PORT=1234,Access=WS\n");
  g_assert_cmpstr (v6, ==, "PID=42,IP=::1,PORT=40000,Access=Telnet\n");
  g_assert_cmpstr (mapped, ==, "PID=7,IP=::ffff:192.0.2.7,PORT=1,Access=WS\n");
}

/* ENQROM scanner */

static const guint8 enqrom[] = { 0x1b, 0x39, 0x7b };

static gboolean
scan (guint        *state,
      const guint8 *data,
      gsize         len)
{
  return mgw_minitel_scan_enqrom (state, data, len);
}

static void
test_enqrom_whole (void)
{
  static const guint8 start[] = { 0x1b, 0x39, 0x7b, 'a', 'b' };
  static const guint8 middle[] = { 'a', 0x0c, 0x1b, 0x39, 0x7b, 'b' };
  static const guint8 end[] = { 'a', 'b', 0x1b, 0x39, 0x7b };
  guint state = 0;

  g_assert_true (scan (&state, enqrom, sizeof enqrom));
  g_assert_cmpuint (state, ==, 0);
  g_assert_true (scan (&state, start, sizeof start));
  g_assert_cmpuint (state, ==, 0);
  g_assert_true (scan (&state, middle, sizeof middle));
  g_assert_cmpuint (state, ==, 0);
  g_assert_true (scan (&state, end, sizeof end));
  g_assert_cmpuint (state, ==, 0);
  g_assert_false (scan (&state, enqrom, 0));
  g_assert_cmpuint (state, ==, 0);
}

/* Cut the stream `x 1B 39 7B y` at every pair of places: the chunk holding
 * the 7B, and only it, reports the ENQROM. */
static void
test_enqrom_split (void)
{
  static const guint8 stream[] = { 'x', 0x1b, 0x39, 0x7b, 'y' };
  const gsize last = 3;   /* offset of the 7B */

  /* Two chunks. */
  for (gsize a = 0; a <= sizeof stream; a++)
    {
      guint state = 0;
      gboolean first = scan (&state, stream, a);
      gboolean second = scan (&state, stream + a, sizeof stream - a);

      g_assert_cmpint (first, ==, last < a);
      g_assert_cmpint (second, ==, last >= a);
      g_assert_cmpuint (state, ==, 0);
    }

  /* Three chunks. */
  for (gsize a = 0; a <= sizeof stream; a++)
    for (gsize b = a; b <= sizeof stream; b++)
      {
        guint state = 0;
        gboolean c1 = scan (&state, stream, a);
        gboolean c2 = scan (&state, stream + a, b - a);
        gboolean c3 = scan (&state, stream + b, sizeof stream - b);

        g_assert_cmpint (c1, ==, last < a);
        g_assert_cmpint (c2, ==, a <= last && last < b);
        g_assert_cmpint (c3, ==, b <= last);
        g_assert_cmpuint (state, ==, 0);
      }
}

static void
test_enqrom_bytewise (void)
{
  static const guint8 stream[] = { 0x1b, 0x1b, 0x39, 0x1b, 0x39, 0x7b, 0x39, 0x7b,
                                   0x1b, 0x39, 0x7b };
  guint state = 0;
  guint found = 0;

  for (gsize i = 0; i < sizeof stream; i++)
    {
      gboolean hit = scan (&state, stream + i, 1);

      /* Only offsets 5 and 10 end an ENQROM. */
      g_assert_cmpint (hit, ==, i == 5 || i == 10);
      found += hit;
    }
  g_assert_cmpuint (found, ==, 2);
  g_assert_cmpuint (state, ==, 0);
}

static void
test_enqrom_near_misses (void)
{
  static const struct { guint8 bytes[6]; gsize len; gboolean found; } cases[] = {
    { { 0x1b, 0x39, 0x7a }, 3, FALSE },
    { { 0x1b, 0x3a, 0x7b }, 3, FALSE },
    { { 0x1a, 0x39, 0x7b }, 3, FALSE },
    { { 0x39, 0x7b }, 2, FALSE },
    { { 0x1b, 0x7b }, 2, FALSE },
    { { 0x7b, 0x39, 0x1b }, 3, FALSE },
    { { 0x1b, 0x39 }, 2, FALSE },
    { { 0x1b, 0x00, 0x39, 0x7b }, 4, FALSE },
    { { 0x1b, 0x39, 0x39, 0x7b }, 4, FALSE },
    { { 0x9b, 0x39, 0x7b }, 3, FALSE },       /* ESC with the parity bit */
    { { 0x1b, 0x1b, 0x39, 0x7b }, 4, TRUE },
    { { 0x1b, 0x39, 0x1b, 0x39, 0x7b }, 5, TRUE },
    { { 0x1b, 0x1b, 0x1b, 0x39, 0x7b }, 5, TRUE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint state = 0;

      if (scan (&state, cases[i].bytes, cases[i].len) != cases[i].found)
        g_error ("case %" G_GSIZE_FORMAT ": expected %s", i,
                 cases[i].found ? "found" : "not found");
    }
}

static void
test_enqrom_state (void)
{
  static const guint8 two[] = { 0x1b, 0x39, 0x7b, 'a', 0x1b, 0x39, 0x7b };
  static const guint8 prefix[] = { 'a', 0x1b, 0x39 };
  static const guint8 rest[] = { 0x39, 0x7b };
  static const guint8 tail[] = { 0x7b };
  guint state = 0;

  /* Two in one chunk: TRUE (the caller only needs the first). */
  g_assert_true (scan (&state, two, sizeof two));
  g_assert_cmpuint (state, ==, 0);

  /* After a match the state starts over: "39 7B" alone is no ENQROM. */
  g_assert_true (scan (&state, enqrom, sizeof enqrom));
  g_assert_false (scan (&state, rest, sizeof rest));
  g_assert_cmpuint (state, ==, 0);

  /* A partial match carries over... */
  g_assert_false (scan (&state, prefix, sizeof prefix));
  g_assert_cmpuint (state, ==, 2);
  g_assert_true (scan (&state, tail, sizeof tail));
  g_assert_cmpuint (state, ==, 0);

  /* ...and is dropped by a byte that breaks it. */
  g_assert_false (scan (&state, prefix, sizeof prefix));
  g_assert_false (scan (&state, (const guint8 *) "z", 1));
  g_assert_cmpuint (state, ==, 0);
  g_assert_false (scan (&state, tail, sizeof tail));

  /* An empty chunk leaves the state alone. */
  g_assert_false (scan (&state, prefix, sizeof prefix));
  g_assert_false (scan (&state, prefix, 0));
  g_assert_cmpuint (state, ==, 2);
  g_assert_true (scan (&state, tail, sizeof tail));
}

/* Connexion/Fin finder */

static void
test_connexion_fin (void)
{
  static const struct { guint8 bytes[6]; gsize len; gssize offset; } cases[] = {
    { { 0x13, 0x49 }, 2, 0 },
    { { 0x13, 0x59 }, 2, 0 },
    { { 'a', 'b', 0x13, 0x49 }, 4, 2 },
    { { 'a', 0x13, 0x59, 'b' }, 4, 1 },
    { { 0x13, 0x13, 0x49 }, 3, 1 },
    { { 0x13, 0x41, 0x13, 0x49 }, 4, 2 },           /* Envoi, then Fin */
    { { 0x13, 0x49, 0x13, 0x59 }, 4, 0 },           /* the first one */
    { { 0x13, 0x41 }, 2, -1 },                      /* Envoi */
    { { 0x13, 0x46 }, 2, -1 },                      /* Sommaire */
    { { 0x49, 0x13 }, 2, -1 },
    { { 0x49, 0x59 }, 2, -1 },
    { { 0x13, 0x00, 0x49 }, 3, -1 },
    { { 0x93, 0x49 }, 2, -1 },
    { { 'a', 'b', 0x13 }, 3, -1 },                  /* lone SEP at the end */
    { { 0x13 }, 1, -1 },
    { { 0x13, 0x49 }, 1, -1 },                      /* the key lies past len */
    { { 0 }, 0, -1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gssize offset = mgw_minitel_find_connexion_fin (cases[i].bytes, cases[i].len);

      if (offset != cases[i].offset)
        g_error ("case %" G_GSIZE_FORMAT ": offset %" G_GSSIZE_FORMAT
                 ", expected %" G_GSSIZE_FORMAT, i, offset, cases[i].offset);
    }
  g_assert_cmpint (mgw_minitel_find_connexion_fin (NULL, 0), ==, -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/command/parse/basic", test_parse_basic);
  g_test_add_func ("/command/parse/ping", test_parse_ping);
  g_test_add_func ("/command/parse/subprotocols", test_parse_subprotocols);
  g_test_add_func ("/command/parse/line-end", test_parse_line_end);
  g_test_add_func ("/command/parse/binary-safe", test_parse_binary_safe);
  g_test_add_func ("/command/parse/id-bounds", test_parse_id_bounds);
  g_test_add_func ("/command/parse/max-line", test_parse_max_line);
  g_test_add_func ("/command/parse/malformed", test_parse_malformed);
  g_test_add_func ("/command/parse/unknown-command", test_parse_unknown_command);
  g_test_add_func ("/command/parse/nul", test_parse_nul);
  g_test_add_func ("/command/parse/too-long", test_parse_too_long);
  g_test_add_func ("/command/parse/many-fields", test_parse_many_fields);
  g_test_add_func ("/command/format/new-user", test_format_new_user);
  g_test_add_func ("/command/format/user-event", test_format_user_event);
  g_test_add_func ("/command/format/got-command-roundtrip", test_format_got_command_roundtrip);
  g_test_add_func ("/command/format/identification", test_format_identification);
  g_test_add_func ("/command/enqrom/whole", test_enqrom_whole);
  g_test_add_func ("/command/enqrom/split", test_enqrom_split);
  g_test_add_func ("/command/enqrom/bytewise", test_enqrom_bytewise);
  g_test_add_func ("/command/enqrom/near-misses", test_enqrom_near_misses);
  g_test_add_func ("/command/enqrom/state", test_enqrom_state);
  g_test_add_func ("/command/connexion-fin", test_connexion_fin);
  return g_test_run ();
}
