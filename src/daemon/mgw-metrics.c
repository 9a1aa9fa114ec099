/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-metrics.c: the gateway's counters for Prometheus.
 *
 * A tiny HTTP/1.1 server of its own (not the WebSocket listener: users
 * must not reach it) answers GET /metrics with the OpenMetrics text
 * format when the scraper asks for it (Prometheus does, in Accept), the
 * Prometheus text format 0.0.4 otherwise (curl, promtool). Every
 * number is read from the gateway at each scrape, except the session
 * duration histogram, fed by "session-removed". Numbers are written with
 * g_ascii_* so that the daemon's locale never turns a '.' into a ','. */
#include "config.h"

#include "mgw-metrics.h"
#include "mgw-error.h"

#include "mgw-poller.h"
#include "mgw-http.h"

#include <glib/gi18n.h>
#include <string.h>

/* Upper bounds of the session duration buckets, seconds; +Inf follows. */
static const double duration_bounds[] = { 1, 10, 60, 300, 1800, 3600, 7200 };
#define N_BUCKETS (G_N_ELEMENTS (duration_bounds) + 1)

struct _MgwMetrics
{
  GObject         parent_instance;

  MgwGateway     *gateway;
  gulong          session_removed_id;
  GSocketService *service;
  GPtrArray      *clients;                      /* of Client, being served */
  guint16         port;

  guint64         duration_buckets[N_BUCKETS];  /* per bucket, not cumulative */
  guint64         duration_count;
  double          duration_sum;                 /* seconds */
};

G_DEFINE_FINAL_TYPE (MgwMetrics, mgw_metrics, G_TYPE_OBJECT)

static void
session_removed_cb (MgwGateway *gateway,
                    MgwSession *session,
                    MgwMetrics *self)
{
  double seconds = (double) mgw_session_get_duration (session) / G_USEC_PER_SEC;
  guint i = 0;

  while (i < G_N_ELEMENTS (duration_bounds) && seconds > duration_bounds[i])
    i++;
  self->duration_buckets[i]++;
  self->duration_count++;
  self->duration_sum += MAX (seconds, 0);
}

/* --- the text ------------------------------------------------------------ */

static void
family (GString    *out,
        const char *name,
        const char *type,
        const char *unit,
        const char *help)
{
  g_string_append_printf (out, "# TYPE %s %s\n", name, type);
  if (unit != NULL)
    g_string_append_printf (out, "# UNIT %s %s\n", name, unit);
  g_string_append_printf (out, "# HELP %s %s\n", name, help);
}

static void
sample_uint (GString    *out,
             const char *name,
             const char *labels,
             guint64     value)
{
  g_string_append_printf (out, "%s%s %" G_GUINT64_FORMAT "\n", name, labels ? labels : "", value);
}

static void
sample_double (GString    *out,
               const char *name,
               const char *labels,
               double      value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "%s%s %s\n", name, labels ? labels : "",
                          g_ascii_formatd (buf, sizeof buf, "%.6f", value));
}

/* A counter family NAME, its one sample NAME_total. */
static void
counter (GString    *out,
         const char *name,
         const char *help,
         guint64     value)
{
  g_autofree char *total = g_strconcat (name, "_total", NULL);

  family (out, name, "counter", NULL, help);
  sample_uint (out, total, NULL, value);
}

static const char *
access_label (MgwAccess access)
{
  switch (access)
    {
    case MGW_ACCESS_TELNET:
      return "telnet";
    case MGW_ACCESS_WS:
      return "websocket";
    case MGW_ACCESS_RAW:
      return "raw";
    case MGW_N_ACCESS:
    default:
      return "unknown";
    }
}

static void
render_sessions (MgwMetrics        *self,
                 GString           *out,
                 const MgwCounters *c)
{
  family (out, "moipgw_sessions_active", "gauge", NULL,
          "User sessions open now.");
  for (MgwAccess a = 0; a < MGW_N_ACCESS; a++)
    {
      g_autofree char *labels = g_strdup_printf ("{access=\"%s\"}", access_label (a));
      sample_uint (out, "moipgw_sessions_active", labels,
                   mgw_gateway_get_n_sessions_by_access (self->gateway, a));
    }
  family (out, "moipgw_sessions", "counter", NULL,
          "User sessions since start.");
  for (MgwAccess a = 0; a < MGW_N_ACCESS; a++)
    {
      g_autofree char *labels = g_strdup_printf ("{access=\"%s\"}", access_label (a));
      sample_uint (out, "moipgw_sessions_total", labels, c->sessions_total[a]);
    }
}

