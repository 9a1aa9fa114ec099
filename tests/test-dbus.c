/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-dbus.c: moipgwd on D-Bus, on a private dbus-daemon: the
 * introspection matches data/dbus/org.moipgw.Gateway1.xml, properties
 * follow real Telnet and WebSocket sessions, session objects come and go
 * with InterfacesAdded/Removed, Ban/Unban/Disconnect and
 * StartRecording/StopRecording act on real sessions through gdbus and
 * busctl as an operator runs them, a message to users, a drain and its
 * end, users' screens to D-Bus watchers alone, and a caller that is
 * neither root nor in the moipgw group is refused. */
#include "config.h"

#include "mgw-dbus-generated.h"
#include "mgw-test-util.h"

#include <glib/gstdio.h>

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define S(lit) lit, sizeof lit - 1
#define BUS_NAME "org.moipgw.Gateway1"
#define PATH "/org/moipgw/Gateway1"

typedef struct
{
  GSubprocess      *bus;
  char             *address;
  GDBusConnection  *connection;
  MgwTestDaemon    *daemon;
  MgwDBusGateway   *gateway;
  guint16           telnet_port;
  guint16           ws_port;
  char             *certs;       /* "wss": the test pairs, the one in use as live.* */
  guint16           raw_port;
} Fixture;

static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean
name_owned (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GVariant) reply =
    g_dbus_connection_call_sync (f->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "NameHasOwner",
                                 g_variant_new ("(s)", BUS_NAME), G_VARIANT_TYPE ("(b)"),
                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean owned = FALSE;

  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  if (!owned)
    g_usleep (20 * 1000);
  return owned;
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *conf = g_test_build_filename (G_TEST_DIST, "data", "test-bus.conf", NULL);
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = mgw_test_tmp_dir ();
  g_autofree char *state_arg = g_strdup_printf ("--state-dir=%s", state);

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  f->bus = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", "--config-file", conf,
                                        "--print-address", "--nofork", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->bus));
  f->address = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->address);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", f->address, TRUE);
  f->connection = g_dbus_connection_new_for_address_sync (f->address,
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);

  if (g_strcmp0 (data, "wss") == 0)
    {
      g_autofree char *script = g_test_build_filename (G_TEST_DIST, "lib", "make-certs.sh", NULL);
      g_autofree char *pem = NULL;
      g_autofree char *key = NULL;
      g_autofree char *live_pem = NULL;
      g_autofree char *live_key = NULL;
      const char *make[] = { script, NULL, NULL };
      int status;

      f->certs = mgw_test_tmp_dir ();
      make[1] = f->certs;
      g_spawn_sync (NULL, (char **) make, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                    &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      pem = g_build_filename (f->certs, "server.pem", NULL);
      key = g_build_filename (f->certs, "server.key", NULL);
      live_pem = g_build_filename (f->certs, "live.pem", NULL);
      live_key = g_build_filename (f->certs, "live.key", NULL);
      g_assert_cmpint (link (pem, live_pem), ==, 0);
      g_assert_cmpint (link (key, live_key), ==, 0);
      f->daemon = mgw_test_daemon_spawn ("--session-bus", "--demo", "--tcp", "0", "--ws", "0",
                                         "--raw", "0", "--wss", "0", "--tls-certificate", live_pem,
                                         "--tls-key", live_key, "-i", "127.0.0.1", state_arg,
                                         NULL);
    }
  else
    f->daemon = mgw_test_daemon_spawn ("--session-bus", "--demo", "--tcp", "0", "--ws", "0",
                                       "--raw", "0", "-i", "127.0.0.1", state_arg, NULL);
  f->telnet_port = mgw_test_daemon_port (f->daemon, "Telnet");
  f->ws_port = mgw_test_daemon_port (f->daemon, "WebSocket");
  f->raw_port = mgw_test_daemon_port (f->daemon, "raw TCP");
  mgw_test_wait_until (name_owned, f, MGW_TEST_TIMEOUT_MS, "moipgwd on the bus");
  f->gateway = mgw_dbus_gateway_proxy_new_sync (f->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                BUS_NAME, PATH, NULL, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->gateway);
  g_clear_pointer (&f->daemon, mgw_test_daemon_free);
  g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  g_subprocess_force_exit (f->bus);
  g_subprocess_wait (f->bus, NULL, NULL);
  g_clear_object (&f->bus);
  g_free (f->address);
  g_free (f->certs);
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
}

/* Runs a command (gdbus, busctl...) as an operator would; returns its
 * exit status, its output in *out. */
static int
run (char **out, const char *first, ...) G_GNUC_NULL_TERMINATED;

static int
run (char **out, const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  va_list args;

  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                               &error);
  g_assert_no_error (error);
  /* Not on the main context: the daemon is another process. */
  g_subprocess_communicate_utf8 (process, NULL, NULL, &stdout_text, NULL, &error);
  g_assert_no_error (error);
  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  return g_subprocess_get_exit_status (process);
}

/* `have` (the daemon's) has every method, property and signal of `want`
 * (the XML's), with the same signatures. */
