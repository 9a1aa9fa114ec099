/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-raw.c: raw TCP end to end (docs/protocol.md, Raw TCP): users on
 * [listen] raw-port and on the Telnet port with [telnet]
 * negotiation=none, whom no telnet command ever reaches and whose 0xFF
 * is data both ways; the Telnet rules and bans applied to them; telnet://
 * and tcp:// default servers through whole sessions with a redirection
 * and the return; tcp:// redirect targets that hear no telnet either.
 *
 * The stream servers (telnet:// and tcp://) are scripted here over
 * GSocketService; the WebSocket ones are mgw-test-util's. */
#include "config.h"

#include "mgw-gateway.h"
#include "mgw-test-util.h"

#include <string.h>
#include <sys/socket.h>

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"
#define S(lit) lit, sizeof lit - 1
#define WELCOME "Welcome to PyMoIP [telnet]/WS gateway\n\r"

/* --- a raw TCP user: optionally fails the test on any 0xFF --- */

typedef struct
{
  GSocket    *socket;
  GSource    *source;
  GByteArray *received;
  gboolean    closed;
  gboolean    forbid_ff;   /* no telnet command, nothing doubled: no 0xFF at all */
  guint16     port;        /* its local port */
} RawUser;

static gboolean
raw_user_read_cb (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      data)
{
  RawUser *u = data;
  guint8 buf[4096];
  gssize n = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, NULL);

  if (n <= 0)
    {
      u->closed = TRUE;
      g_clear_pointer (&u->source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  if (u->forbid_ff && memchr (buf, 0xff, n) != NULL)
    g_error ("the raw user received 0xFF (a telnet command or a doubled byte) after %u bytes",
             u->received->len + (guint) ((guint8 *) memchr (buf, 0xff, n) - buf));
  g_byte_array_append (u->received, buf, n);
  return G_SOURCE_CONTINUE;
}

static RawUser *
raw_user_connect (guint16  port,
                  gboolean forbid_ff)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (inet, port);
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GError) error = NULL;
  RawUser *u = g_new0 (RawUser, 1);

  u->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                            &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (u->socket, sa, NULL, &error));
  g_socket_set_blocking (u->socket, FALSE);
  local = g_socket_get_local_address (u->socket, NULL);
  u->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  u->received = g_byte_array_new ();
  u->forbid_ff = forbid_ff;
  u->source = g_socket_create_source (u->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (u->source, G_SOURCE_FUNC (raw_user_read_cb), u, NULL);
  g_source_attach (u->source, NULL);
  return u;
}

static void
raw_user_send (RawUser    *u,
               const void *data,
               gsize       len)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_socket_send (u->socket, data, len, NULL, &error), ==, (gssize) len);
  g_assert_no_error (error);
}

static void
raw_user_pause (RawUser  *u,
                gboolean  paused)
{
  if (paused && u->source != NULL)
    {
      g_source_destroy (u->source);
      g_clear_pointer (&u->source, g_source_unref);
    }
  else if (!paused && u->source == NULL && !u->closed)
    {
      u->source = g_socket_create_source (u->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
      g_source_set_callback (u->source, G_SOURCE_FUNC (raw_user_read_cb), u, NULL);
      g_source_attach (u->source, NULL);
    }
}

static void
raw_user_free (RawUser *u)
{
  if (u->source != NULL)
    {
      g_source_destroy (u->source);
      g_source_unref (u->source);
    }
  g_socket_close (u->socket, NULL);
  g_object_unref (u->socket);
  g_byte_array_unref (u->received);
  g_free (u);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawUser, raw_user_free)

static void
wait_bytes (GByteArray *haystack,
            const void *needle,
            gsize       len,
            const char *what)
{
  mgw_test_bytes_wait (haystack, needle, len, what);
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* --- a scripted stream server (telnet:// or tcp://) --- */

typedef struct _StreamServer StreamServer;

typedef struct
{
  GSocketConnection *conn;
  GByteArray        *received;
  gboolean           closed;
  gboolean           echo;
  guint8             buf[4096];
} StreamPeer;

struct _StreamServer
{
  GSocketService *service;
  guint16         port;
  char           *uri;
  GPtrArray      *peers;       /* of StreamPeer, each an rc box */
  GBytes         *greeting;    /* sent to each new peer; may be NULL */
  gboolean        echo;
};

static void
stream_peer_clear (StreamPeer *p)
{
  g_clear_object (&p->conn);
  g_byte_array_unref (p->received);
}

static void
stream_peer_release (StreamPeer *p)
{
  g_rc_box_release_full (p, (GDestroyNotify) stream_peer_clear);
}

static void
stream_peer_send (StreamPeer *p,
                  const void *data,
                  gsize       len)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (p->conn)),
                                            data, len, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void stream_peer_read (StreamPeer *p);

static void
stream_peer_read_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      data)
{
  StreamPeer *p = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    p->closed = TRUE;
  else
    {
      g_byte_array_append (p->received, p->buf, n);
      if (p->echo)
        stream_peer_send (p, p->buf, n);
      stream_peer_read (p);
    }
  stream_peer_release (p);
}

static void
stream_peer_read (StreamPeer *p)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (p->conn)), p->buf,
                             sizeof p->buf, G_PRIORITY_DEFAULT, NULL, stream_peer_read_cb,
                             g_rc_box_acquire (p));
}

