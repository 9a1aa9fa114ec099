/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-redirect-policy.h: which redirect targets Teletel may send users
 * to ([redirect] allow). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* ws, wss, telnet and tcp (raw) targets anywhere but on guarded hosts. */
#define MGW_REDIRECT_ALLOW_DEFAULT "ws:*, wss:*, telnet:*, tcp:*"

gboolean mgw_redirect_policy_validate (const char  *allow,
                                       GError     **error);
gboolean mgw_redirect_policy_allows   (const char  *allow,
                                       const char  *uri,
                                       GError     **error);
/* TRUE for a host a wildcard entry never allows: a loopback, link-local
 * or unspecified address (IPv4, IPv6, IPv4-mapped; in brackets or not),
 * localhost and its subdomains. A name is not resolved. */
gboolean mgw_redirect_policy_is_guarded_host (const char *host);

G_END_DECLS
