/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-ws-codec.c: WebSocket framing (RFC 6455 section 5) and the
 * opening handshakes (section 4), without I/O, for MgwLinkWs; the HTTP
 * heads under them are mgw-http.c's.
 *
 * The decoder is a small state machine fed with whatever the socket gave:
 * a frame header is collected in a 14-byte array, a payload is unmasked as
 * it is copied to where the event will point (a fixed 125-byte array for
 * control frames and small single-frame messages, a heap buffer for the
 * others), so no input is ever kept by reference once next() returned
 * FALSE. An unmasked frame (client role) that is wholly in the pushed
 * bytes is not copied at all: the event points into them. Keystrokes (tiny
 * single frames) thus cost no allocation.
 *
 * Choices beyond RFC 6455:
 *
 * - Non-minimal length encodings (126 with a 16-bit length <= 125, 127
 *   with a 64-bit length <= 65535) are accepted, as most implementations
 *   do; a 64-bit length with the top bit set is a protocol error.
 * - max_message is one budget for everything held: the fragments of the
 *   current message plus the payload of the frame being read, control
 *   frames included (a 125-byte ping inside a message that is already
 *   within 125 bytes of the limit is refused with 1009). This keeps
 *   get_buffered() <= max_message + MGW_WS_HEADER_MAX at all times. The
 *   decision is made from the header, before any payload byte is read.
 * - Errors are found at the earliest byte: the first header byte decides
 *   reserved bits, opcodes and fragmentation order, the second the mask
 *   and control frame length.
 * - TEXT payloads are not checked for UTF-8 (the link converts them
 *   itself); close reasons are, U+0000 allowed.
 *
 * The handshake parsers are strict about the syntax (mgw-http.c: CRLF
 * only, no control characters, no obs-fold, no blank before a colon; here:
 * no body) and
 * lenient about everything browsers, python3-websockets and libsoup add
 * (Origin, Sec-WebSocket-Extensions offers, caching headers...). */
#include "config.h"

#include "mgw-ws-codec.h"
#include "mgw-error.h"

#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#define WS_FIN      0x80
#define WS_RSV      0x70
#define WS_OPCODE   0x0F
#define WS_MASK     0x80
#define WS_LEN7     0x7F
#define WS_LEN16    126
#define WS_LEN64    127

/* The heap message buffer: first allocation, and the largest kept once a
 * message has been handed out (bigger ones are freed: most links only
 * ever see small frames, and thousands of them are open). */
#define MESSAGE_MIN_ALLOC 256
#define MESSAGE_KEEP      4096

typedef enum {
  STEP_MORE,       /* the input is exhausted */
  STEP_CONTINUE,   /* a frame part was consumed, go on */
  STEP_EVENT,      /* *event is filled */
} Step;

typedef enum {
  READ_HEADER,
  READ_PAYLOAD,
} ReadState;

struct _MgwWsDecoder {
  MgwWsRole role;
  gsize max_message;
  gboolean finished;

  /* The caller's bytes, valid until next() returns FALSE. */
  const guint8 *in;
  gsize in_len;
  gsize in_pos;

  ReadState state;
  guint8 hdr[MGW_WS_HEADER_MAX];
  guint hdr_len;
  guint hdr_stage;   /* 0: nothing checked, 1: first byte, 2: second byte, 3: length */

  /* The frame being read. */
  guint8 opcode;
  gboolean fin;
  gboolean masked;
  guint8 mask[4];
  guint64 frame_len;
  guint64 frame_read;
  gboolean to_small;   /* payload goes to small[], not msg */

  /* The data message being assembled (fragments, or one big frame). */
  gboolean msg_open;
  MgwWsOpcode msg_opcode;
  guint8 *msg;
  gsize msg_len;
  gsize msg_cap;
  gboolean msg_handed_out;   /* the last event pointed to msg */

  guint8 small[MGW_WS_CONTROL_MAX];
  gsize small_len;
};

static gboolean
is_control (guint opcode)
{
  return (opcode & 0x08) != 0;
}

