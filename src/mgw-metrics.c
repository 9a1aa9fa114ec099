/* mgw-metrics.c: the gateway's counters for Prometheus.
 *
 * A SoupServer of its own (not the WebSocket listener: users must not
 * reach it) answers GET /metrics with the OpenMetrics text format. Every
 * number is read from the gateway at each scrape, except the session
 * duration histogram, fed by "session-removed". Numbers are written with
 * g_ascii_* so that the daemon's locale never turns a '.' into a ','. */
#include "config.h"

#include "mgw-metrics.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

/* Upper bounds of the session duration buckets, seconds; +Inf follows. */
static const double duration_bounds[] = { 1, 10, 60, 300, 1800, 3600, 7200 };
#define N_BUCKETS (G_N_ELEMENTS (duration_bounds) + 1)

struct _MgwMetrics
{
  GObject     parent_instance;

  MgwGateway *gateway;
  gulong      session_removed_id;
  SoupServer *server;
  guint16     port;

  guint64     duration_buckets[N_BUCKETS];  /* per bucket, not cumulative */
  guint64     duration_count;
  double      duration_sum;                 /* seconds */
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
  return access == MGW_ACCESS_TELNET ? "telnet" : "websocket";
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

  family (out, "moipgw_refused", "counter", NULL,
          "Connections turned away: banned address, session caps (full), "
          "bad or untrusted PROXY header (proxy).");
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

  g_string_append (out, "# EOF\n");
  return g_string_free (out, FALSE);
}

/* --- the server ---------------------------------------------------------- */

#define NOT_FOUND "Not found: the metrics are at /metrics\n"

static void
request_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            MgwMetrics        *self)
{
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *text = NULL;
  gsize length;

  if (strcmp (path, "/metrics") != 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC,
                                        NOT_FOUND, strlen (NOT_FOUND));
      return;
    }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      soup_message_headers_replace (headers, "Allow", "GET, HEAD");
      return;
    }
  text = mgw_metrics_render (self);
  length = strlen (text);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_response (msg, MGW_METRICS_CONTENT_TYPE, SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&text), length);
}

gboolean
mgw_metrics_listen (MgwMetrics  *self,
                    const char  *address,
                    guint16      port,
                    GError     **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GError) local = NULL;
  GSList *listeners;

  g_return_val_if_fail (MGW_IS_METRICS (self), FALSE);
  g_return_val_if_fail (self->server == NULL, FALSE);

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

  self->server = soup_server_new ("server-header", NULL, NULL);
  soup_server_add_handler (self->server, NULL, (SoupServerCallback) request_cb, self, NULL);
  if (!soup_server_listen (self->server, socket_address, 0, &local))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("cannot serve metrics on %s port %u: %s"), address, port, local->message);
      g_clear_object (&self->server);
      return FALSE;
    }
  listeners = soup_server_get_listeners (self->server);
  if (listeners != NULL)
    {
      g_autoptr(GSocketAddress) bound = g_socket_get_local_address (listeners->data, NULL);
      if (bound != NULL)
        self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    }
  g_slist_free (listeners);
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

  if (self->server != NULL)
    {
      soup_server_disconnect (self->server);
      g_clear_object (&self->server);
    }
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
}
