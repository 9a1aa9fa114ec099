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
void        mgw_link_ws_set_max_incoming  (MgwLinkWs               *self,
                                           guint64                  max_bytes);

G_END_DECLS
