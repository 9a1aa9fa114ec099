/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ws-codec.c: unit tests for the WebSocket codec (mgw-ws-codec.c):
 * RFC 6455 section 5.7 frames, length boundaries, every protocol error and
 * its close code, input split at every byte (with the caller's bytes
 * overwritten once the decoder said FALSE), fragments with interleaved
 * control frames, the size limit decided from the header, memory bounds,
 * encoders, and the opening handshakes with requests captured from
 * Chromium, python3-websockets and libsoup. */

#include <glib.h>
#include <string.h>

#include "mgw-error.h"
#include "mgw-ws-codec.h"

#define SERVER MGW_WS_ROLE_SERVER
#define CLIENT MGW_WS_ROLE_CLIENT
#define MAX_DEFAULT (64 * 1024)

/* The masking key of the RFC's examples. */
static const guint8 rfc_mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* ---- helpers ---------------------------------------------------------- */

typedef struct {
  MgwWsEventType type;
  MgwWsOpcode opcode;
  GByteArray *payload;
  guint16 close_code;
  char *error;
} Event;

static void
event_free (gpointer data)
{
  Event *e = data;

  g_byte_array_unref (e->payload);
  g_free (e->error);
  g_free (e);
}

static GPtrArray *
events_new (void)
{
  return g_ptr_array_new_with_free_func (event_free);
}

/* Drains the decoder, copying each event (its payload is only valid until
 * the next call), and checks the memory bound after every call. */
static void
drain (MgwWsDecoder *d,
       gsize         max,
       GPtrArray    *events)
{
  MgwWsEvent ev;

  while (mgw_ws_decoder_next (d, &ev))
    {
      Event *e = g_new0 (Event, 1);

      e->type = ev.type;
      e->opcode = ev.opcode;
      e->payload = g_byte_array_new ();
      if (ev.len > 0)
        g_byte_array_append (e->payload, ev.payload, (guint) ev.len);
      e->close_code = ev.close_code;
      e->error = g_strdup (ev.error);
      if (ev.type == MGW_WS_EVENT_ERROR)
        g_assert_nonnull (ev.error);
      else
        g_assert_true (ev.payload != NULL);
      g_ptr_array_add (events, e);
      g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), <=, max + MGW_WS_HEADER_MAX);
    }
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), <=, max + MGW_WS_HEADER_MAX);
}

/* Pushes a private copy of data, drains, then scribbles over the copy:
 * the decoder must not look at it again (the zero-copy contract). */
static void
feed (MgwWsDecoder *d,
      gsize         max,
      const guint8 *data,
      gsize         len,
      GPtrArray    *events)
{
  guint8 *copy = g_memdup2 (data, len);

  mgw_ws_decoder_push (d, copy, len);
  drain (d, max, events);
  if (len > 0)
    memset (copy, 0xA5, len);
  g_free (copy);
}

/* Decodes data pushed in pieces of `step` bytes (0: at once). */
static GPtrArray *
decode_steps (MgwWsRole     role,
              gsize         max,
              const guint8 *data,
              gsize         len,
              gsize         step)
{
  g_autoptr(MgwWsDecoder) d = mgw_ws_decoder_new (role, max);
  GPtrArray *events = events_new ();
  gsize pos = 0;

  if (step == 0)
    step = MAX (len, 1);
  do
    {
      gsize n = MIN (step, len - pos);

      feed (d, max, data + pos, n, events);
      pos += n;
    }
  while (pos < len);
  return events;
}

static GPtrArray *
decode (MgwWsRole     role,
        gsize         max,
        const guint8 *data,
        gsize         len)
{
  return decode_steps (role, max, data, len, 0);
}

static void
assert_events_equal (GPtrArray *a,
                     GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      Event *x = a->pdata[i], *y = b->pdata[i];

      g_assert_cmpint (x->type, ==, y->type);
      g_assert_cmpint (x->opcode, ==, y->opcode);
      g_assert_cmpmem (x->payload->data, x->payload->len, y->payload->data, y->payload->len);
      g_assert_cmpuint (x->close_code, ==, y->close_code);
      g_assert_cmpstr (x->error, ==, y->error);
    }
}

static void
assert_event (GPtrArray     *events,
              guint          i,
              MgwWsEventType type,
              MgwWsOpcode    opcode,
              const void    *payload,
              gsize          len)
{
  Event *e;

  g_assert_cmpuint (i, <, events->len);
  e = events->pdata[i];
  g_assert_cmpint (e->type, ==, type);
  g_assert_cmpint (e->opcode, ==, opcode);
  g_assert_cmpmem (e->payload->data, e->payload->len, payload, len);
}

#define assert_message(events, i, opcode, str) \
  assert_event (events, i, MGW_WS_EVENT_MESSAGE, opcode, str, strlen (str))

/* The only event is an ERROR with this close code. */
static void
assert_error (GPtrArray *events,
              guint16    code)
{
  Event *e;

  g_assert_cmpuint (events->len, >=, 1);
  e = events->pdata[events->len - 1];
  g_assert_cmpint (e->type, ==, MGW_WS_EVENT_ERROR);
  g_assert_cmpuint (e->close_code, ==, code);
  g_assert_nonnull (e->error);
  g_test_message ("error %u: %s", e->close_code, e->error);
}

/* Appends a frame with the header byte b0, payload length encoded in
 * `len_bytes` (0: minimal, 2 or 8: forced), masked with the RFC's key. */
static void
frame_full (GByteArray   *out,
            guint8        b0,
            gboolean      masked,
            const guint8 *payload,
            gsize         len,
            guint         len_bytes)
{
  guint8 mask_bit = masked ? 0x80 : 0;

  if (len_bytes == 0)
    len_bytes = len <= 125 ? 0 : len <= 0xFFFF ? 2 : 8;
  g_byte_array_append (out, &b0, 1);
  if (len_bytes == 0)
    {
      guint8 b = mask_bit | (guint8) len;

      g_byte_array_append (out, &b, 1);
    }
  else
    {
      guint8 b = mask_bit | (len_bytes == 2 ? 126 : 127);

      g_byte_array_append (out, &b, 1);
      for (int i = (int) len_bytes - 1; i >= 0; i--)
        {
          b = (guint8) ((guint64) len >> (8 * i));
          g_byte_array_append (out, &b, 1);
        }
    }
  if (masked)
    g_byte_array_append (out, rfc_mask, 4);
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = payload[i] ^ (masked ? rfc_mask[i % 4] : 0);

      g_byte_array_append (out, &b, 1);
    }
}

/* A frame as the peer of `role` sends it (masked towards a server). */
static void
frame (GByteArray *out,
       MgwWsRole   role,
       guint8      b0,
       const void *payload,
       gsize       len)
{
  frame_full (out, b0, role == SERVER, payload, len, 0);
}

#define FIN 0x80

static guint8 *
pattern (gsize len)
{
  guint8 *p = g_malloc (MAX (len, 1));

  for (gsize i = 0; i < len; i++)
    p[i] = (guint8) (i * 7 + 3);
  return p;
}

/* ---- RFC 6455 section 5.7 -------------------------------------------- */

