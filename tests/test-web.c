/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-web.c: plain HTTP on the WebSocket port ([web], mgw-web.c):
 * the built-in emulator's files fetched by libsoup (types, lengths,
 * bodies byte for byte, HEAD), an operator's root directory with its
 * refusals (".." however spelled, hidden files, symbolic links out of
 * the root, directories without an index, files past max-file-size),
 * methods, the head limit and timeout of upgrades, a client a trusted
 * proxy names as banned, half-closed clients, big files streamed whole,
 * the same over TLS, reload, and WebSocket users served all along. */
#include "config.h"

#include "mgw-gateway.h"
#include "mgw-test-util.h"
#include "mgw-web.h"
#include "mgw-web-resources.h"

#include <libsoup/soup.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define S(lit) lit, sizeof lit - 1

static char *certs;

/* --- libsoup as the client --- */

typedef struct
{
  SoupMessage *msg;
  GBytes      *body;
  GError      *error;
  gboolean     done;
} Fetch;

static void
fetch_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  Fetch *f = data;

  f->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &f->error);
  f->done = TRUE;
}

static gboolean
fetch_done (gpointer data)
{
  return ((Fetch *) data)->done;
}

static gboolean
accept_any_certificate (SoupMessage          *msg,
                        GTlsCertificate      *certificate,
                        GTlsCertificateFlags  errors,
                        gpointer              data)
{
  return TRUE;
}

/* A request by libsoup; the answer's status, and its body in *body. */
static guint
fetch (const char  *method,
       const char  *scheme,
       guint16      port,
       const char  *path,
       SoupMessage **out,
       GBytes     **body)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *uri = g_strdup_printf ("%s://127.0.0.1:%u%s", scheme, port, path);
  Fetch f = { .msg = soup_message_new (method, uri) };
  guint status;

  g_assert_nonnull (f.msg);
  g_signal_connect (f.msg, "accept-certificate", G_CALLBACK (accept_any_certificate), NULL);
  soup_session_send_and_read_async (session, f.msg, G_PRIORITY_DEFAULT, NULL, fetch_cb, &f);
  mgw_test_wait_until (fetch_done, &f, MGW_TEST_TIMEOUT_MS, uri);
  g_assert_no_error (f.error);
  status = soup_message_get_status (f.msg);
  if (body != NULL)
    *body = g_steal_pointer (&f.body);
  g_clear_pointer (&f.body, g_bytes_unref);
  if (out != NULL)
    *out = g_steal_pointer (&f.msg);
  g_clear_object (&f.msg);
  return status;
}

static const char *
header (SoupMessage *msg,
        const char  *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (msg), name);
}

/* --- raw requests, for what libsoup would not send --- */

/* The status line of the answer to `request`, sent whole (then, with
 * half_close, the sending side shut); the full answer in *answer. */
static char *
raw_request (guint16      port,
             const char  *request,
             gboolean     half_close,
             GByteArray **answer)
{
  g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1", port);
  const char *end;

  mgw_test_tcp_send (tcp, request, strlen (request));
  if (half_close)
    g_assert_true (g_socket_shutdown (tcp->socket, FALSE, TRUE, NULL));
  mgw_test_tcp_wait_closed (tcp);
  end = memchr (tcp->received->data, '\r', tcp->received->len);
  g_assert_nonnull (end);
  if (answer != NULL)
    *answer = g_byte_array_ref (tcp->received);
  return g_strndup ((const char *) tcp->received->data,
                    end - (const char *) tcp->received->data);
}

static void
assert_raw_status (guint16     port,
                   const char *path,
                   const char *status_line)
{
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
  g_autofree char *got = raw_request (port, request, FALSE, NULL);

  g_test_message ("GET %s: %s", path, got);
  g_assert_cmpstr (got, ==, status_line);
}

/* --- fixtures --- */

static MgwGateway *
gateway_new (MgwConfig *config)
{
  MgwGateway *gateway = mgw_test_gateway_new (config);

  g_assert_cmpuint (mgw_gateway_get_ws_port (gateway), >, 0);
  return gateway;
}

