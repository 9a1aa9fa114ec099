/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-command-link.c: the Teletel command channel.
 *
 * One WebSocket client (an MgwLinkWs, subprotocols binary and tty, ping
 * every 10 s) to the command URI. It reconnects every retry interval,
 * forever, on the main loop; messages produced while it is down wait in a
 * bounded queue (the oldest dropped and counted) and go out, in order, as
 * soon as it is up again. Each received line is parsed; a valid command
 * is emitted as "command", anything else is logged and ignored: the
 * channel stays up. */
#include "config.h"

#include "mgw-command-link.h"
#include "mgw-error.h"
#include "mgw-link-ws.h"

#include <string.h>

#define COMMAND_PING_S 10

struct _MgwCommandLink
{
  GObject      parent_instance;

  GTlsDatabase *tls_database;   /* NULL: the system default */
  char        *uri;
  guint        retry_ms;
  guint        queue_max;

  MgwLink     *link;
  gboolean     connected;
  gboolean     was_connected;   /* for logging each change once */
  gboolean     outage_told;     /* this outage's first failure logged */
  guint        failures;        /* attempts failed in this outage */
  guint        retry_id;
  GQueue       pending;         /* of char *, while down */
  guint64      dropped;
  guint64      bad_commands;
};

G_DEFINE_FINAL_TYPE (MgwCommandLink, mgw_command_link, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CONNECTED,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum {
  SIGNAL_COMMAND,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void connect_now (MgwCommandLink *self);

static void
set_connected (MgwCommandLink *self,
               gboolean        connected)
{
  if (self->connected == connected)
    return;
  self->connected = connected;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONNECTED]);
}

static gboolean
retry_cb (gpointer user_data)
{
  MgwCommandLink *self = user_data;

  self->retry_id = 0;
  connect_now (self);
  return G_SOURCE_REMOVE;
}

static void
handle_line (MgwCommandLink *self,
             const char     *line,
             gsize           len)
{
  g_autoptr(MgwCommand) command = NULL;
  g_autoptr(GError) error = NULL;

  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
    len--;
  if (len == 0)
    return;
  command = mgw_command_parse (line, len, &error);
  if (command == NULL)
    {
      self->bad_commands++;
      g_message ("command channel: ignored: %s", error->message);
      return;
    }
  g_debug ("command channel: %s", command->raw);
  g_signal_emit (self, signals[SIGNAL_COMMAND], 0, command);
}

static void
received_cb (MgwLink        *link,
             const guint8   *data,
             guint           len,
             MgwCommandLink *self)
{
  const char *text = (const char *) data;
  const char *end = text + len;

  /* One command per message as a rule; several lines are accepted. */
  while (text < end)
    {
      const char *nl = memchr (text, '\n', end - text);
      const char *stop = nl ? nl : end;

      handle_line (self, text, stop - text);
      text = stop + 1;
    }
}

static void
opened_cb (MgwLink        *link,
           MgwCommandLink *self)
{
  if (self->failures > 0)
    g_message ("command channel connected to %s after %u failed attempts "
               "(%u queued messages to send)", self->uri, self->failures, self->pending.length);
  else
    g_message ("command channel connected to %s (%u queued messages to send)",
               self->uri, self->pending.length);
  self->was_connected = TRUE;
  self->outage_told = FALSE;
  self->failures = 0;
  set_connected (self, TRUE);
  while (!g_queue_is_empty (&self->pending) &&
         mgw_link_get_state (link) == MGW_LINK_OPEN)
    {
      g_autofree char *message = g_queue_pop_head (&self->pending);
      mgw_link_send_data (link, (const guint8 *) message, strlen (message));
    }
}

static void
closed_cb (MgwLink        *link,
           const GError   *error,
           MgwCommandLink *self)
{
  g_autoptr(MgwLink) old = g_steal_pointer (&self->link);

  g_signal_handlers_disconnect_by_data (old, self);
  /* The first failure of an outage is told, with the reason; the
   * retries that follow stay at debug level until it comes back. */
  if (self->was_connected)
    g_message ("command channel to %s lost%s%s; retrying every %u ms", self->uri,
               error ? ": " : "", error ? error->message : "", self->retry_ms);
  else if (!self->outage_told)
    g_message ("command channel: cannot connect to %s: %s; retrying every %u ms", self->uri,
               error ? error->message : "closed", self->retry_ms);
  else
    g_debug ("command channel to %s: %s", self->uri, error ? error->message : "closed");
  if (!self->was_connected)
    self->failures++;
  self->outage_told = TRUE;
  self->was_connected = FALSE;
  set_connected (self, FALSE);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  self->retry_id = g_timeout_add (self->retry_ms, retry_cb, self);
}

