/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-hostile.c: hostile input, each case a test (issue 8): what a
 * scanner, a broken client or a malicious peer can send on each door of
 * the gateway, and what must happen then: the input is bounded, the
 * connection goes on or is closed cleanly (with the right WebSocket close
 * code), nothing reaches the server that should not, and the gateway
 * keeps serving the next user.
 *
 * Black box: bytes on real sockets (WebSocket frames written by hand,
 * tests/lib's MgwTestRawWs), the gateway's counters, moipgwd's exit
 * status. Nothing here depends on how the WebSocket protocol is
 * implemented inside the gateway. */
#include "config.h"

#include "mgw-gateway.h"
#include "mgw-test-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"
#define S(lit) lit, sizeof lit - 1

typedef struct
{
  MgwTestServer *server;    /* the default server, echoing */
  MgwTestServer *command;   /* the command channel */
  MgwTestServer *target;    /* a redirect target, echoing */
  MgwConfig     *config;
  MgwGateway    *gateway;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->server = mgw_test_server_new (TRUE, NULL);
  f->config = mgw_test_config_new (f->server->uri);
  f->config->connect_timeout = 1;
}

static void
setup_command (Fixture *f, gconstpointer data)
{
  setup (f, data);
  f->command = mgw_test_server_new (FALSE, NULL);
  f->target = mgw_test_server_new (TRUE, "TARGET PAGE");
  f->config->no_command_channel = FALSE;
  g_free (f->config->command_uri);
  f->config->command_uri = g_strdup (f->command->uri);
  f->config->command_retry_ms = 100;
}

static void
start (Fixture *f)
{
  f->gateway = mgw_test_gateway_new (f->config);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->gateway != NULL)
    {
      mgw_gateway_stop (f->gateway, NULL);
      mgw_test_run_for (50);
    }
  g_clear_object (&f->gateway);
  g_clear_pointer (&f->config, mgw_config_unref);
  g_clear_pointer (&f->server, mgw_test_server_free);
  g_clear_pointer (&f->command, mgw_test_server_free);
  g_clear_pointer (&f->target, mgw_test_server_free);
  mgw_test_run_for (20);
}

static const MgwCounters *
counters (Fixture *f)
{
  return mgw_gateway_get_counters (f->gateway);
}

static gboolean
no_sessions (gpointer data)
{
  return mgw_gateway_get_n_sessions (((Fixture *) data)->gateway) == 0;
}

static void
wait_no_sessions (Fixture *f)
{
  mgw_test_wait_until (no_sessions, f, MGW_TEST_TIMEOUT_MS, "every session to end");
}

static MgwTestTcp *
telnet_user (Fixture *f)
{
  MgwTestTcp *tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_telnet_port (f->gateway));
  mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
  return tcp;
}

/* After each attack: a new Telnet user and a new WebSocket user are
 * served, their keys echoed by the server. */
static void
assert_serves_next_user (Fixture *f)
{
  g_autoptr(MgwTestTcp) tcp = telnet_user (f);
  g_autoptr(MgwTestRawWs) ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (f->gateway), NULL);

  mgw_test_tcp_send (tcp, S ("next-telnet"));
  mgw_test_tcp_wait_for (tcp, S ("next-telnet"));
  mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_TEXT, S ("next-ws"), TRUE);
  mgw_test_tcp_wait_for (ws->tcp, S ("next-ws"));
}

/* --- Telnet --- */

/* Thousands of negotiations for every option, and every two-byte
 * command: the answers are bounded (at most one refusal per option and
 * verb, never a loop), nothing of it reaches the server, the session
 * goes on. */
static void
test_telnet_iac_flood (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(GByteArray) flood = g_byte_array_new ();
  MgwTestPeer *peer;
  gsize before;

  start (f);
  tcp = telnet_user (f);
  peer = mgw_test_server_wait_peer (f->server, 0);
  for (guint round = 0; round < 40; round++)
    for (guint opt = 0; opt < 256; opt++)
      {
        guint8 neg[] = { 0xff, 0xfd, opt, 0xff, 0xfb, opt, 0xff, 0xfe, opt, 0xff, 0xfc, opt,
                         0xff, 0xf0 + (opt % 10) };
        /* NOP, DM, BRK, IP, AO, AYT, EC, EL, GA and a stray SE; not SB. */
        g_byte_array_append (flood, neg, sizeof neg);
      }
  before = tcp->received->len;
  for (gsize sent = 0; sent < flood->len; sent += 4096)
    {
      mgw_test_tcp_send (tcp, flood->data + sent, MIN (4096, flood->len - sent));
      mgw_test_run_for (1);
    }
  mgw_test_tcp_send (tcp, S ("after-flood"));
  mgw_test_peer_wait_for (peer, S ("after-flood"));
  mgw_test_tcp_wait_for (tcp, S ("after-flood"));
  /* Only the data reached the server. */
  g_assert_cmpmem (peer->received->data, peer->received->len, "after-flood", 11);
  /* 143 kB in; replies bounded by the options, not by the flood: at most
   * three bytes per (verb, option) pair, plus the echo. */
  g_assert_cmpuint (tcp->received->len - before, <=, 4 * 256 * 3 + 11);
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
  assert_serves_next_user (f);
}

/* IAC SB without IAC SE: the subnegotiation is capped, what follows is
 * data again; the session is not swallowed. */
static void
test_telnet_sb_unterminated (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(GByteArray) junk = g_byte_array_new ();
  MgwTestPeer *peer;

  start (f);
  tcp = telnet_user (f);
  peer = mgw_test_server_wait_peer (f->server, 0);
  g_byte_array_append (junk, (const guint8 *) "\xff\xfa\x18", 3);
  for (guint i = 0; i < 100000; i++)
    g_byte_array_append (junk, (const guint8 *) "s", 1);
  for (gsize sent = 0; sent < junk->len; sent += 8192)
    {
      mgw_test_tcp_send (tcp, junk->data + sent, MIN (8192, junk->len - sent));
      mgw_test_run_for (1);
    }
  mgw_test_tcp_send (tcp, S ("MARK"));
  mgw_test_peer_wait_for (peer, S ("MARK"));
  /* At most the cap (64 bytes) was taken as subnegotiation. */
  g_assert_cmpuint (peer->received->len, >=, 100000 - 64 + 4);
  g_assert_cmpuint (peer->received->len, <=, 100000 + 4);
  g_assert_false (tcp->closed);
  assert_serves_next_user (f);
}

/* 0xFF at every position of a keystroke stream, every stream written a
 * byte at a time: doubled, it is one data byte wherever it falls; alone,
 * it and the byte after it (no telnet command) are dropped. */
