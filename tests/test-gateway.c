/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gateway.c: the gateway end to end, in process: real listeners on
 * 127.0.0.1 (ports from the kernel), raw TCP Telnet clients and libsoup
 * WebSocket clients, the demo service or a scripted upstream server. */
#include "config.h"

#include "mgw-demo.h"
#include "mgw-gateway.h"
#include "mgw-test-util.h"

#include <string.h>
#include <sys/socket.h>

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"
#define S(lit) lit, sizeof lit - 1

static const guint8 will_echo_sga[] = { 0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03 };

typedef struct
{
  MgwDemo       *demo;
  MgwTestServer *server;   /* scripted upstream, when used */
  MgwConfig     *config;
  MgwGateway    *gateway;
} Fixture;

static void
setup_demo (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->demo = mgw_demo_new ();
  g_assert_true (mgw_demo_start (f->demo, &error));
  f->config = mgw_test_config_new (mgw_demo_get_uri (f->demo));
}

static void
setup_server (Fixture *f, gconstpointer data)
{
  f->server = mgw_test_server_new (FALSE, NULL);
  f->config = mgw_test_config_new (f->server->uri);
}

static void
start (Fixture *f)
{
  f->gateway = mgw_test_gateway_new (f->config);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->gateway != NULL)
    {
      mgw_gateway_stop (f->gateway, NULL);
      mgw_test_run_for (50);
    }
  g_clear_object (&f->gateway);
  g_clear_pointer (&f->config, mgw_config_unref);
  g_clear_pointer (&f->server, mgw_test_server_free);
  g_clear_object (&f->demo);
  mgw_test_run_for (20);
}

static gboolean
no_sessions (gpointer data)
{
  return mgw_gateway_get_n_sessions (data) == 0;
}

static gboolean
no_recordings (gpointer data)
{
  return mgw_gateway_get_n_recordings (data) == 0;
}

static void
wait_no_sessions (Fixture *f)
{
  mgw_test_wait_until (no_sessions, f->gateway, MGW_TEST_TIMEOUT_MS,
                       "every session to end");
}

/* The demo service alone, as a WebSocket client sees it: the page and
 * ENQROM on "/" (text frames), echo, Connexion/Fin closes with "Au
 * revoir"; the METEO page on "/meteo"; the command channel on "/command"
 * (a query is fine); any other path refused. */
static void
test_demo_routes (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) page = mgw_demo_get_page ();
  g_autoptr(GBytes) service_page = mgw_demo_get_service_page ();
  const char *base = mgw_demo_get_uri (f->demo);   /* ws://127.0.0.1:PORT/ */
  static const char *refused[] = { "other", "meteo/x", "command/", "Meteo" };

  {
    g_autoptr(MgwTestWs) ws = mgw_test_ws_connect (base, NULL);
    g_autoptr(GByteArray) expected = g_byte_array_new ();

    g_assert_no_error (ws->error);
    g_byte_array_append (expected, g_bytes_get_data (page, NULL), g_bytes_get_size (page));
    g_byte_array_append (expected, (const guint8 *) "\x1b\x39\x7b", 3);
    mgw_test_ws_wait_for (ws, expected->data, expected->len);
    g_assert_cmpuint (ws->received->len, ==, expected->len);
    g_assert_cmpuint (ws->n_text, ==, 2);
    g_assert_cmpuint (ws->n_binary, ==, 0);
    mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, S ("k\xe9"));   /* é is not echoed */
    mgw_test_ws_wait_for (ws, S ("\x7b" "k"));
    mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, S ("\x13\x49"));
    mgw_test_ws_wait_for (ws, S ("Au revoir !"));
    mgw_test_ws_wait_closed (ws);
    g_assert_cmpint (soup_websocket_connection_get_close_code (ws->conn), ==,
                     SOUP_WEBSOCKET_CLOSE_NORMAL);
  }
  {
    g_autoptr(MgwTestWs) ws = mgw_test_ws_connect (mgw_demo_get_service_uri (f->demo), NULL);

    g_assert_no_error (ws->error);
    mgw_test_ws_wait_for (ws, g_bytes_get_data (service_page, NULL),
                          g_bytes_get_size (service_page));
  }
  {
    g_autofree char *uri = g_strconcat (mgw_demo_get_command_uri (f->demo), "?v=1", NULL);
    g_autoptr(MgwTestWs) ws = mgw_test_ws_connect (uri, NULL);

    g_assert_no_error (ws->error);
    mgw_test_run_for (50);
    g_assert_cmpuint (ws->received->len, ==, 0);   /* the channel says nothing first */
    g_assert_false (ws->closed);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *uri = g_strconcat (base, refused[i], NULL);
      g_autoptr(MgwTestWs) ws = mgw_test_ws_connect (uri, NULL);

      if (ws->error == NULL)
        g_error ("%s accepted", uri);
    }
}

