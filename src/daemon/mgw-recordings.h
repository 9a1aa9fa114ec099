/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-recordings.h: the recordings directory (<state-dir>/recordings):
 * what is there, retention by count, age and total size, opening one
 * to replay it, removing one. */
#pragma once

#include <gio/gio.h>

#include "mgw-recording.h"

G_BEGIN_DECLS

typedef struct {
  char               *id;
  gboolean            readable;   /* the header was read */
  MgwRecordingHeader  header;     /* when readable */
  guint64             size;       /* bytes */
  gint64              modified;   /* µs since the epoch */
} MgwRecordingInfo;

void mgw_recording_info_free (MgwRecordingInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwRecordingInfo, mgw_recording_info_free)

#define MGW_TYPE_RECORDINGS (mgw_recordings_get_type ())
G_DECLARE_FINAL_TYPE (MgwRecordings, mgw_recordings, MGW, RECORDINGS, GObject)

MgwRecordings *mgw_recordings_new           (const char          *dir);
const char    *mgw_recordings_get_dir       (MgwRecordings       *self);
/* 0: no limit. */
void           mgw_recordings_set_retention (MgwRecordings       *self,
                                             guint                keep_count,
                                             guint                keep_days,
                                             guint64              keep_size);
/* Recordings being written: never removed by retention or
 * DeleteRecording; the recorder says when it begins and ends. */
void           mgw_recordings_set_active    (MgwRecordings       *self,
                                             const char          *id,
                                             gboolean             active);
gboolean       mgw_recordings_is_active     (MgwRecordings       *self,
                                             const char          *id);
/* The directory read in a worker of GIO's pool (its files' headers
 * too): the MgwRecordingInfo, oldest first. A missing directory is an
 * empty list. */
void           mgw_recordings_list_async    (MgwRecordings       *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
GPtrArray     *mgw_recordings_list_finish   (MgwRecordings       *self,
                                             GAsyncResult        *result,
                                             GError             **error);
/* Retention: the oldest recordings (by their last write) removed until
 * no more than keep-count are left, none older than keep-days, and all
 * together no larger than keep-size; the active ones are counted, never
 * removed. In a worker as above. */
void           mgw_recordings_expire_async  (MgwRecordings       *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean       mgw_recordings_expire_finish (MgwRecordings       *self,
                                             GAsyncResult        *result,
                                             guint               *removed,
                                             guint64             *freed,
                                             GError             **error);
/* A recording's file, open for reading (a regular file, never followed
 * through a link); -1 and G_IO_ERROR_NOT_FOUND, or INVALID_ARGUMENT for
 * a bad id. */
int            mgw_recordings_open          (MgwRecordings       *self,
                                             const char          *id,
                                             GError             **error);
/* G_IO_ERROR_BUSY for an active one. */
gboolean       mgw_recordings_delete        (MgwRecordings       *self,
                                             const char          *id,
                                             GError             **error);
/* The clock retention judges age by (tests): µs since the epoch. */
void           mgw_recordings_set_clock     (MgwRecordings       *self,
                                             gint64             (*now)(void));

G_END_DECLS
