/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-console.c: the admin console driven with raw telnet bytes: the
 * negotiation and welcome, the content of every key's output, trace
 * lines for other clients' sessions, prompts (unban, disconnect, watch,
 * message, drain, record), two consoles watching one session, a recording
 * replayed,
 * Enter counted once however it is spelled, a console that does not read
 * losing trace lines without slowing anyone, and all of it in French;
 * the stock telnet client on a pty (character mode); local users who try
 * to pass for root (tests/lib/console-peers.py) refused. */
#include "config.h"

#include "mgw-console.h"
#include "mgw-demo.h"
#include "mgw-recording.h"
#include "mgw-teletel-process.h"
#include "mgw-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <pwd.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define S(lit) lit, sizeof lit - 1

#define TELNET "/usr/bin/telnet"

typedef struct
{
  MgwDemo    *demo;
  MgwConfig  *config;
  MgwGateway *gateway;
  MgwConsole *console;
  MgwTestTcp *tcp;     /* the console client */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->demo = mgw_demo_new ();
  g_assert_true (mgw_demo_start (f->demo, &error));
  f->config = mgw_test_config_new (mgw_demo_get_uri (f->demo));
  f->config->display_port = 0;
  f->config->raw_port = 0;
  f->gateway = mgw_test_gateway_new (f->config);
  f->console = mgw_console_new (f->gateway, NULL);
  g_assert_true (mgw_console_start (f->console, &error));
  g_assert_no_error (error);
  f->tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_console_get_port (f->console));
  mgw_test_tcp_wait_for (f->tcp, S ("(press 'h' for Help)\r\n"));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->tcp, mgw_test_tcp_free);
  g_clear_object (&f->console);
  mgw_gateway_stop (f->gateway, NULL);
  mgw_test_run_for (50);
  g_clear_object (&f->gateway);
  g_clear_pointer (&f->config, mgw_config_unref);
  g_clear_object (&f->demo);
  mgw_test_run_for (20);
}

/* Sends a key and waits for `needle` in what follows. */
static void
press (Fixture *f, const char *keys, const char *needle)
{
  g_byte_array_set_size (f->tcp->received, 0);
  mgw_test_tcp_send (f->tcp, keys, strlen (keys));
  mgw_test_tcp_wait_for (f->tcp, needle, strlen (needle));
}

static gboolean
contains (Fixture *f, const char *text)
{
  return mgw_test_bytes_contain (f->tcp->received, text, strlen (text));
}

/* The users' negotiation (IAC WILL ECHO, IAC WILL SGA: character mode)
 * and the original's welcome line. */
static void
test_welcome (Fixture *f, gconstpointer data)
{
  static const char welcome[] = "\xff\xfb\x01\xff\xfb\x03"
                                "Welcome to PyMoIP Telnet/WS gateway [display] (press 'h' for Help)\r\n";

  g_assert_cmpmem (f->tcp->received->data, f->tcp->received->len, welcome, sizeof welcome - 1);
}

static void
test_keys (Fixture *f, gconstpointer data)
{
  g_autofree char *pid = g_strdup_printf ("Gateway PID: %d\r\n", (int) getpid ());

  /* Each key echoed, then its output. */
  press (f, "h", pid);
  g_assert_true (g_str_has_prefix ((char *) f->tcp->received->data, "h\r\n"));
  g_assert_true (contains (f, "w  watch a session"));
  g_assert_true (contains (f, "m  message to a session or to all"));
  g_assert_true (contains (f, "c  drain: refuse new users"));
  g_assert_true (contains (f, "o  open again after a drain"));
  g_assert_true (contains (f, "Teletel server: no control backend configured"));

  press (f, "i", "127.0.0.1");
  g_assert_true (contains (f, "Local addresses:"));
  g_assert_true (contains (f, "lo"));

  press (f, "t", "short session ban below");
  g_assert_true (contains (f, "user inactivity                     600        600"));
  g_assert_true (contains (f, "redirected inactivity               120       3600"));

  press (f, "s", "Draining: no");
  g_assert_true (contains (f, "Sessions: 0 Telnet, 0 WS"));
  g_assert_true (contains (f, "Command channel: disabled"));

  press (f, "b", "No bans.");
  press (f, "x", "Unknown key");
  press (f, "q", "Bye.");
  mgw_test_tcp_wait_closed (f->tcp);
}

/* A raw TCP user: "raw" in the trace and the table, counted apart. */
static void
test_raw_session (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = mgw_test_tcp_connect ("127.0.0.1",
                                                     mgw_gateway_get_raw_port (f->gateway));
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (user->socket, NULL);
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_autofree char *start = g_strdup_printf ("session 0 127.0.0.1:%u (raw): start\r\n", port);

  mgw_test_tcp_wait_for (f->tcp, start, strlen (start));
  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  press (f, "s", "Command channel: disabled");
  g_assert_true (contains (f, "Sessions: 0 Telnet, 0 WS; since start 0 Telnet, 0 WS"));
  g_assert_true (contains (f, "Raw TCP sessions: 1; since start 1"));
  g_assert_true (contains (f, " raw "));
}

/* Trace lines for another client's session; the sessions table. */
static void
test_trace_and_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = mgw_test_tcp_connect ("127.0.0.1",
                                                     mgw_gateway_get_telnet_port (f->gateway));
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (user->socket, NULL);
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_autofree char *start = g_strdup_printf ("session 0 127.0.0.1:%u (Telnet): start\r\n", port);

  mgw_test_tcp_wait_for (f->tcp, start, strlen (start));
  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  press (f, "s", "Command channel: disabled");
  g_assert_true (contains (f, "Sessions: 1 Telnet, 0 WS; since start 1 Telnet, 0 WS"));
  g_assert_true (contains (f, "127.0.0.1"));
  g_assert_true (contains (f, " Telnet "));

  g_socket_close (user->socket, NULL);
  mgw_test_tcp_wait_for (f->tcp, S ("session 0 127.0.0.1: end (user disconnected)"));
}