static void
connect_now (MgwCommandLink *self)
{
  static const char * const protocols[] = { "binary", "tty", NULL };
  g_autoptr(GError) error = NULL;

  g_return_if_fail (self->link == NULL);
  self->link = mgw_link_ws_connect (self->tls_database, self->uri, protocols,
                                    MGW_FRAME_TEXT, self->retry_ms, &error);
  if (self->link == NULL)
    {
      /* The URI was checked at start; keep trying anyway. */
      g_warning ("command channel: %s", error->message);
      self->retry_id = g_timeout_add (self->retry_ms, retry_cb, self);
      return;
    }
  mgw_link_set_description (self->link, "command channel");
  mgw_link_ws_set_keepalive (MGW_LINK_WS (self->link), COMMAND_PING_S, COMMAND_PING_S);
  g_signal_connect (self->link, "opened", G_CALLBACK (opened_cb), self);
  g_signal_connect (self->link, "received", G_CALLBACK (received_cb), self);
  g_signal_connect (self->link, "closed", G_CALLBACK (closed_cb), self);
}

void
mgw_command_link_start (MgwCommandLink *self)
{
  g_return_if_fail (MGW_IS_COMMAND_LINK (self));

  if (self->link == NULL && self->retry_id == 0)
    connect_now (self);
}

/* Sends one message, or queues it while the channel is down. */
void
mgw_command_link_send (MgwCommandLink *self,
                       const char     *message)
{
  g_return_if_fail (MGW_IS_COMMAND_LINK (self));

  g_debug ("command channel: sending %s", message);
  if (self->connected && self->link != NULL &&
      mgw_link_get_state (self->link) == MGW_LINK_OPEN)
    {
      mgw_link_send_data (self->link, (const guint8 *) message, strlen (message));
      return;
    }
  if (self->pending.length >= self->queue_max)
    {
      g_free (g_queue_pop_head (&self->pending));
      if (self->dropped++ == 0)
        g_message ("command channel down: dropping its oldest queued messages");
    }
  g_queue_push_tail (&self->pending, g_strdup (message));
}

gboolean
mgw_command_link_get_connected (MgwCommandLink *self)
{
  g_return_val_if_fail (MGW_IS_COMMAND_LINK (self), FALSE);

  return self->connected;
}

guint64
mgw_command_link_get_dropped (MgwCommandLink *self)
{
  g_return_val_if_fail (MGW_IS_COMMAND_LINK (self), 0);

  return self->dropped;
}

guint64
mgw_command_link_get_bad_commands (MgwCommandLink *self)
{
  g_return_val_if_fail (MGW_IS_COMMAND_LINK (self), 0);

  return self->bad_commands;
}

const char *
mgw_command_link_get_uri (MgwCommandLink *self)
{
  g_return_val_if_fail (MGW_IS_COMMAND_LINK (self), NULL);

  return self->uri;
}

static void
mgw_command_link_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  MgwCommandLink *self = MGW_COMMAND_LINK (object);

  switch (prop_id)
    {
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->connected);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mgw_command_link_dispose (GObject *object)
{
  MgwCommandLink *self = MGW_COMMAND_LINK (object);

  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->link != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->link, self);
      mgw_link_close (self->link, FALSE);
      g_clear_object (&self->link);
    }
  g_queue_clear_full (&self->pending, g_free);
  g_clear_object (&self->tls_database);
  G_OBJECT_CLASS (mgw_command_link_parent_class)->dispose (object);
}

static void
mgw_command_link_finalize (GObject *object)
{
  MgwCommandLink *self = MGW_COMMAND_LINK (object);

  g_free (self->uri);
  G_OBJECT_CLASS (mgw_command_link_parent_class)->finalize (object);
}

static void
mgw_command_link_class_init (MgwCommandLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = mgw_command_link_get_property;
  object_class->dispose = mgw_command_link_dispose;
  object_class->finalize = mgw_command_link_finalize;

  props[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS |
                          G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /* (MgwCommand *command): valid during the emission. */
  signals[SIGNAL_COMMAND] =
    g_signal_new ("command", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
mgw_command_link_init (MgwCommandLink *self)
{
  g_queue_init (&self->pending);
}

MgwCommandLink *
mgw_command_link_new (GTlsDatabase *tls_database,
                      const char   *uri,
                      guint         retry_ms,
                      guint         queue_max)
{
  MgwCommandLink *self;

  g_return_val_if_fail (tls_database == NULL || G_IS_TLS_DATABASE (tls_database), NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  self = g_object_new (MGW_TYPE_COMMAND_LINK, NULL);
  self->tls_database = tls_database ? g_object_ref (tls_database) : NULL;
  self->uri = g_strdup (uri);
  self->retry_ms = MAX (retry_ms, 10);
  self->queue_max = MAX (queue_max, 1);
  return self;
}
