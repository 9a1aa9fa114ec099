/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-interop.c: the gateway against peers written by others: a Teletel
 * stand-in and a WebSocket user on python3-websockets, the real telnet
 * client on a pseudo-terminal, and headless Chromium's own WebSocket.
 * The gateway runs in process on 127.0.0.1 (ports from the kernel), on
 * the same main loop as the test, so every wait iterates that loop and is
 * bounded; every child is killed in teardown, and dies with the test
 * program if it aborts first. */
#include "config.h"

#include "mgw-demo.h"
#include "mgw-gateway.h"
#include "mgw-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"
#define S(lit) lit, sizeof lit - 1

#define PYTHON   "/usr/bin/python3"
#define TELNET   "/usr/bin/telnet"

/* What teletel-server.py sends to every new connection. */
#define PYTHON_PAGE "\x0cPYTHON TELETEL\x1b\x39\x7b"
/* The same without its ENQROM (--page-hex), for the redirection test:
 * there the test sends the first ENQROM itself. */
#define PYTHON_PLAIN_PAGE "\x0cPYTHON TELETEL"

#define CHILD_TIMEOUT_MS   15000
#define BROWSER_TIMEOUT_MS 40000

/* --- small helpers --- */

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* Offset of `needle` in `haystack` at or after `from`, or -1. */
static gssize
find_bytes (GByteArray *haystack,
            gsize       from,
            const void *needle,
            gsize       len)
{
  const guint8 *p;

  if (from > haystack->len || haystack->len - from < len)
    return -1;   /* also keeps memmem () away from an empty array's NULL */
  p = memmem (haystack->data + from, haystack->len - from, needle, len);
  return p != NULL ? p - haystack->data : -1;
}

static guint
count_bytes (GByteArray *haystack,
             gsize       from,
             const void *needle,
             gsize       len)
{
  guint n = 0;
  gssize at;

  while ((at = find_bytes (haystack, from, needle, len)) >= 0)
    {
      n++;
      from = at + len;
    }
  return n;
}

static char *
printable (const guint8 *data,
           gsize         len)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len && i < 2000; i++)
    {
      if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\')
        g_string_append_c (s, data[i]);
      else
        g_string_append_printf (s, "\\x%02x", data[i]);
    }
  return g_string_free (s, FALSE);
}

/* Appends the bytes written as hex digits in `hex`; FALSE if it is not
 * hex. */
static gboolean
hex_append (GByteArray *to,
            const char *hex)
{
  gsize n = strlen (hex);

  if (n % 2 != 0)
    return FALSE;
  for (gsize i = 0; i < n; i += 2)
    {
      int hi = g_ascii_xdigit_value (hex[i]);
      int lo = g_ascii_xdigit_value (hex[i + 1]);
      guint8 b;

      if (hi < 0 || lo < 0)
        return FALSE;
      b = (guint8) (hi << 4 | lo);
      g_byte_array_append (to, &b, 1);
    }
  return TRUE;
}

typedef struct
{
  GByteArray *haystack;
  gsize       from;
  const void *needle;
  gsize       len;
} Needle;

static gboolean
needle_found (gpointer data)
{
  Needle *n = data;
  return find_bytes (n->haystack, n->from, n->needle, n->len) >= 0;
}

/* Waits (bounded) for `needle` in `haystack` after `from`, dumping what
 * came on failure. */
static void
wait_bytes (GByteArray *haystack,
            gsize       from,
            const void *needle,
            gsize       len,
            guint       timeout_ms,
            const char *what)
{
  Needle n = { haystack, from, needle, len };
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (!needle_found (&n) && g_get_monotonic_time () < deadline)
    mgw_test_run_for (10);
  if (!needle_found (&n))
    {
      g_autofree char *have = printable (haystack->data, haystack->len);
      g_autofree char *want = printable (needle, len);
      g_error ("timed out after %u ms waiting for \"%s\" in %s; have %u bytes: %s",
               timeout_ms, want, what, haystack->len, have);
    }
}

static void
exited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

/* Kills `process` (if still running) and waits until it is reaped;
 * `exited` is the flag its wait_async sets. */
static void
kill_child (GSubprocess **process,
            gboolean     *exited)
{
  if (*process == NULL)
    return;
  if (!*exited)
    g_subprocess_force_exit (*process);
  mgw_test_wait_until (flag_set, exited, MGW_TEST_TIMEOUT_MS, "a child process to exit");
  g_clear_object (process);
}

/* --- teletel-server.py, the Python Teletel stand-in --- */

typedef struct
{
  GSubprocess      *process;
  gboolean          exited;
  GDataInputStream *out;
  GCancellable     *cancellable;
  gboolean          reading;    /* a line read is pending */
  guint             port;       /* from its PORT line */
  char             *uri;
  gboolean          stopped;    /* it printed STOPPED */
  GPtrArray        *frames;     /* of GBytes, one per FRAME line */
  GPtrArray        *kinds;      /* "text" or "binary", one per frame */
  GByteArray       *received;   /* every frame's bytes, concatenated */
  guint             n_bad;      /* BAD lines */
  GOutputStream    *in;         /* its stdin, owned by `process` */
  GPtrArray        *lines;      /* every line it printed, in order */
  GByteArray       *target_received;   /* every TARGET frame, concatenated */
  guint             n_errors;   /* ERROR and BAD-IDENT lines */
} PyServer;

static void py_read_next (PyServer *py);

