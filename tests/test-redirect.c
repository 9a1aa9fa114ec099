/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-redirect.c: the Teletel handshake end to end (docs/protocol.md,
 * Command channel; Redirection and the return): the
 * command channel's messages in order, ENQROM identification, redirection
 * to ws:// and telnet:// targets, Connexion/Fin and the return sequences,
 * every way a redirection ends, the two known bugs of the original, a
 * flapping command channel.
 *
 * The Teletel stub is two scripted libsoup servers recording every frame:
 * the default server and the command channel. */
#include "config.h"

#include "mgw-demo.h"
#include "mgw-gateway.h"
#include "mgw-redirect-policy.h"
#include "mgw-return-keys.h"
#include "mgw-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"
#define S(lit) lit, sizeof lit - 1

typedef struct
{
  MgwTestServer *teletel;   /* the default server */
  MgwTestServer *command;   /* the command channel */
  MgwTestServer *target;    /* a redirect target, echoing */
  MgwConfig     *config;
  MgwGateway    *gateway;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->teletel = mgw_test_server_new (FALSE, NULL);
  f->command = mgw_test_server_new (FALSE, NULL);
  f->target = mgw_test_server_new (TRUE, "TARGET PAGE");
  f->config = mgw_test_config_new (f->teletel->uri);
  f->config->no_command_channel = FALSE;
  g_free (f->config->command_uri);
  f->config->command_uri = g_strdup (f->command->uri);
  f->config->command_retry_ms = 100;
}

static gboolean
command_up (gpointer data)
{
  Fixture *f = data;
  MgwCommandLink *link = mgw_gateway_get_command_link (f->gateway);
  return link != NULL && mgw_command_link_get_connected (link);
}

static gboolean
command_down (gpointer data)
{
  return !command_up (data);
}

static void
start (Fixture *f)
{
  f->gateway = mgw_test_gateway_new (f->config);
  mgw_test_wait_until (command_up, f, MGW_TEST_TIMEOUT_MS, "the command channel");
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
  g_clear_pointer (&f->teletel, mgw_test_server_free);
  g_clear_pointer (&f->command, mgw_test_server_free);
  g_clear_pointer (&f->target, mgw_test_server_free);
  mgw_test_run_for (20);
}

