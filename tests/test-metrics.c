/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-metrics.c: the Prometheus metrics end to end: an in-process
 * gateway with the demo service, its metrics on 127.0.0.1 (port from the
 * kernel) scraped with libsoup; the OpenMetrics format checked line by
 * line, the numbers before and after users come and go; then moipgwd
 * with [metrics] listen, as an operator runs it. */
#include "config.h"

#include "mgw-demo.h"
#include "mgw-error.h"
#include "mgw-gateway.h"
#include "mgw-metrics.h"
#include "mgw-test-util.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"
#define S(lit) lit, sizeof lit - 1

/* Every family the page must have: name, type. */
static const struct { const char *name; const char *type; } families[] = {
  { "moipgw_sessions_active", "gauge" },
  { "moipgw_sessions", "counter" },
  { "moipgw_session_duration_seconds", "histogram" },
  { "moipgw_start_time_seconds", "gauge" },
  { "moipgw_command_channel_connected", "gauge" },
  { "moipgw_command_messages_dropped", "counter" },
  { "moipgw_redirections", "counter" },
  { "moipgw_ban_list_size", "gauge" },
  { "moipgw_bans", "counter" },
  { "moipgw_unbans", "counter" },
  { "moipgw_bans_dropped", "counter" },
  { "moipgw_ban_save_longest_step_seconds", "gauge" },
  { "moipgw_ban_save_longest_step_cpu_seconds", "gauge" },
  { "moipgw_refused", "counter" },
  { "moipgw_timeouts", "counter" },
  { "moipgw_bad_input", "counter" },
  { "moipgw_bad_commands", "counter" },
  { "moipgw_recordings_active", "gauge" },
  { "moipgw_recordings_started", "counter" },
  { "moipgw_recordings_written_bytes", "counter" },
  { "moipgw_recordings_dropped_bytes", "counter" },
  { "moipgw_recordings_dropped_events", "counter" },
  { "moipgw_recordings_failures", "counter" },
  { "moipgw_recordings_truncated", "counter" },
  { "moipgw_web_requests", "counter" },
  { "moipgw_web_errors", "counter" },
  { "moipgw_web_sent_bytes", "counter" },
};

typedef struct
{
  MgwDemo    *demo;
  MgwConfig  *config;
  MgwGateway *gateway;
  MgwMetrics *metrics;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->demo = mgw_demo_new ();
  g_assert_true (mgw_demo_start (f->demo, &error));
  g_assert_no_error (error);
  f->config = mgw_test_config_new (mgw_demo_get_uri (f->demo));
  /* Short test sessions must not ban (nor be exempted as local). */
  f->config->min_session_ms = 0;
  f->config->raw_port = 0;
  f->gateway = mgw_test_gateway_new (f->config);
  f->metrics = mgw_metrics_new (f->gateway);
  g_assert_true (mgw_metrics_listen (f->metrics, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_metrics_get_port (f->metrics), >, 0);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->metrics);
  if (f->gateway != NULL)
    {
      mgw_gateway_stop (f->gateway, NULL);
      mgw_test_run_for (50);
    }
  g_clear_object (&f->gateway);
  g_clear_pointer (&f->config, mgw_config_unref);
  g_clear_object (&f->demo);
  mgw_test_run_for (20);
}

/* --- scraping ------------------------------------------------------------ */

typedef struct
{
  guint    status;
  char    *content_type;
  char    *body;
} Reply;

static void
reply_free (Reply *r)
{
  g_free (r->content_type);
  g_free (r->body);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

typedef struct
{
  GBytes  *body;
  GError  *error;
  gboolean done;
} Request;

static void
request_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Request *req = user_data;

  req->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &req->error);
  req->done = TRUE;
}

static gboolean
request_done (gpointer data)
{
  return ((Request *) data)->done;
}

/* The server runs in this thread's main context: the request is sent
 * asynchronously while the context turns. */
static Reply *
http_request_accept (const char *method,
                     guint16     port,
                     const char *path,
                     const char *accept)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, uri);
  Request req = { 0 };
  Reply *reply = g_new0 (Reply, 1);
  const char *type;
  gsize len = 0;
  const char *data;

  if (accept != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept", accept);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, request_cb, &req);
  mgw_test_wait_until (request_done, &req, MGW_TEST_TIMEOUT_MS, uri);
  g_assert_no_error (req.error);
  reply->status = soup_message_get_status (msg);
  type = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Content-Type");
  reply->content_type = g_strdup (type);
  data = g_bytes_get_data (req.body, &len);
  reply->body = g_strndup (data != NULL ? data : "", len);  /* empty: NULL data */
  g_assert_cmpuint (strlen (reply->body), ==, len);  /* no NUL inside */
  g_bytes_unref (req.body);
  return reply;
}

static Reply *
http_request (const char *method,
              guint16     port,
              const char *path)
{
  return http_request_accept (method, port, path, NULL);
}

/* What Prometheus sends. */
#define PROMETHEUS_ACCEPT \
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," \
  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

/* --- the OpenMetrics text, checked --------------------------------------- */

