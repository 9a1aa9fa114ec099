/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-poller.c: the poller's deadline heap (random operations, checked
 * against the heap property after each one, also from timer callbacks)
 * and its level-triggered watches on a real socketpair. */
#include "config.h"

#include "mgw-poller.h"

#include <sys/socket.h>
#include <unistd.h>

/* --- timers --- */

#define N_TIMERS 64

typedef struct
{
  MgwTimer  timer;
  guint     id;
  gboolean  active;     /* what the test expects */
  guint     fired;
} T;

static T timers[N_TIMERS];
static GArray *fired_order;     /* of guint ids, this round */
static gboolean reenter;        /* callbacks also change the heap */

/* The heap seen from outside: the active timers' indices are 1..n, each
 * once, and no timer is due before its parent. */
static void
check_heap (void)
{
  T *at[N_TIMERS + 1] = { NULL };
  guint n = 0;

  for (guint i = 0; i < N_TIMERS; i++)
    {
      T *t = &timers[i];

      g_assert_cmpint (mgw_timer_is_active (&t->timer), ==, t->active);
      if (!t->active)
        continue;
      n++;
      g_assert_cmpuint (t->timer.index, >=, 1);
      g_assert_cmpuint (t->timer.index, <=, N_TIMERS);
      g_assert_null (at[t->timer.index]);
      at[t->timer.index] = t;
    }
  g_assert_cmpuint (mgw_poller_get_timers (), ==, n);
  for (guint i = 1; i <= n; i++)
    {
      g_assert_nonnull (at[i]);
      if (i > 1)
        g_assert_cmpint (at[i / 2]->timer.deadline, <=, at[i]->timer.deadline);
    }
}

/* One random change: (re)start at a deadline in the past (due) or far in
 * the future, or stop. Deadlines repeat on purpose. */
static void
random_op (void)
{
  T *t = &timers[g_test_rand_int_range (0, N_TIMERS)];

  switch (g_test_rand_int_range (0, 4))
    {
    case 0:
    case 1:
      mgw_timer_start_at (&t->timer, g_test_rand_int_range (1, 200));
      t->active = TRUE;
      break;
    case 2:
      mgw_timer_start_at (&t->timer, g_get_monotonic_time () + (gint64) 3600 * G_USEC_PER_SEC +
                          g_test_rand_int_range (0, 200));
      t->active = TRUE;
      break;
    case 3:
      mgw_timer_stop (&t->timer);
      t->active = FALSE;
      break;
    }
}

static void
timer_cb (gpointer user_data)
{
  T *t = user_data;

  /* Off the heap before its callback runs. */
  g_assert_true (t->active);
  g_assert_false (mgw_timer_is_active (&t->timer));
  t->active = FALSE;
  t->fired++;
  g_array_append_val (fired_order, t->id);
  check_heap ();
  if (reenter)
    {
      /* Stop it again (a no-op), then change the heap from here. */
      mgw_timer_stop (&t->timer);
      for (guint i = 0; i < 3; i++)
        {
          random_op ();
          check_heap ();
        }
    }
}

static void
setup_timers (void)
{
  if (fired_order == NULL)
    fired_order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_array_set_size (fired_order, 0);
  for (guint i = 0; i < N_TIMERS; i++)
    {
      timers[i] = (T) { .id = i };
      mgw_timer_init (&timers[i].timer, timer_cb, &timers[i]);
    }
}

static void
teardown_timers (void)
{
  for (guint i = 0; i < N_TIMERS; i++)
    mgw_timer_stop (&timers[i].timer);
  g_assert_cmpuint (mgw_poller_get_timers (), ==, 0);
}

static gboolean
any_due (void)
{
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < N_TIMERS; i++)
    if (timers[i].active && timers[i].timer.deadline <= now)
      return TRUE;
  return FALSE;
}

/* Random starts, restarts and stops keep the heap a heap; a round fires
 * exactly the due timers, earliest first. */
