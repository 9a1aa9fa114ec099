/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-config.c: moipgw.conf parsing and the shared value parsers. */
#include "config.h"

#include "mgw-config.h"
#include "mgw-error.h"

#include <string.h>

static MgwConfig *
load (const char  *text,
      GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(MgwConfig) config = mgw_config_new_default ();

  if (!g_key_file_load_from_data (keyfile, text, -1, G_KEY_FILE_NONE, error))
    return NULL;
  if (!mgw_config_load_keyfile (config, keyfile, error) ||
      !mgw_config_validate (config, error))
    return NULL;
  return g_steal_pointer (&config);
}

static void
test_defaults (void)
{
  g_autoptr(MgwConfig) config = mgw_config_new_default ();
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_config_validate (config, &error));
  /* Neither listener set: WebSocket on 9001, as the original. */
  g_assert_cmpint (config->telnet_port, ==, MGW_PORT_OFF);
  g_assert_cmpint (config->ws_port, ==, 9001);
  g_assert_cmpstr (config->server_uri, ==, "ws://localhost:8765");
  g_assert_cmpuint (config->server_ping, ==, 0);
  g_assert_cmpstrv (config->server_subprotocols, ((const char *[]) { NULL }));
  g_assert_cmpuint (config->user_inactivity[MGW_ACCESS_TELNET], ==, 600);
  g_assert_cmpuint (config->session_max[MGW_ACCESS_WS], ==, 7200);
  g_assert_cmpuint (config->server_inactivity[MGW_ACCESS_WS], ==, 3600);
  g_assert_cmpint (config->telnet_start, ==, MGW_TELNET_START_WILL_ECHO);
  g_assert_cmpstr (config->telnet_welcome, ==, "Welcome to PyMoIP [telnet]/WS gateway\n\r");
  g_assert_cmpstr (config->ws_welcome, ==, "Welcome to PyMoIP telnet/[WS] gateway\n\r");
  g_assert_cmpuint (config->ban_ipv6_prefix, ==, 64);
  g_assert_cmpuint (config->ban_max_entries, ==, 100000);
}

static void
test_full_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwConfig) config = load (
    "[listen]\naddress=127.0.0.1;::1\ntelnet-port=9000\nwebsocket-port=off\n"
    "[telnet]\nnegotiation=do-echo\nwelcome=\n"
    "[websocket]\nframe-type=binary\nping-interval=0\n"
    "[server]\nuri=wss://example.org/teletel\nping-interval=30\n"
    "subprotocols=[\"binary\", \"tty\"]\nframe-type=binary\nconnect-timeout=3\n"
    "[session]\nqueue-limit=4096\nsep-hold=50\n"
    "[timeouts]\nuser-inactivity-telnet=1\nserver-inactivity-websocket=0\n"
    "[bans]\nipv6-prefix=56\nmax-entries=5000\n"
    "[paths]\nstate-dir=/tmp/x\n", &error);

  g_assert_no_error (error);
  g_assert_nonnull (config);
  g_assert_cmpstrv (config->listen_addresses, ((const char *[]) { "127.0.0.1", "::1", NULL }));
  g_assert_cmpint (config->telnet_port, ==, 9000);
  g_assert_cmpint (config->ws_port, ==, MGW_PORT_OFF);
  g_assert_cmpint (config->telnet_start, ==, MGW_TELNET_START_DO_ECHO);
  g_assert_cmpstr (config->telnet_welcome, ==, "");
  g_assert_cmpint (config->ws_frame_type, ==, MGW_FRAME_BINARY);
  g_assert_cmpstr (config->server_uri, ==, "wss://example.org/teletel");
  g_assert_cmpuint (config->server_ping, ==, 30);
  g_assert_cmpstrv (config->server_subprotocols, ((const char *[]) { "binary", "tty", NULL }));
  g_assert_cmpuint (config->queue_limit, ==, 4096);
  g_assert_cmpuint (config->sep_hold_ms, ==, 50);
  g_assert_cmpuint (config->user_inactivity[MGW_ACCESS_TELNET], ==, 1);
  g_assert_cmpuint (config->server_inactivity[MGW_ACCESS_WS], ==, 0);
  g_assert_cmpstr (config->state_dir, ==, "/tmp/x");
  g_assert_cmpuint (config->ban_ipv6_prefix, ==, 56);
  g_assert_cmpuint (config->ban_max_entries, ==, 5000);
}

