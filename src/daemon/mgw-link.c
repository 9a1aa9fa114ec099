/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-link.c: the abstract byte pipe every connection is.
 *
 * The base owns what all links share: the bounded output queue and its
 * congestion flag (back-pressure), the byte counters, the state, the
 * signals, and the transport: a socket (or a TLS stream over one)
 * watched by the one poller (mgw-poller.c), read while not paused and
 * written from the queue. Implementations (mgw-link-telnet.c,
 * mgw-link-ws.c) decode what is read (input) and, for WebSocket, frame
 * what is written (frame). */
#include "config.h"

#include "mgw-link.h"
#include "mgw-error.h"
#include "mgw-pacer.h"
#include "mgw-poller.h"
#include "mgw-throttle.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* One read buffer for every link: the main loop is single-threaded and
 * what is read is handed on before the next read. */
#define READ_SIZE (16 * 1024)
/* Framed bytes gathered before one write. */
#define WIRE_BATCH (64 * 1024)
/* Queued chunks gathered into one write. */
#define WRITE_IOV 16

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
  MgwTimer     flush_timer;  /* a close with flush waits no longer */
  MgwThrottle  throttle;     /* output pacing; rate 0: none */
  MgwPacer    *pacer;        /* the shared tick, while paced */
  gboolean     pacing;       /* waiting for the pacer's next tick */
  GError      *close_error;  /* why we closed, when it was our decision */
  char        *description;
  GCancellable *connecting;     /* mgw_link_connect () under way */
  gboolean     has_session;     /* log fields: whose link this is */
  guint        session_id;
  char        *peer;

  /* The transport. */
  GIOStream   *stream;
  int          fd;           /* the socket's; -1: none */
  gboolean     tls;          /* read and write through the stream */
  MgwWatch    *watch;
  GByteArray  *wire;         /* framed bytes not yet written (frame links) */
  gsize        wire_offset;
  guint        stall_ms;     /* the peer may not read for this long; 0: forever */
  gint64       last_write;   /* monotonic µs */
  MgwTimer     stall_timer;
  MgwTimer     read_timer;   /* a TLS link resumed: read what TLS holds */
  gboolean     closing_ref;  /* a reference held from closing to closed */
  MgwTimer     flush_soon;   /* writes what this round queued, at its end */
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

static void update_watch (MgwLink *self);

/* From closing until "closed" the link keeps itself alive, so that whoever
 * drops it meanwhile does not cut its last words (a status line being
 * written, the WebSocket closing handshake). The flush and close timeouts
 * bound how long that lasts. */
static void
enter_closing (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  priv->state = MGW_LINK_CLOSING;
  if (!priv->closing_ref)
    {
      priv->closing_ref = TRUE;
      g_object_ref (self);
    }
}
static void do_close (MgwLink *self);

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

/* Lets go of the socket: no more events, the stream closed (closing a
 * socket does not block). */
