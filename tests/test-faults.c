/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-faults.c: fault injection (issue 8): servers that are down, die,
 * stall or never finish a handshake, a command channel that flaps for
 * 30 s, signals at bad moments. Real processes and sockets on 127.0.0.1;
 * leaks are judged from the descriptors of a moipgwd process
 * (/proc/<pid>/fd) before and after.
 *
 * Already covered elsewhere, and not repeated here: the default server
 * refusing or silent (/gateway/failure/...), a redirect target refused,
 * silent or dying (/redirect/target-...), the channel restarted 20 times
 * (/redirect/bug-b/channel-flaps), SIGTERM with users connected
 * (/daemon/demo-and-sigterm), kill -9 during a burst of bans
 * (/daemon/kill-during-bans). */
#include "config.h"

#include "mgw-gateway.h"
#include "mgw-test-util.h"

#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"
#define S(lit) lit, sizeof lit - 1
#define PYTHON "/usr/bin/python3"

static gboolean
no_sessions (gpointer data)
{
  return mgw_gateway_get_n_sessions (data) == 0;
}

static void
stop_gateway (MgwGateway *gateway)
{
  mgw_gateway_stop (gateway, NULL);
  mgw_test_run_for (50);
  g_object_unref (gateway);
}

/* A configuration file for a daemon, in a directory removed at the end
 * of the test. */
static char *
write_conf (const char *text)
{
  g_autofree char *dir = mgw_test_tmp_dir ();
  char *path = g_build_filename (dir, "moipgw.conf", NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

/* --state-dir=<a fresh directory>. */
static char *
state_dir_arg (void)
{
  g_autofree char *dir = mgw_test_tmp_dir ();
  return g_strdup_printf ("--state-dir=%s", dir);
}

typedef struct
{
  GPid pid;
  guint expected;
} FdWait;

static gboolean
fds_back (gpointer data)
{
  FdWait *w = data;
  return mgw_test_count_fds (w->pid) <= w->expected;
}

static void
wait_fds (GPid pid, guint baseline, const char *what)
{
  FdWait w = { pid, baseline };
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (!fds_back (&w) && g_get_monotonic_time () < end)
    mgw_test_run_for (50);
  if (mgw_test_count_fds (pid) > baseline)
    g_error ("%s: moipgwd holds %u descriptors, %u before", what, mgw_test_count_fds (pid),
             baseline);
}

/* --- the default server down at start, then up --- */

static void
test_server_down_then_up (void)
{
  g_autoptr(MgwTestServer) server = mgw_test_server_new (TRUE, "UP AT LAST");
  g_autoptr(MgwConfig) config = mgw_test_config_new (server->uri);
  MgwGateway *gateway;

  mgw_test_server_stop (server);
  gateway = mgw_test_gateway_new (config);
  {
    g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1",
                                                      mgw_gateway_get_telnet_port (gateway));
    mgw_test_tcp_wait_for (tcp, S (STATUS ("SERVER UNAVAILABLE, RETRY LATER")));
    mgw_test_tcp_wait_closed (tcp);
  }
  mgw_test_server_start (server);
  /* No restart, no reload: the next users are served. */
  {
    g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1",
                                                      mgw_gateway_get_telnet_port (gateway));
    g_autoptr(MgwTestRawWs) ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (gateway), NULL);

    mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT") "UP AT LAST"));
    mgw_test_tcp_wait_for (ws->tcp, S ("UP AT LAST"));
    mgw_test_tcp_send (tcp, S ("typed"));
    mgw_test_tcp_wait_for (tcp, S ("UP AT LASTtyped"));
  }
  mgw_test_wait_until (no_sessions, gateway, MGW_TEST_TIMEOUT_MS, "every session to end");
  stop_gateway (gateway);
}

/* --- an upstream that accepts and never finishes the handshake --- */

static gboolean
half_handshake_cb (GSocketService    *service,
                   GSocketConnection *connection,
                   GObject           *source,
                   gpointer           user_data)
{
  GPtrArray *held = user_data;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  /* The status line of a 101 and then nothing: not a handshake yet. */
  g_output_stream_write_all (out, S ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"),
                             NULL, NULL, NULL);
  g_ptr_array_add (held, g_object_ref (connection));
  return TRUE;
}