static void
assert_interface (GDBusInterfaceInfo *want,
                  GDBusInterfaceInfo *have)
{
  g_assert_nonnull (have);
  for (guint m = 0; want->methods[m] != NULL; m++)
    g_assert_nonnull (g_dbus_interface_info_lookup_method (have, want->methods[m]->name));
  for (guint p = 0; want->properties[p] != NULL; p++)
    {
      GDBusPropertyInfo *prop = g_dbus_interface_info_lookup_property (have, want->properties[p]->name);
      g_assert_nonnull (prop);
      g_assert_cmpstr (prop->signature, ==, want->properties[p]->signature);
    }
  for (guint s = 0; want->signals[s] != NULL; s++)
    g_assert_nonnull (g_dbus_interface_info_lookup_signal (have, want->signals[s]->name));
}

static GDBusNodeInfo *
introspect (Fixture    *f,
            const char *path)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GDBusNodeInfo *live;
  const char *live_xml;

  reply = g_dbus_connection_call_sync (f->connection, BUS_NAME, path,
                                       "org.freedesktop.DBus.Introspectable", "Introspect",
                                       NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                       -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &live_xml);
  live = g_dbus_node_info_new_for_xml (live_xml, &error);
  g_assert_no_error (error);
  return live;
}

/* The running daemon's introspection has every method, property and
 * signal of the XML, with the same signatures: on the gateway's object,
 * and on a session's. */
static void
test_introspection (Fixture *f, gconstpointer data)
{
  g_autofree char *xml_path = g_test_build_filename (G_TEST_DIST, "..", "data", "dbus",
                                                     "org.moipgw.Gateway1.xml", NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GDBusNodeInfo) contract = NULL;
  g_autoptr(GDBusNodeInfo) live = NULL;
  g_autoptr(GDBusNodeInfo) session = NULL;
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (xml_path, &xml, NULL, &error));
  contract = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  live = introspect (f, PATH);
  g_assert_nonnull (g_dbus_node_info_lookup_interface (live, "org.freedesktop.DBus.ObjectManager"));

  for (guint i = 0; contract->interfaces[i] != NULL; i++)
    {
      GDBusInterfaceInfo *want = contract->interfaces[i];

      if (strcmp (want->name, "org.moipgw.Gateway1.Session") == 0)
        continue;   /* on the session objects, checked below */
      assert_interface (want, g_dbus_node_info_lookup_interface (live, want->name));
    }

  tcp = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7b"));
  session = introspect (f, PATH "/sessions/0");
  assert_interface (g_dbus_node_info_lookup_interface (contract, "org.moipgw.Gateway1.Session"),
                    g_dbus_node_info_lookup_interface (session, "org.moipgw.Gateway1.Session"));
}

typedef struct
{
  GDBusObjectManager *manager;
  guint               added;
  guint               removed;
} ManagerWatch;

static void
object_added_cb (GDBusObjectManager *manager, GDBusObject *object, ManagerWatch *w)
{
  w->added++;
}

static void
object_removed_cb (GDBusObjectManager *manager, GDBusObject *object, ManagerWatch *w)
{
  w->removed++;
}

static gboolean
two_added (gpointer data)
{
  return ((ManagerWatch *) data)->added >= 2;
}

static gboolean
two_removed (gpointer data)
{
  return ((ManagerWatch *) data)->removed >= 2;
}

typedef struct
{
  MgwDBusGateway *gateway;
  guint           active;
} ActiveWait;

static gboolean
active_is (gpointer data)
{
  ActiveWait *w = data;
  return mgw_dbus_gateway_get_active_sessions (w->gateway) == w->active;
}

static void
wait_active (Fixture *f, guint n)
{
  ActiveWait w = { f->gateway, n };
  mgw_test_wait_until (active_is, &w, MGW_TEST_TIMEOUT_MS, "ActiveSessions");
}

static gboolean
page_counted (gpointer data)
{
  return mgw_dbus_session_get_bytes_to_user (data) > 100;
}

/* Sessions come and go: objects and properties follow, from signals
 * alone (PropertiesChanged, InterfacesAdded/Removed). */