static void
release_transport (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_clear_pointer (&priv->watch, mgw_watch_free);
  mgw_timer_stop (&priv->stall_timer);
  mgw_timer_stop (&priv->read_timer);
  mgw_timer_stop (&priv->flush_soon);
  if (priv->stream != NULL)
    {
      /* Closing a socket does not block; closing TLS would (its
       * close_notify is a blocking write to a peer that may not read):
       * close the socket under it, the WebSocket close frame has said
       * goodbye. */
      if (priv->tls)
        shutdown (priv->fd, SHUT_RDWR);
      else
        {
          /* Closing with unread input sends a reset, which may destroy
           * our last words (a status line, an HTTP error) before the peer
           * reads them: take what is there first. */
          static guint8 sink[READ_SIZE];
          for (int i = 0; i < 4 && recv (priv->fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
            ;
        }
      g_io_stream_close (priv->stream, NULL, NULL);
      g_clear_object (&priv->stream);
    }
  priv->fd = -1;
  g_clear_pointer (&priv->wire, g_byte_array_unref);
  priv->wire_offset = 0;
}

static void
mgw_link_dispose (GObject *object)
{
  MgwLink *self = MGW_LINK (object);
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  mgw_timer_stop (&priv->flush_timer);
  if (priv->connecting != NULL)
    g_cancellable_cancel (priv->connecting);
  release_transport (self);

  G_OBJECT_CLASS (mgw_link_parent_class)->dispose (object);
}

static void
mgw_link_finalize (GObject *object)
{
  MgwLink *self = MGW_LINK (object);
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_queue_clear_full (&priv->queue, (GDestroyNotify) g_bytes_unref);
  stop_pacing (self);
  g_clear_error (&priv->close_error);
  g_free (priv->description);
  g_free (priv->peer);

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

/* --- the transport --- */

/* Sends what the socket takes now: the bytes written (0: would block), or
 * -1 with `error` set. */
static gssize
send_iov (int            fd,
          struct iovec  *iov,
          guint          n_iov,
          GError       **error)
{
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n_iov };
  gssize n;

  do
    n = sendmsg (fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n >= 0)
    return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    return 0;
  g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (errno),
                       g_strerror (errno));
  return -1;
}

/* Writes as much as the socket takes now. Returns the bytes written
 * (possibly 0: would block), or -1 with `error` set. */
static gssize
transport_write (MgwLink       *self,
                 const guint8  *data,
                 gsize          len,
                 GError       **error)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  struct iovec iov;
  gssize n;

  if (priv->tls)
    {
      g_autoptr(GError) local = NULL;
      GOutputStream *out = g_io_stream_get_output_stream (priv->stream);

      n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (out),
                                                      data, len, NULL, &local);
      if (n < 0 && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return 0;
      if (n < 0)
        g_propagate_error (error, g_steal_pointer (&local));
      return n;
    }

  iov.iov_base = (void *) data;
  iov.iov_len = len;
  return send_iov (priv->fd, &iov, 1, error);
}

static void
stall_cb (gpointer user_data)
{
  MgwLink *self = user_data;
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  gint64 now = g_get_monotonic_time ();
  gint64 stalled = now - priv->last_write;

  if (stalled < (gint64) priv->stall_ms * 1000)
    {
      mgw_timer_start_at (&priv->stall_timer,
                          priv->last_write + (gint64) priv->stall_ms * 1000);
      return;
    }
  mgw_link_abort (self, g_error_new (MGW_ERROR, MGW_ERROR_TIMED_OUT,
                                     "the peer has not read for %u s",
                                     (guint) (stalled / G_USEC_PER_SEC)));
}

/* The socket is full: wait until it takes more, for at most the stall
 * time without progress. */
static void
write_blocked (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  if (priv->stall_ms > 0 && !mgw_timer_is_active (&priv->stall_timer))
    mgw_timer_start_at (&priv->stall_timer,
                        priv->last_write + (gint64) priv->stall_ms * 1000);
}

static gboolean
write_wire (MgwLink  *self,
            GError  **error)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  while (priv->wire != NULL && priv->wire_offset < priv->wire->len)
    {
      gssize n = transport_write (self, priv->wire->data + priv->wire_offset,
                                  priv->wire->len - priv->wire_offset, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        return TRUE;
      priv->wire_offset += n;
      priv->last_write = g_get_monotonic_time ();
    }
  if (priv->wire != NULL)
    {
      /* All written. Keep no buffer between bursts. */
      if (priv->queued == 0 || priv->wire->len > 4096)
        g_clear_pointer (&priv->wire, g_byte_array_unref);
      else
        g_byte_array_set_size (priv->wire, 0);
      priv->wire_offset = 0;
    }
  return TRUE;
}

static gboolean
wire_pending (MgwLinkPrivate *priv)
{
  return priv->wire != NULL && priv->wire_offset < priv->wire->len;
}

/* Writes queued chunks (unframed), several in one system call when the
 * link is not paced. Returns the bytes written, 0 when nothing may or can
 * go now, -1 with `error` set. */
