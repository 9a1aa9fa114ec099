/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-recorder.c: one session's recording, written as it happens.
 *
 * The main loop never waits on the disk: the file is created with
 * g_file_create_async() (the first free name, ID then ID-2...; mode 0640
 * set on its descriptor), written with g_output_stream_write_all_async()
 * and closed with g_output_stream_close_async(), each in a worker of
 * GIO's thread pool for a regular file. Each event is encoded
 * (mgw-recording.c) into the recorder's queue of lines; one operation at
 * most is under way per recorder (a write takes the whole queue), and at
 * most max_in_flight for all the recorders of a pool, so that a disk that
 * hangs cannot hold an unbounded number of workers: beyond it, recorders
 * queue for a slot, in turn.
 *
 * Bounds: a recorder's queue holds MGW_RECORDER_PENDING_MAX bytes, all
 * of a pool's chunks together (waiting or under way) max_queued; an
 * event that would pass either is dropped and counted, and a `dropped`
 * mark says how much once there is room. Chunks use the queue up to
 * MARK_ROOM short of its bound, marks up to TRUNCATED_ROOM short of it:
 * a mark still gets in when chunks are lost, and the last line always
 * does. The file holds at most max-size bytes: the event that would pass
 * it (less the room of a `truncated` mark) is not written, a `truncated`
 * mark is the last line, and nothing more is recorded. A failed write or
 * close stops the recording: one warning, counted; the session goes on
 * regardless. */
#include "config.h"

#include "mgw-recorder.h"

#include <errno.h>
#include <gio/gfiledescriptorbased.h>
#include <string.h>
#include <sys/stat.h>

#include "mgw-poller.h"

#define MARK_ROOM       (4 * 1024)
/* More than a `truncated` mark's longest line (73 bytes). */
#define TRUNCATED_ROOM  128

/* An event of the longest chunk (six characters a byte at worst) fits a
 * queue with nothing else in it. */
G_STATIC_ASSERT (6 * MGW_RECORDER_CHUNK_MAX + 64 <= MGW_RECORDER_PENDING_MAX - MARK_ROOM);

struct _MgwRecorderPool
{
  grefcount             ref;
  guint                 max_in_flight;
  guint                 in_flight;
  gsize                 max_queued;
  gsize                 queued;       /* bytes of lines its recorders hold */
  GQueue                waiting;      /* MgwRecorder (a reference each) waiting for a slot */
  GQueue                deferred;     /* MgwRecorder (a reference each) with lines to write soon */
  MgwTimer              flush;        /* writes them: one timer for all the recorders */
  GString              *line;         /* the event being encoded: one thread, one buffer */
  MgwRecorderCounters   counters;
  MgwRecorderWatchFunc  watch;
  gpointer              watch_data;
};

struct _MgwRecorder
{
  GObject             parent_instance;

  MgwRecorderPool    *pool;
  GFile              *dir;            /* NULL: given a stream */
  MgwRecordingHeader  header;         /* id: the name being tried, then the file's */
  guint               attempt;
  GOutputStream      *stream;
  GString            *header_line;    /* until it is being written */
  GString            *pending;        /* lines waiting; NULL when none */
  GString            *writing;        /* lines under way */
  gsize               queued;         /* of them, counted in the pool's */
  gsize               writing_queued; /* of which under way */
  guint64             size;           /* the file's bytes: written, under way, waiting */
  guint64             reserved;       /* of which for the header, before the file is named */
  gint64              truncated_time;
  guint64             lost_bytes;     /* dropped since the last `dropped` mark */
  guint64             lost_events;
  gint64              last_time;
  GError             *error;
  gboolean            created;        /* its file exists, or its stream was given */
  gboolean            truncated;
  gboolean            truncated_queued; /* its mark the last line waiting */
  gboolean            finishing;      /* the last line queued: closed once written */
  gboolean            closing;
  gboolean            closed;
  gboolean            busy;           /* an operation under way, or waiting for a slot */
  gboolean            deferred;       /* in the pool's deferred queue */
};

