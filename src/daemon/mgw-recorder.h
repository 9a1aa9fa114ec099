/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-recorder.h: one session's recording (docs/protocol.md, Session
 * recordings), written as it happens through a bounded queue with GIO's
 * asynchronous file operations; what the recorders share (the cap on
 * operations under way, the counters) is an MgwRecorderPool. */
#pragma once

#include <gio/gio.h>

#include "mgw-recording.h"

G_BEGIN_DECLS

/* The bounds (docs/security.md, Recordings). A chunk longer than the
 * format allows in one event (64 KiB) is cut into several. */
#define MGW_RECORDER_CHUNK_MAX      (64 * 1024)
/* Bytes of lines a recorder holds for the disk, beyond the one write it
 * has under way: more than the longest line (MGW_RECORDING_LINE_MAX), so
 * that an event of the longest chunk always fits an empty queue. An
 * event that would pass it is dropped and counted. */
#define MGW_RECORDER_PENDING_MAX    (512 * 1024)
/* Bytes of chunks all the recorders of a pool hold at once, waiting or
 * under way: whatever the number of recorded sessions. */
#define MGW_RECORDER_QUEUED_MAX     (32 * 1024 * 1024)
/* File operations (create, write, close) under way at once, for all the
 * recorders of a pool: each may hold a worker of GIO's thread pool. */
#define MGW_RECORDER_IN_FLIGHT_MAX  32
/* Names tried for a recording: ID, then ID-2... */
#define MGW_RECORDER_ATTEMPTS       100

typedef struct
{
  guint64 started;          /* recordings whose file was created */
  guint   active;           /* recorders not yet closed */
  guint64 bytes;            /* bytes written to recordings */
  guint64 dropped_bytes;    /* bytes of the events dropped: the disk did not keep up */
  guint64 dropped_events;
  guint64 failures;         /* recordings never created or stopped by a write error */
  guint64 truncated;        /* recordings that reached their max-size */
} MgwRecorderCounters;

typedef struct _MgwRecorderPool MgwRecorderPool;

/* A recording's file was created (`open`, its id), or a recorder is done
 * (closed, or failed; id NULL when it never had a file). */
typedef void (*MgwRecorderWatchFunc) (gpointer    data,
                                      const char *id,
                                      gboolean    open);

/* max_in_flight: operations under way at once; max_queued: bytes of
 * chunks held at once (MGW_RECORDER_IN_FLIGHT_MAX, MGW_RECORDER_QUEUED_MAX
 * for the gateway). */
MgwRecorderPool           *mgw_recorder_pool_new           (guint                 max_in_flight,
                                                            gsize                 max_queued);
MgwRecorderPool           *mgw_recorder_pool_ref           (MgwRecorderPool      *pool);
void                       mgw_recorder_pool_unref         (MgwRecorderPool      *pool);
void                       mgw_recorder_pool_set_watch     (MgwRecorderPool      *pool,
                                                            MgwRecorderWatchFunc  func,
                                                            gpointer              data);
const MgwRecorderCounters *mgw_recorder_pool_get_counters  (MgwRecorderPool      *pool);
guint                      mgw_recorder_pool_get_in_flight (MgwRecorderPool      *pool);
/* Bytes of lines its recorders hold, waiting or under way. */
gsize                      mgw_recorder_pool_get_queued    (MgwRecorderPool      *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwRecorderPool, mgw_recorder_pool_unref)

#define MGW_TYPE_RECORDER (mgw_recorder_get_type ())
G_DECLARE_FINAL_TYPE (MgwRecorder, mgw_recorder, MGW, RECORDER, GObject)

/* A recording in `dir`: header's fields but id and gateway (the
 * recorder's own: the first free name, "moipgw VERSION"). Its file is
 * created asynchronously: "ready" when it is, "failed" when it cannot be;
 * events meanwhile wait in the queue. The recorder keeps itself alive
 * until its file is closed: its owner may drop it after finish or stop. */
MgwRecorder  *mgw_recorder_new            (MgwRecorderPool          *pool,
                                           const char               *dir,
                                           const MgwRecordingHeader *header);
/* Tests: a recording written into `stream`, open already, named `id`. */
MgwRecorder  *mgw_recorder_new_for_stream (MgwRecorderPool          *pool,
                                           GOutputStream            *stream,
                                           const char               *id,
                                           const MgwRecordingHeader *header);

/* Events; `time`: µs since the session's start. `redirection`: that of
 * the chunk (1 the first), 0 outside one. A user chunk is kept as the
 * header's input says. */
void          mgw_recorder_chunk          (MgwRecorder              *self,
                                           gint64                    time,
                                           MgwRecordingKind          kind,
                                           guint                     redirection,
                                           const guint8             *data,
                                           gsize                     len);
void          mgw_recorder_mark_redirect  (MgwRecorder              *self,
                                           gint64                    time,
                                           const char               *target,
                                           guint                     redirection);
void          mgw_recorder_mark_return    (MgwRecorder              *self,
                                           gint64                    time,
                                           guint                     redirection,
                                           const char               *reason);
/* The last line, `end` (the session ended, `reason`) or `stop` (an
 * operator stopped the recording); then the file is closed. */
void          mgw_recorder_finish         (MgwRecorder              *self,
                                           gint64                    time,
                                           const char               *reason);
void          mgw_recorder_stop           (MgwRecorder              *self,
                                           gint64                    time);

/* NULL until the file is created. */
const char   *mgw_recorder_get_id         (MgwRecorder              *self);
/* Why it failed; NULL while it has not. */
const GError *mgw_recorder_get_error      (MgwRecorder              *self);
gboolean      mgw_recorder_get_truncated  (MgwRecorder              *self);
/* Its file closed (or never created): nothing more will happen. */
gboolean      mgw_recorder_get_closed     (MgwRecorder              *self);
/* Bytes of lines waiting for the disk (at most MGW_RECORDER_PENDING_MAX). */
gsize         mgw_recorder_get_pending    (MgwRecorder              *self);
/* Bytes of the file: written, being written and waiting. */
guint64       mgw_recorder_get_size       (MgwRecorder              *self);

G_END_DECLS