static void
py_line_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  PyServer *py = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_auto(GStrv) words = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                    NULL, &error);
  if (line == NULL)   /* end of output, or cancelled */
    {
      py->reading = FALSE;
      return;
    }
  g_test_message ("teletel-server.py: %s", line);
  g_ptr_array_add (py->lines, g_strdup (line));
  words = g_strsplit (line, " ", 3);
  if (g_strcmp0 (words[0], "PORT") == 0 && words[1] != NULL)
    {
      py->port = (guint) g_ascii_strtoull (words[1], NULL, 10);
      py->uri = g_strdup_printf ("ws://127.0.0.1:%u/", py->port);
    }
  else if (g_strcmp0 (words[0], "FRAME") == 0 && words[1] != NULL)
    {
      g_autoptr(GByteArray) frame = g_byte_array_new ();

      g_assert_true (hex_append (frame, words[2] != NULL ? words[2] : ""));
      g_byte_array_append (py->received, frame->data, frame->len);
      g_ptr_array_add (py->kinds, g_strdup (words[1]));
      g_ptr_array_add (py->frames, g_byte_array_free_to_bytes (g_steal_pointer (&frame)));
    }
  else if (g_strcmp0 (words[0], "TARGET") == 0 && words[1] != NULL)
    g_assert_true (hex_append (py->target_received, words[2] != NULL ? words[2] : ""));
  else if (g_strcmp0 (words[0], "BAD") == 0)
    py->n_bad++;
  else if (g_strcmp0 (words[0], "ERROR") == 0 || g_strcmp0 (words[0], "BAD-IDENT") == 0)
    py->n_errors++;
  else if (g_strcmp0 (words[0], "STOPPED") == 0)
    py->stopped = TRUE;
  py_read_next (py);
}

static void
py_read_next (PyServer *py)
{
  py->reading = TRUE;
  g_data_input_stream_read_line_async (py->out, G_PRIORITY_DEFAULT, py->cancellable,
                                       py_line_cb, py);
}

static gboolean
py_started_or_gone (gpointer data)
{
  PyServer *py = data;
  return py->port != 0 || !py->reading;
}

/* Starts teletel-server.py and waits for its PORT line. `page`: what it
 * sends to each default-server connection, NULL for PYTHON_PAGE. */
static PyServer *
py_server_start (const char *page)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "lib", "teletel-server.py", NULL);
  g_autoptr(GString) page_hex = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  PyServer *py = g_new0 (PyServer, 1);

  py->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  py->kinds = g_ptr_array_new_with_free_func (g_free);
  py->received = g_byte_array_new ();
  py->lines = g_ptr_array_new_with_free_func (g_free);
  py->target_received = g_byte_array_new ();
  py->cancellable = g_cancellable_new ();
  g_subprocess_launcher_set_child_setup (launcher, mgw_test_die_with_parent, NULL, NULL);
  if (page == NULL)
    py->process = g_subprocess_launcher_spawn (launcher, &error, PYTHON, "-u", script, NULL);
  else
    {
      for (const char *p = page; *p != '\0'; p++)
        g_string_append_printf (page_hex, "%02x", (guint8) *p);
      py->process = g_subprocess_launcher_spawn (launcher, &error, PYTHON, "-u", script,
                                                 "--page-hex", page_hex->str, NULL);
    }
  g_assert_no_error (error);
  g_subprocess_wait_async (py->process, NULL, exited_cb, &py->exited);
  py->in = g_subprocess_get_stdin_pipe (py->process);
  py->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (py->process));
  py_read_next (py);
  mgw_test_wait_until (py_started_or_gone, py, CHILD_TIMEOUT_MS, "teletel-server.py to listen");
  if (py->port == 0)
    g_error ("teletel-server.py did not start (does %s have python3-websockets?); "
             "see its stderr above", PYTHON);
  return py;
}

/* SIGTERM, then waits for a clean exit: the script closes its
 * connections properly (the gateway answers on this main loop). */
static void
py_server_stop (PyServer *py)
{
  g_subprocess_send_signal (py->process, SIGTERM);
  mgw_test_wait_until (flag_set, &py->exited, MGW_TEST_TIMEOUT_MS,
                       "teletel-server.py to exit on SIGTERM");
  g_assert_true (g_subprocess_get_if_exited (py->process));
  g_assert_cmpint (g_subprocess_get_exit_status (py->process), ==, 0);
}

static gboolean
py_not_reading (gpointer data)
{
  return !((PyServer *) data)->reading;
}

static void
py_server_free (PyServer *py)
{
  kill_child (&py->process, &py->exited);
  g_cancellable_cancel (py->cancellable);
  mgw_test_wait_until (py_not_reading, py, MGW_TEST_TIMEOUT_MS,
                       "the end of teletel-server.py's output");
  g_object_unref (py->out);
  g_object_unref (py->cancellable);
  g_ptr_array_unref (py->frames);
  g_ptr_array_unref (py->kinds);
  g_byte_array_unref (py->received);
  g_ptr_array_unref (py->lines);
  g_byte_array_unref (py->target_received);
  g_free (py->uri);
  g_free (py);
}

/* Writes one command line on its stdin (a pipe: a short line never
 * blocks). */
static void
py_command (PyServer   *py,
            const char *format,
            ...) G_GNUC_PRINTF (2, 3);