typedef struct
{
  GHashTable *types;    /* family -> type */
  GHashTable *samples;  /* "name{labels}" -> double, boxed */
} Page;

static void
page_free (Page *page)
{
  g_hash_table_unref (page->types);
  g_hash_table_unref (page->samples);
  g_free (page);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Page, page_free)

/* Does sample `name` belong to family `family` of `type`? */
static gboolean
sample_of_family (const char *name,
                  const char *family,
                  const char *type)
{
  gsize n = strlen (family);

  if (strncmp (name, family, n) != 0)
    return FALSE;
  name += n;
  if (strcmp (type, "counter") == 0)
    return strcmp (name, "_total") == 0;   /* counters end in _total */
  if (strcmp (type, "gauge") == 0)
    return *name == '\0';
  if (strcmp (type, "histogram") == 0)
    return strcmp (name, "_bucket") == 0 || strcmp (name, "_count") == 0 ||
           strcmp (name, "_sum") == 0;
  return FALSE;
}

/* Parses the page, failing the test at the first line that breaks the
 * OpenMetrics text format as moipgw writes it: each family has one TYPE
 * and one HELP before its samples, every sample belongs to the family
 * declared last, counters' samples end in _total, values are numbers
 * written with '.', and the page ends with "# EOF\n". */
static Page *
parse_page (const char *text)
{
  g_autoptr(Page) page = g_new0 (Page, 1);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) helped = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) sampled = g_hash_table_new (g_str_hash, g_str_equal);
  const char *family = NULL, *type = NULL;
  guint n;

  page->types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  page->samples = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_assert_true (g_str_has_suffix (text, "\n# EOF\n"));
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  g_assert_cmpuint (n, >=, 2);
  g_assert_cmpstr (lines[n - 1], ==, "");
  g_assert_cmpstr (lines[n - 2], ==, "# EOF");

  for (guint i = 0; i < n - 2; i++)
    {
      const char *line = lines[i];

      if (g_str_has_prefix (line, "# TYPE "))
        {
          g_auto(GStrv) parts = g_strsplit (line + 7, " ", -1);

          g_assert_cmpuint (g_strv_length (parts), ==, 2);
          if (g_hash_table_contains (page->types, parts[0]))
            g_error ("family %s declared twice", parts[0]);
          g_assert_true (g_strv_contains ((const char *[]) { "counter", "gauge", "histogram", NULL },
                                          parts[1]));
          /* A family name must not end like a sample of another type. */
          g_assert_false (g_str_has_suffix (parts[0], "_total"));
          g_assert_false (g_str_has_suffix (parts[0], "_bucket"));
          g_hash_table_insert (page->types, g_strdup (parts[0]), g_strdup (parts[1]));
          g_hash_table_lookup_extended (page->types, parts[0], (gpointer *) &family,
                                        (gpointer *) &type);
        }
      else if (g_str_has_prefix (line, "# HELP "))
        {
          g_assert_nonnull (family);
          g_assert_true (g_str_has_prefix (line + 7, family));
          g_assert_cmpint (line[7 + strlen (family)], ==, ' ');
          g_assert_cmpuint (strlen (line + 8 + strlen (family)), >, 0);
          g_assert_false (g_hash_table_contains (helped, family));
          g_assert_false (g_hash_table_contains (sampled, family));
          g_hash_table_add (helped, (gpointer) family);
        }
      else if (g_str_has_prefix (line, "# UNIT "))
        {
          g_auto(GStrv) parts = g_strsplit (line + 7, " ", -1);
          g_autofree char *suffix = NULL;

          g_assert_nonnull (family);
          g_assert_cmpuint (g_strv_length (parts), ==, 2);
          g_assert_cmpstr (parts[0], ==, family);
          suffix = g_strconcat ("_", parts[1], NULL);
          g_assert_true (g_str_has_suffix (family, suffix));
        }
      else
        {
          const char *space = strrchr (line, ' ');
          g_autofree char *key = NULL;
          g_autofree char *name = NULL;
          char *end = NULL;
          double value;

          if (line[0] == '#' || space == NULL)
            g_error ("line %u is neither a sample nor TYPE, UNIT, HELP: '%s'", i + 1, line);
          g_assert_nonnull (family);
          key = g_strndup (line, space - line);
          name = g_strndup (line, strcspn (line, "{ "));
          if (!sample_of_family (name, family, type))
            g_error ("sample %s does not belong to the %s %s", name, type, family);
          if (!g_hash_table_contains (helped, family))
            g_error ("sample %s before the HELP of %s", name, family);
          g_assert_false (g_hash_table_contains (page->samples, key));
          value = g_ascii_strtod (space + 1, &end);
          if (end == space + 1 || *end != '\0' || strchr (space + 1, ',') != NULL)
            g_error ("value of %s is not a number: '%s'", key, space + 1);
          if (strcmp (type, "counter") == 0)
            g_assert_cmpfloat (value, >=, 0);
          g_hash_table_insert (page->samples, g_steal_pointer (&key), g_memdup2 (&value, sizeof value));
          g_hash_table_add (sampled, (gpointer) family);
        }
    }

  /* Each family: a HELP and at least one sample; the expected ones all there. */
  {
    GHashTableIter iter;
    gpointer name;

    g_hash_table_iter_init (&iter, page->types);
    while (g_hash_table_iter_next (&iter, &name, NULL))
      {
        if (!g_hash_table_contains (helped, name))
          g_error ("family %s has no HELP", (char *) name);
        if (!g_hash_table_contains (sampled, name))
          g_error ("family %s has no sample", (char *) name);
      }
  }
  for (gsize i = 0; i < G_N_ELEMENTS (families); i++)
    {
      const char *found = g_hash_table_lookup (page->types, families[i].name);
      if (found == NULL)
        g_error ("no family %s", families[i].name);
      g_assert_cmpstr (found, ==, families[i].type);
    }
  return g_steal_pointer (&page);
}