static void
test_telnet_ff_every_position (Fixture *f, gconstpointer data)
{
  static const char keys[] = "0123456789";
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  MgwTestPeer *peer;

  start (f);
  tcp = telnet_user (f);
  peer = mgw_test_server_wait_peer (f->server, 0);
  for (gsize i = 0; i <= strlen (keys); i++)
    {
      g_autoptr(GByteArray) stream = g_byte_array_new ();

      g_byte_array_append (stream, (const guint8 *) keys, i);
      g_byte_array_append (stream, (const guint8 *) "\xff\xff", 2);
      g_byte_array_append (stream, (const guint8 *) keys + i, strlen (keys) - i);
      for (guint j = 0; j < stream->len; j++)
        {
          mgw_test_tcp_send (tcp, stream->data + j, 1);
          mgw_test_run_for (1);
        }
      g_byte_array_append (expected, (const guint8 *) keys, i);
      g_byte_array_append (expected, (const guint8 *) "\xff", 1);
      g_byte_array_append (expected, (const guint8 *) keys + i, strlen (keys) - i);
    }
  for (gsize i = 0; i < strlen (keys); i++)
    {
      g_autoptr(GByteArray) stream = g_byte_array_new ();

      g_byte_array_append (stream, (const guint8 *) keys, i);
      g_byte_array_append (stream, (const guint8 *) "\xff", 1);
      g_byte_array_append (stream, (const guint8 *) keys + i, strlen (keys) - i);
      for (guint j = 0; j < stream->len; j++)
        {
          mgw_test_tcp_send (tcp, stream->data + j, 1);
          mgw_test_run_for (1);
        }
      g_byte_array_append (expected, (const guint8 *) keys, i);
      g_byte_array_append (expected, (const guint8 *) keys + i + 1, strlen (keys) - i - 1);
    }
  mgw_test_tcp_send (tcp, S ("END"));
  g_byte_array_append (expected, (const guint8 *) "END", 3);
  mgw_test_peer_wait_for (peer, S ("END"));
  g_assert_cmpmem (peer->received->data, peer->received->len, expected->data, expected->len);
  /* The echo comes back with each 0xFF doubled again. */
  {
    g_autoptr(GByteArray) doubled = g_byte_array_new ();
    for (guint i = 0; i < expected->len; i++)
      {
        g_byte_array_append (doubled, expected->data + i, 1);
        if (expected->data[i] == 0xff)
          g_byte_array_append (doubled, expected->data + i, 1);
      }
    mgw_test_tcp_wait_for (tcp, doubled->data, doubled->len);
  }
}

/* NUL bytes are data (videotex is binary, no CR NUL rule), both ways. */
static void
test_telnet_nul (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  MgwTestPeer *peer;

  start (f);
  tcp = telnet_user (f);
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_tcp_send (tcp, S ("\0a\0\0b\r\0c\0"));
  mgw_test_peer_wait_for (peer, S ("\0a\0\0b\r\0c\0"));
  g_assert_cmpuint (peer->received->len, ==, 9);
  mgw_test_tcp_wait_for (tcp, S ("\0a\0\0b\r\0c\0"));
}

/* --- WebSocket frames --- */

/* Waits for `needle` in what the hand-made client received (frames and
 * all: the tests use ASCII needles that no frame header splits). */
static void
ws_wait_for (MgwTestRawWs *ws, const void *needle, gsize len)
{
  mgw_test_tcp_wait_for (ws->tcp, needle, len);
}

typedef struct
{
  const char *name;
  guint8      first;
  const char *payload;
  gsize       len;
  gboolean    masked;
} BadFrame;

/* Frames no client may send: the gateway fails the connection with 1002
 * (protocol error), the server is told nothing of them. */
static void
test_ws_protocol_errors (Fixture *f, gconstpointer data)
{
  static const BadFrame frames[] = {
    { "unmasked", MGW_WS_FIN | MGW_WS_OP_TEXT, S ("abc"), FALSE },
    { "rsv1", MGW_WS_FIN | 0x40 | MGW_WS_OP_TEXT, S ("abc"), TRUE },
    { "rsv3", MGW_WS_FIN | 0x10 | MGW_WS_OP_BINARY, S ("abc"), TRUE },
    { "opcode-3", MGW_WS_FIN | 0x3, S ("abc"), TRUE },
    { "opcode-b", MGW_WS_FIN | 0xb, S ("abc"), TRUE },
    { "continuation-first", MGW_WS_FIN | MGW_WS_OP_CONT, S ("abc"), TRUE },
    { "fragmented-ping", MGW_WS_OP_PING, S ("abc"), TRUE },
    { "long-ping", MGW_WS_FIN | MGW_WS_OP_PING,
      "0123456789012345678901234567890123456789012345678901234567890123"
      "012345678901234567890123456789012345678901234567890123456789012", 127, TRUE },
    { "close-one-byte", MGW_WS_FIN | MGW_WS_OP_CLOSE, S ("\x03"), TRUE },
    { "close-999", MGW_WS_FIN | MGW_WS_OP_CLOSE, S ("\x03\xe7"), TRUE },
    { "close-1004", MGW_WS_FIN | MGW_WS_OP_CLOSE, S ("\x03\xec"), TRUE },
    { "close-1005", MGW_WS_FIN | MGW_WS_OP_CLOSE, S ("\x03\xed"), TRUE },
    { "close-1006", MGW_WS_FIN | MGW_WS_OP_CLOSE, S ("\x03\xee"), TRUE },
    { "close-1015", MGW_WS_FIN | MGW_WS_OP_CLOSE, S ("\x03\xf7"), TRUE },
    { "close-2999", MGW_WS_FIN | MGW_WS_OP_CLOSE, S ("\x0b\xb7"), TRUE },
    { "close-5000", MGW_WS_FIN | MGW_WS_OP_CLOSE, S ("\x13\x88"), TRUE },
  };
  const BadFrame *bad = NULL;
  g_autoptr(MgwTestRawWs) ws = NULL;
  MgwTestPeer *peer;
  guint code;

  for (gsize i = 0; i < G_N_ELEMENTS (frames); i++)
    if (g_str_equal (frames[i].name, data))
      bad = &frames[i];
  g_assert_nonnull (bad);
  start (f);
  ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (f->gateway), NULL);
  ws_wait_for (ws, S (STATUS ("CONNECT")));
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_raw_ws_send (ws, bad->first, bad->payload, bad->len, bad->masked);
  code = mgw_test_raw_ws_wait_close (ws, NULL);
  g_assert_cmpuint (code, ==, 1002);
  mgw_test_peer_wait_closed (peer);
  g_assert_false (mgw_test_bytes_contain (peer->received, S ("abc")));
  wait_no_sessions (f);
  assert_serves_next_user (f);
}

/* A message with a fragment of another message inside it. */
static void
test_ws_interleaved_messages (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestRawWs) ws = NULL;

  start (f);
  ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (f->gateway), NULL);
  ws_wait_for (ws, S (STATUS ("CONNECT")));
  mgw_test_raw_ws_send (ws, MGW_WS_OP_TEXT, S ("first"), TRUE);
  mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_BINARY, S ("second"), TRUE);
  g_assert_cmpuint (mgw_test_raw_ws_wait_close (ws, NULL), ==, 1002);
  assert_serves_next_user (f);
}

/* Closing codes a client may use: the gateway answers the close, the
 * session ends as a user leaving (not an error). */
static void
test_ws_close_good_codes (Fixture *f, gconstpointer data)
{
  static const char *codes[] = { "\x03\xe8", "\x03\xe9", "\x0b\xb8" "bye", "\x13\x87" };

  start (f);
  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autoptr(MgwTestRawWs) ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (f->gateway),
                                                            NULL);
      guint code;

      ws_wait_for (ws, S (STATUS ("CONNECT")));
      mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_CLOSE, codes[i], strlen (codes[i]), TRUE);
      code = mgw_test_raw_ws_wait_close (ws, NULL);
      /* The echo of the code, or 1000. */
      g_assert_true (code == 1000 || code == (guint) ((guint8) codes[i][0] << 8 | (guint8) codes[i][1]));
    }
  wait_no_sessions (f);
  g_assert_cmpuint (counters (f)->bad_input, ==, 0);
}