static void
test_upstream_half_handshake (void)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwConfig) config = NULL;
  g_autofree char *uri = NULL;
  guint16 port;
  MgwGateway *gateway;
  gint64 begin;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (half_handshake_cb), held);
  uri = g_strdup_printf ("ws://127.0.0.1:%u/", port);
  config = mgw_test_config_new (uri);
  config->connect_timeout = 1;
  gateway = mgw_test_gateway_new (config);
  {
    g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1",
                                                      mgw_gateway_get_telnet_port (gateway));
    g_autoptr(MgwTestRawWs) ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (gateway), NULL);

    begin = g_get_monotonic_time ();
    mgw_test_tcp_wait_for (tcp, S (STATUS ("SERVER UNAVAILABLE, RETRY LATER")));
    mgw_test_tcp_wait_for (ws->tcp, S (STATUS ("SERVER UNAVAILABLE, RETRY LATER")));
    /* The configured connect timeout, not later. */
    g_assert_cmpint (g_get_monotonic_time () - begin, >=, 900 * 1000);
    g_assert_cmpint (g_get_monotonic_time () - begin, <, 2500 * 1000);
    mgw_test_tcp_wait_closed (tcp);
    mgw_test_raw_ws_wait_close (ws, NULL);
  }
  g_assert_cmpuint (held->len, ==, 2);
  mgw_test_wait_until (no_sessions, gateway, MGW_TEST_TIMEOUT_MS, "every session to end");
  stop_gateway (gateway);
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
}

/* --- the default server dies under 200 sessions --- */

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *out;
  guint16           port;
  gboolean          exited;
} Python;

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
python_exited_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  ((Python *) user_data)->exited = TRUE;
}

static void
python_discard_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, NULL);
  if (line != NULL)
    g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source), G_PRIORITY_DEFAULT,
                                         NULL, python_discard_cb, NULL);
}

/* teletel-server.py (python3-websockets), a real server in its own
 * process, so that it can die for real. */
static Python *
python_start (void)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "lib", "teletel-server.py", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  Python *py = g_new0 (Python, 1);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  py->process = g_subprocess_launcher_spawn (launcher, &error, PYTHON, "-u", script, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (py->process, NULL, python_exited_cb, py);
  py->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (py->process));
  /* Its first line, at once: PORT <n>. */
  line = g_data_input_stream_read_line (py->out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || !g_str_has_prefix (line, "PORT "))
    g_error ("teletel-server.py did not start (python3-websockets?): %s", line);
  py->port = (guint16) g_ascii_strtoull (line + 5, NULL, 10);
  /* The rest is read and dropped, so that it never blocks on its pipe. */
  g_data_input_stream_read_line_async (py->out, G_PRIORITY_DEFAULT, NULL, python_discard_cb, NULL);
  return py;
}

static gboolean
python_exited (gpointer data)
{
  return ((Python *) data)->exited;
}

static void
python_free (Python *py)
{
  if (!py->exited)
    {
      g_subprocess_force_exit (py->process);
      mgw_test_wait_until (python_exited, py, MGW_TEST_TIMEOUT_MS, "teletel-server.py to exit");
    }
  g_object_unref (py->out);
  g_object_unref (py->process);
  g_free (py);
}

typedef struct
{
  GPtrArray *users;   /* of MgwTestTcp (Telnet, or the TCP of a raw WebSocket) */
  const char *needle;
} AllWait;

static gboolean
all_have (gpointer data)
{
  AllWait *w = data;

  for (guint i = 0; i < w->users->len; i++)
    if (!mgw_test_bytes_contain (((MgwTestTcp *) w->users->pdata[i])->received, w->needle,
                                 strlen (w->needle)))
      return FALSE;
  return TRUE;
}

static gboolean
all_closed (gpointer data)
{
  AllWait *w = data;

  for (guint i = 0; i < w->users->len; i++)
    if (!((MgwTestTcp *) w->users->pdata[i])->closed)
      return FALSE;
  return TRUE;
}

/* 150 Telnet and 50 WebSocket users on a real server that is then
 * killed (SIGKILL): every user gets a status line and is closed, and
 * moipgwd is back to the descriptors it had before they came. */