static void
py_command (PyServer   *py,
            const char *format,
            ...)
{
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  g_test_message ("to teletel-server.py: %s", line);
  g_output_stream_write_all (py->in, line, strlen (line), NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (py->in, "\n", 1, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Index of the first line equal to `line` at or after `from`, or -1. */
static gssize
py_find_line (PyServer   *py,
              guint       from,
              const char *line)
{
  for (guint i = from; i < py->lines->len; i++)
    if (g_str_equal (py->lines->pdata[i], line))
      return i;
  return -1;
}

static guint
py_count_lines (PyServer   *py,
                const char *prefix)
{
  guint n = 0;

  for (guint i = 0; i < py->lines->len; i++)
    if (g_str_has_prefix (py->lines->pdata[i], prefix))
      n++;
  return n;
}

typedef struct
{
  PyServer   *py;
  guint       from;
  const char *line;
} LineWait;

static gboolean
line_printed (gpointer data)
{
  LineWait *w = data;
  return py_find_line (w->py, w->from, w->line) >= 0 || !w->py->reading;
}

/* Waits (bounded) for the script to print a line equal to the formatted
 * text at or after line `from`, and returns its index; dumps every line
 * on failure. */
static guint
py_wait_line (PyServer   *py,
              guint       from,
              const char *format,
              ...) G_GNUC_PRINTF (3, 4);

static guint
py_wait_line (PyServer   *py,
              guint       from,
              const char *format,
              ...)
{
  g_autofree char *line = NULL;
  LineWait w = { py, from, NULL };
  gint64 deadline = g_get_monotonic_time () + MGW_TEST_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  gssize at;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  w.line = line;
  while (!line_printed (&w) && g_get_monotonic_time () < deadline)
    mgw_test_run_for (10);
  at = py_find_line (py, from, line);
  if (at < 0)
    {
      g_autoptr(GString) all = g_string_new (NULL);

      for (guint i = 0; i < py->lines->len; i++)
        g_string_append_printf (all, "  %u: %s\n", i, (const char *) py->lines->pdata[i]);
      g_error ("%s waiting for teletel-server.py to print \"%s\" from line %u; it printed:\n%s",
               py->reading ? "timed out" : "end of output", line, from, all->str);
    }
  return at;
}

/* --- the fixture --- */

typedef struct
{
  MgwDemo       *demo;
  MgwTestServer *server;
  PyServer      *python;
  MgwConfig     *config;
  MgwGateway    *gateway;
  char          *tmpdir;
  /* the real telnet client on a pseudo-terminal */
  MgwTestTerminal *telnet;
  /* headless Chromium and the web server of its page */
  SoupServer    *web;
  guint          web_port;
  GSubprocess   *chromium;
  gboolean       chromium_exited;
  MgwTestPageResult result;
} Fixture;

static void
setup_common (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("moipgw-interop-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
setup_demo (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  setup_common (f);
  f->demo = mgw_demo_new ();
  g_assert_true (mgw_demo_start (f->demo, &error));
  g_assert_no_error (error);
  f->config = mgw_test_config_new (mgw_demo_get_uri (f->demo));
}

static void
setup_server (Fixture *f, gconstpointer data)
{
  setup_common (f);
  f->server = mgw_test_server_new (FALSE, NULL);
  f->config = mgw_test_config_new (f->server->uri);
}

static void
setup_python (Fixture *f, gconstpointer data)
{
  setup_common (f);
  if (!mgw_test_require_program (PYTHON, "python3-websockets"))
    return;
  f->python = py_server_start (NULL);
  f->config = mgw_test_config_new (f->python->uri);
}

/* The whole Teletel side in Python: teletel-server.py is the default
 * server (on "/", with a page without ENQROM), the command channel (on
 * "/command") and, later, the redirect target. */
static void
setup_python_teletel (Fixture *f, gconstpointer data)
{
  setup_common (f);
  if (!mgw_test_require_program (PYTHON, "python3-websockets"))
    return;
  f->python = py_server_start (PYTHON_PLAIN_PAGE);
  f->config = mgw_test_config_new (f->python->uri);
  f->config->no_command_channel = FALSE;
  g_free (f->config->command_uri);
  f->config->command_uri = g_strdup_printf ("ws://127.0.0.1:%u/command", f->python->port);
  f->config->command_retry_ms = 100;
}

static void
start (Fixture *f)
{
  f->gateway = mgw_test_gateway_new (f->config);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  kill_child (&f->chromium, &f->chromium_exited);
  g_clear_pointer (&f->telnet, mgw_test_terminal_free);
  g_clear_pointer (&f->python, py_server_free);
  if (f->gateway != NULL)
    {
      mgw_gateway_stop (f->gateway, NULL);
      mgw_test_run_for (50);
    }
  g_clear_object (&f->gateway);
  g_clear_pointer (&f->config, mgw_config_unref);
  g_clear_pointer (&f->server, mgw_test_server_free);
  g_clear_object (&f->demo);
  if (f->web != NULL)
    soup_server_disconnect (f->web);
  g_clear_object (&f->web);
  g_free (f->result.detail);
  if (f->tmpdir != NULL)
    mgw_test_remove_tree (f->tmpdir);
  g_free (f->tmpdir);
  mgw_test_run_for (20);
}

static gboolean
no_sessions (gpointer data)
{
  return mgw_gateway_get_n_sessions (data) == 0;
}

/* --- a. the Python Teletel stand-in as the default server --- */

typedef struct
{
  MgwTestTcp *tcp;
  MgwTestWs  *ws;
} User;

static GByteArray *
user_received (User *user)
{
  return user->tcp != NULL ? user->tcp->received : user->ws->received;
}

static void
user_send (User       *user,
           const void *data,
           gsize       len)
{
  if (user->tcp != NULL)
    mgw_test_tcp_send (user->tcp, data, len);
  else
    mgw_test_ws_send (user->ws, SOUP_WEBSOCKET_DATA_TEXT, data, len);
}

static void
user_wait_for (User       *user,
               const void *needle,
               gsize       len)
{
  wait_bytes (user_received (user), 0, needle, len, MGW_TEST_TIMEOUT_MS, "the user's input");
}

static void
py_wait_for (PyServer   *py,
             const void *needle,
             gsize       len)
{
  wait_bytes (py->received, 0, needle, len, MGW_TEST_TIMEOUT_MS,
              "the frames teletel-server.py printed");
}

static void
run_python_server (Fixture *f,
                   User    *user)
{
  g_autofree char *connected = g_strdup_printf ("Connected to '%s'\n\r", f->python->uri);
  GByteArray *in = user_received (user);
  gboolean pair_in_one_frame = FALSE;
  const char *kind = f->config->server_frame_type == MGW_FRAME_BINARY ? "binary" : "text";
  gssize at_connected, at_status, at_page;

  /* The greeting, the status line and the Python server's page, in that
   * order. */
  user_wait_for (user, S (PYTHON_PAGE));
  at_connected = find_bytes (in, 0, connected, strlen (connected));
  at_status = find_bytes (in, 0, S (STATUS ("CONNECT")));
  at_page = find_bytes (in, 0, S (PYTHON_PAGE));
  g_assert_cmpint (at_connected, >=, 0);
  g_assert_cmpint (at_status, >, at_connected);
  g_assert_cmpint (at_page, >, at_status);

  /* A function key split across two writes: SEP is held, then sent with
   * its code in one frame. */
  user_send (user, S ("a\x13"));
  py_wait_for (f->python, S ("a"));
  mgw_test_run_for (30);
  user_send (user, S ("\x41"));
  py_wait_for (f->python, S ("a\x13\x41"));
  user_wait_for (user, S (PYTHON_PAGE "a\x13\x41"));   /* the server's echo */

  /* Latin-1 bytes: a text frame's code points above 0x7f survive the
   * trip through another WebSocket implementation and back. */
  if (user->tcp != NULL)
    user_send (user, S ("\xe9\xff\xff"));   /* Telnet: IAC IAC is one 0xFF */
  else
    mgw_test_ws_send (user->ws, SOUP_WEBSOCKET_DATA_BINARY, S ("\xe9\xff"));
  py_wait_for (f->python, S ("a\x13\x41\xe9\xff"));
  if (user->tcp != NULL)
    user_wait_for (user, S ("a\x13\x41\xe9\xff\xff"));   /* doubled again */
  else
    user_wait_for (user, S ("a\x13\x41\xe9\xff"));

  g_assert_cmpuint (f->python->received->len, ==, 5);
  g_assert_cmpuint (f->python->n_bad, ==, 0);
  for (guint i = 0; i < f->python->frames->len; i++)
    {
      gsize len;
      const guint8 *p = g_bytes_get_data (f->python->frames->pdata[i], &len);

      g_assert_cmpuint (len, >, 0);
      g_assert_cmpuint (p[len - 1], !=, 0x13);
      if (memmem (p, len, "\x13\x41", 2) != NULL)
        pair_in_one_frame = TRUE;
      g_assert_cmpstr (f->python->kinds->pdata[i], ==, kind);
    }
  g_assert_true (pair_in_one_frame);
  if (user->ws != NULL)
    g_assert_cmpuint (user->ws->n_binary, ==, 0);

  /* The server goes away with a proper close: the user is told and
   * disconnected, and the script exits cleanly. */
  py_server_stop (f->python);
  g_assert_true (f->python->stopped);
  user_wait_for (user, S (STATUS ("END SERVER CLOSED")));
  if (user->tcp != NULL)
    mgw_test_tcp_wait_closed (user->tcp);
  else
    mgw_test_ws_wait_closed (user->ws);
  mgw_test_wait_until (no_sessions, f->gateway, MGW_TEST_TIMEOUT_MS, "every session to end");
}

/* A Telnet user through the gateway to a python3-websockets server:
 * greeting, CONNECT and page in order; a function key split across two
 * TCP writes arrives upstream in one frame; SEP never ends a frame; the
 * server's echo and latin-1 bytes come back; a server close is reported. */
static void
test_python_server_telnet (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  User user = { NULL, NULL };

  if (f->python == NULL)
    return;
  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  user.tcp = tcp;
  run_python_server (f, &user);
}

/* The same with a libsoup WebSocket user, whose key frames are split. */
static void
test_python_server_ws (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;
  User user = { NULL, NULL };

  if (f->python == NULL)
    return;
  start (f);
  uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (uri, NULL);
  g_assert_no_error (ws->error);
  user.ws = ws;
  run_python_server (f, &user);
}

/* --- b. a python3-websockets user --- */

typedef struct
{
  gboolean  done;
  char     *out;
  char     *err;
  GError   *error;
} Communicate;

static void
communicate_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result,
                                        &c->out, &c->err, &c->error);
  c->done = TRUE;
}

typedef struct
{
  char       *protocol;
  GByteArray *received;   /* every message, concatenated */
  guint       n_text;
  guint       n_binary;
  gboolean    echo_ok;
} WsUserRun;

/* Runs ws-user.py against the gateway and parses what it printed; fails
 * unless it exits 0. */
static void
run_ws_user (Fixture            *f,
             const char * const *protocols,
             WsUserRun          *run)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "lib", "ws-user.py", NULL);
  g_autofree char *uri = mgw_test_ws_uri (f->gateway);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  Communicate c = { FALSE, NULL, NULL, NULL };

  g_ptr_array_add (argv, (char *) PYTHON);
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, uri);
  for (guint i = 0; protocols != NULL && protocols[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) protocols[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_child_setup (launcher, mgw_test_die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicate_cb, &c);
  mgw_test_wait_until (flag_set, &c.done, CHILD_TIMEOUT_MS, "ws-user.py to finish");
  g_assert_no_error (c.error);
  g_test_message ("ws-user.py said:\n%s%s", c.out, c.err);
  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    g_error ("ws-user.py failed: %s", c.err);

  run->received = g_byte_array_new ();
  lines = g_strsplit (c.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "PROTOCOL "))
        {
          g_assert_null (run->protocol);
          g_assert_cmpuint (i, ==, 0);
          run->protocol = g_strdup (lines[i] + strlen ("PROTOCOL "));
        }
      else if (g_str_has_prefix (lines[i], "TEXT "))
        {
          run->n_text++;
          g_assert_true (hex_append (run->received, lines[i] + strlen ("TEXT ")));
        }
      else if (g_str_has_prefix (lines[i], "BINARY "))
        {
          run->n_binary++;
          g_assert_true (hex_append (run->received, lines[i] + strlen ("BINARY ")));
        }
      else if (g_str_equal (lines[i], "ECHO OK"))
        run->echo_ok = TRUE;
    }
  g_free (c.out);
  g_free (c.err);
}

