/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-common.h: shared set-up of the libFuzzer targets.
 *
 * GLib logs are silenced (bad input legitimately produces warnings), but a
 * critical (g_return_if_fail, g_critical) or an error is a bug: the writer
 * aborts on it so libFuzzer reports a crash with the stack. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

G_GNUC_UNUSED static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   log_level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  if (log_level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    {
      for (gsize i = 0; i < n_fields; i++)
        if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
          fprintf (stderr, "fuzz: GLib critical/error: %s\n", (const char *) fields[i].value);
      abort ();
    }
  return G_LOG_WRITER_HANDLED;
}

G_GNUC_UNUSED static void
fuzz_setup_logging (void)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
}

/* Fails the run (abort: libFuzzer saves the input) when cond is false.
 * Not assert(): kept with NDEBUG. */
G_GNUC_NORETURN static inline void
fuzz_check_failed (const char *file,
                   int         line,
                   const char *cond)
{
  fprintf (stderr, "fuzz: check failed at %s:%d: %s\n", file, line, cond);
  abort ();
}

#define FUZZ_CHECK(cond) \
  (G_LIKELY (cond) ? (void) 0 : fuzz_check_failed (__FILE__, __LINE__, #cond))

/* memcmp() with a length of 0 may get NULL pointers (an empty
 * GByteArray): that is undefined behaviour, which UBSan reports. */
#define FUZZ_MEM_EQ(a, b, n) ((n) == 0 || memcmp ((a), (b), (n)) == 0)

static char *fuzz_scratch;

G_GNUC_UNUSED static void fuzz_scratch_clean (void);

/* Removes the scratch directory when the process exits normally
 * (-max_total_time, -runs); after a crash it stays, with the files. */
G_GNUC_UNUSED static void
fuzz_scratch_remove (void)
{
  if (fuzz_scratch == NULL)
    return;
  fuzz_scratch_clean ();
  g_rmdir (fuzz_scratch);
}

/* A private scratch directory, made once per process. */
G_GNUC_UNUSED static const char *
fuzz_scratch_dir (void)
{
  if (fuzz_scratch == NULL)
    {
      GError *error = NULL;

      fuzz_scratch = g_dir_make_tmp ("moipgw-fuzz-XXXXXX", &error);
      if (fuzz_scratch == NULL)
        {
          fprintf (stderr, "fuzz: cannot make a scratch directory: %s\n", error->message);
          abort ();
        }
      atexit (fuzz_scratch_remove);
    }
  return fuzz_scratch;
}

/* Removes every file in the scratch directory (files put aside by the
 * code under test, temporary files of atomic saves). */
G_GNUC_UNUSED static void
fuzz_scratch_clean (void)
{
  const char *dir = fuzz_scratch_dir ();
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
      g_free (path);
    }
  g_dir_close (d);
}

G_GNUC_UNUSED static void
fuzz_write_file (const char *path, const guint8 *data, size_t size)
{
  GError *error = NULL;

  if (!g_file_set_contents (path, (const char *) data, (gssize) size, &error))
    {
      fprintf (stderr, "fuzz: cannot write %s: %s\n", path, error->message);
      abort ();
    }
}