/* b, u: bans listed, one unbanned through the prompt. */
static void
test_bans (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_gateway_ban (f->gateway, "203.0.113.8", "test", 0, NULL, &error));
  mgw_test_tcp_wait_for (f->tcp, S ("ban 203.0.113.8: test"));
  press (f, "b", "203.0.113.8");
  g_assert_true (contains (f, "test"));
  press (f, "u", "Address to unban: ");
  press (f, "203.0.113.8\r", "203.0.113.8 unbanned");
  g_assert_cmpuint (mgw_ban_list_get_size (mgw_gateway_get_ban_list (f->gateway)), ==, 0);
  press (f, "u", "Address to unban: ");
  press (f, "203.0.113.9\r", "203.0.113.9");
}

/* d: a session disconnected through the prompt; w: its screen mirrored
 * until a key is pressed. */
static void
test_disconnect_and_watch (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = mgw_test_tcp_connect ("127.0.0.1",
                                                     mgw_gateway_get_telnet_port (f->gateway));
  g_autoptr(MgwTestTcp) other = NULL;
  MgwSession *session;

  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  session = mgw_gateway_lookup_session (f->gateway, 0);
  press (f, "w", "Session or recording to watch: ");
  press (f, "0\r", "Watching session 0");
  g_assert_true (mgw_session_get_watched (session));
  /* What the user's terminal receives (the demo's echo) shows here. */
  mgw_test_tcp_send (user, S ("Z"));
  mgw_test_tcp_wait_for (user, S ("Z"));
  mgw_test_tcp_wait_for (f->tcp, S ("Z"));
  press (f, " ", "stopped watching");
  g_assert_false (mgw_session_get_watched (session));

  press (f, "d", "Session to disconnect: ");
  press (f, "0\r", "Session 0 disconnected");
  mgw_test_tcp_wait_for (user, S ("DISCONNECTED BY THE OPERATOR"));
  mgw_test_tcp_wait_closed (user);
  press (f, "d", "Session to disconnect: ");
  press (f, "77\r", "No session 77");
  (void) other;
}

/* A recording replayed on `w` (its id has dashes): the user's screen
 * bytes as recorded, then the end said; a key stops it sooner; no such
 * recording, said; `l` lists it, `e` applies the retention. */
static void
test_replay (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->config->state_dir, "recordings",
                                            "20261203-164225-9.mgwrec", NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  MgwRecordingHeader header = {
    .id = (char *) "20261203-164225-9", .session = 9, .peer = (char *) "192.0.2.1",
    .port = 1, .access = (char *) "WS", .start = G_GINT64_CONSTANT (1796316145000000),
    .gateway = (char *) "moipgw test", .input = MGW_RECORDING_INPUT_MASK, .max_size = 1 << 20,
  };

  mgw_recording_append_header (text, &header);
  mgw_recording_append_chunk (text, 0, MGW_RECORDING_SERVER, 0, (const guint8 *) "PAGE-ONE", 8);
  mgw_recording_append_masked (text, 10000, 0, 3);
  mgw_recording_append_chunk (text, 50000, MGW_RECORDING_TARGET, 1, (const guint8 *) "PAGE-TWO", 8);
  /* A minute later: the console cuts the pause to two seconds. */
  mgw_recording_append_chunk (text, 60000000, MGW_RECORDING_GATEWAY, 0, (const guint8 *) "LATER", 5);
  g_assert_true (g_file_set_contents (path, text->str, (gssize) text->len, NULL));

  press (f, "w", "Session or recording to watch: ");
  press (f, "20261203-164225-9\r", "PAGE-TWO");
  g_assert_true (contains (f, "Replaying recording 20261203-164225-9"));
  g_assert_true (contains (f, "PAGE-ONEPAGE-TWO"));
  press (f, " ", "stopped watching");
  g_assert_false (contains (f, "LATER"));

  /* To its end: the gateway's bytes after the cut pause, then the end. */
  press (f, "w", "to watch: ");
  press (f, "20261203-164225-9\r", "[end of the recording]");
  g_assert_true (contains (f, "LATER"));

  press (f, "w", "to watch: ");
  press (f, "20261203-000000-1\r", "No recording 20261203-000000-1");

  /* l: listed, with its session and peer; e: the retention (whatever it
   * removes: the file's date is the kernel's, the clock may be faked). */
  press (f, "l", "20261203-164225-9 ");
  mgw_test_tcp_wait_for (f->tcp, S ("192.0.2.1"));
  g_assert_true (contains (f, "recording"));
  press (f, "e", " removed (");
}

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"

/* m: a message to one session (UTF-8 typed, a backspace taking a whole
 * accented letter), to all with *, refused texts and sessions. */