static void
expect (Fixture *f, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Waits for one exact message on the command channel. */
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
send_command (Fixture    *f,
              const char *line)
{
  MgwTestPeer *peer = mgw_test_server_open_peer (f->command);

  g_assert_nonnull (peer);
  mgw_test_peer_send (peer, SOUP_WEBSOCKET_DATA_TEXT, line, strlen (line));
}

static void
send_connect (Fixture    *f,
              guint       id,
              const char *uri)
{
  g_autofree char *line = g_strdup_printf ("PID=%u,42,CONNECT,%s,None,[]", id, uri);
  send_command (f, line);
}

static MgwSession *
session (Fixture *f, guint id)
{
  MgwSession *s = mgw_gateway_lookup_session (f->gateway, id);
  g_assert_nonnull (s);
  return s;
}

static void
wait_state (Fixture *f, guint id, MgwSessionState state)
{
  mgw_test_wait_session_state (f->gateway, id, state, MGW_TEST_TIMEOUT_MS);
}

/* A user on Telnet or WebSocket, seen the same way by the tests. */
typedef struct
{
  MgwTestTcp *tcp;
  MgwTestWs  *ws;
  GByteArray *received;
  guint16     port;     /* its local port, as the gateway sees it */
} User;

static void
user_send (User *u, const void *data, gsize len)
{
  if (u->tcp != NULL)
    mgw_test_tcp_send (u->tcp, data, len);
  else
    mgw_test_ws_send (u->ws, SOUP_WEBSOCKET_DATA_BINARY, data, len);
}

static void
user_wait_for (User *u, const void *data, gsize len)
{
  if (u->tcp != NULL)
    mgw_test_tcp_wait_for (u->tcp, data, len);
  else
    mgw_test_ws_wait_for (u->ws, data, len);
}

static void
user_free (User *u)
{
  g_clear_pointer (&u->tcp, mgw_test_tcp_free);
  g_clear_pointer (&u->ws, mgw_test_ws_free);
  g_free (u);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (User, user_free)

static User *
user_new (Fixture *f, MgwAccess access)
{
  User *u = g_new0 (User, 1);
  g_autoptr(GSocketAddress) local = NULL;

  if (access == MGW_ACCESS_TELNET)
    {
      u->tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
      u->received = u->tcp->received;
      local = g_socket_get_local_address (u->tcp->socket, NULL);
      u->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    }
  else
    {
      g_autofree char *uri = mgw_test_ws_uri (f->gateway);
      u->ws = mgw_test_ws_connect (uri, NULL);
      g_assert_no_error (u->ws->error);
      u->received = u->ws->received;
    }
  user_wait_for (u, S (STATUS ("CONNECT")));
  return u;
}

/* The whole handshake, in order, for a Telnet and a WebSocket user. */
static void
test_sequence (Fixture *f, gconstpointer data)
{
  MgwAccess access = GPOINTER_TO_INT (data);
  gboolean telnet = access == MGW_ACCESS_TELNET;
  g_autoptr(User) u = NULL;
  g_autofree char *ident = NULL;
  g_autofree char *frames = NULL;
  g_autofree char *expected = NULL;
  MgwTestPeer *teletel, *target;
  MgwSession *s;
  guint16 port;

  start (f);
  u = user_new (f, access);
  s = session (f, 0);
  port = mgw_session_get_peer_port (s);
  if (telnet)
    g_assert_cmpuint (port, ==, u->port);
  expect (f, "%s,127.0.0.1,%u,0", telnet ? "NewTelnetUser" : "NewWsUser", port);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);

  /* ENQROM, split across two frames: the five bytes and the line go to
   * the default server, the ENQROM to the user. */
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_TEXT, S ("page\x1b"));
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_BINARY, S ("\x39\x7b"));
  ident = g_strdup_printf ("\x01\x7f\x7f\x7f\x04PID=0,IP=127.0.0.1,PORT=%u,Access=%s\n",
                           port, telnet ? "Telnet" : "WS");
  mgw_test_peer_wait_for (teletel, ident, strlen (ident));
  user_wait_for (u, S ("page\x1b\x39\x7b"));
  /* The terminal's answer goes to Teletel as usual; a later ENQROM is
   * not intercepted again. */
  user_send (u, S ("\x01" "Cu<\x04"));
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_TEXT, S ("\x1b\x39\x7b"));
  mgw_test_peer_wait_for (teletel, S ("\x01" "Cu<\x04"));
  mgw_test_run_for (100);
  g_assert_cmpuint (teletel->received->len, ==, strlen (ident) + 5);

  send_connect (f, 0, f->target->uri);
  expect (f, "UserGotCommand,,,0,PID=0,42,CONNECT,%s,None,[]", f->target->uri);
  expect (f, "UserRedirecting,,,0,42");
  expect (f, "UserRedirected,,,0,42");
  target = mgw_test_server_wait_peer (f->target, 0);
  /* CONNECT on the status line, then the target's first page. */
  user_wait_for (u, S ("\x1b\x39\x7b" STATUS ("CONNECT") "TARGET PAGE"));
  wait_state (f, 0, MGW_SESSION_REDIRECTED);
  g_assert_cmpstr (mgw_session_get_target (s), ==, f->target->uri);
  g_assert_cmpuint (mgw_session_get_redirections (s), ==, 1);

  /* User bytes go to the target only; both servers reach the user. */
  user_send (u, S ("abc"));
  mgw_test_peer_wait_for (target, S ("abc"));
  user_wait_for (u, S ("abc"));                       /* the target's echo */
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_TEXT, S ("COST 0,34F"));
  user_wait_for (u, S ("COST 0,34F"));
  g_assert_false (mgw_test_bytes_contain (teletel->received, S ("abc")));
  g_assert_cmpuint (mgw_session_get_redirect_bytes_from_user (s), ==, 3);

  /* Connexion/Fin, split across two writes: back to Teletel, the key
   * sent to no one. */
  user_send (u, S ("x\x13"));
  /* Typed by hand: the code comes well after the SEP. */
  mgw_test_run_for (400);
  user_send (u, S ("\x49"));
  expect (f, "UserRequestedClose,,,0,42");
  expect (f, "UserRedirectEnded,,,0,42");
  mgw_test_peer_wait_closed (target);
  wait_state (f, 0, MGW_SESSION_TELETEL);
  g_assert_true (mgw_test_bytes_contain (target->received, S ("abcx")));
  g_assert_false (mgw_test_bytes_contain (target->received, S ("\x13")));
  g_assert_false (mgw_test_bytes_contain (teletel->received, S ("\x13\x49")));
  g_assert_null (mgw_session_get_target (s));
  g_assert_cmpuint (mgw_session_get_redirect_bytes_from_user (s), ==, 0);

  user_send (u, S ("back"));
  mgw_test_peer_wait_for (teletel, S ("back"));

  /* The user leaves. */
  if (u->tcp != NULL)
    g_socket_close (u->tcp->socket, NULL);
  else
    soup_websocket_connection_close (u->ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  expect (f, "UserGone,,,0");

  frames = mgw_test_server_frames (f->command);
  expected = g_strdup_printf ("%s,127.0.0.1,%u,0\n"
                              "UserGotCommand,,,0,PID=0,42,CONNECT,%s,None,[]\n"
                              "UserRedirecting,,,0,42\n"
                              "UserRedirected,,,0,42\n"
                              "UserRequestedClose,,,0,42\n"
                              "UserRedirectEnded,,,0,42\n"
                              "UserGone,,,0\n",
                              telnet ? "NewTelnetUser" : "NewWsUser", port,
                              f->target->uri);
  g_assert_cmpstr (frames, ==, expected);
}

