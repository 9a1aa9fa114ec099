/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-daemon.c: moipgwd as an operator runs it: the command line, its
 * errors and exit statuses, --demo serving a page, SIGTERM with users
 * connected. */
#include "config.h"

#include "mgw-test-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#define S(lit) lit, sizeof lit - 1
/* D-Bus has tests of its own, on a private bus. */
#define daemon_spawn_no_dbus(...) mgw_test_daemon_spawn ("--no-dbus", __VA_ARGS__)


static void
test_version (void)
{
  g_autoptr(MgwTestDaemon) d = daemon_spawn_no_dbus ("--version", NULL);

  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 0);
  g_assert_cmpstr (d->err->str, ==, "moipgwd " PACKAGE_VERSION "\n");
}

/* --help names every option of the original, with its spelling. */
static void
test_help (void)
{
  g_autoptr(MgwTestDaemon) d = daemon_spawn_no_dbus ("--help", NULL);
  static const char *options[] = {
    "--tcp", "--ws", "--display", "-i, --ip", "-c, --command", "-v, --videotext",
    "-p, --interval", "-b, --subprotocols", "-n, --nocommandchannel",
    "-g, --configpath", "-l, --logpath", "--state-dir", "--demo", "--config",
    "--version",
  };

  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (options); i++)
    if (strstr (d->err->str, options[i]) == NULL)
      g_error ("--help does not list %s:\n%s", options[i], d->err->str);
}

/* Each bad input: exit status 2 and one line naming the problem. */
static void
test_bad_command_lines (void)
{
  static const struct { const char *args[4]; const char *needle; } cases[] = {
    { { "--tcp", "abc" }, "--tcp: 'abc'" },
    { { "--ws", "70000" }, "--ws" },
    { { "--tcp", "9000", "--ws", "9000" }, "cannot share port 9000" },
    { { "-b", "[\"a b\"]" }, "--subprotocols" },
    { { "-p", "often" }, "--interval" },
    { { "-v", "http://example.org/" }, "not a ws://, wss://, telnet:// or tcp:// URI" },
    { { "-v", "ws://" }, "'ws://' is not a ws://, wss://, telnet:// or tcp:// URI: it names no host" },
    { { "-v", "ws://127.0.0.1:/" }, "the port after ':' is missing" },
    { { "-v", "ws://127.0.0.1:70000/" }, "'ws://127.0.0.1:70000/' is not a ws://, wss://, telnet:// or tcp:// URI" },
    { { "-v", "ws://127.0.0.1:0/" }, "port 0" },
    { { "-v", "" }, "it is empty" },
    { { "-c", "ws://[::1/" }, "command channel 'ws://[::1/'" },
    { { "-c", "telnet://127.0.0.1:8764" }, "the scheme 'telnet' is not ws or wss" },
    { { "--tcp", "9100", "--display", "9100" }, "the Telnet and console listeners cannot share port 9100" },
    { { "--ws", "9101", "--display", "9101" }, "the WebSocket and console listeners cannot share port 9101" },
    { { "-i", "example" }, "--ip: 'example' is not an IP address" },
    { { "--nosuchoption" }, "nosuchoption" },
    { { "extra" }, "unexpected argument 'extra'" },
    { { "--config", "/nonexistent/moipgw.conf" }, "/nonexistent/moipgw.conf" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MgwTestDaemon) d = daemon_spawn_no_dbus (cases[i].args[0], cases[i].args[1],
                                                         cases[i].args[2], cases[i].args[3], NULL);
      mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
      g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 2);
      if (strstr (d->err->str, cases[i].needle) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": output does not name '%s':\n%s", i,
                 cases[i].needle, d->err->str);
      /* One line. */
      g_assert_cmpint (strchr (d->err->str, '\n') - d->err->str + 1, ==, (int) d->err->len);
    }
}

static void
test_bad_config_file (void)
{
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autofree char *path = mgw_test_empty_config ();
  g_autofree char *arg = g_strdup_printf ("--config=%s", path);

  g_assert_true (g_file_set_contents (path, "[listen]\ntelnet-prot=9000\n", -1, NULL));
  d = daemon_spawn_no_dbus (arg, NULL);
  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 2);
  g_assert_nonnull (strstr (d->err->str, "unknown key 'telnet-prot' in [listen]"));
  g_unlink (path);
}

/* --require-bus (as systemd starts it): no bus, no start; a clear line
 * and a failure status at once, not a daemon running unseen. */