static gboolean
stream_incoming_cb (GSocketService    *service,
                    GSocketConnection *conn,
                    GObject           *source,
                    StreamServer      *s)
{
  StreamPeer *p = g_rc_box_new0 (StreamPeer);

  p->conn = g_object_ref (conn);
  p->received = g_byte_array_new ();
  p->echo = s->echo;
  g_ptr_array_add (s->peers, p);
  if (s->greeting != NULL)
    stream_peer_send (p, g_bytes_get_data (s->greeting, NULL), g_bytes_get_size (s->greeting));
  stream_peer_read (p);
  return TRUE;
}

static StreamServer *
stream_server_new (const char   *scheme,
                   gboolean      echo,
                   const guint8 *greeting,
                   gsize         greeting_len)
{
  StreamServer *s = g_new0 (StreamServer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  s->service = g_socket_service_new ();
  s->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) stream_peer_release);
  s->echo = echo;
  if (greeting != NULL)
    s->greeting = g_bytes_new (greeting, greeting_len);
  g_assert_true (g_socket_listener_add_address (G_SOCKET_LISTENER (s->service), address,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                                NULL, &bound, &error));
  g_assert_no_error (error);
  s->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  s->uri = g_strdup_printf ("%s://127.0.0.1:%u", scheme, s->port);
  g_signal_connect (s->service, "incoming", G_CALLBACK (stream_incoming_cb), s);
  return s;
}

static gboolean
has_peer (gpointer data)
{
  StreamServer *s = data;

  return s->peers->len > 0;
}

static StreamPeer *
stream_server_wait_peer (StreamServer *s)
{
  mgw_test_wait_until (has_peer, s, MGW_TEST_TIMEOUT_MS, "a connection to the stream server");
  return s->peers->pdata[0];
}

static void
stream_server_free (StreamServer *s)
{
  g_signal_handlers_disconnect_by_data (s->service, s);
  g_socket_service_stop (s->service);
  g_socket_listener_close (G_SOCKET_LISTENER (s->service));
  for (guint i = 0; i < s->peers->len; i++)
    {
      StreamPeer *p = s->peers->pdata[i];
      p->echo = FALSE;
      g_io_stream_close (G_IO_STREAM (p->conn), NULL, NULL);
    }
  g_ptr_array_unref (s->peers);
  /* Pending reads end (each holds its peer) before the loop goes. */
  mgw_test_run_for (20);
  g_object_unref (s->service);
  g_clear_pointer (&s->greeting, g_bytes_unref);
  g_free (s->uri);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StreamServer, stream_server_free)

/* --- the gateway and its Teletel stubs --- */

typedef struct
{
  MgwTestServer *teletel;   /* a WebSocket default server */
  MgwTestServer *command;   /* the command channel */
  MgwTestServer *target;    /* a WebSocket redirect target, echoing */
  MgwConfig     *config;
  MgwGateway    *gateway;
} Fixture;

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  f->teletel = mgw_test_server_new (FALSE, NULL);
  f->command = mgw_test_server_new (FALSE, NULL);
  f->target = mgw_test_server_new (TRUE, "TARGET PAGE");
  f->config = mgw_test_config_new (f->teletel->uri);
  f->config->raw_port = 0;
  f->config->no_command_channel = FALSE;
  g_free (f->config->command_uri);
  f->config->command_uri = g_strdup (f->command->uri);
  f->config->command_retry_ms = 100;
  g_free (f->config->redirect_allow);
  f->config->redirect_allow = g_strdup ("ws:127.0.0.1:*, telnet:127.0.0.1:*, tcp:127.0.0.1:*");
}

static gboolean
command_up (gpointer data)
{
  Fixture *f = data;
  MgwCommandLink *link = mgw_gateway_get_command_link (f->gateway);

  return link != NULL && mgw_command_link_get_connected (link);
}

static void
start (Fixture *f)
{
  f->gateway = mgw_test_gateway_new (f->config);
  if (!f->config->no_command_channel)
    mgw_test_wait_until (command_up, f, MGW_TEST_TIMEOUT_MS, "the command channel");
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  if (f->gateway != NULL)
    {
      mgw_gateway_stop (f->gateway, NULL);
      mgw_test_run_for (50);
    }
  g_clear_object (&f->gateway);
  g_clear_pointer (&f->config, mgw_config_unref);
  g_clear_pointer (&f->teletel, mgw_test_server_free);
  g_clear_pointer (&f->command, mgw_test_server_free);
  g_clear_pointer (&f->target, mgw_test_server_free);
  mgw_test_run_for (20);
}

static void
expect (Fixture    *f,
        const char *format,
        ...) G_GNUC_PRINTF (2, 3);

static void
expect (Fixture    *f,
        const char *format,
        ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  mgw_test_server_wait_frame (f->command, text);
}

static void
send_connect (Fixture    *f,
              guint       id,
              const char *uri)
{
  g_autofree char *line = g_strdup_printf ("PID=%u,42,CONNECT,%s,None,[]", id, uri);
  MgwTestPeer *peer = mgw_test_server_open_peer (f->command);

  g_assert_nonnull (peer);
  mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_TEXT, line, strlen (line));
}

