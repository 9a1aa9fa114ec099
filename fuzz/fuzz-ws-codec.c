/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-ws-codec.c: the WebSocket decoder fed in pieces whose sizes come
 * from the input must give what a one-shot decode gives, never hold more
 * than max_message + 14 bytes, and give events within the limits; what it
 * decoded, encoded again, decodes to the same events. The same bytes go
 * through both handshake parsers, whose answers must not change when more
 * bytes arrive.
 *
 * Input: byte 0 = role (bit 0) and max_message (bits 1-3, from a table),
 *        bytes 1-4 = piece sizes (cycled, each 1..64), the rest = peer bytes. */
#include "fuzz-common.h"
#include "mgw-error.h"
#include "mgw-ws-codec.h"

static const gsize max_table[8] = { 0, 1, 8, 125, 126, 300, 65536, 1 << 20 };

typedef struct {
  MgwWsEventType type;
  MgwWsOpcode opcode;
  GByteArray *payload;
  guint16 close_code;
  const char *error;
} Event;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static void
event_clear (gpointer data)
{
  Event *e = data;

  g_byte_array_unref (e->payload);
}

static void
check_event (const MgwWsEvent *ev, gsize max)
{
  FUZZ_CHECK (ev->payload != NULL || ev->type == MGW_WS_EVENT_ERROR);
  switch (ev->type)
    {
    case MGW_WS_EVENT_MESSAGE:
      FUZZ_CHECK (ev->opcode == MGW_WS_OP_TEXT || ev->opcode == MGW_WS_OP_BINARY);
      FUZZ_CHECK (ev->len <= max);
      break;
    case MGW_WS_EVENT_PING:
    case MGW_WS_EVENT_PONG:
      FUZZ_CHECK (ev->len <= MGW_WS_CONTROL_MAX && ev->len <= max);
      break;
    case MGW_WS_EVENT_CLOSE:
      FUZZ_CHECK (ev->len <= MGW_WS_CONTROL_MAX - 2);
      FUZZ_CHECK (ev->close_code == MGW_WS_CLOSE_NO_STATUS
                  ? ev->len == 0 : mgw_ws_close_code_is_valid (ev->close_code));
      break;
    case MGW_WS_EVENT_ERROR:
      FUZZ_CHECK (ev->error != NULL);
      FUZZ_CHECK (ev->close_code == MGW_WS_CLOSE_PROTOCOL_ERROR
                  || ev->close_code == MGW_WS_CLOSE_BAD_DATA
                  || ev->close_code == MGW_WS_CLOSE_TOO_BIG);
      break;
    default:
      FUZZ_CHECK (FALSE);
    }
}

/* Decodes in pieces (n_sizes 0: at once); each piece is a private copy,
 * overwritten once the decoder said FALSE (the zero-copy contract). */
static GArray *
decode_all (MgwWsRole role, gsize max, const guint8 *in, gsize len,
            const guint8 *sizes, gsize n_sizes)
{
  MgwWsDecoder *d = mgw_ws_decoder_new (role, max);
  GArray *events = g_array_new (FALSE, TRUE, sizeof (Event));
  gboolean finished = FALSE;
  gsize pos = 0, k = 0;

  g_array_set_clear_func (events, event_clear);
  do
    {
      gsize piece = n_sizes ? (gsize) (sizes[k++ % n_sizes] % 64) + 1 : len;
      guint8 *copy;
      MgwWsEvent ev;

      piece = MIN (piece, len - pos);
      copy = piece > 0 ? g_memdup2 (in + pos, piece) : NULL;
      mgw_ws_decoder_push (d, copy, piece);
      while (mgw_ws_decoder_next (d, &ev))
        {
          Event e = { ev.type, ev.opcode, g_byte_array_new (), ev.close_code, ev.error };

          FUZZ_CHECK (!finished);
          check_event (&ev, max);
          if (ev.len > 0)
            g_byte_array_append (e.payload, ev.payload, (guint) ev.len);
          g_array_append_val (events, e);
          finished = ev.type == MGW_WS_EVENT_ERROR || ev.type == MGW_WS_EVENT_CLOSE;
          FUZZ_CHECK (mgw_ws_decoder_is_finished (d) == finished);
          FUZZ_CHECK (mgw_ws_decoder_get_buffered (d) <= max + MGW_WS_HEADER_MAX);
        }
      FUZZ_CHECK (mgw_ws_decoder_get_buffered (d) <= max + MGW_WS_HEADER_MAX);
      if (piece > 0)
        memset (copy, 0xA5, piece);
      g_free (copy);
      pos += piece;
    }
  while (pos < len);
  mgw_ws_decoder_free (d);
  return events;
}