static void
test_require_bus (void)
{
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autofree char *dir = g_dir_make_tmp ("moipgw-test-XXXXXX", NULL);
  g_autofree char *bus = g_strdup_printf ("unix:path=%s/no-such-bus", dir);
  g_autofree char *saved = g_strdup (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"));

  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", bus, TRUE);
  d = mgw_test_daemon_spawn ("--require-bus", "--demo", "--tcp", "0", "--ws", "off",
                             "--display", "off", "-i", "127.0.0.1", NULL);
  if (saved != NULL)
    g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", saved, TRUE);
  else
    g_unsetenv ("DBUS_SYSTEM_BUS_ADDRESS");
  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_true (g_subprocess_get_if_exited (d->process));
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 1);
  if (strstr (d->err->str, "moipgwd: cannot serve D-Bus (--require-bus): cannot connect to the system bus") == NULL)
    g_error ("no reason given:\n%s", d->err->str);
  g_rmdir (dir);
}

/* --demo serves the browser emulator and says where, last, once the
 * command channel is up. */
static void
test_demo_web_address (void)
{
  g_autoptr(MgwTestDaemon) d = mgw_test_daemon_spawn ("--no-dbus", "--demo", "--tcp", "off",
                                                      "--ws", "0", "-i", "127.0.0.1", NULL);
  guint16 port = mgw_test_daemon_port (d, "WebSocket");
  g_autofree char *line = g_strdup_printf ("browser emulator: open http://127.0.0.1:%u/", port);
  MgwTestOutputWait w = { d, line };
  const char *connected;

  mgw_test_wait_until (mgw_test_daemon_output_has, &w, MGW_TEST_TIMEOUT_MS, line);
  connected = strstr (d->err->str, "command channel connected");
  g_assert_nonnull (connected);
  g_assert_true (connected < strstr (d->err->str, line));
}

/* A broken GatewayConfig.json: its path once, the parser's finding in
 * our words, nothing of its text. */
static void
test_bad_legacy_config (void)
{
  g_autofree char *dir = g_dir_make_tmp ("moipgw-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "GatewayConfig.json", NULL);
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autofree char *state_arg = g_strdup_printf ("--state-dir=%s", state);
  g_autoptr(MgwTestDaemon) d = NULL;
  const char *first;

  g_assert_true (g_file_set_contents (path, "{\"DumpData\": SECRET", -1, NULL));
  d = daemon_spawn_no_dbus ("--demo", "--tcp", "0", "--ws", "off", "--display", "off",
                            "-g", dir, state_arg, NULL);
  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), !=, 0);
  first = strstr (d->err->str, path);
  if (first == NULL || strstr (first + 1, path) != NULL || strstr (d->err->str, "SECRET") != NULL ||
      strstr (d->err->str, "line 1, column") == NULL)
    g_error ("the path not once, or the text quoted:\n%s", d->err->str);
  g_unlink (path);
  g_rmdir (state);
  g_rmdir (dir);
}

/* A port already taken: a clear message and a failure status. */
static void
test_port_in_use (void)
{
  g_autoptr(GSocketService) busy = g_socket_service_new ();
  g_autoptr(GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (busy), NULL, &error);
  g_autofree char *arg = g_strdup_printf ("%u", port);
  g_autofree char *needle = g_strdup_printf ("cannot listen for Telnet users on port %u", port);
  g_autoptr(MgwTestDaemon) d = NULL;

  g_assert_no_error (error);
  d = daemon_spawn_no_dbus ("--demo", "--tcp", arg, NULL);
  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 1);
  if (strstr (d->err->str, needle) == NULL)
    g_error ("no '%s' in:\n%s", needle, d->err->str);
}

/* --demo serves its page to Telnet and WebSocket users, its METEO
 * service is a redirect target though on loopback; SIGTERM tells the
 * connected users and exits 0 promptly. */