/* A Telnet user sees negotiation, welcome, Connected, CONNECT, the page,
 * and the echo of a key typed without Enter. */
static void
test_telnet_demo (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(GBytes) page = mgw_demo_get_page ();
  g_autofree char *connected = NULL;
  gsize page_len;
  const guint8 *page_data = g_bytes_get_data (page, &page_len);

  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, page_data, page_len);
  connected = g_strdup_printf ("Welcome to PyMoIP [telnet]/WS gateway\n\r"
                               "Connected to '%s'\n\r" STATUS ("CONNECT"),
                               f->config->server_uri);
  /* Exactly this order, from the first byte. */
  g_assert_cmpmem (tcp->received->data, sizeof will_echo_sga,
                   will_echo_sga, sizeof will_echo_sga);
  g_assert_cmpmem (tcp->received->data + sizeof will_echo_sga, strlen (connected),
                   connected, strlen (connected));
  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7b"));  /* ENQROM */

  mgw_test_tcp_send (tcp, S ("k"));
  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7bk"));
  g_assert_cmpuint (mgw_gateway_get_n_sessions_by_access (f->gateway, MGW_ACCESS_TELNET), ==, 1);
}

static void
test_ws_demo (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(GBytes) page = mgw_demo_get_page ();
  gsize page_len;
  const guint8 *page_data = g_bytes_get_data (page, &page_len);

  start (f);
  uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (uri, NULL);
  g_assert_no_error (ws->error);
  /* No subprotocol offered: none chosen, still accepted. */
  g_assert_null (soup_websocket_connection_get_protocol (ws->conn));
  mgw_test_ws_wait_for (ws, page_data, page_len);
  g_assert_true (mgw_test_bytes_contain (ws->received,
                                         S ("Welcome to PyMoIP telnet/[WS] gateway\n\r")));
  g_assert_true (mgw_test_bytes_contain (ws->received, S (STATUS ("CONNECT"))));
  /* The demo's page has accents through G2 but the frames are text. */
  g_assert_cmpuint (ws->n_binary, ==, 0);
  g_assert_cmpuint (ws->n_text, >, 0);

  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, S ("z"));
  mgw_test_ws_wait_for (ws, S ("\x1b\x39\x7bz"));
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, S ("y"));
  mgw_test_ws_wait_for (ws, S ("\x1b\x39\x7bzy"));
}

static void
test_ws_subprotocol (Fixture *f, gconstpointer data)
{
  static const char *offer[] = { "tty", "binary", NULL };
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;

  start (f);
  uri = g_strdup_printf ("ws://127.0.0.1:%u/any/path?x=1",
                         mgw_gateway_get_ws_port (f->gateway));
  ws = mgw_test_ws_connect (uri, offer);
  g_assert_no_error (ws->error);
  g_assert_cmpstr (soup_websocket_connection_get_protocol (ws->conn), ==, "tty");
  mgw_test_ws_wait_for (ws, S (STATUS ("CONNECT")));
}

/* Plain HTTP on the WebSocket port gets an HTTP error (426: the port
 * speaks WebSocket only), not a session. */
static void
test_ws_plain_http (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;

  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_ws_port (f->gateway));
  mgw_test_tcp_send (tcp, S ("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  mgw_test_tcp_wait_for (tcp, S ("HTTP/1.1 426"));
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 0);
}

/* Frames of every kind from the server reach the user as bytes; empty
 * frames are ignored; bytes above 0x7f survive both directions. */
static void
test_frames (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;
  MgwTestPeer *peer;
  static const guint8 binary[] = { 0x00, 0x80, 0xe9, 0xff, 0x13, 0x41 };

  start (f);
  uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (uri, NULL);
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_ws_wait_for (ws, S (STATUS ("CONNECT")));

  mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_TEXT, "", 0);
  mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_BINARY, binary, sizeof binary);
  mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_TEXT, S ("\xe0" "bc\x00"));
  mgw_test_ws_wait_for (ws, S ("\x00\x80\xe9\xff\x13\x41\xe0" "bc\x00"));
  /* Users get text frames by default, even for bytes from binary frames. */
  g_assert_cmpuint (ws->n_binary, ==, 0);

  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, "", 0);
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, binary, 4);
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, S ("\xe9z"));
  mgw_test_peer_wait_for (peer, S ("\x00\x80\xe9\xff\xe9z"));
  for (guint i = 0; i < peer->frames->len; i++)
    g_assert_cmpuint (g_bytes_get_size (peer->frames->pdata[i]), >, 0);
}