static double
value (Page       *page,
       const char *key)
{
  const double *v = g_hash_table_lookup (page->samples, key);

  if (v == NULL)
    g_error ("no sample %s", key);
  return *v;
}

#define assert_value(page, key, expected) \
  g_assert_cmpfloat_with_epsilon (value ((page), (key)), (expected), 1e-9)

static Page *
scrape (Fixture *f)
{
  g_autoptr(Reply) reply = http_request_accept ("GET", mgw_metrics_get_port (f->metrics),
                                                "/metrics", PROMETHEUS_ACCEPT);

  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_cmpstr (reply->content_type, ==,
                   "application/openmetrics-text; version=1.0.0; charset=utf-8");
  return parse_page (reply->body);
}

/* The histogram's buckets are cumulative and end at the count. */
static void
check_histogram (Page *page)
{
  static const char *bounds[] = { "1.0", "10.0", "60.0", "300.0", "1800.0", "3600.0",
                                  "7200.0", "+Inf" };
  double previous = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (bounds); i++)
    {
      g_autofree char *key = g_strdup_printf ("moipgw_session_duration_seconds_bucket{le=\"%s\"}",
                                              bounds[i]);
      double v = value (page, key);
      g_assert_cmpfloat (v, >=, previous);
      previous = v;
    }
  assert_value (page, "moipgw_session_duration_seconds_count", previous);
}

/* --- tests --------------------------------------------------------------- */

/* A fresh gateway: every family present, well formed, all zero but the
 * start time. */
static void
test_format (Fixture *f, gconstpointer data)
{
  g_autoptr(Page) page = scrape (f);
  static const char *zero[] = {
    "moipgw_sessions_active{access=\"telnet\"}", "moipgw_sessions_active{access=\"websocket\"}",
    "moipgw_sessions_total{access=\"telnet\"}", "moipgw_sessions_total{access=\"websocket\"}",
    "moipgw_sessions_active{access=\"raw\"}", "moipgw_sessions_total{access=\"raw\"}",
    "moipgw_session_duration_seconds_count", "moipgw_session_duration_seconds_sum",
    "moipgw_command_channel_connected", "moipgw_command_messages_dropped_total",
    "moipgw_redirections_total", "moipgw_ban_list_size", "moipgw_bans_total",
    "moipgw_unbans_total", "moipgw_bans_dropped_total", "moipgw_ban_save_longest_step_seconds",
    "moipgw_ban_save_longest_step_cpu_seconds",
    "moipgw_refused_total{reason=\"banned\"}",
    "moipgw_refused_total{reason=\"full\"}", "moipgw_refused_total{reason=\"proxy\"}",
    "moipgw_refused_total{reason=\"scanner\"}", "moipgw_refused_total{reason=\"rate\"}",
    "moipgw_refused_total{reason=\"pending\"}", "moipgw_refused_total{reason=\"draining\"}",
    "moipgw_address_table_entries",
    "moipgw_timeouts_total{kind=\"user-inactivity\"}", "moipgw_timeouts_total{kind=\"session-max\"}",
    "moipgw_timeouts_total{kind=\"server-inactivity\"}",
    "moipgw_timeouts_total{kind=\"redirect-inactivity\"}",
    "moipgw_timeouts_total{kind=\"redirect-max\"}", "moipgw_bad_input_total",
    "moipgw_bad_commands_total", "moipgw_tls_handshakes_total{result=\"done\"}",
    "moipgw_tls_handshakes_total{result=\"failed\"}",
    "moipgw_tls_handshakes_total{result=\"timed_out\"}",
    "moipgw_recordings_active", "moipgw_recordings_started_total",
    "moipgw_recordings_written_bytes_total", "moipgw_recordings_dropped_bytes_total",
    "moipgw_recordings_dropped_events_total", "moipgw_recordings_failures_total",
    "moipgw_recordings_truncated_total", "moipgw_web_requests_total", "moipgw_web_errors_total",
    "moipgw_web_sent_bytes_total",
  };
  double start = value (page, "moipgw_start_time_seconds");
  double now = (double) g_get_real_time () / G_USEC_PER_SEC;

  for (gsize i = 0; i < G_N_ELEMENTS (zero); i++)
    assert_value (page, zero[i], 0);
  check_histogram (page);
  g_assert_cmpfloat (start, <=, now);
  g_assert_cmpfloat (start, >, now - 60);
  /* Nothing beyond what is checked: the zeros above, 8 buckets, the start time
   * (no wss:// listener: no certificate expiry). */
  g_assert_cmpuint (g_hash_table_size (page->samples), ==, G_N_ELEMENTS (zero) + 8 + 1);
}