gboolean
mgw_ws_close_code_is_valid (guint code)
{
  return (code >= 1000 && code <= 1003)
         || (code >= 1007 && code <= 1014)
         || (code >= 3000 && code <= 4999);
}

/* UTF-8 as RFC 3629 defines it: g_utf8_validate() refuses U+0000, which
 * is a valid character, so the text is checked between NULs (a NUL byte is
 * never part of a multi-byte sequence). */
static gboolean
utf8_valid (const guint8 *text,
            gsize         len)
{
  while (len > 0)
    {
      const guint8 *nul = memchr (text, 0, len);
      gsize run = nul != NULL ? (gsize) (nul - text) : len;

      if (run > 0 && !g_utf8_validate ((const char *) text, (gssize) run, NULL))
        return FALSE;
      if (nul == NULL)
        break;
      text += run + 1;
      len -= run + 1;
    }
  return TRUE;
}

/* Decoder */

MgwWsDecoder *
mgw_ws_decoder_new (MgwWsRole role,
                    gsize     max_message)
{
  MgwWsDecoder *self;

  g_return_val_if_fail (role == MGW_WS_ROLE_SERVER || role == MGW_WS_ROLE_CLIENT, NULL);

  self = g_new0 (MgwWsDecoder, 1);
  self->role = role;
  self->max_message = max_message;
  self->state = READ_HEADER;
  return self;
}

void
mgw_ws_decoder_free (MgwWsDecoder *self)
{
  if (self == NULL)
    return;
  g_free (self->msg);
  g_free (self);
}

void
mgw_ws_decoder_set_max_message (MgwWsDecoder *self,
                                gsize         max_message)
{
  g_return_if_fail (self != NULL);

  self->max_message = max_message;
}

MgwWsRole
mgw_ws_decoder_get_role (MgwWsDecoder *self)
{
  g_return_val_if_fail (self != NULL, MGW_WS_ROLE_SERVER);

  return self->role;
}

gboolean
mgw_ws_decoder_is_finished (MgwWsDecoder *self)
{
  g_return_val_if_fail (self != NULL, TRUE);

  return self->finished;
}

gsize
mgw_ws_decoder_get_buffered (MgwWsDecoder *self)
{
  g_return_val_if_fail (self != NULL, 0);

  if (self->finished)
    return 0;
  return self->hdr_len + self->msg_len + self->small_len;
}

void
mgw_ws_decoder_push (MgwWsDecoder *self,
                     const guint8 *data,
                     gsize         len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  if (self->finished)
    return;
  /* The previous bytes must all have been parsed (next() said FALSE). */
  g_return_if_fail (self->in_pos == self->in_len);

  self->in = data;
  self->in_len = len;
  self->in_pos = 0;
}

static void
drop_input (MgwWsDecoder *self)
{
  self->in = NULL;
  self->in_len = 0;
  self->in_pos = 0;
}

static void
message_release (MgwWsDecoder *self)
{
  self->msg_len = 0;
  self->msg_handed_out = FALSE;
  if (self->msg_cap > MESSAGE_KEEP)
    {
      g_clear_pointer (&self->msg, g_free);
      self->msg_cap = 0;
    }
}

static void
message_reserve (MgwWsDecoder *self,
                 gsize         need)
{
  gsize cap;

  if (need <= self->msg_cap)
    return;
  cap = MAX (self->msg_cap * 2, MESSAGE_MIN_ALLOC);
  /* Never more than the message may take. */
  cap = MIN (cap, MAX (self->max_message, need));
  cap = MAX (cap, need);
  self->msg = g_realloc (self->msg, cap);
  self->msg_cap = cap;
}

static void
finish (MgwWsDecoder *self)
{
  self->finished = TRUE;
  self->msg_open = FALSE;
  self->msg_len = 0;
  self->msg_cap = 0;
  self->msg_handed_out = FALSE;
  g_clear_pointer (&self->msg, g_free);
  self->hdr_len = 0;
  self->small_len = 0;
}