static void
test_rfc_unmasked_hello (void)
{
  static const guint8 bytes[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
  g_autoptr(GPtrArray) events = decode (CLIENT, MAX_DEFAULT, bytes, sizeof bytes);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  g_assert_cmpuint (events->len, ==, 1);
  assert_message (events, 0, MGW_WS_OP_TEXT, "Hello");

  mgw_ws_encode_frame (SERVER, MGW_WS_OP_TEXT, (const guint8 *) "Hello", 5, out);
  g_assert_cmpmem (out->data, out->len, bytes, sizeof bytes);

  /* A server refuses it: clients must mask. */
  g_clear_pointer (&events, g_ptr_array_unref);
  events = decode (SERVER, MAX_DEFAULT, bytes, sizeof bytes);
  g_assert_cmpuint (events->len, ==, 1);
  assert_error (events, 1002);
}

static void
test_rfc_masked_hello (void)
{
  static const guint8 bytes[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                  0x7f, 0x9f, 0x4d, 0x51, 0x58 };
  g_autoptr(GPtrArray) events = decode (SERVER, MAX_DEFAULT, bytes, sizeof bytes);

  g_assert_cmpuint (events->len, ==, 1);
  assert_message (events, 0, MGW_WS_OP_TEXT, "Hello");

  /* A client refuses it: servers must not mask. */
  g_clear_pointer (&events, g_ptr_array_unref);
  events = decode (CLIENT, MAX_DEFAULT, bytes, sizeof bytes);
  g_assert_cmpuint (events->len, ==, 1);
  assert_error (events, 1002);
}

static void
test_rfc_fragmented (void)
{
  static const guint8 bytes[] = { 0x01, 0x03, 0x48, 0x65, 0x6c,
                                  0x80, 0x02, 0x6c, 0x6f };
  g_autoptr(GPtrArray) events = decode (CLIENT, MAX_DEFAULT, bytes, sizeof bytes);

  g_assert_cmpuint (events->len, ==, 1);
  assert_message (events, 0, MGW_WS_OP_TEXT, "Hello");
}

static void
test_rfc_ping_pong (void)
{
  static const guint8 ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
  static const guint8 pong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
  g_autoptr(GPtrArray) events = decode (CLIENT, MAX_DEFAULT, ping, sizeof ping);
  g_autoptr(GPtrArray) events2 = decode (SERVER, MAX_DEFAULT, pong, sizeof pong);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  g_assert_cmpuint (events->len, ==, 1);
  assert_event (events, 0, MGW_WS_EVENT_PING, MGW_WS_OP_PING, "Hello", 5);
  g_assert_cmpuint (events2->len, ==, 1);
  assert_event (events2, 0, MGW_WS_EVENT_PONG, MGW_WS_OP_PONG, "Hello", 5);

  mgw_ws_encode_frame (SERVER, MGW_WS_OP_PING, (const guint8 *) "Hello", 5, out);
  g_assert_cmpmem (out->data, out->len, ping, sizeof ping);
}

static void
test_rfc_binary_lengths (void)
{
  g_autofree guint8 *p256 = pattern (256);
  g_autofree guint8 *p64k = pattern (65536);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;
  static const guint8 h256[] = { 0x82, 0x7E, 0x01, 0x00 };
  static const guint8 h64k[] = { 0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 };

  mgw_ws_encode_frame (SERVER, MGW_WS_OP_BINARY, p256, 256, out);
  g_assert_cmpmem (out->data, 4, h256, sizeof h256);
  g_assert_cmpuint (out->len, ==, 4 + 256);
  events = decode (CLIENT, MAX_DEFAULT, out->data, out->len);
  g_assert_cmpuint (events->len, ==, 1);
  assert_event (events, 0, MGW_WS_EVENT_MESSAGE, MGW_WS_OP_BINARY, p256, 256);

  g_byte_array_set_size (out, 0);
  g_clear_pointer (&events, g_ptr_array_unref);
  mgw_ws_encode_frame (SERVER, MGW_WS_OP_BINARY, p64k, 65536, out);
  g_assert_cmpmem (out->data, 10, h64k, sizeof h64k);
  g_assert_cmpuint (out->len, ==, 10 + 65536);
  events = decode (CLIENT, 65536, out->data, out->len);
  g_assert_cmpuint (events->len, ==, 1);
  assert_event (events, 0, MGW_WS_EVENT_MESSAGE, MGW_WS_OP_BINARY, p64k, 65536);
}

/* ---- lengths, encoder ------------------------------------------------- */

static void
test_length_boundaries (void)
{
  static const gsize lengths[] = { 0, 1, 124, 125, 126, 127, 65535, 65536, 65537, 100000 };

  for (guint r = 0; r < 2; r++)
    {
      MgwWsRole role = r == 0 ? SERVER : CLIENT;
      MgwWsRole peer = r == 0 ? CLIENT : SERVER;

      for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
        {
          gsize len = lengths[i];
          g_autofree guint8 *payload = pattern (len);
          g_autoptr(GByteArray) out = g_byte_array_new ();
          g_autoptr(GPtrArray) events = NULL;
          gsize overhead = mgw_ws_frame_overhead (role, len);
          gsize want = 2 + (len > 65535 ? 8 : len > 125 ? 2 : 0) + (role == CLIENT ? 4 : 0);
          guint8 len7 = len > 65535 ? 127 : len > 125 ? 126 : (guint8) len;

          g_assert_cmpuint (overhead, ==, want);
          mgw_ws_encode_frame (role, MGW_WS_OP_BINARY, payload, len, out);
          g_assert_cmpuint (out->len, ==, overhead + len);
          g_assert_cmphex (out->data[0], ==, 0x82);
          g_assert_cmphex (out->data[1], ==, (role == CLIENT ? 0x80 : 0) | len7);

          /* Exactly at the limit: accepted. */
          events = decode (peer, len, out->data, out->len);
          g_assert_cmpuint (events->len, ==, 1);
          assert_event (events, 0, MGW_WS_EVENT_MESSAGE, MGW_WS_OP_BINARY, payload, len);
          g_clear_pointer (&events, g_ptr_array_unref);

          /* One byte over: 1009. */
          if (len > 0)
            {
              events = decode (peer, len - 1, out->data, out->len);
              g_assert_cmpuint (events->len, ==, 1);
              assert_error (events, 1009);
            }
        }
    }
}

static void
test_encode_masked (void)
{
  g_autoptr(GByteArray) a = g_byte_array_new ();
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;

  mgw_ws_encode_frame (CLIENT, MGW_WS_OP_TEXT, (const guint8 *) "Hello", 5, a);
  g_assert_cmpuint (a->len, ==, 11);
  g_assert_cmphex (a->data[0], ==, 0x81);
  g_assert_cmphex (a->data[1], ==, 0x85);
  for (guint i = 0; i < 5; i++)
    g_assert_cmphex (a->data[6 + i] ^ a->data[2 + i % 4], ==, "Hello"[i]);
  events = decode (SERVER, MAX_DEFAULT, a->data, a->len);
  assert_message (events, 0, MGW_WS_OP_TEXT, "Hello");

  /* A fresh key per frame (two equal keys in a row: 2^-32). */
  mgw_ws_encode_frame (CLIENT, MGW_WS_OP_TEXT, (const guint8 *) "Hello", 5, b);
  mgw_ws_encode_frame (CLIENT, MGW_WS_OP_TEXT, (const guint8 *) "Hello", 5, b);
  g_assert_false (memcmp (b->data + 2, b->data + 11 + 2, 4) == 0
                  && memcmp (a->data + 2, b->data + 2, 4) == 0);
}

static void
test_encode_appends (void)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;

  g_byte_array_append (out, (const guint8 *) "xy", 2);
  mgw_ws_encode_frame (SERVER, MGW_WS_OP_TEXT, (const guint8 *) "a", 1, out);
  mgw_ws_encode_frame (SERVER, MGW_WS_OP_BINARY, NULL, 0, out);
  mgw_ws_encode_frame (SERVER, MGW_WS_OP_PONG, (const guint8 *) "p", 1, out);
  g_assert_cmpmem (out->data, 2, "xy", 2);
  events = decode (CLIENT, MAX_DEFAULT, out->data + 2, out->len - 2);
  g_assert_cmpuint (events->len, ==, 3);
  assert_message (events, 0, MGW_WS_OP_TEXT, "a");
  assert_message (events, 1, MGW_WS_OP_BINARY, "");
  assert_event (events, 2, MGW_WS_EVENT_PONG, MGW_WS_OP_PONG, "p", 1);
}