static void
test_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ManagerWatch w = { 0 };
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwTestWs) ws = NULL;
  g_autofree char *uri = g_strdup_printf ("ws://127.0.0.1:%u/", f->ws_port);
  g_autoptr(GList) objects = NULL;
  g_autoptr(MgwDBusSession) session = NULL;

  w.manager = mgw_dbus_object_manager_client_new_sync (f->connection,
                                                       G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                       BUS_NAME, PATH, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (w.manager, "object-added", G_CALLBACK (object_added_cb), &w);
  g_signal_connect (w.manager, "object-removed", G_CALLBACK (object_removed_cb), &w);
  g_assert_cmpuint (mgw_dbus_gateway_get_active_sessions (f->gateway), ==, 0);
  g_assert_cmpstr (mgw_dbus_gateway_get_version (f->gateway), ==, PACKAGE_VERSION);
  g_assert_true (g_str_has_prefix (mgw_dbus_gateway_get_default_server (f->gateway), "ws://127.0.0.1:"));

  tcp = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7b"));
  ws = mgw_test_ws_connect (uri, NULL);
  mgw_test_ws_wait_for (ws, S ("\x1b\x39\x7b"));
  mgw_test_wait_until (two_added, &w, MGW_TEST_TIMEOUT_MS, "InterfacesAdded");
  wait_active (f, 2);
  g_assert_cmpuint (mgw_dbus_gateway_get_active_telnet_sessions (f->gateway), ==, 1);
  g_assert_cmpuint (mgw_dbus_gateway_get_active_web_socket_sessions (f->gateway), ==, 1);
  g_assert_cmpuint (mgw_dbus_gateway_get_telnet_registrations (f->gateway), ==, 1);
  g_assert_true (mgw_dbus_gateway_get_command_channel_connected (f->gateway));

  session = mgw_dbus_session_proxy_new_sync (f->connection, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME,
                                             PATH "/sessions/0", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mgw_dbus_session_get_access (session), ==, "Telnet");
  g_assert_cmpstr (mgw_dbus_session_get_state (session), ==, "teletel");
  /* Where the user is: asked of the gateway, not a property. */
  {
    g_autoptr(GVariant) peers = NULL;
    g_autoptr(GSocketAddress) local = g_socket_get_local_address (tcp->socket, NULL);
    g_autofree char *text = NULL;
    g_autofree char *expected = g_strdup_printf ("[(0, '127.0.0.1', %u)]",
                                                 g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
    const guint32 ids[] = { 0, 4242 };

    g_assert_true (mgw_dbus_gateway_call_list_peers_sync (f->gateway,
                                                          g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32,
                                                                                     ids, 2,
                                                                                     sizeof (guint32)),
                                                          &peers, NULL, &error));
    g_assert_no_error (error);
    text = g_variant_print (peers, FALSE);
    g_assert_cmpstr (text, ==, expected);
    g_clear_pointer (&peers, g_variant_unref);
    g_clear_pointer (&text, g_free);
    /* None asked: all, the WebSocket user too. */
    g_assert_true (mgw_dbus_gateway_call_list_peers_sync (f->gateway,
                                                          g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32,
                                                                                     NULL, 0,
                                                                                     sizeof (guint32)),
                                                          &peers, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (g_variant_n_children (peers), ==, 2);
  }
  /* Byte counts follow within a second, by PropertiesChanged. */
  mgw_test_wait_until (page_counted, session, MGW_TEST_TIMEOUT_MS, "BytesToUser");

  g_socket_close (tcp->socket, NULL);
  soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  mgw_test_wait_until (two_removed, &w, MGW_TEST_TIMEOUT_MS, "InterfacesRemoved");
  wait_active (f, 0);
  objects = g_dbus_object_manager_get_objects (w.manager);
  g_assert_cmpuint (g_list_length (objects), ==, 0);
  g_list_free_full (g_steal_pointer (&objects), g_object_unref);
  g_object_unref (w.manager);
}

static gboolean
raw_counted (gpointer data)
{
  Fixture *f = data;

  return mgw_dbus_gateway_get_active_raw_sessions (f->gateway) == 1 &&
         mgw_dbus_gateway_get_raw_registrations (f->gateway) == 1;
}

/* A raw TCP user: counted apart from Telnet's, its session's Access
 * "raw" (Teletel hears "Telnet": compat). */
static void
test_raw_session (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(MgwDBusSession) session = NULL;

  tcp = mgw_test_tcp_connect ("127.0.0.1", f->raw_port);
  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7b"));
  g_assert_false (mgw_test_bytes_contain (tcp->received, S ("\xff")));
  mgw_test_wait_until (raw_counted, f, MGW_TEST_TIMEOUT_MS, "ActiveRawSessions, RawRegistrations");
  g_assert_cmpuint (mgw_dbus_gateway_get_active_telnet_sessions (f->gateway), ==, 0);
  g_assert_cmpuint (mgw_dbus_gateway_get_telnet_registrations (f->gateway), ==, 0);
  g_assert_cmpuint (mgw_dbus_gateway_get_active_sessions (f->gateway), ==, 1);
  session = mgw_dbus_session_proxy_new_sync (f->connection, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME,
                                             PATH "/sessions/0", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mgw_dbus_session_get_access (session), ==, "raw");
}

typedef struct
{
  guint banned;
  char *address;
} BanWatch;

static void
banned_cb (MgwDBusGateway *gateway, const char *address, const char *reason, BanWatch *w)
{
  w->banned++;
  g_free (w->address);
  w->address = g_strdup (address);
}

static gboolean
got_banned (gpointer data)
{
  return ((BanWatch *) data)->banned > 0;
}

/* Ban, ListBans and Unban with gdbus and busctl, as an operator; the
 * Banned signal; Disconnect on a real session. */
static void
test_ban_and_disconnect (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr(MgwTestTcp) tcp = NULL;
  BanWatch w = { 0 };

  g_signal_connect (f->gateway, "banned", G_CALLBACK (banned_cb), &w);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH, "--method", "org.moipgw.Gateway1.Ban", "203.0.113.9", "3600", NULL),
                   ==, 0);
  mgw_test_wait_until (got_banned, &w, MGW_TEST_TIMEOUT_MS, "the Banned signal");
  g_assert_cmpstr (w.address, ==, "203.0.113.9");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "busctl", "--user", "call", BUS_NAME, PATH, "org.moipgw.Gateway1",
                        "ListBans", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"203.0.113.9\""));
  g_clear_pointer (&out, g_free);
  /* Never-banned: the machine's own address. */
  g_assert_cmpint (run (&out, "busctl", "--user", "call", BUS_NAME, PATH, "org.moipgw.Gateway1",
                        "Ban", "su", "127.0.0.1", "0", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "127.0.0.1"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "busctl", "--user", "call", BUS_NAME, PATH, "org.moipgw.Gateway1",
                        "Unban", "s", "203.0.113.9", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "busctl", "--user", "get-property", BUS_NAME, PATH,
                        "org.moipgw.Gateway1", "BanListSize", NULL), ==, 0);
  g_assert_cmpstr (g_strstrip (out), ==, "u 0");

  tcp = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7b"));
  wait_active (f, 1);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH "/sessions/0", "--method", "org.moipgw.Gateway1.Session.Disconnect",
                        NULL), ==, 0);
  mgw_test_tcp_wait_for (tcp, S ("DISCONNECTED BY THE OPERATOR"));
  mgw_test_tcp_wait_closed (tcp);
  wait_active (f, 0);
  g_free (w.address);
}

