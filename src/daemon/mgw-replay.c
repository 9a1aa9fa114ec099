/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-replay.c: a recording replayed into a link.
 *
 * The file is read 64 KiB at a time, asynchronously (GIO reads a
 * regular file in its worker pool), only when the next line is wanted;
 * one event waits for its time in a poller timer; nothing is sent while
 * the link is congested. So a replay holds at most the read buffer, one
 * line (MGW_RECORDING_LINE_MAX) and one chunk, whatever the file's size,
 * and at most 64 events are handled a turn of the main loop. */
#include "config.h"

#include "mgw-replay.h"

#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>
#include <string.h>

#include "mgw-error.h"
#include "mgw-poller.h"
#include "mgw-recording.h"

#define READ_SIZE       (64 * 1024)
#define EVENTS_A_TURN   64

struct _MgwReplay
{
  GObject        parent_instance;

  GInputStream  *input;
  GCancellable  *cancellable;
  MgwLink       *link;
  MgwReplayPace  pace;
  gint64         origin;       /* mgw_poller_now () at the start */
  guint8        *buf;
  gsize          start;
  gsize          end;
  gboolean       eof;
  gboolean       reading;
  GString       *line;
  guint          lines;
  GByteArray    *pending;      /* the next screen bytes, due at pending_due */
  gint64         pending_due;
  MgwTimer       timer;
  gboolean       running;
  guint64        bytes;
};

G_DEFINE_FINAL_TYPE (MgwReplay, mgw_replay, G_TYPE_OBJECT)

enum {
  SIGNAL_FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void step (MgwReplay *self);

static void
finish (MgwReplay    *self,
        const GError *error)
{
  if (!self->running)
    return;
  self->running = FALSE;
  mgw_timer_stop (&self->timer);
  g_cancellable_cancel (self->cancellable);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, error);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(MgwReplay) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  self->reading = FALSE;
  if (!self->running)
    return;
  if (n < 0)
    {
      finish (self, error);
      return;
    }
  self->start = 0;
  self->end = (gsize) n;
  self->eof = n == 0;
  step (self);
}

/* 1: a whole line in self->line; 0: more to read; -1: error set. */
static int
take_line (MgwReplay *self,
           GError   **error)
{
  const guint8 *nl;
  gsize take;

  if (self->start == self->end)
    return 0;
  nl = memchr (self->buf + self->start, '\n', self->end - self->start);
  take = (nl != NULL ? (gsize) (nl - self->buf) : self->end) - self->start;
  if (self->line->len + take > MGW_RECORDING_LINE_MAX)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                   _("line %u is longer than any the gateway writes"), self->lines + 1);
      return -1;
    }
  g_string_append_len (self->line, (const char *) self->buf + self->start, (gssize) take);
  self->start += take;
  if (nl == NULL)
    return 0;
  self->start++;
  self->lines++;
  return 1;
}

/* The line in self->line: the header, or an event (screen bytes become
 * pending). */
static gboolean
handle_line (MgwReplay *self,
             GError   **error)
{
  g_autoptr(GError) local = NULL;

  if (self->lines == 1)
    {
      MgwRecordingHeader header;

      if (!mgw_recording_parse_header (self->line->str, self->line->len, &header, &local))
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, _("not a recording: %s"),
                       local->message);
          return FALSE;
        }
      mgw_recording_header_clear (&header);
      return TRUE;
    }
  {
    MgwRecordingEvent event;

    if (!mgw_recording_parse_event (self->line->str, self->line->len, &event, &local))
      {
        g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, _("line %u: %s"), self->lines,
                     local->message);
        return FALSE;
      }
    if (mgw_recording_kind_is_screen (event.kind) && event.data->len > 0)
      {
        self->pending_due = mgw_replay_pace_next (&self->pace, event.time, event.data->len);
        self->pending = g_steal_pointer (&event.data);
      }
    mgw_recording_event_clear (&event);
  }
  return TRUE;
}