static Step
fail (MgwWsDecoder *self,
      MgwWsEvent   *event,
      guint16       code,
      const char   *message)
{
  finish (self);
  event->type = MGW_WS_EVENT_ERROR;
  event->close_code = code;
  event->error = message;
  return STEP_EVENT;
}

/* fail() for the header checks, which answer "go on?". */
static gboolean
refuse (MgwWsDecoder *self,
        MgwWsEvent   *event,
        guint16       code,
        const char   *message)
{
  fail (self, event, code, message);
  return FALSE;
}

/* Moves header bytes from the input until hdr holds `need`. */
static gboolean
take_header (MgwWsDecoder *self,
             guint         need)
{
  while (self->hdr_len < need && self->in_pos < self->in_len)
    self->hdr[self->hdr_len++] = self->in[self->in_pos++];
  return self->hdr_len >= need;
}

static guint
extended_length_size (MgwWsDecoder *self)
{
  switch (self->hdr[1] & WS_LEN7)
    {
    case WS_LEN16:
      return 2;
    case WS_LEN64:
      return 8;
    default:
      return 0;
    }
}

static gboolean
check_first_byte (MgwWsDecoder *self,
                  MgwWsEvent   *event)
{
  guint8 b = self->hdr[0];

  self->fin = (b & WS_FIN) != 0;
  self->opcode = b & WS_OPCODE;

  if (b & WS_RSV)
    return refuse (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                   "reserved bits set in a frame (no extension was negotiated)");

  switch (self->opcode)
    {
    case MGW_WS_OP_CONTINUATION:
      if (!self->msg_open)
        return refuse (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                       "continuation frame without a message to continue");
      break;
    case MGW_WS_OP_TEXT:
    case MGW_WS_OP_BINARY:
      if (self->msg_open)
        return refuse (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                       "new data frame inside a fragmented message");
      break;
    case MGW_WS_OP_CLOSE:
    case MGW_WS_OP_PING:
    case MGW_WS_OP_PONG:
      if (!self->fin)
        return refuse (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                       "fragmented control frame");
      break;
    default:
      return refuse (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                     "reserved opcode");
    }
  return TRUE;
}

static gboolean
check_second_byte (MgwWsDecoder *self,
                   MgwWsEvent   *event)
{
  guint8 b = self->hdr[1];

  self->masked = (b & WS_MASK) != 0;
  if (self->role == MGW_WS_ROLE_SERVER && !self->masked)
    return refuse (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                   "unmasked frame from a client");
  if (self->role == MGW_WS_ROLE_CLIENT && self->masked)
    return refuse (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                   "masked frame from a server");
  if (is_control (self->opcode) && (b & WS_LEN7) > MGW_WS_CONTROL_MAX)
    return refuse (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                   "control frame longer than 125 bytes");
  return TRUE;
}

static gboolean
check_length (MgwWsDecoder *self,
              MgwWsEvent   *event)
{
  guint64 len = self->hdr[1] & WS_LEN7;
  guint ext = extended_length_size (self);

  if (ext > 0)
    {
      len = 0;
      for (guint i = 0; i < ext; i++)
        len = (len << 8) | self->hdr[2 + i];
    }
  if (len >> 63)
    return refuse (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                   "64-bit frame length with the top bit set");
  /* One budget for the fragments held and this frame's payload. */
  if (self->msg_len > self->max_message || len > self->max_message - self->msg_len)
    return refuse (self, event, MGW_WS_CLOSE_TOO_BIG,
                   "message over the size limit");
  self->frame_len = len;
  return TRUE;
}

static void
start_payload (MgwWsDecoder *self)
{
  guint ext = extended_length_size (self);

  if (self->masked)
    memcpy (self->mask, self->hdr + 2 + ext, 4);
  self->hdr_len = 0;
  self->hdr_stage = 0;
  self->frame_read = 0;
  self->state = READ_PAYLOAD;
  self->small_len = 0;

  if (is_control (self->opcode))
    {
      self->to_small = TRUE;
    }
  else
    {
      if (self->opcode != MGW_WS_OP_CONTINUATION)
        {
          self->msg_open = TRUE;
          self->msg_opcode = self->opcode;
        }
      /* A whole small message fits the fixed array. */
      self->to_small = self->fin && self->msg_len == 0
                       && self->frame_len <= MGW_WS_CONTROL_MAX;
    }
}

