/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-access.h: who administers the gateway. One rule, for every way in
 * (the D-Bus methods that act or show users' addresses, the admin
 * console), written once: root, and the members of the group moipgw as
 * the group database lists them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The group whose members administer the gateway. */
#define MGW_ADMIN_GROUP "moipgw"

/* Where memberships are read: the system's group database (NSS) unless a
 * test gives its own. group_id: TRUE and *gid for a group's name;
 * is_member: TRUE when the user uid has gid as its primary group or is
 * listed among its members; self_uid: the daemon's own user (getuid ()
 * for the system's). */
typedef gboolean (*MgwAccessGroupIdFunc)  (const char *name,
                                           guint32    *gid,
                                           gpointer    data);
typedef gboolean (*MgwAccessIsMemberFunc) (guint32     uid,
                                           guint32     gid,
                                           gpointer    data);

typedef struct
{
  MgwAccessGroupIdFunc  group_id;
  MgwAccessIsMemberFunc is_member;
  guint32               self_uid;
  gpointer              data;
} MgwAccessDatabase;

/* TRUE for root and members of MGW_ADMIN_GROUP. Never for the daemon's
 * own user, unless it is root (the group moipgw is its primary group):
 * a process running as it (a Teletel server the gateway started, a
 * redirect target on the same host) is not an administrator.
 * The database, not the groups a caller's process happens to carry,
 * decides, so D-Bus and the console answer alike: a user added to the
 * group is one at once, a user removed from it no longer is, even in a
 * login session that still carries the group. */
gboolean mgw_access_is_admin     (guint32                  uid);

/* The database to read; NULL: the system's again. For the tests. */
void     mgw_access_set_database (const MgwAccessDatabase *database);

G_END_DECLS