static void
ws_user_run_clear (WsUserRun *run)
{
  g_free (run->protocol);
  g_byte_array_unref (run->received);
}

static void
assert_ws_user_saw_demo (WsUserRun *run)
{
  g_autoptr(GBytes) page = mgw_demo_get_page ();
  gsize page_len;
  const guint8 *page_data = g_bytes_get_data (page, &page_len);

  g_assert_true (run->echo_ok);
  /* Text frames, as browser emulators expect, never binary ones. */
  g_assert_cmpuint (run->n_text, >, 0);
  g_assert_cmpuint (run->n_binary, ==, 0);
  g_assert_true (mgw_test_bytes_contain (run->received, S (STATUS ("CONNECT"))));
  g_assert_true (mgw_test_bytes_contain (run->received, page_data, page_len));
  g_assert_true (mgw_test_bytes_contain (run->received, S ("\x1b\x39\x7b")));
}

/* A python3-websockets user: offered `binary tty`, the gateway picks the
 * first one; offered nothing, it picks nothing and still accepts. Both
 * times the user gets the demo page in text frames and its key echoed,
 * and its close ends the session. */
static void
test_python_user (Fixture *f, gconstpointer data)
{
  static const char * const offer[] = { "binary", "tty", NULL };
  WsUserRun run = { NULL };

  if (!mgw_test_require_program (PYTHON, "python3-websockets"))
    return;
  start (f);

  run_ws_user (f, offer, &run);
  g_assert_cmpstr (run.protocol, ==, "binary");
  assert_ws_user_saw_demo (&run);
  ws_user_run_clear (&run);

  memset (&run, 0, sizeof run);
  run_ws_user (f, NULL, &run);
  g_assert_cmpstr (run.protocol, ==, "None");
  assert_ws_user_saw_demo (&run);
  ws_user_run_clear (&run);

  mgw_test_wait_until (no_sessions, f->gateway, MGW_TEST_TIMEOUT_MS, "every session to end");
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->sessions_total[MGW_ACCESS_WS], ==, 2);
}