/* A text frame holding a code point above U+00FF is dropped, counted,
 * and the session goes on. */
static void
test_text_above_ff (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;
  MgwTestPeer *peer;
  g_autoptr(GBytes) euro = g_bytes_new_static ("Q\xe2\x82\xac", 4);

  start (f);
  uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (uri, NULL);
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_ws_wait_for (ws, S (STATUS ("CONNECT")));

  soup_websocket_connection_send_message (ws->conn, SOUP_WEBSOCKET_DATA_TEXT, euro);
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, S ("ok"));
  mgw_test_peer_wait_for (peer, S ("ok"));
  g_assert_false (mgw_test_bytes_contain (peer->received, S ("Q")));

  soup_websocket_connection_send_message (peer->conn, SOUP_WEBSOCKET_DATA_TEXT, euro);
  mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_TEXT, S ("fine"));
  mgw_test_ws_wait_for (ws, S ("fine"));
  g_assert_false (mgw_test_bytes_contain (ws->received, S ("Q")));
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
  /* Counted: one from the user, one from the server. */
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->bad_input, ==, 2);
}

/* Binary frames to users when configured so. */
static void
test_binary_to_users (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;

  f->config->ws_frame_type = MGW_FRAME_BINARY;
  start (f);
  uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (uri, NULL);
  mgw_test_ws_wait_for (ws, S (STATUS ("CONNECT")));
  g_assert_cmpuint (ws->n_text, ==, 0);
  g_assert_cmpuint (ws->n_binary, >, 0);
}

/* SEP (0x13) is never sent without its key code: held across reads, and
 * sent alone only after the hold time. */
static void
test_sep_never_split (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  MgwTestPeer *peer;
  gint64 before;

  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));

  mgw_test_tcp_send (tcp, S ("a\x13"));
  mgw_test_peer_wait_for (peer, S ("a"));
  mgw_test_run_for (30);
  mgw_test_tcp_send (tcp, S ("\x41"));
  mgw_test_peer_wait_for (peer, S ("a\x13\x41"));
  for (guint i = 0; i < peer->frames->len; i++)
    {
      gsize len;
      const guint8 *p = g_bytes_get_data (peer->frames->pdata[i], &len);
      g_assert_false (p[len - 1] == 0x13);
    }
  g_assert_cmpmem (g_bytes_get_data (peer->frames->pdata[peer->frames->len - 1], NULL), 2,
                   "\x13\x41", 2);

  /* A lone SEP goes after the hold time (100 ms by default). */
  before = g_get_monotonic_time ();
  mgw_test_tcp_send (tcp, S ("\x13"));
  mgw_test_peer_wait_for (peer, S ("a\x13\x41\x13"));
  g_assert_cmpint (g_get_monotonic_time () - before, >=, 90 * 1000);
}

/* Telnet: IAC IAC from the user is one 0xFF upstream; 0xFF from the
 * server is doubled towards the user; negotiation is stripped; the
 * gateway itself echoes nothing. */
static void
test_telnet_bytes (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  MgwTestPeer *peer;
  static const guint8 from_user[] = { 'x', 0xff, 0xff, 'y', 0xff, 0xfd, 0x03,
                                      0xff, 0xfa, 0x18, 0x00, 'T', 0xff, 0xf0, 'z' };

  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  g_byte_array_set_size (tcp->received, 0);

  mgw_test_tcp_send (tcp, from_user, sizeof from_user);
  mgw_test_peer_wait_for (peer, S ("x\xffyz"));
  g_assert_cmpuint (peer->received->len, ==, 4);

  mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_BINARY, S ("\xff" "A"));
  mgw_test_tcp_wait_for (tcp, S ("\xff\xff" "A"));
  /* No echo of the user's bytes by the gateway: only the server's. */
  g_assert_false (mgw_test_bytes_contain (tcp->received, S ("x")));
}

/* The original's IAC DO ECHO, as an option. */
static void
test_telnet_do_echo (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;

  f->config->telnet_start = MGW_TELNET_START_DO_ECHO;
  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S ("Welcome"));
  g_assert_cmpmem (tcp->received->data, 3, "\xff\xfd\x01", 3);
}

static void
test_welcome_empty (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;

  g_free (f->config->telnet_welcome);
  f->config->telnet_welcome = g_strdup ("");
  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  g_assert_cmpmem (tcp->received->data + 6, 9, "Connected", 9);
}