G_DEFINE_FINAL_TYPE (MgwRecorder, mgw_recorder, G_TYPE_OBJECT)

enum {
  SIGNAL_READY,
  SIGNAL_FAILED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

typedef enum {
  OP_NONE,
  OP_CREATE,
  OP_WRITE,
  OP_CLOSE,
  OP_DONE,      /* nothing left to do: no file, or closed */
} Operation;

typedef enum {
  ROOM_CHUNK,
  ROOM_MARK,
  ROOM_LAST,
} Room;

static gboolean start_operation (MgwRecorder *self);
static void     kick            (MgwRecorder *self);

/* Lines are written in batches: at most every FLUSH_DELAY_MS, or at once
 * from FLUSH_AT bytes. A write costs a hop to one of GIO's workers and
 * back; a keystroke and its echo, written one by one, cost two of them
 * (bench/recording has the figures). */
#define FLUSH_DELAY_MS 100
#define FLUSH_AT       (16 * 1024)

static void
free_lines (GString *lines)
{
  g_string_free (lines, TRUE);
}

/* --- the pool --- */

/* The deferred recorders' lines, now. */
static void
flush_cb (gpointer data)
{
  MgwRecorderPool *pool = data;
  g_autoptr(MgwRecorderPool) hold = mgw_recorder_pool_ref (pool);
  MgwRecorder *recorder;

  while ((recorder = g_queue_peek_head (&pool->deferred)) != NULL)
    {
      g_object_ref (recorder);
      kick (recorder);   /* takes it out of the queue */
      g_object_unref (recorder);
    }
}

MgwRecorderPool *
mgw_recorder_pool_new (guint max_in_flight,
                       gsize max_queued)
{
  MgwRecorderPool *pool;

  g_return_val_if_fail (max_in_flight > 0, NULL);

  pool = g_new0 (MgwRecorderPool, 1);
  g_ref_count_init (&pool->ref);
  pool->max_in_flight = max_in_flight;
  pool->max_queued = max_queued;
  g_queue_init (&pool->waiting);
  g_queue_init (&pool->deferred);
  mgw_timer_init (&pool->flush, flush_cb, pool);
  pool->line = g_string_new (NULL);
  return pool;
}

MgwRecorderPool *
mgw_recorder_pool_ref (MgwRecorderPool *pool)
{
  g_return_val_if_fail (pool != NULL, NULL);

  g_ref_count_inc (&pool->ref);
  return pool;
}

/* Waiting recorders hold the pool: it goes with the last of them. */
void
mgw_recorder_pool_unref (MgwRecorderPool *pool)
{
  if (pool == NULL || !g_ref_count_dec (&pool->ref))
    return;
  mgw_timer_stop (&pool->flush);
  g_string_free (pool->line, TRUE);
  g_free (pool);
}

void
mgw_recorder_pool_set_watch (MgwRecorderPool      *pool,
                             MgwRecorderWatchFunc  func,
                             gpointer              data)
{
  g_return_if_fail (pool != NULL);

  pool->watch = func;
  pool->watch_data = data;
}

const MgwRecorderCounters *
mgw_recorder_pool_get_counters (MgwRecorderPool *pool)
{
  g_return_val_if_fail (pool != NULL, NULL);

  return &pool->counters;
}

guint
mgw_recorder_pool_get_in_flight (MgwRecorderPool *pool)
{
  g_return_val_if_fail (pool != NULL, 0);

  return pool->in_flight;
}

gsize
mgw_recorder_pool_get_queued (MgwRecorderPool *pool)
{
  g_return_val_if_fail (pool != NULL, 0);

  return pool->queued;
}

/* Slots to the recorders waiting for one, in turn, while some are free. */
static void
pool_dispatch (MgwRecorderPool *pool)
{
  g_autoptr(MgwRecorderPool) hold = mgw_recorder_pool_ref (pool);

  while (pool->in_flight < pool->max_in_flight && !g_queue_is_empty (&pool->waiting))
    {
      g_autoptr(MgwRecorder) recorder = g_queue_pop_head (&pool->waiting);

      if (start_operation (recorder))
        pool->in_flight++;
    }
}

/* --- the operations --- */

static Operation
next_operation (MgwRecorder *self)
{
  if (self->closed || self->closing)
    return OP_NONE;
  if (self->error == NULL && !self->created)
    return OP_CREATE;
  if (self->error == NULL && self->stream != NULL &&
      (self->header_line != NULL || self->pending != NULL))
    return OP_WRITE;
  if (self->error != NULL || self->finishing)
    return self->stream != NULL ? OP_CLOSE : OP_DONE;
  return OP_NONE;
}

/* Closed, or never created: the recorder lets itself go. */
static void
done (MgwRecorder *self)
{
  MgwRecorderPool *pool = self->pool;

  if (self->closed)
    return;
  self->closed = TRUE;
  pool->counters.active--;
  if (pool->watch != NULL)
    pool->watch (pool->watch_data, self->created ? self->header.id : NULL, FALSE);
  g_object_unref (self);
}

/* Something to do: in the queue for a slot (at once when one is free). */
static void
kick (MgwRecorder *self)
{
  Operation op;

  if (self->deferred)
    {
      self->deferred = FALSE;
      g_queue_remove (&self->pool->deferred, self);
      g_object_unref (self);   /* the queue's; the caller holds another */
    }
  if (self->busy)
    return;
  op = next_operation (self);
  if (op == OP_NONE)
    return;
  if (op == OP_DONE)
    {
      done (self);
      return;
    }
  self->busy = TRUE;
  g_queue_push_tail (&self->pool->waiting, g_object_ref (self));
  pool_dispatch (self->pool);
}

/* An operation is over: its slot to the next recorder. */
static void
operation_done (MgwRecorder *self)
{
  MgwRecorderPool *pool = self->pool;

  pool->in_flight--;
  self->busy = FALSE;
  kick (self);
  pool_dispatch (pool);
}

/* Lines written or given up: out of the pool's count. */
static void
release (MgwRecorder *self,
         gsize        bytes)
{
  self->queued -= bytes;
  self->pool->queued -= bytes;
}

static void
fail (MgwRecorder  *self,
      const GError *error,
      const char   *what)
{
  if (self->error != NULL)
    return;
  self->error = g_error_copy (error);
  g_warning ("recording %s of session %u: %s: %s; nothing more is recorded",
             self->header.id, self->header.session, what, error->message);
  self->pool->counters.failures++;
  g_clear_pointer (&self->header_line, free_lines);
  g_clear_pointer (&self->pending, free_lines);
  self->truncated_queued = FALSE;
  release (self, self->queued - self->writing_queued);
  g_signal_emit (self, signals[SIGNAL_FAILED], 0, self->error);
}

static GString *
make_header_line (MgwRecorder *self)
{
  GString *line = g_string_new (NULL);

  mgw_recording_append_header (line, &self->header);
  return line;
}

static void truncated_mark (GString *line,
                            gint64   time,
                            guint64  size);

/* A `truncated` mark queued before the file had its name says the size
 * with the name tried first; said again with the file's. */
static void
restate_truncated (MgwRecorder *self)
{
  gsize start;

  if (!self->truncated_queued)
    return;
  start = self->pending->len - 1;
  while (start > 0 && self->pending->str[start - 1] != '\n')
    start--;
  self->size -= self->pending->len - start;
  release (self, self->pending->len - start);
  g_string_truncate (self->pending, start);
  truncated_mark (self->pending, self->truncated_time, self->size);
  self->size += self->pending->len - start;
  self->queued += self->pending->len - start;
  self->pool->queued += self->pending->len - start;
}

/* The header, first line of the file: the size reserved for it (with the
 * name tried first) becomes its own. A name taken makes it a few bytes
 * longer, within the room kept for the `truncated` mark. */
static void
begin_file (MgwRecorder   *self,
            GOutputStream *stream,
            guint64        reserved)
{
  MgwRecorderPool *pool = self->pool;

  self->stream = g_object_ref (stream);
  self->created = TRUE;
  self->header_line = make_header_line (self);
  self->size = self->size - reserved + self->header_line->len;
  if (self->header_line->len != reserved)
    restate_truncated (self);
  pool->counters.started++;
  if (pool->watch != NULL)
    pool->watch (pool->watch_data, self->header.id, TRUE);
}

/* The header's size with the first name tried. */
static guint64
reserved_header_size (MgwRecorder *self)
{
  g_autofree char *id = self->header.id;
  g_autoptr(GString) line = NULL;

  self->header.id = mgw_recording_make_id (self->header.start, self->header.session, 0);
  line = make_header_line (self);
  g_free (self->header.id);
  self->header.id = g_steal_pointer (&id);
  return line->len;
}

static void
created_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(MgwRecorder) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileOutputStream) stream = g_file_create_finish (G_FILE (source), result, &error);
  int fd;

  if (stream == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS) &&
      self->attempt + 1 < MGW_RECORDER_ATTEMPTS)
    self->attempt++;
  else if (stream == NULL)
    fail (self, error, "cannot create its file");
  else
    {
      /* The group may read it, whatever the umask (the service's is
       * 0077): a call on an open descriptor, not a wait on the disk. */
      fd = g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (stream));
      if (fchmod (fd, 0640) != 0)
        g_warning ("recording %s: cannot make it readable by the group: %s",
                   self->header.id, g_strerror (errno));
      begin_file (self, G_OUTPUT_STREAM (stream), self->reserved);
      g_signal_emit (self, signals[SIGNAL_READY], 0);
    }
  operation_done (self);
}