static void
test_demo_and_sigterm (void)
{
  g_autoptr(MgwTestDaemon) d = daemon_spawn_no_dbus ("--demo", "--tcp", "0", "--ws", "0",
                                                     "-i", "127.0.0.1", NULL);
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;
  guint16 telnet_port = mgw_test_daemon_port (d, "Telnet");
  guint16 ws_port = mgw_test_daemon_port (d, "WebSocket");
  gint64 sent;

  tcp = mgw_test_tcp_connect ("127.0.0.1", telnet_port);
  mgw_test_tcp_wait_for (tcp, S ("service de d\x19\x42" "emonstration"));
  uri = g_strdup_printf ("ws://127.0.0.1:%u/", ws_port);
  ws = mgw_test_ws_connect (uri, NULL);
  g_assert_no_error (ws->error);
  mgw_test_ws_wait_for (ws, S ("service de d\x19\x42" "emonstration"));
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, S ("METEO\x13\x41"));
  mgw_test_ws_wait_for (ws, S ("Paris : ensoleill"));

  sent = g_get_monotonic_time ();
  g_subprocess_send_signal (d->process, SIGTERM);
  mgw_test_tcp_wait_for (tcp, S ("\x1f\x40\x41" "GATEWAY STOPPED, SORRY\x18\x0a"));
  mgw_test_ws_wait_for (ws, S ("\x1f\x40\x41" "GATEWAY STOPPED, SORRY\x18\x0a"));
  mgw_test_tcp_wait_closed (tcp);
  mgw_test_daemon_wait_exit (d, 2000);
  g_assert_cmpint (g_get_monotonic_time () - sent, <, 2 * G_USEC_PER_SEC);
  g_assert_true (g_subprocess_get_if_exited (d->process));
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 0);
}

/* Without a system bus the daemon serves, and stops cleanly: no
 * CRITICAL about interfaces it never exported. */
static void
test_no_bus_stop (void)
{
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autofree char *dir = g_dir_make_tmp ("moipgw-test-XXXXXX", NULL);
  g_autofree char *bus = g_strdup_printf ("unix:path=%s/no-such-bus", dir);
  g_autofree char *saved = g_strdup (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"));

  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", bus, TRUE);
  d = mgw_test_daemon_spawn ("--demo", "--tcp", "0", "--ws", "off", "--display", "off",
                             "-i", "127.0.0.1", NULL);
  if (saved != NULL)
    g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", saved, TRUE);
  else
    g_unsetenv ("DBUS_SYSTEM_BUS_ADDRESS");
  g_assert_cmpuint (mgw_test_daemon_port (d, "Telnet"), >, 0);
  g_subprocess_send_signal (d->process, SIGTERM);
  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_true (g_subprocess_get_if_exited (d->process));
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 0);
  g_assert_null (strstr (d->err->str, "CRITICAL"));
  g_rmdir (dir);
}

/* SIGHUP reads profiles.json again; a broken file is reported and the
 * profiles in force are kept, the daemon goes on. */
static void
test_sighup_profiles (void)
{
  g_autofree char *dir = g_dir_make_tmp ("moipgw-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "profiles.json", NULL);
  g_autoptr(MgwTestDaemon) d = NULL;
  MgwTestOutputWait two = { NULL, "1 redirect profiles from" };
  MgwTestOutputWait broken = { NULL, "the configuration in force is kept" };

  g_assert_true (g_file_set_contents (path, "{}", -1, NULL));
  d = daemon_spawn_no_dbus ("--demo", "--tcp", "0", "--ws", "off", "-g", dir, NULL);
  mgw_test_daemon_port (d, "Telnet");
  g_assert_nonnull (strstr (d->err->str, "0 redirect profiles from"));

  g_assert_true (g_file_set_contents (path, "{ \"example.org\": { \"ping\": 5 } }", -1, NULL));
  g_subprocess_send_signal (d->process, SIGHUP);
  two.d = d;
  mgw_test_wait_until (mgw_test_daemon_output_has, &two, MGW_TEST_TIMEOUT_MS, "the reload");

  g_assert_true (g_file_set_contents (path, "{ broken", -1, NULL));
  g_subprocess_send_signal (d->process, SIGHUP);
  broken.d = d;
  mgw_test_wait_until (mgw_test_daemon_output_has, &broken, MGW_TEST_TIMEOUT_MS, "the failed reload");
  g_assert_false (d->exited);

  g_subprocess_send_signal (d->process, SIGTERM);
  mgw_test_daemon_wait_exit (d, 2000);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 0);
  g_unlink (path);
  g_rmdir (dir);
}

/* kill -9 in the middle of a burst of bans: banned.json stays a valid
 * JSON object (written to a temporary file, synced, renamed). */