/* Known bug (a) of the original: Connexion/Fin as the very first key
 * after a redirection disconnected the user. Here it returns the user to
 * Teletel and the session goes on. */
static void
test_fin_first_key (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  MgwTestPeer *teletel;

  start (f);
  u = user_new (f, GPOINTER_TO_INT (data));
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  user_send (u, S ("\x13\x59"));      /* the modem form of the key */
  expect (f, "UserRequestedClose,,,0,42");
  expect (f, "UserRedirectEnded,,,0,42");
  wait_state (f, 0, MGW_SESSION_TELETEL);
  user_send (u, S ("still here"));
  mgw_test_peer_wait_for (teletel, S ("still here"));
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
  /* And a second redirection works as the first, this CONNECT coming in
   * a binary frame. */
  {
    g_autofree char *line = g_strdup_printf ("PID=0,42,CONNECT,%s,None,[]", f->target->uri);
    mgw_test_peer_send (mgw_test_server_open_peer (f->command), SOUP_WEBSOCKET_DATA_BINARY,
                        line, strlen (line));
  }
  wait_state (f, 0, MGW_SESSION_REDIRECTED);   /* a second redirection */
  g_assert_cmpuint (mgw_session_get_redirections (session (f, 0)), ==, 2);
}

/* Without the command channel, nothing is intercepted. */
static void
test_enqrom_channel_down (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  MgwTestPeer *teletel;

  start (f);
  mgw_test_server_stop (f->command);
  mgw_test_wait_until (command_down, f, MGW_TEST_TIMEOUT_MS, "the command channel to drop");
  u = user_new (f, MGW_ACCESS_TELNET);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_TEXT, S ("\x1b\x39\x7b"));
  user_wait_for (u, S ("\x1b\x39\x7b"));
  mgw_test_run_for (100);
  g_assert_cmpuint (teletel->received->len, ==, 0);
}

/* Every way a redirection fails to open: refused, handshake never
 * completed, unusable URI. Each ends with UserRedirectEnded and a status
 * line, the user still on Teletel. */
static void
test_target_unreachable (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  g_autoptr(GSocket) silent = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *refused = g_strdup_printf ("ws://127.0.0.1:%u/", mgw_test_closed_port ());
  g_autofree char *stalled = NULL;
  const char *targets[3];
  MgwTestPeer *teletel;

  silent = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (silent, address, TRUE, NULL));
  g_assert_true (g_socket_listen (silent, NULL));
  bound = g_socket_get_local_address (silent, NULL);
  stalled = g_strdup_printf ("ws://127.0.0.1:%u/",
                             g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  targets[0] = refused;
  targets[1] = stalled;
  targets[2] = "gopher://127.0.0.1/";
  f->config->connect_timeout = 1;
  start (f);
  u = user_new (f, MGW_ACCESS_TELNET);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);

  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autofree char *ended = g_strdup_printf ("UserRedirectEnded,,,0,%u", i);
      g_autofree char *line = g_strdup_printf ("PID=0,%u,CONNECT,%s,None,[]", i, targets[i]);

      g_byte_array_set_size (u->received, 0);
      send_command (f, line);
      expect (f, "%s", ended);
      user_wait_for (u, S (STATUS ("SERVICE UNAVAILABLE")));
      wait_state (f, 0, MGW_SESSION_TELETEL);
    }
  g_assert_false (mgw_test_server_has_frame (f->command, "UserRedirected,,,0,0"));
  user_send (u, S ("ok"));
  mgw_test_peer_wait_for (teletel, S ("ok"));
}

/* The target dies mid-redirection: its output still queued for the user
 * is dropped, the user is back on Teletel. */
