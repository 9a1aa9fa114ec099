/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-rate-table.c: per-address connection rates (mgw-rate-table.c),
 * on a simulated clock: the bucket, the ban after repeated refusals, the
 * rest that forgives, and the bound on the table whatever the number of
 * addresses. */
#include "config.h"

#include "mgw-rate-table.h"

#define MS 1000

/* 5 a second after a burst of 3: the burst at once, then one every
 * 200 ms; refused ones cost nothing but count. */
static void
test_bucket (void)
{
  g_autoptr(MgwRateTable) t = mgw_rate_table_new (0);
  gint64 now = 1000 * G_USEC_PER_SEC;

  mgw_rate_table_set_rate (t, 5, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.1", now), ==, MGW_RATE_ADMIT);
  g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.1", now), ==, MGW_RATE_REFUSE);
  /* Another address has its own bucket. */
  g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.2", now), ==, MGW_RATE_ADMIT);
  now += 210 * MS;
  g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.1", now), ==, MGW_RATE_ADMIT);
  g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.1", now), ==, MGW_RATE_REFUSE);
  /* A third refusal without a rest: banned. */
  g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.1", now), ==, MGW_RATE_BAN);
  /* 192.0.2.2's bucket is full again: dropped, a new one would be the
   * same. */
  g_assert_cmpuint (mgw_rate_table_get_size (t), ==, 1);
}

/* A rest long enough to fill the bucket forgives the refusals. */
static void
test_rest_forgives (void)
{
  g_autoptr(MgwRateTable) t = mgw_rate_table_new (0);
  gint64 now = 0;

  mgw_rate_table_set_rate (t, 2, 2);
  g_assert_cmpint (mgw_rate_table_hit (t, "2001:db8::1", now), ==, MGW_RATE_ADMIT);
  g_assert_cmpint (mgw_rate_table_hit (t, "2001:db8::1", now), ==, MGW_RATE_ADMIT);
  g_assert_cmpint (mgw_rate_table_hit (t, "2001:db8::1", now), ==, MGW_RATE_REFUSE);
  now += G_USEC_PER_SEC + MS;
  g_assert_cmpint (mgw_rate_table_hit (t, "2001:db8::1", now), ==, MGW_RATE_ADMIT);
  g_assert_cmpint (mgw_rate_table_hit (t, "2001:db8::1", now), ==, MGW_RATE_ADMIT);
  g_assert_cmpint (mgw_rate_table_hit (t, "2001:db8::1", now), ==, MGW_RATE_REFUSE);
  g_assert_cmpint (mgw_rate_table_hit (t, "2001:db8::1", now), ==, MGW_RATE_BAN);
}

/* However many addresses connect, the table holds at most its bound; an
 * address that keeps connecting stays in it (the oldest go first) and
 * is banned all the same; rested entries go as the table is used. */
static void
test_bounded (void)
{
  g_autoptr(MgwRateTable) t = mgw_rate_table_new (64);
  gint64 now = 0;
  guint bans = 0;

  mgw_rate_table_set_rate (t, 1, 10);
  for (guint i = 0; i < 5000; i++)
    {
      g_autofree char *other = g_strdup_printf ("10.%u.%u.%u", i >> 16, (i >> 8) & 0xff, i & 0xff);

      g_assert_cmpint (mgw_rate_table_hit (t, other, now), ==, MGW_RATE_ADMIT);
      if (mgw_rate_table_hit (t, "198.51.100.7", now) == MGW_RATE_BAN)
        bans++;
      g_assert_cmpuint (mgw_rate_table_get_size (t), <=, 64);
      now += MS;
    }
  /* 5 s at 1,000 a second: 15 admitted, the rest refused, a ban each 10. */
  g_assert_cmpuint (bans, >=, 400);
  /* Much later, everyone rested: a few connections empty the table. */
  now += (gint64) 3600 * G_USEC_PER_SEC;
  for (guint i = 0; i < 40; i++)
    mgw_rate_table_hit (t, "192.0.2.9", now);
  g_assert_cmpuint (mgw_rate_table_get_size (t), ==, 1);
}

static void
test_off (void)
{
  g_autoptr(MgwRateTable) t = mgw_rate_table_new (0);

  for (guint i = 0; i < 100; i++)
    g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.1", 0), ==, MGW_RATE_ADMIT);
  mgw_rate_table_set_rate (t, 1, 1);
  g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.1", 0), ==, MGW_RATE_ADMIT);
  g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.1", 0), ==, MGW_RATE_BAN);
  mgw_rate_table_set_rate (t, 0, 0);
  g_assert_cmpuint (mgw_rate_table_get_size (t), ==, 0);
  g_assert_cmpint (mgw_rate_table_hit (t, "192.0.2.1", 0), ==, MGW_RATE_ADMIT);
  g_assert_cmpuint (mgw_rate_table_get_size (t), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rate-table/bucket", test_bucket);
  g_test_add_func ("/rate-table/rest-forgives", test_rest_forgives);
  g_test_add_func ("/rate-table/bounded", test_bounded);
  g_test_add_func ("/rate-table/off", test_off);
  return g_test_run ();
}