/* Default server down: the user is told on the status line, the session
 * closes, the gateway goes on serving. */
static void
test_server_down (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;

  g_free (f->config->server_uri);
  f->config->server_uri = g_strdup_printf ("ws://127.0.0.1:%u/", mgw_test_closed_port ());
  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("SERVER UNAVAILABLE, RETRY LATER")));
  mgw_test_tcp_wait_closed (tcp);

  uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (uri, NULL);
  g_assert_no_error (ws->error);
  mgw_test_ws_wait_for (ws, S (STATUS ("SERVER UNAVAILABLE, RETRY LATER")));
  mgw_test_ws_wait_closed (ws);
  wait_no_sessions (f);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->sessions_total[MGW_ACCESS_WS], ==, 1);
}

/* An upstream that accepts TCP and never answers the handshake. */
static void
test_server_silent (Fixture *f, gconstpointer data)
{
  g_autoptr(GSocket) silent = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(MgwTestTcp) tcp = NULL;

  silent = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (silent, address, TRUE, NULL));
  g_assert_true (g_socket_listen (silent, NULL));
  bound = g_socket_get_local_address (silent, NULL);
  g_free (f->config->server_uri);
  f->config->server_uri = g_strdup_printf ("ws://127.0.0.1:%u/",
                                           g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  f->config->connect_timeout = 1;
  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("SERVER UNAVAILABLE, RETRY LATER")));
  mgw_test_tcp_wait_closed (tcp);
}

/* The user leaves: the upstream is closed within 100 ms. */
static void
test_user_leaves (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;
  MgwTestPeer *peer;
  gint64 gone;

  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  gone = g_get_monotonic_time ();
  g_socket_close (tcp->socket, NULL);
  mgw_test_peer_wait_closed (peer);
  g_assert_cmpint (peer->closed_at - gone, <, 100 * 1000);

  uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (uri, NULL);
  peer = mgw_test_server_wait_peer (f->server, 1);
  mgw_test_ws_wait_for (ws, S (STATUS ("CONNECT")));
  gone = g_get_monotonic_time ();
  soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  mgw_test_peer_wait_closed (peer);
  g_assert_cmpint (peer->closed_at - gone, <, 100 * 1000);
  wait_no_sessions (f);
}

/* The server leaves: the user is told and disconnected. */
static void
test_server_leaves (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  MgwTestPeer *peer;

  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_TEXT, S ("last words"));
  soup_websocket_connection_close (peer->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  mgw_test_tcp_wait_for (tcp, S ("last words" STATUS ("END SERVER CLOSED")));
  mgw_test_tcp_wait_closed (tcp);
  wait_no_sessions (f);
}

typedef struct
{
  const char *status;
  MgwTimeout  which;
} TimeoutCase;

static void
run_timeout (Fixture *f, MgwAccess access, const TimeoutCase *tc, gboolean type_keys)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *status = g_strdup_printf (STATUS ("%s"), tc->status);
  GByteArray *received;
  gint64 begin = g_get_monotonic_time ();

  if (access == MGW_ACCESS_TELNET)
    {
      tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
      received = tcp->received;
    }
  else
    {
      uri = mgw_test_ws_uri (f->gateway);
      ws = mgw_test_ws_connect (uri, NULL);
      received = ws->received;
    }
  /* Keep the user active where the test is about another timeout. */
  while (!mgw_test_bytes_contain (received, status, strlen (status)))
    {
      g_assert_cmpint (g_get_monotonic_time () - begin, <, 5 * G_USEC_PER_SEC);
      mgw_test_run_for (200);
      if (type_keys && tcp != NULL && !tcp->closed)
        mgw_test_tcp_send (tcp, S ("k"));
      if (type_keys && ws != NULL && !ws->closed)
        mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, S ("k"));
    }
  if (tcp != NULL)
    mgw_test_tcp_wait_closed (tcp);
  else
    mgw_test_ws_wait_closed (ws);
  wait_no_sessions (f);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->timeouts[tc->which], ==, 1);
}

static void
test_timeout_user (Fixture *f, gconstpointer data)
{
  static const TimeoutCase tc = { "END INACTIVE USER", MGW_TIMEOUT_USER_INACTIVITY };
  MgwAccess access = GPOINTER_TO_INT (data);

  f->config->user_inactivity[access] = 1;
  start (f);
  run_timeout (f, access, &tc, FALSE);
}

