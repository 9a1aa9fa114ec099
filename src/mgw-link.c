/* mgw-link.c: the abstract byte pipe every connection is.
 *
 * The base owns what all links share: the bounded output queue and its
 * congestion flag (back-pressure), the byte counters, the state and the
 * signals. Implementations (mgw-link-telnet.c, mgw-link-ws.c) only move
 * bytes between the queue and their transport. */
#include "config.h"

#include "mgw-link.h"
#include "mgw-error.h"
#include "mgw-pacer.h"
#include "mgw-throttle.h"

/* How long a close with flush waits for the peer to take the queue. */
#define CLOSE_FLUSH_TIMEOUT_MS 2000

typedef struct
{
  MgwLinkState state;
  GQueue       queue;        /* of GBytes */
  gsize        head_offset;  /* bytes of the head already written */
  gsize        queued;
  gsize        limit;
  gboolean     congested;
  gboolean     paused;
  guint64      bytes_in;
  guint64      bytes_out;
  guint64      bad_input;
  guint        flush_timeout_id;
  MgwThrottle  throttle;     /* output pacing; rate 0: none */
  MgwPacer    *pacer;        /* the shared tick, while paced */
  gboolean     pacing;       /* waiting for the pacer's next tick */
  GError      *close_error;  /* why we closed, when it was our decision */
  char        *description;
} MgwLinkPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (MgwLink, mgw_link, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CONGESTED,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum {
  SIGNAL_OPENED,
  SIGNAL_RECEIVED,
  SIGNAL_CLOSED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
stop_pacing (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  if (priv->pacing && priv->pacer != NULL)
    mgw_pacer_forget (priv->pacer, self);
  priv->pacing = FALSE;
}

static void
update_congestion (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  gboolean congested = priv->congested;

  if (!congested && priv->queued > priv->limit / 2)
    congested = TRUE;
  else if (congested && priv->queued <= priv->limit / 4)
    congested = FALSE;

  if (congested != priv->congested)
    {
      priv->congested = congested;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONGESTED]);
    }
}

static void
clear_queue (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  stop_pacing (self);
  g_queue_clear_full (&priv->queue, (GDestroyNotify) g_bytes_unref);
  priv->head_offset = 0;
  priv->queued = 0;
  update_congestion (self);
}

static void
mgw_link_finalize (GObject *object)
{
  MgwLink *self = MGW_LINK (object);
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_queue_clear_full (&priv->queue, (GDestroyNotify) g_bytes_unref);
  g_clear_handle_id (&priv->flush_timeout_id, g_source_remove);
  stop_pacing (self);
  g_clear_error (&priv->close_error);
  g_free (priv->description);

  G_OBJECT_CLASS (mgw_link_parent_class)->finalize (object);
}

