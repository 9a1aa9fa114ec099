/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tls.c: the wss:// listener, end to end, with a test CA made for
 * the run by openssl (tests/lib/make-certs.sh):
 *
 *   - python3-websockets over Python's ssl (OpenSSL) against moipgwd
 *     --demo: TLS 1.3, a client limited to TLS 1.2, IPv4 and IPv6, the
 *     certificate checked against the CA and the name;
 *   - a renewal: SIGHUP while a wss session stays up, the new
 *     certificate for new connections, a bad pair at reload keeping the
 *     old one;
 *   - bad pairs at start: exit status 2 and the reason;
 *   - handshakes that stall or are not TLS, bounded and counted (an
 *     in-process gateway, its counters read);
 *   - headless Chromium on an https page: wss:// to the gateway gets the
 *     demo page as text frames, ws:// from the same page is refused by
 *     the browser (mixed content) — why the listener exists. */
#include "config.h"

#include "mgw-gateway.h"
#include "mgw-link-ws.h"
#include "mgw-test-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#define S(lit) (const guint8 *) lit, sizeof lit - 1
#define PYTHON "/usr/bin/python3"
#define BROWSER_TIMEOUT_MS 40000

static char *certs;

static char *
cert (const char *name)
{
  return g_build_filename (certs, name, NULL);
}

/* --- wss-user.py --- */

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *out;
  GOutputStream    *in;
} User;

static void
user_free (User *u)
{
  /* Exited already (user_finish), or killed and reaped here. */
  if (g_subprocess_get_identifier (u->process) != NULL)
    {
      g_subprocess_force_exit (u->process);
      g_subprocess_wait (u->process, NULL, NULL);
    }
  g_clear_object (&u->out);
  g_clear_object (&u->process);
  g_free (u);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (User, user_free)

/* wss-user.py on uri; extra: "--tls12", "--hold" or NULL. */
static User *
user_spawn (const char *uri,
            const char *extra1,
            const char *extra2)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "lib", "wss-user.py", NULL);
  g_autofree char *ca = cert ("ca.pem");
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;
  User *u = g_new0 (User, 1);

  g_subprocess_launcher_set_child_setup (launcher, mgw_test_die_with_parent, NULL, NULL);
  u->process = g_subprocess_launcher_spawn (launcher, &error, PYTHON, script, uri, ca,
                                            extra1, extra2, NULL);
  g_assert_no_error (error);
  u->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (u->process));
  u->in = g_subprocess_get_stdin_pipe (u->process);
  return u;
}

/* The next line the user prints: it must start with `prefix`; what
 * follows is returned. The script bounds every step (10 s). */
static char *
user_expect (User       *u,
             const char *prefix)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line (u->out, NULL, NULL, &error);

  g_assert_no_error (error);
  if (line == NULL)
    g_error ("wss-user.py ended, '%s' expected", prefix);
  if (!g_str_has_prefix (line, prefix))
    g_error ("wss-user.py printed '%s', '%s' expected", line, prefix);
  return g_strdup (line + strlen (prefix));
}

static void
user_type (User       *u,
           const char *text)
{
  g_autofree char *line = g_strdup_printf ("%s\n", text);
  g_autofree char *echo = NULL;
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (u->in, line, strlen (line), NULL, NULL, &error);
  g_assert_no_error (error);
  echo = user_expect (u, "ECHO ");
  g_assert_cmpstr (echo, ==, text);
}

static void
user_finish (User *u)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_close (u->in, NULL, NULL);
  g_subprocess_wait (u->process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (u->process));
  g_assert_cmpint (g_subprocess_get_exit_status (u->process), ==, 0);
}

/* A whole session over wss: the version, the certificate's subject and
 * the demo page; returns the subject. */
static char *
user_session (const char *uri,
              const char *extra,
              const char *version)
{
  g_autoptr(User) u = user_spawn (uri, extra, NULL);
  g_autofree char *got = user_expect (u, "VERSION ");
  char *subject;

  g_assert_cmpstr (got, ==, version);
  subject = user_expect (u, "SUBJECT ");
  g_free (user_expect (u, "PAGE"));
  g_free (user_expect (u, "ECHO k"));
  user_finish (u);
  return subject;
}

