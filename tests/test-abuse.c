/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-abuse.c: abuse protection end to end: bans (min-session, typing
 * too fast, manual), never-ban prefixes, caps, the anti-garbage filter,
 * real client addresses through PROXY protocol and X-Forwarded-For from
 * trusted proxies only, output pacing, session dumps, GatewayExecCount,
 * bans across restarts. Public addresses come from the documentation
 * ranges 203.0.113.0/24 and 2001:db8::/32, announced by a "proxy" on
 * 127.0.0.1. */
#include "config.h"

#include "mgw-gateway.h"
#include "mgw-test-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"
#define S(lit) lit, sizeof lit - 1

typedef struct
{
  MgwTestServer *teletel;
  MgwTestServer *command;
  MgwConfig     *config;
  MgwGateway    *gateway;
  char          *config_dir;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->teletel = mgw_test_server_new (TRUE, NULL);
  f->command = mgw_test_server_new (FALSE, NULL);
  f->config = mgw_test_config_new (f->teletel->uri);
  f->config->no_command_channel = FALSE;
  g_free (f->config->command_uri);
  f->config->command_uri = g_strdup (f->command->uri);
  f->config->command_retry_ms = 100;
  f->config_dir = mgw_test_tmp_dir ();
  g_free (f->config->config_path);
  f->config->config_path = g_strdup (f->config_dir);
  f->config->trusted_proxies = g_strsplit ("127.0.0.1", ";", -1);
  /* The abuse rules as shipped, the scanner rule's wait included. */
  {
    g_autoptr(MgwConfig) shipped = mgw_config_new_default ();
    f->config->scanner_wait_ms = shipped->scanner_wait_ms;
  }
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
  mgw_test_wait_until (command_up, f, MGW_TEST_TIMEOUT_MS, "the command channel");
}

static void
stop (Fixture *f)
{
  if (f->gateway != NULL)
    {
      mgw_gateway_stop (f->gateway, NULL);
      mgw_test_run_for (50);
    }
  g_clear_object (&f->gateway);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  stop (f);
  g_clear_pointer (&f->config, mgw_config_unref);
  g_clear_pointer (&f->teletel, mgw_test_server_free);
  g_clear_pointer (&f->command, mgw_test_server_free);
  g_free (f->config_dir);
  mgw_test_run_for (20);
}

static void
write_config_file (Fixture *f, const char *name, const char *content)
{
  g_autofree char *path = g_build_filename (f->config_dir, name, NULL);
  g_assert_true (g_file_set_contents (path, content, -1, NULL));
}

static gboolean
no_sessions (gpointer data)
{
  return mgw_gateway_get_n_sessions (((Fixture *) data)->gateway) == 0;
}

static gboolean
one_session (gpointer data)
{
  return mgw_gateway_get_n_sessions (((Fixture *) data)->gateway) == 1;
}

static void
wait_no_sessions (Fixture *f)
{
  mgw_test_wait_until (no_sessions, f, MGW_TEST_TIMEOUT_MS, "every session to end");
}

/* A Telnet connection through the "proxy": the PROXY v1 header first. */
static MgwTestTcp *
proxied (Fixture *f, const char *address, guint16 port)
{
  MgwTestTcp *tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  gboolean v6 = strchr (address, ':') != NULL;
  g_autofree char *header = g_strdup_printf ("PROXY %s %s %s %u 9000\r\n",
                                             v6 ? "TCP6" : "TCP4", address,
                                             v6 ? "2001:db8::1" : "192.0.2.1", port);
  mgw_test_tcp_send (tcp, header, strlen (header));
  return tcp;
}

/* A scanner behind a trusted proxy connects and leaves at once: banned
 * (min-session); its next connection is refused before anything is done:
 * no upstream connection, no command-channel message. */