static Step
close_event (MgwWsDecoder *self,
             const guint8 *payload,
             gsize         len,
             MgwWsEvent   *event)
{
  guint code;

  if (len == 1)
    return fail (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                 "close frame with a 1-byte payload");
  if (len == 0)
    {
      finish (self);
      event->type = MGW_WS_EVENT_CLOSE;
      event->opcode = MGW_WS_OP_CLOSE;
      event->close_code = MGW_WS_CLOSE_NO_STATUS;
      event->payload = payload;
      return STEP_EVENT;
    }
  code = ((guint) payload[0] << 8) | payload[1];
  if (!mgw_ws_close_code_is_valid (code))
    return fail (self, event, MGW_WS_CLOSE_PROTOCOL_ERROR,
                 "invalid close code");
  if (!utf8_valid (payload + 2, len - 2))
    return fail (self, event, MGW_WS_CLOSE_BAD_DATA,
                 "close reason is not valid UTF-8");
  finish (self);
  event->type = MGW_WS_EVENT_CLOSE;
  event->opcode = MGW_WS_OP_CLOSE;
  event->close_code = (guint16) code;
  event->payload = payload + 2;
  event->len = len - 2;
  return STEP_EVENT;
}

/* The frame's payload is complete at payload/len. */
static Step
frame_done (MgwWsDecoder *self,
            const guint8 *payload,
            gsize         len,
            MgwWsEvent   *event)
{
  self->state = READ_HEADER;

  switch (self->opcode)
    {
    case MGW_WS_OP_CLOSE:
      return close_event (self, payload, len, event);
    case MGW_WS_OP_PING:
    case MGW_WS_OP_PONG:
      event->type = self->opcode == MGW_WS_OP_PING ? MGW_WS_EVENT_PING : MGW_WS_EVENT_PONG;
      event->opcode = self->opcode;
      event->payload = payload;
      event->len = len;
      return STEP_EVENT;
    default:
      break;
    }

  if (!self->fin)
    return STEP_CONTINUE;

  self->msg_open = FALSE;
  if (payload == self->msg)
    self->msg_handed_out = TRUE;
  event->type = MGW_WS_EVENT_MESSAGE;
  event->opcode = self->msg_opcode;
  event->payload = payload;
  event->len = len;
  return STEP_EVENT;
}

static void
unmask_copy (guint8       *dst,
             const guint8 *src,
             gsize         len,
             const guint8  mask[4],
             guint64       offset)
{
  for (gsize i = 0; i < len; i++)
    dst[i] = src[i] ^ mask[(offset + i) & 3];
}

static Step
read_payload (MgwWsDecoder *self,
              MgwWsEvent   *event)
{
  gsize avail = self->in_len - self->in_pos;
  guint64 left = self->frame_len - self->frame_read;
  gsize n;
  guint8 *dst;

  /* Zero copy: a whole unmasked frame that is not part of a fragmented
   * message is handed out where it lies. */
  if (!self->masked && self->frame_read == 0 && left <= avail
      && (is_control (self->opcode) || (self->fin && self->msg_len == 0)))
    {
      const guint8 *payload = left > 0 ? self->in + self->in_pos : self->small;

      self->in_pos += (gsize) left;
      return frame_done (self, payload, (gsize) left, event);
    }

  n = (gsize) MIN (left, (guint64) avail);
  if (n > 0)
    {
      if (self->to_small)
        {
          dst = self->small + self->small_len;
          self->small_len += n;
        }
      else
        {
          message_reserve (self, self->msg_len + n);
          dst = self->msg + self->msg_len;
          self->msg_len += n;
        }
      if (self->masked)
        unmask_copy (dst, self->in + self->in_pos, n, self->mask, self->frame_read);
      else
        memcpy (dst, self->in + self->in_pos, n);
      self->in_pos += n;
      self->frame_read += n;
    }

  if (self->frame_read < self->frame_len)
    return STEP_MORE;
  if (self->to_small || self->msg == NULL)
    return frame_done (self, self->small, self->small_len, event);
  return frame_done (self, self->msg, self->msg_len, event);
}