static MgwTestDaemon *
spawn_wss (const char *certificate,
           const char *key,
           const char *address2)
{
  g_autofree char *state = mgw_test_tmp_dir ();

  return mgw_test_daemon_spawn ("--no-dbus", "--demo", "--tcp", "off", "--ws", "off",
                                "--wss", "0", "--state-dir", state,
                                "--tls-certificate", certificate, "--tls-key", key,
                                "-i", "127.0.0.1", address2 ? "-i" : NULL, address2, NULL);
}

static gboolean
ipv6_loopback (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) any = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (any, 0);

  return socket != NULL && g_socket_bind (socket, address, FALSE, NULL);
}

/* TLS 1.3 and a client limited to TLS 1.2 (ESP32 cores), on IPv4 and
 * IPv6, the certificate verified by the client (CA and name). */
static void
test_websockets (void)
{
  g_autofree char *chain = cert ("server-chain.pem");
  g_autofree char *key = cert ("server.key");
  gboolean v6 = ipv6_loopback ();
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *uri6 = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *subject12 = NULL;
  guint16 port;

  if (!mgw_test_require_program (PYTHON, "python3-websockets"))
    return;
  d = spawn_wss (chain, key, v6 ? "::1" : NULL);
  port = mgw_test_daemon_port (d, "WebSocket TLS");
  g_assert_null (strstr (d->err->str, "listening for Telnet"));
  g_assert_nonnull (strstr (d->err->str, "TLS certificate: CN=moipgw-test server, valid until"));
  g_assert_nonnull (strstr (d->err->str, "2 certificates in the chain"));

  uri = g_strdup_printf ("wss://localhost:%u/", port);
  subject = user_session (uri, NULL, "TLSv1.3");
  g_assert_cmpstr (subject, ==, "moipgw-test server");
  subject12 = user_session (uri, "--tls12", "TLSv1.2");
  g_assert_cmpstr (subject12, ==, "moipgw-test server");
  if (v6)
    {
      g_autofree char *s6 = NULL;

      uri6 = g_strdup_printf ("wss://[::1]:%u/", port);
      s6 = user_session (uri6, NULL, "TLSv1.3");
      g_assert_cmpstr (s6, ==, "moipgw-test server");
    }
  else
    g_test_message ("no IPv6 loopback here: IPv4 only");
}

