/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-test-util.c: helpers shared by the end-to-end tests. */
#include "config.h"

#include "mgw-test-util.h"
#include "mgw-minitel.h"

#include <json-glib/json-glib.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

static void
quiet_log_handler (const char     *domain,
                   GLogLevelFlags  level,
                   const char     *message,
                   gpointer        user_data)
{
  if ((level & G_LOG_LEVEL_DEBUG) && !GPOINTER_TO_INT (user_data))
    return;
  g_log_default_handler (domain, level, message, NULL);
}

void
mgw_test_init (int    *argc,
               char ***argv)
{
  gboolean debug = g_getenv ("G_MESSAGES_DEBUG") != NULL;

  g_test_init (argc, argv, NULL);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  /* g_test_init() turns debug output on; keep the logs readable. */
  if (!debug)
    g_unsetenv ("G_MESSAGES_DEBUG");
  g_log_set_debug_enabled (debug);
  /* Logs go to stderr, away from the TAP stream on stdout. */
  g_log_writer_default_set_use_stderr (TRUE);
  g_log_set_default_handler (quiet_log_handler, GINT_TO_POINTER (debug));
}

guint
mgw_test_timeout_ms (void)
{
  static guint timeout_ms;

  if (timeout_ms == 0)
    {
      const char *factor = g_getenv ("MOIPGW_TEST_TIMEOUT_FACTOR");
      guint64 f = factor != NULL ? g_ascii_strtoull (factor, NULL, 10) : 1;

      timeout_ms = 5000 * (guint) CLAMP (f, 1, 100);
    }
  return timeout_ms;
}

typedef struct
{
  gboolean timed_out;
} WaitState;