/* Messages beyond [websocket] max-message-size: closed with 1009, in one
 * frame, in fragments, or announced by a length field alone. A message of
 * exactly the maximum goes through. */
static void
test_ws_oversized (Fixture *f, gconstpointer data)
{
  const char *how = data;
  g_autoptr(MgwTestRawWs) ws = NULL;
  g_autofree char *big = g_malloc (4096);
  MgwTestPeer *peer;
  guint code;

  memset (big, 'x', 4096);
  f->config->ws_max_message = 1000;
  start (f);
  ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (f->gateway), NULL);
  ws_wait_for (ws, S (STATUS ("CONNECT")));
  peer = mgw_test_server_wait_peer (f->server, 0);

  /* Exactly the maximum is fine. */
  mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_BINARY, big, 1000, TRUE);
  mgw_test_peer_wait_for (peer, big, 1000);

  if (g_str_equal (how, "one-frame"))
    mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_BINARY, big, 1001, TRUE);
  else if (g_str_equal (how, "fragments"))
    {
      mgw_test_raw_ws_send (ws, MGW_WS_OP_BINARY, big, 400, TRUE);
      mgw_test_raw_ws_send (ws, MGW_WS_OP_CONT, big, 400, TRUE);
      mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_CONT, big, 400, TRUE);
    }
  else
    {
      /* A frame header claiming 2^62 bytes, and nothing after it: the
       * gateway must not wait for (or allocate) the payload. */
      static const guint8 head[] = { 0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
      mgw_test_tcp_send (ws->tcp, head, sizeof head);
    }
  code = mgw_test_raw_ws_wait_close (ws, NULL);
  /* Held to the maximum as a whole message, not frame by frame. */
  g_assert_cmpuint (peer->received->len, ==, 1000);
  g_assert_cmpuint (code, ==, 1009);
  wait_no_sessions (f);
  assert_serves_next_user (f);
}

/* Text frames: a code point above U+00FF, or bytes that are not UTF-8,
 * drop that frame, counted, and the session goes on (a videotex user is
 * better served by a lost key than by a lost session); U+0000 is a
 * character like any other. */
static void
test_ws_text_content (Fixture *f, gconstpointer data)
{
  static const char *dropped[] = {
    "Q\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3\x28", "\xc0\x80", "\xed\xa0\x80",
    "\xf5\x80\x80\x80", "abc\xff", "\xe2\x82",
  };
  g_autoptr(MgwTestRawWs) ws = NULL;
  MgwTestPeer *peer;

  start (f);
  ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (f->gateway), NULL);
  ws_wait_for (ws, S (STATUS ("CONNECT")));
  peer = mgw_test_server_wait_peer (f->server, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (dropped); i++)
    mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_TEXT, dropped[i], strlen (dropped[i]), TRUE);
  mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_TEXT, S ("\x00\xc3\xa9t\xc3\xa9"), TRUE);
  mgw_test_peer_wait_for (peer, S ("\x00\xe9t\xe9"));
  g_assert_cmpmem (peer->received->data, peer->received->len, "\x00\xe9t\xe9", 4);
  g_assert_cmpuint (counters (f)->bad_input, ==, G_N_ELEMENTS (dropped));
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
  ws_wait_for (ws, S ("\x00\xc3\xa9t\xc3\xa9"));   /* the echo, as UTF-8 */
  g_assert_false (ws->tcp->closed);
  assert_serves_next_user (f);
}

/* A message in fragments, a ping between them, a character split across
 * two fragments: one message upstream, the ping answered at once. */
static void
test_ws_fragmented (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestRawWs) ws = NULL;
  g_autoptr(GByteArray) payload = g_byte_array_new ();
  MgwTestPeer *peer;
  guint8 opcode;
  gboolean pong = FALSE;

  start (f);
  ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (f->gateway), NULL);
  ws_wait_for (ws, S (STATUS ("CONNECT")));
  peer = mgw_test_server_wait_peer (f->server, 0);
  mgw_test_raw_ws_send (ws, MGW_WS_OP_TEXT, S ("h\xc3"), TRUE);
  mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_PING, S ("between"), TRUE);
  mgw_test_raw_ws_send (ws, MGW_WS_OP_CONT, S ("\xa9llo "), TRUE);
  mgw_test_raw_ws_send (ws, MGW_WS_OP_CONT, "", 0, TRUE);
  mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_CONT, S ("w\xc3\xb6rld"), TRUE);
  mgw_test_server_wait_frame (f->server, "h\xe9llo w\xf6rld");
  g_assert_cmpuint (peer->frames->len, ==, 1);
  /* Binary, in two fragments. */
  mgw_test_raw_ws_send (ws, MGW_WS_OP_BINARY, S ("\x01\x02"), TRUE);
  mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_CONT, S ("\xff"), TRUE);
  mgw_test_server_wait_frame (f->server, "\x01\x02\xff");
  while (!pong && mgw_test_raw_ws_next_frame (ws, &opcode, payload))
    if (opcode == MGW_WS_OP_PONG)
      {
        g_assert_cmpmem (payload->data, payload->len, "between", 7);
        pong = TRUE;
      }
  g_assert_true (pong);
  g_assert_cmpuint (counters (f)->bad_input, ==, 0);
}

/* Ten thousand pings from a client that reads: answered (a pong for the
 * last one at least, each pong the payload of a ping), the session
 * goes on. */
static void
test_ws_ping_flood (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestRawWs) ws = NULL;
  g_autoptr(GByteArray) payload = g_byte_array_new ();
  char ping[125];
  guint8 opcode;
  guint pongs = 0;
  gboolean last = FALSE;

  start (f);
  ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (f->gateway), NULL);
  ws_wait_for (ws, S (STATUS ("CONNECT")));
  memset (ping, 'p', sizeof ping);
  for (guint i = 0; i < 10000; i++)
    {
      g_snprintf (ping, 8, "%07u", i);
      mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_PING, ping, sizeof ping, TRUE);
      if (i % 100 == 0)
        g_main_context_iteration (NULL, FALSE);
    }
  mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_TEXT, S ("alive"), TRUE);
  while (!last && mgw_test_raw_ws_next_frame (ws, &opcode, payload))
    if (opcode == MGW_WS_OP_PONG)
      {
        g_assert_cmpuint (payload->len, ==, sizeof ping);
        pongs++;
        last = memcmp (payload->data, "0009999", 7) == 0;
      }
  g_assert_true (last);
  g_assert_cmpuint (pongs, <=, 10000);
  ws_wait_for (ws, S ("alive"));
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 1);
}

/* Pings from a client that never reads: the answers cannot pile up
 * without end; once it has taken nothing for [session] stall-timeout
 * the client is dropped. */