static void
create_file (MgwRecorder *self)
{
  g_autofree char *name = NULL;
  g_autoptr(GFile) file = NULL;

  g_free (self->header.id);
  self->header.id = mgw_recording_make_id (self->header.start, self->header.session,
                                           self->attempt);
  name = g_strconcat (self->header.id, MGW_RECORDING_SUFFIX, NULL);
  file = g_file_get_child (self->dir, name);
  g_file_create_async (file, G_FILE_CREATE_NONE, G_PRIORITY_DEFAULT, NULL, created_cb,
                       g_object_ref (self));
}

static void queue_lost (MgwRecorder *self,
                        gint64       time);

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(MgwRecorder) self = user_data;
  g_autoptr(GError) error = NULL;
  gsize written = 0;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &written, &error))
    fail (self, error, "cannot write");
  self->pool->counters.bytes += written;
  g_clear_pointer (&self->writing, free_lines);
  self->truncated_queued = self->truncated_queued && self->pending != NULL;
  release (self, self->writing_queued);
  self->writing_queued = 0;
  queue_lost (self, self->last_time);
  operation_done (self);
}

/* The whole queue (after the header, the first time) in one write. */
static void
write_queue (MgwRecorder *self)
{
  self->writing_queued = self->queued;
  if (self->header_line != NULL)
    {
      self->writing = g_steal_pointer (&self->header_line);
      if (self->pending != NULL)
        g_string_append_len (self->writing, self->pending->str, self->pending->len);
      g_clear_pointer (&self->pending, free_lines);
    }
  else
    self->writing = g_steal_pointer (&self->pending);
  g_output_stream_write_all_async (self->stream, self->writing->str, self->writing->len,
                                   G_PRIORITY_DEFAULT, NULL, written_cb, g_object_ref (self));
}