static void
test_short_session_ban (Fixture *f, gconstpointer data)
{
  const char *address = data;
  g_autoptr(MgwTestTcp) first = NULL;
  g_autoptr(MgwTestTcp) second = NULL;
  g_autofree char *announced = NULL;

  start (f);
  first = proxied (f, address, 4444);
  announced = g_strdup_printf ("NewTelnetUser,%s,4444,0", address);
  mgw_test_server_wait_frame (f->command, announced);
  mgw_test_server_wait_peer (f->teletel, 0);
  g_socket_close (first->socket, NULL);
  wait_no_sessions (f);
  g_assert_cmpuint (mgw_ban_list_get_size (mgw_gateway_get_ban_list (f->gateway)), ==, 1);

  second = proxied (f, address, 4445);
  mgw_test_tcp_wait_closed (second);
  g_assert_cmpuint (second->received->len, ==, 0);
  g_assert_cmpuint (f->teletel->peers->len, ==, 1);
  g_free (announced);
  announced = g_strdup_printf ("NewTelnetUser,%s,4445,1", address);
  g_assert_false (mgw_test_server_has_frame (f->command, announced));
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_banned, ==, 1);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->sessions_total[MGW_ACCESS_TELNET], ==, 1);
}

/* The same from a never-ban prefix: not banned. */
static void
test_never_ban (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) first = NULL;
  g_autoptr(MgwTestTcp) second = NULL;

  write_config_file (f, "neverbanned.json",
                     "{\"203.0.113.0/24\": \"our lab\", \"2001:db8::/32\": \"v6 lab\"}");
  start (f);
  first = proxied (f, "203.0.113.77", 1000);
  mgw_test_server_wait_frame (f->command, "NewTelnetUser,203.0.113.77,1000,0");
  g_socket_close (first->socket, NULL);
  wait_no_sessions (f);
  g_assert_cmpuint (mgw_ban_list_get_size (mgw_gateway_get_ban_list (f->gateway)), ==, 0);
  second = proxied (f, "203.0.113.77", 1001);
  mgw_test_tcp_wait_for (second, S (STATUS ("CONNECT")));
}

/* PROXY v2, and a trusted proxy that sends no header at all. */
static void
test_proxy_v2_and_none (Fixture *f, gconstpointer data)
{
  static const guint8 v2[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
    0x21, 0x11, 0x00, 0x0c,
    203, 0, 113, 42,   192, 0, 2, 1,   0x1f, 0x90,   0x23, 0x28,
    'h', 'i',
  };
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwTestTcp) plain = NULL;
  MgwTestPeer *teletel;

  f->config->proxy_timeout_ms = 200;
  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_send (tcp, v2, sizeof v2);
  mgw_test_server_wait_frame (f->command, "NewTelnetUser,203.0.113.42,8080,0");
  /* What followed the header is the user's. */
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  mgw_test_peer_wait_for (teletel, S ("hi"));

  plain = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (plain, S (STATUS ("CONNECT")));
  g_assert_cmpstr (mgw_session_get_peer_address (mgw_gateway_lookup_session (f->gateway, 1)),
                   ==, "127.0.0.1");
}

/* A malformed header from a trusted proxy, and any header from a peer
 * that is not trusted: the connection closes, counted; the listener goes
 * on. */
static void
test_proxy_refused (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) bad = NULL;
  g_autoptr(MgwTestTcp) untrusted = NULL;
  g_autoptr(MgwTestTcp) good = NULL;

  start (f);
  bad = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_send (bad, S ("PROXY TCP4 203.0.113.1 nonsense\r\n"));
  mgw_test_tcp_wait_closed (bad);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->proxy_refused, ==, 1);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->sessions_total[MGW_ACCESS_TELNET], ==, 0);
  stop (f);

  /* Now 127.0.0.1 is not trusted. */
  g_strfreev (f->config->trusted_proxies);
  f->config->trusted_proxies = NULL;
  start (f);
  untrusted = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_send (untrusted, S ("PROXY TCP4 203.0.113.1 192.0.2.1 1 2\r\n"));
  mgw_test_tcp_wait_closed (untrusted);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->proxy_refused, ==, 1);
  g_assert_false (mgw_test_server_has_frame (f->command, "NewTelnetUser,203.0.113.1,1,1"));

  good = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (good, S (STATUS ("CONNECT")));
}