static void
test_target_dies (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  MgwTestPeer *target, *teletel;

  start (f);
  u = user_new (f, MGW_ACCESS_WS);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  send_connect (f, 0, f->target->uri);
  target = mgw_test_server_wait_peer (f->target, 0);
  expect (f, "UserRedirected,,,0,42");
  soup_websocket_connection_close (target->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  expect (f, "UserRedirectEnded,,,0,42");
  wait_state (f, 0, MGW_SESSION_TELETEL);
  g_assert_false (mgw_test_server_has_frame (f->command, "UserRequestedClose,,,0,42"));
  user_send (u, S ("again"));
  mgw_test_peer_wait_for (teletel, S ("again"));
}

/* A message to the sessions redirected to a target reaches those only;
 * to all (no target), every one. */
static void
test_message_target (Fixture *f, gconstpointer data)
{
  g_autoptr(User) away = NULL;
  g_autoptr(User) home = NULL;

  start (f);
  away = user_new (f, MGW_ACCESS_TELNET);
  home = user_new (f, MGW_ACCESS_WS);
  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  wait_state (f, 0, MGW_SESSION_REDIRECTED);
  g_assert_cmpuint (mgw_gateway_message (f->gateway, "TARGET DOWN AT 10", "ws://elsewhere.example/"),
                    ==, 0);
  g_assert_cmpuint (mgw_gateway_message (f->gateway, "TARGET DOWN AT 10", f->target->uri), ==, 1);
  user_wait_for (away, S (STATUS ("TARGET DOWN AT 10")));
  g_assert_cmpuint (mgw_gateway_message (f->gateway, "EVERYONE", ""), ==, 2);
  user_wait_for (away, S (STATUS ("EVERYONE")));
  user_wait_for (home, S (STATUS ("EVERYONE")));
  g_assert_false (mgw_test_bytes_contain (home->received, S ("TARGET DOWN")));
  /* The redirection goes on. */
  g_assert_cmpint (mgw_session_get_state (session (f, 0)), ==, MGW_SESSION_REDIRECTED);
}

/* CONNECT for a session already redirected, for an unknown id, and
 * lines that are no command at all: logged, ignored, channel kept. */
static void
test_bad_commands (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  static const char *junk[] = {
    "hello", "PID=", "PID=abc,1,CONNECT,ws://x/,None,[]", "PID=0,1,DISCONNECT,x,None,[]",
    "PID=0,1,CONNECT", "PID=0,1,CONNECT,ws://x/,soon,[]", "PID=999,1,CONNECT,ws://x/,None,[]",
  };

  start (f);
  u = user_new (f, MGW_ACCESS_TELNET);
  for (gsize i = 0; i < G_N_ELEMENTS (junk); i++)
    send_command (f, junk[i]);
  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  send_command (f, "PID=0,43,CONNECT,ws://127.0.0.1:1/,None,[]");
  mgw_test_run_for (200);
  g_assert_false (mgw_test_server_has_frame (f->command, "UserRedirecting,,,0,43"));
  g_assert_cmpint (mgw_session_get_state (session (f, 0)), ==, MGW_SESSION_REDIRECTED);
  g_assert_cmpuint (mgw_command_link_get_bad_commands (mgw_gateway_get_command_link (f->gateway)), ==, 6);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->bad_commands, ==, 2);
  g_assert_true (command_up (f));
}

/* Known bug (b) of the original: the command channel stopped working
 * until both programs restarted. Here it is killed and restarted 20
 * times, with sessions open and one mid-redirection; old and new
 * sessions keep working, and what was said while it was down arrives. */
static void
test_channel_flaps (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) user_free);

  start (f);
  for (guint round = 0; round < 20; round++)
    {
      guint id = round;
      g_autofree char *gone = NULL;

      mgw_test_server_stop (f->command);
      mgw_test_wait_until (command_down, f, MGW_TEST_TIMEOUT_MS, "the channel to drop");
      /* A user arrives while the channel is down. */
      g_ptr_array_add (users, user_new (f, round % 2 ? MGW_ACCESS_WS : MGW_ACCESS_TELNET));
      /* The user redirected in the previous round presses Connexion/Fin. */
      if (round > 0)
        user_send (users->pdata[round - 1], S ("\x13\x49"));
      mgw_test_server_start (f->command);
      mgw_test_wait_until (command_up, f, MGW_TEST_TIMEOUT_MS, "the channel to come back");

      expect (f, "%s,127.0.0.1,%u,%u", round % 2 ? "NewWsUser" : "NewTelnetUser",
              mgw_session_get_peer_port (session (f, id)), id);
      if (round > 0)
        {
          expect (f, "UserRequestedClose,,,%u,%u", id - 1, id - 1);
          expect (f, "UserRedirectEnded,,,%u,%u", id - 1, id - 1);
        }
      /* The new session is redirected over the channel that came back. */
      {
        g_autofree char *line = g_strdup_printf ("PID=%u,%u,CONNECT,%s,None,[]", id, id,
                                                 f->target->uri);
        send_command (f, line);
      }
      expect (f, "UserRedirected,,,%u,%u", id, id);
      wait_state (f, id, MGW_SESSION_REDIRECTED);
      gone = g_strdup_printf ("UserGone,,,%u", id);
      g_assert_false (mgw_test_server_has_frame (f->command, gone));
    }
  /* The first user, back on Teletel since round 1, is redirected again. */
  send_command (f, "PID=0,100,CONNECT,ws://127.0.0.1:1/,None,[]");
  expect (f, "UserRedirecting,,,0,100");
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 20);
  g_assert_cmpuint (mgw_command_link_get_dropped (mgw_gateway_get_command_link (f->gateway)), ==, 0);
}

/* [redirect] allow: a target outside the list is refused as one that
 * cannot be opened (Teletel hears UserRedirectEnded and redraws, the
 * user gets SERVICE UNAVAILABLE), no connection is even tried; a target
 * in the list is reached. */
