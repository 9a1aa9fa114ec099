/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-link-ws.c: MgwLink over a WebSocket (RFC 6455).
 *
 * Server side for WebSocket users (the listener hands over the accepted
 * socket; the HTTP upgrade is read here and the gateway decides on it),
 * client side for the default server and ws:// or wss:// redirect
 * targets. The framing is ours (mgw-ws-codec.c) over the base link's
 * transport, so a WebSocket costs one watched socket and no GSource,
 * stops being read while paused like any link, and its output is the
 * base link's bounded queue, one frame per queued chunk (or paced
 * batch). Text and binary frames are accepted from the peer; text
 * frames carry one code point per byte. */
#include "config.h"

#include "mgw-link-ws.h"
#include "mgw-error.h"
#include "mgw-minitel.h"
#include "mgw-poller.h"
#include "mgw-ws-codec.h"
#include "mgw-uri.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

/* The largest HTTP head we read (request or response). */
#define MAX_HEAD (8 * 1024)
/* How long an orderly close may wait for the peer's close frame. */
#define CLOSE_TIMEOUT_MS 1000
/* A plain HTTP answer's body is read and written this much at a time
 * (under the link's queue limit: a chunk always fits once drained). */
#define BODY_CHUNK (16 * 1024)

typedef enum {
  HANDSHAKE_CONNECTING,  /* client: TCP (and TLS) connect */
  HANDSHAKE_REQUEST,     /* server: reading the upgrade request */
  HANDSHAKE_RESPONSE,    /* client: reading the server's answer */
  HANDSHAKE_HTTP,        /* server: writing the answer to a plain HTTP request */
  HANDSHAKE_DONE,
} Handshake;

struct _MgwLinkWs
{
  MgwLink          parent_instance;

  MgwWsRole        role;
  Handshake        handshake;
  MgwFrameType     frame_type;
  MgwWsDecoder    *decoder;
  GByteArray      *head;            /* the HTTP head so far */
  char            *key;             /* client: our Sec-WebSocket-Key */
  char           **protocols;       /* client: offered */
  char            *protocol;        /* agreed */
  char            *host_header;     /* client */
  char            *target;          /* client: path and query */
  MgwLinkWsDecide  decide;          /* server: the gateway's verdict */
  gpointer         decide_data;
  MgwLinkWsServe   serve;           /* server: plain HTTP requests */
  gpointer         serve_data;
  guint            timeout_s;       /* server: the request's deadline */

  /* HANDSHAKE_HTTP: the body still to write, read a chunk at a time. */
  GInputStream    *body;
  goffset          body_left;
  GCancellable    *body_cancel;
  gboolean         body_reading;

  guint            keepalive_interval;
  guint            keepalive_timeout;
  guint64          max_incoming;
  gint64           last_heard;      /* monotonic, µs */
  MgwTimer         keepalive_timer;
  MgwTimer         deadline;        /* handshake deadline, then close wait */
  gboolean         close_sent;
  gboolean         close_received;
  gboolean         pong_pending;    /* the latest ping, not answered yet */
  guint8           pong_payload[125];
  gsize            pong_len;
};

G_DEFINE_FINAL_TYPE (MgwLinkWs, mgw_link_ws, MGW_TYPE_LINK)

static void start_keepalive (MgwLinkWs *self);
static void body_continue (MgwLinkWs *self);

/* Control frames only. FALSE when the peer has not taken what waits
 * already (the frame is dropped). */
static gboolean
send_frame (MgwLinkWs    *self,
            MgwWsOpcode   opcode,
            const guint8 *payload,
            gsize         len)
{
  g_autoptr(GByteArray) out = g_byte_array_sized_new (len + 14);

  mgw_ws_encode_frame (self->role, opcode, payload, len, out);
  return mgw_link_send_wire (MGW_LINK (self), out->data, out->len);
}

/* Answers a ping; while the peer is behind on reading, only the latest
 * ping is answered, once it has caught up (RFC 6455 §5.5.3). */
