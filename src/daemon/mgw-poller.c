/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-poller.c: one GSource for every connection's socket and timer.
 *
 * GLib's main loop walks every attached GSource and polls every fd at
 * each wake-up, so with a source or two per socket and a timer or two
 * per session, each keystroke costs time in proportion to the number of
 * open sessions. Here a single GSource owns an epoll instance, where each
 * link registers its socket, and a binary heap of deadlines, where each
 * session and link keeps its timers: a wake-up costs what is ready, not
 * what is open. Everything still runs in the one GMainLoop. */
#include "config.h"

#include "mgw-poller.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_EVENTS 256

struct _MgwWatch
{
  int           fd;
  GIOCondition  events;
  MgwWatchFunc  func;
  gpointer      user_data;
  gboolean      dead;       /* freed during a dispatch: reaped after it */
};

typedef struct
{
  GSource     source;
  int         epfd;
  gpointer    tag;
  GPtrArray  *heap;        /* of MgwTimer, a min-heap on deadline */
  GPtrArray  *graveyard;   /* watches freed while dispatching */
  gboolean    dispatching;
  guint       watches;
} Poller;

static Poller *poller;

/* --- the heap --- */

static inline MgwTimer *
heap_at (guint i)
{
  return poller->heap->pdata[i];
}

static inline void
heap_put (guint     i,
          MgwTimer *timer)
{
  poller->heap->pdata[i] = timer;
  timer->index = i + 1;
}

static void
heap_up (guint i)
{
  MgwTimer *timer = heap_at (i);

  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      if (heap_at (parent)->deadline <= timer->deadline)
        break;
      heap_put (i, heap_at (parent));
      i = parent;
    }
  heap_put (i, timer);
}

static void
heap_down (guint i)
{
  guint n = poller->heap->len;
  MgwTimer *timer = heap_at (i);

  for (;;)
    {
      guint child = 2 * i + 1;
      if (child >= n)
        break;
      if (child + 1 < n && heap_at (child + 1)->deadline < heap_at (child)->deadline)
        child++;
      if (timer->deadline <= heap_at (child)->deadline)
        break;
      heap_put (i, heap_at (child));
      i = child;
    }
  heap_put (i, timer);
}

static void
heap_remove (MgwTimer *timer)
{
  guint i = timer->index - 1;
  guint last = poller->heap->len - 1;
  MgwTimer *moved = heap_at (last);

  g_ptr_array_set_size (poller->heap, last);
  timer->index = 0;
  if (i == last)
    return;
  heap_put (i, moved);
  if (i > 0 && heap_at ((i - 1) / 2)->deadline > moved->deadline)
    heap_up (i);
  else
    heap_down (i);
}

/* --- the source --- */

static gboolean
poller_prepare (GSource *source,
                gint    *timeout)
{
  gint64 now, wait;

  if (poller->heap->len == 0)
    {
      *timeout = -1;
      return FALSE;
    }
  now = g_source_get_time (source);
  wait = heap_at (0)->deadline - now;
  if (wait <= 0)
    {
      *timeout = 0;
      return TRUE;
    }
  /* Round up: waking early would only mean another round. */
  *timeout = (gint) MIN ((wait + 999) / 1000, G_MAXINT);
  return FALSE;
}

static gboolean
poller_check (GSource *source)
{
  if (g_source_query_unix_fd (source, poller->tag) & G_IO_IN)
    return TRUE;
  return poller->heap->len > 0 &&
         heap_at (0)->deadline <= g_source_get_time (source);
}

static GIOCondition
to_condition (guint32 events)
{
  GIOCondition condition = 0;

  if (events & EPOLLIN)
    condition |= G_IO_IN;
  if (events & EPOLLOUT)
    condition |= G_IO_OUT;
  if (events & EPOLLERR)
    condition |= G_IO_ERR;
  if (events & EPOLLHUP)
    condition |= G_IO_HUP;
  return condition;
}

static guint32
to_epoll (GIOCondition condition)
{
  guint32 events = 0;

  if (condition & G_IO_IN)
    events |= EPOLLIN;
  if (condition & G_IO_OUT)
    events |= EPOLLOUT;
  return events;
}

static void
dispatch_fds (void)
{
  static struct epoll_event events[MAX_EVENTS];
  int n;

  n = epoll_wait (poller->epfd, events, MAX_EVENTS, 0);
  if (n < 0 && errno != EINTR)
    g_critical ("epoll_wait: %s", g_strerror (errno));
  for (int i = 0; i < n; i++)
    {
      MgwWatch *watch = events[i].data.ptr;

      if (watch->dead)
        continue;
      watch->func (watch->user_data, to_condition (events[i].events));
    }
}

static MgwPollerClock clock_func = g_get_monotonic_time;

void
mgw_poller_set_clock (MgwPollerClock now)
{
  clock_func = now != NULL ? now : g_get_monotonic_time;
}

gint64
mgw_poller_now (void)
{
  return clock_func ();
}

static void
dispatch_timers (void)
{
  gint64 now = mgw_poller_now ();
  /* Timers a callback sets again for now wait for the next round. */
  guint budget = poller->heap->len;

  while (budget-- > 0 && poller->heap->len > 0 && heap_at (0)->deadline <= now)
    {
      MgwTimer *timer = heap_at (0);

      heap_remove (timer);
      timer->func (timer->user_data);
    }
}