static void
test_timeout_max (Fixture *f, gconstpointer data)
{
  static const TimeoutCase tc = { "END MAX TIME", MGW_TIMEOUT_SESSION_MAX };
  MgwAccess access = GPOINTER_TO_INT (data);

  f->config->session_max[access] = 1;
  start (f);
  run_timeout (f, access, &tc, TRUE);
}

static void
test_timeout_server (Fixture *f, gconstpointer data)
{
  static const TimeoutCase tc = { "END INACTIVE", MGW_TIMEOUT_SERVER_INACTIVITY };
  MgwAccess access = GPOINTER_TO_INT (data);

  /* The test server does not echo: typing keeps the user active while
   * the server stays silent. */
  f->config->server_inactivity[access] = 1;
  start (f);
  run_timeout (f, access, &tc, TRUE);
}

/* A WebSocket user that never answers pings is dropped. */
static void
test_ws_keepalive (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;

  f->config->ws_ping_interval = 1;
  f->config->ws_ping_timeout = 1;
  start (f);
  /* A hand-made WebSocket client that reads but never answers. */
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_ws_port (f->gateway));
  mgw_test_tcp_send (tcp, S ("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n"));
  mgw_test_tcp_wait_for (tcp, S ("HTTP/1.1 101"));
  mgw_test_tcp_wait_for (tcp, S ("\x89\x00"));   /* a ping frame, no payload */
  mgw_test_wait_until ((MgwTestCondition) no_sessions, f->gateway, 5000,
                       "the silent user to be dropped");
  mgw_test_tcp_wait_closed (tcp);
}

/* A WebSocket connection that never sends its upgrade is closed after
 * the connect timeout: idle sockets cannot pile up. */
static void
test_ws_idle_handshake (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) idle = NULL;
  g_autoptr(MgwTestTcp) slow = NULL;
  gint64 begin;

  f->config->connect_timeout = 1;
  start (f);
  begin = g_get_monotonic_time ();
  idle = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_ws_port (f->gateway));
  slow = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_ws_port (f->gateway));
  mgw_test_tcp_send (slow, S ("GET / HTTP/1.1\r\nHost: x\r\n"));   /* never finished */
  mgw_test_tcp_wait_closed (idle);
  mgw_test_tcp_wait_closed (slow);
  g_assert_cmpint (g_get_monotonic_time () - begin, >=, 900 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - begin, <, 3 * G_USEC_PER_SEC);
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 0);
}

/* The listener also answers on IPv6 (when the machine has ::1). */
static void
test_ipv6 (Fixture *f, gconstpointer data)
{
  g_autoptr(GSocket) probe = NULL;
  g_autoptr(GInetAddress) v6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (v6, 0);
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;

  probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  if (probe == NULL || !g_socket_bind (probe, address, FALSE, NULL))
    {
      g_test_skip ("no IPv6 loopback on this machine");
      return;
    }
  g_strfreev (f->config->listen_addresses);
  f->config->listen_addresses = NULL;   /* every address, IPv4 and IPv6 */
  start (f);

  tcp = mgw_test_tcp_connect ("::1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  uri = g_strdup_printf ("ws://[::1]:%u/", mgw_gateway_get_ws_port (f->gateway));
  ws = mgw_test_ws_connect (uri, NULL);
  g_assert_no_error (ws->error);
  mgw_test_ws_wait_for (ws, S (STATUS ("CONNECT")));
  /* And IPv4 on the same ports. */
  {
    g_autoptr(MgwTestTcp) tcp4 = mgw_test_tcp_connect ("127.0.0.1",
                                                       mgw_gateway_get_telnet_port (f->gateway));
    mgw_test_tcp_wait_for (tcp4, S (STATUS ("CONNECT")));
  }
  {
    MgwSession *session = mgw_gateway_lookup_session (f->gateway, 0);
    g_assert_nonnull (session);
    g_assert_cmpstr (mgw_session_get_peer_address (session), ==, "::1");
  }
}

/* Many users at once, each with its own upstream. */
static void
test_many_users (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_tcp_free);

  start (f);
  for (guint i = 0; i < 50; i++)
    g_ptr_array_add (clients, mgw_test_tcp_connect ("127.0.0.1",
                                                    mgw_gateway_get_telnet_port (f->gateway)));
  for (guint i = 0; i < clients->len; i++)
    {
      char key[8];
      g_snprintf (key, sizeof key, "<%u>", i);
      mgw_test_tcp_wait_for (clients->pdata[i], S ("\x1b\x39\x7b"));
      mgw_test_tcp_send (clients->pdata[i], key, strlen (key));
    }
  for (guint i = 0; i < clients->len; i++)
    {
      char key[8];
      g_snprintf (key, sizeof key, "<%u>", i);
      mgw_test_tcp_wait_for (clients->pdata[i], key, strlen (key));
    }
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 50);
  g_ptr_array_set_size (clients, 0);
  wait_no_sessions (f);
}