static gssize
write_queue (MgwLink  *self,
             GError  **error)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  struct iovec iov[WRITE_IOV];
  const guint8 *data;
  gsize len;
  guint n_iov = 0;

  if (!mgw_link_queue_head (self, &data, &len))
    return 0;
  if (priv->tls || priv->throttle.rate > 0 || priv->queue.length == 1)
    return transport_write (self, data, len, error);

  for (GList *l = priv->queue.head; l != NULL && n_iov < WRITE_IOV; l = l->next)
    {
      gsize size;
      const guint8 *p = g_bytes_get_data (l->data, &size);

      if (n_iov == 0)
        {
          p += priv->head_offset;
          size -= priv->head_offset;
        }
      iov[n_iov].iov_base = (void *) p;
      iov[n_iov].iov_len = size;
      n_iov++;
    }
  return send_iov (priv->fd, iov, n_iov, error);
}

/* Writes the queue out, as far as the socket takes it now. */
static void
link_flush (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  MgwLinkClass *klass = MGW_LINK_GET_CLASS (self);
  g_autoptr(GError) error = NULL;
  gboolean blocked = FALSE;

  if (priv->fd < 0)
    return;

  mgw_timer_stop (&priv->flush_soon);
  g_object_ref (self);
  while (priv->fd >= 0)
    {
      const guint8 *data;
      gsize len;
      gssize n;

      /* Framed links: frame what may go now, a batch of chunks behind
       * whatever is already waiting, and write them together. Before the
       * link is open only the transport's own bytes go (an HTTP upgrade). */
      if (klass->frame != NULL && priv->state >= MGW_LINK_OPEN)
        while ((priv->wire == NULL || priv->wire->len - priv->wire_offset < WIRE_BATCH) &&
               mgw_link_queue_head (self, &data, &len))
          {
            if (priv->wire == NULL)
              priv->wire = g_byte_array_new ();
            klass->frame (self, data, len, priv->wire);
            mgw_link_queue_consume (self, len);
          }
      if (wire_pending (priv))
        {
          if (!write_wire (self, &error))
            break;
          if (wire_pending (priv))
            {
              blocked = TRUE;
              break;
            }
          continue;
        }
      if (klass->frame != NULL || priv->state < MGW_LINK_OPEN)
        break;
      n = write_queue (self, &error);
      if (n < 0)
        break;
      if (n == 0)
        {
          blocked = mgw_link_get_queued (self) > 0 && !priv->pacing;
          break;
        }
      priv->last_write = g_get_monotonic_time ();
      mgw_link_queue_consume (self, n);
    }

  if (error != NULL)
    mgw_link_abort (self, g_steal_pointer (&error));
  else if (priv->fd >= 0)
    {
      if (blocked)
        write_blocked (self);
      else
        mgw_timer_stop (&priv->stall_timer);
      update_watch (self);
      /* A close with flush waited for this: framed links empty their
       * queue into `wire` before it is written, so the queue alone does
       * not say when all is out. */
      if (priv->state == MGW_LINK_CLOSING && mgw_timer_is_active (&priv->flush_timer) &&
          priv->queued == 0 && !wire_pending (priv))
        do_close (self);
      else if (!blocked && klass->drained != NULL && priv->fd >= 0 && !wire_pending (priv))
        klass->drained (self);
    }
  g_object_unref (self);
}