static void
render_duration (MgwMetrics *self,
                 GString    *out)
{
  const char *name = "moipgw_session_duration_seconds";
  guint64 cumulative = 0;

  family (out, name, "histogram", "seconds",
          "Duration of the user sessions that ended since start.");
  for (guint i = 0; i < N_BUCKETS; i++)
    {
      char bound[G_ASCII_DTOSTR_BUF_SIZE];
      g_autofree char *labels = NULL;

      cumulative += self->duration_buckets[i];
      if (i < G_N_ELEMENTS (duration_bounds))
        g_ascii_formatd (bound, sizeof bound, "%.1f", duration_bounds[i]);
      else
        g_strlcpy (bound, "+Inf", sizeof bound);
      labels = g_strdup_printf ("{le=\"%s\"}", bound);
      sample_uint (out, "moipgw_session_duration_seconds_bucket", labels, cumulative);
    }
  sample_uint (out, "moipgw_session_duration_seconds_count", NULL, self->duration_count);
  sample_double (out, "moipgw_session_duration_seconds_sum", NULL, self->duration_sum);
}

/* The wss:// listener: its handshakes and when its certificate expires
 * (an alert on time() > this, well before). */
static void
render_tls (MgwMetrics *self,
            GString    *out)
{
  MgwTlsHandshakes *h = mgw_gateway_get_tls_handshakes (self->gateway);
  MgwTlsIdentity *identity = mgw_gateway_get_tls_identity (self->gateway);
  const struct { const char *result; guint64 value; } results[] = {
    { "done", mgw_tls_handshakes_get_done (h) },
    { "failed", mgw_tls_handshakes_get_failed (h) },
    { "timed_out", mgw_tls_handshakes_get_timed_out (h) },
  };

  family (out, "moipgw_tls_handshakes", "counter", NULL,
          "wss:// TLS handshakes since start, by result: done, failed (not TLS, "
          "no common version or cipher), timed_out ([server] connect-timeout).");
  for (gsize i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autofree char *labels = g_strdup_printf ("{result=\"%s\"}", results[i].result);
      sample_uint (out, "moipgw_tls_handshakes_total", labels, results[i].value);
    }
  if (identity == NULL)
    return;
  family (out, "moipgw_tls_certificate_expiry_seconds", "gauge", "seconds",
          "When the wss:// listener's certificate expires, seconds since the Unix epoch.");
  sample_double (out, "moipgw_tls_certificate_expiry_seconds", NULL,
                 (double) mgw_tls_identity_get_not_after (identity) / G_USEC_PER_SEC);
}

/* Session recordings (mgw-recorder.c): the disk's trouble shows here
 * first (dropped: it does not keep up; failures: full, or failing). */
static void
render_recordings (MgwMetrics        *self,
                   GString           *out,
                   const MgwCounters *c)
{
  family (out, "moipgw_recordings_active", "gauge", NULL,
          "Session recordings being written now (ended sessions' until their file is closed).");
  sample_uint (out, "moipgw_recordings_active", NULL, mgw_gateway_get_n_recordings (self->gateway));
  counter (out, "moipgw_recordings_started",
           "Session recordings begun (their file created) since start.", c->recordings_started);
  counter (out, "moipgw_recordings_written_bytes",
           "Bytes written to session recordings since start.", c->recording_bytes);
  counter (out, "moipgw_recordings_dropped_bytes",
           "Bytes of the sessions not recorded because the disk did not keep up, since start.",
           c->recording_dropped_bytes);
  counter (out, "moipgw_recordings_dropped_events",
           "Chunks and marks not recorded because the disk did not keep up, since start.",
           c->recording_dropped_events);
  counter (out, "moipgw_recordings_failures",
           "Session recordings that could not be created or were stopped by a write error "
           "(a full disk), since start.", c->recording_failures);
  counter (out, "moipgw_recordings_truncated",
           "Session recordings that reached [recording] max-size, since start.",
           c->recordings_truncated);
}

