/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-proc-net.c: the kernel's table of TCP sockets.
 *
 * /proc/net/tcp and /proc/net/tcp6 list every socket with its addresses,
 * ports, state, owner uid and inode: what netstat shows, without running
 * it. Used to find the Teletel server listening on the command channel's
 * port, and the user behind a console connection on loopback.
 *
 * The user behind a connection is the owner of the socket at its other
 * end: the one whose four-tuple is ours reversed, all four parts of it.
 * Ports alone are not enough: anyone can bind its source port to the
 * console's port number on another loopback address (127.0.0.4), and then
 * the daemon's own socket (root's) matches "local port = peer's port,
 * remote port = console's port" as well as the caller's. */
#include "config.h"

#include "mgw-proc-net.h"

#include <stdio.h>
#include <string.h>

/* The kernel prints each 32-bit word of an address as the native integer
 * holding its bytes in network order ("0100007F" is 127.0.0.1 on a
 * little-endian machine): the word's bytes in memory are the address's. */
static gboolean
parse_words (const char *hex,
             guint       n_words,
             guint8     *out)
{
  for (guint w = 0; w < n_words; w++)
    {
      guint32 word = 0;

      for (guint i = 0; i < 8; i++)
        {
          int digit = g_ascii_xdigit_value (hex[w * 8 + i]);

          if (digit < 0)
            return FALSE;
          word = word << 4 | (guint32) digit;
        }
      memcpy (out + w * 4, &word, sizeof word);
    }
  return TRUE;
}

/* "0100007F:1F47" or 32 hex digits, a colon and the port. */
static gboolean
parse_endpoint (const char     *text,
                MgwTcpEndpoint *endpoint)
{
  const char *colon = strchr (text, ':');
  gsize len = colon != NULL ? (gsize) (colon - text) : 0;
  guint64 port;

  memset (endpoint, 0, sizeof *endpoint);
  if (len == 8)
    {
      endpoint->address[10] = endpoint->address[11] = 0xff;
      if (!parse_words (text, 1, endpoint->address + 12))
        return FALSE;
    }
  else if (len != 32 || !parse_words (text, 4, endpoint->address))
    return FALSE;
  if (!g_ascii_string_to_unsigned (colon + 1, 16, 0, G_MAXUINT16, &port, NULL))
    return FALSE;
  endpoint->port = (guint16) port;
  return TRUE;
}

gboolean
mgw_proc_net_parse_line (const char   *line,
                         MgwTcpSocket *socket)
{
  char local[65], remote[65];
  unsigned int state, uid;
  guint64 inode;

  g_return_val_if_fail (line != NULL && socket != NULL, FALSE);

  /* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout
   * inode; the header line does not match. */
  if (sscanf (line, " %*u: %64s %64s %x %*x:%*x %*x:%*x %*x %u %*u %" G_GUINT64_FORMAT,
              local, remote, &state, &uid, &inode) != 5)
    return FALSE;
  if (!parse_endpoint (local, &socket->local) || !parse_endpoint (remote, &socket->remote))
    return FALSE;
  socket->state = state;
  socket->uid = uid;
  socket->inode = inode;
  return TRUE;
}

/* FALSE when `func` asked to stop. */
static gboolean
table_foreach (const char       *table,
               MgwTcpSocketFunc  func,
               gpointer          data)
{
  g_auto(GStrv) lines = g_strsplit (table, "\n", -1);

  for (char **line = lines; *line != NULL; line++)
    {
      MgwTcpSocket socket;

      if (mgw_proc_net_parse_line (*line, &socket) && !func (&socket, data))
        return FALSE;
    }
  return TRUE;
}

void
mgw_proc_net_tables_foreach (const char * const *tables,
                             MgwTcpSocketFunc    func,
                             gpointer            data)
{
  g_return_if_fail (tables != NULL && func != NULL);

  for (gsize t = 0; tables[t] != NULL; t++)
    if (!table_foreach (tables[t], func, data))
      return;
}

void
mgw_proc_net_tcp_foreach (MgwTcpSocketFunc func,
                          gpointer         data)
{
  static const char * const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };

  g_return_if_fail (func != NULL);

  for (gsize f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *contents = NULL;

      /* No tcp6 without IPv6. */
      if (!g_file_get_contents (files[f], &contents, NULL, NULL))
        continue;
      if (!table_foreach (contents, func, data))
        return;
    }
}