static gboolean
poller_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  poller->dispatching = TRUE;
  if (g_source_query_unix_fd (source, poller->tag) & G_IO_IN)
    dispatch_fds ();
  dispatch_timers ();
  poller->dispatching = FALSE;
  g_ptr_array_set_size (poller->graveyard, 0);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs poller_funcs = {
  poller_prepare,
  poller_check,
  poller_dispatch,
  NULL, NULL, NULL,
};

/* Created on first use in the default main context, for the life of the
 * process (the one GMainLoop). */
static void
ensure_poller (void)
{
  GSource *source;

  if (G_LIKELY (poller != NULL))
    return;
  source = g_source_new (&poller_funcs, sizeof (Poller));
  poller = (Poller *) source;
  poller->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (poller->epfd < 0)
    g_error ("epoll_create1: %s", g_strerror (errno));
  poller->tag = g_source_add_unix_fd (source, poller->epfd, G_IO_IN);
  poller->heap = g_ptr_array_new ();
  poller->graveyard = g_ptr_array_new_with_free_func (g_free);
  g_source_set_name (source, "moipgw poller");
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_attach (source, NULL);
}

/* --- watches --- */

/* Watches `fd` for `events` (G_IO_IN and/or G_IO_OUT; errors and hang-ups
 * are always reported). The caller keeps the fd open until it frees the
 * watch. */
MgwWatch *
mgw_watch_new (int           fd,
               GIOCondition  events,
               MgwWatchFunc  func,
               gpointer      user_data)
{
  MgwWatch *watch;
  struct epoll_event ev = { 0 };

  g_return_val_if_fail (fd >= 0 && func != NULL, NULL);

  ensure_poller ();
  watch = g_new0 (MgwWatch, 1);
  watch->fd = fd;
  watch->events = events;
  watch->func = func;
  watch->user_data = user_data;
  ev.events = to_epoll (events);
  ev.data.ptr = watch;
  if (epoll_ctl (poller->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    g_critical ("epoll_ctl(ADD, %d): %s", fd, g_strerror (errno));
  poller->watches++;
  return watch;
}

void
mgw_watch_set_events (MgwWatch     *watch,
                      GIOCondition  events)
{
  struct epoll_event ev = { 0 };

  g_return_if_fail (watch != NULL);

  if (watch->events == events)
    return;
  watch->events = events;
  ev.events = to_epoll (events);
  ev.data.ptr = watch;
  if (epoll_ctl (poller->epfd, EPOLL_CTL_MOD, watch->fd, &ev) < 0)
    g_critical ("epoll_ctl(MOD, %d): %s", watch->fd, g_strerror (errno));
}

GIOCondition
mgw_watch_get_events (MgwWatch *watch)
{
  g_return_val_if_fail (watch != NULL, 0);

  return watch->events;
}

/* Stops watching; safe from the watch's own callback. */
void
mgw_watch_free (MgwWatch *watch)
{
  if (watch == NULL)
    return;
  if (epoll_ctl (poller->epfd, EPOLL_CTL_DEL, watch->fd, NULL) < 0)
    g_critical ("epoll_ctl(DEL, %d): %s", watch->fd, g_strerror (errno));
  poller->watches--;
  if (poller->dispatching)
    {
      /* Its event may still be in this round's list. */
      watch->dead = TRUE;
      g_ptr_array_add (poller->graveyard, watch);
    }
  else
    g_free (watch);
}

/* --- timers --- */

void
mgw_timer_init (MgwTimer     *timer,
                MgwTimerFunc  func,
                gpointer      user_data)
{
  g_return_if_fail (timer != NULL && func != NULL);

  timer->deadline = 0;
  timer->index = 0;
  timer->func = func;
  timer->user_data = user_data;
}

/* (Re)schedules the timer for `deadline` (mgw_poller_now () µs). */
void
mgw_timer_start_at (MgwTimer *timer,
                    gint64    deadline)
{
  g_return_if_fail (timer != NULL && timer->func != NULL);

  ensure_poller ();
  if (timer->index != 0)
    {
      gint64 old = timer->deadline;
      guint i = timer->index - 1;

      timer->deadline = deadline;
      if (deadline < old)
        heap_up (i);
      else if (deadline > old)
        heap_down (i);
      return;
    }
  timer->deadline = deadline;
  g_ptr_array_add (poller->heap, timer);
  heap_up (poller->heap->len - 1);
}

void
mgw_timer_start (MgwTimer *timer,
                 guint     ms)
{
  g_return_if_fail (timer != NULL);

  mgw_timer_start_at (timer, mgw_poller_now () + (gint64) ms * 1000);
}

/* Safe on a timer that is not scheduled, and from its own callback. */
void
mgw_timer_stop (MgwTimer *timer)
{
  g_return_if_fail (timer != NULL);

  if (timer->index != 0)
    heap_remove (timer);
}

gboolean
mgw_timer_is_active (const MgwTimer *timer)
{
  g_return_val_if_fail (timer != NULL, FALSE);

  return timer->index != 0;
}

guint
mgw_poller_get_watches (void)
{
  return poller ? poller->watches : 0;
}

guint
mgw_poller_get_timers (void)
{
  return poller ? poller->heap->len : 0;
}

void
mgw_poller_run_due_timers (void)
{
  ensure_poller ();
  poller->dispatching = TRUE;
  dispatch_timers ();
  poller->dispatching = FALSE;
  g_ptr_array_set_size (poller->graveyard, 0);
}