static MgwSession *
session (Fixture *f,
         guint    id)
{
  MgwSession *s = mgw_gateway_lookup_session (f->gateway, id);

  g_assert_nonnull (s);
  return s;
}

static void
wait_state (Fixture         *f,
            guint            id,
            MgwSessionState  state)
{
  mgw_test_wait_session_state (f->gateway, id, state, MGW_TEST_TIMEOUT_MS);
}

static gboolean
no_sessions (gpointer data)
{
  return mgw_gateway_get_n_sessions (((Fixture *) data)->gateway) == 0;
}

static gboolean
user_closed (gpointer data)
{
  return ((RawUser *) data)->closed;
}

/* --- raw users --- */

/* A raw user next to a Telnet one, through a whole session: Teletel
 * hears of a Telnet user (compat), operators see raw; a redirection,
 * Connexion/Fin, the return. Not one 0xFF ever reaches the raw user:
 * no negotiation, and nobody sends it a 0xFF to double. */
static void
test_user_session (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(RawUser) u = NULL;
  g_autoptr(MgwTestTcp) telnet = NULL;
  g_autofree char *ident = NULL;
  g_autofree char *connected = NULL;
  g_autofree char *frames = NULL;
  g_autofree char *expected = NULL;
  MgwTestPeer *teletel, *target;
  MgwSession *s;

  start (f);
  g_assert_cmpuint (mgw_gateway_get_raw_port (f->gateway), >, 0);
  g_assert_cmpuint (mgw_gateway_get_raw_port (f->gateway), !=,
                    mgw_gateway_get_telnet_port (f->gateway));
  u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  connected = g_strdup_printf (WELCOME "Connected to '%s'\n\r" STATUS ("CONNECT"), f->teletel->uri);
  wait_bytes (u->received, connected, strlen (connected), "the raw user's welcome");
  /* Exactly that: no IAC WILL ECHO before the welcome. */
  g_assert_cmpmem (u->received->data, u->received->len, connected, strlen (connected));
  s = session (f, 0);
  g_assert_cmpint (mgw_session_get_access (s), ==, MGW_ACCESS_RAW);
  g_assert_cmpstr (mgw_access_to_string (mgw_session_get_access (s)), ==, "raw");
  g_assert_cmpuint (mgw_session_get_peer_port (s), ==, u->port);
  expect (f, "NewTelnetUser,127.0.0.1,%u,0", u->port);

  /* The Telnet listener next to it still negotiates. */
  telnet = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (telnet, S ("\xff\xfb\x01\xff\xfb\x03"));
  mgw_test_tcp_wait_for (telnet, S (STATUS ("CONNECT")));
  g_assert_cmpint (mgw_session_get_access (session (f, 1)), ==, MGW_ACCESS_TELNET);
  g_assert_cmpuint (mgw_gateway_get_n_sessions_by_access (f->gateway, MGW_ACCESS_RAW), ==, 1);
  g_assert_cmpuint (mgw_gateway_get_n_sessions_by_access (f->gateway, MGW_ACCESS_TELNET), ==, 1);
  g_clear_pointer (&telnet, mgw_test_tcp_free);

  /* Identified as Telnet (the original knows no other). */
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_TEXT, S ("page\x1b\x39\x7b"));
  ident = g_strdup_printf ("\x01\x7f\x7f\x7f\x04PID=0,IP=127.0.0.1,PORT=%u,Access=Telnet\n",
                           u->port);
  mgw_test_peer_wait_for (teletel, ident, strlen (ident));
  wait_bytes (u->received, S ("page\x1b\x39\x7b"), "the page");

  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  target = mgw_test_server_wait_peer (f->target, 0);
  wait_bytes (u->received, S (STATUS ("CONNECT") "TARGET PAGE"), "the target's page");
  wait_state (f, 0, MGW_SESSION_REDIRECTED);
  raw_user_send (u, S ("abc"));
  mgw_test_peer_wait_for (target, S ("abc"));
  wait_bytes (u->received, S ("TARGET PAGEabc"), "the target's echo");
  g_assert_false (mgw_test_bytes_contain (teletel->received, S ("abc")));

  /* Connexion/Fin, split: back on Teletel, the key to no one. */
  raw_user_send (u, S ("x\x13"));
  mgw_test_run_for (200);
  raw_user_send (u, S ("\x49" "back"));
  expect (f, "UserRequestedClose,,,0,42");
  expect (f, "UserRedirectEnded,,,0,42");
  mgw_test_peer_wait_closed (target);
  wait_state (f, 0, MGW_SESSION_TELETEL);
  mgw_test_peer_wait_for (teletel, S ("back"));
  g_assert_true (mgw_test_bytes_contain (target->received, S ("abcx")));
  g_assert_false (mgw_test_bytes_contain (target->received, S ("\x13")));
  g_assert_false (mgw_test_bytes_contain (teletel->received, S ("\x13\x49")));

  g_socket_close (u->socket, NULL);
  expect (f, "UserGone,,,0");
  frames = mgw_test_server_frames (f->command);
  expected = g_strdup_printf ("NewTelnetUser,127.0.0.1,%u,0\n", u->port);
  g_assert_true (g_str_has_prefix (frames, expected));
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->sessions_total[MGW_ACCESS_RAW], ==, 1);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->sessions_total[MGW_ACCESS_TELNET], ==, 1);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->redirections, ==, 1);
}

