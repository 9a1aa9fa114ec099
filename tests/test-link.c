/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-link.c: MgwLinkWs on real sockets, against a raw peer written
 * here byte by byte: the server side on a socketpair (upgrade, refusal,
 * closing handshakes, closes that fail), the client side against a
 * listening socket on 127.0.0.1 (what a server sends with its 101). */
#include "config.h"

#include "mgw-error.h"
#include "mgw-link-ws.h"
#include "mgw-test-util.h"
#include "mgw-ws-codec.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S(lit) lit, sizeof lit - 1

static const char request[] =
  "GET / HTTP/1.1\r\n"
  "Host: gateway\r\n"
  "Upgrade: websocket\r\n"
  "Connection: Upgrade\r\n"
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
  "Sec-WebSocket-Version: 13\r\n"
  "\r\n";

/* --- the link's side: what it reports --- */

typedef struct
{
  MgwLink    *link;
  gboolean    opened;
  guint       closed;
  GError     *error;
  GByteArray *received;
  gboolean    unref_on_close;  /* the test's only reference goes then */
  guint       verdict;         /* what decide answers */
} Link;

static void
opened_cb (MgwLink *link,
           Link    *l)
{
  l->opened = TRUE;
}

static void
received_cb (MgwLink      *link,
             const guint8 *data,
             guint         len,
             Link         *l)
{
  g_byte_array_append (l->received, data, len);
}

static void
closed_cb (MgwLink      *link,
           const GError *error,
           Link         *l)
{
  l->closed++;
  g_clear_error (&l->error);
  l->error = error ? g_error_copy (error) : NULL;
  if (l->unref_on_close)
    g_clear_object (&l->link);
}

static void
watch_link (Link    *l,
            MgwLink *link)
{
  l->link = link;
  l->received = g_byte_array_new ();
  g_signal_connect (link, "opened", G_CALLBACK (opened_cb), l);
  g_signal_connect (link, "received", G_CALLBACK (received_cb), l);
  g_signal_connect (link, "closed", G_CALLBACK (closed_cb), l);
}

static void
link_clear (Link *l)
{
  if (l->link != NULL)
    g_signal_handlers_disconnect_by_data (l->link, l);
  g_clear_object (&l->link);
  g_clear_error (&l->error);
  g_clear_pointer (&l->received, g_byte_array_unref);
}

static gboolean
link_opened (gpointer data)
{
  return ((Link *) data)->opened || ((Link *) data)->closed > 0;
}

static gboolean
link_closed (gpointer data)
{
  return ((Link *) data)->closed > 0;
}

static guint
decide_cb (MgwLinkWs   *link,
           MgwHttpHead *head,
           gpointer     user_data)
{
  return ((Link *) user_data)->verdict;
}

/* --- the raw peer --- */

typedef struct
{
  int           fd;
  guint         source;
  GByteArray   *in;
  gboolean      eof;
  gsize         head_len;   /* of the HTTP head at the start of `in` */
  MgwWsDecoder *decoder;    /* the frames after it */
  gsize         decoded;    /* bytes of `in` pushed to the decoder */
  GPtrArray    *events;     /* of GBytes: opcode byte, then payload */
  guint16       close_code;
  gint64        close_at;   /* monotonic µs, 0: no close frame yet */
} Peer;

static gboolean
peer_read_cb (int          fd,
              GIOCondition condition,
              gpointer     user_data)
{
  Peer *p = user_data;
  guint8 buf[4096];
  gssize n = read (fd, buf, sizeof buf);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      p->eof = TRUE;
      p->source = 0;
      return G_SOURCE_REMOVE;
    }
  g_byte_array_append (p->in, buf, n);
  return G_SOURCE_CONTINUE;
}

static Peer *
peer_new (int fd)
{
  Peer *p = g_new0 (Peer, 1);

  g_assert_true (g_unix_set_fd_nonblocking (fd, TRUE, NULL));
  p->fd = fd;
  p->in = g_byte_array_new ();
  p->events = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  p->source = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, peer_read_cb, p);
  return p;
}

static void
peer_close (Peer *p)
{
  g_clear_handle_id (&p->source, g_source_remove);
  if (p->fd >= 0)
    close (p->fd);
  p->fd = -1;
}