static Step
read_header (MgwWsDecoder *self,
             MgwWsEvent   *event)
{
  switch (self->hdr_stage)
    {
    case 0:
      if (!take_header (self, 1))
        return STEP_MORE;
      if (!check_first_byte (self, event))
        return STEP_EVENT;
      self->hdr_stage = 1;
      G_GNUC_FALLTHROUGH;
    case 1:
      if (!take_header (self, 2))
        return STEP_MORE;
      if (!check_second_byte (self, event))
        return STEP_EVENT;
      self->hdr_stage = 2;
      G_GNUC_FALLTHROUGH;
    case 2:
      if (!take_header (self, 2 + extended_length_size (self)))
        return STEP_MORE;
      if (!check_length (self, event))
        return STEP_EVENT;
      self->hdr_stage = 3;
      G_GNUC_FALLTHROUGH;
    case 3:
      if (!take_header (self, 2 + extended_length_size (self) + (self->masked ? 4 : 0)))
        return STEP_MORE;
      start_payload (self);
      return STEP_CONTINUE;
    default:
      g_assert_not_reached ();
    }
}

gboolean
mgw_ws_decoder_next (MgwWsDecoder *self,
                     MgwWsEvent   *event)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  memset (event, 0, sizeof *event);

  /* The last event's payload is no longer needed. */
  if (self->msg_handed_out)
    message_release (self);
  if (self->state == READ_HEADER)
    self->small_len = 0;

  while (!self->finished)
    {
      Step step = self->state == READ_HEADER ? read_header (self, event)
                                             : read_payload (self, event);

      if (step == STEP_EVENT)
        return TRUE;
      if (step == STEP_MORE)
        break;
    }
  drop_input (self);
  return FALSE;
}

/* Encoder */

gsize
mgw_ws_frame_overhead (MgwWsRole role,
                       gsize     len)
{
  gsize n = 2;

  if (len > G_MAXUINT16)
    n += 8;
  else if (len > MGW_WS_CONTROL_MAX)
    n += 2;
  if (role == MGW_WS_ROLE_CLIENT)
    n += 4;
  return n;
}

static gboolean
opcode_is_known (guint opcode)
{
  switch (opcode)
    {
    case MGW_WS_OP_CONTINUATION:
    case MGW_WS_OP_TEXT:
    case MGW_WS_OP_BINARY:
    case MGW_WS_OP_CLOSE:
    case MGW_WS_OP_PING:
    case MGW_WS_OP_PONG:
      return TRUE;
    default:
      return FALSE;
    }
}

