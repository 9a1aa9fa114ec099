/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tls-identity.c: the wss:// listener's certificate and key, as
 * mgw-tls.c reads and checks them, on pairs openssl makes for the run
 * (tests/lib/make-certs.sh): a good pair, with and without its chain;
 * each bad pair refused with its own reason, the file named; the server
 * connections the listener makes from a good one. The clock is the
 * test's: "now" is a fixed date inside the certificates' life. */
#include "config.h"

#include "mgw-error.h"
#include "mgw-tls.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>

static char *certs;

/* 1 June 2030, 12:00 UTC: inside the good certificates' 100 years. */
#define NOW (G_GINT64_CONSTANT (1906459200) * G_USEC_PER_SEC)

static char *
path (const char *name)
{
  return g_build_filename (certs, name, NULL);
}

static MgwTlsIdentity *
load (const char  *cert,
      const char  *key,
      gint64       now,
      GError     **error)
{
  g_autofree char *c = path (cert);
  g_autofree char *k = path (key);

  return mgw_tls_identity_load (c, k, now, error);
}

static void
assert_refused (const char *cert,
                const char *key,
                gint64      now,
                const char *file,
                const char *why)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwTlsIdentity) id = load (cert, key, now, &error);
  g_autofree char *named = path (file);

  g_assert_null (id);
  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  g_test_message ("%s + %s: %s", cert, key, error->message);
  g_assert_nonnull (strstr (error->message, named));
  g_assert_nonnull (strstr (error->message, why));
  g_assert_null (strchr (error->message, '\n'));
}

static void
test_good (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwTlsIdentity) id = load ("server.pem", "server.key", NOW, &error);
  g_autoptr(MgwTlsIdentity) chained = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (mgw_tls_identity_get_subject (id), ==, "CN=moipgw-test server");
  g_assert_cmpint (mgw_tls_identity_get_not_after (id), >, NOW);
  g_assert_true (G_IS_TLS_CERTIFICATE (mgw_tls_identity_get_certificate (id)));
  g_assert_cmpuint (mgw_tls_identity_get_chain_length (id), ==, 1);

  chained = load ("server-chain.pem", "server.key", NOW, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_tls_identity_get_chain_length (chained), ==, 2);
  g_assert_nonnull (g_tls_certificate_get_issuer (mgw_tls_identity_get_certificate (chained)));
}

static void
test_mismatch (void)
{
  assert_refused ("server.pem", "other.key", NOW, "other.key", "not the certificate's");
  assert_refused ("server.pem", "renewed.key", NOW, "renewed.key", "not the certificate's");
}

/* Judged against the clock given: the same pair is refused before its
 * start and after its end. */
static void
test_dates (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwTlsIdentity) id = NULL;
  /* 15 January 2020: inside expired.pem's month. */
  gint64 then = G_GINT64_CONSTANT (1579046400) * G_USEC_PER_SEC;

  assert_refused ("expired.pem", "expired.key", NOW, "expired.pem",
                  "expired on 2020-01-31 00:00:00 UTC");
  assert_refused ("future.pem", "future.key", NOW, "future.pem",
                  "not valid before 2090-01-01 00:00:00 UTC");
  id = load ("expired.pem", "expired.key", then, &error);
  g_assert_no_error (error);
  assert_refused ("server.pem", "server.key", then, "server.pem", "not valid before");
}

static void
test_unreadable (void)
{
  g_autofree char *garbage = path ("garbage.pem");
  g_autofree char *dir = path ("a-directory.pem");

  g_assert_true (g_file_set_contents (garbage, "not a certificate\n", -1, NULL));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  assert_refused ("missing.pem", "server.key", NOW, "missing.pem", "");
  assert_refused ("server.pem", "missing.key", NOW, "missing.key", "");
  assert_refused ("a-directory.pem", "server.key", NOW, "a-directory.pem", "");
  assert_refused ("garbage.pem", "server.key", NOW, "garbage.pem", "certificate");
  assert_refused ("server.pem", "garbage.pem", NOW, "garbage.pem", "no PEM private key");
  /* A certificate given as the key, a key given as the certificate. */
  assert_refused ("server.pem", "server.pem", NOW, "server.pem", "no PEM private key");
  assert_refused ("server.key", "server.key", NOW, "server.key", "certificate");
  assert_refused ("server.pem", "encrypted.key", NOW, "encrypted.key", "encrypted");
}