static void
test_kill_during_bans (void)
{
  g_autofree char *state = g_dir_make_tmp ("moipgw-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (state, "banned.json", NULL);
  g_autofree char *state_arg = g_strdup_printf ("--state-dir=%s", state);
  g_autoptr(MgwTestDaemon) d = daemon_spawn_no_dbus ("--demo", "--tcp", "0", "--ws", "off", "-i", "127.0.0.1",
                                                     "--trusted-proxy", "127.0.0.1", state_arg, NULL);
  guint16 port = mgw_test_daemon_port (d, "Telnet");
  g_autoptr(GPtrArray) conns = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_tcp_free);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  guint n = 0;

  /* Scanners behind the proxy, each leaving at once: a ban each. */
  for (guint round = 0; round <= 20; round++)
    {
      for (guint i = 0; i < 20; i++, n++)
        {
          MgwTestTcp *tcp = mgw_test_tcp_connect ("127.0.0.1", port);
          g_autofree char *header = g_strdup_printf ("PROXY TCP4 198.51.100.%u 192.0.2.1 %u 9000\r\n",
                                                     1 + n % 250, 1000 + n);
          mgw_test_tcp_send (tcp, header, strlen (header));
          g_ptr_array_add (conns, tcp);
        }
      mgw_test_run_for (10);
      g_ptr_array_set_size (conns, 0);   /* closes them */
      if (round == 20)
        g_subprocess_send_signal (d->process, SIGKILL);
    }
  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_true (g_subprocess_get_if_signaled (d->process));
  /* Bans were written before the kill, and the file is whole. */
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  g_assert_cmpuint (json_object_get_size (json_node_get_object (json_parser_get_root (parser))), >, 0);
  {
    g_autoptr(GDir) dir = g_dir_open (state, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (state, name, NULL);
        g_unlink (child);
      }
  }
  g_rmdir (state);
}

static gboolean
answered (gpointer data)
{
  MgwTestTcp *tcp = data;
  return mgw_test_bytes_contain (tcp->received, S ("CONNECT\x18")) ||
         mgw_test_bytes_contain (tcp->received, S ("SERVICE FULL"));
}

/* Near its limit on open files the gateway says so in its log and turns
 * users away with a status line, instead of failing obscurely. */
static void
fd_limit (void)
{
  static const char * const prlimit[] = { "prlimit", "--nofile=110:110", NULL };
  g_autoptr(MgwTestDaemon) d = mgw_test_daemon_spawn_wrapped (prlimit, "--no-dbus", "--demo",
                                                              "--tcp", "0", "--ws", "off",
                                                              "-i", "127.0.0.1", NULL);
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_tcp_free);
  MgwTestOutputWait warned = { d, "nearing the limit on open files" };
  guint16 port = mgw_test_daemon_port (d, "Telnet");
  guint served = 0, refused = 0;

  g_assert_nonnull (strstr (d->err->str, "limit on open files: 110"));
  for (guint i = 0; i < 25; i++)
    {
      MgwTestTcp *tcp = mgw_test_tcp_connect ("127.0.0.1", port);
      g_ptr_array_add (users, tcp);
      mgw_test_wait_until (answered, tcp, MGW_TEST_TIMEOUT_MS, "CONNECT or SERVICE FULL");
      if (mgw_test_bytes_contain (tcp->received, S ("SERVICE FULL")))
        refused++;
      else
        served++;
    }
  g_assert_cmpuint (served, >, 5);
  g_assert_cmpuint (refused, >, 0);
  mgw_test_wait_until (mgw_test_daemon_output_has, &warned, MGW_TEST_TIMEOUT_MS, "the warning");
  g_assert_false (d->exited);
}

static void
test_fd_limit (void)
{
  /* valgrind keeps descriptors for itself under the limit it shows the
   * daemon: the figures checked would not hold. */
  if (g_getenv ("MOIPGW_TEST_WRAPPER") != NULL)
    {
      g_test_skip ("the daemon runs under $MOIPGW_TEST_WRAPPER");
      return;
    }
  fd_limit ();
}

/* moipgwd --demo sets [redirect] return-keys: '***' then Sommaire brings
 * a user back from METEO to the demo Teletel as Connexion/Fin does,
 * typed in pieces (Telnet writes, WebSocket messages), the SEP a moment
 * before its code. */