void
mgw_ws_encode_frame (MgwWsRole     role,
                     MgwWsOpcode   opcode,
                     const guint8 *payload,
                     gsize         len,
                     GByteArray   *out)
{
  guint8 header[MGW_WS_HEADER_MAX];
  guint8 mask_bit = role == MGW_WS_ROLE_CLIENT ? WS_MASK : 0;
  gsize n = 0;
  guint start;

  g_return_if_fail (opcode_is_known (opcode));
  g_return_if_fail (!is_control (opcode) || len <= MGW_WS_CONTROL_MAX);
  g_return_if_fail (payload != NULL || len == 0);
  g_return_if_fail (out != NULL);
  g_return_if_fail (len <= G_MAXUINT - MGW_WS_HEADER_MAX - out->len);

  header[n++] = WS_FIN | opcode;
  if (len <= MGW_WS_CONTROL_MAX)
    {
      header[n++] = mask_bit | (guint8) len;
    }
  else if (len <= G_MAXUINT16)
    {
      header[n++] = mask_bit | WS_LEN16;
      header[n++] = (guint8) (len >> 8);
      header[n++] = (guint8) len;
    }
  else
    {
      header[n++] = mask_bit | WS_LEN64;
      for (int shift = 56; shift >= 0; shift -= 8)
        header[n++] = (guint8) ((guint64) len >> shift);
    }
  if (mask_bit)
    {
      /* RFC 6455 section 10.3 asks for keys from a strong source so that a
       * hostile script in a browser cannot predict them and poison proxy
       * caches; no untrusted code chooses what moipgw sends, so GLib's
       * non-cryptographic g_random_int() is acceptable. */
      guint32 key = g_random_int ();

      memcpy (header + n, &key, 4);
      n += 4;
    }
  g_byte_array_append (out, header, (guint) n);

  start = out->len;
  g_byte_array_set_size (out, start + (guint) len);
  if (len == 0)
    return;
  if (mask_bit)
    unmask_copy (out->data + start, payload, len, header + n - 4, 0);
  else
    memcpy (out->data + start, payload, len);
}

void
mgw_ws_encode_close (MgwWsRole   role,
                     guint16     code,
                     const char *reason,
                     GByteArray *out)
{
  guint8 payload[MGW_WS_CONTROL_MAX];
  gsize len = 0;

  g_return_if_fail (code == 0 || mgw_ws_close_code_is_valid (code));
  g_return_if_fail (out != NULL);

  if (code != 0)
    {
      payload[len++] = (guint8) (code >> 8);
      payload[len++] = (guint8) code;
      if (reason != NULL)
        {
          const char *end;
          gsize rlen;

          /* Keep the valid prefix, cut at a character boundary. */
          g_utf8_validate (reason, -1, &end);
          rlen = (gsize) (end - reason);
          if (rlen > MGW_WS_CONTROL_MAX - 2)
            {
              rlen = MGW_WS_CONTROL_MAX - 2;
              while (rlen > 0 && ((guint8) reason[rlen] & 0xC0) == 0x80)
                rlen--;
            }
          memcpy (payload + len, reason, rlen);
          len += rlen;
        }
    }
  mgw_ws_encode_frame (role, MGW_WS_OP_CLOSE, payload, len, out);
}

/* 22 base64 characters and "==": 16 bytes. */
static gboolean
key_valid (const char *key)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  if (strlen (key) != 24 || strcmp (key + 22, "==") != 0)
    return FALSE;
  for (guint i = 0; i < 22; i++)
    if (key[i] == '\0' || strchr (alphabet, key[i]) == NULL)
      return FALSE;
  return TRUE;
}

MgwHttpParse
mgw_ws_check_upgrade_request (MgwHttpHead  *head,
                              guint        *status,
                              GError      **error)
{
  guint hosts = mgw_http_head_count (head, "Host");
  const char *content_length = mgw_http_head_get (head, "Content-Length");
  const char *version = mgw_http_head_get (head, "Sec-WebSocket-Version");
  const char *key = mgw_http_head_get (head, "Sec-WebSocket-Key");

  const char *method = mgw_http_head_get_method (head);

  if (strcmp (method, "GET") != 0)
    {
      g_autofree char *text = mgw_error_escape (method, strlen (method));

      return mgw_http_fail (error, status, 405, "method %s, not GET", text);
    }
  if (mgw_http_head_get_minor (head) < 1)
    return mgw_http_fail (error, status, 400, "HTTP/1.0 request: WebSocket needs HTTP/1.1");
  if (hosts == 0)
    return mgw_http_fail (error, status, 400, "no Host header");
  if (hosts > 1)
    return mgw_http_fail (error, status, 400, "several Host headers");
  if (mgw_http_head_get (head, "Transfer-Encoding") != NULL
      || (content_length != NULL && strcmp (content_length, "0") != 0))
    return mgw_http_fail (error, status, 400, "upgrade request with a body");
  if (!mgw_http_head_has_token (head, "Upgrade", "websocket"))
    return mgw_http_fail (error, status, 426, "not a WebSocket upgrade (no \"Upgrade: websocket\")");
  if (!mgw_http_head_has_token (head, "Connection", "upgrade"))
    return mgw_http_fail (error, status, 426, "not a WebSocket upgrade (no \"Connection: upgrade\")");
  if (version == NULL)
    return mgw_http_fail (error, status, 426, "no Sec-WebSocket-Version");
  if (strcmp (version, "13") != 0)
    {
      g_autofree char *text = mgw_error_escape (version, strlen (version));

      return mgw_http_fail (error, status, 426, "unsupported Sec-WebSocket-Version %s", text);
    }
  if (key == NULL)
    return mgw_http_fail (error, status, 400, "no Sec-WebSocket-Key");
  if (!key_valid (key))
    {
      g_autofree char *text = mgw_error_escape (key, strlen (key));

      return mgw_http_fail (error, status, 400, "bad Sec-WebSocket-Key \"%s\"", text);
    }
  return MGW_HTTP_COMPLETE;
}