static gboolean
no_sessions (gpointer data)
{
  return mgw_gateway_get_n_sessions (data) == 0;
}

/* A Telnet user arrives: the gauge and the total count it; it leaves:
 * the gauge drops, the total stays, the histogram has its duration. */
static void
test_telnet_user (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(Page) before = scrape (f);
  g_autoptr(Page) during = NULL;
  g_autoptr(Page) after = NULL;
  g_autoptr(MgwTestWs) ws = NULL;
  g_autoptr(Page) ws_page = NULL;
  g_autofree char *uri = NULL;
  gint64 connected_at;

  assert_value (before, "moipgw_sessions_active{access=\"telnet\"}", 0);
  assert_value (before, "moipgw_sessions_total{access=\"telnet\"}", 0);
  assert_value (before, "moipgw_session_duration_seconds_count", 0);

  connected_at = g_get_monotonic_time ();
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  during = scrape (f);
  assert_value (during, "moipgw_sessions_active{access=\"telnet\"}", 1);
  assert_value (during, "moipgw_sessions_active{access=\"websocket\"}", 0);
  assert_value (during, "moipgw_sessions_total{access=\"telnet\"}", 1);
  assert_value (during, "moipgw_sessions_total{access=\"websocket\"}", 0);
  assert_value (during, "moipgw_session_duration_seconds_count", 0);

  mgw_test_run_for (100);
  g_clear_pointer (&tcp, mgw_test_tcp_free);
  mgw_test_wait_until (no_sessions, f->gateway, MGW_TEST_TIMEOUT_MS, "the session to end");
  after = scrape (f);
  assert_value (after, "moipgw_sessions_active{access=\"telnet\"}", 0);
  assert_value (after, "moipgw_sessions_total{access=\"telnet\"}", 1);
  assert_value (after, "moipgw_session_duration_seconds_count", 1);
  assert_value (after, "moipgw_session_duration_seconds_bucket{le=\"+Inf\"}", 1);
  assert_value (after, "moipgw_session_duration_seconds_bucket{le=\"60.0\"}", 1);
  /* The duration itself: at least the 100 ms waited, at most the test. */
  g_assert_cmpfloat (value (after, "moipgw_session_duration_seconds_sum"), >=, 0.1);
  g_assert_cmpfloat (value (after, "moipgw_session_duration_seconds_sum"), <=,
                     (double) (g_get_monotonic_time () - connected_at) / G_USEC_PER_SEC);
  check_histogram (after);
  /* Leaving is neither a timeout nor a ban. */
  assert_value (after, "moipgw_timeouts_total{kind=\"user-inactivity\"}", 0);
  assert_value (after, "moipgw_bans_total", 0);

  /* The other access label. */
  uri = mgw_test_ws_uri (f->gateway);
  ws = mgw_test_ws_connect (uri, NULL);
  g_assert_no_error (ws->error);
  mgw_test_ws_wait_for (ws, S (STATUS ("CONNECT")));
  ws_page = scrape (f);
  assert_value (ws_page, "moipgw_sessions_active{access=\"websocket\"}", 1);
  assert_value (ws_page, "moipgw_sessions_total{access=\"websocket\"}", 1);
  assert_value (ws_page, "moipgw_sessions_total{access=\"telnet\"}", 1);
}

/* The page names no user: with a user on and addresses banned, neither
 * the user's address nor a banned one is in it (the counters are). */