static void
test_encode_close (void)
{
  static const guint8 empty[] = { 0x88, 0x00 };
  static const guint8 bye[] = { 0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e' };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GString) long_reason = g_string_new (NULL);
  g_autoptr(GPtrArray) events = NULL;
  Event *e;

  mgw_ws_encode_close (SERVER, 0, "ignored", out);
  g_assert_cmpmem (out->data, out->len, empty, sizeof empty);

  g_byte_array_set_size (out, 0);
  mgw_ws_encode_close (SERVER, 1000, "bye", out);
  g_assert_cmpmem (out->data, out->len, bye, sizeof bye);

  g_byte_array_set_size (out, 0);
  mgw_ws_encode_close (SERVER, 1001, NULL, out);
  g_assert_cmpuint (out->len, ==, 4);

  /* 100 x "é" (2 bytes each): cut at 122 bytes, not in the middle of a
   * character at 123. */
  for (guint i = 0; i < 100; i++)
    g_string_append (long_reason, "\xc3\xa9");
  g_byte_array_set_size (out, 0);
  mgw_ws_encode_close (CLIENT, 1000, long_reason->str, out);
  g_assert_cmpuint (out->len, ==, 2 + 4 + 2 + 122);
  events = decode (SERVER, MAX_DEFAULT, out->data, out->len);
  g_assert_cmpuint (events->len, ==, 1);
  e = events->pdata[0];
  g_assert_cmpint (e->type, ==, MGW_WS_EVENT_CLOSE);
  g_assert_cmpuint (e->close_code, ==, 1000);
  g_assert_cmpmem (e->payload->data, e->payload->len, long_reason->str, 122);
  g_clear_pointer (&events, g_ptr_array_unref);

  /* 123 ASCII bytes fit exactly; 124 are cut to 123. */
  g_string_truncate (long_reason, 0);
  for (guint i = 0; i < 124; i++)
    g_string_append_c (long_reason, 'a' + i % 26);
  g_byte_array_set_size (out, 0);
  mgw_ws_encode_close (SERVER, 4000, long_reason->str, out);
  g_assert_cmpuint (out->len, ==, 2 + 125);

  /* Invalid UTF-8: cut before the first bad byte. */
  g_byte_array_set_size (out, 0);
  mgw_ws_encode_close (SERVER, 1000, "ok\xff" "rest", out);
  events = decode (CLIENT, MAX_DEFAULT, out->data, out->len);
  e = events->pdata[0];
  g_assert_cmpint (e->type, ==, MGW_WS_EVENT_CLOSE);
  g_assert_cmpmem (e->payload->data, e->payload->len, "ok", 2);
}

static void
test_round_trip (void)
{
  static const gsize lengths[] = { 0, 1, 2, 3, 4, 5, 8, 125, 126, 1000, 4097, 65535, 65536, 70000 };

  for (guint r = 0; r < 2; r++)
    {
      MgwWsRole role = r == 0 ? SERVER : CLIENT;
      MgwWsRole peer = r == 0 ? CLIENT : SERVER;
      g_autoptr(GByteArray) out = g_byte_array_new ();
      g_autoptr(GPtrArray) events = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
        {
          g_autofree guint8 *payload = pattern (lengths[i]);

          mgw_ws_encode_frame (role, i % 2 ? MGW_WS_OP_TEXT : MGW_WS_OP_BINARY,
                               payload, lengths[i], out);
          if (lengths[i] <= 125)
            mgw_ws_encode_frame (role, MGW_WS_OP_PING, payload, lengths[i], out);
        }
      mgw_ws_encode_close (role, 1000, "done", out);

      /* At once, then in 1000-byte and 7-byte pieces. */
      for (guint s = 0; s < 3; s++)
        {
          guint k = 0;

          events = decode_steps (peer, 70000, out->data, out->len, s == 0 ? 0 : s == 1 ? 1000 : 7);
          for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
            {
              g_autofree guint8 *payload = pattern (lengths[i]);

              assert_event (events, k++, MGW_WS_EVENT_MESSAGE,
                            i % 2 ? MGW_WS_OP_TEXT : MGW_WS_OP_BINARY, payload, lengths[i]);
              if (lengths[i] <= 125)
                assert_event (events, k++, MGW_WS_EVENT_PING, MGW_WS_OP_PING, payload, lengths[i]);
            }
          assert_event (events, k, MGW_WS_EVENT_CLOSE, MGW_WS_OP_CLOSE, "done", 4);
          g_assert_cmpuint (((Event *) events->pdata[k])->close_code, ==, 1000);
          g_assert_cmpuint (events->len, ==, k + 1);
          g_clear_pointer (&events, g_ptr_array_unref);
        }
    }
}

/* ---- split input ------------------------------------------------------ */

/* A stream of frames covering every kind: keystroke, fragmented message
 * with a ping and a pong in the middle, empty message, 16-bit length,
 * close. */
static GByteArray *
mixed_stream (MgwWsRole role)
{
  GByteArray *s = g_byte_array_new ();
  g_autofree guint8 *p300 = pattern (300);

  frame (s, role, FIN | MGW_WS_OP_TEXT, "a", 1);
  frame (s, role, MGW_WS_OP_TEXT, "Hel", 3);
  frame (s, role, FIN | MGW_WS_OP_PING, "p1", 2);
  frame (s, role, MGW_WS_OP_CONTINUATION, "", 0);
  frame (s, role, FIN | MGW_WS_OP_PONG, "", 0);
  frame (s, role, FIN | MGW_WS_OP_CONTINUATION, "lo", 2);
  frame (s, role, FIN | MGW_WS_OP_BINARY, "", 0);
  frame (s, role, FIN | MGW_WS_OP_BINARY, p300, 300);
  frame (s, role, MGW_WS_OP_BINARY, p300, 200);
  frame (s, role, FIN | MGW_WS_OP_CONTINUATION, p300 + 200, 100);
  frame (s, role, FIN | MGW_WS_OP_CLOSE, "\x03\xe8" "bye", 5);
  return s;
}

static void
check_mixed_events (GPtrArray *events)
{
  g_autofree guint8 *p300 = pattern (300);

  g_assert_cmpuint (events->len, ==, 8);
  assert_message (events, 0, MGW_WS_OP_TEXT, "a");
  assert_event (events, 1, MGW_WS_EVENT_PING, MGW_WS_OP_PING, "p1", 2);
  assert_event (events, 2, MGW_WS_EVENT_PONG, MGW_WS_OP_PONG, "", 0);
  assert_message (events, 3, MGW_WS_OP_TEXT, "Hello");
  assert_message (events, 4, MGW_WS_OP_BINARY, "");
  assert_event (events, 5, MGW_WS_EVENT_MESSAGE, MGW_WS_OP_BINARY, p300, 300);
  assert_event (events, 6, MGW_WS_EVENT_MESSAGE, MGW_WS_OP_BINARY, p300, 300);
  assert_event (events, 7, MGW_WS_EVENT_CLOSE, MGW_WS_OP_CLOSE, "bye", 3);
  g_assert_cmpuint (((Event *) events->pdata[7])->close_code, ==, 1000);
}

static void
test_split_every_position (void)
{
  for (guint r = 0; r < 2; r++)
    {
      MgwWsRole role = r == 0 ? SERVER : CLIENT;
      g_autoptr(GByteArray) s = mixed_stream (role);
      g_autoptr(GPtrArray) whole = decode (role, MAX_DEFAULT, s->data, s->len);

      check_mixed_events (whole);
      for (gsize cut = 0; cut <= s->len; cut++)
        {
          g_autoptr(MgwWsDecoder) d = mgw_ws_decoder_new (role, MAX_DEFAULT);
          g_autoptr(GPtrArray) events = events_new ();

          feed (d, MAX_DEFAULT, s->data, cut, events);
          feed (d, MAX_DEFAULT, s->data + cut, s->len - cut, events);
          assert_events_equal (whole, events);
        }
    }
}

static void
test_split_byte_at_a_time (void)
{
  for (guint r = 0; r < 2; r++)
    {
      MgwWsRole role = r == 0 ? SERVER : CLIENT;
      g_autoptr(GByteArray) s = mixed_stream (role);

      for (gsize step = 1; step <= 16; step++)
        {
          g_autoptr(GPtrArray) events = decode_steps (role, MAX_DEFAULT, s->data, s->len, step);

          check_mixed_events (events);
        }
    }
}

/* Every pair of cut points in a frame with a 64-bit length: the header
 * itself split in three. */
static void
test_split_header_twice (void)
{
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autofree guint8 *p = pattern (40);

  frame_full (s, FIN | MGW_WS_OP_BINARY, TRUE, p, 40, 8);
  for (gsize a = 0; a <= s->len; a++)
    for (gsize b = a; b <= s->len; b++)
      {
        g_autoptr(MgwWsDecoder) d = mgw_ws_decoder_new (SERVER, 100);
        g_autoptr(GPtrArray) events = events_new ();

        feed (d, 100, s->data, a, events);
        feed (d, 100, s->data + a, b - a, events);
        feed (d, 100, s->data + b, s->len - b, events);
        g_assert_cmpuint (events->len, ==, 1);
        assert_event (events, 0, MGW_WS_EVENT_MESSAGE, MGW_WS_OP_BINARY, p, 40);
      }
}

/* An unmasked frame wholly in the pushed bytes is handed out in place;
 * once split, or masked, the decoder's own copy. */
static void
test_zero_copy (void)
{
  static const guint8 unmasked[] = { 0x81, 0x02, 'h', 'i', 0x89, 0x01, 'p' };
  static const guint8 masked[] = { 0x81, 0x82, 0, 0, 0, 0, 'h', 'i' };
  g_autoptr(MgwWsDecoder) c = mgw_ws_decoder_new (CLIENT, 100);
  g_autoptr(MgwWsDecoder) s = mgw_ws_decoder_new (SERVER, 100);
  MgwWsEvent ev;

  mgw_ws_decoder_push (c, unmasked, sizeof unmasked);
  g_assert_true (mgw_ws_decoder_next (c, &ev));
  g_assert_true (ev.payload == unmasked + 2);
  g_assert_cmpuint (ev.len, ==, 2);
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (c), ==, 0);
  g_assert_true (mgw_ws_decoder_next (c, &ev));
  g_assert_cmpint (ev.type, ==, MGW_WS_EVENT_PING);
  g_assert_true (ev.payload == unmasked + 6);
  g_assert_false (mgw_ws_decoder_next (c, &ev));

  mgw_ws_decoder_push (c, unmasked, 3);
  g_assert_false (mgw_ws_decoder_next (c, &ev));
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (c), ==, 1);
  mgw_ws_decoder_push (c, unmasked + 3, 1);
  g_assert_true (mgw_ws_decoder_next (c, &ev));
  g_assert_true (ev.payload < unmasked || ev.payload >= unmasked + sizeof unmasked);
  g_assert_cmpmem (ev.payload, ev.len, "hi", 2);
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (c), ==, 2);
  g_assert_false (mgw_ws_decoder_next (c, &ev));
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (c), ==, 0);

  mgw_ws_decoder_push (s, masked, sizeof masked);
  g_assert_true (mgw_ws_decoder_next (s, &ev));
  g_assert_true (ev.payload < masked || ev.payload >= masked + sizeof masked);
  g_assert_cmpmem (ev.payload, ev.len, "hi", 2);
}

/* ---- fragments and control frames ------------------------------------- */

static void
test_fragments_interleaved (void)
{
  for (guint r = 0; r < 2; r++)
    {
      MgwWsRole role = r == 0 ? SERVER : CLIENT;
      g_autoptr(GByteArray) s = g_byte_array_new ();
      g_autoptr(GPtrArray) events = NULL;

      frame (s, role, MGW_WS_OP_BINARY, "ab", 2);
      frame (s, role, FIN | MGW_WS_OP_PING, "1", 1);
      frame (s, role, FIN | MGW_WS_OP_PING, "2", 1);
      frame (s, role, MGW_WS_OP_CONTINUATION, "cd", 2);
      frame (s, role, FIN | MGW_WS_OP_PONG, "3", 1);
      frame (s, role, FIN | MGW_WS_OP_CONTINUATION, "ef", 2);
      frame (s, role, MGW_WS_OP_TEXT, "x", 1);
      frame (s, role, FIN | MGW_WS_OP_CLOSE, "\x03\xe9", 2);
      events = decode (role, MAX_DEFAULT, s->data, s->len);
      g_assert_cmpuint (events->len, ==, 5);
      assert_event (events, 0, MGW_WS_EVENT_PING, MGW_WS_OP_PING, "1", 1);
      assert_event (events, 1, MGW_WS_EVENT_PING, MGW_WS_OP_PING, "2", 1);
      assert_event (events, 2, MGW_WS_EVENT_PONG, MGW_WS_OP_PONG, "3", 1);
      assert_message (events, 3, MGW_WS_OP_BINARY, "abcdef");
      /* A close in the middle of a message ends everything. */
      assert_event (events, 4, MGW_WS_EVENT_CLOSE, MGW_WS_OP_CLOSE, "", 0);
      g_assert_cmpuint (((Event *) events->pdata[4])->close_code, ==, 1001);
    }
}

static void
test_empty_messages (void)
{
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;

  frame (s, SERVER, FIN | MGW_WS_OP_TEXT, "", 0);
  frame (s, SERVER, MGW_WS_OP_BINARY, "", 0);
  frame (s, SERVER, MGW_WS_OP_CONTINUATION, "", 0);
  frame (s, SERVER, FIN | MGW_WS_OP_CONTINUATION, "", 0);
  frame (s, SERVER, FIN | MGW_WS_OP_PING, "", 0);
  events = decode (SERVER, 0, s->data, s->len);
  g_assert_cmpuint (events->len, ==, 3);
  assert_message (events, 0, MGW_WS_OP_TEXT, "");
  assert_message (events, 1, MGW_WS_OP_BINARY, "");
  assert_event (events, 2, MGW_WS_EVENT_PING, MGW_WS_OP_PING, "", 0);
}

/* TEXT is not checked for UTF-8: the link converts it itself. */
static void
test_text_not_utf8_checked (void)
{
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;

  frame (s, SERVER, FIN | MGW_WS_OP_TEXT, "\xff\xfe\x00\xc3", 4);
  events = decode (SERVER, MAX_DEFAULT, s->data, s->len);
  g_assert_cmpuint (events->len, ==, 1);
  assert_event (events, 0, MGW_WS_EVENT_MESSAGE, MGW_WS_OP_TEXT, "\xff\xfe\x00\xc3", 4);
}

static void
test_non_minimal_length (void)
{
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;

  frame_full (s, FIN | MGW_WS_OP_TEXT, TRUE, (const guint8 *) "abc", 3, 2);
  frame_full (s, FIN | MGW_WS_OP_TEXT, TRUE, (const guint8 *) "de", 2, 8);
  events = decode (SERVER, MAX_DEFAULT, s->data, s->len);
  g_assert_cmpuint (events->len, ==, 2);
  assert_message (events, 0, MGW_WS_OP_TEXT, "abc");
  assert_message (events, 1, MGW_WS_OP_TEXT, "de");
}

/* ---- protocol errors --------------------------------------------------- */

static void
expect_error (MgwWsRole     role,
              gsize         max,
              const guint8 *data,
              gsize         len,
              guint16       code)
{
  g_autoptr(GPtrArray) events = decode (role, max, data, len);
  g_autoptr(GPtrArray) bytewise = decode_steps (role, max, data, len, 1);

  assert_error (events, code);
  assert_events_equal (events, bytewise);
}