static void
test_server_dies_under_load (void)
{
  Python *py = python_start ();
  g_autofree char *uri = g_strdup_printf ("ws://127.0.0.1:%u/", py->port);
  g_autofree char *conf = write_conf ("[session]\nmax-sessions-per-address=0\n"
                                      "[bans]\nmin-session=0\n");
  g_autofree char *conf_arg = g_strdup_printf ("--config=%s", conf);
  g_autofree char *state_arg = state_dir_arg ();
  g_autoptr(MgwTestDaemon) d = mgw_test_daemon_spawn ("--no-dbus", "-n", "--tcp", "0", "--ws", "0",
                                                      "-i", "127.0.0.1", "-v", uri, conf_arg,
                                                      state_arg, NULL);
  g_autoptr(GPtrArray) users = g_ptr_array_new ();
  g_autoptr(GPtrArray) telnet = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_tcp_free);
  g_autoptr(GPtrArray) ws = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_raw_ws_free);
  guint16 telnet_port = mgw_test_daemon_port (d, "Telnet");
  guint16 ws_port = mgw_test_daemon_port (d, "WebSocket");
  GPid pid = mgw_test_daemon_pid (d);
  AllWait w = { users, "PYTHON TELETEL" };
  guint baseline;

  /* One user first: what the gateway sets up once, for its first
   * session, is no leak. */
  {
    g_autoptr(MgwTestTcp) first = mgw_test_tcp_connect ("127.0.0.1", telnet_port);
    mgw_test_tcp_wait_for (first, S ("PYTHON TELETEL"));
  }
  mgw_test_run_for (300);
  baseline = mgw_test_count_fds (pid);
  for (guint i = 0; i < 150; i++)
    {
      MgwTestTcp *tcp = mgw_test_tcp_connect ("127.0.0.1", telnet_port);
      g_ptr_array_add (telnet, tcp);
      g_ptr_array_add (users, tcp);
    }
  for (guint i = 0; i < 50; i++)
    {
      MgwTestRawWs *raw = mgw_test_raw_ws_connect (ws_port, NULL);
      g_ptr_array_add (ws, raw);
      g_ptr_array_add (users, raw->tcp);
    }
  mgw_test_wait_until (all_have, &w, 20000, "the page on every session");
  g_assert_cmpuint (mgw_test_count_fds (pid), >=, baseline + 400);

  g_subprocess_send_signal (py->process, SIGKILL);
  w.needle = STATUS ("END SERVER CLOSED");
  mgw_test_wait_until (all_have, &w, 10000, "a status line for every user");
  mgw_test_wait_until (all_closed, &w, 10000, "every user to be closed");
  wait_fds (pid, baseline, "after the server died");
  g_assert_false (d->exited);

  g_ptr_array_set_size (users, 0);
  python_free (py);
  g_subprocess_send_signal (d->process, SIGTERM);
  mgw_test_daemon_wait_exit (d, 2000);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 0);
}

/* --- a redirect target that stalls mid-stream --- */

/* A WebSocket server written by hand: it completes the handshake, sends
 * one text frame, and from then on neither reads nor writes; its receive
 * buffer is small, so what the gateway sends it piles up at once. */
typedef struct
{
  GSocket   *listener;
  guint16    port;
  GPtrArray *held;        /* of StallConn */
  GSource   *source;
} StallTarget;

typedef struct
{
  GSocket *socket;
  GString *request;
  GSource *source;
} StallConn;

static void
stall_conn_free (StallConn *c)
{
  if (c->source != NULL)
    {
      g_source_destroy (c->source);
      g_source_unref (c->source);
    }
  g_object_unref (c->socket);
  g_string_free (c->request, TRUE);
  g_free (c);
}

/* Reads the request (the gateway runs in this thread: no blocking),
 * answers, and from then on stalls. */