static void
test_no_addresses (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(Reply) reply = NULL;
  g_autoptr(GError) error = NULL;

  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  g_assert_true (mgw_gateway_ban (f->gateway, "203.0.113.51", "manual", 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mgw_gateway_ban (f->gateway, "2001:db8:5::51", "manual", 0, NULL, &error));
  g_assert_no_error (error);
  reply = http_request ("GET", mgw_metrics_get_port (f->metrics), "/metrics");
  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_nonnull (strstr (reply->body, "moipgw_ban_list_size 2\n"));
  g_assert_nonnull (strstr (reply->body, "moipgw_sessions_active{access=\"telnet\"} 1\n"));
  g_assert_null (strstr (reply->body, "127.0.0.1"));
  g_assert_null (strstr (reply->body, "203.0.113"));
  g_assert_null (strstr (reply->body, "2001:db8"));
}

/* A raw TCP user has its own label, apart from Telnet's. */
static void
test_raw_user (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(Page) during = NULL;

  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_raw_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  during = scrape (f);
  assert_value (during, "moipgw_sessions_active{access=\"raw\"}", 1);
  assert_value (during, "moipgw_sessions_total{access=\"raw\"}", 1);
  assert_value (during, "moipgw_sessions_active{access=\"telnet\"}", 0);
  assert_value (during, "moipgw_sessions_total{access=\"telnet\"}", 0);
}

static gboolean
no_recordings (gpointer data)
{
  return mgw_gateway_get_n_recordings (data) == 0;
}

static gboolean
has_recording (gpointer data)
{
  return mgw_session_get_recording (data) != NULL;
}

/* A session recorded: the gauge while it is written, the total, the
 * bytes (the file's size) once it is closed; nothing lost or failed. */
static void
test_recorded_user (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(Page) during = NULL;
  g_autoptr(Page) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GList) sessions = NULL;
  MgwSession *session;
  struct stat st;

  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  sessions = mgw_gateway_get_sessions (f->gateway);
  session = sessions->data;
  g_assert_true (mgw_gateway_record_session (f->gateway, session, &error));
  g_assert_no_error (error);
  mgw_test_wait_until (has_recording, session, MGW_TEST_TIMEOUT_MS, "the recording's file");
  name = g_strconcat (mgw_session_get_recording (session), MGW_RECORDING_SUFFIX, NULL);
  path = g_build_filename (f->config->state_dir, "recordings", name, NULL);
  during = scrape (f);
  assert_value (during, "moipgw_recordings_active", 1);
  assert_value (during, "moipgw_recordings_started_total", 1);

  g_clear_pointer (&tcp, mgw_test_tcp_free);
  mgw_test_wait_until (no_sessions, f->gateway, MGW_TEST_TIMEOUT_MS, "the session to end");
  mgw_test_wait_until (no_recordings, f->gateway, MGW_TEST_TIMEOUT_MS, "the recording to close");
  after = scrape (f);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  assert_value (after, "moipgw_recordings_active", 0);
  assert_value (after, "moipgw_recordings_started_total", 1);
  assert_value (after, "moipgw_recordings_written_bytes_total", (double) st.st_size);
  assert_value (after, "moipgw_recordings_dropped_bytes_total", 0);
  assert_value (after, "moipgw_recordings_failures_total", 0);
  assert_value (after, "moipgw_recordings_truncated_total", 0);
}

/* Without OpenMetrics in Accept (curl, promtool): the Prometheus text
 * format 0.0.4, which the real `promtool check metrics` finds clean. */
static void
test_text_format (Fixture *f, gconstpointer data)
{
  g_autoptr(Reply) reply = http_request ("GET", mgw_metrics_get_port (f->metrics), "/metrics");
  g_autofree char *promtool = g_find_program_in_path ("promtool");
  g_autoptr(GSubprocess) check = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_cmpstr (reply->content_type, ==, "text/plain; version=0.0.4; charset=utf-8");
  g_assert_nonnull (strstr (reply->body, "# TYPE moipgw_bans_total counter\n"));
  g_assert_nonnull (strstr (reply->body, "# HELP moipgw_bans_total "));
  g_assert_nonnull (strstr (reply->body, "# TYPE moipgw_session_duration_seconds histogram\n"));
  g_assert_null (strstr (reply->body, "# EOF"));
  g_assert_null (strstr (reply->body, "# UNIT"));

  if (promtool == NULL)
    {
      g_test_skip ("promtool not installed (Debian: prometheus)");
      return;
    }
  check = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                            G_SUBPROCESS_FLAGS_STDERR_MERGE, &error,
                            promtool, "check", "metrics", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (check, reply->body, NULL, &out, NULL, &error));
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (check) || g_subprocess_get_exit_status (check) != 0)
    g_error ("promtool check metrics:\n%s\non:\n%s", out, reply->body);
}

/* Only /metrics, only GET and HEAD. */
static void
test_not_found (Fixture *f, gconstpointer data)
{
  guint16 port = mgw_metrics_get_port (f->metrics);
  static const char *paths[] = { "/", "/metric", "/metrics/", "/metrics/x", "/other" };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(Reply) reply = http_request ("GET", port, paths[i]);
      g_assert_cmpuint (reply->status, ==, 404);
      g_assert_null (strstr (reply->body, "moipgw_"));
    }
  {
    g_autoptr(Reply) reply = http_request ("POST", port, "/metrics");
    g_assert_cmpuint (reply->status, ==, 405);
  }
  {
    g_autoptr(Reply) reply = http_request ("HEAD", port, "/metrics");
    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_cmpstr (reply->body, ==, "");
  }
}

/* --- the HTTP server, byte by byte --------------------------------------- */

/* Sends `request` (in two writes, split at `split` if non-zero) on a raw
 * connection and returns all the server wrote before it closed. */
static GByteArray *
raw_exchange (guint16     port,
              const char *request,
              gsize       split)
{
  g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1", port);
  gsize len = strlen (request);

  if (split > 0 && split < len)
    {
      mgw_test_tcp_send (tcp, request, split);
      mgw_test_run_for (20);
      mgw_test_tcp_send (tcp, request + split, len - split);
    }
  else
    mgw_test_tcp_send (tcp, request, len);
  mgw_test_tcp_wait_closed (tcp);
  return g_byte_array_ref (tcp->received);
}