static void
test_message (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = mgw_test_tcp_connect ("127.0.0.1",
                                                     mgw_gateway_get_telnet_port (f->gateway));

  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  press (f, "m", "Session to tell (its id, or * for all): ");
  press (f, "0\r", "Message: ");
  press (f, "Fermeture \xc3\xa0 22 h, caf\xc3\xa9\x7f" "e\r", "Session 0 told");
  mgw_test_tcp_wait_for (user, S (STATUS ("Fermeture \x19\x41" "a 22 h, cafe")));
  press (f, "m", "Session to tell");
  press (f, "*\r", "Message: ");
  press (f, "EVERYONE\r", "1 session told");
  mgw_test_tcp_wait_for (user, S (STATUS ("EVERYONE")));

  press (f, "m", "Session to tell");
  press (f, "77\r", "No session 77");
  press (f, "m", "Session to tell");
  press (f, "0\r", "Message: ");
  press (f, "\xc3" "a\r", "The message is not valid UTF-8");
  /* Enter on the empty text: nothing sent. */
  press (f, "m", "Session to tell");
  press (f, "0\r", "Message: ");
  press (f, "\r", "\r\n");
  press (f, "x", "Unknown key");
  g_assert_false (mgw_test_bytes_contain (user->received, S (STATUS (""))));
}

/* c: a drain with the default text (one minute), seen in s and in the
 * trace, a new user refused; o: resumed; then c 0: ended at once. */
static void
test_drain (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = mgw_test_tcp_connect ("127.0.0.1",
                                                     mgw_gateway_get_telnet_port (f->gateway));
  g_autoptr(MgwTestTcp) refused = NULL;

  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  press (f, "c", "Drain: minutes before the sessions end (0: now): ");
  press (f, "1\r", "Message for the open sessions (Enter: the default one): ");
  press (f, "\r", "the open sessions end in 1 minute");
  mgw_test_tcp_wait_for (f->tcp, S ("draining: new users refused, the sessions end at "));
  mgw_test_tcp_wait_for (user, S (STATUS ("SERVICE CLOSING IN 1 MIN")));
  g_assert_true (mgw_gateway_get_draining (f->gateway));
  refused = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (refused, S (STATUS ("SERVICE CLOSING, RETRY LATER")));
  mgw_test_tcp_wait_closed (refused);
  press (f, "s", "Draining: yes, new users refused (1 so far); the sessions end at ");

  /* Again, with a text: the sessions are told it. */
  press (f, "c", "Drain: minutes");
  press (f, "5\r", "Message for the open sessions");
  press (f, "BACK AT 23:00\r", "the open sessions end in 5 minutes");
  mgw_test_tcp_wait_for (user, S (STATUS ("BACK AT 23:00")));

  press (f, "o", "Users are admitted again");
  mgw_test_tcp_wait_for (f->tcp, S ("drain over: users are admitted again"));
  g_assert_false (mgw_gateway_get_draining (f->gateway));
  press (f, "s", "Draining: no");
  press (f, "o", "The gateway is not draining");
  g_assert_false (user->closed);

  press (f, "c", "Drain: minutes");
  press (f, "x\r", "Not a number of minutes: x");
  g_assert_false (mgw_gateway_get_draining (f->gateway));
  press (f, "c", "Drain: minutes");
  press (f, "0\r", "the open sessions were ended");
  mgw_test_tcp_wait_for (user, S (STATUS ("SERVICE CLOSED")));
  mgw_test_tcp_wait_closed (user);
  press (f, "o", "Users are admitted again");
}

/* Two consoles watch one session: both see the user's screen; one
 * stopping leaves the other watching (the session too), until it stops. */
static void
test_two_watchers (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = mgw_test_tcp_connect ("127.0.0.1",
                                                     mgw_gateway_get_telnet_port (f->gateway));
  g_autoptr(MgwTestTcp) other = mgw_test_tcp_connect ("127.0.0.1",
                                                      mgw_console_get_port (f->console));
  MgwSession *session;

  mgw_test_tcp_wait_for (other, S ("(press 'h' for Help)\r\n"));
  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  session = mgw_gateway_lookup_session (f->gateway, 0);
  press (f, "w", "Session or recording to watch: ");
  press (f, "0\r", "Watching session 0");
  mgw_test_tcp_send (other, S ("w"));
  mgw_test_tcp_wait_for (other, S ("Session or recording to watch: "));
  mgw_test_tcp_send (other, S ("0\r"));
  mgw_test_tcp_wait_for (other, S ("Watching session 0"));
  g_assert_true (mgw_session_get_watched (session));

  mgw_test_tcp_send (user, S ("QJX"));
  mgw_test_tcp_wait_for (user, S ("QJX"));
  mgw_test_tcp_wait_for (f->tcp, S ("QJX"));
  mgw_test_tcp_wait_for (other, S ("QJX"));

  /* The first stops: the second goes on. */
  press (f, " ", "stopped watching");
  g_assert_true (mgw_session_get_watched (session));
  g_byte_array_set_size (f->tcp->received, 0);
  mgw_test_tcp_send (user, S ("KWV"));
  mgw_test_tcp_wait_for (other, S ("KWV"));
  mgw_test_run_for (200);
  g_assert_false (contains (f, "KWV"));

  mgw_test_tcp_send (other, S (" "));
  mgw_test_tcp_wait_for (other, S ("stopped watching"));
  g_assert_false (mgw_session_get_watched (session));
}

/* R: a session recorded through the prompt, its recording's id said
 * once the file exists; R again: no longer recorded. */