/* X-Forwarded-For / Forwarded from a trusted proxy name the WebSocket
 * user; the same headers from anyone else are ignored. */
static void
test_forwarded (Fixture *f, gconstpointer data)
{
  gboolean trusted = GPOINTER_TO_INT (data);
  g_autoptr(MgwTestTcp) tcp = NULL;

  if (!trusted)
    {
      g_strfreev (f->config->trusted_proxies);
      f->config->trusted_proxies = NULL;
    }
  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_ws_port (f->gateway));
  mgw_test_tcp_send (tcp, S ("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "Forwarded: for=198.51.100.66\r\n"
                             "X-Forwarded-For: 198.51.100.1, 203.0.113.50\r\n\r\n"));
  mgw_test_tcp_wait_for (tcp, S ("HTTP/1.1 101"));
  if (trusted)
    mgw_test_server_wait_frame (f->command, "NewWsUser,203.0.113.50,0,0");
  else
    {
      MgwSession *s;
      mgw_test_wait_until (one_session, f, MGW_TEST_TIMEOUT_MS, "the session");
      s = mgw_gateway_lookup_session (f->gateway, 0);
      g_assert_nonnull (s);
      g_assert_cmpstr (mgw_session_get_peer_address (s), ==, "127.0.0.1");
    }
}

/* Caps: a user beyond them is told on the status line, then closed. */
static void
test_caps (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) a = NULL;
  g_autoptr(MgwTestTcp) b = NULL;
  g_autoptr(MgwTestTcp) c = NULL;

  f->config->max_sessions_per_address = 1;
  f->config->max_sessions = 2;
  start (f);
  a = proxied (f, "203.0.113.1", 1);
  mgw_test_tcp_wait_for (a, S (STATUS ("CONNECT")));
  b = proxied (f, "203.0.113.1", 2);
  mgw_test_tcp_wait_for (b, S (STATUS ("SERVICE FULL, RETRY LATER")));
  mgw_test_tcp_wait_closed (b);
  {
    g_autoptr(MgwTestTcp) other = proxied (f, "203.0.113.2", 3);
    mgw_test_tcp_wait_for (other, S (STATUS ("CONNECT")));
    c = proxied (f, "203.0.113.3", 4);
    mgw_test_tcp_wait_for (c, S (STATUS ("SERVICE FULL, RETRY LATER")));
    mgw_test_tcp_wait_closed (c);
  }
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_full, ==, 2);
  g_assert_cmpuint (f->teletel->peers->len, ==, 2);
}

/* The anti-garbage filter drops the first bytes within the first
 * moments of a Telnet session; after that, bytes go through. */
static void
test_garbage_filter (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  MgwTestPeer *teletel;

  f->config->garbage_bytes = 10;
  f->config->garbage_window_ms = 500;
  start (f);
  tcp = proxied (f, "203.0.113.5", 5);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  mgw_test_tcp_send (tcp, S ("0123456"));
  mgw_test_tcp_send (tcp, S ("789ABC"));
  mgw_test_run_for (600);
  mgw_test_tcp_send (tcp, S ("after"));
  mgw_test_peer_wait_for (teletel, S ("ABCafter"));
  g_assert_cmpmem (teletel->received->data, teletel->received->len, "ABCafter", 8);
}