static void
render_web (GString           *out,
            const MgwCounters *c)
{
  counter (out, "moipgw_web_requests",
           "Plain HTTP requests answered on the WebSocket port ([web]) since start.",
           c->web_requests);
  counter (out, "moipgw_web_errors",
           "Plain HTTP requests answered with an error (4xx, 5xx) since start.", c->web_errors);
  counter (out, "moipgw_web_sent_bytes",
           "Bytes of the bodies of plain HTTP answers since start.", c->web_bytes);
}

char *
mgw_metrics_render (MgwMetrics *self)
{
  const MgwCounters *c = mgw_gateway_get_counters (self->gateway);
  MgwCommandLink *link = mgw_gateway_get_command_link (self->gateway);
  MgwBanList *bans = mgw_gateway_get_ban_list (self->gateway);
  static const struct { const char *reason; gsize offset; } refused[] = {
    { "banned", G_STRUCT_OFFSET (MgwCounters, refused_banned) },
    { "full", G_STRUCT_OFFSET (MgwCounters, refused_full) },
    { "proxy", G_STRUCT_OFFSET (MgwCounters, proxy_refused) },
    { "scanner", G_STRUCT_OFFSET (MgwCounters, scanners) },
    { "rate", G_STRUCT_OFFSET (MgwCounters, refused_rate) },
    { "pending", G_STRUCT_OFFSET (MgwCounters, refused_pending) },
    { "draining", G_STRUCT_OFFSET (MgwCounters, refused_draining) },
  };
  GString *out = g_string_sized_new (4096);

  g_return_val_if_fail (MGW_IS_METRICS (self), NULL);

  render_sessions (self, out, c);
  render_duration (self, out);

  family (out, "moipgw_start_time_seconds", "gauge", "seconds",
          "When the gateway started, seconds since the Unix epoch.");
  sample_double (out, "moipgw_start_time_seconds", NULL,
                 (double) mgw_gateway_get_start_time (self->gateway) / G_USEC_PER_SEC);

  family (out, "moipgw_command_channel_connected", "gauge", NULL,
          "1 when the Teletel command channel is connected, else 0.");
  sample_uint (out, "moipgw_command_channel_connected", NULL,
               link != NULL && mgw_command_link_get_connected (link) ? 1 : 0);
  counter (out, "moipgw_command_messages_dropped",
           "Messages to Teletel dropped while the command channel was down and its queue full.",
           link != NULL ? mgw_command_link_get_dropped (link) : 0);

  counter (out, "moipgw_redirections",
           "Redirections that reached their target since start.", c->redirections);

  family (out, "moipgw_ban_list_size", "gauge", NULL, "Addresses banned now.");
  sample_uint (out, "moipgw_ban_list_size", NULL, bans != NULL ? mgw_ban_list_get_size (bans) : 0);
  counter (out, "moipgw_bans", "Addresses banned since start (every rule, and manual bans).",
           bans != NULL ? mgw_ban_list_get_bans (bans) : 0);
  counter (out, "moipgw_unbans", "Bans removed since start (expired or manual).",
           bans != NULL ? mgw_ban_list_get_unbans (bans) : 0);
  counter (out, "moipgw_bans_dropped",
           "Bans dropped since start because the list was full ([bans] max-entries).",
           bans != NULL ? mgw_ban_list_get_dropped (bans) : 0);
  family (out, "moipgw_ban_save_longest_step_seconds", "gauge", "seconds",
          "The longest the main loop was held by one step of a ban list save, since start.");
  sample_double (out, "moipgw_ban_save_longest_step_seconds", NULL,
                 bans != NULL ? mgw_ban_list_get_longest_slice (bans, NULL) / 1e6 : 0);
  {
    gint64 cpu = 0;

    if (bans != NULL)
      mgw_ban_list_get_longest_slice (bans, &cpu);
    family (out, "moipgw_ban_save_longest_step_cpu_seconds", "gauge", "seconds",
            "The most CPU time one step of a ban list save took, since start.");
    sample_double (out, "moipgw_ban_save_longest_step_cpu_seconds", NULL, cpu / 1e6);
  }

  family (out, "moipgw_address_table_entries", "gauge", NULL,
          "Entries in the tables kept by peer address (sessions, connections not yet "
          "sessions, connection rates), each bounded.");
  sample_uint (out, "moipgw_address_table_entries", NULL,
               mgw_gateway_get_address_table_size (self->gateway));

  family (out, "moipgw_refused", "counter", NULL,
          "Connections turned away: banned address, session caps (full), "
          "bad or untrusted PROXY header (proxy), first bytes in another protocol "
          "(scanner), [bans] connection-rate (rate), [session] max-pending-per-address "
          "(pending), the gateway draining (draining).");
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *labels = g_strdup_printf ("{reason=\"%s\"}", refused[i].reason);
      sample_uint (out, "moipgw_refused_total", labels,
                   G_STRUCT_MEMBER (guint64, c, refused[i].offset));
    }

  family (out, "moipgw_timeouts", "counter", NULL,
          "Sessions or redirections ended by a timeout, by kind.");
  for (MgwTimeout t = 0; t < MGW_N_TIMEOUTS; t++)
    {
      g_autofree char *labels = g_strdup_printf ("{kind=\"%s\"}", mgw_timeout_to_string (t));
      sample_uint (out, "moipgw_timeouts_total", labels, c->timeouts[t]);
    }

  counter (out, "moipgw_bad_input",
           "Frames and byte sequences refused from any peer (counted, dropped).", c->bad_input);
  counter (out, "moipgw_bad_commands",
           "Command channel lines ignored (malformed, unknown or busy session).",
           c->bad_commands + (link != NULL ? mgw_command_link_get_bad_commands (link) : 0));

  render_recordings (self, out, c);
  render_web (out, c);
  render_tls (self, out);
  g_string_append (out, "# EOF\n");
  return g_string_free (out, FALSE);
}