static void
test_record (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = mgw_test_tcp_connect ("127.0.0.1",
                                                     mgw_gateway_get_telnet_port (f->gateway));
  g_autofree char *id = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *stopped = NULL;
  MgwSession *session;
  const char *p;

  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  session = mgw_gateway_lookup_session (f->gateway, 0);
  press (f, "h", "R  record a session, or stop recording it\r\n");
  press (f, "R", "Session to record (or stop recording): ");
  press (f, "0\r", "Recording session 0...\r\n");
  mgw_test_tcp_wait_for (f->tcp, S ("Session 0 recorded as "));
  mgw_test_tcp_wait_for (f->tcp, S ("-0\r\n"));
  g_byte_array_append (f->tcp->received, (const guint8 *) "", 1);
  p = strstr ((const char *) f->tcp->received->data, "recorded as ");
  id = g_strndup (p + strlen ("recorded as "), strcspn (p + strlen ("recorded as "), "\r"));
  g_assert_cmpstr (mgw_session_get_recording (session), ==, id);
  name = g_strconcat (id, MGW_RECORDING_SUFFIX, NULL);
  path = g_build_filename (f->config->state_dir, "recordings", name, NULL);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  press (f, "R", "Session to record (or stop recording): ");
  stopped = g_strdup_printf ("Session 0 is no longer recorded (%s)\r\n", id);
  press (f, "0\r", stopped);
  g_assert_null (mgw_session_get_recording (session));
  press (f, "R", "Session to record (or stop recording): ");
  press (f, "77\r", "No session 77");
}

/* Watches session `id` with `keys` after w, sent in pieces, and checks
 * that watching goes on after the Enter, whatever its spelling, until a
 * key is pressed. */
static void
watch_with (Fixture    *f,
            MgwSession *session,
            const char *const *pieces)
{
  press (f, "w", "Session or recording to watch: ");
  g_byte_array_set_size (f->tcp->received, 0);
  for (const char *const *p = pieces; *p != NULL; p++)
    {
      /* A piece may be a lone NUL: sent as one byte. */
      mgw_test_tcp_send (f->tcp, *p, **p == '\0' ? 1 : strlen (*p));
      mgw_test_run_for (30);
    }
  mgw_test_tcp_wait_for (f->tcp, S ("Watching session 0"));
  mgw_test_run_for (200);
  g_assert_true (mgw_session_get_watched (session));
  g_assert_false (contains (f, "stopped watching"));
  press (f, " ", "stopped watching");
  g_assert_false (mgw_session_get_watched (session));
}

/* Enter is one key, CR LF, CR NUL, CR or LF, even split between reads:
 * its LF does not stop the watching it started (it did: "w0" and Enter
 * started and at once stopped watching). */
static void
test_enter_once (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = mgw_test_tcp_connect ("127.0.0.1",
                                                     mgw_gateway_get_telnet_port (f->gateway));
  static const char *const crlf[] = { "0\r\n", NULL };
  static const char *const split[] = { "0\r", "\n", NULL };
  static const char *const crnul[] = { "0\r", "", NULL };
  static const char *const lf[] = { "0\n", NULL };
  static const char *const cr[] = { "0\r", NULL };
  MgwSession *session;

  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  session = mgw_gateway_lookup_session (f->gateway, 0);
  watch_with (f, session, crlf);
  watch_with (f, session, split);
  watch_with (f, session, crnul);
  watch_with (f, session, lf);
  watch_with (f, session, cr);
}

/* "u" and Enter (a line-mode habit, or a line-mode client's "u\r\n" in
 * one read) opens the prompt and waits for the answer: the CR LF is not
 * an empty answer. Enter on the empty prompt after that cancels it. */
static void
test_prompt_enter (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_gateway_ban (f->gateway, "203.0.113.8", "test", 0, NULL, &error));
  press (f, "u\r\n", "Address to unban: ");
  mgw_test_run_for (100);
  press (f, "203.0.113.8\r\n", "203.0.113.8 unbanned");
  g_assert_false (contains (f, "Unknown key"));
  g_assert_cmpuint (mgw_ban_list_get_size (mgw_gateway_get_ban_list (f->gateway)), ==, 0);

  /* The same with CR NUL, Enter in a read of its own. */
  press (f, "d", "Session to disconnect: ");
  mgw_test_tcp_send (f->tcp, S ("\r\0"));
  mgw_test_run_for (100);
  mgw_test_tcp_send (f->tcp, S ("77\r\0"));
  mgw_test_tcp_wait_for (f->tcp, S ("No session 77"));

  /* Enter, then Enter again: cancelled, keys are commands again. */
  press (f, "u", "Address to unban: ");
  mgw_test_tcp_send (f->tcp, S ("\r\n"));
  mgw_test_run_for (100);
  press (f, "\r\n", "\r\n");
  press (f, "x", "Unknown key");
}

/* --- the stock telnet client on a pseudo-terminal --- */

static gboolean
terminal_exited (gpointer data)
{
  return ((MgwTestTerminal *) data)->exited;
}

/* `telnet 127.0.0.1 PORT` as an administrator runs it. */
static MgwTestTerminal *
telnet_spawn (guint16 port)
{
  g_autofree char *port_arg = g_strdup_printf ("%u", port);
  /* No ~/.telnetrc of the machine's. */
  g_autofree char *home = mgw_test_tmp_dir ();
  const char *argv[] = { TELNET, "127.0.0.1", port_arg, NULL };

  return mgw_test_terminal_spawn (home, argv);
}

static guint
count (GByteArray *bytes,
       gsize       from,
       const char *needle)
{
  gsize len = strlen (needle);
  guint n = 0;

  for (gsize i = from; i + len <= bytes->len; i++)
    n += memcmp (bytes->data + i, needle, len) == 0;
  return n;
}

typedef struct
{
  GByteArray *bytes;
  gsize       from;
  const char *needle;
} ScreenWait;

static gboolean
screen_has (gpointer data)
{
  ScreenWait *w = data;
  return count (w->bytes, w->from, w->needle) > 0;
}