/* 0xFF is data: the raw user's bytes, telnet commands look-alikes
 * included, reach the server unchanged and unanswered; the server's
 * 0xFF reaches the user once, not doubled. */
static void
test_user_ff (Fixture       *f,
              gconstpointer  data)
{
  static const guint8 typed[] = { 'a', 0xff, 0xff, 'b', 0xff, 0xfd, 0x01, 0xff, 0xfa, 0x18, 'c' };
  static const guint8 page[] = { 'x', 0xff, 'y', 0xff, 0xfb, 0x01, 0xff };
  g_autoptr(RawUser) u = NULL;
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autofree char *connected = NULL;
  MgwTestPeer *teletel;

  f->config->no_command_channel = TRUE;
  start (f);
  u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), FALSE);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  connected = g_strdup_printf (WELCOME "Connected to '%s'\n\r" STATUS ("CONNECT"), f->teletel->uri);
  wait_bytes (u->received, connected, strlen (connected), "the welcome");

  raw_user_send (u, typed, sizeof typed);
  mgw_test_peer_wait_for (teletel, S ("c"));
  g_assert_cmpmem (teletel->received->data, teletel->received->len, typed, sizeof typed);

  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_BINARY, page, sizeof page);
  g_byte_array_append (expected, (const guint8 *) connected, strlen (connected));
  g_byte_array_append (expected, page, sizeof page);
  wait_bytes (u->received, page, sizeof page, "the page");
  mgw_test_run_for (100);
  /* Nothing else: no answer to the user's "IAC DO ECHO", nothing doubled. */
  g_assert_cmpmem (u->received->data, u->received->len, expected->data, expected->len);
}

/* [telnet] negotiation=none: the Telnet port itself is raw. */
static void
test_user_negotiation_none (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(RawUser) u = NULL;
  g_autofree char *connected = NULL;
  MgwTestPeer *teletel;

  f->config->raw_port = MGW_PORT_OFF;
  f->config->telnet_start = MGW_TELNET_START_NONE;
  start (f);
  g_assert_cmpuint (mgw_gateway_get_raw_port (f->gateway), ==, 0);
  u = raw_user_connect (mgw_gateway_get_telnet_port (f->gateway), TRUE);
  connected = g_strdup_printf (WELCOME "Connected to '%s'\n\r" STATUS ("CONNECT"), f->teletel->uri);
  wait_bytes (u->received, connected, strlen (connected), "the welcome");
  g_assert_cmpmem (u->received->data, u->received->len, connected, strlen (connected));
  g_assert_cmpint (mgw_session_get_access (session (f, 0)), ==, MGW_ACCESS_RAW);
  expect (f, "NewTelnetUser,127.0.0.1,%u,0", u->port);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  raw_user_send (u, S ("q\xff\xff"));
  mgw_test_peer_wait_for (teletel, S ("q\xff\xff"));
  g_assert_cmpuint (teletel->received->len, ==, 3);
}

/* Raw users have the Telnet settings: Telnet's user inactivity ends
 * the session (WebSocket's would never). */
static void
test_user_telnet_settings (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(RawUser) u = NULL;

  f->config->no_command_channel = TRUE;
  f->config->user_inactivity[MGW_ACCESS_TELNET] = 1;
  f->config->user_inactivity[MGW_ACCESS_WS] = 0;
  start (f);
  u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  wait_bytes (u->received, S (STATUS ("END INACTIVE USER")), "the user inactivity timeout");
  mgw_test_wait_until (user_closed, u, MGW_TEST_TIMEOUT_MS, "the raw user to be closed");
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->timeouts[MGW_TIMEOUT_USER_INACTIVITY],
                    ==, 1);
}

/* Raw users are paced at [telnet] baud (WebSocket's is off here): of a
 * page of 3000 bytes at 1200 baud (120 a second), far from all is there
 * after half a second. (A slower machine only delivers less: the bound
 * cannot fail for being slow.) */
static void
test_user_paced (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(RawUser) u = NULL;
  g_autofree char *page = g_malloc (3000);
  g_autofree char *connected = NULL;
  MgwTestPeer *teletel;
  guint head;

  memset (page, 'p', 3000);
  f->config->no_command_channel = TRUE;
  f->config->baud[MGW_ACCESS_TELNET] = 1200;
  f->config->baud[MGW_ACCESS_WS] = 0;
  start (f);
  u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  connected = g_strdup_printf (WELCOME "Connected to '%s'\n\r" STATUS ("CONNECT"), f->teletel->uri);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  wait_bytes (u->received, connected, strlen (connected), "the welcome, paced");
  head = u->received->len;
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_BINARY, page, 3000);
  mgw_test_run_for (500);
  g_assert_cmpuint (u->received->len - head, <, 1000);
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
}

/* A raw connection through the trusted "proxy" 127.0.0.1. */
static RawUser *
proxied (Fixture    *f,
         const char *address,
         guint16     port)
{
  RawUser *u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  g_autofree char *header = g_strdup_printf ("PROXY TCP4 %s 192.0.2.1 %u 9000\r\n", address, port);

  raw_user_send (u, header, strlen (header));
  return u;
}