static void
test_demo_return_keys (void)
{
  g_autoptr(MgwTestDaemon) d = daemon_spawn_no_dbus ("--demo", "--tcp", "0", "--ws", "0",
                                                     "-i", "127.0.0.1", NULL);
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = NULL;
  guint16 telnet_port = mgw_test_daemon_port (d, "Telnet");
  guint16 ws_port = mgw_test_daemon_port (d, "WebSocket");

  tcp = mgw_test_tcp_connect ("127.0.0.1", telnet_port);
  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7b"));
  /* Past the anti-garbage filter's first second. */
  mgw_test_run_for (1100);
  mgw_test_tcp_send (tcp, S ("meteo\r\n"));
  mgw_test_tcp_wait_for (tcp, S ("Paris : ensoleill"));
  g_byte_array_set_size (tcp->received, 0);
  mgw_test_tcp_send (tcp, S ("**"));
  mgw_test_tcp_send (tcp, S ("*"));
  mgw_test_tcp_send (tcp, S ("\x13"));
  mgw_test_run_for (300);
  mgw_test_tcp_send (tcp, S ("F"));
  mgw_test_tcp_wait_for (tcp, S ("service de d\x19\x42" "emonstration"));
  g_assert_false (mgw_test_bytes_contain (tcp->received, S ("Au revoir")));

  uri = g_strdup_printf ("ws://127.0.0.1:%u/", ws_port);
  ws = mgw_test_ws_connect (uri, NULL);
  g_assert_no_error (ws->error);
  mgw_test_ws_wait_for (ws, S ("\x1b\x39\x7b"));
  mgw_test_run_for (100);
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, S ("METEO\x13\x41"));
  mgw_test_ws_wait_for (ws, S ("Paris : ensoleill"));
  g_byte_array_set_size (ws->received, 0);
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, S ("*"));
  mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_TEXT, S ("**\x13\x46"));
  mgw_test_ws_wait_for (ws, S ("service de d\x19\x42" "emonstration"));

  g_subprocess_send_signal (d->process, SIGTERM);
  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 0);
}

/* A bad [redirect] return-keys stops the start (exit status 2, one line
 * naming the key and the mistake); on SIGHUP it is refused, the
 * configuration in force kept and the daemon going on. */
static void
test_return_keys_config (void)
{
  g_autofree char *path = mgw_test_empty_config ();
  g_autofree char *arg = g_strdup_printf ("--config=%s", path);
  static const char bad[] = "[redirect]\nreturn-keys='***' Somaire\n";
  static const char needle[] =
    "[redirect] return-keys: \"'***' Somaire\": \"Somaire\" is not a key name";
  MgwTestOutputWait refused = { NULL, "reload refused" };
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autoptr(MgwTestDaemon) running = NULL;

  g_assert_true (g_file_set_contents (path, bad, -1, NULL));
  d = daemon_spawn_no_dbus (arg, NULL);
  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 2);
  if (strstr (d->err->str, needle) == NULL)
    g_error ("no '%s' in:\n%s", needle, d->err->str);
  g_unlink (path);

  running = daemon_spawn_no_dbus ("--demo", "--tcp", "0", "--ws", "off", "-i", "127.0.0.1", NULL);
  mgw_test_daemon_port (running, "Telnet");
  g_assert_true (g_file_set_contents (running->config_file, bad, -1, NULL));
  g_subprocess_send_signal (running->process, SIGHUP);
  refused.d = running;
  mgw_test_wait_until (mgw_test_daemon_output_has, &refused, MGW_TEST_TIMEOUT_MS, "the refused reload");
  if (strstr (running->err->str, needle) == NULL)
    g_error ("no '%s' in:\n%s", needle, running->err->str);
  g_assert_false (running->exited);
  g_subprocess_send_signal (running->process, SIGTERM);
  mgw_test_daemon_wait_exit (running, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (running->process), ==, 0);
}

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  g_test_add_func ("/daemon/demo-web-address", test_demo_web_address);
  g_test_add_func ("/daemon/version", test_version);
  g_test_add_func ("/daemon/help", test_help);
  g_test_add_func ("/daemon/bad-command-lines", test_bad_command_lines);
  g_test_add_func ("/daemon/bad-config-file", test_bad_config_file);
  g_test_add_func ("/daemon/port-in-use", test_port_in_use);
  g_test_add_func ("/daemon/demo-and-sigterm", test_demo_and_sigterm);
  g_test_add_func ("/daemon/no-bus-stop", test_no_bus_stop);
  g_test_add_func ("/daemon/require-bus", test_require_bus);
  g_test_add_func ("/daemon/bad-legacy-config", test_bad_legacy_config);
  g_test_add_func ("/daemon/sighup-profiles", test_sighup_profiles);
  g_test_add_func ("/daemon/kill-during-bans", test_kill_during_bans);
  g_test_add_func ("/daemon/fd-limit", test_fd_limit);
  g_test_add_func ("/daemon/demo-return-keys", test_demo_return_keys);
  g_test_add_func ("/daemon/return-keys-config", test_return_keys_config);
  return g_test_run ();
}