/* Typing too fast: dropped and banned. Typing at a human pace: fine. */
static void
test_typing_too_fast (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) human = NULL;
  g_autoptr(MgwTestTcp) robot = NULL;
  MgwTestPeer *teletel;

  f->config->garbage_window_ms = 100;
  f->config->typing_rate = 10;
  f->config->typing_excess = 5;
  start (f);
  human = proxied (f, "203.0.113.10", 10);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  mgw_test_run_for (150);
  for (guint i = 0; i < 6; i++)
    {
      mgw_test_tcp_send (human, S ("ab"));
      mgw_test_run_for (150);
    }
  mgw_test_peer_wait_for (teletel, S ("abababababab"));

  robot = proxied (f, "203.0.113.11", 11);
  mgw_test_server_wait_peer (f->teletel, 1);
  mgw_test_run_for (150);
  mgw_test_tcp_send (robot, S ("0123456789abcdefghij"));
  mgw_test_tcp_wait_closed (robot);
  g_assert_true (mgw_ban_list_check (mgw_gateway_get_ban_list (f->gateway), "203.0.113.11"));
  g_assert_false (mgw_ban_list_check (mgw_gateway_get_ban_list (f->gateway), "203.0.113.10"));
  g_assert_false (human->closed);
}

/* Output paced at the configured line speed: 12,000 bytes at 120,000
 * baud (12,000 bytes a second) take one second, not less. */
static void
test_speed_limit (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autofree char *page = g_malloc (12000);
  MgwTestPeer *teletel;
  gint64 begin, took;

  memset (page, 'x', 12000);
  f->config->baud[MGW_ACCESS_TELNET] = 120000;
  start (f);
  tcp = proxied (f, "203.0.113.20", 20);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  g_byte_array_set_size (tcp->received, 0);
  begin = g_get_monotonic_time ();
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_BINARY, page, 12000);
  while (tcp->received->len < 12000)
    {
      g_main_context_iteration (NULL, TRUE);
      g_assert_cmpint (g_get_monotonic_time () - begin, <, 5 * G_USEC_PER_SEC);
    }
  took = g_get_monotonic_time () - begin;
  g_assert_cmpint (took, >=, 0.85 * G_USEC_PER_SEC);
  g_assert_cmpint (took, <=, 1.3 * G_USEC_PER_SEC);
}

/* DumpData: a file per session with the header and the user's bytes;
 * GatewayExecCount counts the starts, kept in the state directory. */
static void
test_dumps_and_exec_count (Fixture *f, gconstpointer data)
{
  g_autofree char *dumps = g_build_filename (f->config_dir, "dumps", NULL);
  g_autofree char *json = g_strdup_printf ("{\"DumpData\": true, \"DumpDataPath\": \"%s\", "
                                           "\"LimitTcpSpeed\": 0, \"LimitWsSpeed\": 0, "
                                           "\"GatewayExecCount\": 41, \"Custom\": [1, 2]}", dumps);
  g_autofree char *dump_path = g_build_filename (dumps, "DumpData_42_0.dmp", NULL);
  g_autofree char *saved_path = g_build_filename (f->config->state_dir, "GatewayConfig.json", NULL);
  g_autofree char *content = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(MgwTestTcp) tcp = NULL;
  gsize len;

  write_config_file (f, "GatewayConfig.json", json);
  start (f);
  tcp = proxied (f, "203.0.113.30", 30);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  mgw_test_tcp_send (tcp, S ("typed\x13\x41"));
  mgw_test_tcp_wait_for (tcp, S ("typed\x13\x41"));     /* the echo */
  g_socket_close (tcp->socket, NULL);
  wait_no_sessions (f);

  g_assert_true (g_file_get_contents (dump_path, &content, &len, NULL));
  g_assert_true (g_str_has_prefix (content, "203.0.113.30\r\n30\r\nTelnet\r\n"));
  expected = g_strdup ("\r\nInput\r\ntyped\x13\x41");
  g_assert_true (g_str_has_suffix (content, expected));

  /* The count went up and was saved next to the state, with the key we
   * do not know kept. */
  g_clear_pointer (&content, g_free);
  g_assert_true (g_file_get_contents (saved_path, &content, NULL, NULL));
  g_assert_nonnull (strstr (content, "\"GatewayExecCount\": 42"));
  g_assert_nonnull (strstr (content, "Custom"));
  stop (f);
  start (f);
  g_clear_pointer (&content, g_free);
  g_assert_true (g_file_get_contents (saved_path, &content, NULL, NULL));
  g_assert_nonnull (strstr (content, "\"GatewayExecCount\": 43"));
}

