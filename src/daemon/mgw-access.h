/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-access.h: who may act on the gateway (the D-Bus methods that
 * change something, the admin console): one rule, written once. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The group whose members administer the gateway. */
#define MGW_ADMIN_GROUP "moipgw"

/* TRUE for root, the daemon's own user (systemd's ExecReload runs as
 * it) and members of MGW_ADMIN_GROUP. gids: the caller's groups as the
 * kernel gave them (D-Bus credentials), n_gids of them; NULL when only the
 * uid is known (the console), then the group database says (the user's
 * primary group and supplementary memberships). */
gboolean mgw_access_is_admin (guint32        uid,
                              const guint32 *gids,
                              gsize          n_gids);
/* The membership half of it, for a given group: in gids when given,
 * else in the group database. */
gboolean mgw_access_is_member (guint32        uid,
                               const guint32 *gids,
                               gsize          n_gids,
                               guint32        gid);

G_END_DECLS