static void
test_heap_random (void)
{
  setup_timers ();
  for (guint round = 0; round < 200; round++)
    {
      g_autoptr(GArray) due = g_array_new (FALSE, FALSE, sizeof (guint));
      gint64 last = G_MININT64;
      guint ops = g_test_rand_int_range (1, 300);

      for (guint i = 0; i < ops; i++)
        {
          random_op ();
          check_heap ();
        }
      for (guint i = 0; i < N_TIMERS; i++)
        if (timers[i].active && timers[i].timer.deadline < 1000)
          g_array_append_val (due, i);

      g_array_set_size (fired_order, 0);
      if (due->len > 0)
        g_main_context_iteration (NULL, FALSE);
      g_assert_cmpuint (fired_order->len, ==, due->len);
      for (guint i = 0; i < fired_order->len; i++)
        {
          T *t = &timers[g_array_index (fired_order, guint, i)];

          g_assert_cmpint (t->timer.deadline, >=, last);
          last = t->timer.deadline;
        }
      g_assert_false (any_due ());
      check_heap ();
    }
  teardown_timers ();
}

/* Callbacks that start, restart and stop timers (their own included)
 * leave a heap; a round always ends, even when callbacks keep setting
 * timers that are already due. */
static void
test_heap_reentrant (void)
{
  setup_timers ();
  reenter = TRUE;
  for (guint round = 0; round < 300; round++)
    {
      guint before;

      for (guint i = 0; i < 20; i++)
        random_op ();
      check_heap ();
      g_array_set_size (fired_order, 0);
      before = mgw_poller_get_timers ();
      g_main_context_iteration (NULL, FALSE);
      /* A round runs at most as many callbacks as timers were waiting. */
      g_assert_cmpuint (fired_order->len, <=, before);
      check_heap ();
    }
  reenter = FALSE;
  teardown_timers ();
}

static void
count_cb (gpointer user_data)
{
  (*(guint *) user_data)++;
}