static void
read_ready (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  MgwLinkClass *klass = MGW_LINK_GET_CLASS (self);
  static guint8 buf[READ_SIZE];
  g_autoptr(GError) error = NULL;
  gssize n;

  g_object_ref (self);
  do
    {
      if (priv->tls)
        {
          GInputStream *in = g_io_stream_get_input_stream (priv->stream);

          n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (in),
                                                        buf, sizeof buf, NULL, &error);
          if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
        }
      else
        {
          do
            n = recv (priv->fd, buf, sizeof buf, MSG_DONTWAIT);
          while (n < 0 && errno == EINTR);
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
          if (n < 0)
            error = g_error_new_literal (G_IO_ERROR, g_io_error_from_errno (errno),
                                         g_strerror (errno));
        }
      if (n < 0)
        {
          mgw_link_abort (self, g_steal_pointer (&error));
          break;
        }
      if (n == 0)
        {
          /* The peer closed. */
          if (klass->eof != NULL)
            klass->eof (self);
          else
            mgw_link_abort (self, NULL);
          break;
        }
      klass->input (self, buf, n);
      /* Plain sockets: level-triggered, the poller says if more is there.
       * TLS may hold decrypted bytes the socket no longer shows. */
    }
  while (priv->tls && priv->fd >= 0 && !priv->paused &&
         priv->state <= MGW_LINK_CLOSING);
  g_clear_error (&error);
  g_object_unref (self);
}

static void
watch_cb (gpointer     user_data,
          GIOCondition condition)
{
  MgwLink *self = user_data;
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_object_ref (self);
  if ((condition & G_IO_OUT) && priv->fd >= 0)
    link_flush (self);
  if ((condition & G_IO_IN) && priv->fd >= 0 && !priv->paused)
    read_ready (self);
  if ((condition & (G_IO_ERR | G_IO_HUP)) && priv->fd >= 0)
    {
      /* Not reading (paused) and yet the socket is gone: reading would
       * tell the error; without it, end here rather than spin. */
      if (!priv->paused && !(condition & G_IO_IN))
        read_ready (self);
      else if (priv->paused)
        mgw_link_abort (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                                                   "connection lost"));
    }
  g_object_unref (self);
}

static void
update_watch (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  GIOCondition events = 0;

  if (priv->watch == NULL)
    return;
  if (!priv->paused && priv->state <= MGW_LINK_CLOSING)
    events |= G_IO_IN;
  if (wire_pending (priv) ||
      (priv->queued > 0 && !priv->pacing && priv->state >= MGW_LINK_OPEN))
    events |= G_IO_OUT;
  mgw_watch_set_events (priv->watch, events);
}

static void
flush_soon_cb (gpointer user_data)
{
  MgwLink *self = user_data;

  link_flush (self);
}

static void
read_timer_cb (gpointer user_data)
{
  MgwLink *self = user_data;
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  if (priv->fd >= 0 && !priv->paused)
    read_ready (self);
}

/* Takes `stream` (a GSocketConnection, or a GTlsConnection over one) as
 * the link's transport: watched from now on, read unless paused. */
void
mgw_link_attach_stream (MgwLink   *self,
                        GIOStream *stream)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  g_autoptr(GIOStream) base = NULL;

  g_return_if_fail (priv->stream == NULL);
  priv->stream = g_object_ref (stream);
  /* A plain socket is read and written directly; anything over it (TLS,
   * which GSocketClient hands back wrapped) through the stream. */
  priv->tls = !G_IS_SOCKET_CONNECTION (stream) || G_IS_TCP_WRAPPER_CONNECTION (stream);
  if (G_IS_SOCKET_CONNECTION (stream))
    base = g_object_ref (stream);
  else
    g_object_get (stream, "base-io-stream", &base, NULL);
  priv->fd = g_socket_get_fd (g_socket_connection_get_socket (G_SOCKET_CONNECTION (base)));
  priv->last_write = g_get_monotonic_time ();
  priv->watch = mgw_watch_new (priv->fd, 0, watch_cb, self);
  update_watch (self);
}

GIOStream *
mgw_link_get_stream (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), NULL);

  return priv->stream;
}

/* Bytes read before the link existed (after a PROXY header, after an
 * HTTP head): handled as if just read. */
void
mgw_link_feed (MgwLink      *self,
               const guint8 *data,
               gsize         len)
{
  g_return_if_fail (MGW_IS_LINK (self));

  if (len > 0 && mgw_link_get_state (self) <= MGW_LINK_CLOSING)
    MGW_LINK_GET_CLASS (self)->input (self, data, len);
}