static void
check_same (GArray *a, GArray *b)
{
  FUZZ_CHECK (a->len == b->len);
  for (guint i = 0; i < a->len; i++)
    {
      Event *x = &g_array_index (a, Event, i), *y = &g_array_index (b, Event, i);

      FUZZ_CHECK (x->type == y->type);
      FUZZ_CHECK (x->opcode == y->opcode);
      FUZZ_CHECK (x->payload->len == y->payload->len);
      FUZZ_CHECK (FUZZ_MEM_EQ (x->payload->data, y->payload->data, x->payload->len));
      FUZZ_CHECK (x->close_code == y->close_code);
      FUZZ_CHECK (g_strcmp0 (x->error, y->error) == 0);
    }
}

/* The events (up to an error), sent again as the peer would. */
static GByteArray *
encode_events (GArray *events, MgwWsRole peer)
{
  GByteArray *out = g_byte_array_new ();

  for (guint i = 0; i < events->len; i++)
    {
      Event *e = &g_array_index (events, Event, i);

      switch (e->type)
        {
        case MGW_WS_EVENT_MESSAGE:
        case MGW_WS_EVENT_PING:
        case MGW_WS_EVENT_PONG:
          mgw_ws_encode_frame (peer, e->opcode, e->payload->data, e->payload->len, out);
          break;
        case MGW_WS_EVENT_CLOSE:
          if (e->close_code == MGW_WS_CLOSE_NO_STATUS)
            {
              mgw_ws_encode_close (peer, 0, NULL, out);
            }
          else
            {
              /* The reason may hold U+0000: not through encode_close(). */
              GByteArray *payload = g_byte_array_new ();
              guint8 code[2] = { e->close_code >> 8, e->close_code & 0xFF };

              g_byte_array_append (payload, code, 2);
              g_byte_array_append (payload, e->payload->data, e->payload->len);
              mgw_ws_encode_frame (peer, MGW_WS_OP_CLOSE, payload->data, payload->len, out);
              g_byte_array_unref (payload);
            }
          break;
        case MGW_WS_EVENT_ERROR:
        default:
          break;
        }
    }
  return out;
}

static void
fuzz_frames (MgwWsRole role, gsize max, const guint8 *sizes, const guint8 *in, gsize len)
{
  MgwWsRole peer = role == MGW_WS_ROLE_SERVER ? MGW_WS_ROLE_CLIENT : MGW_WS_ROLE_SERVER;
  GArray *once = decode_all (role, max, in, len, NULL, 0);
  GArray *pieces = decode_all (role, max, in, len, sizes, 4);
  GByteArray *again = encode_events (once, peer);
  GArray *redecoded = decode_all (role, max, again->data, again->len, sizes, 4);

  check_same (once, pieces);

  /* Without the final error, the re-encoded stream decodes the same. */
  if (once->len > 0 && g_array_index (once, Event, once->len - 1).type == MGW_WS_EVENT_ERROR)
    g_array_set_size (once, once->len - 1);
  check_same (once, redecoded);

  g_array_unref (once);
  g_array_unref (pieces);
  g_array_unref (redecoded);
  g_byte_array_unref (again);
}