static void
closed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(MgwRecorder) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_close_finish (G_OUTPUT_STREAM (source), result, &error))
    fail (self, error, "cannot close");
  g_clear_object (&self->stream);
  self->closing = FALSE;
  operation_done (self);
}

static void
close_file (MgwRecorder *self)
{
  self->closing = TRUE;
  g_output_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, closed_cb,
                               g_object_ref (self));
}

/* With a slot: TRUE when an operation started (it holds the slot). */
static gboolean
start_operation (MgwRecorder *self)
{
  Operation op = next_operation (self);

  switch (op)
    {
    case OP_CREATE:
      create_file (self);
      return TRUE;
    case OP_WRITE:
      write_queue (self);
      return TRUE;
    case OP_CLOSE:
      close_file (self);
      return TRUE;
    case OP_DONE:
    case OP_NONE:
    default:
      self->busy = FALSE;
      if (op == OP_DONE)
        done (self);
      return FALSE;
    }
}

/* --- events into the queue --- */

static gboolean
accepting (MgwRecorder *self)
{
  return self->error == NULL && !self->truncated && !self->finishing;
}

static gsize
pending_len (MgwRecorder *self)
{
  return self->pending != NULL ? self->pending->len : 0;
}

/* Lines to write: with the next flush, unless there are many. */
static void
kick_soon (MgwRecorder *self)
{
  MgwRecorderPool *pool = self->pool;

  if (self->busy || self->deferred)
    return;   /* written when the operation ends, or with the flush */
  if (next_operation (self) != OP_WRITE || pending_len (self) >= FLUSH_AT)
    {
      kick (self);
      return;
    }
  self->deferred = TRUE;
  g_queue_push_tail (&pool->deferred, g_object_ref (self));
  if (!mgw_timer_is_active (&pool->flush))
    mgw_timer_start (&pool->flush, FLUSH_DELAY_MS);
}

