/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-proc-net.h: the kernel's table of TCP sockets (/proc/net/tcp{,6}). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MGW_TCP_ESTABLISHED 0x01
#define MGW_TCP_LISTEN      0x0A

/* An address and port; IPv4 as the IPv4-mapped IPv6 address
 * ::ffff:a.b.c.d, so that one end of a connection compares equal
 * whether its socket is in tcp or in tcp6. */
typedef struct
{
  guint8  address[16];
  guint16 port;
} MgwTcpEndpoint;

typedef struct
{
  MgwTcpEndpoint local;
  MgwTcpEndpoint remote;
  guint          state;
  guint          uid;
  guint64        inode;
} MgwTcpSocket;

typedef enum {
  MGW_TCP_PEER_UNKNOWN,     /* no socket at the other end in the tables */
  MGW_TCP_PEER_FOUND,
  MGW_TCP_PEER_AMBIGUOUS,   /* several, owned by different users */
} MgwTcpPeer;

typedef gboolean (*MgwTcpSocketFunc) (const MgwTcpSocket *socket,
                                      gpointer            data);

/* Parses one line of /proc/net/tcp or /proc/net/tcp6; FALSE for the
 * header or anything else. */
gboolean   mgw_proc_net_parse_line        (const char          *line,
                                           MgwTcpSocket        *socket);
/* Calls `func` for every socket of the tables' text (NULL-terminated
 * array), until it returns FALSE. */
void       mgw_proc_net_tables_foreach    (const char * const  *tables,
                                           MgwTcpSocketFunc     func,
                                           gpointer             data);
/* Calls `func` for every TCP socket, IPv4 and IPv6, until it returns
 * FALSE. */
void       mgw_proc_net_tcp_foreach       (MgwTcpSocketFunc     func,
                                           gpointer             data);

/* FALSE for a socket address that is not an Internet one. */
gboolean   mgw_tcp_endpoint_set           (MgwTcpEndpoint      *endpoint,
                                           GSocketAddress      *address);

/* The owner (`uid`) of the socket at the other end of a connection we
 * accepted: the one whose local end is `theirs` and remote end `ours`.
 * `own_inode` (0 if unknown) is our socket's: its entry is never the
 * peer, and must show the reverse tuple. */
MgwTcpPeer mgw_proc_net_find_peer_in      (const char * const  *tables,
                                           const MgwTcpEndpoint *ours,
                                           const MgwTcpEndpoint *theirs,
                                           guint64              own_inode,
                                           guint               *uid);
/* The same in the kernel's tables. */
MgwTcpPeer mgw_proc_net_find_peer         (const MgwTcpEndpoint *ours,
                                           const MgwTcpEndpoint *theirs,
                                           guint64              own_inode,
                                           guint               *uid);

G_END_DECLS