static void
test_ws_ping_flood_not_reading (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestRawWs) ws = NULL;
  char ping[125];
  gint64 begin;

  f->config->ws_ping_interval = 1;
  f->config->ws_ping_timeout = 1;
  f->config->queue_limit = 4096;
  f->config->stall_timeout = 1;
  start (f);
  ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (f->gateway), NULL);
  ws_wait_for (ws, S (STATUS ("CONNECT")));
  mgw_test_tcp_pause (ws->tcp, TRUE);
  /* A small receive window: the gateway's writes stop soon. */
  g_socket_set_option (ws->tcp->socket, SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  memset (ping, 'p', sizeof ping);
  begin = g_get_monotonic_time ();
  while (mgw_gateway_get_n_sessions (f->gateway) > 0)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GByteArray) frame = g_byte_array_new ();

      if (g_get_monotonic_time () - begin > 15 * G_USEC_PER_SEC)
        g_error ("a client that never reads, pinging, still connected after 15 s");
      for (guint i = 0; i < 500; i++)
        mgw_test_ws_frame_encode (frame, MGW_WS_FIN | MGW_WS_OP_PING, ping, sizeof ping, TRUE);
      /* Our own socket fills too: what does not fit is not sent. */
      g_socket_send (ws->tcp->socket, (const char *) frame->data, frame->len, NULL, &error);
      mgw_test_run_for (10);
    }
  g_test_message ("dropped after %.1f s", (g_get_monotonic_time () - begin) / 1e6);
  g_assert_cmpint (g_get_monotonic_time () - begin, >=, 1 * G_USEC_PER_SEC);
  assert_serves_next_user (f);
}

/* --- HTTP upgrade requests --- */

static gboolean
tcp_closed (gpointer data)
{
  return ((MgwTestTcp *) data)->closed;
}

/* Requests that are no WebSocket upgrade: an HTTP 4xx answer (or none
 * for what is not HTTP at all), the connection closed within the
 * handshake deadline, no session, and the listener goes on. */
static void
test_http_bad_request (Fixture *f, gconstpointer data)
{
  static const struct { const char *name; const char *request; gboolean answer; } cases[] = {
    { "no-upgrade", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", TRUE },
    { "no-key", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n", TRUE },
    { "bad-version", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n", TRUE },
    { "post", "POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Content-Length: 0\r\n\r\n", TRUE },
    { "no-colon", "GET / HTTP/1.1\r\nHost x\r\nUpgrade websocket\r\n\r\n", FALSE },
    { "binary", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", FALSE },
    { "nul", "GET /\0 HTTP/1.1\r\nHost: \0x\r\n\r\n", FALSE },
    { "http-0.9", "GET /\r\n\r\n", FALSE },
    { "bad-version-line", "GET / HTTP/9.9\r\nHost: x\r\n\r\n", FALSE },
  };
  gint64 begin;

  start (f);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1",
                                                        mgw_gateway_get_ws_port (f->gateway));
      gsize len = strlen (cases[i].request);

      if (g_str_equal (cases[i].name, "nul"))
        len = sizeof "GET /\0 HTTP/1.1\r\nHost: \0x\r\n\r\n" - 1;
      begin = g_get_monotonic_time ();
      mgw_test_tcp_send (tcp, cases[i].request, len);
      mgw_test_wait_until (tcp_closed, tcp, 3000, cases[i].name);
      /* Within the deadline (1 s here), not later. */
      g_assert_cmpint (g_get_monotonic_time () - begin, <, 2 * G_USEC_PER_SEC);
      if (tcp->received->len >= 9 && memcmp (tcp->received->data, "HTTP/1.1 ", 9) == 0)
        {
          if (tcp->received->data[9] != '4')
            g_error ("%s: answered %.12s", cases[i].name, tcp->received->data);
        }
      else if (cases[i].answer)
        g_error ("%s: no HTTP 4xx answer", cases[i].name);
      g_assert_false (mgw_test_bytes_contain (tcp->received, S ("101")));
    }
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 0);
  g_assert_cmpuint (counters (f)->sessions_total[MGW_ACCESS_WS], ==, 0);
  assert_serves_next_user (f);
}

/* A request head of 256 KiB: refused (431, 400 or closed), promptly, no
 * session. */
static void
test_http_huge_head (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) tcp = NULL;
  g_autoptr(GString) head = g_string_new ("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                          "Connection: Upgrade\r\n"
                                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                          "Sec-WebSocket-Version: 13\r\n");
  gint64 begin;

  f->config->connect_timeout = 3;
  start (f);
  while (head->len < 256 * 1024)
    g_string_append_printf (head, "X-Junk-%u: %0200u\r\n", (guint) head->len, 0);
  g_string_append (head, "\r\n");
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_ws_port (f->gateway));
  begin = g_get_monotonic_time ();
  for (gsize sent = 0; sent < head->len && !tcp->closed;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (tcp->socket, head->str + sent, head->len - sent, NULL, &error);
      if (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (n > 0)
        sent += n;
      g_main_context_iteration (NULL, FALSE);
    }
  mgw_test_wait_until (tcp_closed, tcp, MGW_TEST_TIMEOUT_MS, "the huge head to be refused");
  /* Refused as soon as it is too big, not at the handshake deadline. */
  g_assert_cmpint (g_get_monotonic_time () - begin, <, 2 * G_USEC_PER_SEC);
  g_assert_false (mgw_test_bytes_contain (tcp->received, S ("HTTP/1.1 101")));
  if (tcp->received->len > 0)
    g_assert_cmpmem (tcp->received->data, 10, "HTTP/1.1 4", 10);
  g_assert_cmpuint (counters (f)->sessions_total[MGW_ACCESS_WS], ==, 0);
  assert_serves_next_user (f);
}

/* A client that sends a byte of its request every 100 ms (slowloris) is
 * closed at the handshake deadline all the same: the deadline is for the
 * whole upgrade, not for silence. */
static void
test_http_slowloris (Fixture *f, gconstpointer data)
{
  static const char request[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  g_autoptr(MgwTestTcp) tcp = NULL;
  gint64 begin;

  start (f);
  tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_gateway_get_ws_port (f->gateway));
  begin = g_get_monotonic_time ();
  for (gsize i = 0; i < sizeof request - 1 && !tcp->closed; i++)
    {
      g_autoptr(GError) error = NULL;
      g_socket_send (tcp->socket, request + i, 1, NULL, &error);
      mgw_test_run_for (100);
    }
  g_assert_true (tcp->closed);
  g_assert_cmpint (g_get_monotonic_time () - begin, <, 2500 * 1000);
  g_assert_cmpuint (counters (f)->sessions_total[MGW_ACCESS_WS], ==, 0);
}

/* --- connections that never become sessions --- */

/* A TCP connection to 127.0.0.1:port from `source` (any 127.0.0.x),
 * its connect under way (non-blocking); -1 when the kernel has no room. */
static int
connect_from (const char *source,
              guint16     port)
{
  struct sockaddr_in from = { .sin_family = AF_INET };
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = g_htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  inet_pton (AF_INET, source, &from.sin_addr);
  inet_pton (AF_INET, "127.0.0.1", &to.sin_addr);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &from, sizeof from), ==, 0);
  if (connect (fd, (struct sockaddr *) &to, sizeof to) < 0 && errno != EINPROGRESS)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static guint
open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

typedef struct
{
  Fixture *f;
  guint64  refused;
} Refused;

static gboolean
tables_empty (gpointer data)
{
  return mgw_gateway_get_address_table_size (data) == 0;
}

static gboolean
refused_reached (gpointer data)
{
  Refused *r = data;
  return counters (r->f)->refused_pending >= r->refused;
}

/* One address opens 2,000 WebSocket connections and never sends its
 * upgrade (the 19,950 of issue 18): at most max-pending-per-address are
 * kept, the others are closed at accept, so the gateway holds a handful
 * of descriptors, not thousands; another address (127.0.0.2) is served
 * at once meanwhile, and a Telnet user of the first one too (Telnet has
 * no upgrade to wait for). 127.0.0.1 is local: never banned. */