static gboolean
enqueue (MgwRecorder   *self,
         const GString *line,
         Room           room)
{
  MgwRecorderPool *pool = self->pool;
  gsize limit = room == ROOM_CHUNK ? MGW_RECORDER_PENDING_MAX - MARK_ROOM :
                room == ROOM_MARK ? MGW_RECORDER_PENDING_MAX - TRUNCATED_ROOM :
                MGW_RECORDER_PENDING_MAX;

  /* Marks are small and bounded by each queue: only chunks count
   * against the pool's bound. */
  if (pending_len (self) + line->len > limit ||
      (room == ROOM_CHUNK && pool->queued + line->len > pool->max_queued))
    return FALSE;
  if (self->pending == NULL)
    self->pending = g_string_sized_new (line->len);
  g_string_append_len (self->pending, line->str, line->len);
  self->size += line->len;
  self->queued += line->len;
  pool->queued += line->len;
  return TRUE;
}

/* Whether `line` leaves the room of a `truncated` mark under max-size. */
static gboolean
fits_size (MgwRecorder   *self,
           const GString *line)
{
  return self->header.max_size == 0 ||
         self->size + line->len + TRUNCATED_ROOM <= self->header.max_size;
}

static void
truncated_mark (GString *line,
                gint64   time,
                guint64  size)
{
  mgw_recording_append_mark (line, time, "truncated", "#size", size, NULL);
}

/* The mark's size: the bytes before it. */
static void
truncate_here (MgwRecorder *self,
               gint64       time)
{
  g_autoptr(GString) line = g_string_new (NULL);

  truncated_mark (line, time, self->size);
  self->truncated_queued = enqueue (self, line, ROOM_LAST);
  self->truncated = TRUE;
  self->truncated_time = time;
  self->pool->counters.truncated++;
  g_message ("recording of session %u: %" G_GUINT64_FORMAT " bytes, [recording] max-size "
             "reached: truncated", self->header.session, self->size);
}

/* The `dropped` mark, when events were lost and there is room again. */
static void
queue_lost (MgwRecorder *self,
            gint64       time)
{
  g_autoptr(GString) line = NULL;

  if (self->lost_events == 0 || !accepting (self))
    return;
  line = g_string_new (NULL);
  mgw_recording_append_mark (line, time, "dropped", "#bytes", self->lost_bytes,
                             "#chunks", self->lost_events, NULL);
  if (!fits_size (self, line))
    truncate_here (self, time);
  else if (enqueue (self, line, ROOM_MARK))
    {
      self->lost_bytes = 0;
      self->lost_events = 0;
    }
}