/* Framed bytes that go out before any more of the queue (WebSocket
 * control frames), also while closing. FALSE when more than the queue
 * limit is already waiting there: the caller drops or gives up. */
gboolean
mgw_link_send_wire (MgwLink      *self,
                    const guint8 *data,
                    gsize         len)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), FALSE);

  if (priv->fd < 0)
    return FALSE;
  if (priv->wire != NULL && priv->wire->len - priv->wire_offset + len > priv->limit)
    return FALSE;
  if (priv->wire == NULL)
    priv->wire = g_byte_array_new ();
  g_byte_array_append (priv->wire, data, len);
  link_flush (self);
  return TRUE;
}

/* Ends the transport and reports the link closed. */
void
mgw_link_close_transport (MgwLink      *self,
                          const GError *error)
{
  g_return_if_fail (MGW_IS_LINK (self));

  g_object_ref (self);
  release_transport (self);
  mgw_link_emit_closed (self, error);
  g_object_unref (self);
}

/* A peer that takes nothing for `seconds` while output waits is dropped
 * (0: never). */
void
mgw_link_set_stall_timeout (MgwLink *self,
                            guint    seconds)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_if_fail (MGW_IS_LINK (self));

  priv->stall_ms = seconds * 1000;
  if (priv->stall_ms == 0)
    mgw_timer_stop (&priv->stall_timer);
}

static void
link_set_paused (MgwLink  *self,
                 gboolean  paused)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  update_watch (self);
  /* TLS may already hold decrypted bytes the socket will not signal. */
  if (!paused && priv->tls && priv->fd >= 0)
    mgw_timer_start (&priv->read_timer, 0);
}

static void
mgw_link_real_close (MgwLink *self)
{
  mgw_link_close_transport (self, NULL);
}

static void
mgw_link_class_init (MgwLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mgw_link_dispose;
  object_class->finalize = mgw_link_finalize;
  object_class->get_property = mgw_link_get_property;
  klass->close = mgw_link_real_close;

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

static void flush_timeout_cb (gpointer user_data);

static void
mgw_link_init (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  priv->state = MGW_LINK_CONNECTING;
  priv->limit = MGW_LINK_DEFAULT_QUEUE_LIMIT;
  priv->fd = -1;
  g_queue_init (&priv->queue);
  mgw_timer_init (&priv->flush_timer, flush_timeout_cb, self);
  mgw_timer_init (&priv->stall_timer, stall_cb, self);
  mgw_timer_init (&priv->read_timer, read_timer_cb, self);
  mgw_timer_init (&priv->flush_soon, flush_soon_cb, self);
}

static void
do_close (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  /* "closed", emitted inside, may let go of the last reference while the
   * implementation still looks at the link. */
  g_object_ref (self);
  mgw_timer_stop (&priv->flush_timer);
  clear_queue (self);
  MGW_LINK_GET_CLASS (self)->close (self);
  g_object_unref (self);
}

static void
flush_timeout_cb (gpointer user_data)
{
  do_close (MGW_LINK (user_data));
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
      enter_closing (self);
      do_close (self);
      return;
    }

  g_queue_push_tail (&priv->queue, g_bytes_ref (bytes));
  priv->queued += len;
  update_congestion (self);

  /* Written at the end of this round of the poller (a timer due now runs
   * after the ready sockets): what a round queues for a peer goes out
   * in one system call (and one TCP segment), not one per chunk. */
  if (priv->state == MGW_LINK_OPEN && priv->fd >= 0 && !mgw_timer_is_active (&priv->flush_soon))
    mgw_timer_start_at (&priv->flush_soon, 0);
}

/* Queues data for the peer. Never blocks: past the queue limit the link
 * closes with MGW_ERROR_OVERFLOW instead of growing. */