gboolean
mgw_tcp_endpoint_set (MgwTcpEndpoint *endpoint,
                      GSocketAddress *address)
{
  GInetAddress *inet;
  gsize size;

  g_return_val_if_fail (endpoint != NULL && G_IS_SOCKET_ADDRESS (address), FALSE);

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return FALSE;
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  size = g_inet_address_get_native_size (inet);
  memset (endpoint, 0, sizeof *endpoint);
  if (size == 4)
    {
      endpoint->address[10] = endpoint->address[11] = 0xff;
      memcpy (endpoint->address + 12, g_inet_address_to_bytes (inet), 4);
    }
  else if (size == sizeof endpoint->address)
    memcpy (endpoint->address, g_inet_address_to_bytes (inet), size);
  else
    return FALSE;
  endpoint->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  return TRUE;
}

static gboolean
endpoint_equal (const MgwTcpEndpoint *a,
                const MgwTcpEndpoint *b)
{
  return a->port == b->port && memcmp (a->address, b->address, sizeof a->address) == 0;
}

typedef struct
{
  const MgwTcpEndpoint *ours;
  const MgwTcpEndpoint *theirs;
  guint64               own_inode;
  gboolean              own_seen;     /* our socket, with the tuple we expect */
  gboolean              own_moved;    /* our socket, with another tuple */
  guint                 n_found;
  guint                 uid;
  gboolean              ambiguous;
} PeerSearch;

static gboolean
match_peer (const MgwTcpSocket *socket,
            gpointer            data)
{
  PeerSearch *search = data;

  /* Orphans (TIME_WAIT, closed sockets) have no inode and show uid 0:
   * never anyone's. */
  if (socket->inode == 0)
    return TRUE;
  if (socket->inode == search->own_inode)
    {
      if (endpoint_equal (&socket->local, search->ours) &&
          endpoint_equal (&socket->remote, search->theirs))
        search->own_seen = TRUE;
      else
        search->own_moved = TRUE;
      return TRUE;
    }
  if (socket->state != MGW_TCP_ESTABLISHED ||
      !endpoint_equal (&socket->local, search->theirs) ||
      !endpoint_equal (&socket->remote, search->ours))
    return TRUE;
  if (search->n_found > 0 && socket->uid != search->uid)
    search->ambiguous = TRUE;
  search->uid = socket->uid;
  search->n_found++;
  return TRUE;
}

static MgwTcpPeer
peer_result (PeerSearch *search,
             guint      *uid)
{
  /* Tables in which our own socket is missing or elsewhere are not the
   * ones our connection is in (another network namespace): trust none of
   * their entries. */
  if (search->own_inode != 0 && (!search->own_seen || search->own_moved))
    return MGW_TCP_PEER_UNKNOWN;
  if (search->ambiguous)
    return MGW_TCP_PEER_AMBIGUOUS;
  if (search->n_found == 0)
    return MGW_TCP_PEER_UNKNOWN;
  *uid = search->uid;
  return MGW_TCP_PEER_FOUND;
}

MgwTcpPeer
mgw_proc_net_find_peer_in (const char * const   *tables,
                           const MgwTcpEndpoint *ours,
                           const MgwTcpEndpoint *theirs,
                           guint64               own_inode,
                           guint                *uid)
{
  PeerSearch search = { ours, theirs, own_inode };

  g_return_val_if_fail (tables != NULL && ours != NULL && theirs != NULL && uid != NULL, 0);

  mgw_proc_net_tables_foreach (tables, match_peer, &search);
  return peer_result (&search, uid);
}

MgwTcpPeer
mgw_proc_net_find_peer (const MgwTcpEndpoint *ours,
                        const MgwTcpEndpoint *theirs,
                        guint64               own_inode,
                        guint                *uid)
{
  PeerSearch search = { ours, theirs, own_inode };

  g_return_val_if_fail (ours != NULL && theirs != NULL && uid != NULL, 0);

  mgw_proc_net_tcp_foreach (match_peer, &search);
  return peer_result (&search, uid);
}