/* The Telnet rules for raw users: a trusted proxy names the client; a
 * user who leaves at once is banned, then refused before anything is
 * done; typing too fast bans; the caps turn a user away. */
static void
test_user_banned (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(RawUser) first = NULL;
  g_autoptr(RawUser) second = NULL;
  g_autoptr(RawUser) robot = NULL;
  g_autoptr(RawUser) a = NULL;
  g_autoptr(RawUser) b = NULL;
  MgwBanList *bans;

  f->config->trusted_proxies = g_strsplit ("127.0.0.1", ";", -1);
  f->config->garbage_window_ms = 100;
  f->config->typing_rate = 10;
  f->config->typing_excess = 5;
  f->config->max_sessions_per_address = 1;
  start (f);
  bans = mgw_gateway_get_ban_list (f->gateway);

  first = proxied (f, "203.0.113.60", 6000);
  expect (f, "NewTelnetUser,203.0.113.60,6000,0");
  g_socket_close (first->socket, NULL);
  mgw_test_wait_until (no_sessions, f, MGW_TEST_TIMEOUT_MS, "the short session to end");
  g_assert_true (mgw_ban_list_check (bans, "203.0.113.60"));
  second = proxied (f, "203.0.113.60", 6001);
  mgw_test_wait_until (user_closed, second, MGW_TEST_TIMEOUT_MS, "the banned user to be refused");
  g_assert_cmpuint (second->received->len, ==, 0);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_banned, ==, 1);
  g_assert_false (mgw_test_server_has_frame (f->command, "NewTelnetUser,203.0.113.60,6001,1"));

  robot = proxied (f, "203.0.113.61", 6100);
  expect (f, "NewTelnetUser,203.0.113.61,6100,1");
  mgw_test_run_for (150);
  raw_user_send (robot, S ("0123456789abcdefghij"));
  mgw_test_wait_until (user_closed, robot, MGW_TEST_TIMEOUT_MS, "the robot to be dropped");
  g_assert_true (mgw_ban_list_check (bans, "203.0.113.61"));

  a = proxied (f, "203.0.113.62", 6200);
  wait_bytes (a->received, S (STATUS ("CONNECT")), "the first user");
  b = proxied (f, "203.0.113.62", 6201);
  wait_bytes (b->received, S (STATUS ("SERVICE FULL, RETRY LATER")), "the cap");
  mgw_test_wait_until (user_closed, b, MGW_TEST_TIMEOUT_MS, "the user beyond the cap to be closed");
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_full, ==, 1);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->sessions_total[MGW_ACCESS_TELNET], ==, 0);
}

/* The scanner rule on the raw port: a TLS ClientHello (0xFF bytes in it,
 * untouched: no telnet codec) ends the session before any upstream and
 * bans the proxied client; a raw Minitel's keys are relayed. */
static void
test_user_scanner (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(RawUser) scanner = NULL;
  g_autoptr(RawUser) minitel = NULL;
  MgwTestPeer *teletel;

  f->config->trusted_proxies = g_strsplit ("127.0.0.1", ";", -1);
  f->config->scanner_wait_ms = 3000;
  start (f);
  scanner = proxied (f, "203.0.113.65", 6500);
  raw_user_send (scanner, S ("\x16\x03\x01\x01\xff\x01\x00\x01\xfb\x03\x03"));
  mgw_test_wait_until (user_closed, scanner, MGW_TEST_TIMEOUT_MS, "the scanner to be dropped");
  g_assert_true (mgw_ban_list_check (mgw_gateway_get_ban_list (f->gateway), "203.0.113.65"));
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->scanners, ==, 1);
  g_assert_cmpuint (f->teletel->peers->len, ==, 0);
  g_assert_false (mgw_test_server_has_frame (f->command, "NewTelnetUser,203.0.113.65,6500,0"));

  minitel = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  raw_user_send (minitel, S ("\x13\x41"));
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  mgw_test_peer_wait_for (teletel, S ("\x13\x41"));
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->scanners, ==, 1);
}

static gboolean
peer_has_ok (gpointer data)
{
  MgwTestServer *server = data;

  for (guint i = 0; i < server->peers->len; i++)
    if (mgw_test_bytes_contain (((MgwTestPeer *) server->peers->pdata[i])->received, S ("ok!")))
      return TRUE;
  return FALSE;
}

/* A PROXY header from a peer that is not trusted ends a raw session
 * too; the anti-garbage filter drops a raw user's first bytes. */
static void
test_user_untrusted_proxy (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(RawUser) untrusted = NULL;
  g_autoptr(RawUser) u = NULL;
  MgwTestPeer *teletel;

  f->config->garbage_bytes = 4;
  f->config->garbage_window_ms = 300;
  start (f);
  untrusted = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  raw_user_send (untrusted, S ("PROXY TCP4 203.0.113.1 192.0.2.1 1 2\r\n"));
  mgw_test_wait_until (user_closed, untrusted, MGW_TEST_TIMEOUT_MS, "the untrusted header to end it");
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->proxy_refused, ==, 1);

  u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  wait_bytes (u->received, S (STATUS ("CONNECT")), "the second user");
  raw_user_send (u, S ("junkok"));
  mgw_test_run_for (400);
  raw_user_send (u, S ("!"));
  mgw_test_wait_until (peer_has_ok, f->teletel, MGW_TEST_TIMEOUT_MS, "\"ok!\" on Teletel");
  teletel = mgw_test_server_open_peer (f->teletel);
  g_assert_cmpmem (teletel->received->data, teletel->received->len, "ok!", 3);
}

