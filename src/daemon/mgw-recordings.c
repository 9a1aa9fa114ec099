/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-recordings.c: the recordings directory.
 *
 * Reading a directory of a thousand files and their first lines, and
 * removing some, may take a slow disk a while: it runs as a GTask in
 * GIO's worker pool (as GIO's own asynchronous file calls do), touching
 * nothing but the directory and a copy of what it needs; the result
 * comes back to the main loop. Opening one file to replay it and
 * removing one are single quick calls made where they are asked. */
#include "config.h"

#include "mgw-recordings.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgw-error.h"

/* A header line is a few hundred bytes; no more is read of a file. */
#define HEADER_READ_MAX 4096

struct _MgwRecordings
{
  GObject  parent_instance;

  char    *dir;
  guint    keep_count;
  guint    keep_days;
  guint64  keep_size;
  gint64 (*now) (void);
  GHashTable *active;   /* ids being written */
};

G_DEFINE_FINAL_TYPE (MgwRecordings, mgw_recordings, G_TYPE_OBJECT)

void
mgw_recording_info_free (MgwRecordingInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->id);
  mgw_recording_header_clear (&info->header);
  g_free (info);
}

/* --- the worker's side: only what it was given --- */

typedef struct {
  char    *dir;
  guint    keep_count;
  guint    keep_days;
  guint64  keep_size;
  gint64   now;
  GStrv    active;
  guint    removed;
  guint64  freed;
} Job;

static void
job_free (Job *job)
{
  g_free (job->dir);
  g_strfreev (job->active);
  g_free (job);
}

static void
read_header (int               dirfd,
             const char       *name,
             MgwRecordingInfo *info)
{
  char buf[HEADER_READ_MAX];
  int fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  ssize_t n;
  const char *nl;

  if (fd < 0)
    return;
  n = read (fd, buf, sizeof buf);
  close (fd);
  if (n <= 0 || (nl = memchr (buf, '\n', (gsize) n)) == NULL)
    return;
  info->readable = mgw_recording_parse_header (buf, (gsize) (nl - buf), &info->header, NULL);
}

static gint
older_first (gconstpointer a,
             gconstpointer b)
{
  const MgwRecordingInfo *x = *(MgwRecordingInfo * const *) a;
  const MgwRecordingInfo *y = *(MgwRecordingInfo * const *) b;

  if (x->modified != y->modified)
    return x->modified < y->modified ? -1 : 1;
  return strcmp (x->id, y->id);
}

/* The recordings in dir, oldest first; with headers when asked. */
static GPtrArray *
scan (const char *dir,
      gboolean    headers,
      GError    **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) mgw_recording_info_free);
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local = NULL;
  const char *name;
  int dirfd;

  d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&list);
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *id = NULL;
      MgwRecordingInfo *info;
      struct stat st;

      if (!g_str_has_suffix (name, MGW_RECORDING_SUFFIX))
        continue;
      id = g_strndup (name, strlen (name) - strlen (MGW_RECORDING_SUFFIX));
      if (!mgw_recording_id_is_valid (id) ||
          fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG (st.st_mode))
        continue;
      info = g_new0 (MgwRecordingInfo, 1);
      info->id = g_steal_pointer (&id);
      info->size = (guint64) st.st_size;
      info->modified = (gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
      if (headers)
        read_header (dirfd, name, info);
      g_ptr_array_add (list, info);
    }
  close (dirfd);
  g_ptr_array_sort (list, older_first);
  return g_steal_pointer (&list);
}

static void
list_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Job *job = task_data;
  GError *error = NULL;
  GPtrArray *list = scan (job->dir, TRUE, &error);

  if (list == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, list, (GDestroyNotify) g_ptr_array_unref);
}

static void
expire_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Job *job = task_data;
  GError *error = NULL;
  g_autoptr(GPtrArray) list = scan (job->dir, FALSE, &error);
  guint64 total = 0;
  guint left;

  if (list == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint i = 0; i < list->len; i++)
    total += ((MgwRecordingInfo *) list->pdata[i])->size;
  left = list->len;
  for (guint i = 0; i < list->len; i++)
    {
      MgwRecordingInfo *info = list->pdata[i];
      gint64 age = job->now - info->modified;
      g_autofree char *name = NULL;
      g_autofree char *path = NULL;
      gboolean too_many = job->keep_count > 0 && left > job->keep_count;
      gboolean too_old = job->keep_days > 0 && age > (gint64) job->keep_days * 86400 * G_USEC_PER_SEC;
      gboolean too_big = job->keep_size > 0 && total > job->keep_size;

      if (!too_many && !too_old && !too_big)
        continue;
      if (job->active != NULL && g_strv_contains ((const char * const *) job->active, info->id))
        continue;
      name = g_strconcat (info->id, MGW_RECORDING_SUFFIX, NULL);
      path = g_build_filename (job->dir, name, NULL);
      if (g_unlink (path) != 0 && errno != ENOENT)
        continue;
      left--;
      total -= info->size;
      job->removed++;
      job->freed += info->size;
    }
  g_task_return_boolean (task, TRUE);
}

static Job *
job_new (MgwRecordings *self)
{
  Job *job = g_new0 (Job, 1);

  job->dir = g_strdup (self->dir);
  job->keep_count = self->keep_count;
  job->keep_days = self->keep_days;
  job->keep_size = self->keep_size;
  job->now = self->now ();
  job->active = (GStrv) g_hash_table_get_keys_as_array (self->active, NULL);
  for (guint i = 0; job->active[i] != NULL; i++)
    job->active[i] = g_strdup (job->active[i]);
  return job;
}

