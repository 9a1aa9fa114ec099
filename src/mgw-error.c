/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-error.c: the project's GError domain, and reading a file with a
 * bound on its size. */
#include "config.h"

#include "mgw-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (mgw-error-quark, mgw_error)

static gboolean
too_big (const char  *path,
         gsize        max,
         GError     **error)
{
  g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s is bigger than %" G_GSIZE_FORMAT
               " MiB", path, max / (1024 * 1024));
  return FALSE;
}

/* g_file_get_contents() that refuses (MGW_ERROR_CONFIG) a file of more
 * than `max` bytes: a regular file without reading it, anything else (a
 * device, a pipe, a file that grows) once `max` bytes have come, so that
 * a file an attacker or an accident made huge or endless never costs
 * more memory than that. A missing file is G_FILE_ERROR_NOENT, as with
 * g_file_get_contents(). */
gboolean
mgw_file_get_contents_max (const char  *path,
                           gsize        max,
                           char       **contents,
                           gsize       *length,
                           GError     **error)
{
  g_autoptr(GByteArray) data = NULL;
  GStatBuf st;
  gboolean regular;
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (contents != NULL, FALSE);

  /* O_NONBLOCK: a FIFO put there does not hang the daemon in open(). */
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot open %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  regular = fstat (fd, &st) == 0 && S_ISREG (st.st_mode);
  if (regular && (guint64) st.st_size > max)
    {
      g_close (fd, NULL);
      return too_big (path, max, error);
    }
  data = g_byte_array_sized_new (regular ? (guint) st.st_size + 1 : 4096);
  for (;;)
    {
      guint8 chunk[16 * 1024];
      gssize n = read (fd, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_close (fd, NULL);
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       "cannot read %s: %s", path, g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        break;
      /* It grew since fstat(), or it has no size to judge it by. */
      if ((gsize) n > max - data->len)
        {
          g_close (fd, NULL);
          return too_big (path, max, error);
        }
      g_byte_array_append (data, chunk, (guint) n);
    }
  g_close (fd, NULL);
  if (length != NULL)
    *length = data->len;
  g_byte_array_append (data, (const guint8 *) "", 1);
  *contents = (char *) g_byte_array_free (g_steal_pointer (&data), FALSE);
  return TRUE;
}

/* Untrusted bytes (a header field, a request line), printable in an error
 * message: the first 64, C-escaped. */
char *
mgw_error_escape (const char *text,
                  gsize       len)
{
  g_autofree char *copy = g_strndup (text, MIN (len, 64));

  return g_strescape (copy, NULL);
}