typedef struct
{
  int     pending;
  GError *server_error;
  GError *client_error;
} Handshakes;

static void
handshake_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Handshakes *h = user_data;
  GError **error = G_IS_TLS_SERVER_CONNECTION (source) ? &h->server_error : &h->client_error;

  g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, error);
  h->pending--;
}

/* The listener's connections carry no trust database (given the default
 * one, glib-networking loads the system's whole CA store into each: MiBs
 * a connection) and still serve a handshake that a client verifies
 * against the test CA, the identity's certificate shown. */
static void
test_server_connection (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwTlsIdentity) id = load ("server.pem", "server.key", NOW, &error);
  g_autofree char *ca = path ("ca.pem");
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GSocketConnectable) name = g_network_address_new ("localhost", 443);
  g_autoptr(GSocket) server_socket = NULL;
  g_autoptr(GSocket) client_socket = NULL;
  g_autoptr(GSocketConnection) server_base = NULL;
  g_autoptr(GSocketConnection) client_base = NULL;
  g_autoptr(GIOStream) server = NULL;
  g_autoptr(GIOStream) client = NULL;
  Handshakes h = { 2, NULL, NULL };
  GTlsCertificate *peer;
  int fds[2];

  g_assert_no_error (error);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  server_socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  client_socket = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  server_base = g_socket_connection_factory_create_connection (server_socket);
  client_base = g_socket_connection_factory_create_connection (client_socket);

  server = mgw_tls_identity_new_server_connection (id, G_IO_STREAM (server_base), &error);
  g_assert_no_error (error);
  g_assert_true (G_IS_TLS_SERVER_CONNECTION (server));
  g_assert_true (g_tls_connection_get_certificate (G_TLS_CONNECTION (server)) ==
                 mgw_tls_identity_get_certificate (id));
  g_assert_null (g_tls_connection_get_database (G_TLS_CONNECTION (server)));

  database = g_tls_file_database_new (ca, &error);
  g_assert_no_error (error);
  client = g_tls_client_connection_new (G_IO_STREAM (client_base), name, &error);
  g_assert_no_error (error);
  g_tls_connection_set_database (G_TLS_CONNECTION (client), database);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (server), G_PRIORITY_DEFAULT, NULL,
                                    handshake_done, &h);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (client), G_PRIORITY_DEFAULT, NULL,
                                    handshake_done, &h);
  while (h.pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (h.server_error);
  g_assert_no_error (h.client_error);
  peer = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (client));
  g_assert_nonnull (peer);
  g_assert_true (g_tls_certificate_is_same (peer, mgw_tls_identity_get_certificate (id)));
  g_io_stream_close (client, NULL, NULL);
  g_io_stream_close (server, NULL, NULL);
}

/* The run's directory: files and the one directory test_unreadable made. */
static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);

      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_autofree char *script = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv_make[3];
  int status, result;

  g_test_init (&argc, &argv, NULL);
  certs = g_dir_make_tmp ("test-tls-identity-XXXXXX", &error);
  g_assert_no_error (error);
  script = g_test_build_filename (G_TEST_DIST, "lib", "make-certs.sh", NULL);
  argv_make[0] = script;
  argv_make[1] = certs;
  argv_make[2] = NULL;
  g_spawn_sync (NULL, (char **) argv_make, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  g_test_add_func ("/tls-identity/good", test_good);
  g_test_add_func ("/tls-identity/mismatch", test_mismatch);
  g_test_add_func ("/tls-identity/dates", test_dates);
  g_test_add_func ("/tls-identity/unreadable", test_unreadable);
  g_test_add_func ("/tls-identity/server-connection", test_server_connection);
  result = g_test_run ();
  remove_tree (certs);
  g_free (certs);
  return result;
}
