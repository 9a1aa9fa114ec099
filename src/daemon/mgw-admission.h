/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-admission.h: who comes in. The rules a new user meets before any
 * session exists: whose connection it is (a trusted proxy's word, in a
 * PROXY header or a WebSocket request's Forwarded header), a banned
 * address, a gateway that drains, the caps on sessions (in all, per
 * address) and the room left in open files; the refused are counted and
 * told. The gateway asks; the
 * listeners and the PROXY reader stay its. */
#pragma once

#include <gio/gio.h>

#include "mgw-ban-list.h"
#include "mgw-address-set.h"
#include "mgw-config.h"
#include "mgw-http.h"
#include "mgw-link.h"

G_BEGIN_DECLS

typedef struct _MgwAdmission MgwAdmission;

/* The counters are borrowed: they outlive the admission. */
MgwAdmission *mgw_admission_new          (guint64         *refused_banned,
                                          guint64         *refused_full,
                                          guint64         *refused_rate,
                                          guint64         *refused_pending,
                                          guint64         *refused_draining);
void          mgw_admission_free         (MgwAdmission    *self);
/* The ban list to check (borrowed, set once it is loaded). */
void          mgw_admission_set_ban_list (MgwAdmission    *self,
                                          MgwBanList      *bans);
/* The addresses the connection rate does not apply to, and that the
 * pending cap spares (never-ban; local ones are rate-exempt only):
 * borrowed, kept current by the gateway. */
void          mgw_admission_set_exempt   (MgwAdmission    *self,
                                          MgwAddressSet   *never_ban,
                                          MgwAddressSet   *local);
/* The proxies allowed to name their clients (borrowed; the gateway
 * refills the same set at reload). */
void          mgw_admission_set_trusted  (MgwAdmission    *self,
                                          MgwAddressSet   *trusted);
/* The caps in force (borrowed; again after each reload). */
void          mgw_admission_set_config   (MgwAdmission    *self,
                                          const MgwConfig *config);
/* While draining, every new user is refused (rule "draining"). */
void          mgw_admission_set_draining (MgwAdmission    *self,
                                          gboolean         draining);
/* Raises the soft limit on open files to the hard one (each user costs
 * two) and notes how many are open before the first user; logs the room. */
void          mgw_admission_setup_files  (MgwAdmission    *self);

/* TRUE when address is a trusted proxy's. */
gboolean      mgw_admission_is_trusted   (MgwAdmission    *self,
                                          const char      *address);
/* A connection just accepted, before any object exists for it: TRUE to
 * close the bare descriptor at once. A banned address (a trusted
 * proxy's connections are judged by the client they name, later); for
 * a WebSocket one, which cannot be told SERVICE FULL before its
 * upgrade, also no room left in open files. Then the connection rate
 * ([bans] connection-rate) and, for WebSocket, the connections of the
 * address not yet sessions ([session] max-pending-per-address). */
gboolean      mgw_admission_refuse_accept (MgwAdmission   *self,
                                           const char      *address,
                                           MgwAccess        access,
                                           guint            user_fds);
/* A WebSocket request is in, from address (the socket's): whose it is —
 * a trusted proxy's Forwarded (or X-Forwarded-For, as configured) header
 * replaces *address and *port — and the answer: 101 to upgrade, 403 for
 * a banned address. */
guint         mgw_admission_decide_upgrade (MgwAdmission  *self,
                                            MgwHttpHead     *request,
                                            char           **address,
                                            guint16         *port);
/* [bans] connection-rate: TRUE to refuse a new connection from address
 * (counted; burst refusals in a row ban it, rule connection-rate).
 * Never-ban and local addresses are spared. */
gboolean      mgw_admission_refuse_rate  (MgwAdmission    *self,
                                          const char      *address,
                                          MgwAccess        access);
/* [session] max-pending-per-address: TRUE when address already has that
 * many connections not yet sessions (TLS handshakes, WebSocket
 * upgrades); counted, and as many refusals more ban it (rule
 * max-pending-per-address). Trusted proxies and never-ban addresses are
 * spared. */
gboolean      mgw_admission_pending_full (MgwAdmission    *self,
                                          const char      *address);
/* A connection of address not yet a session: +1 as it starts, -1 as it
 * becomes one or closes. */
void          mgw_admission_pending      (MgwAdmission    *self,
                                          const char      *address,
                                          int              delta);
/* Entries in the per-address tables (sessions, pending, rates). */
guint         mgw_admission_get_table_size (MgwAdmission  *self);
/* A banned address: counted and logged, TRUE: refuse without a word
 * (no session, no upstream, no command-channel message). */
gboolean      mgw_admission_is_banned    (MgwAdmission    *self,
                                          const char      *address,
                                          MgwAccess        access);
/* TRUE when a new user would bring the gateway too close to its limit on
 * open files (a redirection and a console need room too); user_fds:
 * descriptors the users hold now. Logs once when nearing it. */
gboolean      mgw_admission_files_short  (MgwAdmission    *self,
                                          guint            user_fds);
/* The caps: NULL when there is room for one more session from address,
 * else the rule that refuses it ("draining", "max-sessions", ...). */
const char   *mgw_admission_refuse_full  (MgwAdmission    *self,
                                          const char      *address,
                                          guint            n_sessions,
                                          guint            user_fds);
/* A user refused by mgw_admission_refuse_full (): counted and told on
 * the status line (SERVICE FULL; while draining, SERVICE CLOSING),
 * closed. */
void          mgw_admission_turn_away    (MgwAdmission    *self,
                                          MgwLink         *link,
                                          const char      *address,
                                          const char      *rule);
/* Sessions open by address: +1 when one starts, -1 when it ends. */
void          mgw_admission_count        (MgwAdmission    *self,
                                          const char      *address,
                                          int              delta);

G_END_DECLS