static void
send_pong (MgwLinkWs    *self,
           const guint8 *payload,
           gsize         len)
{
  /* Cleared first: writing may call drained() again. */
  self->pong_pending = FALSE;
  if (send_frame (self, MGW_WS_OP_PONG, payload, len))
    return;
  memmove (self->pong_payload, payload, MIN (len, sizeof self->pong_payload));
  self->pong_len = MIN (len, sizeof self->pong_payload);
  self->pong_pending = TRUE;
}

static void
mgw_link_ws_drained (MgwLink *link)
{
  MgwLinkWs *self = MGW_LINK_WS (link);

  if (self->handshake == HANDSHAKE_HTTP)
    body_continue (self);
  else if (self->pong_pending && !self->close_sent)
    send_pong (self, self->pong_payload, self->pong_len);
}

static void
send_close (MgwLinkWs  *self,
            guint16     code,
            const char *reason)
{
  g_autoptr(GByteArray) out = g_byte_array_sized_new (128 + 14);

  if (self->close_sent)
    return;
  self->close_sent = TRUE;
  mgw_ws_encode_close (self->role, code, reason, out);
  mgw_link_send_wire (MGW_LINK (self), out->data, out->len);
}

static void
message (MgwLinkWs          *self,
         const MgwWsEvent   *event)
{
  /* Scratch shared by every link: single-threaded, used up at once. */
  static GByteArray *text;
  g_autoptr(GError) error = NULL;

  if (event->len == 0)
    return;  /* empty frames are legal: ignore them */
  if (event->opcode == MGW_WS_OP_BINARY)
    {
      mgw_link_emit_received (MGW_LINK (self), event->payload, event->len);
      return;
    }

  if (text == NULL)
    text = g_byte_array_new ();
  g_byte_array_set_size (text, 0);
  if (!mgw_utf8_to_latin1 ((const char *) event->payload, event->len, text, &error))
    {
      mgw_link_count_bad_input (MGW_LINK (self));
      mgw_link_log (MGW_LINK (self), G_LOG_LEVEL_MESSAGE,
                    "dropped a text frame of %" G_GSIZE_FORMAT " bytes: %s", event->len,
                    error->message);
      return;
    }
  mgw_link_emit_received (MGW_LINK (self), text->data, text->len);
  if (text->len > 64 * 1024)
    g_clear_pointer (&text, g_byte_array_unref);  /* keep no big buffer */
}

/* The closing handshake is over (or cut short): let go of the socket. */
static void
finish (MgwLinkWs    *self,
        const GError *error)
{
  mgw_timer_stop (&self->deadline);
  mgw_timer_stop (&self->keepalive_timer);
  if (self->body_cancel != NULL)
    g_cancellable_cancel (self->body_cancel);
  mgw_link_close_transport (MGW_LINK (self), error);
}

static void
peer_closed (MgwLinkWs        *self,
             const MgwWsEvent *event)
{
  g_autoptr(GError) error = NULL;

  self->close_received = TRUE;
  if (!self->close_sent)
    {
      /* Echo the code, as RFC 6455 §5.5.1 asks. */
      send_close (self, event->close_code == 1005 ? 0 : event->close_code, NULL);
      if (mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_OPEN &&
          event->close_code != 1000 && event->close_code != 1001 &&
          event->close_code != 1005)
        error = g_error_new (MGW_ERROR, MGW_ERROR_CLOSED,
                             "WebSocket closed with code %u%s%.*s",
                             event->close_code, event->len > 0 ? ": " : "",
                             (int) event->len, (const char *) event->payload);
    }
  finish (self, error);
}

static void
protocol_error (MgwLinkWs        *self,
                const MgwWsEvent *event)
{
  g_autoptr(GError) error = NULL;

  mgw_link_count_bad_input (MGW_LINK (self));
  mgw_link_log (MGW_LINK (self), G_LOG_LEVEL_MESSAGE, "WebSocket error: %s", event->error);
  send_close (self, event->close_code, NULL);
  error = g_error_new (MGW_ERROR, MGW_ERROR_BAD_INPUT,
                       "WebSocket protocol error (%u): %s", event->close_code,
                       event->error);
  finish (self, error);
}