static void
step (MgwReplay *self)
{
  g_autoptr(GError) error = NULL;

  for (guint n = 0; n < EVENTS_A_TURN && self->running; n++)
    {
      int got;

      if (self->pending != NULL)
        {
          if (mgw_link_get_state (self->link) != MGW_LINK_OPEN)
            return;
          if (mgw_link_get_congested (self->link))
            return;   /* notify::congested steps again */
          if (self->origin + self->pending_due > mgw_poller_now ())
            {
              mgw_timer_start_at (&self->timer, self->origin + self->pending_due);
              return;
            }
          mgw_link_send_data (self->link, self->pending->data, self->pending->len);
          self->bytes += self->pending->len;
          g_clear_pointer (&self->pending, g_byte_array_unref);
        }

      got = take_line (self, &error);
      if (got < 0)
        {
          finish (self, error);
          return;
        }
      if (got == 0)
        {
          /* A last line without its '\n' is being written: left out. */
          if (self->eof)
            {
              if (self->lines == 0)
                {
                  g_set_error_literal (&error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                                       _("not a recording: it is empty"));
                  finish (self, error);
                }
              else
                finish (self, NULL);
            }
          else if (!self->reading)
            {
              self->reading = TRUE;
              g_input_stream_read_async (self->input, self->buf, READ_SIZE, G_PRIORITY_DEFAULT,
                                         self->cancellable, read_cb, g_object_ref (self));
            }
          return;
        }
      if (!handle_line (self, &error))
        {
          finish (self, error);
          return;
        }
      g_string_truncate (self->line, 0);
    }
  /* More next turn. */
  if (self->running)
    mgw_timer_start (&self->timer, 0);
}

static void
timer_cb (gpointer user_data)
{
  MgwReplay *self = user_data;

  g_object_ref (self);
  step (self);
  g_object_unref (self);
}

static void
congested_cb (MgwLink    *link,
              GParamSpec *pspec,
              MgwReplay  *self)
{
  if (!mgw_link_get_congested (link) && self->running)
    mgw_timer_start (&self->timer, 0);
}

void
mgw_replay_start (MgwReplay *self)
{
  g_return_if_fail (MGW_IS_REPLAY (self));
  g_return_if_fail (!self->running);

  self->running = TRUE;
  self->origin = mgw_poller_now ();
  mgw_timer_start (&self->timer, 0);
}

void
mgw_replay_stop (MgwReplay *self)
{
  g_return_if_fail (MGW_IS_REPLAY (self));

  self->running = FALSE;
  mgw_timer_stop (&self->timer);
  g_cancellable_cancel (self->cancellable);
}

guint64
mgw_replay_get_bytes (MgwReplay *self)
{
  g_return_val_if_fail (MGW_IS_REPLAY (self), 0);

  return self->bytes;
}

static void
mgw_replay_dispose (GObject *object)
{
  MgwReplay *self = MGW_REPLAY (object);

  mgw_timer_stop (&self->timer);
  if (self->link != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->link, self);
      g_clear_object (&self->link);
    }
  G_OBJECT_CLASS (mgw_replay_parent_class)->dispose (object);
}

static void
mgw_replay_finalize (GObject *object)
{
  MgwReplay *self = MGW_REPLAY (object);

  g_clear_object (&self->input);
  g_clear_object (&self->cancellable);
  g_free (self->buf);
  g_string_free (self->line, TRUE);
  g_clear_pointer (&self->pending, g_byte_array_unref);
  G_OBJECT_CLASS (mgw_replay_parent_class)->finalize (object);
}

static void
mgw_replay_class_init (MgwReplayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mgw_replay_dispose;
  object_class->finalize = mgw_replay_finalize;
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
mgw_replay_init (MgwReplay *self)
{
  self->buf = g_malloc (READ_SIZE);
  self->line = g_string_new (NULL);
  self->cancellable = g_cancellable_new ();
  mgw_timer_init (&self->timer, timer_cb, self);
}

MgwReplay *
mgw_replay_new (int      fd,
                MgwLink *link,
                double   speed,
                gint64   idle_max)
{
  MgwReplay *self;

  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (MGW_IS_LINK (link), NULL);
  g_return_val_if_fail (speed >= 0, NULL);

  self = g_object_new (MGW_TYPE_REPLAY, NULL);
  self->input = g_unix_input_stream_new (fd, TRUE);
  self->link = g_object_ref (link);
  mgw_replay_pace_init (&self->pace, speed, 0, idle_max);
  g_signal_connect (link, "notify::congested", G_CALLBACK (congested_cb), self);
  return self;
}