static gboolean
wait_timeout_cb (gpointer user_data)
{
  WaitState *state = user_data;

  state->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
mgw_test_wait_until (MgwTestCondition  cond,
                     gpointer          data,
                     guint             timeout_ms,
                     const char       *what)
{
  WaitState state = { FALSE };
  guint id = g_timeout_add (timeout_ms, wait_timeout_cb, &state);

  while (!cond (data) && !state.timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (state.timed_out)
    g_error ("timed out after %u ms waiting for %s", timeout_ms, what);
  g_source_remove (id);
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

void
mgw_test_run_for (guint ms)
{
  WaitState state = { FALSE };

  g_timeout_add (ms, wait_timeout_cb, &state);
  while (!never (NULL) && !state.timed_out)
    g_main_context_iteration (NULL, TRUE);
}

gboolean
mgw_test_bytes_contain (GByteArray *haystack,
                        const void *needle,
                        gsize       len)
{
  if (haystack->len == 0)
    return len == 0;
  return memmem (haystack->data, haystack->len, needle, len) != NULL;
}

typedef struct
{
  GByteArray *haystack;
  const void *needle;
  gsize       len;
  gboolean   *closed;
} Needle;

static gboolean
needle_found (gpointer data)
{
  Needle *n = data;
  return mgw_test_bytes_contain (n->haystack, n->needle, n->len);
}

void
mgw_test_bytes_wait (GByteArray *haystack,
                     const void *needle,
                     gsize       len,
                     const char *where)
{
  Needle n = { haystack, needle, len, NULL };
  WaitState state = { FALSE };
  guint id = g_timeout_add (MGW_TEST_TIMEOUT_MS, wait_timeout_cb, &state);

  while (!needle_found (&n) && !state.timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (state.timed_out)
    {
      g_autoptr(GString) dump = g_string_new (NULL);
      for (guint i = 0; i < haystack->len && i < 600; i++)
        {
          guint8 b = haystack->data[i];
          if (b >= 0x20 && b < 0x7f)
            g_string_append_c (dump, b);
          else
            g_string_append_printf (dump, "\\x%02x", b);
        }
      g_error ("timed out waiting for %" G_GSIZE_FORMAT " bytes in %s; have %u: %s",
               len, where, haystack->len, dump->str);
    }
  g_source_remove (id);
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* --- raw TCP client --- */

static gboolean
tcp_read_cb (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  MgwTestTcp *tcp = user_data;
  guint8 buf[4096];
  gssize n = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, NULL);

  if (n <= 0)
    {
      tcp->closed = TRUE;
      g_clear_pointer (&tcp->source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  g_byte_array_append (tcp->received, buf, n);
  return G_SOURCE_CONTINUE;
}

MgwTestTcp *
mgw_test_tcp_connect (const char *address,
                      guint16     port)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (inet, port);
  g_autoptr(GError) error = NULL;
  MgwTestTcp *tcp = g_new0 (MgwTestTcp, 1);

  tcp->socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                              G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_connect (tcp->socket, sa, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (tcp->socket, FALSE);
  tcp->received = g_byte_array_new ();
  tcp->source = g_socket_create_source (tcp->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (tcp->source, G_SOURCE_FUNC (tcp_read_cb), tcp, NULL);
  g_source_attach (tcp->source, NULL);
  return tcp;
}

/* Stops (or resumes) reading: the peer's writes pile up in the kernel. */
void
mgw_test_tcp_pause (MgwTestTcp *tcp,
                    gboolean    paused)
{
  if (paused && tcp->source != NULL)
    {
      g_source_destroy (tcp->source);
      g_clear_pointer (&tcp->source, g_source_unref);
    }
  else if (!paused && tcp->source == NULL && !tcp->closed)
    {
      tcp->source = g_socket_create_source (tcp->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
      g_source_set_callback (tcp->source, G_SOURCE_FUNC (tcp_read_cb), tcp, NULL);
      g_source_attach (tcp->source, NULL);
    }
}

void
mgw_test_tcp_send (MgwTestTcp *tcp,
                   const void *data,
                   gsize       len)
{
  g_autoptr(GError) error = NULL;
  gssize n = g_socket_send (tcp->socket, data, len, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (n, ==, (gssize) len);
}

void
mgw_test_tcp_wait_for (MgwTestTcp *tcp,
                       const void *needle,
                       gsize       len)
{
  mgw_test_bytes_wait (tcp->received, needle, len, "the TCP client's input");
}

void
mgw_test_tcp_wait_closed (MgwTestTcp *tcp)
{
  mgw_test_wait_until (flag_set, &tcp->closed, MGW_TEST_TIMEOUT_MS,
                       "the TCP connection to close");
}

void
mgw_test_tcp_free (MgwTestTcp *tcp)
{
  if (tcp->source != NULL)
    {
      g_source_destroy (tcp->source);
      g_source_unref (tcp->source);
    }
  g_socket_close (tcp->socket, NULL);
  g_object_unref (tcp->socket);
  g_byte_array_unref (tcp->received);
  g_free (tcp);
}

/* --- WebSocket client --- */

static void
append_message (GByteArray            *to,
                SoupWebsocketDataType  type,
                GBytes                *message)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    g_assert_true (mgw_utf8_to_latin1 (data, len, to, NULL));
  else
    g_byte_array_append (to, (const guint8 *) data, len);
}

static void
ws_message_cb (SoupWebsocketConnection *conn,
               SoupWebsocketDataType    type,
               GBytes                  *message,
               MgwTestWs               *ws)
{
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    ws->n_text++;
  else
    ws->n_binary++;
  append_message (ws->received, type, message);
}

static void
ws_closed_cb (SoupWebsocketConnection *conn,
              MgwTestWs               *ws)
{
  ws->closed = TRUE;
}

static void
ws_connected_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  MgwTestWs *ws = user_data;

  ws->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
                                                    &ws->error);
  ws->done = TRUE;
  if (ws->conn != NULL)
    {
      g_signal_connect (ws->conn, "message", G_CALLBACK (ws_message_cb), ws);
      g_signal_connect (ws->conn, "closed", G_CALLBACK (ws_closed_cb), ws);
    }
}

/* Returns once the handshake is done; ws->error says if it failed. */
MgwTestWs *
mgw_test_ws_connect (const char         *uri,
                     const char * const *protocols)
{
  MgwTestWs *ws = g_new0 (MgwTestWs, 1);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);

  g_assert_nonnull (msg);
  ws->session = soup_session_new ();
  ws->received = g_byte_array_new ();
  soup_session_websocket_connect_async (ws->session, msg, NULL, (char **) protocols,
                                        G_PRIORITY_DEFAULT, NULL, ws_connected_cb, ws);
  mgw_test_wait_until (flag_set, &ws->done, MGW_TEST_TIMEOUT_MS,
                       "the WebSocket handshake");
  return ws;
}

void
mgw_test_ws_send (MgwTestWs             *ws,
                  SoupWebsocketDataType  type,
                  const void            *data,
                  gsize                  len)
{
  g_autoptr(GBytes) bytes = NULL;

  /* A test may still type while the gateway is closing on it. */
  if (soup_websocket_connection_get_state (ws->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    bytes = mgw_latin1_to_utf8 (data, len);
  else
    bytes = g_bytes_new (data, len);
  soup_websocket_connection_send_message (ws->conn, type, bytes);
}

void
mgw_test_ws_wait_for (MgwTestWs  *ws,
                      const void *needle,
                      gsize       len)
{
  mgw_test_bytes_wait (ws->received, needle, len, "the WebSocket client's input");
}

void
mgw_test_ws_wait_closed (MgwTestWs *ws)
{
  mgw_test_wait_until (flag_set, &ws->closed, MGW_TEST_TIMEOUT_MS,
                       "the WebSocket client to be closed");
}

void
mgw_test_ws_free (MgwTestWs *ws)
{
  if (ws->conn != NULL)
    {
      g_signal_handlers_disconnect_by_data (ws->conn, ws);
      if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (ws->conn);
    }
  g_clear_error (&ws->error);
  g_object_unref (ws->session);
  g_byte_array_unref (ws->received);
  g_free (ws);
}

/* --- upstream server --- */

static void
peer_free (MgwTestPeer *peer)
{
  g_signal_handlers_disconnect_matched (peer->conn, G_SIGNAL_MATCH_DATA, 0, 0,
                                        NULL, NULL, peer);
  if (soup_websocket_connection_get_state (peer->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (peer->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  g_object_unref (peer->conn);
  g_byte_array_unref (peer->received);
  g_ptr_array_unref (peer->frames);
  g_free (peer->protocol);
  g_free (peer);
}

static void
peer_message_cb (SoupWebsocketConnection *conn,
                 SoupWebsocketDataType    type,
                 GBytes                  *message,
                 MgwTestPeer             *peer)
{
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  MgwTestServer *server = g_object_get_data (G_OBJECT (conn), "mgw-test-server");

  append_message (frame, type, message);
  g_ptr_array_add (peer->frames, g_bytes_new (frame->data, frame->len));
  g_byte_array_append (peer->received, frame->data, frame->len);
  if (server->echo && frame->len > 0)
    mgw_test_peer_send (peer, type, frame->data, frame->len);
}

static void
peer_closed_cb (SoupWebsocketConnection *conn,
                MgwTestPeer             *peer)
{
  peer->closed_at = g_get_monotonic_time ();
}

static void
server_websocket_cb (SoupServer              *soup_server,
                     SoupServerMessage       *msg,
                     const char              *path,
                     SoupWebsocketConnection *conn,
                     MgwTestServer           *server)
{
  MgwTestPeer *peer = g_new0 (MgwTestPeer, 1);

  peer->conn = g_object_ref (conn);
  peer->received = g_byte_array_new ();
  peer->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  peer->protocol = g_strdup (soup_websocket_connection_get_protocol (conn));
  g_object_set_data (G_OBJECT (conn), "mgw-test-server", server);
  g_signal_connect (conn, "message", G_CALLBACK (peer_message_cb), peer);
  g_signal_connect (conn, "closed", G_CALLBACK (peer_closed_cb), peer);
  g_ptr_array_add (server->peers, peer);
  if (server->greeting != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (server->greeting, &len);
      mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_TEXT, data, len);
    }
}

MgwTestServer *
mgw_test_server_new (gboolean    echo,
                     const char *greeting)
{
  return mgw_test_server_new_tls (echo, greeting, NULL);
}

/* With a certificate: a wss:// server. */
MgwTestServer *
mgw_test_server_new_tls (gboolean         echo,
                         const char      *greeting,
                         GTlsCertificate *certificate)
{
  MgwTestServer *server = g_new0 (MgwTestServer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  GSList *listeners;

  server->echo = echo;
  server->greeting = greeting ? g_bytes_new (greeting, strlen (greeting)) : NULL;
  server->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  server->server = soup_server_new ("tls-certificate", certificate, NULL);
  server->tls = certificate != NULL;
  soup_server_add_websocket_handler (server->server, NULL, NULL, NULL,
                                     (SoupServerWebsocketCallback) server_websocket_cb,
                                     server, NULL);
  soup_server_listen (server->server, address,
                      server->tls ? SOUP_SERVER_LISTEN_HTTPS : 0, &error);
  g_assert_no_error (error);
  listeners = soup_server_get_listeners (server->server);
  bound = g_socket_get_local_address (listeners->data, &error);
  g_assert_no_error (error);
  g_slist_free (listeners);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  server->uri = g_strdup_printf ("%s://127.0.0.1:%u/", server->tls ? "wss" : "ws",
                                 server->port);
  return server;
}

void
mgw_test_server_stop (MgwTestServer *server)
{
  for (guint i = 0; i < server->peers->len; i++)
    {
      MgwTestPeer *peer = server->peers->pdata[i];
      if (soup_websocket_connection_get_state (peer->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (peer->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    }
  soup_server_disconnect (server->server);
}

void
mgw_test_server_start (MgwTestServer *server)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, server->port);
  g_autoptr(GError) error = NULL;

  soup_server_listen (server->server, address,
                      server->tls ? SOUP_SERVER_LISTEN_HTTPS : 0, &error);
  g_assert_no_error (error);
}

gboolean
mgw_test_server_has_frame (MgwTestServer *server,
                           const char    *text)
{
  gsize len = strlen (text);

  for (guint i = 0; i < server->peers->len; i++)
    {
      MgwTestPeer *peer = server->peers->pdata[i];
      for (guint j = 0; j < peer->frames->len; j++)
        {
          gsize size;
          const char *data = g_bytes_get_data (peer->frames->pdata[j], &size);
          if (size == len && memcmp (data, text, len) == 0)
            return TRUE;
        }
    }
  return FALSE;
}

typedef struct
{
  MgwTestServer *server;
  const char    *text;
} FrameWait;

static gboolean
frame_arrived (gpointer data)
{
  FrameWait *w = data;
  return mgw_test_server_has_frame (w->server, w->text);
}

void
mgw_test_server_wait_frame (MgwTestServer *server,
                            const char    *text)
{
  FrameWait w = { server, text };
  WaitState state = { FALSE };
  guint id = g_timeout_add (MGW_TEST_TIMEOUT_MS, wait_timeout_cb, &state);

  while (!frame_arrived (&w) && !state.timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (state.timed_out)
    {
      g_autofree char *frames = mgw_test_server_frames (server);
      g_error ("timed out waiting for the frame '%s'; frames so far:\n%s", text, frames);
    }
  g_source_remove (id);
}

char *
mgw_test_server_frames (MgwTestServer *server)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < server->peers->len; i++)
    {
      MgwTestPeer *peer = server->peers->pdata[i];
      for (guint j = 0; j < peer->frames->len; j++)
        {
          gsize size;
          const char *data = g_bytes_get_data (peer->frames->pdata[j], &size);
          g_string_append_len (out, data, size);
          g_string_append_c (out, '\n');
        }
    }
  return g_string_free (out, FALSE);
}

MgwTestPeer *
mgw_test_server_open_peer (MgwTestServer *server)
{
  for (guint i = server->peers->len; i > 0; i--)
    {
      MgwTestPeer *peer = server->peers->pdata[i - 1];
      if (soup_websocket_connection_get_state (peer->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        return peer;
    }
  return NULL;
}

typedef struct
{
  MgwTestServer *server;
  guint          index;
} PeerWait;

static gboolean
peer_arrived (gpointer data)
{
  PeerWait *w = data;
  return w->server->peers->len > w->index;
}

MgwTestPeer *
mgw_test_server_wait_peer (MgwTestServer *server,
                           guint          index)
{
  PeerWait w = { server, index };

  mgw_test_wait_until (peer_arrived, &w, MGW_TEST_TIMEOUT_MS,
                       "a connection to the upstream server");
  return server->peers->pdata[index];
}

void
mgw_test_peer_send (MgwTestPeer           *peer,
                    SoupWebsocketDataType  type,
                    const void            *data,
                    gsize                  len)
{
  g_autoptr(GBytes) bytes = NULL;

  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    bytes = mgw_latin1_to_utf8 (data, len);
  else
    bytes = g_bytes_new (data, len);
  soup_websocket_connection_send_message (peer->conn, type, bytes);
}

void
mgw_test_peer_wait_for (MgwTestPeer *peer,
                        const void  *needle,
                        gsize        len)
{
  mgw_test_bytes_wait (peer->received, needle, len, "the upstream server's input");
}

static gboolean
peer_closed (gpointer data)
{
  return ((MgwTestPeer *) data)->closed_at != 0;
}

void
mgw_test_peer_wait_closed (MgwTestPeer *peer)
{
  mgw_test_wait_until (peer_closed, peer, MGW_TEST_TIMEOUT_MS,
                       "the upstream connection to close");
}

void
mgw_test_server_free (MgwTestServer *server)
{
  g_ptr_array_unref (server->peers);
  soup_server_disconnect (server->server);
  g_object_unref (server->server);
  g_clear_pointer (&server->greeting, g_bytes_unref);
  g_strfreev (server->protocols);
  g_free (server->uri);
  g_free (server);
}

static void
remove_tree_free (char *path)
{
  mgw_test_remove_tree (path);
  g_free (path);
}

/* A fresh directory, removed with what it holds when the test ends. */
char *
mgw_test_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *path = g_dir_make_tmp ("moipgw-test-XXXXXX", &error);

  g_assert_no_error (error);
  g_test_queue_destroy ((GDestroyNotify) remove_tree_free, g_strdup (path));
  return path;
}

/* --- moipgwd as a process ($MOIPGWD) --- */


char *
mgw_test_empty_config (void)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("moipgw-test-XXXXXX.conf", &path, &error);

  g_assert_no_error (error);
  close (fd);
  return path;
}

static void
daemon_read_line_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  MgwTestDaemon *d = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, NULL);
  if (line == NULL)
    return;
  g_string_append (d->err, line);
  g_string_append_c (d->err, '\n');
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source), G_PRIORITY_DEFAULT,
                                       NULL, daemon_read_line_cb, d);
}

static void
daemon_exited_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  MgwTestDaemon *d = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  d->exited = TRUE;
}

void
mgw_test_add_wrapper (GPtrArray *argv)
{
  const char *wrapper = g_getenv ("MOIPGW_TEST_WRAPPER");
  g_auto(GStrv) words = NULL;
  g_autoptr(GError) error = NULL;

  if (wrapper == NULL || *wrapper == '\0')
    return;
  if (!g_shell_parse_argv (wrapper, NULL, &words, &error))
    g_error ("MOIPGW_TEST_WRAPPER: %s", error->message);
  for (guint i = 0; words[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (words[i]));
}

static MgwTestDaemon *
daemon_spawn_valist (const char * const *prefix,
                     const char         *first,
                     va_list             args)
{
  MgwTestDaemon *d = g_new0 (MgwTestDaemon, 1);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) err = NULL;

  d->config_file = mgw_test_empty_config ();
  for (guint i = 0; prefix != NULL && prefix[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (prefix[i]));
  mgw_test_add_wrapper (argv);
  g_ptr_array_add (argv, g_strdup (g_getenv ("MOIPGWD")));
  g_ptr_array_add (argv, g_strdup_printf ("--config=%s", d->config_file));
  /* No admin console on its fixed port: tests run side by side. */
  g_ptr_array_add (argv, g_strdup ("--display=off"));
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  g_ptr_array_add (argv, NULL);

  d->err = g_string_new (NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  /* A test that fails half-way leaves no daemon behind. */
  g_subprocess_launcher_set_child_setup (launcher, mgw_test_die_with_parent, NULL, NULL);
  d->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                             &error);
  g_assert_no_error (error);
  err = g_data_input_stream_new (g_subprocess_get_stdout_pipe (d->process));
  g_data_input_stream_read_line_async (err, G_PRIORITY_DEFAULT, NULL, daemon_read_line_cb, d);
  g_subprocess_wait_async (d->process, NULL, daemon_exited_cb, d);
  return d;
}

MgwTestDaemon *
mgw_test_daemon_spawn (const char *first, ...)
{
  MgwTestDaemon *d;
  va_list args;

  va_start (args, first);
  d = daemon_spawn_valist (NULL, first, args);
  va_end (args);
  return d;
}

/* The same, started through `prefix` (e.g. prlimit and its options). */
MgwTestDaemon *
mgw_test_daemon_spawn_wrapped (const char * const *prefix,
                               const char         *first,
                               ...)
{
  MgwTestDaemon *d;
  va_list args;

  va_start (args, first);
  d = daemon_spawn_valist (prefix, first, args);
  va_end (args);
  return d;
}

gboolean
mgw_test_daemon_exited (gpointer data)
{
  return ((MgwTestDaemon *) data)->exited;
}

void
mgw_test_daemon_wait_exit (MgwTestDaemon *d,
                           guint   timeout_ms)
{
  mgw_test_wait_until (mgw_test_daemon_exited, d, timeout_ms, "moipgwd to exit");
  /* The last lines of output. */
  mgw_test_run_for (50);
}


gboolean
mgw_test_daemon_output_has (gpointer data)
{
  MgwTestOutputWait *w = data;
  return strstr (w->d->err->str, w->needle) != NULL || w->d->exited;
}

guint16
mgw_test_daemon_port (MgwTestDaemon *d,
                      const char *what)
{
  g_autofree char *needle = g_strdup_printf ("listening for %s users on port ", what);
  MgwTestOutputWait w = { d, needle };
  const char *p;

  mgw_test_wait_until (mgw_test_daemon_output_has, &w, MGW_TEST_TIMEOUT_MS, needle);
  p = strstr (d->err->str, needle);
  if (p == NULL)
    g_error ("moipgwd did not listen: %s", d->err->str);
  return (guint16) g_ascii_strtoull (p + strlen (needle), NULL, 10);
}

void
mgw_test_daemon_free (MgwTestDaemon *d)
{
  if (!d->exited)
    {
      g_subprocess_force_exit (d->process);
      mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
    }
  g_object_unref (d->process);
  g_string_free (d->err, TRUE);
  g_unlink (d->config_file);
  g_free (d->config_file);
  g_free (d);
}

/* --- gateway --- */

MgwConfig *
mgw_test_config_new (const char *server_uri)
{
  MgwConfig *config = mgw_config_new_default ();

  g_strfreev (config->listen_addresses);
  config->listen_addresses = g_strsplit ("127.0.0.1", ";", -1);
  config->telnet_port = 0;
  config->ws_port = 0;
  g_free (config->server_uri);
  config->server_uri = g_strdup (server_uri);
  config->connect_timeout = 3;
  /* Tests of the command channel turn it on with their own stub. */
  config->no_command_channel = TRUE;
  /* Nothing from the machine's /etc: no profiles.json, no neverbanned.json. */
  g_free (config->config_path);
  config->config_path = g_build_filename (g_get_tmp_dir (), "moipgw-test-no-such-dir", NULL);
  /* State (ban list, GatewayConfig.json copy) in a directory of this
   * test, removed when it ends. */
  g_free (config->state_dir);
  config->state_dir = mgw_test_tmp_dir ();
  /* The Telnet abuse rules have tests of their own; the others type at
   * once and fast. */
  config->garbage_bytes = 0;
  config->typing_rate = 0;
  /* Nor do they wait for the scanner rule (0.3 s per silent user). */
  config->scanner_wait_ms = 0;
  /* Every test user comes from 127.0.0.1. */
  config->max_sessions_per_address = 0;
  /* Every test target is on loopback, which the default list refuses. */
  g_free (config->redirect_allow);
  config->redirect_allow = g_strdup ("ws:127.0.0.1:*, wss:127.0.0.1:*, telnet:127.0.0.1:*, "
                                     "ws:localhost:*, wss:localhost:*, ws:[::1]:*");
  return config;
}

MgwGateway *
mgw_test_gateway_new (MgwConfig *config)
{
  g_autoptr(GError) error = NULL;
  MgwGateway *gateway;

  g_assert_true (mgw_config_validate (config, &error));
  g_assert_no_error (error);
  gateway = mgw_gateway_new (config);
  g_assert_true (mgw_gateway_start (gateway, &error));
  g_assert_no_error (error);
  return gateway;
}

typedef struct
{
  MgwGateway      *gateway;
  guint            id;
  MgwSessionState  state;
} StateWait;

static gboolean
session_state_is (gpointer data)
{
  StateWait *w = data;
  MgwSession *s = mgw_gateway_lookup_session (w->gateway, w->id);

  return s != NULL && mgw_session_get_state (s) == w->state;
}

void
mgw_test_wait_session_state (MgwGateway      *gateway,
                             guint            id,
                             MgwSessionState  state,
                             guint            timeout_ms)
{
  StateWait w = { gateway, id, state };
  g_autofree char *what = g_strdup_printf ("session %u to be %s", id,
                                           mgw_session_state_to_string (state));

  mgw_test_wait_until (session_state_is, &w, timeout_ms, what);
}

char *
mgw_test_ws_uri (MgwGateway *gateway)
{
  return g_strdup_printf ("ws://127.0.0.1:%u/", mgw_gateway_get_ws_port (gateway));
}

guint16
mgw_test_closed_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  /* Bound but never listening: connections to it are refused. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* --- a WebSocket client written by hand --- */

void
mgw_test_ws_frame_encode (GByteArray *out,
                          guint8      first,
                          const void *payload,
                          gsize       len,
                          gboolean    masked)
{
  guint8 head[14];
  gsize n = 0;
  guint32 key = g_random_int ();
  guint8 mask[4];

  head[n++] = first;
  if (len < 126)
    head[n++] = (masked ? 0x80 : 0) | (guint8) len;
  else if (len <= G_MAXUINT16)
    {
      head[n++] = (masked ? 0x80 : 0) | 126;
      head[n++] = (guint8) (len >> 8);
      head[n++] = (guint8) len;
    }
  else
    {
      head[n++] = (masked ? 0x80 : 0) | 127;
      for (int shift = 56; shift >= 0; shift -= 8)
        head[n++] = (guint8) ((guint64) len >> shift);
    }
  g_byte_array_append (out, head, n);
  if (!masked)
    {
      g_byte_array_append (out, payload, len);
      return;
    }
  memcpy (mask, &key, 4);
  g_byte_array_append (out, mask, 4);
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = ((const guint8 *) payload)[i] ^ mask[i % 4];
      g_byte_array_append (out, &b, 1);
    }
}

char *
mgw_test_ws_accept_key (const char *key)
{
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize len = sizeof digest;

  g_checksum_update (sha1, (const guchar *) key, -1);
  g_checksum_update (sha1, (const guchar *) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", -1);
  g_checksum_get_digest (sha1, digest, &len);
  return g_base64_encode (digest, len);
}

typedef struct
{
  MgwTestTcp *tcp;
  const char *needle;
} TcpWait;

static gboolean
tcp_has_or_closed (gpointer data)
{
  TcpWait *w = data;
  return w->tcp->closed ||
         mgw_test_bytes_contain (w->tcp->received, w->needle, strlen (w->needle));
}

MgwTestRawWs *
mgw_test_raw_ws_connect (guint16     port,
                         const char *extra_headers)
{
  static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
  MgwTestRawWs *ws = g_new0 (MgwTestRawWs, 1);
  g_autofree char *request = NULL;
  g_autofree char *accept = mgw_test_ws_accept_key (key);
  g_autofree char *expected = g_strdup_printf ("Sec-WebSocket-Accept: %s\r\n", accept);
  TcpWait w;
  const guint8 *end;

  ws->tcp = mgw_test_tcp_connect ("127.0.0.1", port);
  request = g_strdup_printf ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                             "Sec-WebSocket-Version: 13\r\n%s\r\n",
                             port, key, extra_headers ? extra_headers : "");
  mgw_test_tcp_send (ws->tcp, request, strlen (request));
  w.tcp = ws->tcp;
  w.needle = "\r\n\r\n";
  mgw_test_wait_until (tcp_has_or_closed, &w, MGW_TEST_TIMEOUT_MS, "the upgrade's answer");
  end = memmem (ws->tcp->received->data, ws->tcp->received->len, "\r\n\r\n", 4);
  if (end == NULL || ws->tcp->received->len < 12 ||
      memcmp (ws->tcp->received->data, "HTTP/1.1 101", 12) != 0)
    g_error ("the upgrade was not accepted: %.*s", (int) ws->tcp->received->len,
             (const char *) ws->tcp->received->data);
  ws->offset = end + 4 - ws->tcp->received->data;
  /* Header names are case-insensitive; this is how both libsoup and a
   * careful implementation spell it. */
  if (g_strstr_len ((const char *) ws->tcp->received->data, ws->offset, expected) == NULL &&
      g_strstr_len ((const char *) ws->tcp->received->data, ws->offset, accept) == NULL)
    g_error ("no valid Sec-WebSocket-Accept in: %.*s", (int) ws->offset,
             (const char *) ws->tcp->received->data);
  return ws;
}

void
mgw_test_raw_ws_send (MgwTestRawWs *ws,
                      guint8        first,
                      const void   *payload,
                      gsize         len,
                      gboolean      masked)
{
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  gsize sent = 0;

  mgw_test_ws_frame_encode (frame, first, payload, len, masked);
  /* Large frames do not fit the socket's buffer at once: let the main
   * loop run (the gateway is often in this process) until all is out. */
  while (sent < frame->len)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (ws->tcp->socket, (const char *) frame->data + sent,
                                frame->len - sent, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
          continue;
        }
      if (n < 0)
        return;   /* the gateway closed on us: the test looks at what it said */
      sent += n;
    }
}

/* Parses one frame at ws->offset if it is all there. */
static gboolean
parse_frame (MgwTestRawWs *ws,
             guint8       *opcode,
             GByteArray   *payload)
{
  const guint8 *p = ws->tcp->received->data + ws->offset;
  gsize avail = ws->tcp->received->len - ws->offset;
  gsize head = 2;
  guint64 len;

  if (avail < 2)
    return FALSE;
  if (p[1] & 0x80)
    g_error ("the gateway sent a masked frame (a server must not)");
  len = p[1] & 0x7f;
  if (len == 126)
    {
      if (avail < 4)
        return FALSE;
      len = ((guint64) p[2] << 8) | p[3];
      head = 4;
    }
  else if (len == 127)
    {
      if (avail < 10)
        return FALSE;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = (len << 8) | p[2 + i];
      head = 10;
    }
  if (avail < head + len)
    return FALSE;
  *opcode = p[0] & 0x0f;
  if (payload != NULL)
    {
      g_byte_array_set_size (payload, 0);
      g_byte_array_append (payload, p + head, len);
    }
  ws->offset += head + len;
  return TRUE;
}

typedef struct
{
  MgwTestRawWs *ws;
  guint8       *opcode;
  GByteArray   *payload;
  gboolean      got;
} FrameRead;

static gboolean
frame_or_closed (gpointer data)
{
  FrameRead *r = data;

  r->got = parse_frame (r->ws, r->opcode, r->payload);
  return r->got || r->ws->tcp->closed;
}

gboolean
mgw_test_raw_ws_next_frame (MgwTestRawWs *ws,
                            guint8       *opcode,
                            GByteArray   *payload)
{
  FrameRead r = { ws, opcode, payload, FALSE };

  mgw_test_wait_until (frame_or_closed, &r, MGW_TEST_TIMEOUT_MS, "a WebSocket frame");
  /* Closed, with a last frame still in the buffer. */
  if (!r.got)
    r.got = parse_frame (ws, opcode, payload);
  return r.got;
}

guint
mgw_test_raw_ws_wait_close (MgwTestRawWs *ws,
                            GByteArray   *data)
{
  g_autoptr(GByteArray) payload = g_byte_array_new ();
  guint8 opcode;
  guint code = 0;

  while (mgw_test_raw_ws_next_frame (ws, &opcode, payload))
    {
      if (opcode == MGW_WS_OP_CLOSE)
        {
          code = payload->len >= 2 ? (guint) (payload->data[0] << 8 | payload->data[1]) : 1005;
          break;
        }
      if (data != NULL && (opcode == MGW_WS_OP_TEXT || opcode == MGW_WS_OP_BINARY ||
                           opcode == MGW_WS_OP_CONT))
        g_byte_array_append (data, payload->data, payload->len);
    }
  mgw_test_tcp_wait_closed (ws->tcp);
  return code;
}

void
mgw_test_raw_ws_free (MgwTestRawWs *ws)
{
  mgw_test_tcp_free (ws->tcp);
  g_free (ws);
}

GSocket *
mgw_test_silent_listener (guint16 *port)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, NULL);

  g_assert_true (g_socket_bind (socket, address, TRUE, NULL));
  g_assert_true (g_socket_listen (socket, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return socket;
}

guint
mgw_test_count_fds (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int) pid);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

GPid
mgw_test_daemon_pid (MgwTestDaemon *d)
{
  const char *id = g_subprocess_get_identifier (d->process);

  g_assert_nonnull (id);
  return (GPid) g_ascii_strtoll (id, NULL, 10);
}

void
mgw_test_daemon_wait_output (MgwTestDaemon *d,
                             const char    *needle)
{
  MgwTestOutputWait w = { d, needle };

  mgw_test_wait_until (mgw_test_daemon_output_has, &w, MGW_TEST_TIMEOUT_MS, needle);
  if (strstr (d->err->str, needle) == NULL)
    g_error ("moipgwd exited before saying '%s':\n%s", needle, d->err->str);
}

/* --- a program on a pseudo-terminal --- */

/* In the child: a session of its own with the pty slave (already its
 * stdin) as controlling terminal, as a login shell would have. */
static void
terminal_child_setup (gpointer data)
{
  setsid ();
  ioctl (STDIN_FILENO, TIOCSCTTY, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean
terminal_read_cb (int           fd,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  MgwTestTerminal *t = user_data;
  guint8 buf[4096];

  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);

      if (n > 0)
        g_byte_array_append (t->screen, buf, (guint) n);
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
      else   /* EIO: every slave descriptor is closed, the program is gone */
        {
          t->source = 0;
          return G_SOURCE_REMOVE;
        }
    }
}

static void
terminal_exited_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

MgwTestTerminal *
mgw_test_terminal_spawn (const char         *home,
                         const char * const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  MgwTestTerminal *t = g_new0 (MgwTestTerminal, 1);
  char slave_name[128];
  int slave;

  t->screen = g_byte_array_new ();
  t->master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert_cmpint (t->master, >=, 0);
  g_assert_cmpint (grantpt (t->master), ==, 0);
  g_assert_cmpint (unlockpt (t->master), ==, 0);
  g_assert_cmpint (ptsname_r (t->master, slave_name, sizeof slave_name), ==, 0);
  slave = open (slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert_cmpint (slave, >=, 0);
  g_assert_true (g_unix_set_fd_nonblocking (t->master, TRUE, NULL));
  t->source = g_unix_fd_add (t->master, G_IO_IN | G_IO_HUP | G_IO_ERR, terminal_read_cb, t);
  g_subprocess_launcher_take_stdin_fd (launcher, dup (slave));
  g_subprocess_launcher_take_stdout_fd (launcher, dup (slave));
  g_subprocess_launcher_take_stderr_fd (launcher, dup (slave));
  close (slave);
  g_subprocess_launcher_set_cwd (launcher, home);
  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "TERM", "dumb", TRUE);
  g_subprocess_launcher_set_child_setup (launcher, terminal_child_setup, NULL, NULL);
  t->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_wait_async (t->process, NULL, terminal_exited_cb, &t->exited);
  /* The launcher closes its copies of the slave when freed, here: then
   * only the program holds it, and its exit shows on the master. */
  return t;
}

static gboolean
terminal_exited (gpointer data)
{
  return ((MgwTestTerminal *) data)->exited;
}

void
mgw_test_terminal_free (MgwTestTerminal *t)
{
  if (!t->exited)
    g_subprocess_force_exit (t->process);
  mgw_test_wait_until (terminal_exited, t, MGW_TEST_TIMEOUT_MS, "the program on the terminal to exit");
  g_clear_object (&t->process);
  if (t->source != 0)
    g_source_remove (t->source);
  close (t->master);
  g_byte_array_unref (t->screen);
  g_free (t);
}

/* --- child processes --- */

void
mgw_test_die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

gboolean
mgw_test_require_program (const char *path,
                          const char *package)
{
  if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    return TRUE;
  g_test_fail_printf ("%s is missing: install the Debian package %s", path, package);
  return FALSE;
}

static int
remove_entry (const char        *path,
              const struct stat *st,
              int                type,
              struct FTW        *ftw)
{
  remove (path);
  return 0;
}

void
mgw_test_remove_tree (const char *dir)
{
  for (guint i = 0; i < 50 && g_file_test (dir, G_FILE_TEST_EXISTS); i++)
    {
      nftw (dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
      if (g_file_test (dir, G_FILE_TEST_EXISTS))
        mgw_test_run_for (100);
    }
  if (g_file_test (dir, G_FILE_TEST_EXISTS))
    g_test_message ("could not remove %s", dir);
}

GSubprocess *
mgw_test_chromium_spawn (const char          *dir,
                         const char          *url,
                         const char * const  *extra,
                         GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autofree char *log = g_build_filename (dir, "chromium.log", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  static const char * const flags[] = {
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    /* for containers and CI: */
    "--disable-dev-shm-usage", "--no-proxy-server",
  };

  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_setenv (launcher, "HOME", dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", dir, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, mgw_test_die_with_parent, NULL, NULL);
  g_ptr_array_add (argv, g_strdup (MGW_TEST_CHROMIUM));
  for (gsize i = 0; i < G_N_ELEMENTS (flags); i++)
    g_ptr_array_add (argv, g_strdup (flags[i]));
  g_ptr_array_add (argv, g_strdup_printf ("--user-data-dir=%s", profile));
  for (gsize i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra[i]));
  g_ptr_array_add (argv, g_strdup (url));
  g_ptr_array_add (argv, NULL);
  return g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
}

void
mgw_test_page_cb (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  const char *page = user_data;

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_STATIC,
                                    page, strlen (page));
}

void
mgw_test_page_result_cb (SoupServer        *server,
                         SoupServerMessage *msg,
                         const char        *path,
                         GHashTable        *query,
                         gpointer           user_data)
{
  MgwTestPageResult *r = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;
  const char *data;
  gsize len;

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  data = g_bytes_get_data (body, &len);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
  r->posted = TRUE;
  if (!json_parser_load_from_data (parser, data, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      r->detail = g_strdup_printf ("bad result %.*s", (int) len, data);
      return;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  r->ok = json_object_get_boolean_member_with_default (object, "ok", FALSE);
  r->detail = g_strdup (json_object_get_string_member_with_default (object, "detail", ""));
}
