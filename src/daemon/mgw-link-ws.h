/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-link-ws.h: a link over a WebSocket connection. */
#pragma once

#include <gio/gio.h>

#include "mgw-link.h"
#include "mgw-ws-codec.h"

G_BEGIN_DECLS

#define MGW_TYPE_LINK_WS (mgw_link_ws_get_type ())
G_DECLARE_FINAL_TYPE (MgwLinkWs, mgw_link_ws, MGW, LINK_WS, MgwLink)

/* The gateway's verdict on an upgrade request: 101 to take it, or the
 * HTTP status to refuse it with. */
typedef guint (*MgwLinkWsDecide) (MgwLinkWs   *link,
                                  MgwHttpHead *request,
                                  gpointer     user_data);

/* A plain HTTP request (no Upgrade header) on a server link: TRUE when
 * the gateway answered it with mgw_link_ws_reply(); FALSE refuses it
 * with 426, as when nothing serves them. */
typedef gboolean (*MgwLinkWsServe) (MgwLinkWs   *link,
                                    MgwHttpHead *request,
                                    gpointer     user_data);

MgwLink    *mgw_link_ws_accept            (GIOStream               *stream,
                                           MgwFrameType             frame_type,
                                           guint                    timeout_s,
                                           MgwLinkWsDecide          decide,
                                           gpointer                 user_data);
MgwLink    *mgw_link_ws_connect           (GTlsDatabase            *tls_database,
                                           const char              *uri,
                                           const char * const      *protocols,
                                           MgwFrameType             frame_type,
                                           guint                    timeout_ms,
                                           GError                 **error);
void        mgw_link_ws_set_keepalive     (MgwLinkWs               *self,
                                           guint                    interval_s,
                                           guint                    timeout_s);
void        mgw_link_ws_set_serve         (MgwLinkWs               *self,
                                           MgwLinkWsServe           serve,
                                           gpointer                 user_data);
/* The answer to a plain HTTP request, from its serve callback only:
 * `head` (status line, headers and the blank line), then `length` bytes
 * of `body` (NULL: none), read a chunk at a time as the peer takes them;
 * then the link closes ("closed" without error). */
void        mgw_link_ws_reply             (MgwLinkWs               *self,
                                           const char              *head,
                                           GInputStream            *body,
                                           goffset                  length);
void        mgw_link_ws_set_max_incoming  (MgwLinkWs               *self,
                                           guint64                  max_bytes);

G_END_DECLS