char *
mgw_metrics_to_text_format (const char *openmetrics)
{
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) counters = NULL;
  GString *out;

  g_return_val_if_fail (openmetrics != NULL, NULL);

  lines = g_strsplit (openmetrics, "\n", -1);
  counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  out = g_string_sized_new (strlen (openmetrics) + 256);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      g_auto(GStrv) words = NULL;

      if (*line == '\0' || g_str_equal (line, "# EOF") || g_str_has_prefix (line, "# UNIT "))
        continue;
      if (!g_str_has_prefix (line, "# TYPE ") && !g_str_has_prefix (line, "# HELP "))
        {
          g_string_append_printf (out, "%s\n", line);
          continue;
        }
      /* "# TYPE name counter", "# HELP name text": a counter family is
       * named after its sample, NAME_total, in the older format. */
      words = g_strsplit (line + 7, " ", 2);
      if (words[0] == NULL || words[1] == NULL)
        continue;
      if (line[2] == 'T' && g_str_equal (words[1], "counter"))
        g_hash_table_add (counters, g_strdup (words[0]));
      g_string_append_printf (out, "# %.4s %s%s %s\n", line + 2, words[0],
                              g_hash_table_contains (counters, words[0]) ? "_total" : "",
                              words[1]);
    }
  return g_string_free (out, FALSE);
}

/* --- the server ---------------------------------------------------------- */

/* A scrape is one short request: its head is bounded, it has a deadline,
 * and only a few are served at once (the others get 503 at once). Each
 * answer ends with "Connection: close"; reading and writing are GIO's
 * asynchronous calls on the socket's pollable streams (no thread). */
#define HEAD_MAX          (8 * 1024)
#define CLIENTS_MAX       16
#define CLIENT_TIMEOUT_MS 10000
#define READ_CHUNK        1024
/* After the answer, what the client still sends is read and dropped (up
 * to this much) before the socket is closed, so that the kernel does not
 * answer unread bytes with a reset that could destroy the answer. */
#define DRAIN_MAX         (64 * 1024)

#define NOT_FOUND "Not found: the metrics are at /metrics\n"
#define NOT_ALLOWED "Method not allowed: GET or HEAD\n"

typedef struct
{
  MgwMetrics        *metrics;      /* NULL once the server is gone */
  GSocketConnection *conn;
  GCancellable      *cancellable;
  GByteArray        *in;           /* the request head so far */
  char              *answer;
  gsize              answer_len;
  gsize              drained;
  MgwTimer           deadline;
  guint8             chunk[READ_CHUNK];
} Client;