static void
test_pending_flood (Fixture *f, gconstpointer data)
{
  guint n = 2000, max = 8;
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  struct rlimit limit;
  guint before;
  Refused r = { f, 0 };
  int fd;
  char buf[512];
  g_autoptr(GString) answer = g_string_new (NULL);
  static const char request[] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\n\r\n";
  gint64 begin;
  gboolean sent = FALSE;

  /* Each connection costs the test one descriptor (the gateway's side
   * is closed at once): room for them. */
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  if (limit.rlim_cur < n + 512 && limit.rlim_max >= n + 512)
    {
      limit.rlim_cur = n + 512;
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
    }
  if (limit.rlim_cur < n + 512)
    n = limit.rlim_cur > 768 ? (guint) limit.rlim_cur - 512 : 256;
  f->config->max_pending_per_address = max;
  f->config->connect_timeout = 30;   /* they stay pending for the whole test */
  start (f);
  before = open_fds ();

  /* In batches: the listener's backlog stays short. */
  for (guint i = 0; i < n; i += 100)
    {
      for (guint k = i; k < MIN (n, i + 100); k++)
        {
          fd = connect_from ("127.0.0.1", mgw_gateway_get_ws_port (f->gateway));
          g_assert_cmpint (fd, >=, 0);
          g_array_append_val (fds, fd);
        }
      r.refused = MIN (n, i + 100) - max;
      mgw_test_wait_until (refused_reached, &r, MGW_TEST_TIMEOUT_MS, "the pending cap");
    }
  g_assert_cmpuint (counters (f)->refused_pending, ==, n - max);
  /* The test's own descriptors, and max of the gateway's; one entry by
   * address (127.0.0.1's pending count: loopback has no rate bucket). */
  g_assert_cmpuint (open_fds (), <=, before + n + max + 16);
  g_assert_cmpuint (mgw_gateway_get_address_table_size (f->gateway), ==, 1);

  /* Another address, at once. */
  begin = g_get_monotonic_time ();
  fd = connect_from ("127.0.0.2", mgw_gateway_get_ws_port (f->gateway));
  g_assert_cmpint (fd, >=, 0);
  while (g_strstr_len (answer->str, answer->len, "\r\n\r\n") == NULL)
    {
      gssize got;

      g_main_context_iteration (NULL, FALSE);
      /* Once connected (before: ENOTCONN or EAGAIN). */
      if (!sent)
        sent = send (fd, request, sizeof request - 1, MSG_NOSIGNAL) == sizeof request - 1;
      got = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
      if (got > 0)
        g_string_append_len (answer, buf, got);
      g_assert_cmpint (got, !=, 0);
      g_assert_cmpint (g_get_monotonic_time () - begin, <, 2 * G_USEC_PER_SEC);
    }
  g_assert_true (g_str_has_prefix (answer->str, "HTTP/1.1 101"));
  close (fd);
  /* Telnet users of the same address: not pending, served. */
  {
    g_autoptr(MgwTestTcp) tcp = telnet_user (f);
    mgw_test_tcp_send (tcp, S ("next-telnet"));
    mgw_test_tcp_wait_for (tcp, S ("next-telnet"));
  }
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  /* Everyone gone: no entry left. */
  mgw_test_wait_until (tables_empty, f->gateway, MGW_TEST_TIMEOUT_MS, "the tables to empty");
}

/* --- PROXY headers (Telnet, 127.0.0.1 a trusted proxy) --- */

/* Truncated, oversized, and garbage PROXY headers from a trusted proxy:
 * the connection is closed and counted, no session starts, no address
 * from the header is believed. */
static void
test_proxy_bad_headers (Fixture *f, gconstpointer data)
{
  static const guint8 v2_sig[] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
                                   0x54, 0x0a };
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  guint64 refused = 0;

  g_ptr_array_add (cases, g_bytes_new_static (S ("PROXY TCP4 203.0.113.1 ")));   /* truncated */
  g_ptr_array_add (cases, g_bytes_new_static (S ("PROXY TCP4 203.0.113.1 192.0.2.1 1 2")));
  g_ptr_array_add (cases, g_bytes_new (v2_sig, 8));                              /* half a signature */
  g_byte_array_append (buf, v2_sig, sizeof v2_sig);
  g_byte_array_append (buf, (const guint8 *) "\x21\x11\x00\x0c\xcb\x00", 6);     /* truncated block */
  g_ptr_array_add (cases, g_bytes_new (buf->data, buf->len));
  g_byte_array_set_size (buf, 0);
  g_byte_array_append (buf, v2_sig, sizeof v2_sig);
  g_byte_array_append (buf, (const guint8 *) "\x21\x11\xff\xff", 4);             /* 65535 bytes announced */
  for (guint i = 0; i < 2000; i++)
    g_byte_array_append (buf, (const guint8 *) "\x01", 1);
  g_ptr_array_add (cases, g_bytes_new (buf->data, buf->len));
  {
    g_autoptr(GString) v1 = g_string_new ("PROXY TCP4 ");
    while (v1->len < 4000)
      g_string_append (v1, "203.0.113.1 ");
    g_string_append (v1, "\r\n");
    g_ptr_array_add (cases, g_bytes_new (v1->str, v1->len));                   /* oversized v1 */
  }
  g_ptr_array_add (cases, g_bytes_new_static (S ("PROXY TCP4 203.0.113.1 192.0.2.1 1 2\n")));
  g_ptr_array_add (cases, g_bytes_new_static (S ("PROXY \0CP4 203.0.113.1 192.0.2.1 1 2\r\n")));

  f->config->trusted_proxies = g_strsplit ("127.0.0.1", ";", -1);
  f->config->proxy_timeout_ms = 300;
  start (f);
  for (guint i = 0; i < cases->len; i++)
    {
      g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1",
                                                        mgw_gateway_get_telnet_port (f->gateway));
      gsize len;
      const guint8 *p = g_bytes_get_data (cases->pdata[i], &len);
      gint64 begin = g_get_monotonic_time ();

      mgw_test_tcp_send (tcp, p, len);
      mgw_test_wait_until (tcp_closed, tcp, 2000, "the bad PROXY header to be refused");
      g_assert_cmpint (g_get_monotonic_time () - begin, <, G_USEC_PER_SEC);
      if (tcp->received->len != 0)
        g_error ("PROXY case %u: the user was greeted", i);
      if (counters (f)->proxy_refused != ++refused)
        g_error ("PROXY case %u: not counted as refused", i);
    }
  g_assert_cmpuint (counters (f)->sessions_total[MGW_ACCESS_TELNET], ==, 0);
  g_assert_cmpuint (f->server->peers->len, ==, 0);
  assert_serves_next_user (f);
}

/* A PROXY header (v1 or v2) from a peer that is not trusted ends the
 * session, counted; the server is not told the header's address. */