void
mgw_link_send (MgwLink *self,
               GBytes  *bytes)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  MgwLinkClass *klass;
  gsize len;

  g_return_if_fail (MGW_IS_LINK (self));
  g_return_if_fail (bytes != NULL);

  klass = MGW_LINK_GET_CLASS (self);
  len = g_bytes_get_size (bytes);
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

  g_return_if_fail (MGW_IS_LINK (self));

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

  g_return_if_fail (MGW_IS_LINK (self));

  if (priv->state == MGW_LINK_CLOSED)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL || priv->close_error == NULL)
    {
      g_clear_error (&priv->close_error);
      priv->close_error = error;
    }
  if (priv->state == MGW_LINK_CLOSING && !mgw_timer_is_active (&priv->flush_timer))
    {
      /* The transport is already closing: cut it short. */
      mgw_link_close_transport (self, NULL);
      return;
    }
  enter_closing (self);
  do_close (self);
}

void
mgw_link_send_data (MgwLink      *self,
                    const guint8 *data,
                    gsize         len)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_if_fail (MGW_IS_LINK (self));

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

  g_return_if_fail (MGW_IS_LINK (self));

  if (priv->state >= MGW_LINK_CLOSING)
    return;

  if (priv->state == MGW_LINK_CONNECTING)
    flush = FALSE;
  /* What was sent before is written now, flush or not, as it would have
   * been at once. */
  if (mgw_timer_is_active (&priv->flush_soon))
    link_flush (self);
  if (priv->state >= MGW_LINK_CLOSING)
    return;

  enter_closing (self);
  if (flush && (priv->queued > 0 || wire_pending (priv)))
    {
      mgw_timer_start (&priv->flush_timer, CLOSE_FLUSH_TIMEOUT_MS);
      link_flush (self);
      return;
    }
  do_close (self);
}

void
mgw_link_set_paused (MgwLink  *self,
                     gboolean  paused)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_if_fail (MGW_IS_LINK (self));

  if (priv->paused == paused)
    return;
  priv->paused = paused;
  if (priv->state <= MGW_LINK_OPEN)
    link_set_paused (self, paused);
  else
    update_watch (self);  /* closing: a WebSocket waits for the peer's close */
}

/* Drops what is queued and not yet written (a redirection that ended). */
void
mgw_link_drop_queue (MgwLink *self)
{
  g_return_if_fail (MGW_IS_LINK (self));

  clear_queue (self);
  update_watch (self);
}

MgwLinkState
mgw_link_get_state (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), MGW_LINK_CLOSED);

  return priv->state;
}

gboolean
mgw_link_get_congested (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), FALSE);

  return priv->congested;
}

guint64
mgw_link_get_bytes_in (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), 0);

  return priv->bytes_in;
}

guint64
mgw_link_get_bytes_out (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), 0);

  return priv->bytes_out;
}

gsize
mgw_link_get_queued (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), 0);

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

const char *
mgw_link_get_description (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), NULL);

  return priv->description ? priv->description : G_OBJECT_TYPE_NAME (self);
}

void
mgw_link_set_description (MgwLink    *self,
                          const char *description)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_if_fail (MGW_IS_LINK (self));

  g_free (priv->description);
  priv->description = g_strdup (description);
}

/* --- outgoing connections --- */

typedef struct
{
  MgwLink          *link;          /* a reference while connecting */
  GTlsDatabase     *tls_database;
  MgwLinkConnected  done;
} Connecting;

static void
connecting_free (Connecting *c)
{
  g_clear_object (&c->tls_database);
  g_object_unref (c->link);
  g_free (c);
}

/* A server's certificate, checked by us against the one shared database.
 *
 * Given a database, glib-networking 2.74 copies every certificate it
 * trusts into each connection's own credentials: with the system's list
 * (the default), about 4 MiB a wss:// connection kept for its life
 * (measured with 50 connections: 4,111 KiB each, 382 KiB without). So
 * the connection gets none, and its accept-certificate signal (emitted
 * during the handshake for the certificate it cannot judge alone)
 * verifies the chain and the name against the shared database: [tls]
 * ca-file's, or the backend's default. */
