/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-throttle.c: output pacing, on a simulated clock. */
#include "config.h"

#include "mgw-pacer.h"
#include "mgw-throttle.h"

/* Sends `total` bytes as a paced link does: send what is allowed, sleep
 * as long as told. Returns the simulated time it took, in µs. */
static gint64
simulate (double rate,
          gsize  total,
          guint *wakeups)
{
  MgwThrottle t;
  gint64 now = 0;
  gsize left = total;

  mgw_throttle_init (&t, rate, now);
  *wakeups = 0;
  while (left > 0)
    {
      gsize n = mgw_throttle_allow (&t, now, left);

      if (n > 0)
        {
          mgw_throttle_consume (&t, n);
          left -= n;
          continue;
        }
      now += mgw_throttle_delay (&t, now, left);
      (*wakeups)++;
    }
  return now;
}

/* docs/protocol.md, Output pace: a 12,000-byte page at 1200 baud takes
 * 100 s ± 2 %. */
static void
test_1200_baud (void)
{
  guint wakeups;
  gint64 took = simulate (mgw_throttle_rate_from_baud (1200), 12000, &wakeups);

  g_assert_cmpfloat (mgw_throttle_rate_from_baud (1200), ==, 120.0);
  g_assert_cmpint (took, >=, 98 * G_USEC_PER_SEC);
  g_assert_cmpint (took, <=, 102 * G_USEC_PER_SEC);
  /* A coarse tick: about ten wake-ups a second, not one per byte. */
  g_assert_cmpuint (wakeups, <=, 1100);
  g_assert_cmpuint (wakeups, >=, 900);
}

/* The original's LimitTcpSpeed 1.2 (characters per 10 ms) is 1200 baud. */
static void
test_legacy_limit (void)
{
  guint wakeups;
  gint64 took = simulate (mgw_throttle_rate_from_limit (1.2), 12000, &wakeups);

  g_assert_cmpfloat (mgw_throttle_rate_from_limit (1.2), ==, 120.0);
  g_assert_cmpint (took, >=, 98 * G_USEC_PER_SEC);
  g_assert_cmpint (took, <=, 102 * G_USEC_PER_SEC);
  g_assert_cmpfloat (mgw_throttle_rate_from_limit (0), ==, 0);
}

static void
test_unlimited (void)
{
  MgwThrottle t;

  mgw_throttle_init (&t, 0, 0);
  g_assert_cmpuint (mgw_throttle_allow (&t, 0, 1000000), ==, 1000000);
  mgw_throttle_consume (&t, 1000000);
  g_assert_cmpint (mgw_throttle_delay (&t, 0, 10), ==, 0);
}

/* Idle time does not buy a burst bigger than a tick and a half. */
static void
test_burst_bounded (void)
{
  MgwThrottle t;

  mgw_throttle_init (&t, 120, 0);
  g_assert_cmpuint (mgw_throttle_allow (&t, (gint64) 3600 * G_USEC_PER_SEC, 100000), <=, 18);
}

/* Other speeds, each within 2 %. */
static void
test_speeds (void)
{
  static const guint bauds[] = { 300, 1200, 4800, 9600, 75 };

  for (gsize i = 0; i < G_N_ELEMENTS (bauds); i++)
    {
      guint wakeups;
      double rate = mgw_throttle_rate_from_baud (bauds[i]);
      gsize bytes = (gsize) (rate * 20);   /* 20 s worth */
      gint64 took = simulate (rate, bytes, &wakeups);

      g_assert_cmpint (took, >=, 19.6 * G_USEC_PER_SEC);
      g_assert_cmpint (took, <=, 20.4 * G_USEC_PER_SEC);
    }
}

static guint woken[1000];
static MgwPacer *pacer_under_test;

static void
wake (gpointer link)
{
  guint i = GPOINTER_TO_UINT (link) - 1;

  woken[i]++;
  /* The first link, still short of credit, waits for the next tick. */
  if (i == 0 && woken[0] < 3)
    mgw_pacer_wait (pacer_under_test, link);
}

static gboolean
quit_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* One shared tick wakes every waiting link once; the tick stops when no
 * link waits; a forgotten link is not woken. */
static void
test_pacer (void)
{
  g_autoptr(MgwPacer) pacer = mgw_pacer_new (wake);
  gboolean done = FALSE;

  pacer_under_test = pacer;
  for (guint i = 0; i < G_N_ELEMENTS (woken); i++)
    mgw_pacer_wait (pacer, GUINT_TO_POINTER (i + 1));
  mgw_pacer_wait (pacer, GUINT_TO_POINTER (2));   /* twice: still once */
  mgw_pacer_forget (pacer, GUINT_TO_POINTER (1000));
  g_assert_cmpuint (mgw_pacer_get_waiting (pacer), ==, 999);
  g_timeout_add (MGW_THROTTLE_TICK_US / 1000 * 4, quit_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (woken[0], ==, 3);
  for (guint i = 1; i < 999; i++)
    g_assert_cmpuint (woken[i], ==, 1);
  g_assert_cmpuint (woken[999], ==, 0);
  g_assert_cmpuint (mgw_pacer_get_waiting (pacer), ==, 0);
}

/* The typing rule's bucket: one second deep, full again after a second
 * of rest, and not before. */
static void
test_burst (void)
{
  MgwThrottle t;
  gint64 now = 1000 * G_USEC_PER_SEC;

  mgw_throttle_init_burst (&t, 30, G_USEC_PER_SEC, now);
  g_assert_true (mgw_throttle_is_full (&t, now));
  g_assert_cmpuint (mgw_throttle_allow (&t, now, 100), ==, 30);
  mgw_throttle_consume (&t, 30);
  g_assert_false (mgw_throttle_is_full (&t, now));
  g_assert_cmpuint (mgw_throttle_allow (&t, now, 100), ==, 0);
  g_assert_false (mgw_throttle_is_full (&t, now + G_USEC_PER_SEC / 2));
  g_assert_cmpuint (mgw_throttle_allow (&t, now + G_USEC_PER_SEC / 2, 100), ==, 15);
  g_assert_true (mgw_throttle_is_full (&t, now + G_USEC_PER_SEC));
  g_assert_cmpuint (mgw_throttle_allow (&t, now + 5 * G_USEC_PER_SEC, 100), ==, 30);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/throttle/1200-baud", test_1200_baud);
  g_test_add_func ("/throttle/legacy-limit", test_legacy_limit);
  g_test_add_func ("/throttle/unlimited", test_unlimited);
  g_test_add_func ("/throttle/burst-bounded", test_burst_bounded);
  g_test_add_func ("/throttle/speeds", test_speeds);
  g_test_add_func ("/throttle/pacer", test_pacer);
  g_test_add_func ("/throttle/typing-burst", test_burst);
  return g_test_run ();
}