static GBytes *
resource (const char *name)
{
  g_autofree char *path = g_strconcat ("/org/moipgw/web/", name, NULL);
  GBytes *bytes = g_resource_lookup_data (mgw_web_get_resource (), path,
                                          G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  g_assert_nonnull (bytes);
  return bytes;
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents,
            gssize      len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
}

static void
assert_body (GBytes     *body,
             const char *text)
{
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), text, strlen (text));
}

/* --- tests --- */

/* Off by default: a plain request is told to upgrade, as before. */
static void
test_off (void)
{
  g_autoptr(MgwConfig) config = mgw_test_config_new ("ws://127.0.0.1:9/");
  g_autoptr(MgwGateway) gateway = gateway_new (config);
  g_autoptr(SoupMessage) msg = NULL;

  g_assert_cmpuint (fetch ("GET", "http", mgw_gateway_get_ws_port (gateway), "/", &msg, NULL),
                    ==, 426);
  g_assert_cmpstr (header (msg, "Upgrade"), ==, "websocket");
  mgw_gateway_stop (gateway, NULL);
}

/* Every file of the emulator, as it is built in, with its type. */
static void
test_emulator (void)
{
  g_autoptr(MgwConfig) config = mgw_test_config_new ("ws://127.0.0.1:9/");
  g_autoptr(MgwGateway) gateway = NULL;
  g_auto(GStrv) names = NULL;
  guint16 port;

  config->web_emulator = TRUE;
  gateway = gateway_new (config);
  port = mgw_gateway_get_ws_port (gateway);
  names = g_resource_enumerate_children (mgw_web_get_resource (), "/org/moipgw/web/",
                                         G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_assert_nonnull (names);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_strconcat ("/", names[i], NULL);
      g_autoptr(SoupMessage) msg = NULL;
      g_autoptr(GBytes) body = NULL;
      g_autoptr(GBytes) want = resource (names[i]);

      g_assert_cmpuint (fetch ("GET", "http", port, path, &msg, &body), ==, 200);
      g_assert_true (g_bytes_equal (body, want));
      g_assert_cmpstr (header (msg, "Content-Type"), ==, mgw_web_content_type (names[i]));
      g_assert_cmpstr (header (msg, "X-Content-Type-Options"), ==, "nosniff");
      g_assert_nonnull (strstr (header (msg, "Content-Security-Policy"), "default-src 'self'"));
      g_assert_cmpstr (header (msg, "Connection"), ==, "close");
      g_assert_nonnull (header (msg, "Date"));
    }

  /* The page at the top, with a query too; HEAD: the same head, no body. */
  {
    g_autoptr(GBytes) index = resource ("index.html");
    g_autoptr(GBytes) body = NULL;
    g_autoptr(SoupMessage) msg = NULL;
    g_autofree char *length = g_strdup_printf ("%" G_GSIZE_FORMAT, g_bytes_get_size (index));

    g_assert_cmpuint (fetch ("GET", "http", port, "/?baud=1200", NULL, &body), ==, 200);
    g_assert_true (g_bytes_equal (body, index));
    g_clear_pointer (&body, g_bytes_unref);
    /* A replay's page: the emulator, which opens /replay/ID itself. */
    g_assert_cmpuint (fetch ("GET", "http", port, "/replay/20261203-101500-7?speed=2", NULL,
                             &body), ==, 200);
    g_assert_true (g_bytes_equal (body, index));
    g_clear_pointer (&body, g_bytes_unref);
    g_assert_cmpuint (fetch ("GET", "http", port, "/replay/a/b", NULL, NULL), ==, 404);
    g_assert_cmpuint (fetch ("HEAD", "http", port, "/", &msg, &body), ==, 200);
    g_assert_cmpuint (g_bytes_get_size (body), ==, 0);
    g_assert_cmpstr (header (msg, "Content-Length"), ==, length);
    g_assert_cmpstr (header (msg, "Content-Type"), ==, "text/html; charset=utf-8");
  }
  g_assert_cmpuint (fetch ("GET", "http", port, "/no-such-file.js", NULL, NULL), ==, 404);
  g_assert_cmpuint (fetch ("HEAD", "http", port, "/no-such-file.js", NULL, NULL), ==, 404);
  {
    g_autoptr(SoupMessage) msg = NULL;

    g_assert_cmpuint (fetch ("POST", "http", port, "/", &msg, NULL), ==, 405);
    g_assert_cmpstr (header (msg, "Allow"), ==, "GET, HEAD");
  }
  g_assert_cmpuint (fetch ("DELETE", "http", port, "/index.html", NULL, NULL), ==, 405);
  assert_raw_status (port, "/../index.html", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/%2e%2e/index.html", "HTTP/1.1 404 Not Found");
  /* HTTP/1.0 without Host is served. */
  {
    g_autofree char *line = raw_request (port, "GET / HTTP/1.0\r\n\r\n", FALSE, NULL);

    g_assert_cmpstr (line, ==, "HTTP/1.1 200 OK");
  }
  /* A client that shuts its side once its request is sent still gets
   * the whole answer. */
  {
    g_autoptr(GByteArray) answer = NULL;
    g_autoptr(GBytes) index = resource ("index.html");
    g_autofree char *line = raw_request (port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", TRUE,
                                         &answer);
    gsize size = g_bytes_get_size (index);

    g_assert_cmpstr (line, ==, "HTTP/1.1 200 OK");
    g_assert_cmpuint (answer->len, >, size);
    g_assert_cmpmem (answer->data + answer->len - size, size, g_bytes_get_data (index, NULL), size);
  }
  g_assert_cmpuint (mgw_gateway_get_n_sessions (gateway), ==, 0);
  /* Counted (the metrics' moipgw_web_*): 404 ×5, 405 ×2. */
  g_assert_cmpuint (mgw_gateway_get_counters (gateway)->web_errors, ==, 7);
  g_assert_cmpuint (mgw_gateway_get_counters (gateway)->web_requests, ==,
                    7 + g_strv_length (names) + 5);
  g_assert_cmpuint (mgw_gateway_get_counters (gateway)->web_bytes, >, 0);
  mgw_gateway_stop (gateway, NULL);
}

/* An operator's directory: its files, and nothing else. */
static void
test_root (void)
{
  g_autoptr(MgwConfig) config = mgw_test_config_new ("ws://127.0.0.1:9/");
  g_autoptr(MgwGateway) gateway = NULL;
  g_autofree char *top = mgw_test_tmp_dir ();
  g_autofree char *root = g_build_filename (top, "root", NULL);
  g_autofree char *outside = g_build_filename (top, "secret.txt", NULL);
  g_autofree char *sub = g_build_filename (root, "sub", NULL);
  g_autofree char *empty = g_build_filename (root, "empty", NULL);
  g_autofree char *link = NULL;
  g_autofree char *big = g_malloc (3 * 1024 * 1024);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  guint16 port;

  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  write_file (top, "secret.txt", "not to be served\n", -1);
  write_file (root, "index.html", "<p>operator</p>\n", -1);
  write_file (root, "style.css", "p { color: red }\n", -1);
  write_file (root, ".htpasswd", "x:y\n", -1);
  write_file (sub, "index.html", "<p>sub</p>\n", -1);
  write_file (root, "page.vdt", "\x0c\x1b\x41" "rouge", -1);
  for (gsize i = 0; i < 3 * 1024 * 1024; i++)
    big[i] = (char) (i * 7 + i / 1021);
  write_file (root, "big.bin", big, 3 * 1024 * 1024);
  link = g_build_filename (root, "out.txt", NULL);
  g_assert_cmpint (symlink (outside, link), ==, 0);
  g_free (link);
  link = g_build_filename (root, "outdir", NULL);
  g_assert_cmpint (symlink (top, link), ==, 0);
  g_free (link);
  link = g_build_filename (root, "in.css", NULL);
  g_assert_cmpint (symlink ("style.css", link), ==, 0);
  g_free (link);
  link = g_build_filename (root, "fifo", NULL);
  g_assert_cmpint (mkfifo (link, 0644), ==, 0);

  config->web_root = g_strdup (root);
  config->web_max_file_size = 3 * 1024 * 1024;
  gateway = gateway_new (config);
  port = mgw_gateway_get_ws_port (gateway);

  g_assert_cmpuint (fetch ("GET", "http", port, "/", &msg, &body), ==, 200);
  assert_body (body, "<p>operator</p>\n");
  g_assert_cmpstr (header (msg, "Content-Type"), ==, "text/html; charset=utf-8");
  /* Not the emulator's policy: the operator's pages are theirs. */
  g_assert_null (header (msg, "Content-Security-Policy"));
  g_clear_object (&msg);
  g_clear_pointer (&body, g_bytes_unref);
  g_assert_cmpuint (fetch ("GET", "http", port, "/style.css", &msg, NULL), ==, 200);
  g_assert_cmpstr (header (msg, "Content-Type"), ==, "text/css; charset=utf-8");
  g_clear_object (&msg);
  g_assert_cmpuint (fetch ("GET", "http", port, "/page.vdt", &msg, NULL), ==, 200);
  g_assert_cmpstr (header (msg, "Content-Type"), ==, "application/octet-stream");
  g_clear_object (&msg);
  /* A link inside the root, to a file inside it: served. */
  g_assert_cmpuint (fetch ("GET", "http", port, "/in.css", NULL, &body), ==, 200);
  assert_body (body, "p { color: red }\n");
  g_clear_pointer (&body, g_bytes_unref);
  /* A directory: its index with the slash, a redirection without. */
  g_assert_cmpuint (fetch ("GET", "http", port, "/sub/", NULL, &body), ==, 200);
  assert_body (body, "<p>sub</p>\n");
  g_clear_pointer (&body, g_bytes_unref);
  assert_raw_status (port, "/sub", "HTTP/1.1 301 Moved Permanently");
  g_assert_cmpuint (fetch ("GET", "http", port, "/sub", NULL, &body), ==, 200);  /* followed */
  g_clear_pointer (&body, g_bytes_unref);
  /* No listing, and no emulator behind it (off). */
  g_assert_cmpuint (fetch ("GET", "http", port, "/empty/", NULL, NULL), ==, 404);
  g_assert_cmpuint (fetch ("GET", "http", port, "/minitel.css", NULL, NULL), ==, 404);
  /* A big file, a chunk at a time, byte for byte. */
  g_assert_cmpuint (fetch ("GET", "http", port, "/big.bin", NULL, &body), ==, 200);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), big, 3 * 1024 * 1024);
  g_clear_pointer (&body, g_bytes_unref);

  /* What must never come out. */
  assert_raw_status (port, "/../secret.txt", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/sub/../../secret.txt", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/%2e%2e/secret.txt", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/%2E%2E%2Fsecret.txt", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/sub%2f..%2f..%2fsecret.txt", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/index.html%00.css", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/out.txt", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/outdir/secret.txt", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/outdir/", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/.htpasswd", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "/fifo", "HTTP/1.1 404 Not Found");
  assert_raw_status (port, "http://x/../secret.txt", "HTTP/1.1 404 Not Found");
  mgw_gateway_stop (gateway, NULL);
  g_clear_object (&gateway);

  /* Past max-file-size: refused, and said so in the status. */
  config->web_max_file_size = 1024 * 1024;
  config->web_emulator = TRUE;
  gateway = gateway_new (config);
  port = mgw_gateway_get_ws_port (gateway);
  g_assert_cmpuint (fetch ("GET", "http", port, "/big.bin", NULL, NULL), ==, 403);
  /* With the emulator on, what the root lacks comes from it. */
  g_assert_cmpuint (fetch ("GET", "http", port, "/minitel.css", NULL, NULL), ==, 200);
  g_assert_cmpuint (fetch ("GET", "http", port, "/", NULL, &body), ==, 200);
  assert_body (body, "<p>operator</p>\n");
  mgw_gateway_stop (gateway, NULL);
  mgw_test_remove_tree (top);
}