static void
test_proxy_untrusted (Fixture *f, gconstpointer data)
{
  static const guint8 v2[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
    0x21, 0x11, 0x00, 0x0c, 203, 0, 113, 42, 192, 0, 2, 1, 0x1f, 0x90, 0x23, 0x28,
  };
  static const char v1[] = "PROXY TCP4 203.0.113.1 192.0.2.1 1 2\r\n";

  start (f);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1",
                                                        mgw_gateway_get_telnet_port (f->gateway));
      if (i == 0)
        mgw_test_tcp_send (tcp, v1, sizeof v1 - 1);
      else
        mgw_test_tcp_send (tcp, v2, sizeof v2);
      mgw_test_tcp_wait_closed (tcp);
      if (counters (f)->proxy_refused != i + 1)
        g_error ("PROXY v%u from an untrusted peer not refused", i + 1);
    }
  wait_no_sessions (f);
  for (guint i = 0; i < f->server->peers->len; i++)
    g_assert_false (mgw_test_bytes_contain (((MgwTestPeer *) f->server->peers->pdata[i])->received,
                                            S ("203.0.113")));
  assert_serves_next_user (f);
}

/* What a user may type first is not a PROXY header: every strict
 * prefix of a header start ("P", "PROXY TCP", half the v2 signature,
 * Enter), sent as the first bytes or later, alone or a byte at a time,
 * reaches the server and the session goes on. A whole header split in
 * single bytes is still refused. */
static void
test_proxy_prefixes (Fixture *f, gconstpointer data)
{
  static const char *const starts[] = { "PROXY TCP4 ", "PROXY TCP6 ", "PROXY UNKNOWN",
                                        "\r\n\r\n\0\r\nQUIT\n" };
  static const char *const enters[] = { "\r", "\r\n", "\r\0" };
  static const char v1[] = "PROXY TCP4 203.0.113.1 192.0.2.1 1 2\r\n";
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint served = 0;

  for (guint i = 0; i < G_N_ELEMENTS (starts); i++)
    {
      gsize full = i == 3 ? 12 : strlen (starts[i]);
      for (gsize n = 1; n < full; n++)
        if (i == 0 || n > 7)   /* the shared "PROXY T" once */
          g_ptr_array_add (cases, g_bytes_new (starts[i], n));
    }
  for (guint i = 0; i < G_N_ELEMENTS (enters); i++)
    g_ptr_array_add (cases, g_bytes_new (enters[i], i == 0 ? 1 : 2));

  start (f);
  for (guint i = 0; i < cases->len; i++)
    for (guint mode = 0; mode < 3; mode++)   /* at once, after the greeting, a byte at a time */
      {
        g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1",
                                                          mgw_gateway_get_telnet_port (f->gateway));
        g_autoptr(GByteArray) expected = g_byte_array_new ();
        gsize len;
        const guint8 *p = g_bytes_get_data (cases->pdata[i], &len);
        MgwTestPeer *peer;

        if (mode == 1)
          mgw_test_tcp_wait_for (tcp, S (STATUS ("CONNECT")));
        if (mode == 2)
          for (gsize k = 0; k < len; k++)
            {
              mgw_test_tcp_send (tcp, p + k, 1);
              mgw_test_run_for (5);
            }
        else
          mgw_test_tcp_send (tcp, p, len);
        mgw_test_tcp_send (tcp, S ("-key"));
        g_byte_array_append (expected, p, len);
        g_byte_array_append (expected, (const guint8 *) "-key", 4);
        peer = mgw_test_server_wait_peer (f->server, served++);
        mgw_test_peer_wait_for (peer, expected->data, expected->len);
        mgw_test_tcp_wait_for (tcp, S ("-key"));
      }
  g_assert_cmpuint (counters (f)->proxy_refused, ==, 0);

  /* A whole header, a byte at a time, from the start: refused. */
  {
    g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1",
                                                      mgw_gateway_get_telnet_port (f->gateway));
    for (gsize k = 0; k < strlen ("PROXY TCP4 "); k++)   /* refused there */
      {
        mgw_test_tcp_send (tcp, v1 + k, 1);
        mgw_test_run_for (2);
      }
    mgw_test_tcp_wait_closed (tcp);
    g_assert_cmpuint (counters (f)->proxy_refused, ==, 1);
  }
  /* After other keys, the same text is the user's: relayed. */
  {
    g_autoptr(MgwTestTcp) tcp = telnet_user (f);

    mgw_test_tcp_send (tcp, S ("x"));
    mgw_test_tcp_send (tcp, v1, sizeof v1 - 1);
    /* Echoed: the server had it. */
    mgw_test_tcp_wait_for (tcp, S ("x" "PROXY TCP4 203.0.113.1"));
    g_assert_cmpuint (counters (f)->proxy_refused, ==, 1);
  }
  assert_serves_next_user (f);
}

/* --- the command channel --- */

static gboolean
command_up (gpointer data)
{
  Fixture *f = data;
  MgwCommandLink *link = mgw_gateway_get_command_link (f->gateway);
  return link != NULL && mgw_command_link_get_connected (link);
}

static void
send_command (Fixture *f, SoupWebsocketDataType type, const void *line, gsize len)
{
  MgwTestPeer *peer = mgw_test_server_open_peer (f->command);

  g_assert_nonnull (peer);
  mgw_test_peer_send (peer, type, line, len);
}

static void
redirect (Fixture *f, guint id)
{
  g_autofree char *line = g_strdup_printf ("PID=%u,7,CONNECT,%s,None,[]", id, f->target->uri);

  send_command (f, SOUP_WEBSOCKET_DATA_TEXT, line, strlen (line));
  mgw_test_wait_session_state (f->gateway, id, MGW_SESSION_REDIRECTED, MGW_TEST_TIMEOUT_MS);
}

static gboolean
session_0_gone (gpointer data)
{
  return mgw_gateway_lookup_session (((Fixture *) data)->gateway, 0) == NULL;
}

/* Lines with thousands of fields, NULs, binary junk, unknown ids, the id
 * of a session that ended, a frame far beyond any line: each logged and
 * ignored (or the channel reopened), other sessions untouched, the
 * channel usable after. */
