/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-admission.c: the per-address rules of mgw-admission.c alone, on
 * a fake clock with an in-memory ban list: the connection rate refuses
 * then bans, the pending cap refuses then bans, who is spared, the
 * tables empty as connections end, and a draining gateway refuses all. (End to end: test-abuse,
 * test-hostile, test-tls.) */
#include "config.h"

#include "mgw-admission.h"
#include "mgw-poller.h"

static gint64 fake_now = 1000 * G_USEC_PER_SEC;

static gint64
fake_clock (void)
{
  return fake_now;
}

typedef struct
{
  MgwConfig     *config;
  MgwBanList    *bans;
  MgwAddressSet *never_ban;
  MgwAddressSet *local;
  MgwAddressSet *trusted;
  MgwAdmission  *admission;
  guint64        banned, full, rate, pending, draining;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->config = mgw_config_new_default ();
  f->config->connection_rate = 1;
  f->config->connection_burst = 2;
  f->config->max_pending_per_address = 2;
  f->bans = mgw_ban_list_new (NULL, NULL, NULL);
  f->never_ban = mgw_address_set_new ();
  f->local = mgw_address_set_new ();
  f->trusted = mgw_address_set_new ();
  g_assert_true (mgw_address_set_add (f->never_ban, "198.51.100.0/24", NULL));
  g_assert_true (mgw_address_set_add (f->local, "127.0.0.0/8", NULL));
  g_assert_true (mgw_address_set_add (f->trusted, "192.0.2.1", NULL));
  mgw_ban_list_set_exempt (f->bans, f->never_ban, f->local);
  f->admission = mgw_admission_new (&f->banned, &f->full, &f->rate, &f->pending,
                                    &f->draining);
  mgw_admission_set_ban_list (f->admission, f->bans);
  mgw_admission_set_exempt (f->admission, f->never_ban, f->local);
  mgw_admission_set_trusted (f->admission, f->trusted);
  mgw_admission_set_config (f->admission, f->config);
  mgw_poller_set_clock (fake_clock);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  mgw_poller_set_clock (NULL);
  mgw_admission_free (f->admission);
  g_object_unref (f->bans);
  mgw_address_set_free (f->never_ban);
  mgw_address_set_free (f->local);
  mgw_address_set_free (f->trusted);
  mgw_config_unref (f->config);
}

/* 1 a second after a burst of 2: the third refused, the fourth banned;
 * a banned address is refused as such from then on. */
static void
test_rate (Fixture *f, gconstpointer data)
{
  const char *a = "203.0.113.1";

  g_assert_false (mgw_admission_refuse_accept (f->admission, a, MGW_ACCESS_TELNET, 0));
  g_assert_false (mgw_admission_refuse_accept (f->admission, a, MGW_ACCESS_TELNET, 0));
  g_assert_true (mgw_admission_refuse_accept (f->admission, a, MGW_ACCESS_TELNET, 0));
  g_assert_false (mgw_ban_list_check (f->bans, a));
  g_assert_true (mgw_admission_refuse_accept (f->admission, a, MGW_ACCESS_TELNET, 0));
  g_assert_true (mgw_ban_list_check (f->bans, a));
  g_assert_cmpuint (f->rate, ==, 2);
  g_assert_true (mgw_admission_refuse_accept (f->admission, a, MGW_ACCESS_WS, 0));
  g_assert_cmpuint (f->banned, ==, 1);
  g_assert_cmpuint (f->rate, ==, 2);

  /* One a second is the rate: never refused. */
  for (guint i = 0; i < 10; i++)
    {
      g_assert_false (mgw_admission_refuse_accept (f->admission, "203.0.113.2",
                                                   MGW_ACCESS_TELNET, 0));
      fake_now += G_USEC_PER_SEC;
    }
}

/* The addresses of one IPv6 prefix ([bans] ipv6-prefix, 64) share one
 * bucket, as they share a ban: rotating through them gains nothing. The
 * next /64 has its own. */
static void
test_rate_ipv6_prefix (Fixture *f, gconstpointer data)
{
  g_assert_false (mgw_admission_refuse_accept (f->admission, "2001:db8:1:2::a", MGW_ACCESS_TELNET, 0));
  g_assert_false (mgw_admission_refuse_accept (f->admission, "2001:db8:1:2::b", MGW_ACCESS_TELNET, 0));
  g_assert_true (mgw_admission_refuse_accept (f->admission, "2001:db8:1:2:ffff::c", MGW_ACCESS_TELNET, 0));
  g_assert_false (mgw_admission_refuse_accept (f->admission, "2001:db8:1:3::a", MGW_ACCESS_TELNET, 0));
  /* The second refusal bans the prefix. */
  g_assert_true (mgw_admission_refuse_accept (f->admission, "2001:db8:1:2::d", MGW_ACCESS_TELNET, 0));
  g_assert_true (mgw_ban_list_check (f->bans, "2001:db8:1:2::e"));
  g_assert_false (mgw_ban_list_check (f->bans, "2001:db8:1:3::a"));
  g_assert_cmpuint (f->rate, ==, 2);
}