MgwHttpParse
mgw_ws_parse_request (const guint8  *buf,
                      gsize          len,
                      gsize          max_head,
                      gsize         *head_len,
                      MgwHttpHead  **head,
                      guint         *status,
                      GError       **error)
{
  return mgw_http_parse_request_checked (buf, len, max_head, head_len, head, status,
                                         mgw_ws_check_upgrade_request, error);
}

static gboolean
strv_has (const char * const *strv,
          const char         *text)
{
  for (gsize i = 0; strv != NULL && strv[i] != NULL; i++)
    if (strcmp (strv[i], text) == 0)
      return TRUE;
  return FALSE;
}

static MgwHttpParse
check_upgrade_response (MgwHttpHead         *head,
                        const char          *key,
                        const char * const  *offered,
                        GError             **error)
{
  const char *accept = mgw_http_head_get (head, "Sec-WebSocket-Accept");
  const char *protocol = mgw_http_head_get (head, "Sec-WebSocket-Protocol");
  g_autofree char *want = mgw_ws_accept_key (key);

  if (mgw_http_head_get_status (head) != 101)
    {
      const char *reason = mgw_http_head_get_reason (head);
      g_autofree char *text = mgw_error_escape (reason, strlen (reason));

      return mgw_http_fail (error, NULL, 0, "server answered %u %s",
                            mgw_http_head_get_status (head), text);
    }
  if (!mgw_http_head_has_token (head, "Upgrade", "websocket"))
    return mgw_http_fail (error, NULL, 0, "server answered 101 without \"Upgrade: websocket\"");
  if (!mgw_http_head_has_token (head, "Connection", "upgrade"))
    return mgw_http_fail (error, NULL, 0, "server answered 101 without \"Connection: upgrade\"");
  if (accept == NULL || strcmp (accept, want) != 0)
    return mgw_http_fail (error, NULL, 0, "bad Sec-WebSocket-Accept");
  if (mgw_http_head_get (head, "Sec-WebSocket-Extensions") != NULL)
    return mgw_http_fail (error, NULL, 0, "server chose an extension we did not offer");
  if (protocol != NULL && !strv_has (offered, protocol))
    {
      g_autofree char *text = mgw_error_escape (protocol, strlen (protocol));

      return mgw_http_fail (error, NULL, 0, "server chose subprotocol \"%s\", not offered", text);
    }
  return MGW_HTTP_COMPLETE;
}