static void
frames_input (MgwLinkWs    *self,
              const guint8 *data,
              gsize         len)
{
  MgwLink *link = MGW_LINK (self);
  MgwWsEvent event;

  mgw_ws_decoder_push (self->decoder, data, len);
  while (mgw_link_get_state (link) < MGW_LINK_CLOSED &&
         mgw_ws_decoder_next (self->decoder, &event))
    {
      self->last_heard = g_get_monotonic_time ();
      switch (event.type)
        {
        case MGW_WS_EVENT_MESSAGE:
          message (self, &event);
          break;
        case MGW_WS_EVENT_PING:
          if (!self->close_sent)
            send_pong (self, event.payload, event.len);
          break;
        case MGW_WS_EVENT_PONG:
          break;
        case MGW_WS_EVENT_CLOSE:
          peer_closed (self, &event);
          break;
        case MGW_WS_EVENT_ERROR:
          protocol_error (self, &event);
          break;
        }
    }
  /* Drained, the decoder now owns what is left of `data`; closed, it is
   * of no more use. */
  if (mgw_link_get_state (link) < MGW_LINK_CLOSED)
    while (mgw_ws_decoder_next (self->decoder, &event))
      ;
  else
    g_clear_pointer (&self->decoder, mgw_ws_decoder_free);
}

static void
refuse (MgwLinkWs  *self,
        guint       status,
        const char *why)
{
  g_autofree char *response = mgw_http_error_response (status);

  g_info ("%s: WebSocket upgrade refused (%u): %s",
          mgw_link_get_description (MGW_LINK (self)), status, why);
  mgw_link_send_wire (MGW_LINK (self), (const guint8 *) response, strlen (response));
  mgw_link_abort (MGW_LINK (self),
                  g_error_new (MGW_ERROR, MGW_ERROR_BAD_INPUT,
                               "WebSocket upgrade refused (%u): %s", status, why));
}

/* --- plain HTTP answers --- */

static void
body_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(MgwLinkWs) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result,
                                                              &error);
  MgwLink *link = MGW_LINK (self);
  gsize len = 0;
  gconstpointer data;

  self->body_reading = FALSE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      mgw_link_get_state (link) != MGW_LINK_CONNECTING)
    return;
  data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;
  if (error == NULL && len == 0)
    error = g_error_new_literal (MGW_ERROR, MGW_ERROR_FAILED, "the file got shorter");
  if (error != NULL)
    {
      /* The head promised more: closing is the only honest end. */
      g_prefix_error (&error, "HTTP answer cut short: ");
      mgw_link_abort (link, g_steal_pointer (&error));
      return;
    }
  len = MIN ((goffset) len, self->body_left);  /* never past what the head said */
  self->body_left -= len;
  if (!mgw_link_send_wire (link, data, len))
    mgw_link_abort (link, g_error_new_literal (MGW_ERROR, MGW_ERROR_FAILED,
                                               "HTTP answer: the queue is full"));
}

/* Everything written so far is out: the next chunk of the body, or the
 * end of the answer (one request a connection). */
static void
body_continue (MgwLinkWs *self)
{
  if (self->body_reading || mgw_link_get_state (MGW_LINK (self)) != MGW_LINK_CONNECTING)
    return;
  if (self->body == NULL || self->body_left == 0)
    {
      finish (self, NULL);
      return;
    }
  self->body_reading = TRUE;
  g_input_stream_read_bytes_async (self->body, MIN (BODY_CHUNK, self->body_left),
                                   G_PRIORITY_DEFAULT, self->body_cancel, body_read_cb,
                                   g_object_ref (self));
}

void
mgw_link_ws_set_serve (MgwLinkWs      *self,
                       MgwLinkWsServe  serve,
                       gpointer        user_data)
{
  g_return_if_fail (MGW_IS_LINK_WS (self));
  g_return_if_fail (self->role == MGW_WS_ROLE_SERVER);

  self->serve = serve;
  self->serve_data = user_data;
}