static void
peer_free (Peer *p)
{
  peer_close (p);
  g_byte_array_unref (p->in);
  g_clear_pointer (&p->decoder, mgw_ws_decoder_free);
  g_ptr_array_unref (p->events);
  g_free (p);
}

static void
peer_send (Peer       *p,
           const void *data,
           gsize       len)
{
  g_assert_cmpint (write (p->fd, data, len), ==, (gssize) len);
}

/* A frame as a client sends it (masked). */
static void
peer_send_frame (Peer         *p,
                 MgwWsOpcode   opcode,
                 const void   *payload,
                 gsize         len)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  mgw_ws_encode_frame (MGW_WS_ROLE_CLIENT, opcode, payload, len, out);
  peer_send (p, out->data, out->len);
}

static void
peer_send_close (Peer    *p,
                 guint16  code)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  mgw_ws_encode_close (MGW_WS_ROLE_CLIENT, code, NULL, out);
  peer_send (p, out->data, out->len);
}

/* Decodes the frames the link sent after its 101. */
static void
peer_decode (Peer *p)
{
  MgwWsEvent event;

  if (p->head_len == 0)
    {
      guint8 *end = p->in->len > 0 ? memmem (p->in->data, p->in->len, "\r\n\r\n", 4) : NULL;

      if (end == NULL)
        return;
      p->head_len = end + 4 - p->in->data;
      p->decoded = p->head_len;
      p->decoder = mgw_ws_decoder_new (MGW_WS_ROLE_CLIENT, 1 << 20);
    }
  if (p->decoded == p->in->len)
    return;
  mgw_ws_decoder_push (p->decoder, p->in->data + p->decoded, p->in->len - p->decoded);
  p->decoded = p->in->len;
  while (mgw_ws_decoder_next (p->decoder, &event))
    {
      GByteArray *e = g_byte_array_new ();
      guint8 op = event.type == MGW_WS_EVENT_CLOSE ? MGW_WS_OP_CLOSE : event.opcode;

      g_byte_array_append (e, &op, 1);
      g_byte_array_append (e, event.payload, event.len);
      g_ptr_array_add (p->events, g_byte_array_free_to_bytes (e));
      if (event.type == MGW_WS_EVENT_CLOSE)
        {
          p->close_code = event.close_code;
          p->close_at = g_get_monotonic_time ();
        }
    }
}

static gboolean
peer_has_head (gpointer data)
{
  Peer *p = data;

  peer_decode (p);
  return p->head_len > 0 || p->eof;
}

static gboolean
peer_has_close (gpointer data)
{
  Peer *p = data;

  peer_decode (p);
  return p->close_at != 0 || p->eof;
}

static gboolean
peer_eof (gpointer data)
{
  return ((Peer *) data)->eof;
}

/* A server link on one end of a socketpair, the raw peer on the other. */
static Peer *
server_pair (Link  *l,
             guint  timeout_s)
{
  int fds[2];
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  socket = g_socket_new_from_fd (fds[0], NULL);
  g_assert_nonnull (socket);
  connection = g_socket_connection_factory_create_connection (socket);
  if (l->verdict == 0)
    l->verdict = 101;
  watch_link (l, mgw_link_ws_accept (G_IO_STREAM (connection), MGW_FRAME_BINARY,
                                     timeout_s, decide_cb, l));
  return peer_new (fds[1]);
}

/* The upgrade done: "opened" on the link, the 101 at the peer. */
static Peer *
server_open (Link  *l,
             guint  timeout_s)
{
  Peer *p = server_pair (l, timeout_s);

  peer_send (p, S (request));
  mgw_test_wait_until (link_opened, l, MGW_TEST_TIMEOUT_MS, "the upgrade");
  g_assert_true (l->opened);
  mgw_test_wait_until (peer_has_head, p, MGW_TEST_TIMEOUT_MS, "the 101");
  g_assert_true (g_str_has_prefix ((const char *) p->in->data, "HTTP/1.1 101 "));
  return p;
}

/* --- server side --- */

/* A close with flush writes what is queued, then the close frame at
 * once: not after the flush's time limit. */