static void
test_allow_list (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  g_autoptr(MgwTestServer) other = mgw_test_server_new (TRUE, "OTHER PAGE");
  MgwTestPeer *teletel;

  g_free (f->config->redirect_allow);
  f->config->redirect_allow = g_strdup_printf ("ws:127.0.0.1:%u, telnet:*.example", f->target->port);
  start (f);
  u = user_new (f, MGW_ACCESS_TELNET);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);

  send_connect (f, 0, other->uri);
  expect (f, "UserRedirectEnded,,,0,42");
  user_wait_for (u, S (STATUS ("SERVICE UNAVAILABLE")));
  wait_state (f, 0, MGW_SESSION_TELETEL);
  g_assert_cmpuint (other->peers->len, ==, 0);
  g_assert_false (mgw_test_server_has_frame (f->command, "UserRedirected,,,0,42"));
  user_send (u, S ("stayed"));
  mgw_test_peer_wait_for (teletel, S ("stayed"));

  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  user_wait_for (u, S ("TARGET PAGE"));
}

static guint
count_frames (MgwTestServer *server,
              const char    *line)
{
  g_autofree char *frames = mgw_test_server_frames (server);
  g_auto(GStrv) lines = g_strsplit (frames, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    n += g_str_equal (lines[i], line);
  return n;
}

typedef struct
{
  Fixture *f;
  guint    ended;
} Refusal;

static gboolean
redirect_ended (gpointer data)
{
  Refusal *r = data;
  return count_frames (r->f->command, "UserRedirectEnded,,,0,42") > r->ended;
}

/* Refused as one the list does not allow: Teletel hears it ended, the
 * user stays on Teletel with SERVICE UNAVAILABLE, nothing is reached. */
static void
assert_refused (Fixture    *f,
                User       *u,
                const char *uri)
{
  guint n = mgw_gateway_get_n_sessions (f->gateway);
  Refusal r = { f, count_frames (f->command, "UserRedirectEnded,,,0,42") };

  g_test_message ("CONNECT to %s", uri);
  send_connect (f, 0, uri);
  mgw_test_wait_until (redirect_ended, &r, MGW_TEST_TIMEOUT_MS, "the redirection to be refused");
  user_wait_for (u, S (STATUS ("SERVICE UNAVAILABLE")));
  wait_state (f, 0, MGW_SESSION_TELETEL);
  g_assert_cmpuint (count_frames (f->command, "UserRedirected,,,0,42"), ==, 0);
  mgw_test_run_for (50);
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, n);
}

/* The default list allows no loopback target: Teletel cannot send users
 * to services of the gateway's machine unless the list names them. */
static void
test_loopback_default (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  g_autofree char *localhost = g_strdup_printf ("ws://localhost:%u/", f->target->port);
  g_autofree char *mapped = g_strdup_printf ("ws://[::ffff:127.0.0.1]:%u/", f->target->port);

  g_free (f->config->redirect_allow);
  f->config->redirect_allow = g_strdup (MGW_REDIRECT_ALLOW_DEFAULT);
  start (f);
  u = user_new (f, MGW_ACCESS_TELNET);
  assert_refused (f, u, f->target->uri);
  assert_refused (f, u, localhost);
  assert_refused (f, u, mapped);
  g_assert_cmpuint (f->target->peers->len, ==, 0);
}

/* The gateway's own listeners are never targets, even when the list
 * names them: a Teletel server (or whoever reaches the unauthenticated
 * command channel) cannot loop a user back in or into the console. */
static void
test_own_listeners (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  g_autoptr(MgwTestServer) console = mgw_test_server_new (TRUE, "CONSOLE");
  g_autofree char *telnet = NULL;
  g_autofree char *ws = NULL;
  g_autofree char *own = NULL;
  g_autofree char *wss = NULL;

  /* A wss:// listener too, with the suite's static test pair. */
  f->config->ws_tls_port = 0;
  f->config->tls_certificate = g_test_build_filename (G_TEST_DIST, "data", "test-server.pem", NULL);
  f->config->tls_key = g_test_build_filename (G_TEST_DIST, "data", "test-server.key", NULL);
  start (f);
  mgw_gateway_add_own_port (f->gateway, console->port);
  wss = g_strdup_printf ("wss://127.0.0.1:%u/", mgw_gateway_get_ws_tls_port (f->gateway));
  telnet = g_strdup_printf ("telnet://127.0.0.1:%u", mgw_gateway_get_telnet_port (f->gateway));
  ws = g_strdup_printf ("ws://127.0.0.1:%u/", mgw_gateway_get_ws_port (f->gateway));
  own = g_strdup_printf ("ws://[::ffff:127.0.0.1]:%u/", console->port);
  u = user_new (f, MGW_ACCESS_TELNET);
  assert_refused (f, u, telnet);
  assert_refused (f, u, ws);
  assert_refused (f, u, wss);
  assert_refused (f, u, console->uri);
  assert_refused (f, u, own);
  g_assert_cmpuint (console->peers->len, ==, 0);
  /* Refused by the rule, not by a failed connection: the wss:// listener
   * never saw one. */
  mgw_test_run_for (100);
  g_assert_cmpuint (mgw_tls_handshakes_get_failed (mgw_gateway_get_tls_handshakes (f->gateway)) +
                    mgw_tls_handshakes_get_timed_out (mgw_gateway_get_tls_handshakes (f->gateway)) +
                    mgw_tls_handshakes_get_pending (mgw_gateway_get_tls_handshakes (f->gateway)),
                    ==, 0);

  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  user_wait_for (u, S ("TARGET PAGE"));
}