typedef struct
{
  GTlsDatabase       *database;
  GSocketConnectable *identity;    /* the host connected to */
} Verifier;

static void
verifier_free (gpointer  data,
               GClosure *closure)
{
  Verifier *v = data;

  g_object_unref (v->database);
  g_object_unref (v->identity);
  g_free (v);
}

static gboolean
accept_certificate_cb (GTlsConnection       *connection,
                       GTlsCertificate      *peer,
                       GTlsCertificateFlags  errors,
                       Verifier             *v)
{
  g_autoptr(GError) error = NULL;
  GTlsCertificateFlags flags;

  flags = g_tls_database_verify_chain (v->database, peer, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                       v->identity, g_tls_connection_get_interaction (connection),
                                       G_TLS_DATABASE_VERIFY_NONE, NULL, &error);
  if (error != NULL)
    g_info ("TLS certificate of the server not verified: %s", error->message);
  else if (flags != 0)
    g_info ("TLS certificate of the server refused (GTlsCertificateFlags 0x%x)", flags);
  return error == NULL && flags == 0;
}

static void
verify_with (GTlsConnection     *connection,
             GTlsDatabase       *shared,
             GSocketConnectable *identity)
{
  Verifier *v;
  GTlsDatabase *database = shared != NULL ? g_object_ref (shared) :
                           g_tls_backend_get_default_database (g_tls_backend_get_default ());

  if (database == NULL)
    return;   /* no database at all: GIO's own refusal stands */
  v = g_new0 (Verifier, 1);
  v->database = database;
  v->identity = g_object_ref (identity);
  g_tls_connection_set_database (connection, NULL);
  g_signal_connect_data (connection, "accept-certificate", G_CALLBACK (accept_certificate_cb), v,
                         verifier_free, 0);
}

static void
connect_event_cb (GSocketClient      *client,
                  GSocketClientEvent  event,
                  GSocketConnectable *connectable,
                  GIOStream          *connection,
                  gpointer            user_data)
{
  Connecting *c = user_data;

  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && G_IS_TLS_CONNECTION (connection))
    verify_with (G_TLS_CONNECTION (connection), c->tls_database, connectable);
  else if (event == G_SOCKET_CLIENT_CONNECTED && G_IS_SOCKET_CONNECTION (connection))
    g_socket_set_option (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)),
                         IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
}

static void
connect_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Connecting *c = user_data;
  MgwLinkPrivate *priv = mgw_link_get_instance_private (c->link);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  gboolean cancelled;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  g_signal_handlers_disconnect_by_data (source, c);
  cancelled = priv->connecting != NULL && g_cancellable_is_cancelled (priv->connecting);
  g_clear_object (&priv->connecting);
  if (connection == NULL && cancelled)
    {
      g_clear_error (&error);
      error = g_error_new_literal (MGW_ERROR, MGW_ERROR_TIMED_OUT, "connection timed out");
    }
  c->done (c->link, connection, error);
  connecting_free (c);
}

void
mgw_link_connect (MgwLink          *self,
                  const char       *host,
                  guint16           port,
                  gboolean          tls,
                  GTlsDatabase     *tls_database,
                  MgwLinkConnected  done)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new (host, port);
  Connecting *c;

  g_return_if_fail (MGW_IS_LINK (self));
  g_return_if_fail (host != NULL && done != NULL);
  g_return_if_fail (priv->connecting == NULL);

  c = g_new0 (Connecting, 1);
  c->link = g_object_ref (self);
  c->tls_database = tls && tls_database != NULL ? g_object_ref (tls_database) : NULL;
  c->done = done;
  /* Straight to the server: no system proxy (its lookup costs a thread
   * hop and a parse of /etc/services per connection). */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_tls (client, tls);
  g_signal_connect (client, "event", G_CALLBACK (connect_event_cb), c);
  priv->connecting = g_cancellable_new ();
  g_socket_client_connect_async (client, address, priv->connecting, connect_done_cb, c);
}

