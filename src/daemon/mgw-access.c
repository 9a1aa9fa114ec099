/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-access.c: the administrators' rule, for D-Bus and the console. */
#include "config.h"

#include "mgw-access.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

/* The user's groups from the database: primary and supplementary. */
static gboolean
database_has_group (guint32 uid,
                    gid_t   gid)
{
  struct passwd *pw = getpwuid ((uid_t) uid);
  g_autofree gid_t *groups = NULL;
  int n = 32;

  if (pw == NULL)
    return FALSE;
  if (pw->pw_gid == gid)
    return TRUE;
  for (int tries = 0; tries < 4; tries++)
    {
      int want = n;

      groups = g_renew (gid_t, groups, n);
      if (getgrouplist (pw->pw_name, pw->pw_gid, groups, &want) >= 0)
        {
          for (int i = 0; i < want; i++)
            if (groups[i] == gid)
              return TRUE;
          return FALSE;
        }
      n = want > n ? want : n * 2;
    }
  return FALSE;
}

gboolean
mgw_access_is_member (guint32        uid,
                      const guint32 *gids,
                      gsize          n_gids,
                      guint32        gid)
{
  g_return_val_if_fail (gids != NULL || n_gids == 0, FALSE);

  if (gids == NULL)
    return database_has_group (uid, (gid_t) gid);
  for (gsize i = 0; i < n_gids; i++)
    if (gids[i] == gid)
      return TRUE;
  return FALSE;
}

gboolean
mgw_access_is_admin (guint32        uid,
                     const guint32 *gids,
                     gsize          n_gids)
{
  struct group *group;

  g_return_val_if_fail (gids != NULL || n_gids == 0, FALSE);

  if (uid == 0 || uid == getuid ())
    return TRUE;
  group = getgrnam (MGW_ADMIN_GROUP);
  return group != NULL && mgw_access_is_member (uid, gids, n_gids, group->gr_gid);
}