/* The event in pool->line, of `bytes` of the session's (0: a mark). */
static void
record_line (MgwRecorder *self,
             gint64       time,
             gsize        bytes,
             Room         room)
{
  GString *line = self->pool->line;

  self->last_time = MAX (self->last_time, time);
  queue_lost (self, time);
  if (accepting (self) && !fits_size (self, line))
    truncate_here (self, time);
  else if (accepting (self) && !enqueue (self, line, room))
    {
      self->lost_bytes += bytes;
      self->lost_events++;
      self->pool->counters.dropped_bytes += bytes;
      self->pool->counters.dropped_events++;
    }
  kick_soon (self);
}

void
mgw_recorder_chunk (MgwRecorder      *self,
                    gint64            time,
                    MgwRecordingKind  kind,
                    guint             redirection,
                    const guint8     *data,
                    gsize             len)
{
  GString *line;

  g_return_if_fail (MGW_IS_RECORDER (self));
  g_return_if_fail (kind < MGW_RECORDING_MARK);
  g_return_if_fail (data != NULL || len == 0);

  if (len == 0 || !accepting (self))
    return;
  line = self->pool->line;
  if (kind == MGW_RECORDING_USER && self->header.input == MGW_RECORDING_INPUT_DROP)
    return;
  if (kind == MGW_RECORDING_USER && self->header.input == MGW_RECORDING_INPUT_MASK)
    {
      g_string_truncate (line, 0);
      mgw_recording_append_masked (line, time, redirection, len);
      record_line (self, time, len, ROOM_CHUNK);
      return;
    }
  for (gsize offset = 0; offset < len && accepting (self);)
    {
      gsize piece = MIN (len - offset, MGW_RECORDER_CHUNK_MAX);

      g_string_truncate (line, 0);
      mgw_recording_append_chunk (line, time, kind, redirection, data + offset, piece);
      record_line (self, time, piece, ROOM_CHUNK);
      offset += piece;
    }
}

void
mgw_recorder_mark_redirect (MgwRecorder *self,
                            gint64       time,
                            const char  *target,
                            guint        redirection)
{
  g_return_if_fail (MGW_IS_RECORDER (self));
  g_return_if_fail (target != NULL);

  if (!accepting (self))
    return;
  g_string_truncate (self->pool->line, 0);
  mgw_recording_append_mark (self->pool->line, time, "redirect", "target", target,
                             "#redirection", (guint64) redirection, NULL);
  record_line (self, time, 0, ROOM_MARK);
}

void
mgw_recorder_mark_return (MgwRecorder *self,
                          gint64       time,
                          guint        redirection,
                          const char  *reason)
{
  g_return_if_fail (MGW_IS_RECORDER (self));

  if (!accepting (self))
    return;
  g_string_truncate (self->pool->line, 0);
  mgw_recording_append_mark (self->pool->line, time, "return",
                             "#redirection", (guint64) redirection,
                             "reason", reason != NULL ? reason : "", NULL);
  record_line (self, time, 0, ROOM_MARK);
}

/* `reason` NULL: a `stop` mark. */
static void
finish_with (MgwRecorder *self,
             gint64       time,
             const char  *reason,
             gboolean     stop)
{
  if (self->finishing)
    return;
  if (accepting (self))
    {
      g_string_truncate (self->pool->line, 0);
      if (stop)
        mgw_recording_append_mark (self->pool->line, time, "stop", NULL);
      else
        mgw_recording_append_mark (self->pool->line, time, "end",
                                   "reason", reason != NULL ? reason : "", NULL);
      record_line (self, time, 0, ROOM_LAST);
    }
  self->finishing = TRUE;
  kick (self);
}

void
mgw_recorder_finish (MgwRecorder *self,
                     gint64       time,
                     const char  *reason)
{
  g_return_if_fail (MGW_IS_RECORDER (self));

  finish_with (self, time, reason, FALSE);
}

void
mgw_recorder_stop (MgwRecorder *self,
                   gint64       time)
{
  g_return_if_fail (MGW_IS_RECORDER (self));

  finish_with (self, time, NULL, TRUE);
}

/* --- object --- */