static void
client_done (Client *client)
{
  mgw_timer_stop (&client->deadline);
  if (client->metrics != NULL)
    g_ptr_array_remove_fast (client->metrics->clients, client);
  g_io_stream_close (G_IO_STREAM (client->conn), NULL, NULL);
  g_object_unref (client->conn);
  g_object_unref (client->cancellable);
  g_byte_array_unref (client->in);
  g_free (client->answer);
  g_free (client);
}

static void
client_deadline_cb (gpointer user_data)
{
  Client *client = user_data;

  /* The pending read or write ends with G_IO_ERROR_CANCELLED. */
  g_debug ("metrics: a client took more than %u s", CLIENT_TIMEOUT_MS / 1000);
  g_cancellable_cancel (client->cancellable);
}

static void
drain_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Client *client = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0 || client->metrics == NULL)
    {
      client_done (client);
      return;
    }
  client->drained += (gsize) n;
  if (client->drained >= DRAIN_MAX)
    {
      client_done (client);
      return;
    }
  g_input_stream_read_async (G_INPUT_STREAM (source), client->chunk, sizeof client->chunk,
                             G_PRIORITY_DEFAULT, client->cancellable, drain_cb, client);
}

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;
  GSocket *socket = g_socket_connection_get_socket (client->conn);

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error) ||
      client->metrics == NULL)
    {
      if (error != NULL)
        g_debug ("metrics: cannot answer: %s", error->message);
      client_done (client);
      return;
    }
  /* Our side is done: the client sees the end of the answer. */
  g_socket_shutdown (socket, FALSE, TRUE, NULL);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (client->conn)),
                             client->chunk, sizeof client->chunk, G_PRIORITY_DEFAULT,
                             client->cancellable, drain_cb, client);
}

static void
client_answer (Client *client,
               char   *answer)
{
  client->answer = answer;
  client->answer_len = strlen (answer);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (client->conn)),
                                   client->answer, client->answer_len, G_PRIORITY_DEFAULT,
                                   client->cancellable, written_cb, client);
}

static char *
response (guint       status,
          const char *reason,
          const char *headers,
          const char *content_type,
          const char *body,
          gboolean    with_body)
{
  gsize length = strlen (body);

  return g_strdup_printf ("HTTP/1.1 %u %s\r\n"
                          "%s"
                          "Content-Type: %s\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                          "Connection: close\r\n"
                          "\r\n"
                          "%s",
                          status, reason, headers, content_type, length,
                          with_body ? body : "");
}

/* GET or HEAD /metrics: the page; any other path: 404; any other
 * method on /metrics: 405. */
static char *
answer_request (MgwMetrics  *self,
                MgwHttpHead *head)
{
  const char *method = mgw_http_head_get_method (head);
  g_autofree char *path = mgw_http_head_get_path (head);
  gboolean is_head = strcmp (method, "HEAD") == 0;
  g_autofree char *text = NULL;
  const char *accept;

  if (strcmp (path, "/metrics") != 0)
    return response (404, "Not Found", "", "text/plain; charset=utf-8", NOT_FOUND, !is_head);
  if (strcmp (method, "GET") != 0 && !is_head)
    return response (405, "Method Not Allowed", "Allow: GET, HEAD\r\n",
                     "text/plain; charset=utf-8", NOT_ALLOWED, TRUE);
  text = mgw_metrics_render (self);
  accept = mgw_http_head_get (head, "Accept");
  if (accept == NULL || strstr (accept, "application/openmetrics-text") == NULL)
    {
      g_autofree char *older = mgw_metrics_to_text_format (text);
      return response (200, "OK", "Cache-Control: no-store\r\nVary: Accept\r\n",
                       MGW_METRICS_TEXT_CONTENT_TYPE, older, !is_head);
    }
  return response (200, "OK", "Cache-Control: no-store\r\nVary: Accept\r\n",
                   MGW_METRICS_CONTENT_TYPE, text, !is_head);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwHttpHead) head = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  gsize head_len = 0;
  guint status = 0;

  if (n <= 0 || client->metrics == NULL)
    {
      /* An error, a deadline, the server gone, or the client left. */
      client_done (client);
      return;
    }
  g_byte_array_append (client->in, client->chunk, (guint) n);
  switch (mgw_http_parse_request (client->in->data, client->in->len, HEAD_MAX, &head_len, &head,
                                  &status, &error))
    {
    case MGW_HTTP_INCOMPLETE:
      g_input_stream_read_async (G_INPUT_STREAM (source), client->chunk, sizeof client->chunk,
                                 G_PRIORITY_DEFAULT, client->cancellable, read_cb, client);
      break;
    case MGW_HTTP_INVALID:
      g_debug ("metrics: bad request (%u): %s", status, error->message);
      client_answer (client, mgw_http_error_response (status));
      break;
    case MGW_HTTP_COMPLETE:
      g_debug ("metrics: %s %s", mgw_http_head_get_method (head), mgw_http_head_get_target (head));
      client_answer (client, answer_request (client->metrics, head));
      break;
    }
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *conn,
             GObject           *source,
             MgwMetrics        *self)
{
  Client *client;

  if (self->clients->len >= CLIENTS_MAX)
    {
      g_autofree char *busy = mgw_http_error_response (503);
      GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));

      /* A fresh socket takes a few bytes at once; never wait for it. */
      g_debug ("metrics: %u clients already, one more turned away", CLIENTS_MAX);
      g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (out), busy,
                                                  strlen (busy), NULL, NULL);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      return TRUE;
    }
  client = g_new0 (Client, 1);
  client->metrics = self;
  client->conn = g_object_ref (conn);
  client->cancellable = g_cancellable_new ();
  client->in = g_byte_array_new ();
  mgw_timer_init (&client->deadline, client_deadline_cb, client);
  mgw_timer_start (&client->deadline, CLIENT_TIMEOUT_MS);
  g_ptr_array_add (self->clients, client);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (conn)), client->chunk,
                             sizeof client->chunk, G_PRIORITY_DEFAULT, client->cancellable,
                             read_cb, client);
  return TRUE;
}