MgwHttpParse
mgw_ws_parse_response (const guint8       *buf,
                       gsize               len,
                       gsize               max_head,
                       const char         *key,
                       const char * const *offered,
                       gsize              *head_len,
                       char              **protocol,
                       GError            **error)
{
  g_autoptr(MgwHttpHead) parsed = NULL;
  MgwHttpParse result;
  gsize scanned = 0;
  const char *chosen;

  g_return_val_if_fail (buf != NULL || len == 0, MGW_HTTP_INVALID);
  g_return_val_if_fail (key != NULL, MGW_HTTP_INVALID);
  g_return_val_if_fail (head_len != NULL, MGW_HTTP_INVALID);
  g_return_val_if_fail (protocol != NULL, MGW_HTTP_INVALID);
  g_return_val_if_fail (error == NULL || *error == NULL, MGW_HTTP_INVALID);

  *protocol = NULL;
  result = mgw_http_parse_response (buf, len, max_head, &scanned, &parsed, error);
  if (result != MGW_HTTP_COMPLETE)
    return result;
  result = check_upgrade_response (parsed, key, offered, error);
  if (result != MGW_HTTP_COMPLETE)
    return result;

  chosen = mgw_http_head_get (parsed, "Sec-WebSocket-Protocol");
  *protocol = g_strdup (chosen);
  *head_len = scanned;
  return MGW_HTTP_COMPLETE;
}

char *
mgw_ws_accept_key (const char *client_key)
{
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_len = sizeof digest;

  g_return_val_if_fail (client_key != NULL, NULL);

  g_checksum_update (sha1, (const guchar *) client_key, -1);
  g_checksum_update (sha1, (const guchar *) WS_GUID, -1);
  g_checksum_get_digest (sha1, digest, &digest_len);
  return g_base64_encode (digest, digest_len);
}

/* No CR, LF or other control character: safe inside a header line. */
static gboolean
header_safe (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (((guint8) *p < 0x20 && *p != '\t') || *p == 0x7F)
      return FALSE;
  return TRUE;
}

char *
mgw_ws_server_response (const char *client_key,
                        const char *protocol)
{
  g_autofree char *accept = NULL;
  GString *response;

  g_return_val_if_fail (client_key != NULL, NULL);
  g_return_val_if_fail (protocol == NULL || header_safe (protocol), NULL);

  accept = mgw_ws_accept_key (client_key);
  response = g_string_new ("HTTP/1.1 101 Switching Protocols\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: Upgrade\r\n");
  g_string_append_printf (response, "Sec-WebSocket-Accept: %s\r\n", accept);
  if (protocol != NULL)
    g_string_append_printf (response, "Sec-WebSocket-Protocol: %s\r\n", protocol);
  g_string_append (response, "\r\n");
  return g_string_free (response, FALSE);
}

char *
mgw_ws_client_key_new (void)
{
  guint8 bytes[16];

  /* The key only proves the server speaks WebSocket: not a secret. */
  for (guint i = 0; i < sizeof bytes; i += 4)
    {
      guint32 r = g_random_int ();

      memcpy (bytes + i, &r, 4);
    }
  return g_base64_encode (bytes, sizeof bytes);
}

char *
mgw_ws_client_request (const char         *host_header,
                       const char         *target,
                       const char         *key,
                       const char * const *protocols)
{
  GString *request;

  g_return_val_if_fail (host_header != NULL && header_safe (host_header), NULL);
  g_return_val_if_fail (target != NULL && *target != '\0' && header_safe (target)
                        && strchr (target, ' ') == NULL, NULL);
  g_return_val_if_fail (key != NULL && header_safe (key), NULL);
  for (gsize i = 0; protocols != NULL && protocols[i] != NULL; i++)
    g_return_val_if_fail (header_safe (protocols[i]) && strchr (protocols[i], ',') == NULL, NULL);

  request = g_string_new (NULL);
  g_string_append_printf (request,
                          "GET %s HTTP/1.1\r\n"
                          "Host: %s\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: %s\r\n"
                          "Sec-WebSocket-Version: 13\r\n",
                          target, host_header, key);
  if (protocols != NULL && protocols[0] != NULL)
    {
      g_autofree char *list = NULL;

      list = g_strjoinv (", ", (char **) protocols);
      g_string_append_printf (request, "Sec-WebSocket-Protocol: %s\r\n", list);
    }
  g_string_append (request, "User-Agent: " PACKAGE_NAME "/" PACKAGE_VERSION "\r\n\r\n");
  return g_string_free (request, FALSE);
}
