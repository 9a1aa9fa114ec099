/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-listener.h: listening sockets accepted from the poller. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MgwListener MgwListener;

/* A connection accepted: `fd` (non-blocking, close-on-exec) is the
 * callback's to keep or close; `address` is the peer's, as text (an IPv4
 * peer on an IPv6 socket shown as IPv4), valid during the call. */
typedef void (*MgwAcceptFunc) (int         fd,
                               const char *address,
                               guint16     port,
                               gpointer    user_data);

MgwListener       *mgw_listener_new  (const char * const  *addresses,
                                      int                  port,
                                      guint                backlog,
                                      MgwAcceptFunc        func,
                                      gpointer             user_data,
                                      guint16             *port_out,
                                      GError             **error);
void               mgw_listener_free (MgwListener         *self);

/* Wraps an accepted fd for the GIO side of the gateway (takes it, even on
 * failure). */
GSocketConnection *mgw_socket_connection_new_from_fd (int      fd,
                                                      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwListener, mgw_listener_free)

G_END_DECLS