static gboolean
stall_read_cb (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  StallConn *c = user_data;
  g_autoptr(GByteArray) answer = g_byte_array_new ();
  g_autofree char *accept = NULL;
  g_autofree char *head = NULL;
  g_autofree char *k = NULL;
  const char *key;
  char buf[4096];
  gssize n = g_socket_receive (socket, buf, sizeof buf, NULL, NULL);

  if (n > 0)
    g_string_append_len (c->request, buf, n);
  if (n > 0 && strstr (c->request->str, "\r\n\r\n") == NULL)
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&c->source, g_source_unref);
  if (n <= 0)
    return G_SOURCE_REMOVE;
  key = strstr (c->request->str, "Sec-WebSocket-Key: ");
  g_assert_nonnull (key);
  key += strlen ("Sec-WebSocket-Key: ");
  k = g_strndup (key, strcspn (key, "\r"));
  accept = mgw_test_ws_accept_key (k);
  head = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
  g_byte_array_append (answer, (const guint8 *) head, strlen (head));
  mgw_test_ws_frame_encode (answer, MGW_WS_FIN | MGW_WS_OP_TEXT, S ("STALL PAGE"), FALSE);
  g_socket_send (socket, (const char *) answer->data, answer->len, NULL, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
stall_accept_cb (GSocket *listener, GIOCondition condition, gpointer user_data)
{
  StallTarget *t = user_data;
  GSocket *socket = g_socket_accept (listener, NULL, NULL);
  StallConn *c;

  if (socket == NULL)
    return G_SOURCE_CONTINUE;
  g_socket_set_blocking (socket, FALSE);
  c = g_new0 (StallConn, 1);
  c->socket = socket;
  c->request = g_string_new (NULL);
  c->source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (c->source, G_SOURCE_FUNC (stall_read_cb), c, NULL);
  g_source_attach (c->source, NULL);
  g_ptr_array_add (t->held, c);
  return G_SOURCE_CONTINUE;
}

static StallTarget *
stall_target_new (void)
{
  StallTarget *t = g_new0 (StallTarget, 1);
  g_autoptr(GError) error = NULL;

  t->listener = mgw_test_silent_listener (&t->port);
  /* Inherited by the accepted sockets. */
  g_socket_set_option (t->listener, SOL_SOCKET, SO_RCVBUF, 4096, &error);
  g_assert_no_error (error);
  t->held = g_ptr_array_new_with_free_func ((GDestroyNotify) stall_conn_free);
  t->source = g_socket_create_source (t->listener, G_IO_IN, NULL);
  g_source_set_callback (t->source, G_SOURCE_FUNC (stall_accept_cb), t, NULL);
  g_source_attach (t->source, NULL);
  return t;
}

static void
stall_target_free (StallTarget *t)
{
  g_source_destroy (t->source);
  g_source_unref (t->source);
  g_ptr_array_unref (t->held);
  g_object_unref (t->listener);
  g_free (t);
}

static gboolean
command_up (gpointer data)
{
  MgwCommandLink *link = mgw_gateway_get_command_link (data);
  return link != NULL && mgw_command_link_get_connected (link);
}

/* Redirected to a target that stops reading and writing, the user has
 * typed more than the target takes; Connexion/Fin still brings the user
 * back to Teletel at once (not at the redirect inactivity timeout). */
static void
test_redirect_target_stalls (void)
{
  g_autoptr(MgwTestServer) teletel = mgw_test_server_new (TRUE, NULL);
  g_autoptr(MgwTestServer) command = mgw_test_server_new (FALSE, NULL);
  g_autoptr(MgwConfig) config = mgw_test_config_new (teletel->uri);
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autofree char *line = NULL;
  g_autofree char *typed = g_malloc (1024);
  StallTarget *target = stall_target_new ();
  MgwGateway *gateway;
  MgwTestPeer *peer;
  gsize sent = 0;
  gint64 begin;

  config->no_command_channel = FALSE;
  g_free (config->command_uri);
  config->command_uri = g_strdup (command->uri);
  config->command_retry_ms = 100;
  config->queue_limit = 8192;
  gateway = mgw_test_gateway_new (config);
  mgw_test_wait_until (command_up, gateway, MGW_TEST_TIMEOUT_MS, "the command channel");
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  peer = mgw_test_server_wait_peer (teletel, 0);
  line = g_strdup_printf ("PID=0,5,CONNECT,ws://127.0.0.1:%u/,None,[]", target->port);
  mgw_test_peer_send (mgw_test_server_open_peer (command), SOUP_WEBSOCKET_DATA_TEXT, line,
                      strlen (line));
  mgw_test_tcp_wait_for (tcp, S ("STALL PAGE"));

  /* Type until the gateway stops taking it (or 1 MB). */
  memset (typed, 'k', 1024);
  begin = g_get_monotonic_time ();
  while (sent < 1024 * 1024 && g_get_monotonic_time () - begin < 2 * G_USEC_PER_SEC)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (tcp->socket, typed, 1024, NULL, &error);
      if (n > 0)
        sent += n;
      mgw_test_run_for (1);
    }
  g_test_message ("%" G_GSIZE_FORMAT " bytes typed to the stalled target", sent);
  g_assert_cmpuint (sent, >, 8192);

  /* Connexion/Fin, with room to send it. */
  mgw_test_run_for (300);
  {
    g_autoptr(GError) error = NULL;
    gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;
    gssize n = -1;
    while (n < 0 && g_get_monotonic_time () < until)
      {
        g_clear_error (&error);
        n = g_socket_send (tcp->socket, "\x13\x49", 2, NULL, &error);
        mgw_test_run_for (10);
      }
    if (n != 2)
      g_test_message ("Connexion/Fin could not even be sent: the gateway stopped reading");
  }
  begin = g_get_monotonic_time ();
  /* Connexion/Fin ends the stalled redirection. */
  mgw_test_wait_session_state (gateway, 0, MGW_SESSION_TELETEL, 3000);
  mgw_test_server_wait_frame (command, "UserRedirectEnded,,,0,5");
  mgw_test_tcp_send (tcp, S ("home"));
  mgw_test_peer_wait_for (peer, S ("home"));
  stop_gateway (gateway);
  stall_target_free (target);
}

