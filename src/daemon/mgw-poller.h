/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-poller.h: one GSource for every connection's socket and timer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* --- fd watches (level-triggered) --- */

typedef struct _MgwWatch MgwWatch;

/* `condition`: what is ready among G_IO_IN, G_IO_OUT, G_IO_ERR, G_IO_HUP. */
typedef void (*MgwWatchFunc) (gpointer     user_data,
                              GIOCondition condition);

MgwWatch *mgw_watch_new        (int           fd,
                                GIOCondition  events,
                                MgwWatchFunc  func,
                                gpointer      user_data);
void      mgw_watch_set_events (MgwWatch     *watch,
                                GIOCondition  events);
GIOCondition mgw_watch_get_events (MgwWatch  *watch);
void      mgw_watch_free       (MgwWatch     *watch);

/* --- timers, in one heap --- */

typedef void (*MgwTimerFunc) (gpointer user_data);

/* Embedded in its owner; zero-initialise or mgw_timer_init() it. */
typedef struct
{
  gint64        deadline;  /* monotonic µs */
  guint         index;     /* in the heap, +1; 0: not scheduled */
  MgwTimerFunc  func;
  gpointer      user_data;
} MgwTimer;

void      mgw_timer_init       (MgwTimer     *timer,
                                MgwTimerFunc  func,
                                gpointer      user_data);
void      mgw_timer_start_at   (MgwTimer     *timer,
                                gint64        deadline);
void      mgw_timer_start      (MgwTimer     *timer,
                                guint         ms);
void      mgw_timer_stop       (MgwTimer     *timer);
gboolean  mgw_timer_is_active  (const MgwTimer *timer);

/* For benchmarks and tests. */
/* The clock of every timer, µs: g_get_monotonic_time () unless a test
 * set another (NULL: back to it). The daemon's objects read time through
 * mgw_poller_now () where their timers depend on it. */
typedef gint64 (*MgwPollerClock) (void);
void      mgw_poller_set_clock   (MgwPollerClock  now);
gint64    mgw_poller_now         (void);
/* Runs the timers due at mgw_poller_now (): for tests on a fake clock
 * (the main loop does it otherwise). */
void      mgw_poller_run_due_timers (void);
guint     mgw_poller_get_watches (void);
guint     mgw_poller_get_timers  (void);

G_END_DECLS