static gboolean
recording_started (gpointer data)
{
  return mgw_dbus_gateway_get_recordings_started (data) == 1 &&
         mgw_dbus_gateway_get_recordings_active (data) == 0;
}

/* StartRecording and StopRecording with gdbus, as an operator: the id
 * answered is the Recording property; twice, or stopping what is not
 * recorded, is refused with a message that says so; the gateway counts. */
static void
test_recording (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *id = NULL;
  g_autofree char *property = NULL;
  g_autoptr(MgwTestTcp) tcp = NULL;
  const char *quote;

  tcp = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7b"));
  wait_active (f, 1);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH "/sessions/0", "--method",
                        "org.moipgw.Gateway1.Session.StartRecording", NULL), ==, 0);
  /* ('20261203-164225-0',) */
  quote = strchr (out, '\'');
  g_assert_nonnull (quote);
  id = g_strndup (quote + 1, strcspn (quote + 1, "'"));
  g_assert_true (mgw_recording_id_is_valid (id));
  g_assert_true (g_str_has_suffix (id, "-0"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "busctl", "--user", "get-property", BUS_NAME, PATH "/sessions/0",
                        "org.moipgw.Gateway1.Session", "Recording", NULL), ==, 0);
  property = g_strdup_printf ("s \"%s\"", id);
  g_assert_cmpstr (g_strstrip (out), ==, property);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH "/sessions/0", "--method",
                        "org.moipgw.Gateway1.Session.StartRecording", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.Failed"));
  g_assert_nonnull (strstr (out, "Session 0 is already recorded"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH "/sessions/0", "--method",
                        "org.moipgw.Gateway1.Session.StopRecording", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "busctl", "--user", "get-property", BUS_NAME, PATH "/sessions/0",
                        "org.moipgw.Gateway1.Session", "Recording", NULL), ==, 0);
  g_assert_cmpstr (g_strstrip (out), ==, "s \"\"");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH "/sessions/0", "--method",
                        "org.moipgw.Gateway1.Session.StopRecording", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.Failed"));
  g_assert_nonnull (strstr (out, "Session 0 is not recorded"));
  mgw_test_wait_until (recording_started, f->gateway, MGW_TEST_TIMEOUT_MS,
                       "RecordingsStarted and RecordingsActive");
  g_assert_cmpuint (mgw_dbus_gateway_get_recording_bytes (f->gateway), >, 0);
  g_assert_cmpuint (mgw_dbus_gateway_get_recording_failures (f->gateway), ==, 0);
  g_assert_cmpuint (mgw_dbus_gateway_get_recording_dropped (f->gateway), ==, 0);
  g_assert_cmpuint (mgw_dbus_gateway_get_recordings_truncated (f->gateway), ==, 0);
}

/* A caller neither root nor in the moipgw group may read the counters
 * and states but not act, nor see where users connect from. */