/* --- the command channel flapping every 100 ms for 30 s --- */

static guint
count_frames (MgwTestServer *server, const char *prefix)
{
  g_autofree char *frames = mgw_test_server_frames (server);
  g_auto(GStrv) lines = g_strsplit (frames, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      n++;
  return n;
}

typedef struct
{
  MgwTestServer *server;
  const char    *prefix;
  guint          at_least;
} CountWait;

static gboolean
count_reached (gpointer data)
{
  CountWait *w = data;
  return count_frames (w->server, w->prefix) >= w->at_least;
}

static void
send_connect (MgwTestServer *command, guint id, const char *uri)
{
  g_autofree char *line = g_strdup_printf ("PID=%u,%u,CONNECT,%s,None,[]", id, id, uri);
  MgwTestPeer *peer = mgw_test_server_open_peer (command);

  if (peer != NULL)
    mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_TEXT, line, strlen (line));
}

/* Redirects users 0..n-1 and waits until Teletel heard of each. */
static void
redirect_all (MgwTestServer *command, guint n, const char *uri)
{
  for (guint id = 0; id < n; id++)
    {
      g_autofree char *prefix = g_strdup_printf ("UserRedirected,,,%u,", id);
      CountWait w = { command, prefix, count_frames (command, prefix) + 1 };

      send_connect (command, id, uri);
      mgw_test_wait_until (count_reached, &w, MGW_TEST_TIMEOUT_MS, prefix);
    }
}

static void
end_all (GPtrArray *users, guint n, MgwTestServer *command)
{
  for (guint id = 0; id < n; id++)
    {
      g_autofree char *prefix = g_strdup_printf ("UserRedirectEnded,,,%u,", id);
      CountWait w = { command, prefix, count_frames (command, prefix) + 1 };

      mgw_test_tcp_send (users->pdata[id], S ("\x13\x49"));
      mgw_test_wait_until (count_reached, &w, MGW_TEST_TIMEOUT_MS, prefix);
    }
}

static gboolean
channel_open (gpointer data)
{
  return mgw_test_server_open_peer (data) != NULL;
}

/* Ten users, five of them redirected; the channel goes down and up
 * every 100 ms for 30 s while users come and go, are redirected and come
 * back. After: the same users all there, redirections over the channel
 * work, and moipgwd holds the descriptors it held before. */