/* The head of a raw answer (up to the blank line, included) and its
 * Content-Length; *body the rest. */
static char *
split_answer (GByteArray  *answer,
              const char **body,
              gsize       *body_len,
              guint64     *content_length)
{
  g_autofree char *text = g_strndup ((const char *) answer->data, answer->len);
  const char *end = strstr (text, "\r\n\r\n");
  const char *cl;
  char *head;

  g_assert_nonnull (end);
  head = g_strndup (text, (gsize) (end + 4 - text));
  *body = (const char *) answer->data + (end + 4 - text);
  *body_len = answer->len - (gsize) (end + 4 - text);
  cl = strstr (head, "\r\nContent-Length: ");
  g_assert_nonnull (cl);
  *content_length = g_ascii_strtoull (cl + 18, NULL, 10);
  g_assert_nonnull (strstr (head, "\r\nConnection: close\r\n"));
  return head;
}

static void
test_raw_http (Fixture *f, gconstpointer data)
{
  guint16 port = mgw_metrics_get_port (f->metrics);
  const char *body;
  gsize body_len;
  guint64 length;

  /* A head in two pieces; the page with its exact length. */
  {
    g_autoptr(GByteArray) answer =
      raw_exchange (port, "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Accept: application/openmetrics-text\r\n\r\n", 30);
    g_autofree char *head = split_answer (answer, &body, &body_len, &length);

    g_assert_true (g_str_has_prefix (head, "HTTP/1.1 200 OK\r\n"));
    g_assert_nonnull (strstr (head, "\r\nContent-Type: application/openmetrics-text; version=1.0.0; "
                              "charset=utf-8\r\n"));
    g_assert_cmpuint (length, ==, body_len);
    g_assert_true (body_len > 6 && memcmp (body + body_len - 6, "# EOF\n", 6) == 0);
  }
  /* HEAD: the same length, no body; HTTP/1.0 needs no Host. */
  {
    g_autoptr(GByteArray) answer = raw_exchange (port, "HEAD /metrics HTTP/1.0\r\n\r\n", 0);
    g_autofree char *head = split_answer (answer, &body, &body_len, &length);

    g_assert_true (g_str_has_prefix (head, "HTTP/1.1 200 OK\r\n"));
    g_assert_cmpuint (length, >, 100);
    g_assert_cmpuint (body_len, ==, 0);
  }
  /* A method other than GET or HEAD, with a body the server never reads. */
  {
    g_autoptr(GByteArray) answer =
      raw_exchange (port, "PUT /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", 0);
    g_autofree char *head = split_answer (answer, &body, &body_len, &length);

    g_assert_true (g_str_has_prefix (head, "HTTP/1.1 405 Method Not Allowed\r\n"));
    g_assert_nonnull (strstr (head, "\r\nAllow: GET, HEAD\r\n"));
    g_assert_cmpuint (length, ==, body_len);
  }
  /* Not HTTP, no Host in HTTP/1.1, a head too large: 400, 400, 431. */
  {
    static const struct { const char *request; const char *status; } bad[] = {
      { "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "HTTP/1.1 400 " },
      { "GET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 " },
      { "GET /metrics HTTP/2.0\r\nHost: h\r\n\r\n", "HTTP/1.1 400 " },
    };
    g_autoptr(GString) huge = g_string_new ("GET /metrics HTTP/1.1\r\nHost: h\r\nX-Pad: ");

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GByteArray) answer = raw_exchange (port, bad[i].request, 0);
        g_autofree char *head = split_answer (answer, &body, &body_len, &length);

        g_assert_true (g_str_has_prefix (head, bad[i].status));
      }
    while (huge->len < 9000)
      g_string_append_c (huge, 'p');
    {
      g_autoptr(GByteArray) answer = raw_exchange (port, huge->str, 0);
      g_autofree char *head = split_answer (answer, &body, &body_len, &length);

      g_assert_true (g_str_has_prefix (head, "HTTP/1.1 431 "));
    }
  }
}

/* At most 16 clients at once: the next one gets 503 at once; when one
 * leaves, scraping works again. */
static void
test_raw_cap (Fixture *f, gconstpointer data)
{
  guint16 port = mgw_metrics_get_port (f->metrics);
  g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_test_tcp_free);
  const char *body;
  gsize body_len;
  guint64 length;

  for (guint i = 0; i < 16; i++)
    {
      g_ptr_array_add (idle, mgw_test_tcp_connect ("127.0.0.1", port));
      mgw_test_tcp_send (idle->pdata[i], "GET /metrics HTTP/1.1\r\n", 23);  /* and no more */
      mgw_test_run_for (5);  /* accepted: the listen backlog is short */
    }
  mgw_test_run_for (100);
  {
    g_autoptr(GByteArray) answer = raw_exchange (port, "GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    g_autofree char *head = split_answer (answer, &body, &body_len, &length);

    g_assert_true (g_str_has_prefix (head, "HTTP/1.1 503 "));
  }
  for (guint i = 0; i < idle->len; i++)
    g_assert_false (((MgwTestTcp *) idle->pdata[i])->closed);
  g_ptr_array_remove_index (idle, 0);
  mgw_test_run_for (100);
  {
    g_autoptr(Reply) reply = http_request ("GET", port, "/metrics");
    g_assert_cmpuint (reply->status, ==, 200);
  }
}