static void
test_access_denied (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autofree char *setpriv = g_find_program_in_path ("setpriv");

  if (getuid () != 0 || setpriv == NULL)
    {
      g_test_skip ("needs root and setpriv to call as another user");
      return;
    }
  /* Reading is open to everyone. */
  g_assert_cmpint (run (&out, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "busctl", "--user", "get-property", BUS_NAME, PATH,
                        "org.moipgw.Gateway1", "ActiveSessions", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  /* Users' addresses: in no property, and the two methods that name
   * them are refused. */
  tcp = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7b"));
  wait_active (f, 1);
  g_assert_cmpint (run (&out, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path", PATH,
                        "--method", "org.freedesktop.DBus.ObjectManager.GetManagedObjects", NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, "/org/moipgw/Gateway1/sessions/0"));
  g_assert_null (strstr (out, "127.0.0.1"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path", PATH,
                        "--method", "org.moipgw.Gateway1.ListBans", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.AccessDenied"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path", PATH,
                        "--method", "org.moipgw.Gateway1.ListPeers", "@au []", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.AccessDenied"));
  g_assert_null (strstr (out, "127.0.0.1"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path", PATH,
                        "--method", "org.moipgw.Gateway1.Ban", "203.0.113.10", "0", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.AccessDenied"));
  g_clear_pointer (&out, g_free);
  {
    static const char *const calls[][4] = {
      { PATH, "org.moipgw.Gateway1.Message", "NOT FOR YOU", "" },
      { PATH, "org.moipgw.Gateway1.Drain", "0", "" },
      { PATH, "org.moipgw.Gateway1.Resume" },
      { PATH "/sessions/0", "org.moipgw.Gateway1.Session.Message", "NOT FOR YOU" },
      { PATH "/sessions/0", "org.moipgw.Gateway1.Session.Watch" },
      { PATH "/sessions/0", "org.moipgw.Gateway1.Session.Unwatch" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (calls); i++)
      {
        g_clear_pointer (&out, g_free);
        g_assert_cmpint (run (&out, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                              "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                              calls[i][0], "--method", calls[i][1], calls[i][2], calls[i][3], NULL),
                         !=, 0);
        if (strstr (out, "org.freedesktop.DBus.Error.AccessDenied") == NULL)
          g_error ("%s as nobody: %s", calls[i][1], out);
      }
    g_assert_false (mgw_test_bytes_contain (tcp->received, S ("NOT FOR YOU")));
    g_assert_false (mgw_dbus_gateway_get_draining (f->gateway));
  }
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "busctl", "--user", "call", BUS_NAME, PATH, "org.moipgw.Gateway1",
                        "Reload", NULL), !=, 0);
  /* busctl names the error, not its message. */
  if (strstr (out, "Access denied") == NULL)
    g_error ("busctl said: %s", out);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH "/sessions/0", "--method",
                        "org.moipgw.Gateway1.Session.StartRecording", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.AccessDenied"));
  g_assert_cmpuint (mgw_dbus_gateway_get_ban_list_size (f->gateway), ==, 0);
}

/* The wss:// listener's certificate as an applet sees it: its subject
 * and expiry; a reload with a key that is not the certificate's keeps it
 * and says why, in the property and in `moipgwctl status`. Without the
 * listener (the other tests' fixture) they are empty. */
static void
test_tls_certificate (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *other = g_build_filename (f->certs, "other.key", NULL);
  g_autofree char *live_key = g_build_filename (f->certs, "live.key", NULL);
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time ();

  g_assert_cmpstr (mgw_dbus_gateway_get_tls_certificate_subject (f->gateway), ==,
                   "CN=moipgw-test server");
  g_assert_cmpint (mgw_dbus_gateway_get_tls_certificate_not_after (f->gateway), >, now);
  g_assert_cmpstr (mgw_dbus_gateway_get_tls_certificate_problem (f->gateway), ==, "");
  {
    const char * const *listen = mgw_dbus_gateway_get_listen_addresses (f->gateway);
    gboolean found = FALSE;

    for (guint i = 0; listen[i] != NULL; i++)
      found |= g_str_has_prefix (listen[i], "websocket-tls:") &&
               g_str_has_suffix (listen[i], "@127.0.0.1");
    g_assert_true (found);
  }
  g_assert_cmpint (run (&out, "busctl", "--user", "get-property", BUS_NAME, PATH,
                        "org.moipgw.Gateway1", "TlsCertificateSubject", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "s \"CN=moipgw-test server\"\n");
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (g_unlink (live_key), ==, 0);
  g_assert_cmpint (link (other, live_key), ==, 0);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME,
                        "--object-path", PATH, "--method", "org.moipgw.Gateway1.Reload",
                        NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "busctl", "--user", "get-property", BUS_NAME, PATH,
                        "org.moipgw.Gateway1", "TlsCertificateProblem", NULL), ==, 0);
  g_test_message ("problem: %s", out);
  g_assert_nonnull (strstr (out, "live.key: the key is not the certificate"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (&out, g_getenv ("MOIPGWCTL"), "--session-bus", "status", NULL), ==, 0);
  g_test_message ("%s", out);
  if (!g_regex_match_simple ("^TLS certificate: +CN=moipgw-test server$", out,
                             G_REGEX_MULTILINE, 0) ||
      !g_regex_match_simple ("^TLS certificate not reloaded: +.*not the certificate's", out,
                             G_REGEX_MULTILINE, 0) ||
      !g_regex_match_simple ("^TLS certificate valid until: +2[0-9]{3}-", out,
                             G_REGEX_MULTILINE, 0))
    g_error ("moipgwctl status:\n%s", out);
  (void) error;
}

static gboolean
scanner_counted (gpointer data)
{
  return mgw_dbus_gateway_get_scanners (data) == 1;
}

/* A port scanner on the Telnet port: counted in Scanners (127.0.0.1 is
 * never banned); the other refusal counters are there, at zero. */
static void
test_scanner_counted (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);

  mgw_test_tcp_send (tcp, S ("SSH-2.0-libssh_0.9.6\r\n"));
  mgw_test_tcp_wait_closed (tcp);
  mgw_test_wait_until (scanner_counted, f->gateway, MGW_TEST_TIMEOUT_MS, "Scanners");
  g_assert_cmpuint (mgw_dbus_gateway_get_refused_rate (f->gateway), ==, 0);
  g_assert_cmpuint (mgw_dbus_gateway_get_refused_pending (f->gateway), ==, 0);
}

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"

/* A Telnet user on the demo, its page in. */
static MgwTestTcp *
open_user (Fixture *f)
{
  MgwTestTcp *tcp = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);

  mgw_test_tcp_wait_for (tcp, S ("\x1b\x39\x7b"));
  return tcp;
}

/* Message on a session and on the gateway, with gdbus and busctl as an
 * operator: the users' status lines, the count, a target no session is
 * redirected to, and the texts refused with InvalidArgs and why. */
static void
test_message (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) one = NULL;
  g_autoptr(MgwTestTcp) two = NULL;
  g_autofree char *out = NULL;
  g_autofree char *too_long = g_strnfill (201, 'x');
  static const struct { const char *text; const char *why; } refused[] = {
    { "", "The message is empty" },
    { "a\tb", "The message holds a control character (U+0009)" },
    { "a\x7f" "b", "The message holds a control character (U+007F)" },
  };

  one = open_user (f);
  two = open_user (f);
  wait_active (f, 2);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH "/sessions/0", "--method", "org.moipgw.Gateway1.Session.Message",
                        "Fermeture \xc3\xa0 22 h", NULL), ==, 0);
  mgw_test_tcp_wait_for (one, S (STATUS ("Fermeture \x19\x41" "a 22 h")));
  g_assert_false (mgw_test_bytes_contain (two->received, S ("Fermeture")));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "busctl", "--user", "call", BUS_NAME, PATH, "org.moipgw.Gateway1",
                        "Message", "ss", "EVERYONE", "", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "u 2\n");
  mgw_test_tcp_wait_for (one, S (STATUS ("EVERYONE")));
  mgw_test_tcp_wait_for (two, S (STATUS ("EVERYONE")));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "busctl", "--user", "call", BUS_NAME, PATH, "org.moipgw.Gateway1",
                        "Message", "ss", "NOBODY", "ws://nowhere.example/", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "u 0\n");

  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_clear_pointer (&out, g_free);
      g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                            PATH, "--method", "org.moipgw.Gateway1.Message", refused[i].text, "",
                            NULL), !=, 0);
      g_test_message ("%s", out);
      g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.InvalidArgs"));
      g_assert_nonnull (strstr (out, refused[i].why));
    }
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH "/sessions/1", "--method", "org.moipgw.Gateway1.Session.Message",
                        too_long, NULL), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.InvalidArgs"));
  g_assert_nonnull (strstr (out, "The message is 201 bytes long, more than 200"));
  g_assert_false (mgw_test_bytes_contain (two->received, S ("xxxx")));
}