static void
test_channel_flapping (void)
{
  g_autoptr(MgwTestServer) teletel = mgw_test_server_new (TRUE, NULL);
  g_autoptr(MgwTestServer) command = mgw_test_server_new (FALSE, NULL);
  g_autoptr(MgwTestServer) target = mgw_test_server_new (TRUE, "TARGET");
  g_autofree char *conf_text = g_strdup_printf ("[command]\nuri=%s\nretry-interval=1\n"
                                                "[session]\nmax-sessions-per-address=0\n"
                                                "[bans]\nmin-session=0\n"
                                                /* the target is on loopback */
                                                "[redirect]\nallow=ws:127.0.0.1:*\n",
                                                command->uri);
  g_autofree char *conf = write_conf (conf_text);
  g_autofree char *conf_arg = g_strdup_printf ("--config=%s", conf);
  g_autofree char *state_arg = state_dir_arg ();
  g_autoptr(MgwTestDaemon) d = mgw_test_daemon_spawn ("--no-dbus", "--tcp", "0", "--ws", "off",
                                                      "-i", "127.0.0.1", "-v", teletel->uri,
                                                      conf_arg, state_arg, NULL);
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_tcp_free);
  guint16 port = mgw_test_daemon_port (d, "Telnet");
  GPid pid = mgw_test_daemon_pid (d);
  gboolean redirected[10] = { FALSE };
  guint baseline, cycles = 0, churn = 0;
  gint64 end;

  mgw_test_server_wait_peer (command, 0);
  for (guint i = 0; i < 10; i++)
    {
      MgwTestTcp *tcp = mgw_test_tcp_connect ("127.0.0.1", port);
      mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
      g_ptr_array_add (users, tcp);
    }
  redirect_all (command, 5, target->uri);
  mgw_test_run_for (200);
  baseline = mgw_test_count_fds (pid);

  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      guint id = 5 + cycles % 5;

      mgw_test_server_stop (command);
      mgw_test_run_for (50);
      /* While it is down: a user comes and goes, one presses
       * Connexion/Fin (a no-op unless redirected). */
      {
        g_autoptr(MgwTestTcp) passing = mgw_test_tcp_connect ("127.0.0.1", port);
        mgw_test_run_for (5);
        churn++;
      }
      if (redirected[id])
        {
          mgw_test_tcp_send (users->pdata[id], S ("\x13\x49"));
          redirected[id] = FALSE;
        }
      mgw_test_server_start (command);
      mgw_test_run_for (45);
      /* Maybe up again: redirect one (lost if it went down meanwhile). */
      if (cycles % 3 == 0 && !redirected[id] && mgw_test_server_open_peer (command) != NULL)
        {
          send_connect (command, id, target->uri);
          redirected[id] = TRUE;
        }
      cycles++;
    }
  g_test_message ("%u cycles, %u passing users", cycles, churn);
  g_assert_cmpuint (cycles, >=, 150);

  /* Back to the state of the baseline: users 5..9 on Teletel (whatever
   * the flapping did to them), 0..4 redirected, the channel up. */
  mgw_test_wait_until (channel_open, command, MGW_TEST_TIMEOUT_MS, "the channel to come back");
  for (guint id = 5; id < 10; id++)
    mgw_test_tcp_send (users->pdata[id], S ("\x13\x49"));
  mgw_test_run_for (500);
  /* The channel works: every redirected user is brought back and sent
   * away again over it. */
  end_all (users, 5, command);
  redirect_all (command, 5, target->uri);
  for (guint i = 0; i < users->len; i++)
    {
      MgwTestTcp *tcp = users->pdata[i];
      g_autofree char *key = g_strdup_printf ("<%u>", i);

      g_assert_false (tcp->closed);
      mgw_test_tcp_send (tcp, key, strlen (key));
      mgw_test_tcp_wait_for (tcp, key, strlen (key));
    }
  wait_fds (pid, baseline, "after 30 s of a flapping channel");
  g_assert_false (d->exited);
}

/* --- a wrong or unreachable command channel is told --- */

static guint
count_output (MgwTestDaemon *d, const char *needle)
{
  guint n = 0;

  for (const char *at = strstr (d->err->str, needle); at != NULL;
       at = strstr (at + 1, needle))
    n++;
  return n;
}

/* moipgwd started with -c naming a port where nothing listens: the log
 * says so within a second, with the URI and the reason, once for the
 * whole outage however often it retries; it says when the channel comes
 * back, and the next loss is told once again. A default server that is
 * down is told with its reason when the first user meets it. */