static void
test_bad_files (void)
{
  static const struct { const char *text; const char *needle; } cases[] = {
    { "[nosuch]\na=1\n", "unknown group [nosuch]" },
    { "[listen]\nport=9000\n", "unknown key 'port' in [listen]" },
    { "[listen]\ntelnet-port=70000\n", "telnet-port" },
    { "[listen]\ntelnet-port=abc\n", "'abc'" },
    { "[listen]\naddress=not-an-ip\n", "not an IP address" },
    { "[listen]\ntelnet-port=9001\nwebsocket-port=9001\n", "cannot share port 9001" },
    { "[telnet]\nnegotiation=maybe\n", "'maybe'" },
    { "[websocket]\nframe-type=utf8\n", "'utf8'" },
    { "[server]\nuri=http://x/\n", "not a ws://, wss://, telnet:// or tcp:// URI" },
    { "[server]\nuri=wss://:443/\n", "it names no host" },
    { "[command]\nuri=ws://127.0.0.1:/\n", "the port after ':' is missing" },
    { "[listen]\ntelnet-port=9002\n[metrics]\nlisten=127.0.0.1:9002\n",
      "the Telnet and metrics listeners cannot share port 9002" },
    { "[console]\nport=9003\n[metrics]\nlisten=[::1]:9003\n",
      "the console and metrics listeners cannot share port 9003" },
    { "[server]\nping-interval=-1\n", "ping-interval" },
    { "[server]\nsubprotocols=[\"a b\"]\n", "not a valid subprotocol" },
    { "[session]\nqueue-limit=10\n", "minimum" },
    { "[timeouts]\nsession-max-telnet=1.5\n", "session-max-telnet" },
    { "[redirect]\nreturn-keys='***' Somaire\n",
      "[redirect] return-keys: \"'***' Somaire\": \"Somaire\" is not a key name" },
    { "[redirect]\nreturn-keys=Sommaire; '*' SEP\n", "[redirect] return-keys: \"'*' SEP\"" },
    { "[bans]\nipv6-prefix=129\n", "[bans] ipv6-prefix of 129 is not a prefix length from 16 to 128" },
    { "[bans]\nipv6-prefix=8\n", "[bans] ipv6-prefix of 8" },
    { "[bans]\nmax-entries=0\n", "[bans] max-entries must be 1 at least" },
    { "[bans]\nmax-entries=2000000\n", "max-entries" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MgwConfig) config = load (cases[i].text, &error);

      g_assert_null (config);
      g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": '%s' does not name '%s'", i,
                 error->message, cases[i].needle);
    }
}

/* A reload keeps the running value of keys read at start only, and
 * names them; the others are taken. */
static void
test_restart_keys (void)
{
  g_autoptr(MgwConfig) running = load ("[listen]\ntelnet-port=9000\naddress=127.0.0.1\n"
                                       "[console]\nport=8999\n", NULL);
  g_autoptr(MgwConfig) same = load ("[listen]\ntelnet-port=9000\naddress=127.0.0.1\n"
                                    "[console]\nport=8999\n[session]\nmax-sessions=7\n", NULL);
  g_autoptr(MgwConfig) changed = load ("[listen]\ntelnet-port=9100\naddress=127.0.0.1;::1\n"
                                       "[console]\nport=off\n[paths]\nstate-dir=/tmp/elsewhere\n"
                                       "[command]\nenabled=false\n[session]\nmax-sessions=7\n",
                                       NULL);
  g_auto(GStrv) none = NULL;
  g_auto(GStrv) pending = NULL;
  static const char *const expected[] = {
    "[listen] address", "[listen] telnet-port", "[console] port", "[command] enabled",
    "[paths] state-dir", NULL,
  };

  g_assert_nonnull (running);
  g_assert_nonnull (same);
  g_assert_nonnull (changed);
  none = mgw_config_keep_restart_keys (same, running);
  g_assert_cmpstrv (none, (const char *const[]) { NULL });
  g_assert_cmpuint (same->max_sessions, ==, 7);

  pending = mgw_config_keep_restart_keys (changed, running);
  g_assert_cmpstrv (pending, expected);
  g_assert_cmpint (changed->telnet_port, ==, 9000);
  g_assert_cmpint (changed->display_port, ==, 8999);
  g_assert_cmpstrv (changed->listen_addresses, running->listen_addresses);
  g_assert_cmpstr (changed->state_dir, ==, running->state_dir);
  g_assert_cmpint (changed->no_command_channel, ==, running->no_command_channel);
  g_assert_cmpuint (changed->max_sessions, ==, 7);   /* applied */
}

static void
test_subprotocols (void)
{
  static const struct { const char *in; const char *out[3]; } good[] = {
    { "[\"binary\",\"tty\"]", { "binary", "tty", NULL } },
    { "['binary', 'tty']", { "binary", "tty", NULL } },
    { "[]", { NULL } },
    { "", { NULL } },
    { "binary,tty", { "binary", "tty", NULL } },
    { " [ \"tty\" ] ", { "tty", NULL } },
  };
  static const char *bad[] = { "[\"binary\"", "[,]", "[\"a\",]", "[\"a,b\"]", "[\"\"]" };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_auto(GStrv) list = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_true (mgw_value_parse_subprotocols (good[i].in, &list, &error));
      g_assert_no_error (error);
      g_assert_cmpstrv (list, good[i].out);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto(GStrv) list = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_false (mgw_value_parse_subprotocols (bad[i], &list, &error));
      g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
    }
}