static void
test_error_mask (void)
{
  g_autoptr(GByteArray) s = g_byte_array_new ();

  frame_full (s, FIN | MGW_WS_OP_TEXT, FALSE, (const guint8 *) "x", 1, 0);
  expect_error (SERVER, MAX_DEFAULT, s->data, s->len, 1002);
  g_byte_array_set_size (s, 0);
  frame_full (s, FIN | MGW_WS_OP_TEXT, TRUE, (const guint8 *) "x", 1, 0);
  expect_error (CLIENT, MAX_DEFAULT, s->data, s->len, 1002);
  /* Control frames too. */
  g_byte_array_set_size (s, 0);
  frame_full (s, FIN | MGW_WS_OP_PING, FALSE, NULL, 0, 0);
  expect_error (SERVER, MAX_DEFAULT, s->data, s->len, 1002);
}

static void
test_error_rsv (void)
{
  for (guint bit = 0x10; bit <= 0x40; bit <<= 1)
    {
      g_autoptr(GByteArray) s = g_byte_array_new ();

      frame (s, SERVER, FIN | bit | MGW_WS_OP_TEXT, "x", 1);
      expect_error (SERVER, MAX_DEFAULT, s->data, s->len, 1002);
      /* Decided from the first byte alone. */
      expect_error (SERVER, MAX_DEFAULT, s->data, 1, 1002);
    }
}

static void
test_error_reserved_opcode (void)
{
  static const guint8 reserved[] = { 3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF };

  for (guint i = 0; i < G_N_ELEMENTS (reserved); i++)
    {
      g_autoptr(GByteArray) s = g_byte_array_new ();

      frame (s, CLIENT, FIN | reserved[i], "", 0);
      expect_error (CLIENT, MAX_DEFAULT, s->data, s->len, 1002);
    }
}

static void
test_error_control_fragmented (void)
{
  static const guint8 ops[] = { MGW_WS_OP_CLOSE, MGW_WS_OP_PING, MGW_WS_OP_PONG };

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      g_autoptr(GByteArray) s = g_byte_array_new ();

      frame (s, SERVER, ops[i], "", 0);
      expect_error (SERVER, MAX_DEFAULT, s->data, s->len, 1002);
    }
}

static void
test_error_control_too_long (void)
{
  g_autofree guint8 *p = pattern (126);
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;

  frame (s, SERVER, FIN | MGW_WS_OP_PING, p, 125);
  events = decode (SERVER, MAX_DEFAULT, s->data, s->len);
  assert_event (events, 0, MGW_WS_EVENT_PING, MGW_WS_OP_PING, p, 125);

  g_byte_array_set_size (s, 0);
  frame (s, SERVER, FIN | MGW_WS_OP_PING, p, 126);
  expect_error (SERVER, MAX_DEFAULT, s->data, s->len, 1002);
  /* Decided from the second byte. */
  expect_error (SERVER, MAX_DEFAULT, s->data, 2, 1002);
  /* A 16-bit length of 5 is not a short control frame either. */
  g_byte_array_set_size (s, 0);
  frame_full (s, FIN | MGW_WS_OP_PONG, TRUE, p, 5, 2);
  expect_error (SERVER, MAX_DEFAULT, s->data, s->len, 1002);
}

static void
test_error_length_top_bit (void)
{
  static const guint8 bytes[] = { 0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1 };

  expect_error (CLIENT, G_MAXSIZE, bytes, sizeof bytes, 1002);
}

static void
test_error_continuation (void)
{
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(GByteArray) t = g_byte_array_new ();

  /* Nothing to continue. */
  frame (s, SERVER, FIN | MGW_WS_OP_CONTINUATION, "x", 1);
  expect_error (SERVER, MAX_DEFAULT, s->data, s->len, 1002);
  /* ... also after a complete message. */
  g_byte_array_set_size (s, 0);
  frame (s, SERVER, FIN | MGW_WS_OP_TEXT, "x", 1);
  frame (s, SERVER, MGW_WS_OP_CONTINUATION, "x", 1);
  expect_error (SERVER, MAX_DEFAULT, s->data, s->len, 1002);
  /* A new message while one is open. */
  frame (t, CLIENT, MGW_WS_OP_TEXT, "x", 1);
  frame (t, CLIENT, FIN | MGW_WS_OP_BINARY, "y", 1);
  expect_error (CLIENT, MAX_DEFAULT, t->data, t->len, 1002);
}

static void
test_error_too_big (void)
{
  g_autofree guint8 *p = pattern (100);
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;

  /* The fragments add up. */
  frame (s, SERVER, MGW_WS_OP_BINARY, p, 60);
  frame (s, SERVER, FIN | MGW_WS_OP_CONTINUATION, p, 40);
  events = decode (SERVER, 100, s->data, s->len);
  g_assert_cmpuint (events->len, ==, 1);
  g_assert_cmpint (((Event *) events->pdata[0])->type, ==, MGW_WS_EVENT_MESSAGE);
  g_assert_cmpuint (((Event *) events->pdata[0])->payload->len, ==, 100);
  g_clear_pointer (&events, g_ptr_array_unref);
  expect_error (SERVER, 99, s->data, s->len, 1009);

  /* A ping inside a message shares the budget (documented choice). */
  g_byte_array_set_size (s, 0);
  frame (s, SERVER, MGW_WS_OP_BINARY, p, 90);
  frame (s, SERVER, FIN | MGW_WS_OP_PING, p, 11);
  expect_error (SERVER, 100, s->data, s->len, 1009);
  g_byte_array_set_size (s, 0);
  frame (s, SERVER, MGW_WS_OP_BINARY, p, 90);
  frame (s, SERVER, FIN | MGW_WS_OP_PING, p, 10);
  frame (s, SERVER, FIN | MGW_WS_OP_CONTINUATION, p, 10);
  events = decode (SERVER, 100, s->data, s->len);
  g_assert_cmpuint (events->len, ==, 2);
  g_assert_cmpint (((Event *) events->pdata[1])->type, ==, MGW_WS_EVENT_MESSAGE);
}

/* 1009 is decided from the header, before any payload byte. */
static void
test_error_too_big_from_header (void)
{
  static const guint8 h16[] = { 0x82, 0xFE, 0x01, 0x00 };
  static const guint8 h64[] = { 0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0 };
  static const guint8 h64_client[] = { 0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
  g_autoptr(MgwWsDecoder) d = mgw_ws_decoder_new (SERVER, 255);
  MgwWsEvent ev;

  /* Before the masking key arrives, even. */
  mgw_ws_decoder_push (d, h16, 3);
  g_assert_false (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 3);
  mgw_ws_decoder_push (d, h16 + 3, 1);
  g_assert_true (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpint (ev.type, ==, MGW_WS_EVENT_ERROR);
  g_assert_cmpuint (ev.close_code, ==, 1009);

  expect_error (SERVER, MAX_DEFAULT, h64, sizeof h64, 1009);
  expect_error (CLIENT, G_MAXSIZE / 4, h64_client, sizeof h64_client, 1009);
}

static void
test_error_close_payload (void)
{
  static const guint8 one[] = { 0x88, 0x01, 0x03 };
  static const guint invalid[] = { 0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999,
                                   5000, 65535 };
  static const guint valid[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                                 1013, 1014, 3000, 3999, 4000, 4999 };

  expect_error (CLIENT, MAX_DEFAULT, one, sizeof one, 1002);

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      guint8 bytes[] = { 0x88, 0x02, invalid[i] >> 8, invalid[i] & 0xFF };

      g_assert_false (mgw_ws_close_code_is_valid (invalid[i]));
      expect_error (CLIENT, MAX_DEFAULT, bytes, sizeof bytes, 1002);
    }
  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      guint8 bytes[] = { 0x88, 0x02, valid[i] >> 8, valid[i] & 0xFF };
      g_autoptr(GPtrArray) events = decode (CLIENT, MAX_DEFAULT, bytes, sizeof bytes);
      Event *e = events->pdata[0];

      g_assert_true (mgw_ws_close_code_is_valid (valid[i]));
      g_assert_cmpuint (events->len, ==, 1);
      g_assert_cmpint (e->type, ==, MGW_WS_EVENT_CLOSE);
      g_assert_cmpuint (e->close_code, ==, valid[i]);
      g_assert_cmpuint (e->payload->len, ==, 0);
    }
}

static void
test_close_reason_utf8 (void)
{
  static const guint8 none[] = { 0x88, 0x00 };
  static const char *good[] = { "", "fin", "\xc3\xa9t\xc3\xa9", "a\0b", "\xf0\x9f\x98\x80" };
  static const gsize good_len[] = { 0, 3, 5, 3, 4 };
  static const char *bad[] = { "\xff", "\xc3", "\xc3(", "\xed\xa0\x80", "\xc0\xaf", "ok\xf4\x90\x80\x80" };
  g_autoptr(GPtrArray) events = decode (CLIENT, MAX_DEFAULT, none, sizeof none);

  g_assert_cmpuint (events->len, ==, 1);
  g_assert_cmpint (((Event *) events->pdata[0])->type, ==, MGW_WS_EVENT_CLOSE);
  g_assert_cmpuint (((Event *) events->pdata[0])->close_code, ==, 1005);
  g_clear_pointer (&events, g_ptr_array_unref);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GByteArray) s = g_byte_array_new ();
      g_autoptr(GByteArray) payload = g_byte_array_new ();

      g_byte_array_append (payload, (const guint8 *) "\x0f\xa0", 2);
      g_byte_array_append (payload, (const guint8 *) good[i], (guint) good_len[i]);
      frame (s, SERVER, FIN | MGW_WS_OP_CLOSE, payload->data, payload->len);
      events = decode (SERVER, MAX_DEFAULT, s->data, s->len);
      g_assert_cmpuint (events->len, ==, 1);
      assert_event (events, 0, MGW_WS_EVENT_CLOSE, MGW_WS_OP_CLOSE, good[i], good_len[i]);
      g_assert_cmpuint (((Event *) events->pdata[0])->close_code, ==, 4000);
      g_clear_pointer (&events, g_ptr_array_unref);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GByteArray) s = g_byte_array_new ();
      g_autoptr(GByteArray) payload = g_byte_array_new ();

      g_byte_array_append (payload, (const guint8 *) "\x03\xe8", 2);
      g_byte_array_append (payload, (const guint8 *) bad[i], (guint) strlen (bad[i]));
      frame (s, SERVER, FIN | MGW_WS_OP_CLOSE, payload->data, payload->len);
      expect_error (SERVER, MAX_DEFAULT, s->data, s->len, 1007);
    }
}

