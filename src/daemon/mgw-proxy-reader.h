/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-proxy-reader.h: the PROXY header (v1 or v2) a trusted proxy sends
 * first on a Telnet connection, read before anything else is done with
 * it. The one per-connection GSource of the daemon outside the poller:
 * only trusted proxies reach it, for at most the header timeout. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The connection's client: the address and port the header names (the
 * socket's when it names none, or when no header came in time); initial:
 * the bytes read after the header, the user's first. */
typedef void (*MgwProxyAdmit)  (GObject           *owner,
                                GSocketConnection *connection,
                                const char        *address,
                                guint16            port,
                                const guint8      *initial,
                                gsize              initial_len,
                                gpointer           data);
/* A malformed, oversized or incomplete header: the connection is closed
 * (and logged) after this. */
typedef void (*MgwProxyRefuse) (GObject           *owner,
                                const char        *address,
                                const char        *why);

/* Reads the header from connection (the socket's address and port given)
 * for up to timeout_ms, then calls admit or refuse once, unless the
 * proxy closed first (logged, nothing called). owner is kept alive until
 * then; data is given to admit as it is. */
void mgw_proxy_reader_start (GSocketConnection *connection,
                             const char        *address,
                             guint16            port,
                             guint              timeout_ms,
                             GObject           *owner,
                             MgwProxyAdmit      admit,
                             MgwProxyRefuse     refuse,
                             gpointer           data);

G_END_DECLS