/* The raw listener is one of the gateway's own: never a target, by
 * tcp:// or telnet://. */
static void
test_user_own_listener (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(RawUser) u = NULL;
  const char *schemes[] = { "tcp", "telnet" };

  start (f);
  u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  wait_bytes (u->received, S (STATUS ("CONNECT")), "the user");
  for (gsize i = 0; i < G_N_ELEMENTS (schemes); i++)
    {
      g_autofree char *uri = g_strdup_printf ("%s://127.0.0.1:%u", schemes[i],
                                              mgw_gateway_get_raw_port (f->gateway));

      g_byte_array_set_size (u->received, 0);
      send_connect (f, 0, uri);
      wait_bytes (u->received, S (STATUS ("SERVICE UNAVAILABLE")), "the refusal");
      wait_state (f, 0, MGW_SESSION_TELETEL);
    }
  g_assert_false (mgw_test_server_has_frame (f->command, "UserRedirected,,,0,42"));
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
}

/* --- telnet:// and tcp:// servers --- */

/* A telnet:// default server, as a Telnet videotex server speaks: it
 * asks to echo and suppress go-ahead, which the gateway accepts; its
 * 0xFF comes doubled and goes to the user once, the user's goes to it
 * doubled; ENQROM identification, a redirection and the return, its
 * end (END SERVER CLOSED). */
static void
test_default_telnet (Fixture       *f,
                     gconstpointer  data)
{
  static const guint8 greeting[] = {
    0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 'T', 'E', 'L', 'N', 'E', 'T', ' ', 'T', 'E', 'L', 'E',
    'T', 'E', 'L', 0xff, 0xff, 0x1b, 0x39, 0x7b,
  };
  g_autoptr(StreamServer) teletel = stream_server_new ("telnet", FALSE, greeting, sizeof greeting);
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *ws_uri = NULL;
  g_autofree char *connected = NULL;
  g_autofree char *ident = NULL;
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  MgwTestPeer *target;
  StreamPeer *server;

  g_free (f->config->server_uri);
  f->config->server_uri = g_strdup (teletel->uri);
  start (f);
  ws_uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (ws_uri, NULL);
  g_assert_no_error (ws->error);
  connected = g_strdup_printf ("Connected to '%s'\n\r" STATUS ("CONNECT"), teletel->uri);
  mgw_test_ws_wait_for (ws, connected, strlen (connected));
  mgw_test_ws_wait_for (ws, S ("TELNET TELETEL\xff\x1b\x39\x7b"));
  g_assert_false (mgw_test_bytes_contain (ws->received, S ("\xff\xfb")));
  expect (f, "NewWsUser,127.0.0.1,%u,0", mgw_session_get_peer_port (session (f, 0)));

  /* The gateway agreed to both options, then identified the user. */
  server = stream_server_wait_peer (teletel);
  ident = g_strdup_printf ("\x01\x7f\x7f\x7f\x04PID=0,IP=127.0.0.1,PORT=%u,Access=WS\n",
                           mgw_session_get_peer_port (session (f, 0)));
  g_byte_array_append (expected, (const guint8 *) "\xff\xfd\x01\xff\xfd\x03", 6);
  g_byte_array_append (expected, (const guint8 *) ident, strlen (ident));
  wait_bytes (server->received, ident, strlen (ident), "the identification");
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, S ("k\xff"));
  g_byte_array_append (expected, (const guint8 *) "k\xff\xff", 3);
  wait_bytes (server->received, S ("k\xff\xff"), "the user's 0xFF, doubled");
  g_assert_cmpmem (server->received->data, server->received->len, expected->data, expected->len);

  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  target = mgw_test_server_wait_peer (f->target, 0);
  mgw_test_ws_wait_for (ws, S ("TARGET PAGE"));
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, S ("redir"));
  mgw_test_peer_wait_for (target, S ("redir"));
  stream_peer_send (server, S ("COST\xff\xff"));
  mgw_test_ws_wait_for (ws, S ("COST\xff"));
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, S ("\x13\x49" "home"));
  expect (f, "UserRedirectEnded,,,0,42");
  wait_bytes (server->received, S ("home"), "the user back on the telnet server");
  g_assert_false (mgw_test_bytes_contain (server->received, S ("redir")));
  g_assert_false (mgw_test_bytes_contain (server->received, S ("\x13\x49")));

  /* The server hangs up: the session ends as with a WebSocket one. */
  g_io_stream_close (G_IO_STREAM (server->conn), NULL, NULL);
  mgw_test_ws_wait_for (ws, S (STATUS ("END SERVER CLOSED")));
  expect (f, "UserGone,,,0");
}

/* A tcp:// default server and a tcp:// target hear no telnet: what they
 * receive is exactly what the user typed (0xFF once) and the
 * identification; what looks like telnet commands in their output goes
 * to the user as data, unanswered. */
