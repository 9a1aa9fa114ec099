/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-access.c: who administers the gateway, the one rule D-Bus and
 * the console share; a group database of the test's own, then the
 * system's. */
#include "config.h"

#include "mgw-access.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

/* The fake database: the group moipgw is gid 4242 when it exists; uid
 * 1000 has it as its primary group, uid 1001 is a listed member, uid
 * 1002 is in other groups only; the daemon runs as uid 999, whose primary
 * group moipgw is too. */
typedef struct
{
  gboolean have_group;
  guint    lookups;
} FakeDatabase;

static gboolean
fake_group_id (const char *name,
               guint32    *gid,
               gpointer    data)
{
  FakeDatabase *db = data;

  db->lookups++;
  if (!db->have_group || g_strcmp0 (name, MGW_ADMIN_GROUP) != 0)
    return FALSE;
  *gid = 4242;
  return TRUE;
}

static gboolean
fake_is_member (guint32  uid,
                guint32  gid,
                gpointer data)
{
  g_assert_cmpuint (gid, ==, 4242);
  return uid == 1000 || uid == 1001 || uid == 999;
}

static void
test_rule (void)
{
  FakeDatabase fake = { TRUE, 0 };
  MgwAccessDatabase db = { fake_group_id, fake_is_member, 999, &fake };

  mgw_access_set_database (&db);
  g_assert_true (mgw_access_is_admin (0));
  g_assert_true (mgw_access_is_admin (1000));       /* primary group */
  g_assert_true (mgw_access_is_admin (1001));       /* listed member */
  g_assert_false (mgw_access_is_admin (1002));      /* other groups */
  g_assert_false (mgw_access_is_admin (65534));
  /* The daemon's own user, a member, is not an administrator. */
  g_assert_false (mgw_access_is_admin (999));
  g_assert_cmpuint (fake.lookups, >, 0);
  /* Unless it is root. */
  db.self_uid = 0;
  g_assert_true (mgw_access_is_admin (0));
  g_assert_true (mgw_access_is_admin (999));
  db.self_uid = 999;

  /* No group moipgw on the system: root only. */
  fake.have_group = FALSE;
  g_assert_true (mgw_access_is_admin (0));
  g_assert_false (mgw_access_is_admin (1000));
  g_assert_false (mgw_access_is_admin (1001));
  mgw_access_set_database (NULL);
}

/* The system's database: root is, nobody is not (it is in no group
 * moipgw on any sane system), whatever the test runs as. */
static void
test_system (void)
{
  struct passwd *pw = getpwnam ("nobody");
  struct group *group = getgrnam (MGW_ADMIN_GROUP);

  g_assert_true (mgw_access_is_admin (0));
  /* This process's own user, unless root. */
  if (getuid () != 0)
    g_assert_false (mgw_access_is_admin ((guint32) getuid ()));
  if (pw == NULL)
    {
      g_test_skip ("no user nobody");
      return;
    }
  if (group != NULL && pw->pw_gid == group->gr_gid)
    {
      g_test_skip ("nobody's primary group is moipgw here");
      return;
    }
  g_assert_false (mgw_access_is_admin (pw->pw_uid));
  /* A uid with no entry is in no group. */
  g_assert_false (mgw_access_is_admin (4242424));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/access/rule", test_rule);
  g_test_add_func ("/access/system", test_system);
  return g_test_run ();
}