/* Redirected inactivity and maximum time end the redirection, not the
 * session, and are counted. */
static void
test_redirect_timeouts (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;

  f->config->redirect_inactivity[MGW_ACCESS_TELNET] = 1;
  f->config->redirect_max[MGW_ACCESS_WS] = 1;
  start (f);
  u = user_new (f, MGW_ACCESS_TELNET);
  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  user_wait_for (u, S (STATUS ("END INACTIVE REDIR")));
  expect (f, "UserRedirectEnded,,,0,42");
  wait_state (f, 0, MGW_SESSION_TELETEL);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->timeouts[MGW_TIMEOUT_REDIRECT_INACTIVITY], ==, 1);

  {
    g_autoptr(User) w = user_new (f, MGW_ACCESS_WS);
    send_connect (f, 1, f->target->uri);
    expect (f, "UserRedirected,,,1,42");
    /* Activity does not stop the maximum. */
    for (guint i = 0; i < 6 && mgw_session_get_state (session (f, 1)) == MGW_SESSION_REDIRECTED; i++)
      {
        user_send (w, S ("k"));
        mgw_test_run_for (250);
      }
    user_wait_for (w, S (STATUS ("END MAX TIME REDIR")));
    expect (f, "UserRedirectEnded,,,1,42");
    g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->timeouts[MGW_TIMEOUT_REDIRECT_MAX], ==, 1);
  }
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 2);
}

/* --- telnet:// targets --- */

typedef struct
{
  GSocketService    *service;
  guint16            port;
  GSocketConnection *conn;
  GByteArray        *received;
  guint8             buf[1024];
} TelnetTarget;

static void
telnet_target_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TelnetTarget *t = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    return;
  g_byte_array_append (t->received, t->buf, n);
  g_input_stream_read_async (G_INPUT_STREAM (source), t->buf, sizeof t->buf,
                             G_PRIORITY_DEFAULT, NULL, telnet_target_read_cb, t);
}

static gboolean
telnet_target_incoming_cb (GSocketService *service, GSocketConnection *conn,
                           GObject *source, TelnetTarget *t)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));

  t->conn = g_object_ref (conn);
  /* A page, a 0xFF data byte doubled, and a request to echo. */
  g_output_stream_write_all (out, "TELNET PAGE\xff\xff\xff\xfb\x01", 16, NULL, NULL, NULL);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (conn)), t->buf,
                             sizeof t->buf, G_PRIORITY_DEFAULT, NULL, telnet_target_read_cb, t);
  return TRUE;
}

static gboolean
telnet_target_got_data (gpointer data)
{
  TelnetTarget *t = data;
  return mgw_test_bytes_contain (t->received, S ("a\xff\xff"));
}