static void
test_command_junk (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) gone = NULL;
  g_autoptr(MgwTestTcp) redirected = NULL;
  g_autoptr(MgwTestTcp) waiting = NULL;
  g_autoptr(GString) line = g_string_new (NULL);
  g_autofree char *huge = NULL;
  g_autofree char *gone_line = NULL;
  guint8 binary[256];
  guint64 bad_before;
  MgwTestPeer *target;

  start (f);
  mgw_test_wait_until (command_up, f, MGW_TEST_TIMEOUT_MS, "the command channel");
  gone = telnet_user (f);           /* session 0 */
  redirected = telnet_user (f);     /* session 1 */
  waiting = telnet_user (f);        /* session 2 */
  redirect (f, 1);
  target = mgw_test_server_wait_peer (f->target, 0);
  g_socket_close (gone->socket, NULL);
  mgw_test_wait_until (session_0_gone, f, MGW_TEST_TIMEOUT_MS, "session 0 to end");
  bad_before = mgw_command_link_get_bad_commands (mgw_gateway_get_command_link (f->gateway));

  /* Thousands of fields, two ways. */
  g_string_append_printf (line, "PID=2,7,CONNECT,%s,None,[", f->target->uri);
  for (guint i = 0; i < 5000; i++)
    g_string_append (line, "\"a\",");
  g_string_append (line, "\"a\"]");
  send_command (f, SOUP_WEBSOCKET_DATA_TEXT, line->str, line->len);
  g_string_assign (line, "PID=2");
  for (guint i = 0; i < 10000; i++)
    g_string_append (line, ",x");
  send_command (f, SOUP_WEBSOCKET_DATA_TEXT, line->str, line->len);
  /* NULs. */
  send_command (f, SOUP_WEBSOCKET_DATA_BINARY, S ("PID=2\0,7,CONNECT,ws://127.0.0.1:1/,None,[]"));
  send_command (f, SOUP_WEBSOCKET_DATA_BINARY, S ("PID=2,7,CONNECT,ws://127.0.0.1:1/\0x,None,[]"));
  /* Binary junk, every byte. */
  for (guint i = 0; i < 256; i++)
    binary[i] = (guint8) i;
  send_command (f, SOUP_WEBSOCKET_DATA_BINARY, binary, sizeof binary);
  /* Unknown ids, the id of the session that ended, ids out of range. */
  g_string_printf (line, "PID=0,7,CONNECT,%s,None,[]", f->target->uri);
  send_command (f, SOUP_WEBSOCKET_DATA_TEXT, line->str, line->len);
  send_command (f, SOUP_WEBSOCKET_DATA_TEXT, S ("PID=999,7,CONNECT,ws://127.0.0.1:1/,None,[]"));
  send_command (f, SOUP_WEBSOCKET_DATA_TEXT, S ("PID=4294967296,7,CONNECT,ws://127.0.0.1:1/,None,[]"));
  send_command (f, SOUP_WEBSOCKET_DATA_TEXT, S ("PID=-1,7,CONNECT,ws://127.0.0.1:1/,None,[]"));
  send_command (f, SOUP_WEBSOCKET_DATA_TEXT, S ("PID=99999999999999999999999,7,CONNECT,ws://x/,None,[]"));
  mgw_test_run_for (300);

  /* None of it redirected anyone; everything is still there. */
  g_assert_false (mgw_test_server_has_frame (f->command, "UserRedirecting,,,2,7"));
  g_assert_false (mgw_test_server_has_frame (f->command, "UserGotCommand,,,0,PID=0,7,CONNECT"));
  g_assert_true (command_up (f));
  g_assert_cmpuint (mgw_gateway_get_n_sessions (f->gateway), ==, 2);
  g_assert_cmpint (mgw_session_get_state (mgw_gateway_lookup_session (f->gateway, 2)), ==,
                   MGW_SESSION_TELETEL);
  g_assert_cmpuint (mgw_command_link_get_bad_commands (mgw_gateway_get_command_link (f->gateway)) +
                    counters (f)->bad_commands, >=, bad_before + 10);

  /* A frame of 1 MiB, beyond what the channel takes: the channel may
   * close on it, and comes back. */
  huge = g_malloc (1024 * 1024);
  memset (huge, 'P', 1024 * 1024);
  send_command (f, SOUP_WEBSOCKET_DATA_TEXT, huge, 1024 * 1024);
  mgw_test_run_for (300);
  mgw_test_wait_until (command_up, f, MGW_TEST_TIMEOUT_MS, "the command channel, after");

  /* The redirected user still talks to the target; the channel works. */
  mgw_test_tcp_send (redirected, S ("still-redirected"));
  mgw_test_peer_wait_for (target, S ("still-redirected"));
  redirect (f, 2);
  gone_line = g_strdup_printf ("UserRedirected,,,2,7");
  mgw_test_server_wait_frame (f->command, gone_line);
  mgw_test_tcp_send (waiting, S ("now-redirected"));
  mgw_test_tcp_wait_for (waiting, S ("now-redirected"));
}

/* --- files, read by moipgwd at start --- */

typedef enum
{
  CONTENT_TRUNCATED,
  CONTENT_WRONG_TYPE,
  CONTENT_WRONG_MEMBERS,
  CONTENT_HUGE,
  CONTENT_UNREADABLE,
  CONTENT_DIRECTORY,
} Content;

typedef enum
{
  EXPECT_REFUSED,        /* exit 2, the file named */
  EXPECT_FAILS,          /* exit 1, the file named */
  EXPECT_MOVED_ASIDE,    /* starts, the file renamed *.corrupt-* */
  EXPECT_STARTS,         /* starts, the file untouched */
} Expect;

typedef struct
{
  const char *path;      /* test path */
  const char *file;
  gboolean    in_state;  /* in the state directory, else the configuration's */
  Content     content;
  Expect      expect;
} FileCase;

static const FileCase file_cases[] = {
  { "/hostile/files/banned/truncated", "banned.json", TRUE, CONTENT_TRUNCATED, EXPECT_MOVED_ASIDE },
  { "/hostile/files/banned/wrong-type", "banned.json", TRUE, CONTENT_WRONG_TYPE, EXPECT_MOVED_ASIDE },
  { "/hostile/files/banned/wrong-members", "banned.json", TRUE, CONTENT_WRONG_MEMBERS, EXPECT_STARTS },
  { "/hostile/files/banned/50mb", "banned.json", TRUE, CONTENT_HUGE, EXPECT_MOVED_ASIDE },
  { "/hostile/files/banned/unreadable", "banned.json", TRUE, CONTENT_UNREADABLE, EXPECT_FAILS },
  { "/hostile/files/banned/directory", "banned.json", TRUE, CONTENT_DIRECTORY, EXPECT_FAILS },
  { "/hostile/files/neverbanned/truncated", "neverbanned.json", FALSE, CONTENT_TRUNCATED, EXPECT_REFUSED },
  { "/hostile/files/neverbanned/wrong-type", "neverbanned.json", FALSE, CONTENT_WRONG_TYPE, EXPECT_REFUSED },
  { "/hostile/files/neverbanned/wrong-members", "neverbanned.json", FALSE, CONTENT_WRONG_MEMBERS, EXPECT_STARTS },
  { "/hostile/files/neverbanned/50mb", "neverbanned.json", FALSE, CONTENT_HUGE, EXPECT_REFUSED },
  { "/hostile/files/neverbanned/unreadable", "neverbanned.json", FALSE, CONTENT_UNREADABLE, EXPECT_REFUSED },
  { "/hostile/files/neverbanned/directory", "neverbanned.json", FALSE, CONTENT_DIRECTORY, EXPECT_REFUSED },
  { "/hostile/files/gatewayconfig/truncated", "GatewayConfig.json", FALSE, CONTENT_TRUNCATED, EXPECT_REFUSED },
  { "/hostile/files/gatewayconfig/wrong-type", "GatewayConfig.json", FALSE, CONTENT_WRONG_TYPE, EXPECT_REFUSED },
  { "/hostile/files/gatewayconfig/wrong-members", "GatewayConfig.json", FALSE, CONTENT_WRONG_MEMBERS, EXPECT_REFUSED },
  { "/hostile/files/gatewayconfig/50mb", "GatewayConfig.json", FALSE, CONTENT_HUGE, EXPECT_REFUSED },
  { "/hostile/files/gatewayconfig/unreadable", "GatewayConfig.json", FALSE, CONTENT_UNREADABLE, EXPECT_REFUSED },
  { "/hostile/files/gatewayconfig/directory", "GatewayConfig.json", FALSE, CONTENT_DIRECTORY, EXPECT_REFUSED },
};

/* 50 MB of valid JSON: one member whose value is a long string. */
static void
write_huge (const char *path, const char *key)
{
  FILE *out = fopen (path, "w");
  char block[65536];

  g_assert_nonnull (out);
  memset (block, 'a', sizeof block);
  fprintf (out, "{\"%s\": \"", key);
  for (guint i = 0; i < 50 * 1024 * 1024 / sizeof block; i++)
    g_assert_cmpuint (fwrite (block, 1, sizeof block, out), ==, sizeof block);
  fputs ("\"}\n", out);
  g_assert_cmpint (fclose (out), ==, 0);
}