gboolean
mgw_link_cancel_connect (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), FALSE);

  if (priv->connecting == NULL)
    return FALSE;
  g_cancellable_cancel (priv->connecting);
  return TRUE;
}

void
mgw_link_set_session (MgwLink    *self,
                      guint       session_id,
                      const char *peer_address)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_if_fail (MGW_IS_LINK (self));

  priv->has_session = TRUE;
  priv->session_id = session_id;
  g_free (priv->peer);
  priv->peer = g_strdup (peer_address);
}

void
mgw_link_log (MgwLink        *self,
              GLogLevelFlags  level,
              const char     *format,
              ...)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);
  g_autofree char *text = NULL;
  g_autofree char *message = NULL;
  char id[16];
  va_list args;
  GLogField fields[4] = {
    { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
    { "MESSAGE", NULL, -1 },
    { "MGW_SESSION_ID", id, -1 },
    { "MGW_PEER", priv->peer, -1 },
  };

  g_return_if_fail (MGW_IS_LINK (self));

  if (level == G_LOG_LEVEL_DEBUG && g_log_writer_default_would_drop (level, G_LOG_DOMAIN))
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  message = g_strdup_printf ("%s: %s", mgw_link_get_description (self), text);
  fields[1].value = message;
  g_snprintf (id, sizeof id, "%u", priv->session_id);
  g_log_structured_array (level, fields, priv->has_session && priv->peer != NULL ? 4 : 2);
}

/* Paces output to `bytes_per_second` (0: as fast as the peer reads),
 * woken by `pacer`'s shared tick while waiting for credit. */
void
mgw_link_set_rate (MgwLink  *self,
                   double    bytes_per_second,
                   MgwPacer *pacer)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_if_fail (MGW_IS_LINK (self));

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

  g_return_if_fail (MGW_IS_LINK (link));

  priv->pacing = FALSE;
  if (priv->state == MGW_LINK_OPEN || priv->state == MGW_LINK_CLOSING)
    link_flush (self);
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
  GBytes *head;
  gsize size, allowed;
  const guint8 *p;
  gint64 now;

  g_return_val_if_fail (MGW_IS_LINK (self), FALSE);
  g_return_val_if_fail (data != NULL && len != NULL, FALSE);

  head = g_queue_peek_head (&priv->queue);
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
  if (priv->queued == 0 && !wire_pending (priv) &&
      priv->state == MGW_LINK_CLOSING && mgw_timer_is_active (&priv->flush_timer))
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

  g_return_if_fail (MGW_IS_LINK (self));

  if (priv->state != MGW_LINK_CONNECTING)
    return;
  priv->state = MGW_LINK_OPEN;
  if (priv->paused)
    link_set_paused (self, TRUE);
  g_signal_emit (self, signals[SIGNAL_OPENED], 0);
  if (priv->state == MGW_LINK_OPEN && priv->queued > 0)
    link_flush (self);
}

void
mgw_link_emit_received (MgwLink      *self,
                        const guint8 *data,
                        gsize         len)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_if_fail (MGW_IS_LINK (self));

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

  g_return_if_fail (MGW_IS_LINK (self));

  if (priv->state == MGW_LINK_CLOSED)
    return;
  priv->state = MGW_LINK_CLOSED;
  mgw_timer_stop (&priv->flush_timer);
  clear_queue (self);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0,
                 priv->close_error ? priv->close_error : error);
  if (priv->closing_ref)
    {
      priv->closing_ref = FALSE;
      g_object_unref (self);
    }
}

void
mgw_link_count_bad_input (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_if_fail (MGW_IS_LINK (self));

  priv->bad_input++;
}

guint64
mgw_link_get_bad_input (MgwLink *self)
{
  MgwLinkPrivate *priv = mgw_link_get_instance_private (self);

  g_return_val_if_fail (MGW_IS_LINK (self), 0);

  return priv->bad_input;
}