static void
copy_file (const char *from_name,
           const char *to)
{
  g_autofree char *from = cert (from_name);
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (from, &data, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents_full (to, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
  g_assert_no_error (error);
}

static void
wait_output (MgwTestDaemon *d,
             const char    *needle)
{
  MgwTestOutputWait w = { d, needle };

  mgw_test_wait_until (mgw_test_daemon_output_has, &w, MGW_TEST_TIMEOUT_MS, needle);
  g_assert_nonnull (strstr (d->err->str, needle));
}

/* Renewal without dropping anyone: the files replaced, SIGHUP; new
 * connections get the new certificate, the session opened before goes
 * on. A bad pair at reload is refused in one line and the one in force
 * stays. */
static void
test_reload (void)
{
  g_autofree char *dir = mgw_test_tmp_dir ();
  g_autofree char *live_cert = g_build_filename (dir, "live.pem", NULL);
  g_autofree char *live_key = g_build_filename (dir, "live.key", NULL);
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autoptr(User) held = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *renewed = NULL;
  g_autofree char *kept = NULL;
  const char *refused;

  if (!mgw_test_require_program (PYTHON, "python3-websockets"))
    return;
  copy_file ("server.pem", live_cert);
  copy_file ("server.key", live_key);
  d = spawn_wss (live_cert, live_key, NULL);
  uri = g_strdup_printf ("wss://127.0.0.1:%u/", mgw_test_daemon_port (d, "WebSocket TLS"));

  held = user_spawn (uri, "--hold", NULL);
  g_free (user_expect (held, "VERSION "));
  subject = user_expect (held, "SUBJECT ");
  g_assert_cmpstr (subject, ==, "moipgw-test server");
  g_free (user_expect (held, "PAGE"));
  user_type (held, "a");

  copy_file ("renewed.pem", live_cert);
  copy_file ("renewed.key", live_key);
  g_subprocess_send_signal (d->process, SIGHUP);
  wait_output (d, "TLS certificate reloaded: CN=moipgw-test renewed, valid until");
  renewed = user_session (uri, NULL, "TLSv1.3");
  g_assert_cmpstr (renewed, ==, "moipgw-test renewed");
  user_type (held, "b");

  /* The key of another certificate: refused, the renewed one stays. */
  copy_file ("server.key", live_key);
  g_subprocess_send_signal (d->process, SIGHUP);
  wait_output (d, "TLS certificate not reloaded, the one in force stays");
  refused = strstr (d->err->str, "TLS certificate not reloaded");
  g_assert_nonnull (strstr (refused, "(CN=moipgw-test renewed)"));
  g_assert_nonnull (strstr (refused, "the key is not the certificate's"));
  kept = user_session (uri, NULL, "TLSv1.3");
  g_assert_cmpstr (kept, ==, "moipgw-test renewed");
  user_type (held, "c");
  user_finish (held);
}

/* A pair that cannot serve, at start: exit status 2, the reason said. */
static void
test_bad_pair_at_start (void)
{
  static const struct { const char *cert, *key, *reason; } cases[] = {
    { "server.pem", "other.key", "the key is not the certificate's" },
    { "expired.pem", "expired.key", "the certificate expired on 2020-01-31" },
    { "future.pem", "future.key", "the certificate is not valid before 2090-01-01" },
    { "server.pem", "encrypted.key", "the key is encrypted" },
    { "server.pem", "missing.key", "missing.key" },
    { "server.key", "server.key", "No PEM-encoded certificate" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *c = cert (cases[i].cert);
      g_autofree char *k = cert (cases[i].key);
      g_autoptr(MgwTestDaemon) d = spawn_wss (c, k, NULL);

      mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
      g_test_message ("%s + %s: %s", cases[i].cert, cases[i].key, d->err->str);
      g_assert_true (g_subprocess_get_if_exited (d->process));
      g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 2);
      g_assert_nonnull (strstr (d->err->str, cases[i].reason));
      g_assert_null (strstr (d->err->str, "listening for WebSocket TLS"));
    }

  /* A listener without a certificate, a certificate without a key. */
  {
    g_autoptr(MgwTestDaemon) d = mgw_test_daemon_spawn ("--no-dbus", "--demo", "--wss", "0",
                                                        NULL);
    g_autofree char *c = cert ("server.pem");
    g_autoptr(MgwTestDaemon) e = NULL;

    mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
    g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 2);
    g_assert_nonnull (strstr (d->err->str, "websocket-tls-port needs [tls] certificate"));
    e = mgw_test_daemon_spawn ("--no-dbus", "--demo", "--wss", "0", "--tls-certificate", c,
                               NULL);
    mgw_test_daemon_wait_exit (e, MGW_TEST_TIMEOUT_MS);
    g_assert_cmpint (g_subprocess_get_exit_status (e->process), ==, 2);
    g_assert_nonnull (strstr (e->err->str, "[tls] certificate is set but not [tls] key"));
  }
}

/* Clients that connect and say nothing wait in the poller, not in GIO's
 * workers: hundreds of them do not keep a real user from his handshake
 * (before, 100 made it time out). From one address, beyond
 * [tls] max-handshakes-per-address, connections are closed at once. */
static void
test_silent_clients (void)
{
  g_autofree char *chain = cert ("server-chain.pem");
  g_autofree char *key = cert ("server.key");
  g_autofree char *dir = mgw_test_tmp_dir ();
  g_autofree char *conf = g_build_filename (dir, "moipgw.conf", NULL);
  g_autofree char *state = mgw_test_tmp_dir ();
  g_autoptr(GPtrArray) silent = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_tcp_free);
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autoptr(MgwTestTcp) refused = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *subject = NULL;
  guint16 port;

  if (!mgw_test_require_program (PYTHON, "python3-websockets"))
    return;
  /* The TLS cap alone: not the one on every connection before its
   * session, which would stop them first. */
  g_assert_true (g_file_set_contents (conf, "[tls]\nmax-handshakes-per-address=301\n"
                                      "[session]\nmax-pending-per-address=0\n", -1, NULL));
  /* The refusal is an info line. */
  g_setenv ("G_MESSAGES_DEBUG", "moipgw", TRUE);
  d = mgw_test_daemon_spawn ("--config", conf, "--no-dbus", "--demo", "--tcp", "off", "--ws",
                             "off", "--wss", "0", "--state-dir", state, "--tls-certificate",
                             chain, "--tls-key", key, "-i", "127.0.0.1", NULL);
  g_unsetenv ("G_MESSAGES_DEBUG");
  port = mgw_test_daemon_port (d, "WebSocket TLS");
  for (guint i = 0; i < 300; i++)
    g_ptr_array_add (silent, mgw_test_tcp_connect ("127.0.0.1", port));
  uri = g_strdup_printf ("wss://127.0.0.1:%u/", port);
  subject = user_session (uri, NULL, "TLSv1.3");
  g_assert_cmpstr (subject, ==, "moipgw-test server");

  /* 300 silent and the cap at 301: one more under way is one too many. */
  g_ptr_array_add (silent, mgw_test_tcp_connect ("127.0.0.1", port));
  refused = mgw_test_tcp_connect ("127.0.0.1", port);
  mgw_test_tcp_wait_closed (refused);
  wait_output (d, "refused: 301 under way from that address already");
}

