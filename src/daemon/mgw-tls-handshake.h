/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-tls-handshake.h: the TLS handshakes of the wss:// listener, between
 * accept and the WebSocket upgrade. Each waits in the poller for its
 * ClientHello, then runs in GIO (glib-networking does the handshake off
 * the main loop and hands the result back), a bounded number at once,
 * bounded in time on the poller's clock; the ones that fail or stall are
 * counted and logged, the ones that succeed are handed on. */
#pragma once

#include <gio/gio.h>

#include "mgw-address-set.h"
#include "mgw-tls.h"

G_BEGIN_DECLS

/* The handshake succeeded: tls (a GTlsServerConnection over the accepted
 * socket) carries the client's bytes from now on. */
typedef void (*MgwTlsHandshakeDone) (GObject    *owner,
                                     GIOStream  *tls,
                                     const char *address,
                                     guint16     port);

typedef struct _MgwTlsHandshakes MgwTlsHandshakes;

/* At most max_running handshakes in GIO at once (the others wait, their
 * ClientHello in the socket), at most max_per_address under way from one
 * address (more are closed at once, counted as failed). */
MgwTlsHandshakes *mgw_tls_handshakes_new          (guint                max_running,
                                                   guint                max_per_address);
/* Addresses the per-address cap does not apply to (borrowed, kept current
 * by their owner): the never-banned and the trusted proxies. */
void              mgw_tls_handshakes_set_exempt   (MgwTlsHandshakes    *self,
                                                   MgwAddressSet       *never_ban,
                                                   MgwAddressSet       *trusted);
/* Told each time a handshake from address starts (+1) and ends (-1),
 * whichever way: the gateway counts them among the connections not yet
 * sessions ([session] max-pending-per-address). */
typedef void (*MgwTlsHandshakeCount) (gpointer    user_data,
                                      const char *address,
                                      int         delta);
void              mgw_tls_handshakes_set_count_func (MgwTlsHandshakes    *self,
                                                     MgwTlsHandshakeCount func,
                                                     gpointer             user_data);
/* Cancels those under way (their owners are released as they end). */
void              mgw_tls_handshakes_free         (MgwTlsHandshakes    *self);
/* Starts the server side of a handshake on connection with identity's
 * certificate; done is called once if it succeeds within timeout_ms.
 * owner is kept alive until the handshake ends, whichever way. */
void              mgw_tls_handshakes_start        (MgwTlsHandshakes    *self,
                                                   MgwTlsIdentity      *identity,
                                                   GSocketConnection   *connection,
                                                   const char          *address,
                                                   guint16              port,
                                                   guint                timeout_ms,
                                                   GObject             *owner,
                                                   MgwTlsHandshakeDone  done);
/* Every handshake under way ends, none succeeds. */
void              mgw_tls_handshakes_cancel_all   (MgwTlsHandshakes    *self);
guint             mgw_tls_handshakes_get_pending  (MgwTlsHandshakes    *self);
guint64           mgw_tls_handshakes_get_done     (MgwTlsHandshakes    *self);
guint64           mgw_tls_handshakes_get_failed   (MgwTlsHandshakes    *self);
guint64           mgw_tls_handshakes_get_timed_out (MgwTlsHandshakes   *self);

G_END_DECLS