static void
test_close_flush_prompt (void)
{
  Link l = { 0 };
  Peer *p = server_open (&l, 10);
  g_autofree guint8 *chunk = g_malloc0 (4096);
  gint64 start;
  gsize total = 0;

  /* More than the socket holds: the rest waits in the queue when the
   * close comes, and the peer takes it all at once after. */
  mgw_link_set_queue_limit (l.link, 4 << 20);
  for (guint i = 0; i < 256; i++)
    mgw_link_send_data (l.link, chunk, 4096);
  g_assert_cmpuint (mgw_link_get_queued (l.link), >, 0);
  start = g_get_monotonic_time ();
  mgw_link_close (l.link, TRUE);
  mgw_test_wait_until (peer_has_close, p, MGW_TEST_TIMEOUT_MS, "the close frame");
  g_assert_cmpuint (p->close_at, !=, 0);
  g_assert_cmpint (p->close_at - start, <, 1000 * 1000);
  g_assert_cmpuint (p->close_code, ==, 1000);
  /* All the data first, then the close. */
  for (guint i = 0; i + 1 < p->events->len; i++)
    {
      GBytes *e = p->events->pdata[i];

      g_assert_cmpuint (*(const guint8 *) g_bytes_get_data (e, NULL), ==, MGW_WS_OP_BINARY);
      total += g_bytes_get_size (e) - 1;
    }
  g_assert_cmpuint (total, ==, 256 * 4096);
  /* Our echo ends it, cleanly. */
  peer_send_close (p, 1000);
  mgw_test_wait_until (link_closed, &l, MGW_TEST_TIMEOUT_MS, "the link to close");
  g_assert_no_error (l.error);
  mgw_test_wait_until (peer_eof, p, MGW_TEST_TIMEOUT_MS, "the socket to close");
  g_assert_cmpuint (l.closed, ==, 1);
  peer_free (p);
  link_clear (&l);
}

/* The peer is gone when we close: the close frame cannot be written,
 * and "closed", which lets go of the last reference, is the end of it
 * (no use of the link after it: ASan). */
static void
test_close_write_fails (void)
{
  Link l = { 0 };
  Peer *p = server_open (&l, 10);

  peer_close (p);
  l.unref_on_close = TRUE;
  mgw_link_close (l.link, FALSE);
  g_assert_cmpuint (l.closed, ==, 1);
  g_assert_null (l.link);
  mgw_test_run_for (50);
  g_assert_cmpuint (l.closed, ==, 1);
  peer_free (p);
  link_clear (&l);
}

