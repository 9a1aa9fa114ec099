/* mgw-session.c: one user's session.
 *
 * A session joins the user's link to a link to the default server, both
 * MgwLink: it never knows whether either is Telnet or WebSocket. It sends
 * the welcome line, opens the upstream, relays bytes both ways (holding a
 * trailing SEP until its key code arrives), applies back-pressure between
 * the two queues, watches the timeouts of SPEC §9 and tells the user on
 * the status line why the session ends. */
#include "config.h"

#include "mgw-session.h"
#include "mgw-error.h"
#include "mgw-link-ws.h"
#include "mgw-minitel.h"

#include <glib/gi18n.h>
#include <stdarg.h>

struct _MgwSession
{
  GObject          parent_instance;

  guint            id;
  MgwAccess        access;
  char            *peer_address;
  guint16          peer_port;
  MgwConfig       *config;
  SoupSession     *soup;

  MgwLink         *user;
  MgwLink         *server;       /* the default server */
  MgwSessionState  state;
  char            *end_reason;

  gint64           start_wall;   /* µs since the epoch */
  gint64           start_mono;   /* monotonic µs */
  gint64           last_user;
  gint64           last_server;
  guint            timeout_id;
  gboolean         sep_held;
  guint            sep_timeout_id;
};

G_DEFINE_FINAL_TYPE (MgwSession, mgw_session, G_TYPE_OBJECT)