/* The limits of upgrades hold for plain requests: the head's size, its
 * time, and a client a trusted proxy names as banned. */
static void
test_limits (void)
{
  g_autoptr(MgwConfig) config = mgw_test_config_new ("ws://127.0.0.1:9/");
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(MgwTestTcp) silent = NULL;
  g_autoptr(GString) huge = g_string_new ("GET / HTTP/1.1\r\nHost: x\r\n");
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  guint16 port;
  gint64 begin;

  config->web_emulator = TRUE;
  config->connect_timeout = 1;
  config->trusted_proxies = g_strsplit ("127.0.0.1", ";", -1);
  gateway = gateway_new (config);
  port = mgw_gateway_get_ws_port (gateway);

  while (huge->len < 9000)
    g_string_append (huge, "X-Filler: 0123456789012345678901234567890123456789\r\n");
  g_string_append (huge, "\r\n");
  line = raw_request (port, huge->str, FALSE, NULL);
  g_assert_cmpstr (line, ==, "HTTP/1.1 431 Request Header Fields Too Large");
  g_clear_pointer (&line, g_free);

  begin = g_get_monotonic_time ();
  silent = mgw_test_tcp_connect ("127.0.0.1", port);
  mgw_test_tcp_send (silent, S ("GET / HTTP/1.1\r\n"));
  mgw_test_tcp_wait_closed (silent);
  g_assert_cmpint (g_get_monotonic_time () - begin, >=, 900 * 1000);
  g_assert_cmpuint (silent->received->len, ==, 0);

  g_assert_true (mgw_ban_list_ban (mgw_gateway_get_ban_list (gateway), "203.0.113.9", "test",
                                   "test", &error));
  g_assert_no_error (error);
  line = raw_request (port, "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n",
                      FALSE, NULL);
  g_assert_cmpstr (line, ==, "HTTP/1.1 403 Forbidden");
  g_clear_pointer (&line, g_free);
  line = raw_request (port, "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.10\r\n\r\n",
                      FALSE, NULL);
  g_assert_cmpstr (line, ==, "HTTP/1.1 200 OK");
  mgw_gateway_stop (gateway, NULL);
}