/* A manual ban ends the address's open sessions, whatever form the
 * address is given in (IPv4-mapped here); other users stay. */
static void
test_ban_ends_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwTestTcp) banned = NULL;
  g_autoptr(MgwTestTcp) other = NULL;

  start (f);
  banned = proxied (f, "203.0.113.41", 41);
  other = proxied (f, "203.0.113.42", 42);
  mgw_test_tcp_wait_for (banned, S (STATUS ("CONNECT")));
  mgw_test_tcp_wait_for (other, S (STATUS ("CONNECT")));
  g_assert_true (mgw_gateway_ban (f->gateway, "::ffff:203.0.113.41", "test", 0, NULL, &error));
  g_assert_no_error (error);
  mgw_test_tcp_wait_for (banned, S ("DISCONNECTED BY THE OPERATOR"));
  mgw_test_tcp_wait_closed (banned);
  mgw_test_run_for (50);
  g_assert_false (other->closed);
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
}

/* Bans hold across restarts; manual ban and unban. */
static void
test_bans_persist (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autofree char *path = g_build_filename (f->config->state_dir, "banned.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();

  start (f);
  g_assert_true (mgw_gateway_ban (f->gateway, "203.0.113.40", "test", 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (mgw_gateway_ban (f->gateway, "127.0.0.1", "test", 0, NULL, &error));
  g_clear_error (&error);
  stop (f);

  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  g_assert_true (json_object_has_member (json_node_get_object (json_parser_get_root (parser)),
                                         "203.0.113.40"));
  start (f);
  tcp = proxied (f, "203.0.113.40", 40);
  mgw_test_tcp_wait_closed (tcp);
  g_assert_true (mgw_gateway_unban (f->gateway, "203.0.113.40", &error));
  g_assert_no_error (error);
  g_clear_pointer (&tcp, mgw_test_tcp_free);
  tcp = proxied (f, "203.0.113.40", 41);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
}

/* Reload (what SIGHUP does): a never-ban prefix added while running
 * applies at once, sessions stay; a broken never-ban file is refused and
 * the list in force kept. */
static void
test_reload (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) stays = NULL;
  g_autoptr(MgwTestTcp) quick = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwConfig) next = NULL;

  start (f);
  stays = proxied (f, "203.0.113.60", 60);
  mgw_test_tcp_wait_for (stays, S (STATUS ("CONNECT")));

  write_config_file (f, "neverbanned.json", "{\"203.0.113.0/24\": \"lab\"}");
  next = mgw_config_ref (f->config);
  g_assert_true (mgw_gateway_reload (f->gateway, next, &error));
  g_assert_no_error (error);
  quick = proxied (f, "203.0.113.61", 61);
  mgw_test_server_wait_frame (f->command, "NewTelnetUser,203.0.113.61,61,1");
  g_socket_close (quick->socket, NULL);
  mgw_test_wait_until (one_session, f, MGW_TEST_TIMEOUT_MS, "the quick session to end");
  g_assert_cmpuint (mgw_ban_list_get_size (mgw_gateway_get_ban_list (f->gateway)), ==, 0);

  write_config_file (f, "neverbanned.json", "[ \"not an object\" ]");
  g_assert_false (mgw_gateway_reload (f->gateway, next, &error));
  g_assert_nonnull (error);
  g_clear_pointer (&quick, mgw_test_tcp_free);
  quick = proxied (f, "203.0.113.62", 62);
  mgw_test_server_wait_frame (f->command, "NewTelnetUser,203.0.113.62,62,2");
  g_socket_close (quick->socket, NULL);
  mgw_test_wait_until (one_session, f, MGW_TEST_TIMEOUT_MS, "the quick session to end");
  g_assert_cmpuint (mgw_ban_list_get_size (mgw_gateway_get_ban_list (f->gateway)), ==, 0);
  g_assert_false (stays->closed);
}

/* Reload applies [bans] ipv6-prefix and max-entries: a lower cap trims
 * the list at once, the bans nearest expiry first. */
static void
test_reload_bans (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwConfig) next = NULL;
  g_autofree char *banned = NULL;
  MgwBanList *bans;

  start (f);
  bans = mgw_gateway_get_ban_list (f->gateway);
  g_assert_true (mgw_gateway_ban (f->gateway, "2001:db8:5:6::1", "test", 0, &banned, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (banned, ==, "2001:db8:5:6::/64");
  g_clear_pointer (&banned, g_free);
  g_assert_true (mgw_gateway_ban (f->gateway, "203.0.113.70", "test", (gint64) 3600 * G_USEC_PER_SEC,
                                  NULL, &error));
  g_assert_true (mgw_gateway_ban (f->gateway, "203.0.113.71", "test", 0, NULL, &error));
  g_assert_cmpuint (mgw_ban_list_get_size (bans), ==, 3);

  next = mgw_config_ref (f->config);
  next->ban_ipv6_prefix = 48;
  next->ban_max_entries = 2;
  g_assert_true (mgw_gateway_reload (f->gateway, next, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_ban_list_get_size (bans), ==, 2);
  g_assert_false (mgw_ban_list_check (bans, "203.0.113.70"));   /* the nearest expiry */
  g_assert_true (mgw_ban_list_check (bans, "2001:db8:5:6::9"));
  g_assert_true (mgw_gateway_ban (f->gateway, "2001:db8:7:8::1", "test", 0, &banned, &error));
  g_assert_cmpstr (banned, ==, "2001:db8:7::/48");
  g_assert_cmpuint (mgw_ban_list_get_size (bans), ==, 2);
  g_assert_cmpuint (mgw_ban_list_get_dropped (bans), ==, 2);
}

static gboolean
sessions_are (Fixture *f, guint n)
{
  return mgw_gateway_get_n_sessions (f->gateway) == n;
}

typedef struct { Fixture *f; guint n; } SessionCount;

static gboolean
session_count_reached (gpointer data)
{
  SessionCount *c = data;
  return sessions_are (c->f, c->n);
}

/* [bans] connection-rate: beyond the burst, an address's connections
 * are refused before anything is done (no session, no upstream), each
 * counted; a burst of refusals more bans it (rule connection-rate). A
 * never-ban address is not limited. Loopback (the proxy) is not either:
 * every connection here comes from it. A reload applies a new rate. */
static void
test_connection_rate (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_tcp_free);
  g_autoptr(GPtrArray) bans = NULL;
  g_autoptr(GError) error = NULL;
  SessionCount c = { f, 0 };
  MgwBanList *list;

  f->config->connection_rate = 1;
  f->config->connection_burst = 3;
  write_config_file (f, "neverbanned.json", "{\"203.0.113.99\": \"a school\"}");
  start (f);
  list = mgw_gateway_get_ban_list (f->gateway);
  for (guint i = 0; i < 3; i++)
    g_ptr_array_add (users, proxied (f, "203.0.113.80", 80 + i));
  c.n = 3;
  mgw_test_wait_until (session_count_reached, &c, MGW_TEST_TIMEOUT_MS, "three sessions");

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(MgwTestTcp) refused = proxied (f, "203.0.113.80", 90 + i);
      mgw_test_tcp_wait_closed (refused);
      g_assert_cmpuint (refused->received->len, ==, 0);
    }
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_rate, ==, 2);
  g_assert_false (mgw_ban_list_check (list, "203.0.113.80"));
  {
    g_autoptr(MgwTestTcp) third = proxied (f, "203.0.113.80", 92);
    mgw_test_tcp_wait_closed (third);
  }
  g_assert_true (mgw_ban_list_check (list, "203.0.113.80"));
  bans = mgw_ban_list_list (list);
  g_assert_cmpuint (bans->len, ==, 1);
  g_assert_nonnull (strstr (((MgwBan *) bans->pdata[0])->reason, "connection-rate"));
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_rate, ==, 3);
  g_assert_cmpuint (f->teletel->peers->len, <=, 3);
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->sessions_total[MGW_ACCESS_TELNET], ==, 3);

  for (guint i = 0; i < 6; i++)
    g_ptr_array_add (users, proxied (f, "203.0.113.99", 100 + i));
  c.n = 9;
  mgw_test_wait_until (session_count_reached, &c, MGW_TEST_TIMEOUT_MS, "the never-banned's sessions");
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_rate, ==, 3);

  /* A reload that turns the rate off applies at once. */
  f->config->connection_rate = 0;
  g_assert_true (mgw_gateway_reload (f->gateway, f->config, &error));
  for (guint i = 0; i < 6; i++)
    g_ptr_array_add (users, proxied (f, "203.0.113.81", 110 + i));
  c.n = 15;
  mgw_test_wait_until (session_count_reached, &c, MGW_TEST_TIMEOUT_MS, "sessions after the reload");
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->refused_rate, ==, 3);
}