enum {
  SIGNAL_TIMED_OUT,
  SIGNAL_ENDED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

const char *
mgw_timeout_to_string (MgwTimeout timeout)
{
  switch (timeout)
    {
    case MGW_TIMEOUT_USER_INACTIVITY:
      return "user-inactivity";
    case MGW_TIMEOUT_SESSION_MAX:
      return "session-max";
    case MGW_TIMEOUT_SERVER_INACTIVITY:
      return "server-inactivity";
    case MGW_N_TIMEOUTS:
    default:
      return "unknown";
    }
}

static void session_log (MgwSession     *self,
                         GLogLevelFlags  level,
                         const char     *format,
                         ...) G_GNUC_PRINTF (3, 4);

/* Logs with the session id and peer as journal fields. */
static void
session_log (MgwSession     *self,
             GLogLevelFlags  level,
             const char     *format,
             ...)
{
  g_autofree char *text = NULL;
  char id[16];
  va_list args;

  if (level == G_LOG_LEVEL_DEBUG &&
      g_log_writer_default_would_drop (level, G_LOG_DOMAIN))
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_snprintf (id, sizeof id, "%u", self->id);

  const GLogField fields[] = {
    { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
    { "MESSAGE", NULL, -1 },
    { "MGW_SESSION_ID", id, -1 },
    { "MGW_PEER", self->peer_address, -1 },
  };
  g_autofree char *message = g_strdup_printf ("session %u (%s %s:%u): %s",
                                              self->id,
                                              mgw_access_to_string (self->access),
                                              self->peer_address,
                                              self->peer_port, text);
  GLogField *f = (GLogField *) fields;
  f[1].value = message;
  g_log_structured_array (level, fields, G_N_ELEMENTS (fields));
}

static void
send_status (MgwSession *self,
             const char *text)
{
  g_autoptr(GBytes) line = mgw_minitel_status_line (text);
  mgw_link_send (self->user, line);
}

static void
send_text (MgwSession *self,
           const char *text)
{
  mgw_link_send_data (self->user, (const guint8 *) text, strlen (text));
}

static void
maybe_finish (MgwSession *self)
{
  if (self->state != MGW_SESSION_CLOSING)
    return;
  if (mgw_link_get_state (self->user) != MGW_LINK_CLOSED)
    return;
  if (self->server != NULL && mgw_link_get_state (self->server) != MGW_LINK_CLOSED)
    return;

  self->state = MGW_SESSION_CLOSED;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_handle_id (&self->sep_timeout_id, g_source_remove);
  session_log (self, G_LOG_LEVEL_MESSAGE,
               "ended after %.1f s: %s; %" G_GUINT64_FORMAT " bytes from the user, %"
               G_GUINT64_FORMAT " to the user",
               (g_get_monotonic_time () - self->start_mono) / (double) G_USEC_PER_SEC,
               self->end_reason,
               mgw_link_get_bytes_in (self->user),
               mgw_link_get_bytes_out (self->user));
  g_signal_emit (self, signals[SIGNAL_ENDED], 0);
}

/* Ends the session: `status`, when not NULL, goes to the user's status
 * line first; both links close. */
void
mgw_session_end (MgwSession *self,
                 const char *status)
{
  if (self->state >= MGW_SESSION_CLOSING)
    return;

  g_object_ref (self);
  if (self->end_reason == NULL)
    self->end_reason = g_strdup (status ? status : "closed");
  self->state = MGW_SESSION_CLOSING;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_handle_id (&self->sep_timeout_id, g_source_remove);
  if (status != NULL && mgw_link_get_state (self->user) == MGW_LINK_OPEN)
    send_status (self, status);
  mgw_link_close (self->user, TRUE);
  if (self->server != NULL)
    mgw_link_close (self->server, TRUE);
  maybe_finish (self);
  g_object_unref (self);
}

static void
set_reason (MgwSession *self,
            const char *reason)
{
  if (self->end_reason == NULL)
    self->end_reason = g_strdup (reason);
}

/* --- timeouts --- */

static gint64
seconds_after (gint64 start,
               guint  seconds)
{
  return seconds ? start + (gint64) seconds * G_USEC_PER_SEC : G_MAXINT64;
}

static gboolean timeout_cb (gpointer user_data);

/* One timer per session, armed for the nearest deadline; activity only
 * moves timestamps, the timer looks at them when it fires. */
static void
arm_timeout (MgwSession *self)
{
  gint64 deadline = G_MAXINT64;
  gint64 now = g_get_monotonic_time ();

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  deadline = MIN (deadline, seconds_after (self->last_user,
                                           self->config->user_inactivity[self->access]));
  deadline = MIN (deadline, seconds_after (self->start_mono,
                                           self->config->session_max[self->access]));
  if (self->state == MGW_SESSION_RELAYING)
    deadline = MIN (deadline, seconds_after (self->last_server,
                                             self->config->server_inactivity[self->access]));
  if (deadline == G_MAXINT64)
    return;
  self->timeout_id = g_timeout_add ((guint) MAX (0, (deadline - now) / 1000) + 1,
                                    timeout_cb, self);
}

static void
expire (MgwSession *self,
        MgwTimeout  which,
        const char *status)
{
  g_autofree char *reason = g_strdup_printf ("%s timeout",
                                             mgw_timeout_to_string (which));
  session_log (self, G_LOG_LEVEL_MESSAGE, "%s", reason);
  set_reason (self, reason);
  g_signal_emit (self, signals[SIGNAL_TIMED_OUT], 0, which);
  mgw_session_end (self, status);
}

static gboolean
timeout_cb (gpointer user_data)
{
  MgwSession *self = user_data;
  gint64 now = g_get_monotonic_time ();
  const MgwConfig *c = self->config;

  self->timeout_id = 0;
  if (now >= seconds_after (self->start_mono, c->session_max[self->access]))
    expire (self, MGW_TIMEOUT_SESSION_MAX, _("END MAX TIME"));
  else if (now >= seconds_after (self->last_user, c->user_inactivity[self->access]))
    expire (self, MGW_TIMEOUT_USER_INACTIVITY, _("END INACTIVE USER"));
  else if (self->state == MGW_SESSION_RELAYING &&
           now >= seconds_after (self->last_server, c->server_inactivity[self->access]))
    expire (self, MGW_TIMEOUT_SERVER_INACTIVITY, "END INACTIVE");
  else
    arm_timeout (self);
  return G_SOURCE_REMOVE;
}

/* --- relay --- */

static void
send_upstream (MgwSession   *self,
               const guint8 *data,
               gsize         len)
{
  if (self->server != NULL)
    mgw_link_send_data (self->server, data, len);
}

static gboolean
sep_timeout_cb (gpointer user_data)
{
  MgwSession *self = user_data;
  static const guint8 sep = MGW_MINITEL_SEP;

  self->sep_timeout_id = 0;
  if (self->sep_held)
    {
      self->sep_held = FALSE;
      send_upstream (self, &sep, 1);
    }
  return G_SOURCE_REMOVE;
}

static void
user_received_cb (MgwLink      *link,
                  const guint8 *data,
                  guint         len,
                  MgwSession   *self)
{
  g_autofree guint8 *joined = NULL;

  if (self->state >= MGW_SESSION_CLOSING)
    return;
  self->last_user = g_get_monotonic_time ();
  session_log (self, G_LOG_LEVEL_DEBUG, "%u bytes from the user", len);

  /* A key is SEP plus its code: never send the SEP alone. */
  if (self->sep_held)
    {
      joined = g_malloc (len + 1);
      joined[0] = MGW_MINITEL_SEP;
      memcpy (joined + 1, data, len);
      data = joined;
      len++;
      self->sep_held = FALSE;
      g_clear_handle_id (&self->sep_timeout_id, g_source_remove);
    }
  if (data[len - 1] == MGW_MINITEL_SEP && self->config->sep_hold_ms > 0)
    {
      self->sep_held = TRUE;
      self->sep_timeout_id = g_timeout_add (self->config->sep_hold_ms,
                                            sep_timeout_cb, self);
      len--;
    }
  send_upstream (self, data, len);
}

static void
server_received_cb (MgwLink      *link,
                    const guint8 *data,
                    guint         len,
                    MgwSession   *self)
{
  if (self->state >= MGW_SESSION_CLOSING)
    return;
  self->last_server = g_get_monotonic_time ();
  session_log (self, G_LOG_LEVEL_DEBUG, "%u bytes from the default server", len);
  mgw_link_send_data (self->user, data, len);
}

static void
user_closed_cb (MgwLink      *link,
                const GError *error,
                MgwSession   *self)
{
  g_object_ref (self);
  if (self->state < MGW_SESSION_CLOSING)
    {
      if (error != NULL)
        {
          g_autofree char *reason = g_strdup_printf ("user link: %s", error->message);
          set_reason (self, reason);
        }
      else
        set_reason (self, "user disconnected");
      mgw_session_end (self, NULL);
    }
  maybe_finish (self);
  g_object_unref (self);
}

static void
server_opened_cb (MgwLink    *link,
                  MgwSession *self)
{
  g_autofree char *connected = NULL;

  if (self->state != MGW_SESSION_CONNECTING)
    return;
  self->state = MGW_SESSION_RELAYING;
  self->last_server = g_get_monotonic_time ();
  session_log (self, G_LOG_LEVEL_INFO, "connected to '%s'", self->config->server_uri);
  connected = g_strdup_printf ("Connected to '%s'\n\r", self->config->server_uri);
  send_text (self, connected);
  send_status (self, "CONNECT");
  arm_timeout (self);
}

static void
server_closed_cb (MgwLink      *link,
                  const GError *error,
                  MgwSession   *self)
{
  g_object_ref (self);
  if (self->state == MGW_SESSION_CONNECTING)
    {
      g_autofree char *reason =
        g_strdup_printf ("default server '%s' unreachable: %s",
                         self->config->server_uri,
                         error ? error->message : "closed");
      session_log (self, G_LOG_LEVEL_WARNING, "%s", reason);
      set_reason (self, reason);
      mgw_session_end (self, _("SERVER UNAVAILABLE, RETRY LATER"));
    }
  else if (self->state == MGW_SESSION_RELAYING)
    {
      g_autofree char *reason =
        g_strdup_printf ("default server closed%s%s",
                         error ? ": " : "", error ? error->message : "");
      set_reason (self, reason);
      mgw_session_end (self, _("END SERVER CLOSED"));
    }
  maybe_finish (self);
  g_object_unref (self);
}

/* Back-pressure: a congested queue stops reading on the other side. */
static void
user_congested_cb (MgwLink    *link,
                   GParamSpec *pspec,
                   MgwSession *self)
{
  if (self->server != NULL)
    mgw_link_set_paused (self->server, mgw_link_get_congested (link));
}

static void
server_congested_cb (MgwLink    *link,
                     GParamSpec *pspec,
                     MgwSession *self)
{
  mgw_link_set_paused (self->user, mgw_link_get_congested (link));
}

/* --- life cycle --- */

void
mgw_session_start (MgwSession *self)
{
  const MgwConfig *c = self->config;
  const char *welcome = self->access == MGW_ACCESS_TELNET ?
                        c->telnet_welcome : c->ws_welcome;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (self->state == MGW_SESSION_CONNECTING && self->server == NULL);
  session_log (self, G_LOG_LEVEL_MESSAGE, "started");

  if (welcome != NULL && *welcome != '\0')
    send_text (self, welcome);

  self->server = mgw_link_ws_connect (self->soup, c->server_uri,
                                      (const char * const *) c->server_subprotocols,
                                      c->server_frame_type,
                                      c->connect_timeout * 1000, &error);
  if (self->server == NULL)
    {
      session_log (self, G_LOG_LEVEL_WARNING, "cannot open the default server: %s",
                   error->message);
      set_reason (self, error->message);
      mgw_session_end (self, _("SERVER UNAVAILABLE, RETRY LATER"));
      return;
    }
  mgw_link_set_description (self->server, c->server_uri);
  mgw_link_set_queue_limit (self->server, c->queue_limit);
  mgw_link_ws_set_keepalive (MGW_LINK_WS (self->server), c->server_ping,
                             c->server_ping ? c->ws_ping_timeout : 0);
  mgw_link_ws_set_max_incoming (MGW_LINK_WS (self->server), c->ws_max_message);
  g_signal_connect (self->server, "opened", G_CALLBACK (server_opened_cb), self);
  g_signal_connect (self->server, "received", G_CALLBACK (server_received_cb), self);
  g_signal_connect (self->server, "closed", G_CALLBACK (server_closed_cb), self);
  g_signal_connect (self->server, "notify::congested",
                    G_CALLBACK (server_congested_cb), self);
  arm_timeout (self);
}

static void
mgw_session_dispose (GObject *object)
{
  MgwSession *self = MGW_SESSION (object);

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_handle_id (&self->sep_timeout_id, g_source_remove);
  if (self->user != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->user, self);
      mgw_link_close (self->user, FALSE);
      g_clear_object (&self->user);
    }
  if (self->server != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->server, self);
      mgw_link_close (self->server, FALSE);
      g_clear_object (&self->server);
    }
  g_clear_object (&self->soup);
  G_OBJECT_CLASS (mgw_session_parent_class)->dispose (object);
}