/* WebSocket users are served next to the pages, and so is a bad upgrade
 * told what it lacks, as before. */
static void
test_upgrades_too (void)
{
  g_autoptr(MgwTestServer) server = mgw_test_server_new (TRUE, NULL);
  g_autoptr(MgwConfig) config = mgw_test_config_new (server->uri);
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(MgwTestWs) user = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *line = NULL;
  guint16 port;

  config->web_emulator = TRUE;
  gateway = gateway_new (config);
  port = mgw_gateway_get_ws_port (gateway);
  uri = mgw_test_ws_uri (gateway);
  user = mgw_test_ws_connect (uri, NULL);
  mgw_test_wait_session_state (gateway, 0, MGW_SESSION_TELETEL, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpuint (fetch ("GET", "http", port, "/", NULL, NULL), ==, 200);
  line = raw_request (port, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", FALSE,
                      NULL);
  g_assert_cmpstr (line, ==, "HTTP/1.1 426 Upgrade Required");
  g_assert_cmpuint (mgw_gateway_get_n_sessions (gateway), ==, 1);
  mgw_gateway_stop (gateway, NULL);
}

/* The pages over the wss:// port: https://. */
static void
test_tls (void)
{
  g_autoptr(MgwConfig) config = mgw_test_config_new ("ws://127.0.0.1:9/");
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) index = resource ("index.html");
  guint16 port;

  config->ws_port = MGW_PORT_OFF;
  config->ws_tls_port = 0;
  config->tls_certificate = g_build_filename (certs, "server.pem", NULL);
  config->tls_key = g_build_filename (certs, "server.key", NULL);
  config->web_emulator = TRUE;
  gateway = mgw_test_gateway_new (config);
  port = mgw_gateway_get_ws_tls_port (gateway);
  g_assert_cmpuint (port, >, 0);
  g_assert_cmpuint (fetch ("GET", "https", port, "/", NULL, &body), ==, 200);
  g_assert_true (g_bytes_equal (body, index));
  g_assert_cmpuint (fetch ("GET", "https", port, "/../x", NULL, NULL), ==, 404);
  mgw_gateway_stop (gateway, NULL);
}