/* The scanner rule: what scanners send first on a Telnet port. */
typedef struct
{
  const char *rule;
  const char *address;
  const char *data;
  gsize       len;
  gboolean    with_header;   /* in the same write as the PROXY header */
} Scan;

static const Scan scans[] = {
  { "scanner-http", "203.0.113.60", S ("GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n"), TRUE },
  { "scanner-tls", "203.0.113.61", S ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xff"), FALSE },
  { "scanner-ssh", "2001:db8::62", S ("SSH-2.0-OpenSSH_8.9p1\r\n"), TRUE },
  { "scanner-rdp", "203.0.113.63",
    S ("\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00"), FALSE },
  { "scanner-smb", "203.0.113.64", S ("\x00\x00\x00\x85\xff" "SMBr\x00\x00\x00\x00\x18\x53\xc8"), FALSE },
};

/* Ends at once and banned under its own rule, before any upstream: no
 * connection to the default server, nothing told to Teletel. */
static void
test_scanner (Fixture *f, gconstpointer data)
{
  const Scan *scan = data;
  gboolean v6 = strchr (scan->address, ':') != NULL;
  g_autofree char *header = g_strdup_printf ("PROXY %s %s %s 5555 9000\r\n",
                                             v6 ? "TCP6" : "TCP4", scan->address,
                                             v6 ? "2001:db8::1" : "192.0.2.1");
  g_autoptr(GByteArray) first = g_byte_array_new ();
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(GPtrArray) bans = NULL;
  g_autofree char *announced = g_strdup_printf ("NewTelnetUser,%s,5555,0", scan->address);
  MgwBanList *list;

  /* Long enough that only the first bytes can have decided. */
  f->config->scanner_wait_ms = 5000;
  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  g_byte_array_append (first, (const guint8 *) header, strlen (header));
  if (scan->with_header)
    g_byte_array_append (first, (const guint8 *) scan->data, scan->len);
  mgw_test_tcp_send (tcp, first->data, first->len);
  if (!scan->with_header)
    {
      mgw_test_run_for (50);
      mgw_test_tcp_send (tcp, scan->data, scan->len);
    }
  mgw_test_tcp_wait_closed (tcp);
  wait_no_sessions (f);

  list = mgw_gateway_get_ban_list (f->gateway);
  g_assert_true (mgw_ban_list_check (list, scan->address));
  bans = mgw_ban_list_list (list);
  g_assert_cmpuint (bans->len, ==, 1);
  g_assert_nonnull (strstr (((MgwBan *) bans->pdata[0])->reason, scan->rule));
  g_assert_cmpuint (f->teletel->peers->len, ==, 0);
  mgw_test_run_for (50);
  g_assert_false (mgw_test_server_has_frame (f->command, announced));
  g_assert_false (mgw_test_server_has_frame (f->command, "UserGone,,,0"));
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->scanners, ==, 1);
}