typedef struct
{
  Fixture  *f;
  gboolean  draining;
} DrainWait;

static gboolean
draining_is (gpointer data)
{
  DrainWait *w = data;

  return mgw_dbus_gateway_get_draining (w->f->gateway) == w->draining &&
         (mgw_dbus_gateway_get_drain_deadline (w->f->gateway) != 0) == w->draining;
}

static gboolean
refused_draining_counted (gpointer data)
{
  return mgw_dbus_gateway_get_refused_draining (data) == 1;
}

/* Drain(1, "") with gdbus: the open user told and, a second later,
 * ended; a new one refused and counted; Draining and DrainDeadline
 * follow; a bad text refused; Resume admits again. */
static void
test_drain (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) open = NULL;
  g_autoptr(MgwTestTcp) refused = NULL;
  g_autoptr(MgwTestTcp) later = NULL;
  g_autofree char *out = NULL;
  DrainWait w = { f, TRUE };
  gint64 before = g_get_real_time ();

  open = open_user (f);
  g_assert_false (mgw_dbus_gateway_get_draining (f->gateway));
  g_assert_cmpint (mgw_dbus_gateway_get_drain_deadline (f->gateway), ==, 0);
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH, "--method", "org.moipgw.Gateway1.Drain", "7", "a\x01", NULL), !=, 0);
  g_assert_nonnull (strstr (out, "org.freedesktop.DBus.Error.InvalidArgs"));
  g_assert_false (mgw_dbus_gateway_get_draining (f->gateway));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH, "--method", "org.moipgw.Gateway1.Drain", "1", "", NULL), ==, 0);
  mgw_test_tcp_wait_for (open, S (STATUS ("SERVICE CLOSING IN 1 S")));
  mgw_test_wait_until (draining_is, &w, MGW_TEST_TIMEOUT_MS, "Draining");
  g_assert_cmpint (mgw_dbus_gateway_get_drain_deadline (f->gateway), >=, before + G_USEC_PER_SEC);
  refused = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  mgw_test_tcp_wait_for (refused, S (STATUS ("SERVICE CLOSING, RETRY LATER")));
  mgw_test_tcp_wait_closed (refused);
  mgw_test_tcp_wait_for (open, S (STATUS ("SERVICE CLOSED")));
  mgw_test_tcp_wait_closed (open);
  wait_active (f, 0);
  mgw_test_wait_until (refused_draining_counted, f->gateway, MGW_TEST_TIMEOUT_MS, "RefusedDraining");
  g_assert_true (mgw_dbus_gateway_get_draining (f->gateway));

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, "busctl", "--user", "call", BUS_NAME, PATH, "org.moipgw.Gateway1",
                        "Resume", NULL), ==, 0);
  w.draining = FALSE;
  mgw_test_wait_until (draining_is, &w, MGW_TEST_TIMEOUT_MS, "Draining false");
  later = open_user (f);
  g_assert_true (mgw_test_bytes_contain (later->received, S (STATUS ("CONNECT"))));
}

