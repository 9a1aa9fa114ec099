/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-access.c: the administrators' rule, for D-Bus and the console. */
#include "config.h"

#include "mgw-access.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

static gboolean
system_group_id (const char *name,
                 guint32    *gid,
                 gpointer    data)
{
  struct group *group = getgrnam (name);

  if (group == NULL)
    return FALSE;
  *gid = (guint32) group->gr_gid;
  return TRUE;
}

/* The user's groups from the database: primary and supplementary. */
static gboolean
system_is_member (guint32  uid,
                  guint32  gid,
                  gpointer data)
{
  struct passwd *pw = getpwuid ((uid_t) uid);
  g_autofree gid_t *groups = NULL;
  int n = 32;

  if (pw == NULL)
    return FALSE;
  if (pw->pw_gid == (gid_t) gid)
    return TRUE;
  for (int tries = 0; tries < 4; tries++)
    {
      int want = n;

      groups = g_renew (gid_t, groups, n);
      if (getgrouplist (pw->pw_name, pw->pw_gid, groups, &want) >= 0)
        {
          for (int i = 0; i < want; i++)
            if (groups[i] == (gid_t) gid)
              return TRUE;
          return FALSE;
        }
      n = want > n ? want : n * 2;
    }
  return FALSE;
}

static MgwAccessDatabase system_database = { system_group_id, system_is_member, 0, NULL };
static const MgwAccessDatabase *database = NULL;

void
mgw_access_set_database (const MgwAccessDatabase *db)
{
  g_return_if_fail (db == NULL || (db->group_id != NULL && db->is_member != NULL));

  database = db;
}

gboolean
mgw_access_is_admin (guint32 uid)
{
  const MgwAccessDatabase *db = database;
  guint32 gid;

  if (db == NULL)
    {
      system_database.self_uid = (guint32) getuid ();
      db = &system_database;
    }
  if (uid == 0)
    return TRUE;
  if (uid == db->self_uid)
    return FALSE;
  return db->group_id (MGW_ADMIN_GROUP, &gid, db->data) &&
         db->is_member (uid, gid, db->data);
}
