/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-throttle.h: output pacing at a Minitel's speed (pure, clock given). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How often a paced link wakes up: each wake sends what accumulated. */
#define MGW_THROTTLE_TICK_US (100 * 1000)

typedef struct
{
  double  rate;      /* bytes per second; 0: no limit */
  double  credit;    /* bytes that may go now */
  double  burst;     /* most credit kept */
  gint64  last;      /* µs, when credit was last updated */
} MgwThrottle;

/* Full, one tick and a half deep (output pacing). */
void    mgw_throttle_init    (MgwThrottle *throttle,
                              double       bytes_per_second,
                              gint64       now);
/* Full, `burst_us` of credit deep (the typing rule: one second). */
void    mgw_throttle_init_burst (MgwThrottle *throttle,
                                 double       bytes_per_second,
                                 gint64       burst_us,
                                 gint64       now);
/* TRUE when the credit is back to the full burst (a long enough rest). */
gboolean mgw_throttle_is_full (MgwThrottle *throttle,
                               gint64       now);
/* Bytes that may be sent now, at most `want`. */
gsize   mgw_throttle_allow   (MgwThrottle *throttle,
                              gint64       now,
                              gsize        want);
void    mgw_throttle_consume (MgwThrottle *throttle,
                              gsize        n);
/* µs to wait before at least one tick's worth (or `want`, if smaller)
 * may go. */
gint64  mgw_throttle_delay   (MgwThrottle *throttle,
                              gint64       now,
                              gsize        want);

/* Original's LimitTcpSpeed/LimitWsSpeed: characters per 10 ms. */
double  mgw_throttle_rate_from_limit (double chars_per_10ms);
/* A Minitel line speed: 1200 baud is 120 characters per second (10 bits
 * a character: start, 7 data, parity, stop). */
double  mgw_throttle_rate_from_baud  (guint  baud);

G_END_DECLS
