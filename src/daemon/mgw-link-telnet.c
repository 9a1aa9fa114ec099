/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-link-telnet.c: MgwLink over a TCP stream speaking Telnet.
 *
 * Server side for Telnet users (the codec negotiates character mode),
 * client side for telnet:// videotex servers. The base link moves the
 * bytes; here they are decoded on the way in (negotiation answered,
 * data handed on) and IAC-escaped on the way out.
 *
 * Raw (no codec): raw TCP users (ESP32 boards, MAME, serial bridges,
 * which would show telnet commands on the screen) and tcp:// servers;
 * every byte is data both ways and nothing is sent of the link's own. */
#include "config.h"

#include "mgw-link-telnet.h"
#include "mgw-error.h"
#include "mgw-poller.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

struct _MgwLinkTelnet
{
  MgwLink         parent_instance;

  MgwTelnetCodec *codec;          /* NULL: raw */
  MgwTimer        connect_timer;
  MgwLinkTelnetSniff sniff;       /* NULL: none */
  gpointer        sniff_data;
};

G_DEFINE_FINAL_TYPE (MgwLinkTelnet, mgw_link_telnet, MGW_TYPE_LINK)

/* Decodes bytes from the peer: negotiation answers go back, data goes
 * to "received". */
static void
mgw_link_telnet_input (MgwLink      *link,
                       const guint8 *buf,
                       gsize         n)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (link);
  /* Scratch shared by every link: single-threaded, used up at once;
   * bounded by what one read gives. */
  static GByteArray *data, *reply;

  if (self->sniff != NULL)
    {
      self->sniff (self->sniff_data, buf, n);
      if (mgw_link_get_state (link) != MGW_LINK_OPEN)
        return;
    }
  if (self->codec == NULL)
    {
      mgw_link_emit_received (link, buf, n);
      return;
    }
  if (data == NULL)
    {
      data = g_byte_array_sized_new (4096);
      reply = g_byte_array_sized_new (64);
    }
  g_byte_array_set_size (data, 0);
  g_byte_array_set_size (reply, 0);
  mgw_telnet_codec_decode (self->codec, buf, n, data, reply);

  if (reply->len > 0)
    mgw_link_send_raw (link, reply->data, reply->len);
  if (data->len > 0)
    mgw_link_emit_received (link, data->data, data->len);
}

static void
mgw_link_telnet_close (MgwLink *link)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (link);

  mgw_timer_stop (&self->connect_timer);
  mgw_link_cancel_connect (link);
  mgw_link_close_transport (link, NULL);
}

static GBytes *
mgw_link_telnet_encode (MgwLink *link,
                        GBytes  *data)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (link);
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);

  if (self->codec == NULL || memchr (p, 0xff, len) == NULL)
    return g_bytes_ref (data);
  GByteArray *out = g_byte_array_sized_new (len + 16);
  mgw_telnet_encode (p, len, out);
  return g_byte_array_free_to_bytes (out);
}

static void
mgw_link_telnet_dispose (GObject *object)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (object);

  mgw_timer_stop (&self->connect_timer);

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
  link_class->input = mgw_link_telnet_input;
  link_class->close = mgw_link_telnet_close;
  link_class->encode = mgw_link_telnet_encode;
}

static void connect_timeout_cb (gpointer user_data);

static void
mgw_link_telnet_init (MgwLinkTelnet *self)
{
  mgw_timer_init (&self->connect_timer, connect_timeout_cb, self);
}

static void
open_stream (MgwLinkTelnet *self,
             GIOStream     *stream)
{
  g_autoptr(GByteArray) start = g_byte_array_new ();

  mgw_link_attach_stream (MGW_LINK (self), stream);
  if (self->codec != NULL)
    mgw_telnet_codec_start (self->codec, start);
  mgw_link_emit_opened (MGW_LINK (self));
  mgw_link_send_raw (MGW_LINK (self), start->data, start->len);
}

/* A user's connection accepted by the Telnet listener: open at once;
 * the negotiation `start` asks for goes out first. */
MgwLink *
mgw_link_telnet_new_server (GIOStream      *stream,
                            MgwTelnetStart  start)
{
  MgwLinkTelnet *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (MGW_TYPE_LINK_TELNET, NULL);
  self->codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER, start);
  open_stream (self, stream);
  return MGW_LINK (self);
}

static void
connected (MgwLink           *link,
           GSocketConnection *conn,
           GError            *error)
{
  MgwLinkTelnet *self = MGW_LINK_TELNET (link);

  mgw_timer_stop (&self->connect_timer);
  if (mgw_link_get_state (link) != MGW_LINK_CONNECTING)
    return;
  if (conn == NULL)
    {
      mgw_link_abort (link, g_error_copy (error));
      return;
    }
  open_stream (self, G_IO_STREAM (conn));
}

static void
connect_timeout_cb (gpointer user_data)
{
  mgw_link_cancel_connect (user_data);
}

/* Bytes read before the link existed (after a PROXY header): handled as
 * if just received. */
void
mgw_link_telnet_feed (MgwLinkTelnet *self,
                      const guint8  *data,
                      gsize          len)
{
  g_return_if_fail (MGW_IS_LINK_TELNET (self));

  if (mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_OPEN)
    mgw_link_feed (MGW_LINK (self), data, len);
}

/* A raw TCP user's connection: open at once, nothing sent. */
MgwLink *
mgw_link_telnet_new_raw_server (GIOStream *stream)
{
  MgwLinkTelnet *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (MGW_TYPE_LINK_TELNET, NULL);
  open_stream (self, stream);
  return MGW_LINK (self);
}

static MgwLink *
connect_to (const char *host,
            guint16     port,
            guint       timeout_ms,
            gboolean    raw)
{
  MgwLinkTelnet *self = g_object_new (MGW_TYPE_LINK_TELNET, NULL);

  if (!raw)
    self->codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_CLIENT, MGW_TELNET_START_NONE);
  if (timeout_ms > 0)
    mgw_timer_start (&self->connect_timer, timeout_ms);
  mgw_link_connect (MGW_LINK (self), host, port, FALSE, NULL, connected);
  return MGW_LINK (self);
}

/* Opens a client connection to a telnet:// server; "opened" or "closed"
 * follows. */
MgwLink *
mgw_link_telnet_connect (const char *host,
                         guint16     port,
                         guint       timeout_ms)
{
  g_return_val_if_fail (host != NULL, NULL);

  return connect_to (host, port, timeout_ms, FALSE);
}

/* The same to a tcp:// server, which speaks no telnet. */
MgwLink *
mgw_link_telnet_connect_raw (const char *host,
                             guint16     port,
                             guint       timeout_ms)
{
  g_return_val_if_fail (host != NULL, NULL);

  return connect_to (host, port, timeout_ms, TRUE);
}

/* TRUE for a raw link: no telnet codec. */
gboolean
mgw_link_telnet_get_raw (MgwLinkTelnet *self)
{
  g_return_val_if_fail (MGW_IS_LINK_TELNET (self), FALSE);

  return self->codec == NULL;
}

void
mgw_link_telnet_set_sniff (MgwLinkTelnet      *self,
                           MgwLinkTelnetSniff  func,
                           gpointer            user_data)
{
  g_return_if_fail (MGW_IS_LINK_TELNET (self));

  self->sniff = func;
  self->sniff_data = user_data;
}
