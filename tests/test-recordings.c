/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-recordings.c: the recordings directory (mgw-recordings.c), on real
 * files in a temporary directory whose times the test sets, with a set
 * clock: the list with headers, oldest first; retention by count, age
 * and total size, never of a recording being written; opening and
 * removing by id, never outside the directory. */
#include "config.h"

#include "mgw-recordings.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)
/* 2026-12-03 00:00 UTC, the clock of these tests. */
#define NOW (G_GINT64_CONSTANT (1796256000) * G_USEC_PER_SEC)

static gint64
fixed_now (void)
{
  return NOW;
}

typedef struct
{
  char          *dir;
  MgwRecordings *recordings;
  GMainLoop     *loop;
  GAsyncResult  *result;
} Fixture;

/* A recording `id` of `size` bytes last written `age` µs before NOW. */
static void
put (Fixture    *fx,
     const char *id,
     gsize       size,
     gint64      age)
{
  g_autofree char *name = g_strconcat (id, MGW_RECORDING_SUFFIX, NULL);
  g_autofree char *path = g_build_filename (fx->dir, name, NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  MgwRecordingHeader header = {
    .id = (char *) id, .session = 7, .peer = (char *) "192.0.2.9", .port = 4000,
    .access = (char *) "WS", .start = NOW - age, .gateway = (char *) "moipgw test",
    .input = MGW_RECORDING_INPUT_MASK, .max_size = 1 << 20,
  };
  gint64 when = NOW - age;
  struct timespec times[2] = {
    { when / G_USEC_PER_SEC, (when % G_USEC_PER_SEC) * 1000 },
    { when / G_USEC_PER_SEC, (when % G_USEC_PER_SEC) * 1000 },
  };

  mgw_recording_append_header (text, &header);
  while (text->len < size)
    g_string_append_c (text, 'x');
  g_string_truncate (text, MAX (size, 1));
  g_assert_true (g_file_set_contents (path, text->str, (gssize) text->len, NULL));
  g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
}

static gboolean
exists (Fixture    *fx,
        const char *id)
{
  g_autofree char *name = g_strconcat (id, MGW_RECORDING_SUFFIX, NULL);
  g_autofree char *path = g_build_filename (fx->dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *fx = user_data;

  fx->result = g_object_ref (result);
  g_main_loop_quit (fx->loop);
}

static GPtrArray *
list (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *array;

  mgw_recordings_list_async (fx->recordings, NULL, done_cb, fx);
  g_main_loop_run (fx->loop);
  array = mgw_recordings_list_finish (fx->recordings, fx->result, &error);
  g_clear_object (&fx->result);
  g_assert_no_error (error);
  return array;
}

static guint
expire (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  guint removed = 0;
  guint64 freed = 0;

  mgw_recordings_expire_async (fx->recordings, NULL, done_cb, fx);
  g_main_loop_run (fx->loop);
  g_assert_true (mgw_recordings_expire_finish (fx->recordings, fx->result, &removed, &freed, &error));
  g_clear_object (&fx->result);
  g_assert_no_error (error);
  return removed;
}

static void
setup (Fixture      *fx,
       gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *base = g_dir_make_tmp ("test-recordings-XXXXXX", &error);

  g_assert_no_error (error);
  fx->dir = g_build_filename (base, "recordings", NULL);
  g_assert_cmpint (g_mkdir (fx->dir, 0750), ==, 0);
  fx->recordings = mgw_recordings_new (fx->dir);
  mgw_recordings_set_clock (fx->recordings, fixed_now);
  fx->loop = g_main_loop_new (NULL, FALSE);
}

static void
teardown (Fixture      *fx,
          gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (fx->dir, 0, NULL);
  g_autofree char *base = g_path_get_dirname (fx->dir);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (fx->dir);
  g_rmdir (base);
  g_free (fx->dir);
  g_object_unref (fx->recordings);
  g_main_loop_unref (fx->loop);
}

static void
test_list (Fixture      *fx,
           gconstpointer data)
{
  g_autoptr(GPtrArray) array = NULL;
  g_autofree char *junk = g_build_filename (fx->dir, "notes.txt", NULL);
  g_autofree char *bad = g_build_filename (fx->dir, "..x.mgwrec", NULL);
  g_autofree char *link = g_build_filename (fx->dir, "99.mgwrec", NULL);
  g_autofree char *fifo = g_build_filename (fx->dir, "98.mgwrec", NULL);
  MgwRecordingInfo *info;

  put (fx, "20261202-100000-2", 500, 2 * DAY);
  put (fx, "20261201-100000-1", 400, 1 * DAY);   /* older name, newer write */
  g_assert_true (g_file_set_contents (junk, "x", 1, NULL));
  g_assert_true (g_file_set_contents (bad, "x", 1, NULL));
  g_assert_cmpint (symlink ("/etc/passwd", link), ==, 0);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  put (fx, "7", 1, 0);   /* no header: listed, unreadable */

  array = list (fx);
  g_assert_cmpuint (array->len, ==, 3);
  info = array->pdata[0];
  g_assert_cmpstr (info->id, ==, "20261202-100000-2");
  g_assert_true (info->readable);
  g_assert_cmpstr (info->header.peer, ==, "192.0.2.9");
  g_assert_cmpuint (info->size, ==, 500);
  g_assert_cmpint (info->modified, ==, NOW - 2 * DAY);
  info = array->pdata[1];
  g_assert_cmpstr (info->id, ==, "20261201-100000-1");
  info = array->pdata[2];
  g_assert_cmpstr (info->id, ==, "7");
  g_assert_false (info->readable);
  g_unlink (fifo);
  g_unlink (link);
}

static void
test_missing_dir (Fixture      *fx,
                  gconstpointer data)
{
  g_autoptr(GPtrArray) array = NULL;

  g_assert_cmpint (g_rmdir (fx->dir), ==, 0);
  array = list (fx);
  g_assert_cmpuint (array->len, ==, 0);
  g_assert_cmpuint (expire (fx), ==, 0);
}

static void
test_keep_count (Fixture      *fx,
                 gconstpointer data)
{
  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("%u", i);
      put (fx, id, 100, (6 - i) * G_USEC_PER_SEC);   /* 1 the oldest */
    }
  mgw_recordings_set_retention (fx->recordings, 3, 0, 0);
  /* The oldest is being written: the next two go. */
  mgw_recordings_set_active (fx->recordings, "1", TRUE);
  g_assert_cmpuint (expire (fx), ==, 2);
  g_assert_true (exists (fx, "1"));
  g_assert_false (exists (fx, "2"));
  g_assert_false (exists (fx, "3"));
  g_assert_true (exists (fx, "4"));
  g_assert_true (exists (fx, "5"));
  g_assert_cmpuint (expire (fx), ==, 0);
  /* Once written, it is the oldest again. */
  mgw_recordings_set_active (fx->recordings, "1", FALSE);
  put (fx, "6", 100, 0);
  g_assert_cmpuint (expire (fx), ==, 1);
  g_assert_false (exists (fx, "1"));
}

static void
test_keep_days (Fixture      *fx,
                gconstpointer data)
{
  put (fx, "1", 100, 31 * DAY);
  put (fx, "2", 100, 30 * DAY - 1);
  put (fx, "3", 100, 0);
  mgw_recordings_set_retention (fx->recordings, 0, 30, 0);
  g_assert_cmpuint (expire (fx), ==, 1);
  g_assert_false (exists (fx, "1"));
  g_assert_true (exists (fx, "2"));
  g_assert_true (exists (fx, "3"));
}

static void
test_keep_size (Fixture      *fx,
                gconstpointer data)
{
  put (fx, "1", 4000, 3 * G_USEC_PER_SEC);
  put (fx, "2", 4000, 2 * G_USEC_PER_SEC);
  put (fx, "3", 4000, 1 * G_USEC_PER_SEC);
  mgw_recordings_set_retention (fx->recordings, 0, 0, 9000);
  g_assert_cmpuint (expire (fx), ==, 1);
  g_assert_false (exists (fx, "1"));
  mgw_recordings_set_retention (fx->recordings, 0, 0, 0);
  g_assert_cmpuint (expire (fx), ==, 0);
}

static void
test_open_delete (Fixture      *fx,
                  gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *link = g_build_filename (fx->dir, "99.mgwrec", NULL);
  g_autofree char *fifo = g_build_filename (fx->dir, "98.mgwrec", NULL);
  char buf[20];
  int fd;

  put (fx, "5", 100, 0);
  fd = mgw_recordings_open (fx->recordings, "5", &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (read (fd, buf, sizeof buf), ==, sizeof buf);
  g_assert_true (g_str_has_prefix (buf, "{\"moipgw-recording\""));
  close (fd);

  g_assert_cmpint (mgw_recordings_open (fx->recordings, "../5", &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (mgw_recordings_open (fx->recordings, "6", &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (symlink ("/etc/passwd", link), ==, 0);
  g_assert_cmpint (mgw_recordings_open (fx->recordings, "99", &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_cmpint (mgw_recordings_open (fx->recordings, "98", &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  mgw_recordings_set_active (fx->recordings, "5", TRUE);
  g_assert_false (mgw_recordings_delete (fx->recordings, "5", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_true (exists (fx, "5"));
  mgw_recordings_set_active (fx->recordings, "5", FALSE);
  g_assert_true (mgw_recordings_delete (fx->recordings, "5", &error));
  g_assert_no_error (error);
  g_assert_false (exists (fx, "5"));
  g_assert_false (mgw_recordings_delete (fx->recordings, "5", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (mgw_recordings_delete (fx->recordings, "/etc/passwd", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_unlink (fifo);
  g_unlink (link);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/recordings/list", test_list);
  ADD ("/recordings/missing-dir", test_missing_dir);
  ADD ("/recordings/keep-count", test_keep_count);
  ADD ("/recordings/keep-days", test_keep_days);
  ADD ("/recordings/keep-size", test_keep_size);
  ADD ("/recordings/open-delete", test_open_delete);
  return g_test_run ();
}
