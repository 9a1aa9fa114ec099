/* mgw-link-telnet.c: MgwLink over a TCP stream speaking Telnet.
 *
 * Server side for Telnet users (the codec negotiates character mode),
 * client side for telnet:// videotex servers. Reads and writes are
 * non-blocking through pollable streams; reading stops while paused. */
#include "config.h"

#include "mgw-link-telnet.h"
#include "mgw-error.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#define READ_SIZE 4096

struct _MgwLinkTelnet
{
  MgwLink         parent_instance;

  GIOStream      *stream;
  GPollableInputStream  *input;
  GPollableOutputStream *output;
  GSource        *read_source;
  GSource        *write_source;
  MgwTelnetCodec *codec;
  GCancellable   *connect_cancellable;
  guint           connect_timeout_id;
};

G_DEFINE_FINAL_TYPE (MgwLinkTelnet, mgw_link_telnet, MGW_TYPE_LINK)

static void start_reading (MgwLinkTelnet *self);

static void
stop_sources (MgwLinkTelnet *self)
{
  if (self->read_source != NULL)
    {
      g_source_destroy (self->read_source);
      g_clear_pointer (&self->read_source, g_source_unref);
    }
  if (self->write_source != NULL)
    {
      g_source_destroy (self->write_source);
      g_clear_pointer (&self->write_source, g_source_unref);
    }
}

static void
fail (MgwLinkTelnet *self,
      GError        *error)
{
  stop_sources (self);
  mgw_link_abort (MGW_LINK (self), error);
}

/* Decodes bytes from the peer: negotiation answers go back, data goes
 * to "received". */
static void
process_input (MgwLinkTelnet *self,
               const guint8  *buf,
               gsize          n)
{
  static GByteArray *data, *reply;

  if (data == NULL)
    {
      data = g_byte_array_sized_new (READ_SIZE);
      reply = g_byte_array_sized_new (64);
    }
  g_byte_array_set_size (data, 0);
  g_byte_array_set_size (reply, 0);
  mgw_telnet_codec_decode (self->codec, buf, n, data, reply);

  g_object_ref (self);
  if (reply->len > 0)
    mgw_link_send_raw (MGW_LINK (self), reply->data, reply->len);
  if (data->len > 0)
    mgw_link_emit_received (MGW_LINK (self), data->data, data->len);
  g_object_unref (self);
}

static gboolean
read_cb (GObject  *pollable,
         gpointer  user_data)
{
  MgwLinkTelnet *self = user_data;
  /* One buffer for every link: the main loop is single-threaded and the
   * decoded bytes are handed on before the next read. */
  static guint8 buf[READ_SIZE];
  g_autoptr(GError) error = NULL;
  gssize n;

  n = g_pollable_input_stream_read_nonblocking (self->input, buf, sizeof buf,
                                                NULL, &error);
  if (n < 0)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      g_clear_pointer (&self->read_source, g_source_unref);
      fail (self, g_steal_pointer (&error));
      return G_SOURCE_REMOVE;
    }
  if (n == 0)
    {
      /* The peer closed: an orderly end, no error. */
      g_clear_pointer (&self->read_source, g_source_unref);
      fail (self, NULL);
      return G_SOURCE_REMOVE;
    }

  process_input (self, buf, n);
  /* The handlers may have closed or paused us, destroying this source. */
  return G_SOURCE_CONTINUE;
}

static void
start_reading (MgwLinkTelnet *self)
{
  if (self->read_source != NULL || self->input == NULL)
    return;
  self->read_source = g_pollable_input_stream_create_source (self->input, NULL);
  g_source_set_callback (self->read_source, G_SOURCE_FUNC (read_cb), self, NULL);
  g_source_attach (self->read_source, NULL);
}

static gboolean write_cb (GObject *pollable, gpointer user_data);

static void
mgw_link_telnet_flush (MgwLink *link)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (link);
  const guint8 *data;
  gsize len;

  if (self->output == NULL || self->write_source != NULL)
    return;

  g_object_ref (self);
  while (mgw_link_get_state (link) < MGW_LINK_CLOSED &&
         mgw_link_queue_head (link, &data, &len))
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_output_stream_write_nonblocking (self->output,
                                                             data, len,
                                                             NULL, &error);
      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              self->write_source =
                g_pollable_output_stream_create_source (self->output, NULL);
              g_source_set_callback (self->write_source,
                                     G_SOURCE_FUNC (write_cb), self, NULL);
              g_source_attach (self->write_source, NULL);
            }
          else
            fail (self, g_steal_pointer (&error));
          break;
        }
      mgw_link_queue_consume (link, n);
    }
  g_object_unref (self);
}

static gboolean
write_cb (GObject  *pollable,
          gpointer  user_data)
{
  MgwLinkTelnet *self = user_data;

  g_clear_pointer (&self->write_source, g_source_unref);
  mgw_link_telnet_flush (MGW_LINK (self));
  return G_SOURCE_REMOVE;
}

static void
mgw_link_telnet_set_paused (MgwLink  *link,
                            gboolean  paused)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (link);

  if (paused)
    {
      if (self->read_source != NULL)
        {
          g_source_destroy (self->read_source);
          g_clear_pointer (&self->read_source, g_source_unref);
        }
    }
  else
    start_reading (self);
}