/* The gateway says no: the peer gets the HTTP status, then the end. */
static void
test_refused (void)
{
  Link l = { .verdict = 403 };
  Peer *p = server_pair (&l, 10);

  l.unref_on_close = TRUE;
  peer_send (p, S (request));
  mgw_test_wait_until (peer_eof, p, MGW_TEST_TIMEOUT_MS, "the socket to close");
  g_assert_true (g_str_has_prefix ((const char *) p->in->data, "HTTP/1.1 403 "));
  g_assert_false (l.opened);
  g_assert_cmpuint (l.closed, ==, 1);
  g_assert_error (l.error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  peer_free (p);
  link_clear (&l);
}

/* The upgrade deadline is over once the link is open. */
static void
test_deadline_after_open (void)
{
  Link l = { 0 };
  Peer *p = server_open (&l, 1);

  mgw_test_run_for (1300);
  g_assert_cmpuint (l.closed, ==, 0);
  g_assert_cmpint (mgw_link_get_state (l.link), ==, MGW_LINK_OPEN);
  peer_free (p);
  link_clear (&l);
}

/* The peer closes with 1001: the code comes back, the link closes
 * without an error. A frame a client did not mask: 1002, an error. */
static void
test_peer_close (void)
{
  Link l = { 0 };
  Peer *p = server_open (&l, 10);
  g_autoptr(GByteArray) unmasked = g_byte_array_new ();

  l.unref_on_close = TRUE;
  peer_send_frame (p, MGW_WS_OP_BINARY, S ("typed"));
  peer_send_close (p, 1001);
  mgw_test_wait_until (peer_eof, p, MGW_TEST_TIMEOUT_MS, "the socket to close");
  peer_decode (p);
  g_assert_cmpuint (p->close_code, ==, 1001);
  g_assert_cmpuint (l.closed, ==, 1);
  g_assert_no_error (l.error);
  g_assert_cmpmem (l.received->data, l.received->len, "typed", 5);
  peer_free (p);
  link_clear (&l);

  l = (Link) { 0 };
  p = server_open (&l, 10);
  l.unref_on_close = TRUE;
  mgw_ws_encode_frame (MGW_WS_ROLE_SERVER, MGW_WS_OP_BINARY, (const guint8 *) "x", 1, unmasked);
  peer_send (p, unmasked->data, unmasked->len);
  mgw_test_wait_until (peer_eof, p, MGW_TEST_TIMEOUT_MS, "the socket to close");
  peer_decode (p);
  g_assert_cmpuint (p->close_code, ==, 1002);
  g_assert_cmpuint (l.closed, ==, 1);
  g_assert_error (l.error, MGW_ERROR, MGW_ERROR_BAD_INPUT);
  peer_free (p);
  link_clear (&l);
}

/* Paused (the other side congested), then closed, then resumed: the
 * peer's close frame is read at once, not after the close wait. */
static void
test_resume_while_closing (void)
{
  Link l = { 0 };
  Peer *p = server_open (&l, 10);
  gint64 start;

  mgw_link_set_paused (l.link, TRUE);
  mgw_link_close (l.link, FALSE);
  mgw_test_wait_until (peer_has_close, p, MGW_TEST_TIMEOUT_MS, "the close frame");
  mgw_link_set_paused (l.link, FALSE);
  start = g_get_monotonic_time ();
  peer_send_close (p, 1000);
  mgw_test_wait_until (link_closed, &l, MGW_TEST_TIMEOUT_MS, "the link to close");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 500 * 1000);
  g_assert_no_error (l.error);
  peer_free (p);
  link_clear (&l);
}

static gboolean
peer_has_pong (gpointer data)
{
  Peer *p = data;

  peer_decode (p);
  for (guint i = 0; i < p->events->len; i++)
    {
      gsize len;
      const guint8 *e = g_bytes_get_data (p->events->pdata[i], &len);

      if (e[0] == MGW_WS_OP_PONG && len == 6 && memcmp (e + 1, "49999", 5) == 0)
        return TRUE;
    }
  return p->eof;
}

/* A peer that pings faster than it reads: the pongs it is behind on are
 * dropped (bounded), but the latest ping is answered once it reads again
 * (RFC 6455 §5.5.3). */
static void
test_ping_latest_answered (void)
{
  Link l = { 0 };
  Peer *p = server_open (&l, 10);
  guint pongs = 0;

  g_clear_handle_id (&p->source, g_source_remove);   /* the peer stops reading */
  for (guint i = 0; i < 50000; i++)
    {
      char payload[6];
      g_autoptr(GByteArray) out = g_byte_array_new ();
      gsize done = 0;

      g_snprintf (payload, sizeof payload, "%05u", i);
      mgw_ws_encode_frame (MGW_WS_ROLE_CLIENT, MGW_WS_OP_PING, (const guint8 *) payload, 5, out);
      while (done < out->len)
        {
          gssize n = write (p->fd, out->data + done, out->len - done);

          if (n < 0)
            {
              g_assert_cmpint (errno, ==, EAGAIN);
              g_main_context_iteration (NULL, FALSE);
              continue;
            }
          done += n;
        }
    }
  p->source = g_unix_fd_add (p->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, peer_read_cb, p);
  mgw_test_wait_until (peer_has_pong, p, MGW_TEST_TIMEOUT_MS, "the pong to the last ping");
  for (guint i = 0; i < p->events->len; i++)
    if (((const guint8 *) g_bytes_get_data (p->events->pdata[i], NULL))[0] == MGW_WS_OP_PONG)
      pongs++;
  /* Some were dropped: the peer was behind by more than the link holds. */
  g_assert_cmpuint (pongs, <, 50000);
  g_assert_cmpuint (l.closed, ==, 0);
  peer_free (p);
  link_clear (&l);
}

/* --- client side --- */

typedef struct
{
  GSocket *listener;
  guint16  port;
  GSocket *accepted;
} Server;