/* [web] follows a reload; a root that is not a directory fails the
 * reload and leaves the settings in force. */
static void
test_reload (void)
{
  g_autoptr(MgwConfig) config = mgw_test_config_new ("ws://127.0.0.1:9/");
  g_autoptr(MgwConfig) off = NULL;
  g_autoptr(MgwConfig) bad = NULL;
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  config->web_emulator = TRUE;
  gateway = gateway_new (config);
  port = mgw_gateway_get_ws_port (gateway);
  g_assert_cmpuint (fetch ("GET", "http", port, "/", NULL, NULL), ==, 200);

  bad = mgw_test_config_new ("ws://127.0.0.1:9/");
  bad->web_emulator = FALSE;
  bad->web_root = g_strdup ("/proc/self/status");
  g_assert_false (mgw_gateway_reload (gateway, bad, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "not a directory"));
  g_assert_cmpuint (fetch ("GET", "http", port, "/", NULL, NULL), ==, 200);
  g_clear_error (&error);

  off = mgw_test_config_new ("ws://127.0.0.1:9/");
  g_assert_true (mgw_gateway_reload (gateway, off, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fetch ("GET", "http", port, "/", NULL, NULL), ==, 426);
  mgw_gateway_stop (gateway, NULL);
}

/* A root that cannot be served stops the start, with its name. */
static void
test_bad_root (void)
{
  g_autoptr(MgwConfig) config = mgw_test_config_new ("ws://127.0.0.1:9/");
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(GError) error = NULL;

  config->web_root = g_strdup ("/nonexistent/moipgw-web-root");
  gateway = mgw_gateway_new (config);
  g_assert_false (mgw_gateway_start (gateway, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "/nonexistent/moipgw-web-root"));
}

static void
test_http_date (void)
{
  g_autofree char *epoch = mgw_web_http_date (0);
  g_autofree char *later = mgw_web_http_date (1700000000);
  g_autofree char *leap = mgw_web_http_date (951782400);

  g_assert_cmpstr (epoch, ==, "Thu, 01 Jan 1970 00:00:00 GMT");
  g_assert_cmpstr (later, ==, "Tue, 14 Nov 2023 22:13:20 GMT");
  g_assert_cmpstr (leap, ==, "Tue, 29 Feb 2000 00:00:00 GMT");
  g_assert_cmpstr (mgw_web_content_type ("a/b.MJS"), ==, "text/javascript; charset=utf-8");
  g_assert_cmpstr (mgw_web_content_type ("x.tar.gz"), ==, "application/octet-stream");
  g_assert_cmpstr (mgw_web_content_type (".d/noext"), ==, "application/octet-stream");
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *script = NULL;
  const char *make[3];
  int status, result;

  mgw_test_init (&argc, &argv);
  certs = g_dir_make_tmp ("test-web-XXXXXX", &error);
  g_assert_no_error (error);
  script = g_test_build_filename (G_TEST_DIST, "lib", "make-certs.sh", NULL);
  make[0] = script;
  make[1] = certs;
  make[2] = NULL;
  g_spawn_sync (NULL, (char **) make, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  g_test_add_func ("/web/off", test_off);
  g_test_add_func ("/web/emulator", test_emulator);
  g_test_add_func ("/web/root", test_root);
  g_test_add_func ("/web/limits", test_limits);
  g_test_add_func ("/web/upgrades-too", test_upgrades_too);
  g_test_add_func ("/web/tls", test_tls);
  g_test_add_func ("/web/reload", test_reload);
  g_test_add_func ("/web/bad-root", test_bad_root);
  g_test_add_func ("/web/http-date", test_http_date);
  result = g_test_run ();
  mgw_test_remove_tree (certs);
  g_free (certs);
  return result;
}