void
mgw_link_ws_reply (MgwLinkWs    *self,
                   const char   *head,
                   GInputStream *body,
                   goffset       length)
{
  g_return_if_fail (MGW_IS_LINK_WS (self));
  g_return_if_fail (self->handshake == HANDSHAKE_HTTP);
  g_return_if_fail (head != NULL);
  g_return_if_fail (body == NULL || G_IS_INPUT_STREAM (body));
  g_return_if_fail (self->body == NULL);

  /* From here a peer that takes nothing for the request's time is
   * dropped, however long the whole answer takes. */
  mgw_timer_stop (&self->deadline);
  mgw_link_set_stall_timeout (MGW_LINK (self), MAX (1, self->timeout_s));
  if (body != NULL && length > 0)
    {
      self->body = g_object_ref (body);
      self->body_left = length;
      self->body_cancel = g_cancellable_new ();
    }
  /* Written at once, or drained() goes on when it is out. */
  if (!mgw_link_send_wire (MGW_LINK (self), (const guint8 *) head, strlen (head)))
    mgw_link_abort (MGW_LINK (self), g_error_new_literal (MGW_ERROR, MGW_ERROR_FAILED,
                                                          "HTTP answer: the queue is full"));
}

static gboolean
head_full (MgwLinkWs *self)
{
  return self->head->len >= MAX_HEAD;
}

/* Adds what was read to the head, at most one byte past MAX_HEAD (enough
 * to tell it is too long); returns how much of `data` it took. */
static gsize
head_append (MgwLinkWs    *self,
             const guint8 *data,
             gsize         len)
{
  gsize room = MAX_HEAD + 1 - MIN (self->head->len, MAX_HEAD + 1);
  gsize taken = MIN (len, room);

  g_byte_array_append (self->head, data, taken);
  return taken;
}

/* What came after the head: its end in `head`, then what head_append()
 * did not take of `data` (frames sent with a 101 may be longer than any
 * head). NULL if nothing. */
static GByteArray *
head_tail (MgwLinkWs    *self,
           gsize         head_len,
           const guint8 *data,
           gsize         len,
           gsize         taken)
{
  GByteArray *tail;

  if (self->head->len == head_len && taken == len)
    return NULL;
  tail = g_byte_array_sized_new (self->head->len - head_len + len - taken);
  g_byte_array_append (tail, self->head->data + head_len, self->head->len - head_len);
  g_byte_array_append (tail, data + taken, len - taken);
  return tail;
}