static void
test_default_tcp (Fixture       *f,
                  gconstpointer  data)
{
  static const guint8 greeting[] = { 'R', 'A', 'W', 0xff, 0xfd, 0x01, 0xff, 0xfb, 0x03, 0x1b, 0x39, 0x7b };
  static const guint8 target_greeting[] = { 'T', 'G', 'T', 0xff, 0xfb, 0x01 };
  g_autoptr(StreamServer) teletel = stream_server_new ("tcp", FALSE, greeting, sizeof greeting);
  g_autoptr(StreamServer) target = stream_server_new ("tcp", TRUE, target_greeting,
                                                      sizeof target_greeting);
  g_autoptr(MgwTestWs) ws = NULL;
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autofree char *ws_uri = NULL;
  g_autofree char *ident = NULL;
  StreamPeer *server, *peer;

  g_free (f->config->server_uri);
  f->config->server_uri = g_strdup (teletel->uri);
  start (f);
  ws_uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (ws_uri, NULL);
  g_assert_no_error (ws->error);
  mgw_test_ws_wait_for (ws, greeting, sizeof greeting);

  server = stream_server_wait_peer (teletel);
  ident = g_strdup_printf ("\x01\x7f\x7f\x7f\x04PID=0,IP=127.0.0.1,PORT=%u,Access=WS\n",
                           mgw_session_get_peer_port (session (f, 0)));
  wait_bytes (server->received, ident, strlen (ident), "the identification");
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, S ("1\xff" "2"));
  g_byte_array_append (expected, (const guint8 *) ident, strlen (ident));
  g_byte_array_append (expected, (const guint8 *) "1\xff" "2", 3);
  wait_bytes (server->received, S ("1\xff" "2"), "the user's bytes");
  mgw_test_run_for (100);
  /* No DO/DONT/WILL/WONT answers, nothing doubled. */
  g_assert_cmpmem (server->received->data, server->received->len, expected->data, expected->len);

  send_connect (f, 0, target->uri);
  expect (f, "UserRedirected,,,0,42");
  peer = stream_server_wait_peer (target);
  mgw_test_ws_wait_for (ws, S (STATUS ("CONNECT") "TGT\xff\xfb\x01"));
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, S ("a\xff" "b"));
  mgw_test_ws_wait_for (ws, S ("TGT\xff\xfb\x01" "a\xff" "b"));   /* the target's echo */
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, S ("\x13\x49" "c"));
  expect (f, "UserRedirectEnded,,,0,42");
  mgw_test_wait_until (flag_set, &peer->closed, MGW_TEST_TIMEOUT_MS, "the target to be closed");
  g_assert_cmpmem (peer->received->data, peer->received->len, "a\xff" "b", 3);
  wait_bytes (server->received, S ("c"), "the user back on the tcp server");
  g_assert_false (mgw_test_bytes_contain (server->received, S ("a\xff" "b")));
}

/* Back-pressure with a tcp:// default server: a raw user who stops
 * reading while the server floods; the gateway stops reading the server
 * (its writes block) instead of overflowing the user's queue, and every
 * byte arrives, in order, once the user reads again. */
static void
test_default_tcp_backpressure (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(StreamServer) teletel = stream_server_new ("tcp", FALSE, NULL, 0);
  g_autoptr(RawUser) u = NULL;
  g_autofree char *connected = NULL;
  GSocket *socket;
  StreamPeer *server;
  guint8 chunk[4096];
  gsize written = 0, head;
  guint blocked = 0;

  f->config->no_command_channel = TRUE;
  g_free (f->config->server_uri);
  f->config->server_uri = g_strdup (teletel->uri);
  start (f);
  u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  g_socket_set_option (u->socket, SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  connected = g_strdup_printf (WELCOME "Connected to '%s'\n\r" STATUS ("CONNECT"), teletel->uri);
  wait_bytes (u->received, connected, strlen (connected), "the welcome");
  head = u->received->len;
  server = stream_server_wait_peer (teletel);
  socket = g_socket_connection_get_socket (server->conn);
  g_socket_set_option (socket, SOL_SOCKET, SO_SNDBUF, 4096, NULL);
  g_socket_set_blocking (socket, FALSE);
  raw_user_pause (u, TRUE);

  /* Write until the gateway takes nothing for 20 rounds of 25 ms. */
  while (blocked < 20)
    {
      g_autoptr(GError) error = NULL;
      gssize n;

      for (gsize i = 0; i < sizeof chunk; i++)
        chunk[i] = 'A' + (written + i) % 26;
      n = g_socket_send (socket, (const char *) chunk, sizeof chunk, NULL, &error);
      if (n > 0)
        {
          written += n;
          blocked = 0;
        }
      else
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
          blocked++;
          mgw_test_run_for (25);
        }
      g_assert_cmpuint (written, <, 64 * 1024 * 1024);   /* the gateway kept reading */
      g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
    }
  g_assert_cmpuint (written, >, f->config->queue_limit);
  g_test_message ("%" G_GSIZE_FORMAT " bytes written before the gateway stopped reading", written);

  raw_user_pause (u, FALSE);
  while (u->received->len < head + written)
    {
      g_assert_false (u->closed);
      g_main_context_iteration (NULL, TRUE);
    }
  for (gsize i = 0; i < written; i++)
    if (u->received->data[head + i] != 'A' + i % 26)
      g_error ("byte %" G_GSIZE_FORMAT " of the flood is out of order", i);
  g_assert_cmpuint (u->received->len, ==, head + written);
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
}