static void
test_ping_and_port (void)
{
  guint ping = 99;
  int port = 0;
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_value_parse_ping ("None", &ping, &error));
  g_assert_cmpuint (ping, ==, 0);
  g_assert_true (mgw_value_parse_ping ("10", &ping, &error));
  g_assert_cmpuint (ping, ==, 10);
  g_assert_false (mgw_value_parse_ping ("ten", &ping, &error));
  g_clear_error (&error);
  g_assert_true (mgw_value_parse_port ("0", &port, &error));
  g_assert_cmpint (port, ==, 0);
  g_assert_true (mgw_value_parse_port ("off", &port, &error));
  g_assert_cmpint (port, ==, MGW_PORT_OFF);
  g_assert_false (mgw_value_parse_port ("65536", &port, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
}

/* [redirect] return-keys: a list read as written (no GKeyFile escapes:
 * \xNN is the parser's); empty is none, as is unset, but set. */
static void
test_return_keys (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwConfig) unset = load ("", &error);
  g_autoptr(MgwConfig) two = load ("[redirect]\nreturn-keys= '***' Sommaire;\\x13\\x46 ; \n", &error);
  g_autoptr(MgwConfig) none = load ("[redirect]\nreturn-keys=\n", &error);

  g_assert_no_error (error);
  g_assert_false (unset->has_return_keys);
  g_assert_cmpuint (unset->return_keys.n, ==, 0);
  g_assert_true (two->has_return_keys);
  g_assert_cmpuint (two->return_keys.n, ==, 2);
  g_assert_cmpmem (two->return_keys.bytes[0], two->return_keys.len[0], "***\x13\x46", 5);
  g_assert_cmpmem (two->return_keys.bytes[1], two->return_keys.len[1], "\x13\x46", 2);
  g_assert_true (none->has_return_keys);
  g_assert_cmpuint (none->return_keys.n, ==, 0);
}

/* The scanner rule, the connection rate and the pending cap: defaults,
 * values, bad values, and a reload takes them. */
static void
test_abuse_keys (void)
{
  static const struct { const char *text; const char *needle; } bad[] = {
    { "[telnet]\nscanner-wait=soon\n", "scanner-wait" },
    { "[bans]\nconnection-rate=-1\n", "connection-rate" },
    { "[bans]\nconnection-burst=many\n", "connection-burst" },
    { "[session]\nmax-pending-per-address=1.5\n", "max-pending-per-address" },
  };
  g_autoptr(MgwConfig) defaults = mgw_config_new_default ();
  g_autoptr(MgwConfig) running = load ("", NULL);
  g_autoptr(MgwConfig) changed = load ("[telnet]\nscanner-wait=0.05\n"
                                       "[session]\nmax-pending-per-address=3\n"
                                       "[bans]\nconnection-rate=0\nconnection-burst=7\n", NULL);
  g_auto(GStrv) pending = NULL;

  g_assert_cmpuint (defaults->scanner_wait_ms, ==, 300);
  g_assert_cmpuint (defaults->max_pending_per_address, ==, 8);
  g_assert_cmpuint (defaults->connection_rate, ==, 5);
  g_assert_cmpuint (defaults->connection_burst, ==, 20);
  g_assert_nonnull (changed);
  pending = mgw_config_keep_restart_keys (changed, running);
  g_assert_cmpstrv (pending, (const char *const[]) { NULL });
  g_assert_cmpuint (changed->scanner_wait_ms, ==, 50);
  g_assert_cmpuint (changed->max_pending_per_address, ==, 3);
  g_assert_cmpuint (changed->connection_rate, ==, 0);
  g_assert_cmpuint (changed->connection_burst, ==, 7);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MgwConfig) config = load (bad[i].text, &error);

      g_assert_null (config);
      g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
      g_assert_nonnull (strstr (error->message, bad[i].needle));
    }
}

static void
test_sample_file (void)
{
  /* The shipped sample holds only comments: it loads and changes nothing. */
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "moipgw.conf", NULL);
  g_autoptr(MgwConfig) config = mgw_config_new_default ();
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_config_load_file (config, path, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (mgw_config_validate (config, &error));
  g_assert_cmpint (config->ws_port, ==, 9001);
}