static void
mgw_link_telnet_close (MgwLink *link)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (link);

  g_object_ref (self);
  stop_sources (self);
  if (self->connect_cancellable != NULL)
    g_cancellable_cancel (self->connect_cancellable);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  if (self->stream != NULL)
    {
      /* Closing a socket stream does not block. */
      g_io_stream_close (self->stream, NULL, NULL);
      self->input = NULL;
      self->output = NULL;
      g_clear_object (&self->stream);
    }
  mgw_link_emit_closed (link, NULL);
  g_object_unref (self);
}

static GBytes *
mgw_link_telnet_encode (MgwLink *link,
                        GBytes  *data)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);

  if (memchr (p, 0xff, len) == NULL)
    return g_bytes_ref (data);
  GByteArray *out = g_byte_array_sized_new (len + 16);
  mgw_telnet_encode (p, len, out);
  return g_byte_array_free_to_bytes (out);
}

static void
mgw_link_telnet_dispose (GObject *object)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (object);

  stop_sources (self);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  if (self->connect_cancellable != NULL)
    g_cancellable_cancel (self->connect_cancellable);
  g_clear_object (&self->connect_cancellable);
  if (self->stream != NULL)
    g_io_stream_close (self->stream, NULL, NULL);
  self->input = NULL;
  self->output = NULL;
  g_clear_object (&self->stream);

  G_OBJECT_CLASS (mgw_link_telnet_parent_class)->dispose (object);
}

static void
mgw_link_telnet_finalize (GObject *object)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (object);

  g_clear_pointer (&self->codec, mgw_telnet_codec_free);
  G_OBJECT_CLASS (mgw_link_telnet_parent_class)->finalize (object);
}

static void
mgw_link_telnet_class_init (MgwLinkTelnetClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  MgwLinkClass *link_class = MGW_LINK_CLASS (klass);

  object_class->dispose = mgw_link_telnet_dispose;
  object_class->finalize = mgw_link_telnet_finalize;
  link_class->flush = mgw_link_telnet_flush;
  link_class->set_paused = mgw_link_telnet_set_paused;
  link_class->close = mgw_link_telnet_close;
  link_class->encode = mgw_link_telnet_encode;
}

static void
mgw_link_telnet_init (MgwLinkTelnet *self)
{
}

static void
attach_stream (MgwLinkTelnet *self,
               GIOStream     *stream)
{
  self->stream = g_object_ref (stream);
  self->input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream));
  self->output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream));
}

static void
open_stream (MgwLinkTelnet *self,
             GIOStream     *stream)
{
  g_autoptr(GByteArray) start = g_byte_array_new ();

  attach_stream (self, stream);
  mgw_telnet_codec_start (self->codec, start);
  mgw_link_emit_opened (MGW_LINK (self));
  mgw_link_send_raw (MGW_LINK (self), start->data, start->len);
  start_reading (self);
}

/* A user's connection accepted by the Telnet listener: open at once;
 * the negotiation `start` asks for goes out first. */
MgwLink *
mgw_link_telnet_new_server (GIOStream      *stream,
                            MgwTelnetStart  start)
{
  MgwLinkTelnet *self = g_object_new (MGW_TYPE_LINK_TELNET, NULL);

  self->codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER, start);
  open_stream (self, stream);
  return MGW_LINK (self);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(MgwLinkTelnet) self = user_data;
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;

  conn = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source),
                                                 result, &error);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  if (mgw_link_get_state (MGW_LINK (self)) != MGW_LINK_CONNECTING)
    return;
  if (conn == NULL)
    {
      if (g_cancellable_is_cancelled (self->connect_cancellable))
        {
          g_clear_error (&error);
          error = g_error_new_literal (MGW_ERROR, MGW_ERROR_TIMED_OUT,
                                       "connection timed out");
        }
      fail (self, g_steal_pointer (&error));
      return;
    }
  g_clear_object (&self->connect_cancellable);
  g_socket_set_option (g_socket_connection_get_socket (conn), IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  open_stream (self, G_IO_STREAM (conn));
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  MgwLinkTelnet *self = user_data;

  self->connect_timeout_id = 0;
  g_cancellable_cancel (self->connect_cancellable);
  return G_SOURCE_REMOVE;
}

/* Bytes read before the link existed (after a PROXY header): handled as
 * if just received. */
void
mgw_link_telnet_feed (MgwLinkTelnet *self,
                      const guint8  *data,
                      gsize          len)
{
  if (len > 0 && mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_OPEN)
    process_input (self, data, len);
}

/* Opens a client connection to a telnet:// server; "opened" or "closed"
 * follows. */
MgwLink *
mgw_link_telnet_connect (const char *host,
                         guint16     port,
                         guint       timeout_ms)
{
  MgwLinkTelnet *self = g_object_new (MGW_TYPE_LINK_TELNET, NULL);
  g_autoptr(GSocketClient) client = g_socket_client_new ();

  self->codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_CLIENT,
                                      MGW_TELNET_START_NONE);
  self->connect_cancellable = g_cancellable_new ();
  if (timeout_ms > 0)
    self->connect_timeout_id = g_timeout_add (timeout_ms, connect_timeout_cb, self);
  g_socket_client_connect_to_host_async (client, host, port,
                                         self->connect_cancellable,
                                         connected_cb, g_object_ref (self));
  return MGW_LINK (self);
}