/* Types `keys` on telnet's terminal, then waits up to `ms` for `needle`
 * on its screen after what was already there. */
static void
type (MgwTestTerminal *t, const char *keys, const char *needle, guint ms)
{
  ScreenWait w = { t->screen, t->screen->len, needle };

  g_assert_cmpint (write (t->master, keys, strlen (keys)), ==, (gssize) strlen (keys));
  mgw_test_wait_until (screen_has, &w, ms, needle);
}

/* The stock telnet client: the console's negotiation puts it in
 * character mode, so a key acts without Enter (in line mode, 'h' waited
 * for Enter) and shows once; `w`, `0` and Enter start watching, which
 * goes on until a key (the LF of telnet's CR LF stopped it at once). */
static void
test_telnet_client (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = NULL;
  g_autoptr(MgwTestTerminal) t = NULL;
  g_autofree char *pid = g_strdup_printf ("Gateway PID: %d", (int) getpid ());
  ScreenWait welcome;
  MgwSession *session;
  gsize mark;

  if (!g_file_test (TELNET, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_fail_printf ("%s is missing: install the Debian package inetutils-telnet", TELNET);
      return;
    }
  user = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  session = mgw_gateway_lookup_session (f->gateway, 0);
  t = telnet_spawn (mgw_console_get_port (f->console));
  welcome = (ScreenWait) { t->screen, 0, "(press 'h' for Help)" };
  mgw_test_wait_until (screen_has, &welcome, MGW_TEST_TIMEOUT_MS, "the welcome line");
  /* Let the negotiation settle. */
  mgw_test_run_for (300);

  /* One key, no Enter: it acts within 2 s, echoed once (the console's
   * echo; telnet's own would make two). */
  mark = t->screen->len;
  type (t, "h", pid, 2000);
  g_assert_cmpuint (count (t->screen, mark, "h\r\n"), ==, 1);
  g_assert_cmpuint (count (t->screen, mark, "hh"), ==, 0);

  /* w 0 Enter: watching, and still watching a while later. */
  type (t, "w", "Session or recording to watch: ", 2000);
  mark = t->screen->len;
  type (t, "0\r", "Watching session 0", 2000);
  mgw_test_run_for (500);
  g_assert_true (mgw_session_get_watched (session));
  g_assert_cmpuint (count (t->screen, mark, "stopped watching"), ==, 0);
  /* The user's screen shows on the console's. */
  {
    ScreenWait mirrored = { t->screen, mark, "Z" };

    mgw_test_tcp_send (user, S ("Z"));
    mgw_test_wait_until (screen_has, &mirrored, MGW_TEST_TIMEOUT_MS, "the mirrored screen");
  }
  /* The 0 typed at the prompt showed once. */
  g_assert_cmpuint (count (t->screen, mark, "0\r\nWatching"), ==, 1);
  g_assert_cmpuint (count (t->screen, mark, "00"), ==, 0);
  type (t, " ", "stopped watching", 2000);
  g_assert_false (mgw_session_get_watched (session));

  type (t, "q", "Bye.", 2000);
  mgw_test_wait_until (terminal_exited, t, MGW_TEST_TIMEOUT_MS, "telnet to exit");
}

/* A console that does not read: its trace lines are dropped and counted,
 * users are served as fast as ever, and it is told what it missed. */
static void
test_slow_console (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) user = NULL;
  g_autoptr(GError) error = NULL;
  gint64 before;

  g_socket_set_option (f->tcp->socket, SOL_SOCKET, SO_RCVBUF, 65536, NULL);
  mgw_test_tcp_pause (f->tcp, TRUE);
  /* More than the socket buffers and the console's queue hold together. */
  for (guint i = 0; i < 8000; i++)
    {
      char address[32];
      g_snprintf (address, sizeof address, "10.%u.%u.%u", i / 62500, (i / 250) % 250, 1 + i % 250);
      g_assert_true (mgw_gateway_ban (f->gateway, address,
                                      "a long reason, to fill the console's queue quickly, "
                                      "as a flood of scanners would", 0, NULL, NULL));
    }
  user = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
  before = g_get_monotonic_time ();
  mgw_test_tcp_send (user, S ("k"));
  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7bk"));
  g_assert_cmpint (g_get_monotonic_time () - before, <, 500 * 1000);

  /* Reading again, the console catches up, then is told what it lost. */
  mgw_test_tcp_pause (f->tcp, FALSE);
  for (guint i = 1; i < 50 && !contains (f, "lost: the console did not keep up]"); i++)
    {
      char address[32];
      g_snprintf (address, sizeof address, "203.0.113.%u", i);
      mgw_test_run_for (100);
      g_assert_true (mgw_gateway_ban (f->gateway, address, "after", 0, NULL, &error));
    }
  g_assert_true (contains (f, "lost: the console did not keep up]"));
  mgw_test_tcp_wait_for (f->tcp, S (": after\r\n"));
}

typedef struct
{
  gboolean  done;
  char     *out;
} Communicate;

static void
communicated_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &c->out, NULL, NULL);
  c->done = TRUE;
}

static gboolean
communicated (gpointer data)
{
  return ((Communicate *) data)->done;
}

/* On loopback the console knows who connects: a user who is neither root
 * nor in the moipgw group is refused, as on D-Bus. */