/* A connection of its own to the test bus and what ScreenOutput brought it. */
typedef struct
{
  GDBusConnection *connection;
  guint            subscription;
  GByteArray      *screen;
  guint            signals;
  guint64          dropped;
  gsize            longest;   /* the most bytes one signal brought */
  gint64           first_dropped;  /* the first signal's count; -1 before it */
  const char      *path;      /* the session watched */
} Viewer;

static void
screen_output_cb (GDBusConnection *connection,
                  const char      *sender,
                  const char      *path,
                  const char      *interface,
                  const char      *member,
                  GVariant        *parameters,
                  gpointer         user_data)
{
  Viewer *v = user_data;
  g_autoptr(GVariant) bytes = NULL;
  guint32 dropped;
  gsize len;
  const guint8 *data;

  g_assert_cmpstr (path, ==, PATH "/sessions/0");
  g_variant_get (parameters, "(@ayu)", &bytes, &dropped);
  data = g_variant_get_fixed_array (bytes, &len, 1);
  g_byte_array_append (v->screen, data, len);
  if (v->signals++ == 0)
    v->first_dropped = dropped;
  v->dropped += dropped;
  v->longest = MAX (v->longest, len);
}

static Viewer *
viewer_new (Fixture *f)
{
  Viewer *v = g_new0 (Viewer, 1);
  g_autoptr(GError) error = NULL;

  v->connection = g_dbus_connection_new_for_address_sync (f->address,
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);
  v->screen = g_byte_array_new ();
  v->first_dropped = -1;
  v->subscription = g_dbus_connection_signal_subscribe (v->connection, NULL,
                                                        "org.moipgw.Gateway1.Session",
                                                        "ScreenOutput", NULL, NULL,
                                                        G_DBUS_SIGNAL_FLAGS_NONE, screen_output_cb,
                                                        v, NULL);
  return v;
}

static void
viewer_call (Viewer *v, const char *method)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
    g_dbus_connection_call_sync (v->connection, BUS_NAME, PATH "/sessions/0",
                                 "org.moipgw.Gateway1.Session", method, NULL, NULL,
                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

  g_assert_no_error (error);
}

/* Leaves the bus without a word. */
static void
viewer_free (Viewer *v)
{
  if (v->connection != NULL)
    {
      g_dbus_connection_signal_unsubscribe (v->connection, v->subscription);
      g_dbus_connection_close_sync (v->connection, NULL, NULL);
      g_object_unref (v->connection);
    }
  g_byte_array_unref (v->screen);
  g_free (v);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Viewer, viewer_free)

typedef struct
{
  MgwDBusSession *session;
  gboolean        watched;
} WatchedWait;

static gboolean
watched_is (gpointer data)
{
  WatchedWait *w = data;

  return mgw_dbus_session_get_watched (w->session) == w->watched;
}

static void
wait_watched (MgwDBusSession *session, gboolean watched)
{
  WatchedWait w = { session, watched };

  mgw_test_wait_until (watched_is, &w, MGW_TEST_TIMEOUT_MS, watched ? "Watched" : "not Watched");
}

/* Watch from two connections of their own: both get the user's screen
 * (the demo's echo, an operator's message) in ScreenOutput, a third
 * connection listening for the signal gets nothing (sent to the watchers
 * alone); one Unwatch leaves the other watching; the last watcher
 * leaving the bus without Unwatch is forgotten: Watched goes false. */