/* --- c. the real telnet client on a pseudo-terminal --- */

static void
spawn_telnet (Fixture *f)
{
  g_autofree char *rc = g_build_filename (f->tmpdir, ".telnetrc", NULL);
  g_autofree char *port = g_strdup_printf ("%u", mgw_gateway_get_telnet_port (f->gateway));
  const char *argv[] = { TELNET, "127.0.0.1", port, NULL };
  g_autoptr(GError) error = NULL;

  /* telnet reads $HOME/.telnetrc: have it trace the option negotiation
   * on the terminal. */
  g_file_set_contents (rc, "127.0.0.1 toggle options\n", -1, &error);
  g_assert_no_error (error);
  f->telnet = mgw_test_terminal_spawn (f->tmpdir, argv);
}

/* `telnet 127.0.0.1 PORT` as a person would run it: the gateway's WILL
 * ECHO / WILL SGA put it in character mode without local echo, so a
 * single key reaches the server at once, without Enter, and is not shown
 * twice; the server's bytes show once; the negotiation ends. */
static void
test_telnet_client (Fixture *f, gconstpointer data)
{
  MgwTestPeer *peer;
  gssize at;
  gsize mark;
  guint n_rcvd;

  if (!mgw_test_require_program (TELNET, "telnet (inetutils-telnet)"))
    return;
  start (f);
  spawn_telnet (f);
  /* Not up to its LF: a terminal still in line mode would show it as
   * CR LF. */
  wait_bytes (f->telnet->screen, 0, S ("\x1f\x40\x41" "CONNECT\x18"), MGW_TEST_TIMEOUT_MS,
              "the terminal");
  peer = mgw_test_server_wait_peer (f->server, 0);
  at = find_bytes (f->telnet->screen, 0, S ("\x1f\x40\x41" "CONNECT\x18"));
  mark = at + strlen ("\x1f\x40\x41" "CONNECT\x18");

  /* One key, no Enter: it arrives alone, within 2 s (line mode would
   * hold it until Enter, forever). */
  g_assert_cmpint (write (f->telnet->master, "q", 1), ==, 1);
  wait_bytes (peer->received, 0, S ("q"), 2000, "the upstream server's input");
  mgw_test_run_for (300);
  g_assert_cmpmem (peer->received->data, peer->received->len, "q", 1);
  /* No local echo: the server does not echo, so no 'q' on the screen. */
  g_assert_cmpuint (count_bytes (f->telnet->screen, mark, S ("q")), ==, 0);

  /* The server's bytes show exactly once. */
  mark = f->telnet->screen->len;
  mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_TEXT, S ("Z"));
  wait_bytes (f->telnet->screen, mark, S ("Z"), MGW_TEST_TIMEOUT_MS, "the terminal");
  mgw_test_run_for (200);
  g_assert_cmpuint (count_bytes (f->telnet->screen, mark, S ("Z")), ==, 1);
  g_assert_cmpuint (count_bytes (f->telnet->screen, mark, S ("q")), ==, 0);

  /* The negotiation is over and was short: each offer seen once (an
   * acknowledgement was never answered), and nothing more comes. */
  g_assert_cmpuint (count_bytes (f->telnet->screen, 0, S ("RCVD WILL ECHO")), ==, 1);
  g_assert_cmpuint (count_bytes (f->telnet->screen, 0, S ("RCVD WILL SUPPRESS GO AHEAD")), ==, 1);
  n_rcvd = count_bytes (f->telnet->screen, 0, S ("RCVD "));
  g_assert_cmpuint (n_rcvd, <=, 16);
  mgw_test_run_for (300);
  g_assert_cmpuint (count_bytes (f->telnet->screen, 0, S ("RCVD ")), ==, n_rcvd);
  g_assert_false (f->telnet->exited);
  g_assert_cmpuint (mgw_gateway_get_n_sessions_by_access (f->gateway, MGW_ACCESS_TELNET), ==, 1);

  {
    g_autofree char *screen = printable (f->telnet->screen->data, f->telnet->screen->len);
    g_test_message ("terminal: %s", screen);
  }
}