static void
fuzz_request (const guint8 *in, gsize len, gsize max_head)
{
  gsize head_len = 0, half_len = 0;
  MgwHttpHead *head = NULL, *half_head = NULL;
  guint status = 0, half_status = 0;
  GError *error = NULL, *half_error = NULL;
  MgwHttpParse result = mgw_ws_parse_request (in, len, max_head, &head_len, &head, &status, &error);
  MgwHttpParse half = mgw_ws_parse_request (in, len / 2, max_head, &half_len, &half_head,
                                            &half_status, &half_error);

  switch (result)
    {
    case MGW_HTTP_COMPLETE:
      {
        const char *key = mgw_http_head_get (head, "Sec-WebSocket-Key");
        char *answer;

        FUZZ_CHECK (error == NULL && head != NULL);
        FUZZ_CHECK (head_len >= 4 && head_len <= len && head_len <= max_head);
        FUZZ_CHECK (memcmp (in + head_len - 4, "\r\n\r\n", 4) == 0);
        FUZZ_CHECK (strcmp (mgw_http_head_get_method (head), "GET") == 0);
        FUZZ_CHECK (mgw_http_head_get_target (head) != NULL);
        FUZZ_CHECK (key != NULL && strlen (key) == 24);
        FUZZ_CHECK (mgw_http_head_has_token (head, "Upgrade", "websocket"));
        answer = mgw_ws_server_response (key, mgw_http_head_get (head, "Sec-WebSocket-Protocol") ? "p" : NULL);
        FUZZ_CHECK (answer != NULL);
        g_free (answer);
        mgw_http_head_free (head);
      }
      break;
    case MGW_HTTP_INVALID:
      FUZZ_CHECK (error != NULL && head == NULL);
      FUZZ_CHECK (status == 400 || status == 405 || status == 426 || status == 431);
      {
        char *answer = mgw_http_error_response (status);

        FUZZ_CHECK (answer != NULL);
        g_free (answer);
      }
      g_error_free (error);
      break;
    case MGW_HTTP_INCOMPLETE:
      FUZZ_CHECK (error == NULL && head == NULL);
      FUZZ_CHECK (len < max_head);
      break;
    default:
      FUZZ_CHECK (FALSE);
    }

  /* A decided prefix stays decided. */
  if (half == MGW_HTTP_COMPLETE)
    {
      FUZZ_CHECK (result == MGW_HTTP_COMPLETE && half_len == head_len);
      mgw_http_head_free (half_head);
    }
  else if (half == MGW_HTTP_INVALID)
    {
      FUZZ_CHECK (result == MGW_HTTP_INVALID && half_status == status);
      g_error_free (half_error);
    }
}

static void
fuzz_response (const guint8 *in, gsize len, gsize max_head)
{
  static const char * const offered[] = { "tty", "minitel", NULL };
  gsize head_len = 0, half_len = 0;
  char *protocol = NULL, *half_protocol = NULL;
  GError *error = NULL, *half_error = NULL;
  MgwHttpParse result = mgw_ws_parse_response (in, len, max_head, "dGhlIHNhbXBsZSBub25jZQ==",
                                               offered, &head_len, &protocol, &error);
  MgwHttpParse half = mgw_ws_parse_response (in, len / 2, max_head, "dGhlIHNhbXBsZSBub25jZQ==",
                                             offered, &half_len, &half_protocol, &half_error);

  switch (result)
    {
    case MGW_HTTP_COMPLETE:
      FUZZ_CHECK (error == NULL);
      FUZZ_CHECK (head_len <= len && head_len <= max_head);
      FUZZ_CHECK (protocol == NULL || g_strv_contains (offered, protocol));
      break;
    case MGW_HTTP_INVALID:
      FUZZ_CHECK (error != NULL && protocol == NULL);
      g_error_free (error);
      break;
    case MGW_HTTP_INCOMPLETE:
      FUZZ_CHECK (error == NULL && protocol == NULL && len < max_head);
      break;
    default:
      FUZZ_CHECK (FALSE);
    }
  if (half == MGW_HTTP_COMPLETE)
    FUZZ_CHECK (result == MGW_HTTP_COMPLETE && half_len == head_len
                && g_strcmp0 (protocol, half_protocol) == 0);
  else if (half == MGW_HTTP_INVALID)
    {
      FUZZ_CHECK (result == MGW_HTTP_INVALID);
      g_error_free (half_error);
    }
  g_free (protocol);
  g_free (half_protocol);
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  if (size < 5)
    return 0;

  MgwWsRole role = (buf[0] & 1) ? MGW_WS_ROLE_CLIENT : MGW_WS_ROLE_SERVER;
  gsize max = max_table[(buf[0] >> 1) & 7];
  const guint8 *sizes = buf + 1;
  const guint8 *in = buf + 5;
  gsize len = size - 5;

  fuzz_frames (role, max, sizes, in, len);
  /* Heads: 8 KiB as the gateway uses, or small enough to reach 431. */
  fuzz_request (in, len, (buf[0] & 0x10) ? 64 + sizes[0] : 8192);
  fuzz_response (in, len, (buf[0] & 0x10) ? 64 + sizes[0] : 8192);
  return 0;
}