static void
mgw_session_finalize (GObject *object)
{
  MgwSession *self = MGW_SESSION (object);

  g_free (self->peer_address);
  g_free (self->end_reason);
  g_clear_pointer (&self->config, mgw_config_unref);
  G_OBJECT_CLASS (mgw_session_parent_class)->finalize (object);
}

static void
mgw_session_class_init (MgwSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mgw_session_dispose;
  object_class->finalize = mgw_session_finalize;

  /* (MgwTimeout which): emitted just before a timeout ends the session. */
  signals[SIGNAL_TIMED_OUT] =
    g_signal_new ("timed-out", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* Both links are closed; the session is done. */
  signals[SIGNAL_ENDED] =
    g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mgw_session_init (MgwSession *self)
{
  self->state = MGW_SESSION_CONNECTING;
}

MgwSession *
mgw_session_new (guint        id,
                 MgwAccess    access,
                 MgwLink     *user,
                 const char  *peer_address,
                 guint16      peer_port,
                 MgwConfig   *config,
                 SoupSession *soup)
{
  MgwSession *self = g_object_new (MGW_TYPE_SESSION, NULL);

  self->id = id;
  self->access = access;
  self->user = g_object_ref (user);
  self->peer_address = g_strdup (peer_address);
  self->peer_port = peer_port;
  self->config = mgw_config_ref (config);
  self->soup = g_object_ref (soup);
  self->start_wall = g_get_real_time ();
  self->start_mono = g_get_monotonic_time ();
  self->last_user = self->start_mono;
  self->last_server = self->start_mono;

  g_autofree char *description = g_strdup_printf ("session %u user %s:%u", id,
                                                  peer_address, peer_port);
  mgw_link_set_description (user, description);
  mgw_link_set_queue_limit (user, config->queue_limit);
  g_signal_connect (user, "received", G_CALLBACK (user_received_cb), self);
  g_signal_connect (user, "closed", G_CALLBACK (user_closed_cb), self);
  g_signal_connect (user, "notify::congested", G_CALLBACK (user_congested_cb), self);
  return self;
}

guint
mgw_session_get_id (MgwSession *self)
{
  return self->id;
}

MgwAccess
mgw_session_get_access (MgwSession *self)
{
  return self->access;
}

const char *
mgw_session_get_peer_address (MgwSession *self)
{
  return self->peer_address;
}

guint16
mgw_session_get_peer_port (MgwSession *self)
{
  return self->peer_port;
}

MgwSessionState
mgw_session_get_state (MgwSession *self)
{
  return self->state;
}

gint64
mgw_session_get_start_time (MgwSession *self)
{
  return self->start_wall;
}

guint64
mgw_session_get_bytes_from_user (MgwSession *self)
{
  return mgw_link_get_bytes_in (self->user);
}

guint64
mgw_session_get_bytes_to_user (MgwSession *self)
{
  return mgw_link_get_bytes_out (self->user);
}

const char *
mgw_session_get_end_reason (MgwSession *self)
{
  return self->end_reason;
}