static void
server_listen (Server *s)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  s->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                              G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (s->listener, addr, TRUE, NULL));
  g_assert_true (g_socket_listen (s->listener, NULL));
  g_socket_set_blocking (s->listener, FALSE);
  bound = g_socket_get_local_address (s->listener, NULL);
  s->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
server_accepted (gpointer data)
{
  Server *s = data;

  if (s->accepted == NULL)
    s->accepted = g_socket_accept (s->listener, NULL, NULL);
  return s->accepted != NULL;
}

static void
server_clear (Server *s)
{
  g_clear_object (&s->accepted);
  g_clear_object (&s->listener);
}

/* A server that sends its first page with its 101, in the same write,
 * and a page bigger than the largest HTTP head: all of it arrives. */
static void
test_client_data_with_101 (void)
{
  Server s = { 0 };
  Link l = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *response = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree guint8 *page = g_malloc (12000);
  Peer *p;
  const char *key;
  g_autofree char *key_value = NULL;

  server_listen (&s);
  uri = g_strdup_printf ("ws://127.0.0.1:%u/", s.port);
  watch_link (&l, mgw_link_ws_connect (NULL, uri, NULL, MGW_FRAME_BINARY, 5000, &error));
  g_assert_no_error (error);
  mgw_test_wait_until (server_accepted, &s, MGW_TEST_TIMEOUT_MS, "the connection");
  p = peer_new (dup (g_socket_get_fd (s.accepted)));
  mgw_test_wait_until (peer_has_head, p, MGW_TEST_TIMEOUT_MS, "the upgrade request");
  key = strstr ((const char *) p->in->data, "Sec-WebSocket-Key: ");
  g_assert_nonnull (key);
  key += strlen ("Sec-WebSocket-Key: ");
  key_value = g_strndup (key, strcspn (key, "\r"));

  for (guint i = 0; i < 12000; i++)
    page[i] = 0x20 + i % 90;
  response = mgw_ws_server_response (key_value, NULL);
  g_byte_array_append (out, (const guint8 *) response, strlen (response));
  mgw_ws_encode_frame (MGW_WS_ROLE_SERVER, MGW_WS_OP_BINARY, page, 12000, out);
  peer_send (p, out->data, out->len);

  mgw_test_wait_until (link_opened, &l, MGW_TEST_TIMEOUT_MS, "the link to open");
  g_assert_true (l.opened);
  mgw_test_run_for (100);
  g_assert_cmpuint (l.closed, ==, 0);
  g_assert_cmpmem (l.received->data, l.received->len, page, 12000);
  peer_free (p);
  link_clear (&l);
  server_clear (&s);
}

/* Closed while the TCP connection is being made: "closed" at once and
 * once, whoever lets go of the link then. */
static void
test_client_close_connecting (void)
{
  Server s = { 0 };
  Link l = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;

  server_listen (&s);
  uri = g_strdup_printf ("ws://127.0.0.1:%u/", s.port);
  watch_link (&l, mgw_link_ws_connect (NULL, uri, NULL, MGW_FRAME_BINARY, 5000, &error));
  g_assert_no_error (error);
  l.unref_on_close = TRUE;
  mgw_link_close (l.link, TRUE);
  g_assert_cmpuint (l.closed, ==, 1);
  g_assert_null (l.link);
  mgw_test_run_for (200);
  g_assert_cmpuint (l.closed, ==, 1);
  link_clear (&l);
  server_clear (&s);
}

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);

  g_test_add_func ("/link/ws/server/close-flush-prompt", test_close_flush_prompt);
  g_test_add_func ("/link/ws/server/close-write-fails", test_close_write_fails);
  g_test_add_func ("/link/ws/server/refused", test_refused);
  g_test_add_func ("/link/ws/server/deadline-after-open", test_deadline_after_open);
  g_test_add_func ("/link/ws/server/peer-close", test_peer_close);
  g_test_add_func ("/link/ws/server/resume-while-closing", test_resume_while_closing);
  g_test_add_func ("/link/ws/server/ping-latest-answered", test_ping_latest_answered);
  g_test_add_func ("/link/ws/client/data-with-101", test_client_data_with_101);
  g_test_add_func ("/link/ws/client/close-connecting", test_client_close_connecting);
  return g_test_run ();
}