static void
test_refused_user (Fixture *f, gconstpointer data)
{
  g_autofree char *setpriv = g_find_program_in_path ("setpriv");
  g_autofree char *port = g_strdup_printf ("%u", mgw_console_get_port (f->console));
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  Communicate c = { 0 };

  if (getuid () != 0 || setpriv == NULL)
    {
      g_test_skip ("needs root and setpriv to connect as another user");
      return;
    }
  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, setpriv, "--reuid=65534",
                            "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                            "import socket,sys\n"
                            "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n"
                            "d=b''\n"
                            "while True:\n"
                            "  b=s.recv(4096)\n"
                            "  if not b: break\n"
                            "  d+=b\n"
                            "sys.stdout.write(d.decode('latin-1'))\n", port, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (child, NULL, NULL, communicated_cb, &c);
  mgw_test_wait_until (communicated, &c, MGW_TEST_TIMEOUT_MS, "the refused client");
  g_assert_nonnull (strstr (c.out, "Permission denied"));
  g_assert_null (strstr (c.out, "Welcome"));
  g_free (c.out);
}

/* The console's own log lines ("console: nobody refused ..."). */
static void
capture_log (const char     *domain,
             GLogLevelFlags  level,
             const char     *message,
             gpointer        user_data)
{
  if (g_str_has_prefix (message, "console"))
    g_ptr_array_add (user_data, g_strdup (message));
  g_log_default_handler (domain, level, message, NULL);
}

static guint
count_lines (GPtrArray  *lines,
             const char *text)
{
  guint n = 0;

  for (guint i = 0; i < lines->len; i++)
    n += strstr (lines->pdata[i], text) != NULL;
  return n;
}

/* Runs tests/lib/console-peers.py against `console` (as `uid`, or as
 * this process's user when -1) and returns its verdicts, one a line. */
static GPtrArray *
run_peers (MgwConsole *console,
           gint64      uid,
           gboolean    ipv6)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "lib", "console-peers.py", NULL);
  g_autofree char *port = g_strdup_printf ("%u", mgw_console_get_port (console));
  g_autofree char *user = g_strdup_printf ("%" G_GINT64_FORMAT, uid);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *verdicts = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = NULL;
  Communicate c = { 0 };

  g_ptr_array_add (argv, "/usr/bin/python3");
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, "--port");
  g_ptr_array_add (argv, port);
  if (uid >= 0)
    {
      g_ptr_array_add (argv, "--user");
      g_ptr_array_add (argv, user);
    }
  if (ipv6)
    g_ptr_array_add (argv, "--ipv6");
  g_ptr_array_add (argv, NULL);
  child = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                             &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (child, NULL, NULL, communicated_cb, &c);
  mgw_test_wait_until (communicated, &c, 4 * MGW_TEST_TIMEOUT_MS, "console-peers.py");
  g_assert_nonnull (c.out);
  lines = g_strsplit (c.out, "\n", -1);
  g_free (c.out);
  for (char **line = lines; *line != NULL; line++)
    if (**line != '\0')
      {
        g_test_message ("%s", *line);
        g_ptr_array_add (verdicts, g_strdup (*line));
      }
  return verdicts;
}

/* Every connection that was made got `verdict`; at least `min` were. */
static void
assert_verdicts (GPtrArray  *verdicts,
                 const char *verdict,
                 guint       min)
{
  guint made = 0;

  for (guint i = 0; i < verdicts->len; i++)
    {
      const char *line = verdicts->pdata[i];
      const char *space = strchr (line, ' ');

      g_assert_nonnull (space);
      if (g_str_has_prefix (space + 1, "skipped"))
        continue;
      made++;
      if (!g_str_has_prefix (space + 1, verdict))
        g_error ("expected \"%s\", got: %s", verdict, line);
    }
  g_assert_cmpuint (made, >=, min);
}

/* A local user who binds its source port to the console's port number on
 * another loopback address (127.0.0.4) makes the ports of its connection
 * those of the daemon's own socket reversed: matched on ports alone, it
 * passed for root. Neither that nor IPv4 over IPv6, IPv6, nor many
 * connections at once get nobody in; root gets in all the same ways. On
 * a console on 127.0.0.1 and ::1, and on one on "::" (IPv4 arrives
 * mapped). */
static void
test_impostors (Fixture *f, gconstpointer data)
{
  static const char *const listen[] = { "127.0.0.1;::1", "::" };
  struct passwd *pw = getpwuid (65534);
  g_autofree char *refused = g_strdup_printf ("console: %s refused", pw ? pw->pw_name : "uid 65534");
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  guint handler = g_log_set_handler ("moipgw", G_LOG_LEVEL_MESSAGE, capture_log, log);

  /* Quick admitted sessions would ban 127.0.0.1. */
  f->config->min_session_ms = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (listen); i++)
    {
      g_autoptr(MgwConsole) console = mgw_console_new (f->gateway, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) verdicts = NULL;
      g_auto(GStrv) saved = f->config->console_addresses;

      g_test_message ("console on %s", listen[i]);
      f->config->console_addresses = g_strsplit (listen[i], ";", -1);
      g_assert_true (mgw_console_start (console, &error));
      g_assert_no_error (error);
      g_strfreev (f->config->console_addresses);
      f->config->console_addresses = g_steal_pointer (&saved);

      verdicts = run_peers (console, -1, TRUE);
      assert_verdicts (verdicts, "admitted", 10);
      g_clear_pointer (&verdicts, g_ptr_array_unref);
      if (getuid () != 0)
        continue;
      g_ptr_array_set_size (log, 0);
      verdicts = run_peers (console, 65534, TRUE);
      /* Every connection made refused, and logged with the user's name. */
      assert_verdicts (verdicts, "refused", 10);
      g_assert_cmpuint (count_lines (log, refused), ==,
                        verdicts->len - count_lines (verdicts, " skipped"));
      g_assert_cmpuint (count_lines (log, "connected"), ==, 0);
    }
  g_log_remove_handler ("moipgw", handler);
  if (getuid () != 0)
    g_test_skip ("not root: cannot connect as another user (only root's side was run)");
}

