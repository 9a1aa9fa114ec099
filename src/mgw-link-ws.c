/* mgw-link-ws.c: MgwLink over a libsoup WebSocket connection.
 *
 * Server side for WebSocket users (the connection comes from the
 * listener), client side for the default server and ws:// or wss://
 * redirect targets. Text and binary frames are accepted from the peer;
 * text frames carry one code point per byte. Frames go out of the queue
 * one queued chunk per frame, and only while the kernel's send queue of
 * the socket is short, so libsoup's own queue stays small when the peer
 * does not read. */
#include "config.h"

#include "mgw-link-ws.h"
#include "mgw-error.h"
#include "mgw-minitel.h"

#include <sys/ioctl.h>
#include <linux/sockios.h>

/* How often a congested link looks at the socket again. */
#define CONGESTION_POLL_MS 20
/* How long an orderly close may wait for the peer's close frame. */
#define CLOSE_TIMEOUT_MS 1000

struct _MgwLinkWs
{
  MgwLink                  parent_instance;

  SoupWebsocketConnection *conn;
  GSocket                 *socket;
  MgwFrameType             frame_type;
  guint                    keepalive_interval;
  guint                    keepalive_timeout;
  guint64                  max_incoming;
  gint64                   last_heard;      /* monotonic, µs */
  gint64                   stalled_since;   /* the peer stopped reading, µs; 0: reads */
  guint                    keepalive_id;
  guint                    congestion_id;
  guint                    close_timeout_id;
  guint                    connect_timeout_id;
  GCancellable            *connect_cancellable;
  GByteArray              *text_buf;
};

G_DEFINE_FINAL_TYPE (MgwLinkWs, mgw_link_ws, MGW_TYPE_LINK)

static void
message_cb (SoupWebsocketConnection *conn,
            SoupWebsocketDataType    type,
            GBytes                  *message,
            gpointer                 user_data)
{
  MgwLinkWs *self = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);

  self->last_heard = g_get_monotonic_time ();
  if (len == 0)
    return;  /* empty frames are legal: ignore them */

  if (type == SOUP_WEBSOCKET_DATA_BINARY)
    {
      mgw_link_emit_received (MGW_LINK (self), data, len);
      return;
    }

  g_autoptr(GError) error = NULL;
  if (self->text_buf == NULL)
    self->text_buf = g_byte_array_new ();
  g_byte_array_set_size (self->text_buf, 0);
  if (!mgw_utf8_to_latin1 ((const char *) data, len, self->text_buf, &error))
    {
      mgw_link_count_bad_input (MGW_LINK (self));
      g_message ("%s: dropped a text frame of %" G_GSIZE_FORMAT " bytes: %s",
                 mgw_link_get_description (MGW_LINK (self)), len,
                 error->message);
      return;
    }
  mgw_link_emit_received (MGW_LINK (self), self->text_buf->data,
                          self->text_buf->len);
  /* Keep the per-link scratch buffer small between frames. */
  if (self->text_buf != NULL && self->text_buf->len > 4096)
    g_clear_pointer (&self->text_buf, g_byte_array_unref);
}

static void
pong_cb (SoupWebsocketConnection *conn,
         GBytes                  *message,
         gpointer                 user_data)
{
  MgwLinkWs *self = user_data;

  self->last_heard = g_get_monotonic_time ();
}

static void
disconnect_conn (MgwLinkWs *self)
{
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  g_clear_handle_id (&self->congestion_id, g_source_remove);
  g_clear_handle_id (&self->close_timeout_id, g_source_remove);
  if (self->conn != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->conn, self);
      g_clear_object (&self->conn);
    }
  g_clear_object (&self->socket);
}

static void
closed_cb (SoupWebsocketConnection *conn,
           gpointer                 user_data)
{
  MgwLinkWs *self = user_data;
  g_autoptr(GError) error = NULL;
  gushort code = soup_websocket_connection_get_close_code (conn);

  g_object_ref (self);
  if (mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_OPEN &&
      code != SOUP_WEBSOCKET_CLOSE_NORMAL &&
      code != SOUP_WEBSOCKET_CLOSE_GOING_AWAY)
    {
      const char *data = soup_websocket_connection_get_close_data (conn);
      error = g_error_new (MGW_ERROR, MGW_ERROR_CLOSED,
                           "WebSocket closed with code %u%s%s", code,
                           data && *data ? ": " : "", data ? data : "");
    }
  disconnect_conn (self);
  mgw_link_emit_closed (MGW_LINK (self), error);
  g_object_unref (self);
}