/* --- d. headless Chromium --- */

/* Served as /page.html?gw=PORT. Two sessions with the browser's own
 * WebSocket, then POST /result {ok, detail}. */
static const char browser_page[] =
  "<!doctype html>\n"
  "<html><head><meta charset=\"utf-8\"><title>moipgw interop</title></head><body>\n"
  "<script>\n"
  "\"use strict\";\n"
  "const gw = \"ws://127.0.0.1:\" + new URLSearchParams(location.search).get(\"gw\") + \"/\";\n"
  "function session(protocols) {\n"
  "  return new Promise((resolve, reject) => {\n"
  "    const label = protocols ? \"[\" + protocols.join(\",\") + \"]\" : \"no subprotocol\";\n"
  "    const ws = protocols ? new WebSocket(gw, protocols) : new WebSocket(gw);\n"
  "    let text = \"\", typed = false, finished = false;\n"
  "    const fail = (why) => {\n"
  "      if (finished) return;\n"
  "      finished = true;\n"
  "      clearTimeout(timer);\n"
  "      ws.close();\n"
  "      reject(new Error(label + \": \" + why + \"; received \" + JSON.stringify(text.slice(0, 400))));\n"
  "    };\n"
  "    const timer = setTimeout(() => fail(\"timed out\"), 10000);\n"
  "    ws.onopen = () => {\n"
  "      const want = protocols ? \"binary\" : \"\";\n"
  "      if (ws.protocol !== want) fail(\"protocol \" + JSON.stringify(ws.protocol));\n"
  "    };\n"
  "    ws.onmessage = (event) => {\n"
  "      if (typeof event.data !== \"string\") { fail(\"a binary frame\"); return; }\n"
  "      text += event.data;\n"
  "      if (typed && event.data.includes(\"k\")) {\n"
  "        finished = true;\n"
  "        clearTimeout(timer);\n"
  "        ws.close();\n"
  "        resolve(label + \": ok, protocol \" + JSON.stringify(ws.protocol));\n"
  "      } else if (!typed && text.includes(\"service de d\") && text.includes(\"\\x1b9{\")) {\n"
  "        typed = true;\n"
  "        ws.send(\"k\");\n"
  "      }\n"
  "    };\n"
  "    ws.onerror = () => fail(\"error event\");\n"
  "    ws.onclose = (event) => fail(\"closed, code \" + event.code);\n"
  "  });\n"
  "}\n"
  "function report(ok, detail) {\n"
  "  fetch(\"/result\", { method: \"POST\", headers: { \"Content-Type\": \"application/json\" },\n"
  "                       body: JSON.stringify({ ok: ok, detail: detail }) });\n"
  "}\n"
  "(async () => {\n"
  "  try {\n"
  "    const plain = await session(null);\n"
  "    const offered = await session([\"binary\", \"tty\"]);\n"
  "    report(true, plain + \"; \" + offered);\n"
  "  } catch (e) {\n"
  "    report(false, String(e));\n"
  "  }\n"
  "})();\n"
  "</script></body></html>\n";