static gboolean
no_console_clients (gpointer data)
{
  return mgw_console_get_n_clients (data) == 0;
}

/* A console that types without reading overflows its queue in the middle
 * of a command's output: it is closed, and nothing touches it after. */
static void
test_overflow_mid_command (Fixture *f, gconstpointer data)
{
  g_autofree char *keys = g_strnfill (4000, 'h');
  g_autoptr(MgwTestTcp) user = NULL;

  g_socket_set_option (f->tcp->socket, SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  mgw_test_tcp_pause (f->tcp, TRUE);
  for (guint i = 0; i < 5 && mgw_console_get_n_clients (f->console) > 0; i++)
    {
      mgw_test_tcp_send (f->tcp, keys, strlen (keys));
      mgw_test_run_for (100);
    }
  mgw_test_wait_until (no_console_clients, f->console, MGW_TEST_TIMEOUT_MS,
                       "the console to be dropped");
  mgw_test_run_for (50);
  user = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (user, S ("\x1b\x39\x7b"));
}

static gboolean
command_connected (gpointer data)
{
  return mgw_command_link_get_connected (mgw_gateway_get_command_link (data));
}

static gboolean
command_disconnected (gpointer data)
{
  return !command_connected (data);
}

/* k and r with the process backend, against a real Teletel stand-in
 * (python3-websockets) that is both the default server and the command
 * channel: k stops it (its users are told, the command channel drops),
 * r starts it again from what was remembered (a new process listens, the
 * command channel comes back by itself, new users are served). */
static void
test_teletel_process (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "lib", "teletel-server.py", NULL);
  guint16 port = mgw_test_closed_port ();
  g_autofree char *port_arg = g_strdup_printf ("%u", port);
  g_autofree char *server_uri = g_strdup_printf ("ws://127.0.0.1:%u/", port);
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwConfig) config = mgw_test_config_new (server_uri);
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(MgwTeletel) teletel = mgw_teletel_process_new (port, NULL, 1000);
  g_autoptr(MgwConsole) console = NULL;
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwTestTcp) user = NULL;
  g_autoptr(MgwTestTcp) later = NULL;
  g_autofree char *pid_line = NULL;
  guint first_pid;

  server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "/usr/bin/python3",
                             script, "--port", port_arg, "--quiet", NULL);
  g_assert_no_error (error);
  config->no_command_channel = FALSE;
  g_free (config->command_uri);
  config->command_uri = g_strdup_printf ("ws://127.0.0.1:%u/command", port);
  config->command_retry_ms = 100;
  config->display_port = 0;
  gateway = mgw_test_gateway_new (config);
  mgw_test_wait_until (command_connected, gateway, MGW_TEST_TIMEOUT_MS, "the command channel");
  mgw_teletel_refresh (teletel);
  first_pid = mgw_teletel_get_pid (teletel);
  g_assert_cmpuint (first_pid, ==, atoi (g_subprocess_get_identifier (server)));
  console = mgw_console_new (gateway, teletel);
  g_assert_true (mgw_console_start (console, &error));
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_console_get_port (console));
  mgw_test_tcp_wait_for (tcp, S ("(press 'h' for Help)\r\n"));
  pid_line = g_strdup_printf ("Teletel server PID: %u (running, backend process)", first_pid);
  mgw_test_tcp_send (tcp, S ("h"));
  mgw_test_tcp_wait_for (tcp, pid_line, strlen (pid_line));

  user = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (gateway));
  mgw_test_tcp_wait_for (user, S ("\x1f\x40\x41" "CONNECT\x18\x0a"));

  mgw_test_tcp_send (tcp, S ("k"));
  mgw_test_tcp_wait_for (tcp, S ("Teletel server stopped\r\n"));
  g_subprocess_wait (server, NULL, NULL);
  mgw_test_wait_until (command_disconnected, gateway, MGW_TEST_TIMEOUT_MS, "the channel to drop");
  mgw_test_tcp_wait_for (user, S ("END SERVER CLOSED"));

  mgw_test_tcp_send (tcp, S ("r"));
  mgw_test_tcp_wait_for (tcp, S ("Teletel server started, PID "));
  g_assert_cmpuint (mgw_teletel_get_pid (teletel), !=, 0);
  g_assert_cmpuint (mgw_teletel_get_pid (teletel), !=, first_pid);
  mgw_test_wait_until (command_connected, gateway, MGW_TEST_TIMEOUT_MS, "the channel to come back");
  later = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (gateway));
  mgw_test_tcp_wait_for (later, S ("\x1f\x40\x41" "CONNECT\x18\x0a"));

  /* The restarted server is ours to stop. */
  g_clear_pointer (&later, mgw_test_tcp_free);
  kill ((pid_t) mgw_teletel_get_pid (teletel), SIGKILL);
  mgw_gateway_stop (gateway, NULL);
  mgw_test_run_for (50);
}

/* In French (LANGUAGE=fr, the build tree's catalogue through
 * MOIPGW_LOCALEDIR, C.UTF-8 from the test environment): a real moipgwd's
 * console help and trace lines, and the status line a Minitel user gets
 * when the console disconnects it, byte for byte: lowercase accents
 * through G2 (SS2 0x42 'e' for é), ’ as '. */
