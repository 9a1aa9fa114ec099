/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-proc-net.c: lines of /proc/net/tcp and tcp6 parsed from fixed
 * text, and the search for the user at the other end of a connection
 * through fixed tables: the full four-tuple, our own socket known by its
 * inode, IPv4 in tcp6 (mapped), and no answer when it is ambiguous. */
#include "config.h"

#include "mgw-proc-net.h"

#include <string.h>

#define ROOT   0
#define NOBODY 65534
#define PORT   8999

static const char header[] =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

/* --- lines as a little-endian machine writes them --- */

static void
assert_endpoint (const MgwTcpEndpoint *endpoint,
                 const char           *address,
                 guint16               port)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (inet, port);
  MgwTcpEndpoint expected;

  g_assert_true (mgw_tcp_endpoint_set (&expected, socket_address));
  g_assert_cmpmem (endpoint->address, 16, expected.address, 16);
  g_assert_cmpuint (endpoint->port, ==, port);
}

static void
test_parse_line (void)
{
  MgwTcpSocket s;

  if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
    {
      g_test_skip ("the fixed text is a little-endian machine's");
      return;
    }
  g_assert_false (mgw_proc_net_parse_line (header, &s));
  g_assert_false (mgw_proc_net_parse_line ("", &s));

  g_assert_true (mgw_proc_net_parse_line (
                   "   0: 0100007F:2327 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
                   "        0 31337 1 0000000000000000 100 0 0 10 0", &s));
  assert_endpoint (&s.local, "127.0.0.1", PORT);
  assert_endpoint (&s.remote, "0.0.0.0", 0);
  g_assert_cmpuint (s.state, ==, MGW_TCP_LISTEN);
  g_assert_cmpuint (s.uid, ==, 0);
  g_assert_cmpuint (s.inode, ==, 31337);

  g_assert_true (mgw_proc_net_parse_line (
                   "  12: 0400007F:2327 0100007F:2327 01 00000000:00000000 00:00000000 00000000 65534"
                   "        0 4294967296 1 0000000000000000 20 4 30 10 -1", &s));
  assert_endpoint (&s.local, "127.0.0.4", PORT);
  assert_endpoint (&s.remote, "127.0.0.1", PORT);
  g_assert_cmpuint (s.state, ==, MGW_TCP_ESTABLISHED);
  g_assert_cmpuint (s.uid, ==, NOBODY);
  g_assert_cmpuint (s.inode, ==, G_GUINT64_CONSTANT (4294967296));

  /* tcp6: ::1, and 127.0.0.1 mapped, equal to the tcp spelling. */
  g_assert_true (mgw_proc_net_parse_line (
                   "   3: 00000000000000000000000001000000:A1B2 00000000000000000000000001000000:2327 01"
                   " 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 20 4 30 10 -1",
                   &s));
  assert_endpoint (&s.local, "::1", 0xA1B2);
  assert_endpoint (&s.remote, "::1", PORT);
  g_assert_cmpuint (s.uid, ==, 1000);
  g_assert_true (mgw_proc_net_parse_line (
                   "   4: 0000000000000000FFFF00000100007F:2327 0000000000000000FFFF00000400007F:2327 01"
                   " 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000000000000 20 4 30 10 -1",
                   &s));
  assert_endpoint (&s.local, "127.0.0.1", PORT);
  assert_endpoint (&s.remote, "127.0.0.4", PORT);
}

static void
test_parse_garbage (void)
{
  static const char *const lines[] = {
    /* an address of 6 hex digits, or 16 */
    "   0: 00007F:2327 0100007F:2327 01 00000000:00000000 00:00000000 00000000 0 0 1 1",
    "   0: 000000000100007F:2327 0100007F:2327 01 00000000:00000000 00:00000000 00000000 0 0 1 1",
    /* not hex, no port, a port too large, no colon */
    "   0: 0100007G:2327 0100007F:2327 01 00000000:00000000 00:00000000 00000000 0 0 1 1",
    "   0: 0100007F: 0100007F:2327 01 00000000:00000000 00:00000000 00000000 0 0 1 1",
    "   0: 0100007F:12345 0100007F:2327 01 00000000:00000000 00:00000000 00000000 0 0 1 1",
    "   0: 0100007F2327 0100007F:2327 01 00000000:00000000 00:00000000 00000000 0 0 1 1",
    /* cut short: no inode, no uid */
    "   0: 0100007F:2327 0100007F:2327 01 00000000:00000000 00:00000000 00000000 0 0",
    "   0: 0100007F:2327 0100007F:2327 01 00000000:00000000 00:00000000",
    "   0:",
  };
  MgwTcpSocket s;

  for (gsize i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_test_message ("line: %s", lines[i]);
      g_assert_false (mgw_proc_net_parse_line (lines[i], &s));
    }
}

/* --- tables written the kernel's way on this machine --- */

typedef struct
{
  GString *tcp;
  GString *tcp6;
  guint    n;
} Tables;