/* Numbers keep their '.' whatever the locale (moipgwd calls setlocale). */
static void
test_locale (Fixture *f, gconstpointer data)
{
  static const char *comma_locales[] = { "fr_FR.UTF-8", "de_DE.UTF-8", "fr_FR.utf8", "de_DE.utf8" };
  g_autofree char *saved = g_strdup (setlocale (LC_NUMERIC, NULL));
  g_autofree char *text = NULL;
  const char *set = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (comma_locales) && set == NULL; i++)
    set = setlocale (LC_NUMERIC, comma_locales[i]);
  if (set == NULL)
    {
      g_test_skip ("no locale with a decimal comma installed");
      return;
    }
  text = mgw_metrics_render (f->metrics);
  setlocale (LC_NUMERIC, saved);
  g_autoptr(Page) page = parse_page (text);
  g_assert_cmpfloat (value (page, "moipgw_start_time_seconds"), >, 1e9);
}

/* Listening fails with a message for a bad address or a taken port. */
static void
test_listen_errors (void)
{
  g_autoptr(MgwConfig) config = mgw_test_config_new ("ws://127.0.0.1:1");
  g_autoptr(MgwGateway) gateway = mgw_test_gateway_new (config);
  g_autoptr(GSocketService) busy = g_socket_service_new ();
  g_autoptr(GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (busy), NULL, &error);

  g_assert_no_error (error);
  {
    g_autoptr(MgwMetrics) metrics = mgw_metrics_new (gateway);
    g_assert_false (mgw_metrics_listen (metrics, "localhost", 0, &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "'localhost' is not an IP address"));
    g_clear_error (&error);
  }
  {
    g_autoptr(MgwMetrics) metrics = mgw_metrics_new (gateway);
    g_autofree char *needle = g_strdup_printf ("cannot serve metrics on 127.0.0.1 port %u", port);
    g_assert_false (mgw_metrics_listen (metrics, "127.0.0.1", port, &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
    if (strstr (error->message, needle) == NULL)
      g_error ("no '%s' in '%s'", needle, error->message);
    g_clear_error (&error);
  }
  {
    /* NULL: loopback. */
    g_autoptr(MgwMetrics) metrics = mgw_metrics_new (gateway);
    g_autoptr(Reply) reply = NULL;
    g_assert_true (mgw_metrics_listen (metrics, NULL, 0, &error));
    g_assert_no_error (error);
    reply = http_request ("GET", mgw_metrics_get_port (metrics), "/metrics");
    g_assert_cmpuint (reply->status, ==, 200);
  }
  mgw_gateway_stop (gateway, NULL);
  mgw_test_run_for (20);
}

/* [metrics] listen: ADDRESS:PORT or [IPV6]:PORT; empty is off. */
static void
test_config (void)
{
  static const struct { const char *text; const char *address; guint16 port; } good[] = {
    { "127.0.0.1:9002", "127.0.0.1", 9002 },
    { " 0.0.0.0:1 ", "0.0.0.0", 1 },
    { "[::1]:9002", "::1", 9002 },
    { "[2001:db8::5]:65535", "2001:db8::5", 65535 },
  };
  static const char *bad[] = {
    "localhost:9002", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
    "127.0.0.1:-1", "127.0.0.1:90x", "::1:9002", "[::1]", "[::1]9002", "[127.0.0.1]:9002",
    "[::1:9002", ":9002",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *address = NULL;
      guint16 port = 0;

      g_assert_true (mgw_value_parse_listen (good[i].text, &address, &port, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (address, ==, good[i].address);
      g_assert_cmpuint (port, ==, good[i].port);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      if (mgw_value_parse_listen (bad[i], NULL, NULL, &error))
        g_error ("'%s' accepted", bad[i]);
      g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
      g_assert_nonnull (strstr (error->message, "is not ADDRESS:PORT"));
    }

  /* Through the file and mgw_config_validate. */
  {
    g_autoptr(MgwConfig) config = mgw_config_new_default ();
    g_autoptr(GKeyFile) keyfile = g_key_file_new ();
    g_autoptr(GError) error = NULL;

    g_assert_null (config->metrics_listen);  /* off by default */
    g_assert_true (g_key_file_load_from_data (keyfile, "[metrics]\nlisten=localhost:9002\n",
                                              -1, G_KEY_FILE_NONE, NULL));
    g_assert_true (mgw_config_load_keyfile (config, keyfile, &error));
    g_assert_no_error (error);
    g_assert_false (mgw_config_validate (config, &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "[metrics] listen: 'localhost:9002' is not ADDRESS:PORT"));
  }
  {
    g_autoptr(MgwConfig) config = mgw_config_new_default ();
    g_autoptr(GKeyFile) keyfile = g_key_file_new ();
    g_autoptr(GError) error = NULL;

    g_assert_true (g_key_file_load_from_data (keyfile, "[metrics]\nlisten=\n",
                                              -1, G_KEY_FILE_NONE, NULL));
    g_assert_true (mgw_config_load_keyfile (config, keyfile, &error));
    g_assert_true (mgw_config_validate (config, &error));
    g_assert_no_error (error);
    g_assert_null (config->metrics_listen);
  }
}

/* --- moipgwd ------------------------------------------------------------- */

/* A loopback port free a moment ago. */
static guint16
free_port (void)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_socket_listener_add_address (G_SOCKET_LISTENER (service), any,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                                NULL, &bound, &error));
  g_assert_no_error (error);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* moipgwd --demo with `[metrics] listen=` in its configuration file. */
static MgwTestDaemon *
spawn_daemon (const char *listen,
              char      **config_path)
{
  g_autofree char *dir = mgw_test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "moipgw.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[metrics]\nlisten=%s\n", listen);
  g_autofree char *config_arg = g_strdup_printf ("--config=%s", path);
  g_autofree char *state_arg = g_strdup_printf ("--state-dir=%s", dir);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  *config_path = g_steal_pointer (&path);
  /* The later --config wins over the helper's empty file. */
  return mgw_test_daemon_spawn ("--no-dbus", config_arg, state_arg, "-g", dir, "--demo",
                                "--tcp", "0", "--ws", "off", "-i", "127.0.0.1", NULL);
}

static void
test_daemon (void)
{
  guint16 port = free_port ();
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *needle = g_strdup_printf ("serving metrics on http://127.0.0.1:%u/metrics", port);
  g_autofree char *config_path = NULL;
  g_autoptr(MgwTestDaemon) d = spawn_daemon (listen, &config_path);
  MgwTestOutputWait serving = { d, needle };
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(Reply) reply = NULL;
  g_autoptr(Page) page = NULL;
  guint16 telnet_port = mgw_test_daemon_port (d, "Telnet");

  mgw_test_wait_until (mgw_test_daemon_output_has, &serving, MGW_TEST_TIMEOUT_MS, needle);
  g_assert_false (d->exited);
  tcp = mgw_test_tcp_connect ("127.0.0.1", telnet_port);
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  reply = http_request_accept ("GET", port, "/metrics", PROMETHEUS_ACCEPT);
  g_assert_cmpuint (reply->status, ==, 200);
  page = parse_page (reply->body);
  assert_value (page, "moipgw_sessions_active{access=\"telnet\"}", 1);
  assert_value (page, "moipgw_sessions_total{access=\"telnet\"}", 1);

  g_subprocess_send_signal (d->process, SIGTERM);
  mgw_test_daemon_wait_exit (d, 3000);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 0);
}

/* A taken port: exit status 1 and a message naming the setting. */
static void
test_daemon_port_in_use (void)
{
  g_autoptr(GSocketService) busy = g_socket_service_new ();
  g_autoptr(GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (busy), NULL, &error);
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *config_path = NULL;
  g_autoptr(MgwTestDaemon) d = NULL;

  g_assert_no_error (error);
  d = spawn_daemon (listen, &config_path);
  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 1);
  if (strstr (d->err->str, "moipgwd: cannot serve the metrics ([metrics] listen=") == NULL ||
      strstr (d->err->str, listen) == NULL)
    g_error ("no clear message in:\n%s", d->err->str);
}