static void
write_content (const FileCase *c, const char *path)
{
  gboolean banned = g_str_equal (c->file, "banned.json");
  gboolean legacy = g_str_equal (c->file, "GatewayConfig.json");
  const char *text = NULL;

  switch (c->content)
    {
    case CONTENT_TRUNCATED:
      text = banned ? "{\"203.0.113.1\": {\"date\": \"2024-01-0" :
             legacy ? "{\"DumpData\": false, \"LimitTcpS" : "{\"192.168.0.0/16\": \"l";
      break;
    case CONTENT_WRONG_TYPE:
      text = banned ? "[\"203.0.113.1\"]" : legacy ? "\"GatewayConfig\"" : "42";
      break;
    case CONTENT_WRONG_MEMBERS:
      text = banned ? "{\"203.0.113.1\": 5, \"not an address\": {}, \"203.0.113.2\": [true]}" :
             legacy ? "{\"DumpData\": \"yes\", \"LimitTcpSpeed\": \"fast\"}" :
             "{\"not a prefix\": \"x\", \"192.168.0.0/99\": 1, \"10.0.0.0/8\": null}";
      break;
    case CONTENT_HUGE:
      write_huge (path, banned ? "203.0.113.1" : legacy ? "Custom" : "192.168.0.0/16");
      return;
    case CONTENT_DIRECTORY:
      g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
      return;
    case CONTENT_UNREADABLE:
      text = banned ? "{}" : legacy ? "{\"DumpData\": false}" : "{}";
      break;
    default:
      g_assert_not_reached ();
    }
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  if (c->content == CONTENT_UNREADABLE)
    g_assert_cmpint (g_chmod (path, 0), ==, 0);
}

static gboolean
has_aside (const char *dir, const char *file)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autofree char *prefix = g_strdup_printf ("%s.corrupt-", file);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, prefix))
      return TRUE;
  return FALSE;
}

static void
test_file (gconstpointer data)
{
  const FileCase *c = data;
  g_autofree char *config_dir = mgw_test_tmp_dir ();
  g_autofree char *state_dir = mgw_test_tmp_dir ();
  g_autofree char *path = g_build_filename (c->in_state ? state_dir : config_dir, c->file, NULL);
  g_autofree char *config_arg = g_strdup_printf ("--configpath=%s", config_dir);
  g_autofree char *state_arg = g_strdup_printf ("--state-dir=%s", state_dir);
  g_autoptr(MgwTestDaemon) d = NULL;

  write_content (c, path);
  if (c->content == CONTENT_UNREADABLE)
    {
      int fd = open (path, O_RDONLY);
      if (fd >= 0)
        {
          close (fd);
          g_chmod (path, 0600);
          g_test_skip ("a file with mode 000 is still readable here (running as root)");
          return;
        }
    }
  d = mgw_test_daemon_spawn ("--no-dbus", "-n", "--tcp", "0", "--ws", "off", "-i", "127.0.0.1",
                             config_arg, state_arg, NULL);
  if (c->expect == EXPECT_REFUSED || c->expect == EXPECT_FAILS)
    {
      mgw_test_daemon_wait_exit (d, 10000);
      g_assert_true (g_subprocess_get_if_exited (d->process));
      g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==,
                       c->expect == EXPECT_REFUSED ? 2 : 1);
      if (strstr (d->err->str, c->file) == NULL)
        g_error ("the error does not name %s:\n%s", c->file, d->err->str);
    }
  else
    {
      g_autoptr(MgwTestTcp) tcp = NULL;

      tcp = mgw_test_tcp_connect ("127.0.0.1", mgw_test_daemon_port (d, "Telnet"));
      mgw_test_tcp_wait_for (tcp, S ("Welcome"));
      g_assert_false (d->exited);
      if (c->expect == EXPECT_MOVED_ASIDE)
        {
          g_assert_true (has_aside (state_dir, c->file));
          g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS) &&
                          c->content == CONTENT_HUGE);
          if (strstr (d->err->str, "corrupt") == NULL)
            g_error ("no warning about the corrupt file:\n%s", d->err->str);
        }
      else
        g_assert_false (has_aside (c->in_state ? state_dir : config_dir, c->file));
    }
  if (c->content == CONTENT_DIRECTORY)
    g_rmdir (path);
  else
    g_chmod (path, 0600);
}

#define ADD(path, setup, func, data) \
  g_test_add (path, Fixture, data, setup, func, teardown)

int
main (int argc, char **argv)
{
  static const char *bad_frames[] = {
    "unmasked", "rsv1", "rsv3", "opcode-3", "opcode-b", "continuation-first", "fragmented-ping",
    "long-ping", "close-one-byte", "close-999", "close-1004", "close-1005", "close-1006",
    "close-1015", "close-2999", "close-5000",
  };

  mgw_test_init (&argc, &argv);
  ADD ("/hostile/telnet/iac-flood", setup, test_telnet_iac_flood, NULL);
  ADD ("/hostile/telnet/sb-unterminated", setup, test_telnet_sb_unterminated, NULL);
  ADD ("/hostile/telnet/ff-every-position", setup, test_telnet_ff_every_position, NULL);
  ADD ("/hostile/telnet/nul", setup, test_telnet_nul, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_frames); i++)
    {
      g_autofree char *path = g_strdup_printf ("/hostile/ws/protocol-error/%s", bad_frames[i]);
      ADD (path, setup, test_ws_protocol_errors, bad_frames[i]);
    }
  ADD ("/hostile/ws/protocol-error/interleaved-messages", setup, test_ws_interleaved_messages, NULL);
  ADD ("/hostile/ws/close-good-codes", setup, test_ws_close_good_codes, NULL);
  ADD ("/hostile/ws/oversized/one-frame", setup, test_ws_oversized, "one-frame");
  ADD ("/hostile/ws/oversized/fragments", setup, test_ws_oversized, "fragments");
  ADD ("/hostile/ws/oversized/length-only", setup, test_ws_oversized, "length-only");
  ADD ("/hostile/ws/text-content", setup, test_ws_text_content, NULL);
  ADD ("/hostile/ws/fragmented", setup, test_ws_fragmented, NULL);
  ADD ("/hostile/ws/ping-flood", setup, test_ws_ping_flood, NULL);
  ADD ("/hostile/ws/ping-flood-not-reading", setup, test_ws_ping_flood_not_reading, NULL);
  ADD ("/hostile/http/bad-requests", setup, test_http_bad_request, NULL);
  ADD ("/hostile/http/huge-head", setup, test_http_huge_head, NULL);
  ADD ("/hostile/http/slowloris", setup, test_http_slowloris, NULL);
  ADD ("/hostile/pending-flood", setup, test_pending_flood, NULL);
  ADD ("/hostile/proxy/bad-headers", setup, test_proxy_bad_headers, NULL);
  ADD ("/hostile/proxy/untrusted", setup, test_proxy_untrusted, NULL);
  ADD ("/hostile/proxy/prefixes", setup, test_proxy_prefixes, NULL);
  ADD ("/hostile/command/junk", setup_command, test_command_junk, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (file_cases); i++)
    g_test_add_data_func (file_cases[i].path, &file_cases[i], test_file);
  return g_test_run ();
}