static void
tables_init (Tables *t)
{
  t->tcp = g_string_new (header);
  t->tcp6 = g_string_new (header);
  g_string_append_c (t->tcp, '\n');
  g_string_append_c (t->tcp6, '\n');
  t->n = 0;
}

static void
tables_clear (Tables *t)
{
  g_string_free (t->tcp, TRUE);
  g_string_free (t->tcp6, TRUE);
}

/* Each 32-bit word as the native integer holding its bytes, as
 * /proc/net/tcp prints a __be32. */
static void
append_address (GString    *out,
                const char *address)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  const guint8 *bytes = g_inet_address_to_bytes (inet);
  gsize size = g_inet_address_get_native_size (inet);

  for (gsize w = 0; w < size / 4; w++)
    {
      guint32 word;

      memcpy (&word, bytes + w * 4, sizeof word);
      g_string_append_printf (out, "%08X", word);
    }
}

/* A socket of `local` and `remote` (both IPv4 or both IPv6; IPv6 goes to
 * tcp6). */
static void
add (Tables     *t,
     const char *local,
     guint16     local_port,
     const char *remote,
     guint16     remote_port,
     guint       state,
     guint       uid,
     guint64     inode)
{
  GString *out = strchr (local, ':') != NULL ? t->tcp6 : t->tcp;

  g_string_append_printf (out, "%4u: ", t->n++);
  append_address (out, local);
  g_string_append_printf (out, ":%04X ", local_port);
  append_address (out, remote);
  g_string_append_printf (out, ":%04X %02X 00000000:00000000 00:00000000 00000000 %5u %8d %"
                          G_GUINT64_FORMAT " 1 0000000000000000 20 4 30 10 -1\n",
                          remote_port, state, uid, 0, inode);
}

static void
endpoint (MgwTcpEndpoint *e,
          const char     *address,
          guint16         port)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (inet, port);

  g_assert_true (mgw_tcp_endpoint_set (e, socket_address));
}

/* The result of the search for the peer of our socket `own_inode`, from
 * `ours` to `theirs`; `uid` is set when found. */
static MgwTcpPeer
find (Tables     *t,
      const char *ours,
      guint16     our_port,
      const char *theirs,
      guint16     their_port,
      guint64     own_inode,
      guint      *uid)
{
  const char *tables[] = { t->tcp->str, t->tcp6->str, NULL };
  MgwTcpEndpoint o, p;

  endpoint (&o, ours, our_port);
  endpoint (&p, theirs, their_port);
  *uid = G_MAXUINT;
  return mgw_proc_net_find_peer_in (tables, &o, &p, own_inode, uid);
}

/* The attack: an unprivileged user binds its source port to the console's
 * port number on 127.0.0.4. Ports alone match the daemon's own socket
 * (root's) as well as the caller's; the four-tuple only the caller's. */
static void
test_peer_source_port_trick (void)
{
  Tables t;
  guint uid;

  tables_init (&t);
  add (&t, "127.0.0.1", PORT, "0.0.0.0", 0, MGW_TCP_LISTEN, ROOT, 10);
  /* Ours first: a search by ports alone stops here. */
  add (&t, "127.0.0.1", PORT, "127.0.0.4", PORT, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "127.0.0.4", PORT, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, NOBODY, 200);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.4", PORT, 100, &uid), ==,
                   MGW_TCP_PEER_FOUND);
  g_assert_cmpuint (uid, ==, NOBODY);
  /* Our inode unknown (fstat failed): the tuple still tells them apart. */
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.4", PORT, 0, &uid), ==,
                   MGW_TCP_PEER_FOUND);
  g_assert_cmpuint (uid, ==, NOBODY);
  tables_clear (&t);

  /* Another of root's connections with the same ports, other addresses:
   * not the peer. */
  tables_init (&t);
  add (&t, "127.0.0.1", PORT, "127.0.0.4", PORT, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "127.0.0.4", PORT, "127.0.0.2", PORT, MGW_TCP_ESTABLISHED, ROOT, 300);
  add (&t, "127.0.0.4", PORT, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, NOBODY, 200);
  add (&t, "127.0.0.5", PORT, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, ROOT, 301);
  add (&t, "127.0.0.4", PORT + 1, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, ROOT, 302);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.4", PORT, 100, &uid), ==,
                   MGW_TCP_PEER_FOUND);
  g_assert_cmpuint (uid, ==, NOBODY);
  tables_clear (&t);
}

/* Our own socket is never the peer, even with the peer's tuple; tables
 * that do not show it where it is are not trusted. */
static void
test_peer_own_inode (void)
{
  Tables t;
  guint uid;

  tables_init (&t);
  add (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "127.0.0.1", 40000, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, NOBODY, 200);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, 100, &uid), ==,
                   MGW_TCP_PEER_FOUND);
  g_assert_cmpuint (uid, ==, NOBODY);
  /* Our socket is 200 (say): then 100 is the peer, 200's tuple is wrong. */
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, 200, &uid), ==,
                   MGW_TCP_PEER_UNKNOWN);
  /* Our socket missing from the tables. */
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, 999, &uid), ==,
                   MGW_TCP_PEER_UNKNOWN);
  tables_clear (&t);

  /* An entry with our inode and the peer's tuple is skipped. */
  tables_init (&t);
  add (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "127.0.0.1", 40000, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, ROOT, 100);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, 100, &uid), ==,
                   MGW_TCP_PEER_UNKNOWN);
  tables_clear (&t);
}