static void
test_channel_unreachable_told (void)
{
  g_autoptr(MgwTestServer) command = mgw_test_server_new (FALSE, NULL);
  g_autofree char *conf = write_conf ("[command]\nretry-interval=1\n");
  g_autofree char *conf_arg = g_strdup_printf ("--config=%s", conf);
  g_autofree char *state_arg = state_dir_arg ();
  g_autofree char *uri = g_strdup_printf ("ws://127.0.0.1:%u", command->port);
  g_autofree char *cannot = g_strdup_printf ("command channel: cannot connect to %s", uri);
  g_autofree char *back = g_strdup_printf ("command channel connected to %s after ", uri);
  g_autofree char *lost = g_strdup_printf ("command channel to %s lost", uri);
  g_autofree char *server = g_strdup_printf ("ws://127.0.0.1:%u", mgw_test_closed_port ());
  g_autofree char *unreachable = g_strdup_printf ("default server '%s' unreachable: ", server);
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autoptr(MgwTestTcp) user = NULL;
  gint64 started;

  mgw_test_server_stop (command);
  started = g_get_monotonic_time ();
  d = mgw_test_daemon_spawn ("--no-dbus", "--tcp", "0", "--ws", "off", "-i", "127.0.0.1",
                             "-v", server, "-c", uri, conf_arg, state_arg, NULL);
  mgw_test_daemon_wait_output (d, cannot);
  g_assert_cmpint (g_get_monotonic_time () - started, <, G_USEC_PER_SEC);
  g_assert_nonnull (strstr (d->err->str, "refused"));
  /* Two retries later, still one line. */
  mgw_test_run_for (2500);
  g_assert_cmpuint (count_output (d, cannot), ==, 1);

  /* The default server down too: the first user's failure says why. */
  user = mgw_test_tcp_connect ("127.0.0.1", mgw_test_daemon_port (d, "Telnet"));
  mgw_test_daemon_wait_output (d, unreachable);
  mgw_test_tcp_wait_closed (user);

  mgw_test_server_start (command);
  mgw_test_daemon_wait_output (d, back);
  mgw_test_server_stop (command);
  mgw_test_daemon_wait_output (d, lost);
  mgw_test_run_for (2500);
  g_assert_cmpuint (count_output (d, lost), ==, 1);
  g_assert_cmpuint (count_output (d, cannot), ==, 1);
  g_assert_false (d->exited);
}

/* --- signals --- */

/* Bans made just before SIGTERM (inside the 200 ms during which saves
 * are coalesced) are in banned.json when moipgwd exits; each connected
 * user gets a status line; exit 0 within 2 s. */
static void
test_sigterm_saves_bans (void)
{
  g_autofree char *state = mgw_test_tmp_dir ();
  g_autofree char *banned = g_build_filename (state, "banned.json", NULL);
  g_autofree char *state_arg = g_strdup_printf ("--state-dir=%s", state);
  g_autoptr(MgwTestDaemon) d = mgw_test_daemon_spawn ("--no-dbus", "-n", "--demo", "--tcp", "0",
                                                      "--ws", "0", "-i", "127.0.0.1",
                                                      "--trusted-proxy", "127.0.0.1", state_arg,
                                                      NULL);
  guint16 port = mgw_test_daemon_port (d, "Telnet");
  guint16 ws_port = mgw_test_daemon_port (d, "WebSocket");
  g_autoptr(MgwTestTcp) user = mgw_test_tcp_connect ("127.0.0.1", port);
  g_autoptr(MgwTestRawWs) ws = mgw_test_raw_ws_connect (ws_port, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  gint64 sent;

  mgw_test_tcp_wait_for (user, S (STATUS ("CONNECT")));
  mgw_test_tcp_wait_for (ws->tcp, S ("CONNECT"));
  for (guint i = 1; i <= 5; i++)
    {
      g_autoptr(MgwTestTcp) scanner = mgw_test_tcp_connect ("127.0.0.1", port);
      g_autofree char *header = g_strdup_printf ("PROXY TCP4 198.51.100.%u 192.0.2.1 %u 23\r\n",
                                                 i, 1000 + i);
      mgw_test_tcp_send (scanner, header, strlen (header));
      mgw_test_run_for (20);
    }
  mgw_test_daemon_wait_output (d, "Banned 198.51.100.5 ");
  sent = g_get_monotonic_time ();
  g_subprocess_send_signal (d->process, SIGTERM);
  mgw_test_tcp_wait_for (user, S (STATUS ("GATEWAY STOPPED, SORRY")));
  mgw_test_tcp_wait_for (ws->tcp, S ("GATEWAY STOPPED, SORRY"));
  mgw_test_tcp_wait_closed (user);
  mgw_test_daemon_wait_exit (d, 2000);
  g_assert_cmpint (g_get_monotonic_time () - sent, <, 2 * G_USEC_PER_SEC);
  g_assert_true (g_subprocess_get_if_exited (d->process));
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 0);

  g_assert_true (json_parser_load_from_file (parser, banned, &error));
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char *address = g_strdup_printf ("198.51.100.%u", i);
      if (!json_object_has_member (object, address))
        g_error ("%s was banned but is not in banned.json", address);
    }
}

