/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-link-factory.h: the one place that turns a server's URI into a
 * link: the link type from the scheme, the configuration's timeouts,
 * bounds and keepalive, the session's journal fields. */
#pragma once

#include <gio/gio.h>

#include "mgw-config.h"
#include "mgw-link.h"

G_BEGIN_DECLS

typedef struct
{
  const char         *uri;          /* ws://, wss://, telnet:// or tcp:// (raw) */
  const char * const *protocols;    /* WebSocket subprotocols offered; NULL: none */
  MgwFrameType        frame_type;   /* WebSocket */
  guint               ping;         /* WebSocket keepalive, seconds; 0: none */
  guint               session_id;   /* whose link, for the journal */
  const char         *peer_address;
} MgwLinkRequest;

/* Opens links for a session: mgw_link_open () in the daemon, fakes in
 * the session's unit tests. */
typedef MgwLink *(*MgwLinkOpener) (gpointer              data,
                                   const MgwLinkRequest *request,
                                   GError              **error);

/* A client link to request->uri, connecting ("opened" or "closed"
 * follows); NULL with error for a URI that cannot be used. wss:// trusts
 * tls_database (NULL: the system's). */
MgwLink *mgw_link_open (GTlsDatabase         *tls_database,
                        const MgwConfig      *config,
                        const MgwLinkRequest *request,
                        GError              **error);

G_END_DECLS