/* A telnet:// default server silent for [timeouts] server-inactivity
 * ends the session, as a WebSocket one does. */
static void
test_default_telnet_inactive (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(StreamServer) teletel = stream_server_new ("telnet", FALSE, NULL, 0);
  g_autoptr(RawUser) u = NULL;

  f->config->no_command_channel = TRUE;
  f->config->server_inactivity[MGW_ACCESS_TELNET] = 1;
  g_free (f->config->server_uri);
  f->config->server_uri = g_strdup (teletel->uri);
  start (f);
  u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  wait_bytes (u->received, S (STATUS ("CONNECT")), "the user");
  wait_bytes (u->received, S (STATUS ("END INACTIVE")), "the server inactivity timeout");
  mgw_test_wait_until (flag_set, &stream_server_wait_peer (teletel)->closed, MGW_TEST_TIMEOUT_MS,
                       "the telnet server to be closed");
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->timeouts[MGW_TIMEOUT_SERVER_INACTIVITY],
                    ==, 1);
}

/* A tcp:// URI without a port cannot be a target. */
static void
test_tcp_target_without_port (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(RawUser) u = NULL;

  g_free (f->config->redirect_allow);
  f->config->redirect_allow = g_strdup ("*:*");
  start (f);
  u = raw_user_connect (mgw_gateway_get_raw_port (f->gateway), TRUE);
  wait_bytes (u->received, S (STATUS ("CONNECT")), "the user");
  g_byte_array_set_size (u->received, 0);
  send_connect (f, 0, "tcp://192.0.2.1");
  expect (f, "UserRedirectEnded,,,0,42");
  wait_bytes (u->received, S (STATUS ("SERVICE UNAVAILABLE")), "the refusal");
}

/* --- moipgwd --- */

/* --raw alone: raw users only (no WebSocket port of the original's),
 * a tcp:// default server from -v; a tcp:// -v without a port is a
 * usage error. */
static void
test_daemon (void)
{
  g_autoptr(StreamServer) teletel = stream_server_new ("tcp", TRUE, (const guint8 *) "HELLO", 5);
  g_autoptr(MgwTestDaemon) bad = NULL;
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autoptr(RawUser) u = NULL;
  g_autofree char *state = mgw_test_tmp_dir ();
  g_autofree char *conf = g_build_filename (state, "moipgw.conf", NULL);
  g_autofree char *config_option = NULL;
  guint16 port;

  bad = mgw_test_daemon_spawn ("--no-dbus", "--state-dir", state, "--configpath", state,
                               "--raw", "0", "-n", "-v", "tcp://127.0.0.1", NULL);
  mgw_test_daemon_wait_exit (bad, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (bad->process), ==, 2);
  g_assert_nonnull (strstr (bad->err->str, "a tcp:// URI must name its port"));

  /* The Telnet rules apply to raw users: no anti-garbage filter here. */
  g_assert_true (g_file_set_contents (conf, "[telnet]\ngarbage-bytes=0\n", -1, NULL));
  config_option = g_strdup_printf ("--config=%s", conf);
  d = mgw_test_daemon_spawn ("--no-dbus", "--state-dir", state, "--configpath", state,
                             config_option, "--raw", "0", "-n", "-v", teletel->uri, NULL);
  port = mgw_test_daemon_port (d, "raw TCP");
  mgw_test_daemon_wait_output (d, "ready");
  g_assert_null (strstr (d->err->str, "listening for WebSocket users"));
  g_assert_null (strstr (d->err->str, "listening for Telnet users"));
  u = raw_user_connect (port, TRUE);
  wait_bytes (u->received, S (STATUS ("CONNECT") "HELLO"), "the tcp:// server's page");
  raw_user_send (u, S ("echo me"));
  wait_bytes (u->received, S ("HELLOecho me"), "the echo through the tcp:// server");
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, setup, func, teardown)

int
main (int    argc,
      char **argv)
{
  mgw_test_init (&argc, &argv);
  ADD ("/raw/user/session", test_user_session);
  ADD ("/raw/user/ff", test_user_ff);
  ADD ("/raw/user/negotiation-none", test_user_negotiation_none);
  ADD ("/raw/user/telnet-settings", test_user_telnet_settings);
  ADD ("/raw/user/paced", test_user_paced);
  ADD ("/raw/user/banned", test_user_banned);
  ADD ("/raw/user/scanner", test_user_scanner);
  ADD ("/raw/user/untrusted-proxy", test_user_untrusted_proxy);
  ADD ("/raw/user/own-listener", test_user_own_listener);
  ADD ("/raw/default-server/telnet", test_default_telnet);
  ADD ("/raw/default-server/telnet-inactive", test_default_telnet_inactive);
  ADD ("/raw/default-server/tcp", test_default_tcp);
  ADD ("/raw/default-server/tcp-backpressure", test_default_tcp_backpressure);
  ADD ("/raw/target/tcp-without-port", test_tcp_target_without_port);
  g_test_add_func ("/raw/daemon", test_daemon);
  return g_test_run ();
}