gboolean
mgw_metrics_listen (MgwMetrics  *self,
                    const char  *address,
                    guint16      port,
                    GError     **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (MGW_IS_METRICS (self), FALSE);
  g_return_val_if_fail (self->service == NULL, FALSE);

  if (address == NULL)
    address = "127.0.0.1";
  inet = g_inet_address_new_from_string (address);
  if (inet == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("metrics: '%s' is not an IP address"), address);
      return FALSE;
    }
  socket_address = g_inet_socket_address_new (inet, port);

  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), socket_address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                      &bound, &local))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("cannot serve metrics on %s port %u: %s"), address, port, local->message);
      g_clear_object (&self->service);
      return FALSE;
    }
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_socket_service_start (self->service);
  g_message ("serving metrics on http://%s%s%s:%u/metrics",
             strchr (address, ':') ? "[" : "", address, strchr (address, ':') ? "]" : "",
             self->port);
  return TRUE;
}

guint16
mgw_metrics_get_port (MgwMetrics *self)
{
  g_return_val_if_fail (MGW_IS_METRICS (self), 0);

  return self->port;
}

MgwMetrics *
mgw_metrics_new (MgwGateway *gateway)
{
  MgwMetrics *self;

  g_return_val_if_fail (MGW_IS_GATEWAY (gateway), NULL);

  self = g_object_new (MGW_TYPE_METRICS, NULL);
  self->gateway = g_object_ref (gateway);
  self->session_removed_id = g_signal_connect (gateway, "session-removed",
                                               G_CALLBACK (session_removed_cb), self);
  return self;
}

static void
mgw_metrics_dispose (GObject *object)
{
  MgwMetrics *self = MGW_METRICS (object);

  if (self->service != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->service, self);
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }
  /* Clients in flight end as their pending call returns, cancelled. */
  for (guint i = 0; self->clients != NULL && i < self->clients->len; i++)
    {
      Client *client = g_ptr_array_index (self->clients, i);

      client->metrics = NULL;
      mgw_timer_stop (&client->deadline);
      g_cancellable_cancel (client->cancellable);
    }
  g_clear_pointer (&self->clients, g_ptr_array_unref);
  if (self->gateway != NULL)
    {
      g_clear_signal_handler (&self->session_removed_id, self->gateway);
      g_clear_object (&self->gateway);
    }
  G_OBJECT_CLASS (mgw_metrics_parent_class)->dispose (object);
}

static void
mgw_metrics_class_init (MgwMetricsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mgw_metrics_dispose;
}

static void
mgw_metrics_init (MgwMetrics *self)
{
  self->clients = g_ptr_array_new ();
}
