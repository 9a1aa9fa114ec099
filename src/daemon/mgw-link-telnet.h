/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-link-telnet.h: a link over a Telnet TCP connection, or over a raw
 * one (no telnet: every byte is data both ways, nothing sent of its own,
 * 0xFF not doubled). */
#pragma once

#include <gio/gio.h>

#include "mgw-link.h"
#include "mgw-telnet-codec.h"

G_BEGIN_DECLS

#define MGW_TYPE_LINK_TELNET (mgw_link_telnet_get_type ())
G_DECLARE_FINAL_TYPE (MgwLinkTelnet, mgw_link_telnet, MGW, LINK_TELNET, MgwLink)

MgwLink *mgw_link_telnet_new_server (GIOStream      *stream,
                                     MgwTelnetStart  start);
void     mgw_link_telnet_feed       (MgwLinkTelnet  *self,
                                     const guint8   *data,
                                     gsize           len);
MgwLink *mgw_link_telnet_connect    (const char     *host,
                                     guint16         port,
                                     guint           timeout_ms);
/* The raw forms: a raw TCP user's connection, a tcp:// server. */
MgwLink *mgw_link_telnet_new_raw_server (GIOStream  *stream);
MgwLink *mgw_link_telnet_connect_raw    (const char *host,
                                         guint16     port,
                                         guint       timeout_ms);
gboolean mgw_link_telnet_get_raw        (MgwLinkTelnet *self);

/* The bytes as they come from the peer, before any telnet decoding (a
 * ClientHello or an SMB header holds 0xFF bytes the codec would take for
 * IAC): each read, before "received"; the function may close the link. */
typedef void (*MgwLinkTelnetSniff) (gpointer      user_data,
                                    const guint8 *data,
                                    gsize         len);
/* NULL: no more. */
void     mgw_link_telnet_set_sniff      (MgwLinkTelnet      *self,
                                         MgwLinkTelnetSniff  func,
                                         gpointer            user_data);

G_END_DECLS