static void
error_cb (SoupWebsocketConnection *conn,
          GError                  *error,
          gpointer                 user_data)
{
  MgwLinkWs *self = user_data;

  /* libsoup closes the connection after a protocol error; count it. */
  mgw_link_count_bad_input (MGW_LINK (self));
  g_message ("%s: WebSocket error: %s",
             mgw_link_get_description (MGW_LINK (self)), error->message);
}

static gsize socket_backlog (MgwLinkWs *self);

static gboolean
keepalive_cb (gpointer user_data)
{
  MgwLinkWs *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 silent = now - self->last_heard;

  /* A peer that talks (pings, say) but does not read would have libsoup
   * queue our answers without end: drop it once it has not read for as
   * long as a silent peer may stay. */
  if (socket_backlog (self) > mgw_link_get_queue_limit (MGW_LINK (self)) / 2)
    {
      if (self->stalled_since == 0)
        self->stalled_since = now;
      else if (now - self->stalled_since >
               (gint64) (self->keepalive_interval + self->keepalive_timeout) * G_USEC_PER_SEC)
        {
          self->keepalive_id = 0;
          mgw_link_abort (MGW_LINK (self),
                          g_error_new (MGW_ERROR, MGW_ERROR_TIMED_OUT,
                                       "the peer has not read for %u s",
                                       (guint) ((now - self->stalled_since) / G_USEC_PER_SEC)));
          return G_SOURCE_REMOVE;
        }
    }
  else
    self->stalled_since = 0;

  if (silent > (gint64) (self->keepalive_interval + self->keepalive_timeout) * G_USEC_PER_SEC)
    {
      self->keepalive_id = 0;
      mgw_link_abort (MGW_LINK (self),
                      g_error_new (MGW_ERROR, MGW_ERROR_TIMED_OUT,
                                   "no answer to keepalive pings for %u s",
                                   (guint) (silent / G_USEC_PER_SEC)));
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
apply_settings (MgwLinkWs *self)
{
  if (self->conn == NULL)
    return;
  soup_websocket_connection_set_keepalive_interval (self->conn,
                                                    self->keepalive_interval);
  soup_websocket_connection_set_max_incoming_payload_size (self->conn,
                                                           self->max_incoming);
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (self->keepalive_interval > 0 && self->keepalive_timeout > 0)
    self->keepalive_id = g_timeout_add_seconds (self->keepalive_interval,
                                                keepalive_cb, self);
}

static void
attach_conn (MgwLinkWs               *self,
             SoupWebsocketConnection *conn)
{
  self->conn = g_object_ref (conn);
  self->last_heard = g_get_monotonic_time ();
  g_signal_connect (conn, "message", G_CALLBACK (message_cb), self);
  g_signal_connect (conn, "pong", G_CALLBACK (pong_cb), self);
  g_signal_connect (conn, "closed", G_CALLBACK (closed_cb), self);
  g_signal_connect (conn, "error", G_CALLBACK (error_cb), self);
  apply_settings (self);
}

/* Bytes the kernel still holds for the peer (unsent or unacknowledged). */
static gsize
socket_backlog (MgwLinkWs *self)
{
  int pending = 0;

  if (self->socket == NULL ||
      ioctl (g_socket_get_fd (self->socket), SIOCOUTQ, &pending) < 0)
    return 0;
  return pending > 0 ? (gsize) pending : 0;
}

static gboolean congestion_cb (gpointer user_data);

static void
mgw_link_ws_flush (MgwLink *link)
{
  MgwLinkWs *self = MGW_LINK_WS (link);
  gsize threshold = mgw_link_get_queue_limit (link) / 2;

  if (self->conn == NULL || self->congestion_id != 0)
    return;
  if (soup_websocket_connection_get_state (self->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;

  g_object_ref (self);
  while (self->conn != NULL)
    {
      const guint8 *data;
      gsize len;
      g_autoptr(GBytes) frame = NULL;

      if (socket_backlog (self) > threshold)
        {
          self->congestion_id = g_timeout_add (CONGESTION_POLL_MS,
                                               congestion_cb, self);
          break;
        }
      /* One queued chunk (or what the pace allows of it) per frame. */
      if (!mgw_link_queue_head (link, &data, &len))
        break;
      if (self->frame_type == MGW_FRAME_TEXT)
        frame = mgw_latin1_to_utf8 (data, len);
      else
        frame = g_bytes_new (data, len);
      soup_websocket_connection_send_message (self->conn,
                                              self->frame_type == MGW_FRAME_TEXT ?
                                              SOUP_WEBSOCKET_DATA_TEXT :
                                              SOUP_WEBSOCKET_DATA_BINARY,
                                              frame);
      mgw_link_queue_consume (link, len);
    }
  g_object_unref (self);
}

static gboolean
congestion_cb (gpointer user_data)
{
  MgwLinkWs *self = user_data;

  self->congestion_id = 0;
  mgw_link_ws_flush (MGW_LINK (self));
  return G_SOURCE_REMOVE;
}

static void
mgw_link_ws_set_paused (MgwLink  *link,
                        gboolean  paused)
{
  /* libsoup reads a WebSocket as fast as frames come and has no way to
   * stop; the other side's bounded queue is the limit instead. */
}

static gboolean
close_timeout_cb (gpointer user_data)
{
  MgwLinkWs *self = user_data;

  self->close_timeout_id = 0;
  g_object_ref (self);
  if (self->conn != NULL)
    g_io_stream_close (soup_websocket_connection_get_io_stream (self->conn),
                       NULL, NULL);
  disconnect_conn (self);
  mgw_link_emit_closed (MGW_LINK (self), NULL);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
mgw_link_ws_close (MgwLink *link)
{
  MgwLinkWs *self = MGW_LINK_WS (link);

  if (self->connect_cancellable != NULL)
    {
      /* connected_cb reports the end. */
      g_cancellable_cancel (self->connect_cancellable);
      return;
    }
  if (self->conn == NULL)
    {
      mgw_link_emit_closed (link, NULL);
      return;
    }
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  g_clear_handle_id (&self->congestion_id, g_source_remove);
  switch (soup_websocket_connection_get_state (self->conn))
    {
    case SOUP_WEBSOCKET_STATE_OPEN:
      soup_websocket_connection_close (self->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
                                       NULL);
      G_GNUC_FALLTHROUGH;
    case SOUP_WEBSOCKET_STATE_CLOSING:
      /* closed_cb follows; do not wait for a silent peer forever. */
      if (self->close_timeout_id == 0 && self->conn != NULL)
        self->close_timeout_id = g_timeout_add (CLOSE_TIMEOUT_MS,
                                                close_timeout_cb, self);
      break;
    case SOUP_WEBSOCKET_STATE_CLOSED:
    default:
      g_object_ref (self);
      disconnect_conn (self);
      mgw_link_emit_closed (link, NULL);
      g_object_unref (self);
      break;
    }
}

static void
mgw_link_ws_dispose (GObject *object)
{
  MgwLinkWs *self = MGW_LINK_WS (object);

  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  if (self->connect_cancellable != NULL)
    g_cancellable_cancel (self->connect_cancellable);
  g_clear_object (&self->connect_cancellable);
  disconnect_conn (self);
  g_clear_pointer (&self->text_buf, g_byte_array_unref);

  G_OBJECT_CLASS (mgw_link_ws_parent_class)->dispose (object);
}

static void
mgw_link_ws_class_init (MgwLinkWsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  MgwLinkClass *link_class = MGW_LINK_CLASS (klass);

  object_class->dispose = mgw_link_ws_dispose;
  link_class->flush = mgw_link_ws_flush;
  link_class->set_paused = mgw_link_ws_set_paused;
  link_class->close = mgw_link_ws_close;
}

static void
mgw_link_ws_init (MgwLinkWs *self)
{
  self->max_incoming = 64 * 1024;
}

/* A user's connection accepted by the WebSocket listener; open at once. */
MgwLink *
mgw_link_ws_new_server (SoupWebsocketConnection *conn,
                        GSocket                 *socket,
                        MgwFrameType             frame_type)
{
  MgwLinkWs *self = g_object_new (MGW_TYPE_LINK_WS, NULL);

  self->frame_type = frame_type;
  self->socket = socket ? g_object_ref (socket) : NULL;
  attach_conn (self, conn);
  mgw_link_emit_opened (MGW_LINK (self));
  return MGW_LINK (self);
}

static void
network_event_cb (SoupMessage        *msg,
                  GSocketClientEvent  event,
                  GIOStream          *connection,
                  gpointer            user_data)
{
  MgwLinkWs *self = user_data;

  if (event == G_SOCKET_CLIENT_CONNECTED && G_IS_SOCKET_CONNECTION (connection))
    g_set_object (&self->socket,
                  g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)));
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(MgwLinkWs) self = user_data;
  g_autoptr(SoupWebsocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  gboolean cancelled;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
                                                &error);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  cancelled = g_cancellable_is_cancelled (self->connect_cancellable);
  g_clear_object (&self->connect_cancellable);

  if (conn == NULL)
    {
      if (mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_CLOSING)
        {
          mgw_link_emit_closed (MGW_LINK (self), NULL);
          return;
        }
      if (cancelled)
        {
          g_clear_error (&error);
          error = g_error_new_literal (MGW_ERROR, MGW_ERROR_TIMED_OUT,
                                       "connection timed out");
        }
      g_clear_object (&self->socket);
      mgw_link_abort (MGW_LINK (self), g_steal_pointer (&error));
      return;
    }

  attach_conn (self, conn);
  if (mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_CLOSING)
    {
      mgw_link_ws_close (MGW_LINK (self));
      return;
    }
  mgw_link_emit_opened (MGW_LINK (self));
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  MgwLinkWs *self = user_data;

  self->connect_timeout_id = 0;
  g_cancellable_cancel (self->connect_cancellable);
  return G_SOURCE_REMOVE;
}

/* Opens a WebSocket client connection; "opened" or "closed" follows.
 * Fails at once only for a URI that cannot be used. */
MgwLink *
mgw_link_ws_connect (SoupSession         *session,
                     const char          *uri,
                     const char * const  *protocols,
                     MgwFrameType         frame_type,
                     guint                timeout_ms,
                     GError             **error)
{
  g_autoptr(GUri) parsed = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  MgwLinkWs *self;
  const char *scheme;

  parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, error);
  if (parsed == NULL)
    return NULL;
  scheme = g_uri_get_scheme (parsed);
  if (g_ascii_strcasecmp (scheme, "ws") != 0 &&
      g_ascii_strcasecmp (scheme, "wss") != 0)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   "'%s' is not a ws:// or wss:// URI", uri);
      return NULL;
    }
  msg = soup_message_new_from_uri (SOUP_METHOD_GET, parsed);

  self = g_object_new (MGW_TYPE_LINK_WS, NULL);
  self->frame_type = frame_type;
  self->connect_cancellable = g_cancellable_new ();
  g_signal_connect_object (msg, "network-event", G_CALLBACK (network_event_cb),
                           self, 0);
  if (timeout_ms > 0)
    self->connect_timeout_id = g_timeout_add (timeout_ms, connect_timeout_cb,
                                              self);
  soup_session_websocket_connect_async (session, msg, NULL,
                                        (char **) protocols,
                                        G_PRIORITY_DEFAULT,
                                        self->connect_cancellable,
                                        connected_cb, g_object_ref (self));
  return MGW_LINK (self);
}

void
mgw_link_ws_set_keepalive (MgwLinkWs *self,
                           guint      interval_s,
                           guint      timeout_s)
{
  self->keepalive_interval = interval_s;
  self->keepalive_timeout = timeout_s;
  apply_settings (self);
}

void
mgw_link_ws_set_max_incoming (MgwLinkWs *self,
                              guint64    max_bytes)
{
  self->max_incoming = max_bytes;
  apply_settings (self);
}

const char *
mgw_link_ws_get_protocol (MgwLinkWs *self)
{
  return self->conn ? soup_websocket_connection_get_protocol (self->conn) : NULL;
}
