/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-throttle.c: a token bucket pacing output to a user.
 *
 * Credit grows at `rate` bytes a second up to one tick and a half of
 * burst; a paced link sends what the credit allows and sleeps until the
 * next tick's worth has accumulated. No busy-waiting, no per-byte timer:
 * at 1200 baud a link wakes ten times a second and sends twelve bytes. */
#include "config.h"

#include "mgw-throttle.h"

void
mgw_throttle_init_burst (MgwThrottle *throttle,
                         double       bytes_per_second,
                         gint64       burst_us,
                         gint64       now)
{
  throttle->rate = bytes_per_second > 0 ? bytes_per_second : 0;
  throttle->burst = MAX (1.0, throttle->rate * burst_us / G_USEC_PER_SEC);
  throttle->credit = throttle->burst;
  throttle->last = now;
}

void
mgw_throttle_init (MgwThrottle *throttle,
                   double       bytes_per_second,
                   gint64       now)
{
  mgw_throttle_init_burst (throttle, bytes_per_second, MGW_THROTTLE_TICK_US * 3 / 2, now);
}

static void
refill (MgwThrottle *throttle,
        gint64       now)
{
  if (now > throttle->last)
    {
      throttle->credit += throttle->rate * (now - throttle->last) / G_USEC_PER_SEC;
      if (throttle->credit > throttle->burst)
        throttle->credit = throttle->burst;
    }
  throttle->last = now;
}

gboolean
mgw_throttle_is_full (MgwThrottle *throttle,
                      gint64       now)
{
  if (throttle->rate <= 0)
    return TRUE;
  refill (throttle, now);
  return throttle->credit >= throttle->burst;
}

gsize
mgw_throttle_allow (MgwThrottle *throttle,
                    gint64       now,
                    gsize        want)
{
  double whole;

  if (throttle->rate <= 0)
    return want;
  refill (throttle, now);
  whole = throttle->credit < 0 ? 0 : (gsize) throttle->credit;
  return MIN (want, (gsize) whole);
}

void
mgw_throttle_consume (MgwThrottle *throttle,
                      gsize        n)
{
  if (throttle->rate > 0)
    throttle->credit -= n;
}

gint64
mgw_throttle_delay (MgwThrottle *throttle,
                    gint64       now,
                    gsize        want)
{
  double need, tick;

  if (throttle->rate <= 0)
    return 0;
  refill (throttle, now);
  tick = throttle->rate * MGW_THROTTLE_TICK_US / G_USEC_PER_SEC;
  need = MIN ((double) want, MAX (1.0, tick));
  if (throttle->credit >= need)
    return 0;
  return (gint64) ((need - throttle->credit) * G_USEC_PER_SEC / throttle->rate) + 1;
}

double
mgw_throttle_rate_from_limit (double chars_per_10ms)
{
  return chars_per_10ms > 0 ? chars_per_10ms * 100.0 : 0;
}

double
mgw_throttle_rate_from_baud (guint baud)
{
  return baud / 10.0;
}