/* Users are never caught, and none waits longer than it must: a Minitel
 * key, a telnet client's negotiation, iTimtel's junk decide at once; the
 * start of what could be a request ("AB") waits for the window, then
 * reaches the server; a user who sends nothing waits for the window. */
static void
test_scanner_users (Fixture *f, gconstpointer data)
{
  static const struct { const char *data; gsize len; gboolean at_once; } users[] = {
    { S ("\x13\x41"), TRUE },
    { S ("\xff\xfd\x03\xff\xfb\x18\xff\xfb\x1f\xff\xfb\x20"), TRUE },
    { S ("\xff\xfe" "junk\x00\x7f"), TRUE },
    { S ("AB"), FALSE },
    { NULL, 0, FALSE },
  };
  MgwTestTcp *tcp[G_N_ELEMENTS (users)];
  guint wait_ms = 1500;

  f->config->scanner_wait_ms = wait_ms;
  start (f);
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *address = g_strdup_printf ("203.0.113.%u", 70 + i);
      g_autofree char *announced = g_strdup_printf ("NewTelnetUser,%s,%u,%u", address, 70 + i, i);
      gint64 begin = g_get_monotonic_time ();
      MgwTestPeer *teletel;
      gint64 took;

      tcp[i] = proxied (f, address, 70 + i);
      if (users[i].data != NULL)
        mgw_test_tcp_send (tcp[i], users[i].data, users[i].len);
      teletel = mgw_test_server_wait_peer (f->teletel, i);
      took = (g_get_monotonic_time () - begin) / 1000;
      if (users[i].at_once)
        g_assert_cmpint (took, <, wait_ms - 500);
      else
        g_assert_cmpint (took, >=, wait_ms - 100);
      mgw_test_tcp_wait_for (tcp[i], S (STATUS ("CONNECT")));
      mgw_test_server_wait_frame (f->command, announced);
      if (users[i].data != NULL && users[i].data[0] != '\xff')
        mgw_test_peer_wait_for (teletel, users[i].data, users[i].len);
      g_assert_false (mgw_ban_list_check (mgw_gateway_get_ban_list (f->gateway), address));
    }
  g_assert_cmpuint (mgw_gateway_get_counters (f->gateway)->scanners, ==, 0);
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, G_N_ELEMENTS (users));
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    mgw_test_tcp_free (tcp[i]);
}

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, setup, func, teardown)

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  ADD ("/abuse/short-session-ban/ipv4", test_short_session_ban, "203.0.113.9");
  ADD ("/abuse/short-session-ban/ipv6", test_short_session_ban, "2001:db8::9");
  ADD ("/abuse/never-ban", test_never_ban, NULL);
  ADD ("/abuse/proxy/v2-and-none", test_proxy_v2_and_none, NULL);
  ADD ("/abuse/proxy/refused", test_proxy_refused, NULL);
  ADD ("/abuse/forwarded/trusted", test_forwarded, GINT_TO_POINTER (TRUE));
  ADD ("/abuse/forwarded/untrusted", test_forwarded, GINT_TO_POINTER (FALSE));
  ADD ("/abuse/caps", test_caps, NULL);
  ADD ("/abuse/garbage-filter", test_garbage_filter, NULL);
  ADD ("/abuse/typing-too-fast", test_typing_too_fast, NULL);
  ADD ("/abuse/speed-limit", test_speed_limit, NULL);
  ADD ("/abuse/dumps-and-exec-count", test_dumps_and_exec_count, NULL);
  ADD ("/abuse/bans-persist", test_bans_persist, NULL);
  ADD ("/abuse/ban-ends-sessions", test_ban_ends_sessions, NULL);
  ADD ("/abuse/reload", test_reload, NULL);
  ADD ("/abuse/reload-bans", test_reload_bans, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (scans); i++)
    {
      g_autofree char *path = g_strdup_printf ("/abuse/%s", scans[i].rule);
      ADD (path, test_scanner, &scans[i]);
    }
  ADD ("/abuse/scanner-users", test_scanner_users, NULL);
  ADD ("/abuse/connection-rate", test_connection_rate, NULL);
  return g_test_run ();
}