static void
start_web_server (Fixture *f)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  GSList *listeners;

  f->web = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->web, "/page.html", mgw_test_page_cb, (gpointer) browser_page, NULL);
  soup_server_add_handler (f->web, "/result", mgw_test_page_result_cb, &f->result, NULL);
  soup_server_listen (f->web, address, 0, &error);
  g_assert_no_error (error);
  listeners = soup_server_get_listeners (f->web);
  bound = g_socket_get_local_address (listeners->data, &error);
  g_assert_no_error (error);
  g_slist_free (listeners);
  f->web_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
browser_done (gpointer data)
{
  Fixture *f = data;
  return f->result.posted || f->chromium_exited;
}

/* Chromium's own WebSocket, as browser emulators (MiEdit) use it: with no
 * subprotocol and with ["binary","tty"] (it must see "binary"), it gets
 * only text frames, the demo page with its ENQROM, and the echo of a key. */
static void
test_browser (Fixture *f, gconstpointer data)
{
  g_autofree char *log = g_build_filename (f->tmpdir, "chromium.log", NULL);
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  if (!mgw_test_require_program (MGW_TEST_CHROMIUM, "chromium"))
    return;
  start (f);
  start_web_server (f);
  url = g_strdup_printf ("http://127.0.0.1:%u/page.html?gw=%u", f->web_port,
                         mgw_gateway_get_ws_port (f->gateway));

  f->chromium = mgw_test_chromium_spawn (f->tmpdir, url, NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait_async (f->chromium, NULL, exited_cb, &f->chromium_exited);

  deadline = g_get_monotonic_time () + BROWSER_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  while (!browser_done (f) && g_get_monotonic_time () < deadline)
    mgw_test_run_for (50);
  if (!f->result.posted)
    {
      g_autofree char *text = NULL;

      g_file_get_contents (log, &text, NULL, NULL);
      g_error ("no result from the page after %d ms (Chromium %s); its log:\n%s",
               BROWSER_TIMEOUT_MS, f->chromium_exited ? "exited" : "still running",
               text != NULL ? text : "(none)");
    }
  g_test_message ("browser: %s", f->result.detail);
  if (!f->result.ok)
    g_error ("the page failed: %s", f->result.detail);
  mgw_test_wait_until (no_sessions, f->gateway, MGW_TEST_TIMEOUT_MS, "every session to end");
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->sessions_total[MGW_ACCESS_WS], ==, 2);
}

/* --- e. the whole Teletel side on python3-websockets --- */

static gboolean
command_up (gpointer data)
{
  MgwCommandLink *link = mgw_gateway_get_command_link (data);
  return link != NULL && mgw_command_link_get_connected (link);
}

/* The Teletel handshake (docs/protocol.md, Command channel; Redirection
 * and the return) end to end against another WebSocket implementation:
 * the command channel, the ENQROM identification and a redirection are
 * all served by teletel-server.py. The Teletel side sees, byte for byte, the
 * compat messages in order and the identification; the target sees its
 * subprotocol chosen among the offer, the user's keys but never
 * Connexion/Fin; the user is back on the default server afterwards. */