/* Server: the upgrade request. */
static void
request_input (MgwLinkWs    *self,
               const guint8 *data,
               gsize         len)
{
  g_autoptr(GError) error = NULL;
  MgwHttpHead *head = NULL;
  gsize head_len = 0, taken;
  guint status = 0;
  g_autofree char *response = NULL;
  const char *offered;
  g_autoptr(GByteArray) tail = NULL;

  taken = head_append (self, data, len);
  switch (mgw_http_parse_request (self->head->data, self->head->len, MAX_HEAD,
                                  &head_len, &head, &status, &error))
    {
    case MGW_HTTP_INCOMPLETE:
      if (head_full (self))
        refuse (self, 431, "request head too large");
      return;
    case MGW_HTTP_INVALID:
      refuse (self, status, error->message);
      return;
    case MGW_HTTP_COMPLETE:
      break;
    }

  /* No upgrade asked for: a plain HTTP request, if the gateway serves
   * them (it answers through mgw_link_ws_reply()). */
  if (self->serve != NULL && mgw_http_head_get (head, "Upgrade") == NULL)
    {
      gboolean served;

      self->handshake = HANDSHAKE_HTTP;
      g_clear_pointer (&self->head, g_byte_array_unref);
      served = self->serve (self, head, self->serve_data);
      mgw_http_head_free (head);
      if (!served)
        {
          self->handshake = HANDSHAKE_REQUEST;
          refuse (self, 426, "not a WebSocket upgrade (no \"Upgrade: websocket\")");
        }
      return;
    }
  if (mgw_ws_check_upgrade_request (head, &status, &error) != MGW_HTTP_COMPLETE)
    {
      mgw_http_head_free (head);
      refuse (self, status, error->message);
      return;
    }

  status = self->decide ? self->decide (self, head, self->decide_data) : 101;
  if (status != 101)
    {
      mgw_http_head_free (head);
      refuse (self, status, "refused by the gateway");
      return;
    }

  /* Answer with the first subprotocol offered (browsers drop a handshake
   * that ignores their list); none if none. */
  offered = mgw_http_head_get (head, "Sec-WebSocket-Protocol");
  if (offered != NULL)
    {
      g_auto(GStrv) list = g_strsplit (offered, ",", 2);
      g_strstrip (list[0]);
      if (*list[0] != '\0')
        self->protocol = g_strdup (list[0]);
    }
  response = mgw_ws_server_response (mgw_http_head_get (head, "Sec-WebSocket-Key"),
                                     self->protocol);
  mgw_http_head_free (head);

  tail = head_tail (self, head_len, data, len, taken);
  g_clear_pointer (&self->head, g_byte_array_unref);
  self->handshake = HANDSHAKE_DONE;
  mgw_timer_stop (&self->deadline);
  mgw_link_send_wire (MGW_LINK (self), (const guint8 *) response, strlen (response));
  if (mgw_link_get_state (MGW_LINK (self)) != MGW_LINK_CONNECTING)
    return;
  start_keepalive (self);
  mgw_link_emit_opened (MGW_LINK (self));
  if (tail != NULL && mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_OPEN)
    frames_input (self, tail->data, tail->len);
}

/* Client: the server's answer to our upgrade. */
static void
response_input (MgwLinkWs    *self,
                const guint8 *data,
                gsize         len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) tail = NULL;
  gsize head_len = 0, taken;

  taken = head_append (self, data, len);
  switch (mgw_ws_parse_response (self->head->data, self->head->len, MAX_HEAD, self->key,
                                 (const char * const *) self->protocols, &head_len,
                                 &self->protocol, &error))
    {
    case MGW_HTTP_INCOMPLETE:
      if (head_full (self))
        mgw_link_abort (MGW_LINK (self),
                        g_error_new_literal (MGW_ERROR, MGW_ERROR_BAD_INPUT,
                                             "WebSocket handshake: response head too large"));
      return;
    case MGW_HTTP_INVALID:
      g_prefix_error (&error, "WebSocket handshake: ");
      mgw_link_abort (MGW_LINK (self), g_steal_pointer (&error));
      return;
    case MGW_HTTP_COMPLETE:
      break;
    }

  tail = head_tail (self, head_len, data, len, taken);
  g_clear_pointer (&self->head, g_byte_array_unref);
  self->handshake = HANDSHAKE_DONE;
  mgw_timer_stop (&self->deadline);
  start_keepalive (self);
  mgw_link_emit_opened (MGW_LINK (self));
  if (tail != NULL && mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_OPEN)
    frames_input (self, tail->data, tail->len);
}

static void
mgw_link_ws_input (MgwLink      *link,
                   const guint8 *data,
                   gsize         len)
{
  MgwLinkWs *self = MGW_LINK_WS (link);

  switch (self->handshake)
    {
    case HANDSHAKE_REQUEST:
      request_input (self, data, len);
      break;
    case HANDSHAKE_RESPONSE:
      response_input (self, data, len);
      break;
    case HANDSHAKE_DONE:
      if (self->decoder != NULL)
        frames_input (self, data, len);
      break;
    case HANDSHAKE_HTTP:   /* one request a connection: the rest is dropped */
    case HANDSHAKE_CONNECTING:
    default:
      break;
    }
}