const char *
mgw_recorder_get_id (MgwRecorder *self)
{
  g_return_val_if_fail (MGW_IS_RECORDER (self), NULL);

  return self->created ? self->header.id : NULL;
}

const GError *
mgw_recorder_get_error (MgwRecorder *self)
{
  g_return_val_if_fail (MGW_IS_RECORDER (self), NULL);

  return self->error;
}

gboolean
mgw_recorder_get_truncated (MgwRecorder *self)
{
  g_return_val_if_fail (MGW_IS_RECORDER (self), FALSE);

  return self->truncated;
}

gboolean
mgw_recorder_get_closed (MgwRecorder *self)
{
  g_return_val_if_fail (MGW_IS_RECORDER (self), FALSE);

  return self->closed;
}

gsize
mgw_recorder_get_pending (MgwRecorder *self)
{
  g_return_val_if_fail (MGW_IS_RECORDER (self), 0);

  return pending_len (self);
}

guint64
mgw_recorder_get_size (MgwRecorder *self)
{
  g_return_val_if_fail (MGW_IS_RECORDER (self), 0);

  return self->size;
}

static void
mgw_recorder_finalize (GObject *object)
{
  MgwRecorder *self = MGW_RECORDER (object);

  g_clear_object (&self->dir);
  g_clear_object (&self->stream);
  mgw_recording_header_clear (&self->header);
  g_clear_pointer (&self->header_line, free_lines);
  g_clear_pointer (&self->pending, free_lines);
  g_clear_pointer (&self->writing, free_lines);
  g_clear_error (&self->error);
  release (self, self->queued);
  g_clear_pointer (&self->pool, mgw_recorder_pool_unref);
  G_OBJECT_CLASS (mgw_recorder_parent_class)->finalize (object);
}

static void
mgw_recorder_class_init (MgwRecorderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mgw_recorder_finalize;

  /* The file is created: mgw_recorder_get_id () says its name. */
  signals[SIGNAL_READY] =
    g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* (const GError *error): the file could not be created or written;
   * nothing more is recorded. */
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
mgw_recorder_init (MgwRecorder *self)
{
}

static MgwRecorder *
recorder_new (MgwRecorderPool          *pool,
              const MgwRecordingHeader *header)
{
  MgwRecorder *self = g_object_new (MGW_TYPE_RECORDER, NULL);

  self->pool = mgw_recorder_pool_ref (pool);
  self->header = *header;
  self->header.id = NULL;
  self->header.peer = g_strdup (header->peer != NULL ? header->peer : "");
  self->header.access = g_strdup (header->access != NULL ? header->access : "");
  self->header.gateway = g_strdup ("moipgw " PACKAGE_VERSION);
  pool->counters.active++;
  /* Its own reference, until its file is closed. */
  g_object_ref (self);
  return self;
}

MgwRecorder *
mgw_recorder_new (MgwRecorderPool          *pool,
                  const char               *dir,
                  const MgwRecordingHeader *header)
{
  MgwRecorder *self;

  g_return_val_if_fail (pool != NULL, NULL);
  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (header != NULL && header->input <= MGW_RECORDING_INPUT_DROP, NULL);

  self = recorder_new (pool, header);
  self->dir = g_file_new_for_path (dir);
  self->reserved = reserved_header_size (self);
  self->size = self->reserved;
  kick (self);
  return self;
}

MgwRecorder *
mgw_recorder_new_for_stream (MgwRecorderPool          *pool,
                             GOutputStream            *stream,
                             const char               *id,
                             const MgwRecordingHeader *header)
{
  MgwRecorder *self;

  g_return_val_if_fail (pool != NULL, NULL);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), NULL);
  g_return_val_if_fail (mgw_recording_id_is_valid (id), NULL);
  g_return_val_if_fail (header != NULL && header->input <= MGW_RECORDING_INPUT_DROP, NULL);

  self = recorder_new (pool, header);
  self->header.id = g_strdup (id);
  begin_file (self, stream, 0);
  kick (self);
  return self;
}