/* After an ERROR or a CLOSE: FALSE for ever, push() ignored. */
static void
test_finished (void)
{
  static const guint8 bad[] = { 0x83, 0x00, 0x81, 0x01, 'x' };
  static const guint8 close_then[] = { 0x88, 0x00, 0x81, 0x01, 'x' };
  static const guint8 more[] = { 0x81, 0x01, 'y' };
  g_autoptr(MgwWsDecoder) d = mgw_ws_decoder_new (CLIENT, 100);
  g_autoptr(MgwWsDecoder) c = mgw_ws_decoder_new (CLIENT, 100);
  MgwWsEvent ev;

  mgw_ws_decoder_push (d, bad, sizeof bad);
  g_assert_true (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpint (ev.type, ==, MGW_WS_EVENT_ERROR);
  g_assert_true (mgw_ws_decoder_is_finished (d));
  g_assert_false (mgw_ws_decoder_next (d, &ev));
  mgw_ws_decoder_push (d, more, sizeof more);
  g_assert_false (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 0);

  mgw_ws_decoder_push (c, close_then, sizeof close_then);
  g_assert_false (mgw_ws_decoder_is_finished (c));
  g_assert_true (mgw_ws_decoder_next (c, &ev));
  g_assert_cmpint (ev.type, ==, MGW_WS_EVENT_CLOSE);
  g_assert_false (mgw_ws_decoder_next (c, &ev));
  mgw_ws_decoder_push (c, more, sizeof more);
  g_assert_false (mgw_ws_decoder_next (c, &ev));
}

/* ---- memory ------------------------------------------------------------ */

static void
test_buffered (void)
{
  g_autofree guint8 *p = pattern (1000);
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(MgwWsDecoder) d = mgw_ws_decoder_new (SERVER, 1000);
  MgwWsEvent ev;

  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 0);

  /* A header with a 64-bit length and a mask: 14 bytes, 13 held. */
  frame_full (s, FIN | MGW_WS_OP_BINARY, TRUE, p, 1000, 8);
  mgw_ws_decoder_push (d, s->data, 13);
  g_assert_false (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 13);
  /* The last header byte and half of the payload: the payload is held. */
  mgw_ws_decoder_push (d, s->data + 13, 501);
  g_assert_false (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 500);
  mgw_ws_decoder_push (d, s->data + 514, s->len - 514);
  g_assert_true (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpmem (ev.payload, ev.len, p, 1000);
  /* Held until the next call, then released. */
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 1000);
  g_assert_false (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 0);

  /* Fragments are held until the message ends. */
  g_byte_array_set_size (s, 0);
  frame (s, SERVER, MGW_WS_OP_TEXT, p, 300);
  frame (s, SERVER, MGW_WS_OP_CONTINUATION, p, 300);
  mgw_ws_decoder_push (d, s->data, s->len);
  g_assert_false (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 600);
  g_byte_array_set_size (s, 0);
  frame (s, SERVER, FIN | MGW_WS_OP_PING, p, 5);
  frame (s, SERVER, FIN | MGW_WS_OP_CONTINUATION, p, 400);
  mgw_ws_decoder_push (d, s->data, s->len);
  g_assert_true (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpint (ev.type, ==, MGW_WS_EVENT_PING);
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 605);
  g_assert_true (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpint (ev.type, ==, MGW_WS_EVENT_MESSAGE);
  g_assert_cmpuint (ev.len, ==, 1000);
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 1000);
  g_assert_false (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpuint (mgw_ws_decoder_get_buffered (d), ==, 0);
}

/* A peer sending a maximal message byte by byte, with the longest
 * headers and pings in between, never makes the decoder hold more than
 * max_message + 14 bytes (checked after every call by drain()). */
static void
test_bound_byte_by_byte (void)
{
  gsize max = 500;
  g_autofree guint8 *p = pattern (max);
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;

  frame_full (s, MGW_WS_OP_BINARY, TRUE, p, 100, 8);
  frame_full (s, FIN | MGW_WS_OP_PING, TRUE, p, 125, 0);
  frame_full (s, MGW_WS_OP_CONTINUATION, TRUE, p + 100, 275, 8);
  frame_full (s, FIN | MGW_WS_OP_PONG, TRUE, p, 125, 0);
  frame_full (s, FIN | MGW_WS_OP_CONTINUATION, TRUE, p + 375, 125, 8);
  events = decode_steps (SERVER, max, s->data, s->len, 1);
  g_assert_cmpuint (events->len, ==, 3);
  assert_event (events, 2, MGW_WS_EVENT_MESSAGE, MGW_WS_OP_BINARY, p, max);
}

static void
test_set_max_message (void)
{
  g_autofree guint8 *p = pattern (200);
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(MgwWsDecoder) d = mgw_ws_decoder_new (CLIENT, 100);
  MgwWsEvent ev;

  frame (s, CLIENT, FIN | MGW_WS_OP_BINARY, p, 200);
  mgw_ws_decoder_set_max_message (d, 200);
  mgw_ws_decoder_push (d, s->data, s->len);
  g_assert_true (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpint (ev.type, ==, MGW_WS_EVENT_MESSAGE);
  g_assert_false (mgw_ws_decoder_next (d, &ev));
  mgw_ws_decoder_set_max_message (d, 199);
  mgw_ws_decoder_push (d, s->data, s->len);
  g_assert_true (mgw_ws_decoder_next (d, &ev));
  g_assert_cmpint (ev.type, ==, MGW_WS_EVENT_ERROR);
  g_assert_cmpuint (ev.close_code, ==, 1009);
  g_assert_cmpint (mgw_ws_decoder_get_role (d), ==, CLIENT);
}

/* Many keystrokes in one push, then in separate pushes. */
static void
test_keystrokes (void)
{
  g_autoptr(GByteArray) s = g_byte_array_new ();
  g_autoptr(GPtrArray) events = NULL;

  for (guint i = 0; i < 1000; i++)
    {
      char key = (char) ('A' + i % 26);

      frame (s, SERVER, FIN | MGW_WS_OP_TEXT, &key, 1);
    }
  for (guint step = 0; step <= 7; step += 7)
    {
      events = decode_steps (SERVER, 8, s->data, s->len, step);
      g_assert_cmpuint (events->len, ==, 1000);
      for (guint i = 0; i < 1000; i++)
        {
          char key = (char) ('A' + i % 26);

          assert_event (events, i, MGW_WS_EVENT_MESSAGE, MGW_WS_OP_TEXT, &key, 1);
        }
      g_clear_pointer (&events, g_ptr_array_unref);
    }
}

/* ---- handshakes -------------------------------------------------------- */

/* Captured from the real clients (2026-11-25) against a socket that
 * recorded the request. */
static const char chromium_request[] =
  "GET /moip HTTP/1.1\r\n"
  "Host: 127.0.0.1:40013\r\n"
  "Connection: Upgrade\r\n"
  "Pragma: no-cache\r\n"
  "Cache-Control: no-cache\r\n"
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36\r\n"
  "Upgrade: websocket\r\n"
  "Origin: null\r\n"
  "Sec-WebSocket-Version: 13\r\n"
  "Accept-Encoding: gzip, deflate, br, zstd\r\n"
  "Accept-Language: en-US,en;q=0.9\r\n"
  "Sec-WebSocket-Key: fCxdAaW3tnIUAO1Au9C4KA==\r\n"
  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
  "Sec-WebSocket-Protocol: tty\r\n"
  "\r\n";

static const char python_request[] =
  "GET /moip?x=1 HTTP/1.1\r\n"
  "Host: 127.0.0.1:34535\r\n"
  "Upgrade: websocket\r\n"
  "Connection: Upgrade\r\n"
  "Sec-WebSocket-Key: qbCqRK/vsW2X6ZUblx1/nw==\r\n"
  "Sec-WebSocket-Version: 13\r\n"
  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
  "Sec-WebSocket-Protocol: tty\r\n"
  "User-Agent: Python/3.11 websockets/10.4\r\n"
  "\r\n";

static const char libsoup_request[] =
  "GET /moip HTTP/1.1\r\n"
  "Upgrade: websocket\r\n"
  "Connection: Upgrade\r\n"
  "Sec-WebSocket-Key: Q15pbHGj6pCfuUkW0p4LHw==\r\n"
  "Sec-WebSocket-Version: 13\r\n"
  "Sec-WebSocket-Protocol: tty, minitel\r\n"
  "Accept-Encoding: gzip, deflate\r\n"
  "User-Agent: moipgw/0.1\r\n"
  "Host: 127.0.0.1:53793\r\n"
  "\r\n";

/* Firefox's Connection header. */
static const char firefox_style_request[] =
  "GET / HTTP/1.1\r\n"
  "Host: example.org\r\n"
  "Connection: keep-alive, Upgrade\r\n"
  "Upgrade: WebSocket\r\n"
  "Sec-WebSocket-Version: 13\r\n"
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
  "\r\n";

static MgwHttpParse
parse_request (const char   *text,
               gsize         len,
               gsize        *head_len,
               MgwHttpHead **head,
               guint        *status,
               GError      **error)
{
  return mgw_ws_parse_request ((const guint8 *) text, len, 8192, head_len, head, status, error);
}

static MgwHttpHead *
assert_request_ok (const char *text,
                   const char *target,
                   const char *key)
{
  g_autoptr(GError) error = NULL;
  MgwHttpHead *head = NULL;
  gsize head_len = 0, len = strlen (text);
  guint status = 0;

  g_assert_cmpint (parse_request (text, len, &head_len, &head, &status, &error), ==,
                   MGW_HTTP_COMPLETE);
  g_assert_no_error (error);
  g_assert_cmpuint (head_len, ==, len);
  g_assert_nonnull (head);
  g_assert_cmpstr (mgw_http_head_get_method (head), ==, "GET");
  g_assert_cmpstr (mgw_http_head_get_target (head), ==, target);
  g_assert_cmpstr (mgw_http_head_get (head, "sec-websocket-key"), ==, key);

  /* Every prefix is INCOMPLETE, with no error. */
  for (gsize i = 0; i < len; i++)
    {
      MgwHttpHead *none = NULL;

      g_assert_cmpint (parse_request (text, i, &head_len, &none, &status, &error), ==,
                       MGW_HTTP_INCOMPLETE);
      g_assert_no_error (error);
      g_assert_null (none);
    }
  return head;
}

static void
test_request_chromium (void)
{
  g_autoptr(MgwHttpHead) head = assert_request_ok (chromium_request, "/moip",
                                                   "fCxdAaW3tnIUAO1Au9C4KA==");

  g_assert_cmpstr (mgw_http_head_get (head, "Sec-WebSocket-Protocol"), ==, "tty");
  g_assert_cmpstr (mgw_http_head_get (head, "ORIGIN"), ==, "null");
  g_assert_cmpstr (mgw_http_head_get (head, "Accept-Language"), ==, "en-US,en;q=0.9");
  g_assert_null (mgw_http_head_get (head, "X-Forwarded-For"));
}

static void
test_request_python (void)
{
  g_autoptr(MgwHttpHead) head = assert_request_ok (python_request, "/moip?x=1",
                                                   "qbCqRK/vsW2X6ZUblx1/nw==");

  g_assert_cmpstr (mgw_http_head_get (head, "User-Agent"), ==, "Python/3.11 websockets/10.4");
}

static void
test_request_libsoup (void)
{
  g_autoptr(MgwHttpHead) head = assert_request_ok (libsoup_request, "/moip",
                                                   "Q15pbHGj6pCfuUkW0p4LHw==");

  g_assert_cmpstr (mgw_http_head_get (head, "Sec-WebSocket-Protocol"), ==, "tty, minitel");
  g_assert_true (mgw_http_head_has_token (head, "Sec-WebSocket-Protocol", "minitel"));
  g_assert_true (mgw_http_head_has_token (head, "sec-websocket-protocol", "TTY"));
  g_assert_false (mgw_http_head_has_token (head, "Sec-WebSocket-Protocol", "mini"));
}

static void
test_request_firefox_style (void)
{
  g_autoptr(MgwHttpHead) head = assert_request_ok (firefox_style_request, "/",
                                                   "dGhlIHNhbXBsZSBub25jZQ==");

  g_assert_true (mgw_http_head_has_token (head, "connection", "upgrade"));
}

/* Frames right after the head are not part of it; repeated headers are
 * joined; blanks around values are trimmed. */
static void
test_request_details (void)
{
  static const char text[] =
    "GET /a%20b HTTP/1.1\r\n"
    "host:example.org\r\n"
    "UPGRADE: websocket\r\n"
    "connection: Upgrade\r\n"
    "sec-websocket-version: 13\r\n"
    "sec-websocket-key: \t dGhlIHNhbXBsZSBub25jZQ== \t\r\n"
    "X-Forwarded-For: 192.0.2.1\r\n"
    "X-Forwarded-For: 198.51.100.2, 203.0.113.3\r\n"
    "X-Empty:\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
    "\x81\x85";
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwHttpHead) head = NULL;
  gsize head_len = 0;
  guint status = 0;

  g_assert_cmpint (parse_request (text, sizeof text - 1, &head_len, &head, &status, &error), ==,
                   MGW_HTTP_COMPLETE);
  g_assert_no_error (error);
  g_assert_cmpuint (head_len, ==, sizeof text - 1 - 2);
  g_assert_cmpstr (mgw_http_head_get_target (head), ==, "/a%20b");
  g_assert_cmpstr (mgw_http_head_get (head, "Sec-WebSocket-Key"), ==, "dGhlIHNhbXBsZSBub25jZQ==");
  g_assert_cmpstr (mgw_http_head_get (head, "x-forwarded-for"), ==,
                   "192.0.2.1, 198.51.100.2, 203.0.113.3");
  g_assert_cmpstr (mgw_http_head_get (head, "X-Empty"), ==, "");
}

typedef struct {
  const char *name;
  const char *text;
  guint status;
  gsize len;   /* the text may hold a NUL */
} BadRequest;

#define BAD(name, text, status) { name, text, status, sizeof (text) - 1 }

#define GOOD_FIELDS \
  "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

static const BadRequest bad_requests[] = {
  BAD ("bare-lf", "GET / HTTP/1.1\n" GOOD_FIELDS "\r\n", 400),
  BAD ("bare-lf-end", "GET / HTTP/1.1\r\n" GOOD_FIELDS "\n", 400),
  BAD ("bare-cr", "GET / HTTP/1.1\r\nHost: h\rx\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("nul", "GET / HTTP/1.1\r\nX: a\0b\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("control", "GET / HTTP/1.1\r\nX: a\x1b b\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("del", "GET / HTTP/1.1\r\nX: a\x7f\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("obs-fold", "GET / HTTP/1.1\r\n" GOOD_FIELDS "X: a\r\n b\r\n\r\n", 400),
  BAD ("space-before-colon", "GET / HTTP/1.1\r\nHost : h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 400),
  BAD ("no-colon", "GET / HTTP/1.1\r\n" GOOD_FIELDS "Nonsense\r\n\r\n", 400),
  BAD ("empty-name", "GET / HTTP/1.1\r\n" GOOD_FIELDS ": x\r\n\r\n", 400),
  BAD ("leading-empty-line", "\r\nGET / HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("double-space", "GET  / HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("no-version", "GET /\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("http2", "GET / HTTP/2.0\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("version-garbage", "GET / HTTP/1.1x\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("lowercase-version", "GET / http/1.1\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("http10", "GET / HTTP/1.0\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("target-8bit", "GET /\xe9 HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("no-host", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 400),
  BAD ("two-hosts", "GET / HTTP/1.1\r\nHost: a\r\n" GOOD_FIELDS "\r\n", 400),
  BAD ("body", "GET / HTTP/1.1\r\n" GOOD_FIELDS "Content-Length: 5\r\n\r\n", 400),
  BAD ("chunked", "GET / HTTP/1.1\r\n" GOOD_FIELDS "Transfer-Encoding: chunked\r\n\r\n", 400),
  BAD ("no-key", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\n\r\n", 400),
  BAD ("short-key", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n\r\n", 400),
  BAD ("key-not-base64", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\r\n\r\n", 400),
  BAD ("key-no-padding", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQAA\r\n\r\n", 400),
  BAD ("two-keys", "GET / HTTP/1.1\r\n" GOOD_FIELDS "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 400),
  BAD ("post", "POST / HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 405),
  BAD ("lowercase-get", "get / HTTP/1.1\r\n" GOOD_FIELDS "\r\n", 405),
  BAD ("no-upgrade", "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426),
  BAD ("plain-get", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 426),
  BAD ("upgrade-h2c", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426),
  BAD ("no-connection-upgrade", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426),
  BAD ("version-8", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426),
  BAD ("no-version-header", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426),
};

static void
test_request_invalid (gconstpointer data)
{
  const BadRequest *bad = data;
  g_autoptr(GError) error = NULL;
  MgwHttpHead *head = NULL;
  gsize head_len = 0;
  guint status = 0;

  g_assert_cmpint (parse_request (bad->text, bad->len, &head_len, &head, &status, &error), ==,
                   MGW_HTTP_INVALID);
  g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  g_test_message ("%s: %u %s", bad->name, status, error->message);
  g_assert_cmpuint (status, ==, bad->status);
  g_assert_null (head);
}

/* A byte no head may hold is refused at once, before the head is
 * complete. */
static void
test_request_invalid_early (void)
{
  static const char *texts[] = { "GET / HTTP/1.1\n", "GE\x01", "GET / HTTP/1.1\rX", "\r\n" };
  g_autoptr(GError) error = NULL;
  MgwHttpHead *head = NULL;
  gsize head_len = 0;
  guint status = 0;

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_assert_cmpint (parse_request (texts[i], strlen (texts[i]), &head_len, &head, &status, &error),
                       ==, MGW_HTTP_INVALID);
      g_assert_cmpuint (status, ==, 400);
      g_clear_error (&error);
    }
  /* A CR at the very end may still be followed by its LF. */
  g_assert_cmpint (parse_request ("GET / HTTP/1.1\r", 15, &head_len, &head, &status, &error),
                   ==, MGW_HTTP_INCOMPLETE);
  g_assert_no_error (error);
}

static void
test_request_too_long (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = g_string_new ("GET / HTTP/1.1\r\n" GOOD_FIELDS);
  MgwHttpHead *head = NULL;
  gsize head_len = 0, max;
  guint status = 0;

  g_string_append (text, "X-Pad: ");
  for (guint i = 0; i < 200; i++)
    g_string_append_c (text, 'p');
  g_string_append (text, "\r\n\r\n");
  max = text->len;

  /* Exactly max_head bytes: fine. */
  g_assert_cmpint (mgw_ws_parse_request ((const guint8 *) text->str, text->len, max, &head_len,
                                         &head, &status, &error), ==, MGW_HTTP_COMPLETE);
  g_assert_no_error (error);
  g_clear_pointer (&head, mgw_http_head_free);

  /* One byte less allowed: 431, whether the end is there or not. */
  g_assert_cmpint (mgw_ws_parse_request ((const guint8 *) text->str, text->len, max - 1, &head_len,
                                         &head, &status, &error), ==, MGW_HTTP_INVALID);
  g_assert_cmpuint (status, ==, 431);
  g_assert_null (head);
  g_clear_error (&error);
  g_assert_cmpint (mgw_ws_parse_request ((const guint8 *) text->str, max - 1, max - 1, &head_len,
                                         &head, &status, &error), ==, MGW_HTTP_INVALID);
  g_assert_cmpuint (status, ==, 431);
  g_clear_error (&error);
  /* Under the limit and unfinished: wait. */
  g_assert_cmpint (mgw_ws_parse_request ((const guint8 *) text->str, max - 2, max - 1, &head_len,
                                         &head, &status, &error), ==, MGW_HTTP_INCOMPLETE);
  g_assert_no_error (error);
}

/* --- plain HTTP requests (mgw_http_parse_request) --- */

static MgwHttpHead *
assert_http_ok (const char *text,
                gsize       len,
                gsize       expected_head_len,
                const char *method,
                const char *target)
{
  g_autoptr(GError) error = NULL;
  MgwHttpHead *head = NULL;
  gsize head_len = 0;
  guint status = 0;

  g_assert_cmpint (mgw_http_parse_request ((const guint8 *) text, len, 8192, &head_len, &head,
                                           &status, &error), ==, MGW_HTTP_COMPLETE);
  g_assert_no_error (error);
  g_assert_cmpuint (head_len, ==, expected_head_len);
  g_assert_nonnull (head);
  g_assert_cmpstr (mgw_http_head_get_method (head), ==, method);
  g_assert_cmpstr (mgw_http_head_get_target (head), ==, target);

  /* Every prefix of the head is INCOMPLETE, with no error. */
  for (gsize i = 0; i < expected_head_len; i++)
    {
      MgwHttpHead *none = NULL;

      g_assert_cmpint (mgw_http_parse_request ((const guint8 *) text, i, 8192, &head_len, &none,
                                               &status, &error), ==, MGW_HTTP_INCOMPLETE);
      g_assert_no_error (error);
      g_assert_null (none);
    }
  return head;
}

/* Any method; HTTP/1.0 needs no Host; a body is not part of the head. */
static void
test_http_request_good (void)
{
  /* What Prometheus 2.x sends (captured). */
  static const char prometheus[] =
    "GET /metrics HTTP/1.1\r\n"
    "Host: 127.0.0.1:9002\r\n"
    "User-Agent: Prometheus/2.42.0\r\n"
    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
    "Accept-Encoding: gzip\r\n"
    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n"
    "\r\n";
  static const char post[] =
    "POST /metrics?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  static const char http10[] = "HEAD / HTTP/1.0\r\n\r\n";
  static const char custom[] = "X-MOIP* * HTTP/1.1\r\nhost: h\r\nX: 1\r\nx: 2\r\n\r\n";
  g_autoptr(MgwHttpHead) a = assert_http_ok (prometheus, sizeof prometheus - 1,
                                             sizeof prometheus - 1, "GET", "/metrics");
  g_autoptr(MgwHttpHead) b = assert_http_ok (post, sizeof post - 1, sizeof post - 1 - 5,
                                             "POST", "/metrics?x=1");
  g_autoptr(MgwHttpHead) c = assert_http_ok (http10, sizeof http10 - 1, sizeof http10 - 1,
                                             "HEAD", "/");
  g_autoptr(MgwHttpHead) d = assert_http_ok (custom, sizeof custom - 1, sizeof custom - 1,
                                             "X-MOIP*", "*");

  g_assert_cmpstr (mgw_http_head_get (a, "accept-encoding"), ==, "gzip");
  g_assert_cmpstr (mgw_http_head_get (b, "Content-Length"), ==, "5");
  g_assert_null (mgw_http_head_get (c, "Host"));
  g_assert_cmpstr (mgw_http_head_get (d, "X"), ==, "1, 2");
  /* Not a WebSocket upgrade: the WebSocket parser refuses what this one takes. */
  {
    g_autoptr(GError) error = NULL;
    MgwHttpHead *head = NULL;
    gsize head_len = 0;
    guint status = 0;

    g_assert_cmpint (parse_request (prometheus, sizeof prometheus - 1, &head_len, &head,
                                    &status, &error), ==, MGW_HTTP_INVALID);
    g_assert_cmpuint (status, ==, 426);
    g_assert_null (head);
  }
}

static const BadRequest bad_http_requests[] = {
  BAD ("bare-lf", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400),
  BAD ("nul", "GET / HTTP/1.1\r\nHost: h\0\r\n\r\n", 400),
  BAD ("obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400),
  BAD ("space-before-colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
  BAD ("no-colon", "GET / HTTP/1.1\r\nHost: h\r\nNonsense\r\n\r\n", 400),
  BAD ("leading-empty-line", "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
  BAD ("no-target", "GET HTTP/1.1\r\nHost: h\r\n\r\n", 400),
  BAD ("no-version", "GET /\r\nHost: h\r\n\r\n", 400),
  BAD ("http09", "GET /\r\n\r\n", 400),
  BAD ("http2-preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
  BAD ("method-not-token", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
  BAD ("target-8bit", "GET /\xe9 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
  BAD ("no-host", "GET /metrics HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
  BAD ("two-hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
  BAD ("two-hosts-http10", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
};

static void
test_http_request_invalid (gconstpointer data)
{
  const BadRequest *bad = data;
  g_autoptr(GError) error = NULL;
  MgwHttpHead *head = NULL;
  gsize head_len = 0;
  guint status = 0;

  g_assert_cmpint (mgw_http_parse_request ((const guint8 *) bad->text, bad->len, 8192, &head_len,
                                           &head, &status, &error), ==, MGW_HTTP_INVALID);
  g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  g_test_message ("%s: %u %s", bad->name, status, error->message);
  g_assert_cmpuint (status, ==, bad->status);
  g_assert_null (head);
}

/* Garbage is refused before the head is complete; the head is bounded. */
static void
test_http_request_bounds (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = g_string_new ("GET /metrics HTTP/1.1\r\nHost: h\r\nX-Pad: ");
  MgwHttpHead *head = NULL;
  gsize head_len = 0;
  guint status = 0;

  g_assert_cmpint (mgw_http_parse_request ((const guint8 *) "\x16\x03\x01", 3, 8192, &head_len,
                                           &head, &status, &error), ==, MGW_HTTP_INVALID);
  g_assert_cmpuint (status, ==, 400);  /* a TLS ClientHello, at its first byte */
  g_clear_error (&error);

  for (guint i = 0; i < 100; i++)
    g_string_append_c (text, 'p');
  g_string_append (text, "\r\n\r\n");
  g_assert_cmpint (mgw_http_parse_request ((const guint8 *) text->str, text->len, text->len,
                                           &head_len, &head, &status, &error), ==,
                   MGW_HTTP_COMPLETE);
  g_assert_no_error (error);
  g_clear_pointer (&head, mgw_http_head_free);
  g_assert_cmpint (mgw_http_parse_request ((const guint8 *) text->str, text->len, text->len - 1,
                                           &head_len, &head, &status, &error), ==,
                   MGW_HTTP_INVALID);
  g_assert_cmpuint (status, ==, 431);
  g_assert_null (head);
  g_clear_error (&error);
  g_assert_cmpint (mgw_http_parse_request ((const guint8 *) text->str, text->len - 5,
                                           text->len - 1, &head_len, &head, &status, &error), ==,
                   MGW_HTTP_INCOMPLETE);
  g_assert_no_error (error);
}

static void
test_http_path (void)
{
  static const struct { const char *target; const char *path; } cases[] = {
    { "/metrics", "/metrics" },
    { "/metrics?name[]=x", "/metrics" },
    { "/metrics#top", "/metrics" },
    { "/metrics/", "/metrics/" },
    { "/a%20b?c", "/a%20b" },
    { "http://127.0.0.1:9002/metrics?x", "/metrics" },
    { "HTTP://h", "/" },
    { "http://h?x", "/" },
    { "*", "*" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("OPTIONS %s HTTP/1.1\r\nHost: h\r\n\r\n",
                                               cases[i].target);
      g_autoptr(MgwHttpHead) head = assert_http_ok (text, strlen (text), strlen (text),
                                                    "OPTIONS", cases[i].target);
      g_autofree char *path = mgw_http_head_get_path (head);

      g_assert_cmpstr (path, ==, cases[i].path);
    }
}

static void
test_accept_key (void)
{
  g_autofree char *accept = mgw_ws_accept_key ("dGhlIHNhbXBsZSBub25jZQ==");

  g_assert_cmpstr (accept, ==, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* Captured from python3-websockets 10.4 (server), for the RFC's key. */
static const char python_response[] =
  "HTTP/1.1 101 Switching Protocols\r\n"
  "Upgrade: websocket\r\n"
  "Connection: Upgrade\r\n"
  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
  "Sec-WebSocket-Protocol: tty\r\n"
  "Date: Wed, 25 Nov 2026 18:22:40 GMT\r\n"
  "Server: Python/3.11 websockets/10.4\r\n"
  "\r\n";

static MgwHttpParse
parse_response (const char          *text,
                gsize                len,
                const char * const  *offered,
                char               **protocol,
                GError             **error)
{
  gsize head_len = 0;
  MgwHttpParse result = mgw_ws_parse_response ((const guint8 *) text, len, 4096,
                                               "dGhlIHNhbXBsZSBub25jZQ==", offered,
                                               &head_len, protocol, error);

  if (result == MGW_HTTP_COMPLETE)
    g_assert_cmpuint (head_len, ==, len);
  return result;
}

static void
test_response_good (void)
{
  static const char * const offered[] = { "minitel", "tty", NULL };
  static const char plain[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "upgrade: WebSocket\r\n"
    "connection: upgrade\r\n"
    "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";
  g_autoptr(GError) error = NULL;
  g_autofree char *protocol = NULL;
  gsize len = strlen (python_response);

  g_assert_cmpint (parse_response (python_response, len, offered, &protocol, &error), ==,
                   MGW_HTTP_COMPLETE);
  g_assert_no_error (error);
  g_assert_cmpstr (protocol, ==, "tty");
  g_clear_pointer (&protocol, g_free);

  g_assert_cmpint (parse_response (plain, strlen (plain), NULL, &protocol, &error), ==,
                   MGW_HTTP_COMPLETE);
  g_assert_no_error (error);
  g_assert_null (protocol);

  /* Incomplete: every prefix. */
  for (gsize i = 0; i < len; i++)
    {
      g_assert_cmpint (parse_response (python_response, i, offered, &protocol, &error), ==,
                       MGW_HTTP_INCOMPLETE);
      g_assert_no_error (error);
      g_assert_null (protocol);
    }
}

static void
expect_bad_response (const char         *text,
                     const char * const *offered,
                     const char         *message)
{
  g_autoptr(GError) error = NULL;
  char *protocol = NULL;

  g_assert_cmpint (parse_response (text, strlen (text), offered, &protocol, &error), ==,
                   MGW_HTTP_INVALID);
  g_assert_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  g_assert_cmpstr (error->message, ==, message);
  g_assert_null (protocol);
}

static void
test_response_invalid (void)
{
  static const char * const offered[] = { "minitel", NULL };
  static const char * const tty[] = { "tty", NULL };

  expect_bad_response ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", tty,
                       "server answered 404 Not Found");
  expect_bad_response ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n",
                       tty, "bad Sec-WebSocket-Accept");
  expect_bad_response ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\n\r\n",
                       tty, "bad Sec-WebSocket-Accept");
  expect_bad_response (python_response, offered,
                       "server chose subprotocol \"tty\", not offered");
  expect_bad_response (python_response, NULL,
                       "server chose subprotocol \"tty\", not offered");
  expect_bad_response ("HTTP/1.1 101 Switching Protocols\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                       tty, "server answered 101 without \"Upgrade: websocket\"");
  expect_bad_response ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                       tty, "server answered 101 without \"Connection: upgrade\"");
  expect_bad_response ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                       "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                       tty, "server chose an extension we did not offer");
  expect_bad_response ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                       "Sec-WebSocket-Protocol: tty, tty\r\n\r\n",
                       tty, "server chose subprotocol \"tty, tty\", not offered");
  expect_bad_response ("HTTP/1.1 1010 Switching\r\n\r\n", tty,
                       "malformed HTTP status line \"HTTP/1.1 1010 Switching\"");
  expect_bad_response ("SSH-2.0-OpenSSH_9.2\r\n\r\n", tty,
                       "malformed HTTP status line \"SSH-2.0-OpenSSH_9.2\"");
  expect_bad_response ("HTTP/1.1 101\n\n", tty, "bare LF in the HTTP head");
}

static void
test_server_response (void)
{
  static const char * const tty[] = { "tty", NULL };
  g_autofree char *with = mgw_ws_server_response ("dGhlIHNhbXBsZSBub25jZQ==", "tty");
  g_autofree char *without = mgw_ws_server_response ("dGhlIHNhbXBsZSBub25jZQ==", NULL);
  g_autoptr(GError) error = NULL;
  char *protocol = NULL;

  g_assert_cmpstr (with, ==,
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                   "Sec-WebSocket-Protocol: tty\r\n"
                   "\r\n");
  g_assert_null (strstr (without, "Sec-WebSocket-Protocol"));

  /* Our client accepts what our server answers. */
  g_assert_cmpint (parse_response (with, strlen (with), tty, &protocol, &error), ==,
                   MGW_HTTP_COMPLETE);
  g_assert_cmpstr (protocol, ==, "tty");
  g_free (protocol);
  g_assert_cmpint (parse_response (without, strlen (without), tty, &protocol, &error), ==,
                   MGW_HTTP_COMPLETE);
  g_assert_null (protocol);
}

static void
test_client_request (void)
{
  static const char * const protocols[] = { "tty", "minitel", NULL };
  g_autofree char *key = mgw_ws_client_key_new ();
  g_autofree char *key2 = mgw_ws_client_key_new ();
  g_autofree char *request = NULL;
  g_autofree char *bare = NULL;
  g_autofree guint8 *decoded = NULL;
  g_autoptr(MgwHttpHead) head = NULL;
  g_autoptr(GError) error = NULL;
  gsize decoded_len = 0, head_len = 0;
  guint status = 0;

  g_assert_cmpuint (strlen (key), ==, 24);
  decoded = g_base64_decode (key, &decoded_len);
  g_assert_cmpuint (decoded_len, ==, 16);
  g_assert_cmpstr (key, !=, key2);

  request = mgw_ws_client_request ("videotex.example:8080", "/path?q=1", key, protocols);
  g_assert_true (g_str_has_prefix (request, "GET /path?q=1 HTTP/1.1\r\nHost: videotex.example:8080\r\n"));
  g_assert_nonnull (strstr (request, "\r\nSec-WebSocket-Protocol: tty, minitel\r\n"));
  g_assert_nonnull (strstr (request, "\r\nUser-Agent: moipgw/"));
  g_assert_true (g_str_has_suffix (request, "\r\n\r\n"));

  /* Our server accepts what our client asks. */
  g_assert_cmpint (parse_request (request, strlen (request), &head_len, &head, &status, &error), ==,
                   MGW_HTTP_COMPLETE);
  g_assert_no_error (error);
  g_assert_cmpstr (mgw_http_head_get (head, "Sec-WebSocket-Key"), ==, key);
  g_assert_cmpstr (mgw_http_head_get (head, "Sec-WebSocket-Version"), ==, "13");
  g_clear_pointer (&head, mgw_http_head_free);

  bare = mgw_ws_client_request ("h", "/", key, NULL);
  g_assert_null (strstr (bare, "Sec-WebSocket-Protocol"));
  g_assert_cmpint (parse_request (bare, strlen (bare), &head_len, &head, &status, &error), ==,
                   MGW_HTTP_COMPLETE);
}

static void
test_error_response (void)
{
  static const guint statuses[] = { 400, 403, 404, 405, 426, 431, 503, 599 };

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autofree char *text = mgw_http_error_response (statuses[i]);
      g_autofree char *first = g_strdup_printf ("HTTP/1.1 %u ", statuses[i]);
      const char *body = strstr (text, "\r\n\r\n");
      g_autofree char *length = NULL;

      g_assert_true (g_str_has_prefix (text, first));
      g_assert_nonnull (body);
      body += 4;
      length = g_strdup_printf ("\r\nContent-Length: %zu\r\n", strlen (body));
      g_assert_nonnull (strstr (text, length));
      g_assert_true (g_str_has_prefix (body, first + 9));
      g_assert_nonnull (strstr (text, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
      g_assert_true (strstr (text, "\r\nConnection: close\r\n") != NULL
                     || strstr (text, "\r\nConnection: Upgrade, close\r\n") != NULL);
      g_assert_cmpint (strstr (text, "Sec-WebSocket-Version: 13") != NULL, ==, statuses[i] == 426);
      g_assert_cmpint (strstr (text, "\r\nUpgrade: websocket\r\n") != NULL, ==, statuses[i] == 426);
      g_assert_cmpint (strstr (text, "\r\nAllow: GET\r\n") != NULL, ==, statuses[i] == 405);
    }
  {
    g_autofree char *text = mgw_http_error_response (400);

    g_assert_cmpstr (text, ==,
                     "HTTP/1.1 400 Bad Request\r\n"
                     "Connection: close\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: 16\r\n"
                     "\r\n"
                     "400 Bad Request\n");
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ws-codec/rfc/unmasked-hello", test_rfc_unmasked_hello);
  g_test_add_func ("/ws-codec/rfc/masked-hello", test_rfc_masked_hello);
  g_test_add_func ("/ws-codec/rfc/fragmented", test_rfc_fragmented);
  g_test_add_func ("/ws-codec/rfc/ping-pong", test_rfc_ping_pong);
  g_test_add_func ("/ws-codec/rfc/binary-lengths", test_rfc_binary_lengths);

  g_test_add_func ("/ws-codec/encode/length-boundaries", test_length_boundaries);
  g_test_add_func ("/ws-codec/encode/masked", test_encode_masked);
  g_test_add_func ("/ws-codec/encode/appends", test_encode_appends);
  g_test_add_func ("/ws-codec/encode/close", test_encode_close);
  g_test_add_func ("/ws-codec/encode/round-trip", test_round_trip);

  g_test_add_func ("/ws-codec/split/every-position", test_split_every_position);
  g_test_add_func ("/ws-codec/split/byte-at-a-time", test_split_byte_at_a_time);
  g_test_add_func ("/ws-codec/split/header-twice", test_split_header_twice);
  g_test_add_func ("/ws-codec/split/zero-copy", test_zero_copy);

  g_test_add_func ("/ws-codec/frames/fragments-interleaved", test_fragments_interleaved);
  g_test_add_func ("/ws-codec/frames/empty", test_empty_messages);
  g_test_add_func ("/ws-codec/frames/text-not-utf8-checked", test_text_not_utf8_checked);
  g_test_add_func ("/ws-codec/frames/non-minimal-length", test_non_minimal_length);
  g_test_add_func ("/ws-codec/frames/keystrokes", test_keystrokes);

  g_test_add_func ("/ws-codec/error/mask", test_error_mask);
  g_test_add_func ("/ws-codec/error/rsv", test_error_rsv);
  g_test_add_func ("/ws-codec/error/reserved-opcode", test_error_reserved_opcode);
  g_test_add_func ("/ws-codec/error/control-fragmented", test_error_control_fragmented);
  g_test_add_func ("/ws-codec/error/control-too-long", test_error_control_too_long);
  g_test_add_func ("/ws-codec/error/length-top-bit", test_error_length_top_bit);
  g_test_add_func ("/ws-codec/error/continuation", test_error_continuation);
  g_test_add_func ("/ws-codec/error/too-big", test_error_too_big);
  g_test_add_func ("/ws-codec/error/too-big-from-header", test_error_too_big_from_header);
  g_test_add_func ("/ws-codec/error/close-payload", test_error_close_payload);
  g_test_add_func ("/ws-codec/close/reason-utf8", test_close_reason_utf8);
  g_test_add_func ("/ws-codec/close/finished", test_finished);

  g_test_add_func ("/ws-codec/memory/buffered", test_buffered);
  g_test_add_func ("/ws-codec/memory/bound-byte-by-byte", test_bound_byte_by_byte);
  g_test_add_func ("/ws-codec/memory/set-max-message", test_set_max_message);

  g_test_add_func ("/ws-codec/handshake/accept-key", test_accept_key);
  g_test_add_func ("/ws-codec/handshake/request/chromium", test_request_chromium);
  g_test_add_func ("/ws-codec/handshake/request/python-websockets", test_request_python);
  g_test_add_func ("/ws-codec/handshake/request/libsoup", test_request_libsoup);
  g_test_add_func ("/ws-codec/handshake/request/firefox-style", test_request_firefox_style);
  g_test_add_func ("/ws-codec/handshake/request/details", test_request_details);
  for (guint i = 0; i < G_N_ELEMENTS (bad_requests); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ws-codec/handshake/request/invalid/%s",
                                               bad_requests[i].name);

      g_test_add_data_func (path, &bad_requests[i], test_request_invalid);
    }
  g_test_add_func ("/ws-codec/handshake/request/invalid-early", test_request_invalid_early);
  g_test_add_func ("/ws-codec/handshake/request/too-long", test_request_too_long);
  g_test_add_func ("/ws-codec/http/request/good", test_http_request_good);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_http_requests); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ws-codec/http/request/invalid/%s",
                                               bad_http_requests[i].name);
      g_test_add_data_func (path, &bad_http_requests[i], test_http_request_invalid);
    }
  g_test_add_func ("/ws-codec/http/request/bounds", test_http_request_bounds);
  g_test_add_func ("/ws-codec/http/path", test_http_path);
  g_test_add_func ("/ws-codec/handshake/response/good", test_response_good);
  g_test_add_func ("/ws-codec/handshake/response/invalid", test_response_invalid);
  g_test_add_func ("/ws-codec/handshake/server-response", test_server_response);
  g_test_add_func ("/ws-codec/handshake/client-request", test_client_request);
  g_test_add_func ("/ws-codec/handshake/error-response", test_error_response);

  return g_test_run ();
}