static void
mgw_link_ws_eof (MgwLink *link)
{
  MgwLinkWs *self = MGW_LINK_WS (link);
  g_autoptr(GError) error = NULL;

  /* A client may end its side once its request is sent: the answer
   * still goes (not reading any more; a reset still ends it). */
  if (self->handshake == HANDSHAKE_HTTP && mgw_link_get_state (link) == MGW_LINK_CONNECTING)
    {
      mgw_link_set_paused (link, TRUE);
      return;
    }
  if (self->handshake == HANDSHAKE_DONE && !self->close_received && !self->close_sent &&
      mgw_link_get_state (link) == MGW_LINK_OPEN)
    error = g_error_new_literal (MGW_ERROR, MGW_ERROR_CLOSED,
                                 "WebSocket closed with code 1006 (no close frame)");
  else if (self->handshake != HANDSHAKE_DONE && mgw_link_get_state (link) == MGW_LINK_CONNECTING)
    error = g_error_new_literal (MGW_ERROR, MGW_ERROR_CLOSED,
                                 self->role == MGW_WS_ROLE_CLIENT ?
                                 "WebSocket handshake: the server closed the connection" :
                                 "closed before the WebSocket upgrade");
  finish (self, error);
}

static void
mgw_link_ws_frame (MgwLink      *link,
                   const guint8 *data,
                   gsize         len,
                   GByteArray   *wire)
{
  MgwLinkWs *self = MGW_LINK_WS (link);

  if (self->frame_type == MGW_FRAME_TEXT)
    {
      /* Scratch shared by every link: single-threaded, used up at once;
       * no allocation a frame. */
      static GByteArray *text;

      if (text == NULL)
        text = g_byte_array_new ();
      g_byte_array_set_size (text, 0);
      mgw_latin1_append_utf8 (data, len, text);
      mgw_ws_encode_frame (self->role, MGW_WS_OP_TEXT, text->data, text->len, wire);
      if (text->len > 64 * 1024)
        g_clear_pointer (&text, g_byte_array_unref);  /* keep no big buffer */
    }
  else
    mgw_ws_encode_frame (self->role, MGW_WS_OP_BINARY, data, len, wire);
}

static void
mgw_link_ws_close (MgwLink *link)
{
  MgwLinkWs *self = MGW_LINK_WS (link);

  mgw_link_cancel_connect (link);
  if (self->handshake != HANDSHAKE_DONE || self->close_received ||
      mgw_link_get_stream (link) == NULL)
    {
      finish (self, NULL);
      return;
    }
  send_close (self, 1000, NULL);
  if (mgw_link_get_state (link) == MGW_LINK_CLOSED)
    return;
  /* The peer's close frame ends it; do not wait for a silent peer. */
  mgw_timer_stop (&self->keepalive_timer);
  mgw_timer_start (&self->deadline, CLOSE_TIMEOUT_MS);
}

static void
deadline_cb (gpointer user_data)
{
  MgwLinkWs *self = user_data;
  MgwLink *link = MGW_LINK (self);

  if (self->handshake == HANDSHAKE_DONE)
    {
      finish (self, NULL);  /* no close frame came back in time */
      return;
    }
  if (mgw_link_cancel_connect (link))
    return;   /* connected () reports it */
  mgw_link_abort (link, g_error_new_literal (MGW_ERROR, MGW_ERROR_TIMED_OUT,
                                             self->role == MGW_WS_ROLE_CLIENT ?
                                             "connection timed out" :
                                             "no WebSocket upgrade in time"));
}

static void
keepalive_cb (gpointer user_data)
{
  MgwLinkWs *self = user_data;
  gint64 silent = g_get_monotonic_time () - self->last_heard;

  if (self->keepalive_timeout > 0 &&
      silent > (gint64) (self->keepalive_interval + self->keepalive_timeout) * G_USEC_PER_SEC)
    {
      mgw_link_abort (MGW_LINK (self),
                      g_error_new (MGW_ERROR, MGW_ERROR_TIMED_OUT,
                                   "no answer to keepalive pings for %u s",
                                   (guint) (silent / G_USEC_PER_SEC)));
      return;
    }
  /* A failed write closes the link, and "closed" may free it. */
  g_object_ref (self);
  send_frame (self, MGW_WS_OP_PING, NULL, 0);
  if (mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_OPEN)
    mgw_timer_start (&self->keepalive_timer, self->keepalive_interval * 1000);
  g_object_unref (self);
}