static void
mgw_link_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  MgwLink *self = MGW_LINK (object);

  switch (prop_id)
    {
    case PROP_CONGESTED:
      g_value_set_boolean (value, mgw_link_get_congested (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mgw_link_class_init (MgwLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mgw_link_finalize;
  object_class->get_property = mgw_link_get_property;

  props[PROP_CONGESTED] =
    g_param_spec_boolean ("congested", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS |
                          G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_OPENED] =
    g_signal_new ("opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* (data, length): valid only during the emission. */
  signals[SIGNAL_RECEIVED] =
    g_signal_new ("received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                  G_TYPE_POINTER, G_TYPE_UINT);
  /* error: NULL for an orderly close. */
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
mgw_link_init (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  priv->state = MGW_LINK_CONNECTING;
  priv->limit = MGW_LINK_DEFAULT_QUEUE_LIMIT;
  g_queue_init (&priv->queue);
}

static void
do_close (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_clear_handle_id (&priv->flush_timeout_id, g_source_remove);
  clear_queue (self);
  MGW_LINK_GET_CLASS (self)->close (self);
}

static gboolean
flush_timeout_cb (gpointer user_data)
{
  MgwLink *self = user_data;
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  priv->flush_timeout_id = 0;
  do_close (self);
  return G_SOURCE_REMOVE;
}

static void
enqueue (MgwLink *self,
         GBytes  *bytes)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  gsize len = g_bytes_get_size (bytes);

  if (priv->queued + len > priv->limit)
    {
      g_clear_error (&priv->close_error);
      priv->close_error =
        g_error_new (MGW_ERROR, MGW_ERROR_OVERFLOW,
                     "output queue full (%" G_GSIZE_FORMAT " bytes): peer does not read",
                     priv->queued);
      priv->state = MGW_LINK_CLOSING;
      do_close (self);
      return;
    }

  g_queue_push_tail (&priv->queue, g_bytes_ref (bytes));
  priv->queued += len;
  update_congestion (self);

  if (priv->state == MGW_LINK_OPEN)
    MGW_LINK_GET_CLASS (self)->flush (self);
}

/* Queues data for the peer. Never blocks: past the queue limit the link
 * closes with MGW_ERROR_OVERFLOW instead of growing. */
void
mgw_link_send (MgwLink *self,
               GBytes  *bytes)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  MgwLinkClass *klass = MGW_LINK_GET_CLASS (self);
  gsize len = g_bytes_get_size (bytes);

  if (len == 0 || priv->state >= MGW_LINK_CLOSING)
    return;

  priv->bytes_out += len;
  if (klass->encode != NULL)
    {
      g_autoptr(GBytes) encoded = klass->encode (self, bytes);
      enqueue (self, encoded);
    }
  else
    enqueue (self, bytes);
}

/* Queues transport bytes as they are (telnet negotiation). */
void
mgw_link_send_raw (MgwLink      *self,
                   const guint8 *data,
                   gsize         len)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  g_autoptr(GBytes) bytes = NULL;

  if (len == 0 || priv->state >= MGW_LINK_CLOSING)
    return;
  bytes = g_bytes_new (data, len);
  enqueue (self, bytes);
}

/* Closes at once, dropping the queue; `error` says why. */
void
mgw_link_abort (MgwLink *self,
                GError  *error)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  if (priv->state == MGW_LINK_CLOSED)
    {
      g_clear_error (&error);
      return;
    }
  g_clear_error (&priv->close_error);
  priv->close_error = error;
  if (priv->state == MGW_LINK_CLOSING && priv->flush_timeout_id == 0)
    return;  /* the transport is already closing */
  priv->state = MGW_LINK_CLOSING;
  do_close (self);
}

void
mgw_link_send_data (MgwLink      *self,
                    const guint8 *data,
                    gsize         len)
{
  g_autoptr(GBytes) bytes = NULL;

  if (len == 0)
    return;
  bytes = g_bytes_new (data, len);
  mgw_link_send (self, bytes);
}

/* Closes the link. With flush, what is queued is written first (bounded
 * by a timeout); without, it is dropped. "closed" follows either way. */
void
mgw_link_close (MgwLink  *self,
                gboolean  flush)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  if (priv->state >= MGW_LINK_CLOSING)
    return;

  if (priv->state == MGW_LINK_CONNECTING)
    flush = FALSE;

  priv->state = MGW_LINK_CLOSING;
  if (flush && priv->queued > 0)
    {
      priv->flush_timeout_id = g_timeout_add (CLOSE_FLUSH_TIMEOUT_MS,
                                              flush_timeout_cb, self);
      MGW_LINK_GET_CLASS (self)->flush (self);
      return;
    }
  do_close (self);
}

void
mgw_link_set_paused (MgwLink  *self,
                     gboolean  paused)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  if (priv->paused == paused)
    return;
  priv->paused = paused;
  if (priv->state <= MGW_LINK_OPEN)
    MGW_LINK_GET_CLASS (self)->set_paused (self, paused);
}

/* Drops what is queued and not yet written (a redirection that ended). */
void
mgw_link_drop_queue (MgwLink *self)
{
  clear_queue (self);
}

MgwLinkState
mgw_link_get_state (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  return priv->state;
}

gboolean
mgw_link_get_congested (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  return priv->congested;
}

guint64
mgw_link_get_bytes_in (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  return priv->bytes_in;
}

guint64
mgw_link_get_bytes_out (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  return priv->bytes_out;
}

gsize
mgw_link_get_queued (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  return priv->queued;
}

void
mgw_link_set_queue_limit (MgwLink *self,
                          gsize    limit)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_if_fail (limit >= 16);
  priv->limit = limit;
  update_congestion (self);
}

gsize
mgw_link_get_queue_limit (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  return priv->limit;
}

const char *
mgw_link_get_description (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  return priv->description ? priv->description : G_OBJECT_TYPE_NAME (self);
}