/* An address in neverbanned.json has no cap on its handshakes. */
static void
test_never_banned_uncapped (void)
{
  g_autofree char *chain = cert ("server-chain.pem");
  g_autofree char *key = cert ("server.key");
  g_autofree char *dir = mgw_test_tmp_dir ();
  g_autofree char *conf = g_build_filename (dir, "moipgw.conf", NULL);
  g_autofree char *never = g_build_filename (dir, "neverbanned.json", NULL);
  g_autofree char *state = mgw_test_tmp_dir ();
  g_autoptr(GPtrArray) silent = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_tcp_free);
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *subject = NULL;
  guint16 port;

  if (!mgw_test_require_program (PYTHON, "python3-websockets"))
    return;
  g_assert_true (g_file_set_contents (conf, "[tls]\nmax-handshakes-per-address=2\n", -1, NULL));
  g_assert_true (g_file_set_contents (never, "{\"127.0.0.1\": \"this machine\"}", -1, NULL));
  d = mgw_test_daemon_spawn ("--config", conf, "-g", dir, "--no-dbus", "--demo", "--tcp", "off",
                             "--ws", "off", "--wss", "0", "--state-dir", state,
                             "--tls-certificate", chain, "--tls-key", key, "-i", "127.0.0.1",
                             NULL);
  port = mgw_test_daemon_port (d, "WebSocket TLS");
  for (guint i = 0; i < 5; i++)
    g_ptr_array_add (silent, mgw_test_tcp_connect ("127.0.0.1", port));
  uri = g_strdup_printf ("wss://127.0.0.1:%u/", port);
  subject = user_session (uri, NULL, "TLSv1.3");
  g_assert_cmpstr (subject, ==, "moipgw-test server");
}

/* --- handshakes that do not finish, in process --- */

static gboolean
handshakes_ended (gpointer data)
{
  return mgw_tls_handshakes_get_pending (mgw_gateway_get_tls_handshakes (data)) == 0;
}

/* A client that sends nothing is closed after the connect timeout; one
 * that speaks plain HTTP fails its handshake at once; each is counted,
 * none becomes a session, and a real client is served meanwhile. */