static void
test_french (void)
{
  static const char *const env[] = { "env", "LANGUAGE=fr", NULL };
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autoptr(MgwTestTcp) console = NULL;
  g_autoptr(MgwTestTcp) user = NULL;
  MgwTestOutputWait listening = { NULL, "listening for the admin console on port " };
  g_autofree char *pid_line = NULL;
  g_autofree char *id = NULL;
  g_autofree char *done = NULL;
  static const char status[] = "\x1f\x40\x41"
                               "D\x19\x42" "econnect\x19\x42" "e par l'op\x19\x42" "erateur\x18\x0a";
  const char *p;
  const char *start;

  if (g_getenv ("MOIPGW_LOCALEDIR") == NULL)
    {
      g_test_skip ("MOIPGW_LOCALEDIR is not set (run through meson test)");
      return;
    }
  d = mgw_test_daemon_spawn_wrapped (env, "--no-dbus", "--demo", "--tcp", "0", "--ws", "off",
                                     "-i", "127.0.0.1", "--display", "0", NULL);
  listening.d = d;
  mgw_test_wait_until (mgw_test_daemon_output_has, &listening, MGW_TEST_TIMEOUT_MS,
                       "the console to listen");
  p = strstr (d->err->str, listening.needle);
  g_assert_nonnull (p);
  /* Logs stay in English whatever the language. */
  g_assert_nonnull (strstr (d->err->str, "listening for Telnet users on port "));
  console = mgw_test_tcp_connect ("127.0.0.1",
                                  (guint16) g_ascii_strtoull (p + strlen (listening.needle), NULL, 10));
  mgw_test_tcp_wait_for (console, S ("(press 'h' for Help)\r\n"));

  pid_line = g_strdup_printf ("PID de la passerelle : %s\r\n", g_subprocess_get_identifier (d->process));
  mgw_test_tcp_send (console, S ("h"));
  mgw_test_tcp_wait_for (console, pid_line, strlen (pid_line));
  g_assert_true (mgw_test_bytes_contain (console->received, S ("h  cette aide\r\n"
                                                               "i  adresses locales\r\n")));
  g_assert_true (mgw_test_bytes_contain (console->received,
                                         S ("w  observer une session, ou rejouer un enregistrement (une touche arr\xc3\xaa" "te)\r\n")));
  g_assert_true (mgw_test_bytes_contain (console->received,
                                         S ("o  rouvrir apr\xc3\xa8s une fermeture progressive\r\n")));
  g_assert_true (mgw_test_bytes_contain (console->received,
                                         S ("Serveur Teletel : aucun moyen de contr\xc3\xb4le configur\xc3\xa9\r\n")));

  user = mgw_test_tcp_connect ("127.0.0.1", mgw_test_daemon_port (d, "Telnet"));
  /* The original's status text, kept. */
  mgw_test_tcp_wait_for (user, S ("\x1f\x40\x41" "CONNECT\x18\x0a"));
  mgw_test_tcp_wait_for (console, S (") : d\xc3\xa9" "but\r\n"));
  g_byte_array_append (console->received, (const guint8 *) "", 1);
  start = strstr ((const char *) console->received->data, "] session ");
  g_assert_nonnull (start);
  id = g_strndup (start + strlen ("] session "), strspn (start + strlen ("] session "), "0123456789"));
  g_assert_cmpstr (id, !=, "");

  g_byte_array_set_size (console->received, 0);
  mgw_test_tcp_send (console, S ("d"));
  mgw_test_tcp_wait_for (console, S ("Session \xc3\xa0 d\xc3\xa9" "connecter : "));
  mgw_test_tcp_send (console, id, strlen (id));
  mgw_test_tcp_send (console, S ("\r"));
  done = g_strdup_printf ("Session %s d\xc3\xa9" "connect\xc3\xa9" "e\r\n", id);
  mgw_test_tcp_wait_for (console, done, strlen (done));
  mgw_test_tcp_wait_closed (user);
  g_assert_true (mgw_test_bytes_contain (user->received, S (status)));
  /* Nothing but printable ASCII and SS2 in it (and the controls around it). */
  p = memmem (user->received->data, user->received->len, S ("\x1f\x40\x41" "D"));
  g_assert_nonnull (p);
  for (gsize i = 3; i < sizeof status - 3; i++)
    g_assert_true (p[i] == 0x19 || (p[i] >= 0x20 && p[i] < 0x7f));
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, setup, func, teardown)

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  ADD ("/console/welcome", test_welcome);
  ADD ("/console/keys", test_keys);
  ADD ("/console/trace-and-sessions", test_trace_and_sessions);
  ADD ("/console/raw-session", test_raw_session);
  ADD ("/console/bans", test_bans);
  ADD ("/console/disconnect-and-watch", test_disconnect_and_watch);
  ADD ("/console/replay", test_replay);
  ADD ("/console/record", test_record);
  ADD ("/console/enter-once", test_enter_once);
  ADD ("/console/message", test_message);
  ADD ("/console/drain", test_drain);
  ADD ("/console/two-watchers", test_two_watchers);
  ADD ("/console/prompt-enter", test_prompt_enter);
  ADD ("/console/telnet-client", test_telnet_client);
  ADD ("/console/slow-console", test_slow_console);
  ADD ("/console/overflow-mid-command", test_overflow_mid_command);
  ADD ("/console/refused-user", test_refused_user);
  ADD ("/console/impostors", test_impostors);
  g_test_add_func ("/console/teletel-process", test_teletel_process);
  g_test_add_func ("/console/french", test_french);
  return g_test_run ();
}