/* --- the main loop's side --- */

/* A job on a copy of what it needs, in a worker of GIO's pool. */
static void
run_job (MgwRecordings       *self,
         gpointer             tag,
         GTaskThreadFunc      func,
         GCancellable        *cancellable,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, job_new (self), (GDestroyNotify) job_free);
  g_task_run_in_thread (task, func);
}

void
mgw_recordings_list_async (MgwRecordings       *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (MGW_IS_RECORDINGS (self));

  run_job (self, mgw_recordings_list_async, list_thread, cancellable, callback, user_data);
}

GPtrArray *
mgw_recordings_list_finish (MgwRecordings *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
mgw_recordings_expire_async (MgwRecordings       *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (MGW_IS_RECORDINGS (self));

  run_job (self, mgw_recordings_expire_async, expire_thread, cancellable, callback, user_data);
}

gboolean
mgw_recordings_expire_finish (MgwRecordings *self,
                              GAsyncResult  *result,
                              guint         *removed,
                              guint64       *freed,
                              GError       **error)
{
  Job *job;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  job = g_task_get_task_data (G_TASK (result));
  if (removed != NULL)
    *removed = job->removed;
  if (freed != NULL)
    *freed = job->freed;
  return TRUE;
}

static char *
path_of (MgwRecordings *self,
         const char    *id,
         GError       **error)
{
  g_autofree char *name = NULL;

  if (!mgw_recording_id_is_valid (id))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("'%s' is not a recording's id"), id);
      return NULL;
    }
  name = g_strconcat (id, MGW_RECORDING_SUFFIX, NULL);
  return g_build_filename (self->dir, name, NULL);
}

static void
set_errno_error (GError    **error,
                 int         saved,
                 const char *id)
{
  if (saved == ENOENT)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No recording %s"), id);
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Recording %s: %s"), id,
                 g_strerror (saved));
}

int
mgw_recordings_open (MgwRecordings *self,
                     const char    *id,
                     GError       **error)
{
  g_autofree char *path = NULL;
  struct stat st;
  int fd;

  g_return_val_if_fail (MGW_IS_RECORDINGS (self), -1);
  g_return_val_if_fail (id != NULL, -1);

  path = path_of (self, id, error);
  if (path == NULL)
    return -1;
  /* O_NONBLOCK: a FIFO put there opens without waiting, and is refused. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    {
      set_errno_error (error, errno == ELOOP ? ENOENT : errno, id);
      return -1;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      set_errno_error (error, ENOENT, id);
      return -1;
    }
  /* Readers of a regular file never wait; they may block on it. */
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

gboolean
mgw_recordings_delete (MgwRecordings *self,
                       const char    *id,
                       GError       **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (MGW_IS_RECORDINGS (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  path = path_of (self, id, error);
  if (path == NULL)
    return FALSE;
  if (mgw_recordings_is_active (self, id))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   _("Recording %s is being written: stop it first"), id);
      return FALSE;
    }
  if (g_unlink (path) != 0)
    {
      set_errno_error (error, errno, id);
      return FALSE;
    }
  return TRUE;
}

/* --- object --- */

static void
mgw_recordings_finalize (GObject *object)
{
  MgwRecordings *self = MGW_RECORDINGS (object);

  g_free (self->dir);
  g_hash_table_unref (self->active);
  G_OBJECT_CLASS (mgw_recordings_parent_class)->finalize (object);
}

static void
mgw_recordings_class_init (MgwRecordingsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mgw_recordings_finalize;
}

static void
mgw_recordings_init (MgwRecordings *self)
{
  self->now = g_get_real_time;
  self->active = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

MgwRecordings *
mgw_recordings_new (const char *dir)
{
  MgwRecordings *self;

  g_return_val_if_fail (dir != NULL, NULL);

  self = g_object_new (MGW_TYPE_RECORDINGS, NULL);
  self->dir = g_strdup (dir);
  return self;
}

const char *
mgw_recordings_get_dir (MgwRecordings *self)
{
  g_return_val_if_fail (MGW_IS_RECORDINGS (self), NULL);

  return self->dir;
}

void
mgw_recordings_set_retention (MgwRecordings *self,
                              guint          keep_count,
                              guint          keep_days,
                              guint64        keep_size)
{
  g_return_if_fail (MGW_IS_RECORDINGS (self));

  self->keep_count = keep_count;
  self->keep_days = keep_days;
  self->keep_size = keep_size;
}

void
mgw_recordings_set_active (MgwRecordings *self,
                           const char    *id,
                           gboolean       active)
{
  g_return_if_fail (MGW_IS_RECORDINGS (self));
  g_return_if_fail (id != NULL);

  if (active)
    g_hash_table_add (self->active, g_strdup (id));
  else
    g_hash_table_remove (self->active, id);
}

gboolean
mgw_recordings_is_active (MgwRecordings *self,
                          const char    *id)
{
  g_return_val_if_fail (MGW_IS_RECORDINGS (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  return g_hash_table_contains (self->active, id);
}

void
mgw_recordings_set_clock (MgwRecordings *self,
                          gint64       (*now)(void))
{
  g_return_if_fail (MGW_IS_RECORDINGS (self));

  self->now = now != NULL ? now : g_get_real_time;
}