static void
test_telnet_target (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  g_autofree char *uri = NULL;
  TelnetTarget t = { 0 };
  g_autoptr(GError) error = NULL;

  t.service = g_socket_service_new ();
  t.received = g_byte_array_new ();
  t.port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (t.service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (t.service, "incoming", G_CALLBACK (telnet_target_incoming_cb), &t);
  uri = g_strdup_printf ("telnet://127.0.0.1:%u", t.port);

  start (f);
  u = user_new (f, MGW_ACCESS_WS);
  send_connect (f, 0, uri);
  expect (f, "UserRedirected,,,0,42");
  user_wait_for (u, S ("TELNET PAGE\xff"));
  /* The client side agrees to the server's echo and asks nothing first. */
  user_send (u, S ("a\xff"));
  mgw_test_wait_until (telnet_target_got_data, &t, MGW_TEST_TIMEOUT_MS,
                       "the telnet target to receive a doubled 0xFF");
  g_assert_cmpmem (t.received->data, 3, "\xff\xfd\x01", 3);   /* DO ECHO */
  user_send (u, S ("\x13\x49"));
  expect (f, "UserRedirectEnded,,,0,42");
  g_assert_false (mgw_test_bytes_contain (t.received, S ("\x13")));

  g_socket_service_stop (t.service);
  g_socket_listener_close (G_SOCKET_LISTENER (t.service));
  g_clear_object (&t.conn);
  g_object_unref (t.service);
  g_byte_array_unref (t.received);
}

/* profiles.json: Connexion/Fin forwarded to a target that wants it, the
 * profile's subprotocol offered, the CONNECT's own value winning. */
static void
test_profiles (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  g_autofree char *dir = g_dir_make_tmp ("moipgw-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "profiles.json", NULL);
  g_autofree char *json = NULL;
  MgwTestPeer *target;

  json = g_strdup_printf ("{ \"127.0.0.1:%u\": { \"subprotocols\": [\"tty\"],"
                          " \"connexion-fin\": \"forward\" } }", f->target->port);
  g_assert_true (g_file_set_contents (path, json, -1, NULL));
  f->config->profiles_file = g_strdup (path);
  start (f);
  u = user_new (f, MGW_ACCESS_TELNET);
  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  target = mgw_test_server_wait_peer (f->target, 0);
  g_assert_cmpstr (target->protocol, ==, NULL);   /* the stub accepts any, chooses none */
  user_send (u, S ("\x13\x49"));
  mgw_test_peer_wait_for (target, S ("\x13\x49"));
  g_assert_cmpint (mgw_session_get_state (session (f, 0)), ==, MGW_SESSION_REDIRECTED);
  /* The target hangs up itself. */
  soup_websocket_connection_close (target->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  expect (f, "UserRedirectEnded,,,0,42");
  g_assert_false (mgw_test_server_has_frame (f->command, "UserRequestedClose,,,0,42"));

  g_unlink (path);
  g_rmdir (dir);
}

/* wss:// targets: a certificate the gateway cannot verify ends the
 * redirection cleanly with a status line; with [tls] ca-file naming the
 * issuing CA the same target is reached over TLS. */
static void
test_wss (Fixture *f, gconstpointer data)
{
  gboolean trusted = GPOINTER_TO_INT (data);
  g_autofree char *cert_path = g_test_build_filename (G_TEST_DIST, "data", "test-server.pem", NULL);
  g_autofree char *key_path = g_test_build_filename (G_TEST_DIST, "data", "test-server.key", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_autoptr(MgwTestServer) secure = NULL;
  g_autoptr(User) u = NULL;
  MgwTestPeer *teletel;

  g_assert_no_error (error);
  secure = mgw_test_server_new_tls (TRUE, "SECURE PAGE", cert);
  g_assert_true (g_str_has_prefix (secure->uri, "wss://"));
  if (trusted)
    f->config->tls_ca_file = g_test_build_filename (G_TEST_DIST, "data", "test-ca.pem", NULL);
  start (f);
  u = user_new (f, MGW_ACCESS_TELNET);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  send_connect (f, 0, secure->uri);
  if (trusted)
    {
      MgwTestPeer *peer;

      expect (f, "UserRedirected,,,0,42");
      user_wait_for (u, S (STATUS ("CONNECT") "SECURE PAGE"));
      user_send (u, S ("tls"));
      peer = mgw_test_server_wait_peer (secure, 0);
      mgw_test_peer_wait_for (peer, S ("tls"));
      user_wait_for (u, S ("SECURE PAGEtls"));
    }
  else
    {
      expect (f, "UserRedirectEnded,,,0,42");
      user_wait_for (u, S (STATUS ("SERVICE UNAVAILABLE")));
      g_assert_false (mgw_test_server_has_frame (f->command, "UserRedirected,,,0,42"));
      g_assert_cmpuint (secure->peers->len, ==, 0);
      wait_state (f, 0, MGW_SESSION_TELETEL);
      user_send (u, S ("still"));
      mgw_test_peer_wait_for (teletel, S ("still"));
    }
}

/* moipgwd --demo: METEO then Envoi redirects a plain Telnet user to the
 * second demo service; Connexion/Fin brings the Teletel page back. */
static void
test_demo (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwDemo) demo = mgw_demo_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) page = mgw_demo_get_page ();
  g_autoptr(GBytes) service = mgw_demo_get_service_page ();
  g_autoptr(User) u = NULL;
  gsize page_len, service_len;
  const guint8 *page_data = g_bytes_get_data (page, &page_len);
  const guint8 *service_data = g_bytes_get_data (service, &service_len);

  g_assert_true (mgw_demo_start (demo, &error));
  g_free (f->config->server_uri);
  f->config->server_uri = g_strdup (mgw_demo_get_uri (demo));
  g_free (f->config->command_uri);
  f->config->command_uri = g_strdup (mgw_demo_get_command_uri (demo));
  start (f);
  u = user_new (f, MGW_ACCESS_TELNET);
  user_wait_for (u, page_data, page_len);
  user_wait_for (u, S ("\x1b\x39\x7b"));
  mgw_test_run_for (100);   /* the identification reaches the demo */
  user_send (u, S ("meteo\r\n"));
  user_wait_for (u, service_data, service_len);
  g_assert_cmpint (mgw_session_get_state (session (f, 0)), ==, MGW_SESSION_REDIRECTED);
  g_byte_array_set_size (u->received, 0);
  user_send (u, S ("\x13"));
  user_send (u, S ("I"));
  user_wait_for (u, page_data, page_len);
  g_assert_cmpint (mgw_session_get_state (session (f, 0)), ==, MGW_SESSION_TELETEL);
  user_send (u, S ("z"));
  user_wait_for (u, S ("z"));
}

/* [redirect] return-keys: '***' then Sommaire, as MiniPavi's users know
 * it, brings the user back like Connexion/Fin (UserRequestedClose, then
 * UserRedirectEnded), cut across writes or WebSocket messages and typed
 * slowly; the target never sees it, a beginning that is not it reaches
 * the target intact, what follows it goes to Teletel. */
static void
test_return_keys (Fixture *f, gconstpointer data)
{
  MgwAccess access = GPOINTER_TO_INT (data);
  g_autoptr(User) u = NULL;
  g_autofree char *frames = NULL;
  g_autofree char *expected = NULL;
  MgwTestPeer *teletel, *target;
  MgwSession *s;

  g_assert_true (mgw_return_keys_parse (&f->config->return_keys, "'***' Sommaire", NULL));
  f->config->has_return_keys = TRUE;
  start (f);
  u = user_new (f, access);
  s = session (f, 0);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  /* On Teletel, the sequence is keys for it. */
  user_send (u, S ("***\x13\x46"));
  mgw_test_peer_wait_for (teletel, S ("***\x13\x46"));

  send_connect (f, 0, f->target->uri);
  expect (f, "UserRedirected,,,0,42");
  target = mgw_test_server_wait_peer (f->target, 0);
  wait_state (f, 0, MGW_SESSION_REDIRECTED);

  /* Not the sequence: two stars and a letter, at once. */
  user_send (u, S ("**x"));
  mgw_test_peer_wait_for (target, S ("**x"));

  /* The sequence, in four pieces, the last after a pause shorter than
   * the 2 s hold, keys before and after it. */
  user_send (u, S ("ab*"));
  user_send (u, S ("*"));
  user_send (u, S ("*\x13"));
  mgw_test_run_for (500);
  g_assert_cmpint (mgw_session_get_state (s), ==, MGW_SESSION_REDIRECTED);
  user_send (u, S ("\x46" "cd"));
  expect (f, "UserRequestedClose,,,0,42");
  expect (f, "UserRedirectEnded,,,0,42");
  mgw_test_peer_wait_closed (target);
  wait_state (f, 0, MGW_SESSION_TELETEL);
  mgw_test_peer_wait_for (teletel, S ("***\x13\x46" "cd"));
  g_assert_cmpmem (target->received->data, target->received->len, "**xab", 5);
  user_send (u, S ("back"));
  mgw_test_peer_wait_for (teletel, S ("***\x13\x46" "cdback"));

  frames = mgw_test_server_frames (f->command);
  expected = g_strdup_printf ("%s,127.0.0.1,%u,0\n"
                              "UserGotCommand,,,0,PID=0,42,CONNECT,%s,None,[]\n"
                              "UserRedirecting,,,0,42\n"
                              "UserRedirected,,,0,42\n"
                              "UserRequestedClose,,,0,42\n"
                              "UserRedirectEnded,,,0,42\n",
                              access == MGW_ACCESS_TELNET ? "NewTelnetUser" : "NewWsUser",
                              mgw_session_get_peer_port (s), f->target->uri);
  g_assert_cmpstr (frames, ==, expected);
}

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, setup, func, teardown)

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  ADD ("/redirect/sequence/telnet", test_sequence, GINT_TO_POINTER (MGW_ACCESS_TELNET));
  ADD ("/redirect/sequence/ws", test_sequence, GINT_TO_POINTER (MGW_ACCESS_WS));
  ADD ("/redirect/bug-a/fin-first-key/telnet", test_fin_first_key, GINT_TO_POINTER (MGW_ACCESS_TELNET));
  ADD ("/redirect/bug-a/fin-first-key/ws", test_fin_first_key, GINT_TO_POINTER (MGW_ACCESS_WS));
  ADD ("/redirect/bug-b/channel-flaps", test_channel_flaps, NULL);
  ADD ("/redirect/enqrom-channel-down", test_enqrom_channel_down, NULL);
  ADD ("/redirect/target-unreachable", test_target_unreachable, NULL);
  ADD ("/redirect/target-dies", test_target_dies, NULL);
  ADD ("/redirect/message-target", test_message_target, NULL);
  ADD ("/redirect/bad-commands", test_bad_commands, NULL);
  ADD ("/redirect/timeouts", test_redirect_timeouts, NULL);
  ADD ("/redirect/allow-list", test_allow_list, NULL);
  ADD ("/redirect/loopback-default", test_loopback_default, NULL);
  ADD ("/redirect/own-listeners", test_own_listeners, NULL);
  ADD ("/redirect/telnet-target", test_telnet_target, NULL);
  ADD ("/redirect/profiles", test_profiles, NULL);
  ADD ("/redirect/demo", test_demo, NULL);
  ADD ("/redirect/wss/untrusted", test_wss, GINT_TO_POINTER (FALSE));
  ADD ("/redirect/wss/trusted", test_wss, GINT_TO_POINTER (TRUE));
  ADD ("/redirect/return-keys/telnet", test_return_keys, GINT_TO_POINTER (MGW_ACCESS_TELNET));
  ADD ("/redirect/return-keys/ws", test_return_keys, GINT_TO_POINTER (MGW_ACCESS_WS));
  return g_test_run ();
}