static void
start_keepalive (MgwLinkWs *self)
{
  mgw_timer_stop (&self->keepalive_timer);
  self->last_heard = g_get_monotonic_time ();
  if (self->keepalive_interval > 0 && self->handshake == HANDSHAKE_DONE)
    mgw_timer_start (&self->keepalive_timer, self->keepalive_interval * 1000);
}

static void
mgw_link_ws_dispose (GObject *object)
{
  MgwLinkWs *self = MGW_LINK_WS (object);

  mgw_timer_stop (&self->keepalive_timer);
  mgw_timer_stop (&self->deadline);
  if (self->body_cancel != NULL)
    g_cancellable_cancel (self->body_cancel);
  g_clear_object (&self->body);
  g_clear_object (&self->body_cancel);

  G_OBJECT_CLASS (mgw_link_ws_parent_class)->dispose (object);
}

static void
mgw_link_ws_finalize (GObject *object)
{
  MgwLinkWs *self = MGW_LINK_WS (object);

  g_clear_pointer (&self->decoder, mgw_ws_decoder_free);
  g_clear_pointer (&self->head, g_byte_array_unref);
  g_free (self->key);
  g_strfreev (self->protocols);
  g_free (self->protocol);
  g_free (self->host_header);
  g_free (self->target);

  G_OBJECT_CLASS (mgw_link_ws_parent_class)->finalize (object);
}

static void
mgw_link_ws_class_init (MgwLinkWsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  MgwLinkClass *link_class = MGW_LINK_CLASS (klass);

  object_class->dispose = mgw_link_ws_dispose;
  object_class->finalize = mgw_link_ws_finalize;
  link_class->input = mgw_link_ws_input;
  link_class->eof = mgw_link_ws_eof;
  link_class->frame = mgw_link_ws_frame;
  link_class->close = mgw_link_ws_close;
  link_class->drained = mgw_link_ws_drained;
}

static void
mgw_link_ws_init (MgwLinkWs *self)
{
  self->max_incoming = 64 * 1024;
  mgw_timer_init (&self->keepalive_timer, keepalive_cb, self);
  mgw_timer_init (&self->deadline, deadline_cb, self);
}

/* A user's connection accepted by the WebSocket listener. The upgrade
 * request is read here; `decide` says 101 to take it (then "opened"),
 * or the HTTP status to refuse it with (then "closed"). No upgrade
 * within `timeout_s`: closed. */
MgwLink *
mgw_link_ws_accept (GIOStream       *stream,
                    MgwFrameType     frame_type,
                    guint            timeout_s,
                    MgwLinkWsDecide  decide,
                    gpointer         user_data)
{
  MgwLinkWs *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);
  g_return_val_if_fail (decide != NULL, NULL);

  self = g_object_new (MGW_TYPE_LINK_WS, NULL);
  self->role = MGW_WS_ROLE_SERVER;
  self->frame_type = frame_type;
  self->handshake = HANDSHAKE_REQUEST;
  self->head = g_byte_array_new ();
  self->decide = decide;
  self->decide_data = user_data;
  self->timeout_s = timeout_s;
  self->decoder = mgw_ws_decoder_new (self->role, self->max_incoming);
  if (timeout_s > 0)
    mgw_timer_start (&self->deadline, timeout_s * 1000);
  mgw_link_attach_stream (MGW_LINK (self), stream);
  return MGW_LINK (self);
}