/* A malformed value: exit status 2 before anything listens. */
static void
test_daemon_bad_value (void)
{
  g_autofree char *config_path = NULL;
  g_autoptr(MgwTestDaemon) d = spawn_daemon ("localhost:9002", &config_path);

  mgw_test_daemon_wait_exit (d, MGW_TEST_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 2);
  if (strstr (d->err->str, "[metrics] listen: 'localhost:9002' is not ADDRESS:PORT") == NULL)
    g_error ("no clear message in:\n%s", d->err->str);
  g_assert_null (strstr (d->err->str, "listening for"));
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, setup, func, teardown)

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  ADD ("/metrics/format", test_format);
  ADD ("/metrics/telnet-user", test_telnet_user);
  ADD ("/metrics/raw-user", test_raw_user);
  ADD ("/metrics/recorded-user", test_recorded_user);
  ADD ("/metrics/no-addresses", test_no_addresses);
  ADD ("/metrics/not-found", test_not_found);
  ADD ("/metrics/text-format", test_text_format);
  ADD ("/metrics/raw-http", test_raw_http);
  ADD ("/metrics/raw-cap", test_raw_cap);
  ADD ("/metrics/locale", test_locale);
  g_test_add_func ("/metrics/listen-errors", test_listen_errors);
  g_test_add_func ("/metrics/config", test_config);
  g_test_add_func ("/metrics/daemon/serves", test_daemon);
  g_test_add_func ("/metrics/daemon/port-in-use", test_daemon_port_in_use);
  g_test_add_func ("/metrics/daemon/bad-value", test_daemon_bad_value);
  return g_test_run ();
}
