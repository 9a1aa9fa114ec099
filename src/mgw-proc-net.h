/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-proc-net.h: the kernel's table of TCP sockets (/proc/net/tcp{,6}). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MGW_TCP_ESTABLISHED 0x01
#define MGW_TCP_LISTEN      0x0A

typedef struct
{
  guint16 local_port;
  guint16 remote_port;
  guint   state;
  guint   uid;
  guint64 inode;
} MgwTcpSocket;

/* Calls `func` for every TCP socket, IPv4 and IPv6, until it returns
 * FALSE. */
void mgw_proc_net_tcp_foreach (gboolean (*func) (const MgwTcpSocket *socket,
                                                 gpointer            data),
                               gpointer   data);

G_END_DECLS