static void
connected (MgwLink           *link,
           GSocketConnection *conn,
           GError            *error)
{
  MgwLinkWs *self = MGW_LINK_WS (link);
  g_autofree char *request = NULL;

  if (mgw_link_get_state (MGW_LINK (self)) != MGW_LINK_CONNECTING)
    {
      if (mgw_link_get_state (MGW_LINK (self)) == MGW_LINK_CLOSING)
        finish (self, NULL);
      return;
    }
  if (conn == NULL)
    {
      mgw_timer_stop (&self->deadline);
      mgw_link_abort (MGW_LINK (self), g_error_copy (error));
      return;
    }

  self->handshake = HANDSHAKE_RESPONSE;
  self->head = g_byte_array_new ();
  self->key = mgw_ws_client_key_new ();
  self->decoder = mgw_ws_decoder_new (self->role, self->max_incoming);
  mgw_link_attach_stream (MGW_LINK (self), G_IO_STREAM (conn));
  request = mgw_ws_client_request (self->host_header, self->target, self->key,
                                   (const char * const *) self->protocols);
  mgw_link_send_wire (MGW_LINK (self), (const guint8 *) request, strlen (request));
}

/* Opens a WebSocket client connection; "opened" or "closed" follows.
 * `timeout_ms` bounds the connection and the handshake together. Fails
 * at once only for a URI that cannot be used. wss:// trusts what
 * `tls_database` trusts (NULL: the system's default database). */
MgwLink *
mgw_link_ws_connect (GTlsDatabase        *tls_database,
                     const char          *uri,
                     const char * const  *protocols,
                     MgwFrameType         frame_type,
                     guint                timeout_ms,
                     GError             **error)
{
  g_autoptr(GUri) parsed = NULL;
  MgwLinkWs *self;
  const char *scheme, *host;
  gboolean tls;
  int port;

  g_return_val_if_fail (uri != NULL, NULL);

  parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, error);
  if (parsed == NULL)
    return NULL;
  scheme = g_uri_get_scheme (parsed);
  host = g_uri_get_host (parsed);
  if (g_ascii_strcasecmp (scheme, "ws") != 0 &&
      g_ascii_strcasecmp (scheme, "wss") != 0)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   "'%s' is not a ws:// or wss:// URI", uri);
      return NULL;
    }
  if (host == NULL || *host == '\0')
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "'%s' has no host", uri);
      return NULL;
    }
  tls = g_ascii_strcasecmp (scheme, "wss") == 0;
  port = g_uri_get_port (parsed);

  self = g_object_new (MGW_TYPE_LINK_WS, NULL);
  self->role = MGW_WS_ROLE_CLIENT;
  self->frame_type = frame_type;
  self->handshake = HANDSHAKE_CONNECTING;
  self->protocols = g_strdupv ((char **) protocols);
  {
    gboolean ipv6 = strchr (host, ':') != NULL;
    const char *path = g_uri_get_path (parsed);
    const char *query = g_uri_get_query (parsed);

    if (port > 0 && port != mgw_uri_scheme_port (scheme))
      self->host_header = g_strdup_printf (ipv6 ? "[%s]:%d" : "%s:%d", host, port);
    else
      self->host_header = g_strdup_printf (ipv6 ? "[%s]" : "%s", host);
    self->target = g_strdup_printf ("%s%s%s", *path ? path : "/",
                                    query ? "?" : "", query ? query : "");
  }

  if (timeout_ms > 0)
    mgw_timer_start (&self->deadline, timeout_ms);
  mgw_link_connect (MGW_LINK (self), host, mgw_uri_get_port (parsed), tls,
                    tls_database, connected);
  return MGW_LINK (self);
}

void
mgw_link_ws_set_keepalive (MgwLinkWs *self,
                           guint      interval_s,
                           guint      timeout_s)
{
  g_return_if_fail (MGW_IS_LINK_WS (self));

  self->keepalive_interval = interval_s;
  self->keepalive_timeout = timeout_s;
  start_keepalive (self);
}

void
mgw_link_ws_set_max_incoming (MgwLinkWs *self,
                              guint64    max_bytes)
{
  g_return_if_fail (MGW_IS_LINK_WS (self));

  self->max_incoming = max_bytes;
  if (self->decoder != NULL)
    mgw_ws_decoder_set_max_message (self->decoder, max_bytes);
}