/* A user that stops reading while the server floods: the user's queue
 * fills, the server is no longer read (back-pressure, the flood waits in
 * the server), nothing overflows, and after [session] stall-timeout
 * without progress the user is dropped. Without back-pressure the 64 KiB
 * queue would overflow at once and the session end in milliseconds. */
static void
test_stalled_user (Fixture *f, gconstpointer data)
{
  MgwAccess access = GPOINTER_TO_INT (data);
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(GBytes) page = NULL;
  guint8 chunk[4096];
  MgwTestPeer *peer;
  gint64 begin, lasted;
  guint port;

  f->config->stall_timeout = 2;
  start (f);
  port = access == MGW_ACCESS_TELNET ? mgw_gateway_get_telnet_port (f->gateway)
                                     : mgw_gateway_get_ws_port (f->gateway);
  tcp = mgw_test_tcp_connect ("127.0.0.1", port);
  g_socket_set_option (tcp->socket, SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  if (access == MGW_ACCESS_WS)
    {
      mgw_test_tcp_send (tcp, S ("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                 "Sec-WebSocket-Version: 13\r\n\r\n"));
      mgw_test_tcp_wait_for (tcp, S ("HTTP/1.1 101"));
    }
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  mgw_test_tcp_pause (tcp, TRUE);

  memset (chunk, 'x', sizeof chunk);
  page = g_bytes_new_static (chunk, sizeof chunk);
  begin = g_get_monotonic_time ();
  for (guint i = 0; i < 4096; i++)   /* 16 MiB */
    soup_websocket_connection_send_message (peer->conn, SOUP_WEBSOCKET_DATA_BINARY, page);
  mgw_test_wait_until (no_sessions, f->gateway, 10000, "the stalled user to be dropped");
  lasted = g_get_monotonic_time () - begin;
  g_assert_cmpint (lasted, >=, 1500 * 1000);
  g_assert_cmpint (lasted, <, 6 * G_USEC_PER_SEC);
  mgw_test_peer_wait_closed (peer);
}

/* A Telnet user that shuts down its sending side (half-closed, as
 * `nc -N` does after its input): what it typed before reaches the server,
 * the session ends, and the gateway closes its side too instead of keeping
 * a half-open socket. */
static void
test_half_closed_user (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  MgwTestPeer *peer;

  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  mgw_test_tcp_send (tcp, S ("last keys"));
  g_assert_true (g_socket_shutdown (tcp->socket, FALSE, TRUE, NULL));
  mgw_test_peer_wait_for (peer, S ("last keys"));
  mgw_test_peer_wait_closed (peer);
  wait_no_sessions (f);
  mgw_test_tcp_wait_closed (tcp);
}

static gboolean
no_more_draining (gpointer data)
{
  return !mgw_gateway_get_draining (data);
}

/* Drain: the open users told (the operator's text, then again with the
 * default one: a drain while draining takes the new grace), new users,
 * Telnet and WebSocket, told SERVICE CLOSING and closed (counted), the
 * open ones ended SERVICE CLOSED when the grace is over; resume admits
 * again; a grace of 0 ends them at once. */
static void
test_drain (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) a = NULL;
  g_autoptr(MgwTestWs) b = NULL;
  g_autoptr(MgwTestTcp) c = NULL;
  g_autoptr(MgwTestWs) d = NULL;
  g_autoptr(MgwTestTcp) e = NULL;
  g_autofree char *uri = NULL;
  gint64 before;

  start (f);
  uri = mgw_test_ws_uri (f->gateway);
  a = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (a, S (STATUS ("CONNECT")));
  b = mgw_test_ws_connect (uri, NULL);
  mgw_test_ws_wait_for (b, S (STATUS ("CONNECT")));
  g_assert_false (mgw_gateway_get_draining (f->gateway));
  g_assert_cmpint (mgw_gateway_get_drain_deadline (f->gateway), ==, 0);

  before = g_get_real_time ();
  mgw_gateway_drain (f->gateway, 3600, "CLOSING AT 22:00");
  mgw_test_tcp_wait_for (a, S (STATUS ("CLOSING AT 22:00")));
  mgw_test_ws_wait_for (b, S (STATUS ("CLOSING AT 22:00")));
  g_assert_true (mgw_gateway_get_draining (f->gateway));
  g_assert_cmpint (mgw_gateway_get_drain_deadline (f->gateway), >=, before + (gint64) 3600 * G_USEC_PER_SEC);
  mgw_gateway_drain (f->gateway, 1, NULL);
  mgw_test_tcp_wait_for (a, S (STATUS ("SERVICE CLOSING IN 1 S")));
  mgw_test_ws_wait_for (b, S (STATUS ("SERVICE CLOSING IN 1 S")));
  g_assert_cmpint (mgw_gateway_get_drain_deadline (f->gateway), <, before + (gint64) 3600 * G_USEC_PER_SEC);

  c = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (c, S (STATUS ("SERVICE CLOSING, RETRY LATER")));
  mgw_test_tcp_wait_closed (c);
  g_assert_false (mgw_test_bytes_contain (c->received, S ("CONNECT")));
  d = mgw_test_ws_connect (uri, NULL);
  mgw_test_ws_wait_for (d, S (STATUS ("SERVICE CLOSING, RETRY LATER")));
  mgw_test_ws_wait_closed (d);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_draining, ==, 2);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_full, ==, 0);

  /* The grace (1 s) over: the two open ones end. */
  mgw_test_tcp_wait_for (a, S (STATUS ("SERVICE CLOSED")));
  mgw_test_tcp_wait_closed (a);
  mgw_test_ws_wait_for (b, S (STATUS ("SERVICE CLOSED")));
  mgw_test_ws_wait_closed (b);
  wait_no_sessions (f);
  g_assert_true (mgw_gateway_get_draining (f->gateway));

  g_assert_true (mgw_gateway_resume (f->gateway));
  g_assert_false (mgw_gateway_resume (f->gateway));
  g_assert_cmpint (mgw_gateway_get_drain_deadline (f->gateway), ==, 0);
  e = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (e, S (STATUS ("CONNECT")));

  /* No grace: at once, no notice first. */
  mgw_gateway_drain (f->gateway, 0, "NOT SHOWN");
  mgw_test_tcp_wait_for (e, S (STATUS ("SERVICE CLOSED")));
  mgw_test_tcp_wait_closed (e);
  g_assert_false (mgw_test_bytes_contain (e->received, S ("NOT SHOWN")));
  mgw_gateway_resume (f->gateway);
  mgw_test_wait_until (no_more_draining, f->gateway, MGW_TEST_TIMEOUT_MS, "resumed");
}