/* Raw TCP users: [listen] raw-port, [telnet] negotiation=none. */
static void
test_raw (void)
{
  static const struct { const char *text; const char *needle; } bad[] = {
    { "[listen]\ntelnet-port=9004\nraw-port=9004\n",
      "the Telnet and raw TCP listeners cannot share port 9004" },
    { "[listen]\nraw-port=9005\n[console]\nport=9005\n",
      "the console and raw TCP listeners cannot share port 9005" },
    { "[listen]\nraw-port=99999\n", "raw-port" },
    { "[telnet]\nnegotiation=off\n", "is not 'will-echo', 'do-echo' or 'none'" },
  };
  g_autoptr(MgwConfig) raw = load ("[listen]\nraw-port=9010\n[telnet]\nnegotiation=none\n", NULL);
  g_autoptr(MgwConfig) running = load ("[listen]\nraw-port=9010\n", NULL);
  g_autoptr(MgwConfig) changed = load ("[listen]\nraw-port=9011\n", NULL);
  g_auto(GStrv) pending = NULL;

  /* Only raw users: no WebSocket port of the original's by default. */
  g_assert_nonnull (raw);
  g_assert_cmpint (raw->raw_port, ==, 9010);
  g_assert_cmpint (raw->ws_port, ==, MGW_PORT_OFF);
  g_assert_cmpint (raw->telnet_port, ==, MGW_PORT_OFF);
  g_assert_cmpint (raw->telnet_start, ==, MGW_TELNET_START_NONE);
  /* Read at start only. */
  pending = mgw_config_keep_restart_keys (changed, running);
  g_assert_cmpstrv (pending, ((const char *const[]) { "[listen] raw-port", NULL }));
  g_assert_cmpint (changed->raw_port, ==, 9010);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MgwConfig) config = load (bad[i].text, &error);

      g_assert_null (config);
      g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
      if (strstr (error->message, bad[i].needle) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": '%s' does not name '%s'", i,
                 error->message, bad[i].needle);
    }

  /* Raw users have the Telnet settings; Teletel knows them as Telnet. */
  g_assert_cmpint (mgw_access_settings (MGW_ACCESS_RAW), ==, MGW_ACCESS_TELNET);
  g_assert_cmpint (mgw_access_settings (MGW_ACCESS_WS), ==, MGW_ACCESS_WS);
  g_assert_cmpstr (mgw_access_to_string (MGW_ACCESS_RAW), ==, "raw");
  g_assert_cmpstr (mgw_access_to_compat_string (MGW_ACCESS_RAW), ==, "Telnet");
  g_assert_cmpstr (mgw_access_to_compat_string (MGW_ACCESS_WS), ==, "WS");
}

/* Default servers that are not WebSocket ones: telnet:// (port 23 by
 * default) and tcp:// (raw TCP, its port written); never the command
 * channel. */
static void
test_stream_servers (void)
{
  static const struct { const char *text; const char *needle; } bad[] = {
    { "[server]\nuri=tcp://127.0.0.1\n", "a tcp:// URI must name its port" },
    { "[server]\nuri=tcp://127.0.0.1:0\n", "port 0 cannot be connected to" },
    { "[server]\nuri=telnet://:23\n", "it names no host" },
    { "[server]\nuri=gopher://127.0.0.1:70\n", "the scheme 'gopher' is not ws, wss, telnet or tcp" },
    { "[command]\nuri=telnet://127.0.0.1:8764\n", "the scheme 'telnet' is not ws or wss" },
    { "[command]\nuri=tcp://127.0.0.1:8764\n", "the scheme 'tcp' is not ws or wss" },
  };
  static const char *good[] = {
    "telnet://127.0.0.1:2323", "telnet://videotex.example", "TELNET://[::1]:23/",
    "tcp://127.0.0.1:4000", "tcp://videotex.example:3615",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *text = g_strdup_printf ("[server]\nuri=%s\n", good[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(MgwConfig) config = load (text, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (config->server_uri, ==, good[i]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MgwConfig) config = load (bad[i].text, &error);

      g_assert_null (config);
      g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
      if (strstr (error->message, bad[i].needle) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": '%s' does not name '%s'", i,
                 error->message, bad[i].needle);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/full-file", test_full_file);
  g_test_add_func ("/config/bad-files", test_bad_files);
  g_test_add_func ("/config/subprotocols", test_subprotocols);
  g_test_add_func ("/config/restart-keys", test_restart_keys);
  g_test_add_func ("/config/ping-and-port", test_ping_and_port);
  g_test_add_func ("/config/sample-file", test_sample_file);
  g_test_add_func ("/config/raw", test_raw);
  g_test_add_func ("/config/stream-servers", test_stream_servers);
  g_test_add_func ("/config/return-keys", test_return_keys);
  g_test_add_func ("/config/abuse-keys", test_abuse_keys);
  return g_test_run ();
}