/* A timer fires when due, not before, and once. */
static void
test_timer_deadline (void)
{
  MgwTimer timer;
  guint fired = 0;
  gint64 start = g_get_monotonic_time ();

  mgw_timer_init (&timer, count_cb, &fired);
  mgw_timer_start (&timer, 30);
  g_assert_true (mgw_timer_is_active (&timer));
  while (fired == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 30 * 1000);
  g_assert_false (mgw_timer_is_active (&timer));
  g_assert_cmpuint (mgw_poller_get_timers (), ==, 0);
  /* Restarted then stopped: never fires. */
  mgw_timer_start (&timer, 1);
  mgw_timer_start (&timer, 5);
  mgw_timer_stop (&timer);
  g_usleep (10 * 1000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (fired, ==, 1);
}

/* --- watches --- */

typedef struct
{
  MgwWatch     *watch;
  GIOCondition  seen;
  guint         calls;
  MgwWatch    **free_other;  /* freed from this callback */
  gboolean      free_self;
} W;

static void
watch_cb (gpointer     user_data,
          GIOCondition condition)
{
  W *w = user_data;

  g_assert_nonnull (w->watch);
  w->seen |= condition;
  w->calls++;
  if (w->free_other != NULL)
    g_clear_pointer (w->free_other, mgw_watch_free);
  if (w->free_self)
    g_clear_pointer (&w->watch, mgw_watch_free);
}

static void
run_rounds (guint n)
{
  for (guint i = 0; i < n; i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
socket_pair (int fds[2])
{
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), ==, 0);
}

/* Level-triggered: readable while data waits, writable while asked for,
 * nothing once the events are taken away; a hang-up is always told. */
static void
test_watch_events (void)
{
  int fds[2];
  W w = { 0 };
  char buf[8];

  socket_pair (fds);
  w.watch = mgw_watch_new (fds[0], G_IO_IN, watch_cb, &w);
  g_assert_cmpuint (mgw_poller_get_watches (), ==, 1);
  run_rounds (3);
  g_assert_cmpuint (w.calls, ==, 0);

  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  run_rounds (3);
  g_assert_cmpuint (w.calls, ==, 3);  /* not read: told again each round */
  g_assert_cmpint (w.seen, ==, G_IO_IN);
  g_assert_cmpint (read (fds[0], buf, sizeof buf), ==, 1);
  w.calls = 0;
  w.seen = 0;
  run_rounds (2);
  g_assert_cmpuint (w.calls, ==, 0);

  mgw_watch_set_events (w.watch, G_IO_IN | G_IO_OUT);
  g_assert_cmpint (mgw_watch_get_events (w.watch), ==, G_IO_IN | G_IO_OUT);
  run_rounds (1);
  g_assert_cmpuint (w.calls, ==, 1);
  g_assert_cmpint (w.seen, ==, G_IO_OUT);

  mgw_watch_set_events (w.watch, 0);
  g_assert_cmpint (write (fds[1], "y", 1), ==, 1);
  w.calls = 0;
  w.seen = 0;
  run_rounds (2);
  g_assert_cmpuint (w.calls, ==, 0);

  /* The peer gone: told even with no events asked for. */
  close (fds[1]);
  run_rounds (1);
  g_assert_cmpuint (w.calls, ==, 1);
  g_assert_true (w.seen & G_IO_HUP);

  g_clear_pointer (&w.watch, mgw_watch_free);
  g_assert_cmpuint (mgw_poller_get_watches (), ==, 0);
  close (fds[0]);
}

/* Two sockets ready in the same round: whichever callback runs first
 * frees the other's watch (and its own); the other is not called. Then
 * a watch is freed and another made on the same fd from a callback. */
static void
test_watch_free_in_dispatch (void)
{
  int a[2], b[2];
  W wa = { 0 }, wb = { 0 };

  socket_pair (a);
  socket_pair (b);
  wa.watch = mgw_watch_new (a[0], G_IO_IN, watch_cb, &wa);
  wb.watch = mgw_watch_new (b[0], G_IO_IN, watch_cb, &wb);
  wa.free_other = &wb.watch;
  wa.free_self = TRUE;
  wb.free_other = &wa.watch;
  wb.free_self = TRUE;
  g_assert_cmpint (write (a[1], "x", 1), ==, 1);
  g_assert_cmpint (write (b[1], "x", 1), ==, 1);
  run_rounds (3);
  g_assert_cmpuint (wa.calls + wb.calls, ==, 1);
  g_assert_null (wa.watch);
  g_assert_null (wb.watch);
  g_assert_cmpuint (mgw_poller_get_watches (), ==, 0);

  /* Freed and watched again on the same fd, from its callback: the new
   * watch gets the events from the next round on. */
  wa = (W) { 0 };
  wb = (W) { 0 };
  wa.watch = mgw_watch_new (a[0], G_IO_IN, watch_cb, &wa);
  wa.free_self = TRUE;
  run_rounds (1);
  g_assert_cmpuint (wa.calls, ==, 1);
  g_assert_null (wa.watch);
  wb.watch = mgw_watch_new (a[0], G_IO_IN, watch_cb, &wb);
  run_rounds (2);
  g_assert_cmpuint (wa.calls, ==, 1);
  g_assert_cmpuint (wb.calls, ==, 2);
  g_clear_pointer (&wb.watch, mgw_watch_free);
  g_assert_cmpuint (mgw_poller_get_watches (), ==, 0);
  close (a[0]);
  close (a[1]);
  close (b[0]);
  close (b[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/poller/heap/random", test_heap_random);
  g_test_add_func ("/poller/heap/reentrant", test_heap_reentrant);
  g_test_add_func ("/poller/timer/deadline", test_timer_deadline);
  g_test_add_func ("/poller/watch/events", test_watch_events);
  g_test_add_func ("/poller/watch/free-in-dispatch", test_watch_free_in_dispatch);
  return g_test_run ();
}