/* Resumed within the grace: the timer is cancelled, the users stay. */
static void
test_drain_resumed (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) a = NULL;

  start (f);
  a = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (a, S (STATUS ("CONNECT")));
  mgw_gateway_drain (f->gateway, 1, NULL);
  mgw_test_tcp_wait_for (a, S (STATUS ("SERVICE CLOSING IN 1 S")));
  g_assert_true (mgw_gateway_resume (f->gateway));
  mgw_test_run_for (1500);
  g_assert_false (a->closed);
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
  g_assert_false (mgw_test_bytes_contain (a->received, S ("SERVICE CLOSED")));
}

static gboolean
has_recording (gpointer data)
{
  return mgw_session_get_recording (data) != NULL;
}

/* [recording] at a reload: for the sessions that start after it, with
 * its input and max-size; an open session keeps what it started with. */
static void
test_recording_reload (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) first = NULL;
  g_autoptr(MgwTestTcp) second = NULL;
  g_autoptr(MgwConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  MgwRecordingHeader header;
  MgwSession *before, *after;

  start (f);
  first = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (first, S ("\x1b\x39\x7b"));
  before = mgw_gateway_lookup_session (f->gateway, 0);
  g_assert_null (mgw_session_get_recorder (before));

  config = mgw_test_config_new (mgw_demo_get_uri (f->demo));
  config->recording_enabled = TRUE;
  config->recording_input = MGW_RECORDING_INPUT_DROP;
  config->recording_max_size = 8192;
  g_assert_true (mgw_gateway_reload (f->gateway, config, &error));
  g_assert_no_error (error);
  second = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (second, S ("\x1b\x39\x7b"));
  after = mgw_gateway_lookup_session (f->gateway, 1);
  g_assert_nonnull (mgw_session_get_recorder (after));
  g_assert_null (mgw_session_get_recorder (before));
  mgw_test_wait_until (has_recording, after, MGW_TEST_TIMEOUT_MS, "the recording's file");

  /* In the directory of the state directory in force (not the new
   * configuration's: read at start only). */
  name = g_strconcat (mgw_session_get_recording (after), MGW_RECORDING_SUFFIX, NULL);
  path = g_build_filename (f->config->state_dir, "recordings", name, NULL);
  mgw_test_tcp_send (second, S ("typed"));
  mgw_test_tcp_wait_for (second, S ("typed"));
  g_clear_pointer (&second, mgw_test_tcp_free);
  mgw_test_wait_until (no_recordings, f->gateway, MGW_TEST_TIMEOUT_MS, "the recording to close");
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (mgw_recording_parse_header (text, strcspn (text, "\n"), &header, &error));
  g_assert_no_error (error);
  g_assert_cmpint (header.input, ==, MGW_RECORDING_INPUT_DROP);
  g_assert_cmpuint (header.max_size, ==, 8192);
  g_assert_cmpint (header.offset, ==, 0);
  g_assert_cmpuint (header.session, ==, 1);
  mgw_recording_header_clear (&header);
  /* input=drop: no user event; the echo is there. */
  g_assert_null (strstr (text, ",\"u\","));
  g_assert_nonnull (strstr (text, "typed"));
}