static void
test_python_teletel_redirect (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GString) cmds = g_string_new (NULL);
  g_autofree char *ident = NULL;
  g_autofree char *target_uri = NULL;
  g_autofree char *command = NULL;
  g_autofree char *expected = NULL;
  PyServer *py = f->python;
  GByteArray *in;
  guint16 port;
  guint at;
  gsize mark;
  gssize at_status, at_page;

  if (py == NULL)
    return;
  start (f);
  mgw_test_wait_until (command_up, f->gateway, MGW_TEST_TIMEOUT_MS,
                       "the command channel to teletel-server.py");

  /* A Telnet user: announced with its address and port. */
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  in = tcp->received;
  local = g_socket_get_local_address (tcp->socket, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  py_wait_line (py, 0, "CMD NewTelnetUser,127.0.0.1,%u,0", port);
  g_assert_cmpuint (mgw_session_get_peer_port (mgw_gateway_lookup_session (f->gateway, 0)),
                    ==, port);
  wait_bytes (in, 0, S (STATUS ("CONNECT") PYTHON_PLAIN_PAGE), MGW_TEST_TIMEOUT_MS,
              "the user's input");

  /* No ENQROM yet, no identification. Then the server's first ENQROM:
   * the identification goes up, exactly, and the ENQROM to the user. */
  mgw_test_run_for (100);
  g_assert_cmpuint (py_count_lines (py, "IDENT"), ==, 0);
  g_assert_cmpuint (py->received->len, ==, 0);
  mark = in->len;
  py_command (py, "ENQROM");
  py_wait_line (py, 0, "IDENT PID=0,IP=127.0.0.1,PORT=%u,Access=Telnet", port);
  wait_bytes (in, mark, S ("\x1b\x39\x7b"), MGW_TEST_TIMEOUT_MS, "the user's input");
  ident = g_strdup_printf ("\x01\x7f\x7f\x7f\x04PID=0,IP=127.0.0.1,PORT=%u,Access=Telnet\n", port);
  py_wait_for (py, ident, strlen (ident));
  g_assert_cmpmem (py->received->data, py->received->len, ident, strlen (ident));
  /* (the script echoes it: the user gets it back, harmless) */
  wait_bytes (in, mark, ident, strlen (ident), MGW_TEST_TIMEOUT_MS, "the user's input");

  /* CONNECT to the target, on the same Python server. */
  target_uri = g_strdup_printf ("ws://127.0.0.1:%u/target", py->port);
  command = g_strdup_printf ("PID=0,7,CONNECT,%s,None,[\"binary\",\"tty\"]", target_uri);
  mark = in->len;
  py_command (py, "SEND %s", command);
  at = py_wait_line (py, 0, "CMD UserGotCommand,,,0,%s", command);
  at = py_wait_line (py, at + 1, "CMD UserRedirecting,,,0,7");
  py_wait_line (py, at + 1, "CMD UserRedirected,,,0,7");
  py_wait_line (py, 0, "TARGET-PROTOCOL binary");
  /* The status line, then the target's page. */
  wait_bytes (in, mark, S ("PYTHON TARGET"), MGW_TEST_TIMEOUT_MS, "the user's input");
  at_status = find_bytes (in, mark, S (STATUS ("CONNECT")));
  at_page = find_bytes (in, mark, S ("PYTHON TARGET"));
  g_assert_cmpint (at_status, >=, 0);
  g_assert_cmpint (at_page, >, at_status);

  /* Keys go to the target, which echoes them. */
  mark = in->len;
  mgw_test_tcp_send (tcp, S ("hi"));
  wait_bytes (py->target_received, 0, S ("hi"), MGW_TEST_TIMEOUT_MS,
              "the frames the target printed");
  wait_bytes (in, mark, S ("hi"), MGW_TEST_TIMEOUT_MS, "the user's input");

  /* Connexion/Fin, split across two writes: the target is closed, the
   * key reaches no one. */
  mgw_test_tcp_send (tcp, S ("\x13"));
  mgw_test_run_for (20);
  mgw_test_tcp_send (tcp, S ("\x49"));
  at = py_wait_line (py, 0, "CMD UserRequestedClose,,,0,7");
  py_wait_line (py, at + 1, "CMD UserRedirectEnded,,,0,7");
  py_wait_line (py, 0, "TARGET-CLOSED");
  g_assert_cmpmem (py->target_received->data, py->target_received->len, "hi", 2);
  g_assert_cmpuint (py_count_lines (py, "TARGET-PROTOCOL "), ==, 1);
  g_assert_cmpuint (py_count_lines (py, "TARGET-CLOSED"), ==, 1);

  /* Back on the default server, which got nothing meanwhile. */
  mgw_test_tcp_send (tcp, S ("ok"));
  py_wait_for (py, S ("ok"));
  g_assert_cmpuint (py->received->len, ==, strlen (ident) + 2);
  g_assert_cmpmem (py->received->data + strlen (ident), 2, "ok", 2);

  /* The user leaves. */
  g_socket_close (tcp->socket, NULL);
  py_wait_line (py, 0, "CMD UserGone,,,0");
  mgw_test_wait_until (no_sessions, f->gateway, MGW_TEST_TIMEOUT_MS, "every session to end");

  /* Every command-channel message, in order, nothing else. */
  for (guint i = 0; i < py->lines->len; i++)
    if (g_str_has_prefix (py->lines->pdata[i], "CMD "))
      g_string_append_printf (cmds, "%s\n", (const char *) py->lines->pdata[i] + strlen ("CMD "));
  expected = g_strdup_printf ("NewTelnetUser,127.0.0.1,%u,0\n"
                              "UserGotCommand,,,0,%s\n"
                              "UserRedirecting,,,0,7\n"
                              "UserRedirected,,,0,7\n"
                              "UserRequestedClose,,,0,7\n"
                              "UserRedirectEnded,,,0,7\n"
                              "UserGone,,,0\n",
                              port, command);
  g_assert_cmpstr (cmds->str, ==, expected);
  g_assert_cmpuint (py_count_lines (py, "IDENT "), ==, 1);
  g_assert_cmpuint (py->n_errors, ==, 0);
  g_assert_cmpuint (py->n_bad, ==, 0);

  /* It closes the command channel properly and exits cleanly. */
  py_server_stop (py);
  g_assert_true (py->stopped);
}

/* Run by hand, without meson test's G_TEST_SRCDIR: the scripts are next
 * to this file, whose path meson gives relative to the build root, and
 * the program is in <build root>/tests. */
static void
default_srcdir (const char *argv0)
{
  g_autofree char *src_dir = g_path_get_dirname (__FILE__);
  g_autofree char *program = NULL;
  g_autofree char *tests_dir = NULL;
  g_autofree char *build_root = NULL;
  g_autofree char *found = NULL;

  if (g_getenv ("G_TEST_SRCDIR") != NULL)
    return;
  program = g_canonicalize_filename (argv0, NULL);
  tests_dir = g_path_get_dirname (program);
  build_root = g_path_get_dirname (tests_dir);
  /* An absolute src_dir is kept as it is. */
  found = g_canonicalize_filename (src_dir, build_root);
  g_setenv ("G_TEST_SRCDIR", found, TRUE);
}

#define ADD(path, setup, func) \
  g_test_add (path, Fixture, NULL, setup, func, teardown)

int
main (int argc, char **argv)
{
  default_srcdir (argv[0]);
  mgw_test_init (&argc, &argv);
  ADD ("/interop/python-server/telnet", setup_python, test_python_server_telnet);
  ADD ("/interop/python-server/ws", setup_python, test_python_server_ws);
  ADD ("/interop/python-user", setup_demo, test_python_user);
  ADD ("/interop/telnet-client", setup_server, test_telnet_client);
  ADD ("/interop/browser", setup_demo, test_browser);
  ADD ("/interop/python-teletel/redirect", setup_python_teletel, test_python_teletel_redirect);
  return g_test_run ();
}