static void
test_watch (Fixture *f, gconstpointer data)
{
  g_autofree char *uri = g_strdup_printf ("ws://127.0.0.1:%u/", f->ws_port);
  g_autoptr(MgwTestWs) user = NULL;
  g_autoptr(Viewer) first = NULL;
  g_autoptr(Viewer) second = NULL;
  g_autoptr(Viewer) stranger = NULL;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  /* WebSocket: its first keys reach the demo (Telnet's first second
   * drops them: the anti-garbage rule). */
  user = mgw_test_ws_connect (uri, NULL);
  mgw_test_ws_wait_for (user, S ("\x1b\x39\x7b"));
  session = mgw_dbus_session_proxy_new_sync (f->connection, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME,
                                             PATH "/sessions/0", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mgw_dbus_session_get_watched (session));
  first = viewer_new (f);
  second = viewer_new (f);
  stranger = viewer_new (f);
  viewer_call (first, "Watch");
  viewer_call (first, "Watch");   /* again: no second watcher */
  viewer_call (second, "Watch");
  wait_watched (session, TRUE);

  mgw_test_ws_send (user, SOUP_WEBSOCKET_DATA_TEXT, S ("Z"));
  mgw_test_ws_wait_for (user, S ("\x1b\x39\x7bZ"));
  mgw_test_bytes_wait (first->screen, S ("Z"), "the first watcher's screen");
  mgw_test_bytes_wait (second->screen, S ("Z"), "the second watcher's screen");
  g_assert_cmpint (run (&out, "gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path",
                        PATH "/sessions/0", "--method", "org.moipgw.Gateway1.Session.Message",
                        "WATCHED", NULL), ==, 0);
  mgw_test_bytes_wait (first->screen, S (STATUS ("WATCHED")), "the message, watched");
  mgw_test_bytes_wait (second->screen, S (STATUS ("WATCHED")), "the message, watched");
  /* Once, in order: what the user got since the Watch, nothing twice. */
  g_assert_cmpmem (first->screen->data, first->screen->len,
                   second->screen->data, second->screen->len);
  g_assert_cmpuint (first->dropped, ==, 0);

  /* One stops, the other goes on. */
  viewer_call (first, "Unwatch");
  mgw_test_run_for (200);
  g_byte_array_set_size (first->screen, 0);
  mgw_test_ws_send (user, SOUP_WEBSOCKET_DATA_TEXT, S ("Y"));
  mgw_test_bytes_wait (second->screen, S ("Y"), "the second watcher, alone");
  mgw_test_run_for (300);
  g_assert_cmpuint (first->screen->len, ==, 0);
  g_assert_true (mgw_dbus_session_get_watched (session));
  /* Never to a connection that did not watch. */
  g_assert_cmpuint (stranger->signals, ==, 0);
  g_assert_cmpuint (stranger->screen->len, ==, 0);

  /* The last watcher leaves the bus without Unwatch: forgotten. */
  g_clear_pointer (&second, viewer_free);
  wait_watched (session, FALSE);
}

typedef struct
{
  Viewer *viewer;
  gsize   total;
} AccountWait;

static gboolean
all_accounted (gpointer data)
{
  AccountWait *w = data;

  return w->viewer->screen->len + w->viewer->dropped >= w->total;
}

/* A bounded buffer: 180 KiB sent to a user (a WebSocket user, whose
 * typing no rule limits, echoed by the demo) at once: no signal brings
 * more than 16 KiB, what does not fit is counted as dropped in the next
 * signal, and every byte the user got is either brought or counted. */
static void
test_watch_dropped (Fixture *f, gconstpointer data)
{
  g_autofree char *uri = g_strdup_printf ("ws://127.0.0.1:%u/", f->ws_port);
  g_autoptr(MgwTestWs) ws = NULL;
  g_autoptr(Viewer) viewer = NULL;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *chunk = g_strnfill (60 * 1024, 'x');
  g_autofree char *tail = g_strnfill (1024, 'x');
  AccountWait w;
  gsize base;

  ws = mgw_test_ws_connect (uri, NULL);
  mgw_test_ws_wait_for (ws, S ("\x1b\x39\x7b"));
  mgw_test_run_for (100);
  session = mgw_dbus_session_proxy_new_sync (f->connection, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME,
                                             PATH "/sessions/0", NULL, &error);
  g_assert_no_error (error);
  viewer = viewer_new (f);
  viewer_call (viewer, "Watch");
  wait_watched (session, TRUE);
  base = ws->received->len;
  for (guint i = 0; i < 3; i++)
    mgw_test_ws_send (ws, SOUP_WEBSOCKET_DATA_BINARY, chunk, strlen (chunk));
  /* All of it echoed: the last kilobyte of 'x' at the end. */
  while (ws->received->len < base + 3 * strlen (chunk))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpmem (ws->received->data + ws->received->len - strlen (tail), strlen (tail),
                   tail, strlen (tail));
  w = (AccountWait) { viewer, ws->received->len - base };
  mgw_test_wait_until (all_accounted, &w, MGW_TEST_TIMEOUT_MS, "every byte brought or counted");
  mgw_test_run_for (200);
  g_test_message ("%u signals, %u bytes, %" G_GUINT64_FORMAT " dropped, %" G_GSIZE_FORMAT " at most",
                  viewer->signals, viewer->screen->len, viewer->dropped, viewer->longest);
  g_assert_cmpuint (viewer->screen->len + viewer->dropped, ==, w.total);
  g_assert_cmpuint (viewer->longest, <=, 16 * 1024);
  g_assert_cmpuint (viewer->dropped, >, 0);
  /* Counted in the signal after the bytes they followed. */
  g_assert_cmpint (viewer->first_dropped, ==, 0);
  g_assert_cmpuint (viewer->signals, >=, 2);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, setup, func, teardown)

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  ADD ("/dbus/introspection", test_introspection);
  ADD ("/dbus/sessions", test_sessions);
  ADD ("/dbus/raw-session", test_raw_session);
  ADD ("/dbus/ban-and-disconnect", test_ban_and_disconnect);
  ADD ("/dbus/recording", test_recording);
  ADD ("/dbus/access-denied", test_access_denied);
  ADD ("/dbus/scanner-counted", test_scanner_counted);
  ADD ("/dbus/message", test_message);
  ADD ("/dbus/drain", test_drain);
  ADD ("/dbus/watch", test_watch);
  ADD ("/dbus/watch-dropped", test_watch_dropped);
  g_test_add ("/dbus/tls-certificate", Fixture, "wss", setup, test_tls_certificate, teardown);
  return g_test_run ();
}
