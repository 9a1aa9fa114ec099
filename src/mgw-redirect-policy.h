/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-redirect-policy.h: which redirect targets Teletel may send users
 * to ([redirect] allow). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ws, wss and telnet targets anywhere. */
#define MGW_REDIRECT_ALLOW_DEFAULT "ws:*, wss:*, telnet:*"

gboolean mgw_redirect_policy_validate (const char  *allow,
                                       GError     **error);
gboolean mgw_redirect_policy_allows   (const char  *allow,
                                       const char  *uri,
                                       GError     **error);

G_END_DECLS