void
mgw_link_set_description (MgwLink    *self,
                          const char *description)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_free (priv->description);
  priv->description = g_strdup (description);
}

/* Paces output to `bytes_per_second` (0: as fast as the peer reads),
 * woken by `pacer`'s shared tick while waiting for credit. */
void
mgw_link_set_rate (MgwLink  *self,
                   double    bytes_per_second,
                   MgwPacer *pacer)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  stop_pacing (self);
  priv->pacer = bytes_per_second > 0 ? pacer : NULL;
  mgw_throttle_init (&priv->throttle, priv->pacer ? bytes_per_second : 0,
                     g_get_monotonic_time ());
}

/* The pacer's tick: credit has grown, write what it allows. */
void
mgw_link_pace (gpointer link)
{
  MgwLink *self = link;
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  priv->pacing = FALSE;
  if (priv->state == MGW_LINK_OPEN || priv->state == MGW_LINK_CLOSING)
    MGW_LINK_GET_CLASS (self)->flush (self);
}

/* The bytes to write next: the head chunk, cut to what the pace allows.
 * FALSE when nothing may go now (queue empty, or paced: the link's flush
 * is then called again when the next batch may go). */
gboolean
mgw_link_queue_head (MgwLink       *self,
                     const guint8 **data,
                     gsize         *len)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  GBytes *head = g_queue_peek_head (&priv->queue);
  gsize size, allowed;
  const guint8 *p;
  gint64 now;

  if (head == NULL || priv->pacing)
    return FALSE;
  p = g_bytes_get_data (head, &size);
  *data = p + priv->head_offset;
  *len = size - priv->head_offset;
  if (priv->throttle.rate <= 0)
    return TRUE;

  now = g_get_monotonic_time ();
  allowed = mgw_throttle_allow (&priv->throttle, now, *len);
  if (allowed == 0)
    {
      priv->pacing = TRUE;
      mgw_pacer_wait (priv->pacer, self);
      return FALSE;
    }
  *len = allowed;
  return TRUE;
}

static void
queue_drained (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  update_congestion (self);
  if (priv->queued == 0 && priv->state == MGW_LINK_CLOSING &&
      priv->flush_timeout_id != 0)
    do_close (self);
}

void
mgw_link_queue_consume (MgwLink *self,
                        gsize    n)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  mgw_throttle_consume (&priv->throttle, n);
  while (n > 0)
    {
      GBytes *head = g_queue_peek_head (&priv->queue);
      gsize left;

      g_return_if_fail (head != NULL);
      left = g_bytes_get_size (head) - priv->head_offset;
      if (n < left)
        {
          priv->head_offset += n;
          priv->queued -= n;
          break;
        }
      n -= left;
      priv->queued -= left;
      priv->head_offset = 0;
      g_bytes_unref (g_queue_pop_head (&priv->queue));
    }
  queue_drained (self);
}

void
mgw_link_emit_opened (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  if (priv->state != MGW_LINK_CONNECTING)
    return;
  priv->state = MGW_LINK_OPEN;
  if (priv->paused)
    MGW_LINK_GET_CLASS (self)->set_paused (self, TRUE);
  g_signal_emit (self, signals[SIGNAL_OPENED], 0);
  if (priv->state == MGW_LINK_OPEN && priv->queued > 0)
    MGW_LINK_GET_CLASS (self)->flush (self);
}

void
mgw_link_emit_received (MgwLink      *self,
                        const guint8 *data,
                        gsize         len)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  if (len == 0 || priv->state != MGW_LINK_OPEN)
    return;
  priv->bytes_in += len;
  g_signal_emit (self, signals[SIGNAL_RECEIVED], 0, data, (guint) len);
}

/* Called once by the implementation when the transport is closed. */
void
mgw_link_emit_closed (MgwLink      *self,
                      const GError *error)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  if (priv->state == MGW_LINK_CLOSED)
    return;
  priv->state = MGW_LINK_CLOSED;
  g_clear_handle_id (&priv->flush_timeout_id, g_source_remove);
  clear_queue (self);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0,
                 priv->close_error ? priv->close_error : error);
}

void
mgw_link_count_bad_input (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  priv->bad_input++;
}

guint64
mgw_link_get_bad_input (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  return priv->bad_input;
}