/* Two users' sockets with the same tuple: nobody's; twice the same user's:
 * that user. */
static void
test_peer_ambiguous (void)
{
  Tables t;
  guint uid;

  tables_init (&t);
  add (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "127.0.0.1", 40000, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, ROOT, 200);
  add (&t, "::ffff:127.0.0.1", 40000, "::ffff:127.0.0.1", PORT, MGW_TCP_ESTABLISHED, NOBODY, 201);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, 100, &uid), ==,
                   MGW_TCP_PEER_AMBIGUOUS);
  tables_clear (&t);

  tables_init (&t);
  add (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "127.0.0.1", 40000, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, NOBODY, 200);
  add (&t, "127.0.0.1", 40000, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, NOBODY, 201);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, 100, &uid), ==,
                   MGW_TCP_PEER_FOUND);
  g_assert_cmpuint (uid, ==, NOBODY);
  tables_clear (&t);
}

/* Orphans (TIME_WAIT: no inode, uid 0) and sockets no longer established
 * are nobody's. */
static void
test_peer_orphans (void)
{
  Tables t;
  guint uid;

  tables_init (&t);
  add (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "127.0.0.1", 40000, "127.0.0.1", PORT, 0x06, ROOT, 0);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, 100, &uid), ==,
                   MGW_TCP_PEER_UNKNOWN);
  add (&t, "127.0.0.1", 40000, "127.0.0.1", PORT, 0x04, ROOT, 300);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, 100, &uid), ==,
                   MGW_TCP_PEER_UNKNOWN);
  add (&t, "127.0.0.1", 40000, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, NOBODY, 200);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.1", 40000, 100, &uid), ==,
                   MGW_TCP_PEER_FOUND);
  g_assert_cmpuint (uid, ==, NOBODY);
  tables_clear (&t);
}

/* IPv4 over IPv6 sockets: a console on "::" sees ::ffff:127.0.0.1 (its
 * socket in tcp6) while the caller's IPv4 socket is in tcp, and the other
 * way round; and plain IPv6 on ::1. */
static void
test_peer_mapped_and_ipv6 (void)
{
  Tables t;
  guint uid;

  tables_init (&t);
  add (&t, "::ffff:127.0.0.1", PORT, "::ffff:127.0.0.4", PORT, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "127.0.0.4", PORT, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, NOBODY, 200);
  g_assert_cmpint (find (&t, "::ffff:127.0.0.1", PORT, "::ffff:127.0.0.4", PORT, 100, &uid), ==,
                   MGW_TCP_PEER_FOUND);
  g_assert_cmpuint (uid, ==, NOBODY);
  tables_clear (&t);

  tables_init (&t);
  add (&t, "127.0.0.1", PORT, "127.0.0.4", PORT, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "::ffff:127.0.0.4", PORT, "::ffff:127.0.0.1", PORT, MGW_TCP_ESTABLISHED, NOBODY, 200);
  g_assert_cmpint (find (&t, "127.0.0.1", PORT, "127.0.0.4", PORT, 100, &uid), ==,
                   MGW_TCP_PEER_FOUND);
  g_assert_cmpuint (uid, ==, NOBODY);
  tables_clear (&t);

  tables_init (&t);
  add (&t, "::1", PORT, "::", 0, MGW_TCP_LISTEN, ROOT, 10);
  add (&t, "::1", PORT, "::1", 40000, MGW_TCP_ESTABLISHED, ROOT, 100);
  add (&t, "::1", 40000, "::1", PORT, MGW_TCP_ESTABLISHED, 1000, 200);
  /* Same ports on IPv4, root's: not the peer. */
  add (&t, "127.0.0.1", 40000, "127.0.0.1", PORT, MGW_TCP_ESTABLISHED, ROOT, 300);
  g_assert_cmpint (find (&t, "::1", PORT, "::1", 40000, 100, &uid), ==, MGW_TCP_PEER_FOUND);
  g_assert_cmpuint (uid, ==, 1000);
  tables_clear (&t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/proc-net/parse-line", test_parse_line);
  g_test_add_func ("/proc-net/parse-garbage", test_parse_garbage);
  g_test_add_func ("/proc-net/peer/source-port-trick", test_peer_source_port_trick);
  g_test_add_func ("/proc-net/peer/own-inode", test_peer_own_inode);
  g_test_add_func ("/proc-net/peer/ambiguous", test_peer_ambiguous);
  g_test_add_func ("/proc-net/peer/orphans", test_peer_orphans);
  g_test_add_func ("/proc-net/peer/mapped-and-ipv6", test_peer_mapped_and_ipv6);
  return g_test_run ();
}