#define ADD(path, setup, func, data) \
  g_test_add (path, Fixture, data, setup, func, teardown)

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  ADD ("/gateway/demo/routes", setup_demo, test_demo_routes, NULL);
  ADD ("/gateway/telnet/demo", setup_demo, test_telnet_demo, NULL);
  ADD ("/gateway/telnet/bytes", setup_server, test_telnet_bytes, NULL);
  ADD ("/gateway/telnet/do-echo", setup_demo, test_telnet_do_echo, NULL);
  ADD ("/gateway/telnet/welcome-empty", setup_demo, test_welcome_empty, NULL);
  ADD ("/gateway/recording-reload", setup_demo, test_recording_reload, NULL);
  ADD ("/gateway/ws/demo", setup_demo, test_ws_demo, NULL);
  ADD ("/gateway/ws/subprotocol", setup_demo, test_ws_subprotocol, NULL);
  ADD ("/gateway/ws/plain-http", setup_demo, test_ws_plain_http, NULL);
  ADD ("/gateway/ws/frames", setup_server, test_frames, NULL);
  ADD ("/gateway/ws/text-above-ff", setup_server, test_text_above_ff, NULL);
  ADD ("/gateway/ws/binary-to-users", setup_demo, test_binary_to_users, NULL);
  ADD ("/gateway/ws/keepalive", setup_demo, test_ws_keepalive, NULL);
  ADD ("/gateway/ws/idle-handshake", setup_demo, test_ws_idle_handshake, NULL);
  ADD ("/gateway/sep-never-split", setup_server, test_sep_never_split, NULL);
  ADD ("/gateway/failure/server-down", setup_demo, test_server_down, NULL);
  ADD ("/gateway/failure/server-silent", setup_demo, test_server_silent, NULL);
  ADD ("/gateway/failure/user-leaves", setup_server, test_user_leaves, NULL);
  ADD ("/gateway/failure/server-leaves", setup_server, test_server_leaves, NULL);
  ADD ("/gateway/timeout/user/telnet", setup_server, test_timeout_user, GINT_TO_POINTER (MGW_ACCESS_TELNET));
  ADD ("/gateway/timeout/user/ws", setup_server, test_timeout_user, GINT_TO_POINTER (MGW_ACCESS_WS));
  ADD ("/gateway/timeout/max/telnet", setup_server, test_timeout_max, GINT_TO_POINTER (MGW_ACCESS_TELNET));
  ADD ("/gateway/timeout/max/ws", setup_server, test_timeout_max, GINT_TO_POINTER (MGW_ACCESS_WS));
  ADD ("/gateway/timeout/server/telnet", setup_server, test_timeout_server, GINT_TO_POINTER (MGW_ACCESS_TELNET));
  ADD ("/gateway/timeout/server/ws", setup_server, test_timeout_server, GINT_TO_POINTER (MGW_ACCESS_WS));
  ADD ("/gateway/ipv6", setup_demo, test_ipv6, NULL);
  ADD ("/gateway/many-users", setup_demo, test_many_users, NULL);
  ADD ("/gateway/drain", setup_demo, test_drain, NULL);
  ADD ("/gateway/drain-resumed", setup_demo, test_drain_resumed, NULL);
  ADD ("/gateway/failure/half-closed-user", setup_server, test_half_closed_user, NULL);
  ADD ("/gateway/failure/stalled-user/telnet", setup_server, test_stalled_user, GINT_TO_POINTER (MGW_ACCESS_TELNET));
  ADD ("/gateway/failure/stalled-user/ws", setup_server, test_stalled_user, GINT_TO_POINTER (MGW_ACCESS_WS));
  return g_test_run ();
}