static void
test_handshake_bounded (void)
{
  g_autoptr(MgwTestServer) server = mgw_test_server_new (TRUE, NULL);
  g_autoptr(MgwConfig) config = mgw_test_config_new (server->uri);
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(MgwTestTcp) silent = NULL;
  g_autoptr(MgwTestTcp) plain = NULL;
  MgwTlsHandshakes *h;
  guint16 port;
  gint64 begin;

  config->ws_port = MGW_PORT_OFF;
  config->ws_tls_port = 0;
  config->connect_timeout = 1;
  config->tls_certificate = cert ("server.pem");
  config->tls_key = cert ("server.key");
  gateway = mgw_test_gateway_new (config);
  h = mgw_gateway_get_tls_handshakes (gateway);
  port = mgw_gateway_get_ws_tls_port (gateway);
  g_assert_cmpuint (port, >, 0);
  g_assert_nonnull (mgw_gateway_get_tls_identity (gateway));

  begin = g_get_monotonic_time ();
  silent = mgw_test_tcp_connect ("127.0.0.1", port);
  plain = mgw_test_tcp_connect ("127.0.0.1", port);
  mgw_test_tcp_send (plain, S ("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  mgw_test_tcp_wait_closed (plain);
  g_assert_cmpuint (mgw_tls_handshakes_get_failed (h), ==, 1);
  g_assert_cmpuint (mgw_tls_handshakes_get_timed_out (h), ==, 0);
  mgw_test_tcp_wait_closed (silent);
  g_assert_cmpint (g_get_monotonic_time () - begin, >=, 900 * 1000);
  mgw_test_wait_until (handshakes_ended, gateway, MGW_TEST_TIMEOUT_MS, "the handshakes to end");
  g_assert_cmpuint (mgw_tls_handshakes_get_timed_out (h), ==, 1);
  g_assert_cmpuint (mgw_tls_handshakes_get_done (h), ==, 0);
  g_assert_cmpuint (mgw_gateway_get_n_sessions (gateway), ==, 0);
  mgw_gateway_stop (gateway, NULL);
}

/* A handshake under way is a connection not yet a session: with
 * [session] max-pending-per-address below [tls] max-handshakes-per-address,
 * the first cap closes the third at accept; the two count no more once
 * their handshakes end, whichever way. */
static void
test_handshakes_pending (void)
{
  g_autoptr(MgwTestServer) server = mgw_test_server_new (TRUE, NULL);
  g_autoptr(MgwConfig) config = mgw_test_config_new (server->uri);
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(MgwTestTcp) silent1 = NULL;
  g_autoptr(MgwTestTcp) silent2 = NULL;
  g_autoptr(MgwTestTcp) third = NULL;
  g_autoptr(MgwTestTcp) later = NULL;
  guint16 port;

  config->ws_port = MGW_PORT_OFF;
  config->ws_tls_port = 0;
  config->connect_timeout = 1;
  config->max_pending_per_address = 2;
  config->tls_certificate = cert ("server.pem");
  config->tls_key = cert ("server.key");
  gateway = mgw_test_gateway_new (config);
  port = mgw_gateway_get_ws_tls_port (gateway);

  silent1 = mgw_test_tcp_connect ("127.0.0.1", port);
  silent2 = mgw_test_tcp_connect ("127.0.0.1", port);
  mgw_test_run_for (100);
  third = mgw_test_tcp_connect ("127.0.0.1", port);
  mgw_test_tcp_wait_closed (third);
  g_assert_cmpuint (mgw_gateway_get_counters (gateway)->refused_pending, ==, 1);
  g_assert_cmpuint (mgw_tls_handshakes_get_failed (mgw_gateway_get_tls_handshakes (gateway)), ==, 0);
  mgw_test_tcp_wait_closed (silent1);
  mgw_test_tcp_wait_closed (silent2);
  mgw_test_wait_until (handshakes_ended, gateway, MGW_TEST_TIMEOUT_MS, "the handshakes to end");
  later = mgw_test_tcp_connect ("127.0.0.1", port);
  mgw_test_run_for (100);
  g_assert_false (later->closed);
  g_assert_cmpuint (mgw_tls_handshakes_get_pending (mgw_gateway_get_tls_handshakes (gateway)), ==, 1);
  g_assert_cmpuint (mgw_gateway_get_counters (gateway)->refused_pending, ==, 1);
  mgw_gateway_stop (gateway, NULL);
}

/* --- the gateway as a wss:// client --- */

typedef struct
{
  gboolean opened;
  gboolean closed;
} LinkEnd;

static void
link_opened_cb (MgwLink *link,
                LinkEnd *e)
{
  e->opened = TRUE;
}

static void
link_closed_cb (MgwLink      *link,
                const GError *error,
                LinkEnd      *e)
{
  e->closed = TRUE;
}

static gboolean
link_ended (gpointer data)
{
  LinkEnd *e = data;

  return e->opened || e->closed;
}

/* A wss:// link to a server showing `name`'s certificate (database NULL:
 * the system's CAs); TRUE when it opened. */
static gboolean
connect_upstream (GTlsDatabase *database,
                  const char   *name)
{
  g_autofree char *pem = g_strdup_printf ("%s/%s.pem", certs, name);
  g_autofree char *key = g_strdup_printf ("%s/%s.key", certs, name);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = g_tls_certificate_new_from_files (pem, key, &error);
  g_autoptr(MgwTestServer) server = NULL;
  g_autoptr(MgwLink) link = NULL;
  LinkEnd e = { FALSE, FALSE };

  g_assert_no_error (error);
  server = mgw_test_server_new_tls (TRUE, "PAGE", certificate);
  link = mgw_link_ws_connect (database, server->uri, NULL, MGW_FRAME_TEXT, 5000, &error);
  g_assert_no_error (error);
  g_signal_connect (link, "opened", G_CALLBACK (link_opened_cb), &e);
  g_signal_connect (link, "closed", G_CALLBACK (link_closed_cb), &e);
  mgw_test_wait_until (link_ended, &e, MGW_TEST_TIMEOUT_MS, "the wss:// link to open or close");
  g_test_message ("%s: %s", name, e.opened ? "opened" : "closed");
  if (e.opened)
    {
      g_autoptr(GIOStream) tls = NULL;

      g_object_get (mgw_link_get_stream (link), "base-io-stream", &tls, NULL);
      g_assert_true (G_IS_TLS_CLIENT_CONNECTION (tls));
      /* The trusted list stays the shared database's, not copied in. */
      g_assert_null (g_tls_connection_get_database (G_TLS_CONNECTION (tls)));
      mgw_link_close (link, FALSE);
    }
  g_signal_handlers_disconnect_by_data (link, &e);
  return e.opened;
}

/* The servers the gateway opens wss:// to are verified against [tls]
 * ca-file (or the system's CAs), their name too, with no copy of the
 * trusted list in each connection. */
static void
test_upstream_verify (void)
{
  g_autofree char *ca = cert ("ca.pem");
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsDatabase) database = g_tls_file_database_new (ca, &error);

  g_assert_no_error (error);
  g_assert_true (connect_upstream (database, "server"));
  g_assert_false (connect_upstream (database, "wrongname"));
  g_assert_false (connect_upstream (database, "expired"));
  g_assert_false (connect_upstream (NULL, "server"));
}

/* --- headless Chromium on an https page --- */

/* Served as /page.html?wss=PORT&ws=PORT from https://gateway.test:N/
 * (Chromium maps the name to 127.0.0.1: on an IP literal of loopback the
 * browser would not apply its mixed-content rule). */
static const char browser_page[] =
  "<!doctype html>\n"
  "<html><head><meta charset=\"utf-8\"><title>moipgw wss</title></head><body>\n"
  "<script>\n"
  "\"use strict\";\n"
  "const q = new URLSearchParams(location.search);\n"
  "/* The demo page, METEO typed in echo and Envoi: the second service;\n"
  " * Connexion/Fin back to the first. */\n"
  "function session(uri) {\n"
  "  return new Promise((resolve, reject) => {\n"
  "    const ws = new WebSocket(uri);\n"
  "    const steps = [\n"
  "      [\"service de d\", \"METEO\\u0013A\"],\n"
  "      [\"Paris : ensoleill\", \"\\u0013I\"], [\"service de d\", null]];\n"
  "    let text = \"\", frames = 0, step = 0;\n"
  "    const timer = setTimeout(() => reject(new Error(uri + \": timed out at step \" + step +\n"
  "                                                    \", received \" + JSON.stringify(text))), 10000);\n"
  "    ws.onmessage = (event) => {\n"
  "      if (typeof event.data !== \"string\") { reject(new Error(\"a binary frame\")); return; }\n"
  "      frames++;\n"
  "      text += event.data;\n"
  "      if (!text.includes(steps[step][0])) return;\n"
  "      const next = steps[step][1];\n"
  "      step++;\n"
  "      text = \"\";\n"
  "      if (next !== null) { ws.send(next); return; }\n"
  "      clearTimeout(timer); ws.onclose = null; ws.close();\n"
  "      resolve(frames + \" text frames, redirected and back\");\n"
  "    };\n"
  "    ws.onerror = () => reject(new Error(uri + \": error event\"));\n"
  "    ws.onclose = (e) => reject(new Error(uri + \": closed, code \" + e.code));\n"
  "  });\n"
  "}\n"
  "/* ws:// from an https page: the browser must refuse it. */\n"
  "function mixed(uri) {\n"
  "  return new Promise((resolve) => {\n"
  "    let ws;\n"
  "    try { ws = new WebSocket(uri); } catch (e) { resolve(\"refused: \" + e.name); return; }\n"
  "    ws.onopen = () => { ws.close(); resolve(\"OPENED\"); };\n"
  "    ws.onerror = () => resolve(\"refused: error event\");\n"
  "  });\n"
  "}\n"
  "function report(ok, detail) {\n"
  "  fetch(\"/result\", { method: \"POST\", headers: { \"Content-Type\": \"application/json\" },\n"
  "                       body: JSON.stringify({ ok: ok, detail: detail }) });\n"
  "}\n"
  "(async () => {\n"
  "  try {\n"
  "    if (location.protocol !== \"https:\") throw new Error(\"not an https page\");\n"
  "    const secure = await session(\"wss://gateway.test:\" + q.get(\"wss\") + \"/\");\n"
  "    const plain = await mixed(\"ws://gateway.test:\" + q.get(\"ws\") + \"/\");\n"
  "    report(plain.startsWith(\"refused\"), \"wss: \" + secure + \"; ws: \" + plain);\n"
  "  } catch (e) {\n"
  "    report(false, String(e));\n"
  "  }\n"
  "})();\n"
  "</script></body></html>\n";

typedef struct
{
  MgwTestPageResult *result;
  gboolean *exited;
} BrowserWait;

static gboolean
browser_done (gpointer data)
{
  BrowserWait *w = data;

  return w->result->posted || *w->exited;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
exited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static void
test_browser (void)
{
  g_autofree char *dir = g_dir_make_tmp ("moipgw-test-XXXXXX", NULL);
  g_autofree char *server_pem = cert ("server.pem");
  g_autofree char *server_key = cert ("server.key");
  g_autofree char *chain = cert ("server-chain.pem");
  g_autofree char *spki_file = cert ("server.spki");
  g_autofree char *spki = NULL;
  g_autofree char *spki_flag = NULL;
  g_autofree char *rules_flag = NULL;
  g_autofree char *url = NULL;
  g_autofree char *log = NULL;
  g_autofree char *state = mgw_test_tmp_dir ();
  g_autoptr(GTlsCertificate) page_cert = NULL;
  g_autoptr(SoupServer) web = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSubprocess) chromium = NULL;
  g_autoptr(MgwTestDaemon) d = NULL;
  g_autoptr(GError) error = NULL;
  gboolean exited = FALSE;
  MgwTestPageResult result = { 0 };
  BrowserWait w = { &result, &exited };
  GSList *uris;
  guint16 web_port;
  const char *extra[3];

  if (!mgw_test_require_program (MGW_TEST_CHROMIUM, "chromium"))
    return;
  d = mgw_test_daemon_spawn ("--no-dbus", "--demo", "--tcp", "off", "--ws", "0", "--wss", "0",
                             "--state-dir", state, "--tls-certificate", chain,
                             "--tls-key", server_key, "-i", "127.0.0.1", NULL);

  page_cert = g_tls_certificate_new_from_files (server_pem, server_key, &error);
  g_assert_no_error (error);
  web = soup_server_new ("tls-certificate", page_cert, NULL);
  soup_server_add_handler (web, "/page.html", mgw_test_page_cb, (gpointer) browser_page, NULL);
  soup_server_add_handler (web, "/result", mgw_test_page_result_cb, &result, NULL);
  address = g_inet_socket_address_new (loopback, 0);
  soup_server_listen (web, address, SOUP_SERVER_LISTEN_HTTPS, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (web);
  web_port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_file_get_contents (spki_file, &spki, NULL, &error);
  g_assert_no_error (error);
  g_strstrip (spki);
  /* Trust the test certificate's key only, and nothing else. */
  spki_flag = g_strdup_printf ("--ignore-certificate-errors-spki-list=%s", spki);
  rules_flag = g_strdup ("--host-resolver-rules=MAP gateway.test 127.0.0.1");
  extra[0] = spki_flag;
  extra[1] = rules_flag;
  extra[2] = NULL;
  url = g_strdup_printf ("https://gateway.test:%u/page.html?wss=%u&ws=%u", web_port,
                         mgw_test_daemon_port (d, "WebSocket TLS"),
                         mgw_test_daemon_port (d, "WebSocket"));
  chromium = mgw_test_chromium_spawn (dir, url, extra, &error);
  g_assert_no_error (error);
  g_subprocess_wait_async (chromium, NULL, exited_cb, &exited);
  mgw_test_wait_until (browser_done, &w, BROWSER_TIMEOUT_MS, "the page's result");
  log = g_build_filename (dir, "chromium.log", NULL);
  if (!result.posted)
    {
      g_autofree char *text = NULL;

      g_file_get_contents (log, &text, NULL, NULL);
      g_error ("no result from the page (Chromium %s); its log:\n%s",
               exited ? "exited" : "still running", text ? text : "(none)");
    }
  g_test_message ("browser: %s", result.detail);
  if (!exited)
    g_subprocess_force_exit (chromium);
  mgw_test_wait_until (flag_set, &exited, MGW_TEST_TIMEOUT_MS, "Chromium to exit");
  mgw_test_remove_tree (dir);
  g_assert_true (result.ok);
  g_assert_nonnull (strstr (result.detail, "redirected and back"));
  g_assert_nonnull (strstr (d->err->str, "Connexion/Fin: back to Teletel"));
  g_assert_nonnull (strstr (result.detail, "ws: refused"));
  /* The refused ws:// never reached the gateway: one session, wss. */
  g_assert_null (strstr (d->err->str, "session 1 "));
  g_free (result.detail);
}

int
main (int argc, char **argv)
{
  g_autofree char *script = NULL;
  g_autoptr(GError) error = NULL;
  const char *make[3];
  int status, result;

  mgw_test_init (&argc, &argv);
  certs = g_dir_make_tmp ("test-tls-XXXXXX", &error);
  g_assert_no_error (error);
  script = g_test_build_filename (G_TEST_DIST, "lib", "make-certs.sh", NULL);
  make[0] = script;
  make[1] = certs;
  make[2] = NULL;
  g_spawn_sync (NULL, (char **) make, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  g_test_add_func ("/tls/websockets", test_websockets);
  g_test_add_func ("/tls/reload", test_reload);
  g_test_add_func ("/tls/bad-pair-at-start", test_bad_pair_at_start);
  g_test_add_func ("/tls/handshake-bounded", test_handshake_bounded);
  g_test_add_func ("/tls/handshakes-pending", test_handshakes_pending);
  g_test_add_func ("/tls/silent-clients", test_silent_clients);
  g_test_add_func ("/tls/never-banned-uncapped", test_never_banned_uncapped);
  g_test_add_func ("/tls/upstream-verify", test_upstream_verify);
  g_test_add_func ("/tls/browser", test_browser);
  result = g_test_run ();
  mgw_test_remove_tree (certs);
  g_free (certs);
  return result;
}