/* SIGHUP with a moipgw.conf that does not parse: the configuration in
 * force is kept (new users see the old welcome), the daemon goes on; a
 * good file on the next SIGHUP is applied. */
static void
test_sighup_broken_config (void)
{
  g_autofree char *conf = write_conf ("[telnet]\nwelcome=FIRST\\n\\r\n");
  g_autofree char *conf_arg = g_strdup_printf ("--config=%s", conf);
  g_autofree char *state_arg = state_dir_arg ();
  g_autoptr(MgwTestDaemon) d = mgw_test_daemon_spawn ("--no-dbus", "-n", "--demo", "--tcp", "0",
                                                      "--ws", "off", "-i", "127.0.0.1", conf_arg,
                                                      state_arg, NULL);
  guint16 port = mgw_test_daemon_port (d, "Telnet");
  g_autoptr(MgwTestTcp) before = mgw_test_tcp_connect ("127.0.0.1", port);
  static const char *broken[] = {
    "[telnet]\nwelcome=SECOND\\n\\r\nwelcom=typo\n",
    "[telnet]\nwelcome=SECOND\\n\\r\n[session]\nqueue-limit=lots\n",
    "[telnet\nwelcome=SECOND\n",
    "\xff\xfe[telnet]\nwelcome=SECOND\n",
  };

  mgw_test_tcp_wait_for (before, S ("FIRST"));
  for (gsize i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autoptr(MgwTestTcp) after = NULL;
      guint kept = 0;
      const char *p = d->err->str;

      while ((p = strstr (p, "the configuration in force is kept")) != NULL)
        kept++, p++;
      g_assert_true (g_file_set_contents (conf, broken[i], -1, NULL));
      g_subprocess_send_signal (d->process, SIGHUP);
      {
        gint64 until = g_get_monotonic_time () + MGW_TEST_TIMEOUT_MS * 1000;
        guint now = 0;
        while (now <= kept && g_get_monotonic_time () < until && !d->exited)
          {
            mgw_test_run_for (20);
            now = 0;
            for (p = d->err->str; (p = strstr (p, "the configuration in force is kept")) != NULL; p++)
              now++;
          }
        if (now <= kept)
          g_error ("broken file %" G_GSIZE_FORMAT ": no refusal in the log:\n%s", i, d->err->str);
      }
      g_assert_false (d->exited);
      after = mgw_test_tcp_connect ("127.0.0.1", port);
      mgw_test_tcp_wait_for (after, S (STATUS ("CONNECT")));
      g_assert_true (mgw_test_bytes_contain (after->received, S ("FIRST")));
    }
  g_assert_false (before->closed);

  g_assert_true (g_file_set_contents (conf, "[telnet]\nwelcome=SECOND\\n\\r\n", -1, NULL));
  g_subprocess_send_signal (d->process, SIGHUP);
  mgw_test_daemon_wait_output (d, "configuration reloaded");
  {
    g_autoptr(MgwTestTcp) after = mgw_test_tcp_connect ("127.0.0.1", port);
    mgw_test_tcp_wait_for (after, S ("SECOND"));
  }
}

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  g_test_add_func ("/faults/server-down-then-up", test_server_down_then_up);
  g_test_add_func ("/faults/upstream-half-handshake", test_upstream_half_handshake);
  g_test_add_func ("/faults/server-dies-under-200-sessions", test_server_dies_under_load);
  g_test_add_func ("/faults/redirect-target-stalls", test_redirect_target_stalls);
  g_test_add_func ("/faults/channel-flapping-30s", test_channel_flapping);
  g_test_add_func ("/faults/channel-unreachable-told", test_channel_unreachable_told);
  g_test_add_func ("/faults/sigterm-saves-bans", test_sigterm_saves_bans);
  g_test_add_func ("/faults/sighup-broken-config", test_sighup_broken_config);
  return g_test_run ();
}
