/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-access.c: who may act on the gateway, the one rule D-Bus and the
 * console share. */
#include "config.h"

#include "mgw-access.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

static void
test_root_and_self (void)
{
  g_assert_true (mgw_access_is_admin (0, NULL, 0));
  g_assert_true (mgw_access_is_admin ((guint32) getuid (), NULL, 0));
}

/* With the caller's groups given (D-Bus credentials), they decide, not
 * the database. */
static void
test_given_groups (void)
{
  static const guint32 gids[] = { 100, 200, 4242 };

  g_assert_true (mgw_access_is_member (12345, gids, G_N_ELEMENTS (gids), 4242));
  g_assert_false (mgw_access_is_member (12345, gids, 2, 4242));
  g_assert_false (mgw_access_is_member (12345, gids, 0, 100));
}

/* Only a uid known (the console): the user's primary group and the
 * group database's members. */
static void
test_database (void)
{
  struct passwd *pw = getpwnam ("nobody");
  struct passwd *me = getpwuid (getuid ());

  if (pw == NULL || me == NULL)
    {
      g_test_skip ("no user nobody, or no entry for this user");
      return;
    }
  g_assert_true (mgw_access_is_member (pw->pw_uid, NULL, 0, pw->pw_gid));
  g_assert_false (mgw_access_is_member (pw->pw_uid, NULL, 0, 4242424));
  g_assert_true (mgw_access_is_member (me->pw_uid, NULL, 0, me->pw_gid));
  /* A uid with no entry is in no group. */
  g_assert_false (mgw_access_is_member (4242424, NULL, 0, me->pw_gid));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/access/root-and-self", test_root_and_self);
  g_test_add_func ("/access/given-groups", test_given_groups);
  g_test_add_func ("/access/database", test_database);
  return g_test_run ();
}