/* Never-banned, local and trusted addresses are not rate-limited (a
 * trusted proxy's clients are, once named: mgw_admission_refuse_rate). */
static void
test_rate_spared (Fixture *f, gconstpointer data)
{
  static const char *const spared[] = { "198.51.100.7", "127.0.0.2", "192.0.2.1" };

  for (gsize k = 0; k < G_N_ELEMENTS (spared); k++)
    for (guint i = 0; i < 10; i++)
      g_assert_false (mgw_admission_refuse_accept (f->admission, spared[k], MGW_ACCESS_TELNET, 0));
  g_assert_cmpuint (f->rate, ==, 0);
  g_assert_cmpuint (mgw_admission_get_table_size (f->admission), ==, 0);
  g_assert_false (mgw_admission_refuse_rate (f->admission, "203.0.113.3", MGW_ACCESS_WS));
  g_assert_false (mgw_admission_refuse_rate (f->admission, "203.0.113.3", MGW_ACCESS_WS));
  g_assert_true (mgw_admission_refuse_rate (f->admission, "203.0.113.3", MGW_ACCESS_WS));
}

/* Two pending from one address: the next ones refused, the second
 * refusal bans; the entry goes when they end. Never-banned addresses,
 * trusted proxies have no cap; local ones have it, and are not banned. */
static void
test_pending (Fixture *f, gconstpointer data)
{
  const char *a = "203.0.113.4";

  f->config->connection_rate = 0;
  mgw_admission_set_config (f->admission, f->config);
  mgw_admission_pending (f->admission, a, +1);
  mgw_admission_pending (f->admission, a, +1);
  g_assert_true (mgw_admission_pending_full (f->admission, a));
  g_assert_false (mgw_ban_list_check (f->bans, a));
  g_assert_true (mgw_admission_pending_full (f->admission, a));
  g_assert_true (mgw_ban_list_check (f->bans, a));
  g_assert_cmpuint (f->pending, ==, 2);
  g_assert_false (mgw_admission_pending_full (f->admission, "203.0.113.5"));
  mgw_admission_pending (f->admission, a, -1);
  g_assert_false (mgw_admission_pending_full (f->admission, a));
  mgw_admission_pending (f->admission, a, -1);
  g_assert_cmpuint (mgw_admission_get_table_size (f->admission), ==, 0);

  for (guint i = 0; i < 5; i++)
    {
      mgw_admission_pending (f->admission, "198.51.100.8", +1);
      mgw_admission_pending (f->admission, "192.0.2.1", +1);
    }
  g_assert_false (mgw_admission_pending_full (f->admission, "198.51.100.8"));
  g_assert_false (mgw_admission_pending_full (f->admission, "192.0.2.1"));
  for (guint i = 0; i < 2; i++)
    mgw_admission_pending (f->admission, "127.0.0.3", +1);
  for (guint i = 0; i < 4; i++)
    g_assert_true (mgw_admission_pending_full (f->admission, "127.0.0.3"));
  g_assert_false (mgw_ban_list_check (f->bans, "127.0.0.3"));
  /* Off: no cap. */
  f->config->max_pending_per_address = 0;
  g_assert_false (mgw_admission_pending_full (f->admission, "127.0.0.3"));
}

/* Draining refuses everyone, spared addresses and trusted proxies too,
 * with room left; resumed, the caps decide again. */
static void
test_draining (Fixture *f, gconstpointer data)
{
  static const char *addresses[] = { "203.0.113.6", "198.51.100.8", "192.0.2.1", "127.0.0.1" };

  f->config->max_sessions = 0;
  f->config->max_sessions_per_address = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (addresses); i++)
    g_assert_null (mgw_admission_refuse_full (f->admission, addresses[i], 0, 0));
  mgw_admission_set_draining (f->admission, TRUE);
  for (gsize i = 0; i < G_N_ELEMENTS (addresses); i++)
    g_assert_cmpstr (mgw_admission_refuse_full (f->admission, addresses[i], 0, 0), ==, "draining");
  mgw_admission_set_draining (f->admission, FALSE);
  for (gsize i = 0; i < G_N_ELEMENTS (addresses); i++)
    g_assert_null (mgw_admission_refuse_full (f->admission, addresses[i], 0, 0));
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, setup, func, teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/admission/rate", test_rate);
  ADD ("/admission/rate-ipv6-prefix", test_rate_ipv6_prefix);
  ADD ("/admission/rate-spared", test_rate_spared);
  ADD ("/admission/pending", test_pending);
  ADD ("/admission/draining", test_draining);
  return g_test_run ();
}
