/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-error.c: the project's GError domain, reading a file with a bound
 * on its size, and errors about files that never quote them. */
#include "config.h"

#include "mgw-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>
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

/* g_file_get_contents() for the gateway's own files: only a regular file
 * (MGW_ERROR_CONFIG otherwise: a device, a pipe, a directory), never
 * through a symbolic link with MGW_FILE_NO_SYMLINK, and never more than
 * `max` bytes (a file bigger, or that grows past it while read, is
 * refused), so that a file an attacker or an accident put there costs
 * nothing. A missing file is G_FILE_ERROR_NOENT, as with
 * g_file_get_contents(). */
gboolean
mgw_file_get_contents_max (const char    *path,
                           gsize          max,
                           MgwFileFlags   flags,
                           char         **contents,
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
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
               ((flags & MGW_FILE_NO_SYMLINK) ? O_NOFOLLOW : 0), 0);
  if (fd < 0)
    {
      int saved = errno;

      if (saved == ELOOP && (flags & MGW_FILE_NO_SYMLINK))
        g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                     _("%s is a symbolic link, not followed"), path);
      else
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                     "cannot open %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  regular = fstat (fd, &st) == 0 && S_ISREG (st.st_mode);
  if (!regular)
    {
      g_close (fd, NULL);
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("%s is not a regular file"), path);
      return FALSE;
    }
  if ((guint64) st.st_size > max)
    {
      g_close (fd, NULL);
      return too_big (path, max, error);
    }
  data = g_byte_array_sized_new ((guint) st.st_size + 1);
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

#define TEMPORARY_SUFFIX ".tmp-"

static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         len)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
mgw_file_replace (const char  *path,
                  const void  *data,
                  gsize        len,
                  GError     **error)
{
  g_autofree char *temporary = g_strconcat (path, TEMPORARY_SUFFIX "XXXXXX", NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  int fd, dir_fd, saved;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  fd = g_mkstemp_full (temporary, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot create %s: %s", temporary, g_strerror (saved));
      return FALSE;
    }
  if (!write_all (fd, data, len) || fsync (fd) != 0)
    {
      saved = errno;
      g_close (fd, NULL);
      g_unlink (temporary);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot write %s: %s", temporary, g_strerror (saved));
      return FALSE;
    }
  if (!g_close (fd, NULL) || g_rename (temporary, path) != 0)
    {
      saved = errno;
      g_unlink (temporary);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot replace %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  /* The rename itself on disk. */
  dir_fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dir_fd >= 0)
    {
      fsync (dir_fd);
      g_close (dir_fd, NULL);
    }
  return TRUE;
}

guint
mgw_file_remove_temporaries (const char *path)
{
  g_autofree char *dir_name = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = g_strconcat (base, TEMPORARY_SUFFIX, NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_name, 0, NULL);
  gsize prefix_len = strlen (prefix);
  const char *name;
  guint removed = 0;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *full = NULL;
      GStatBuf st;

      if (!g_str_has_prefix (name, prefix) || strlen (name) != prefix_len + 6)
        continue;
      full = g_build_filename (dir_name, name, NULL);
      if (g_lstat (full, &st) == 0 && S_ISREG (st.st_mode) && g_unlink (full) == 0)
        {
          g_message ("removed %s, left by an interrupted save", full);
          removed++;
        }
    }
  return removed;
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

/* What json-glib found wrong, without its quote of the text: "line 3,
 * column 7: " and our own words for its code. */
static char *
json_problem (const GError *cause)
{
  const char *what;
  unsigned line = 0, column = 0;
  const char *at = strstr (cause->message, ">:");

  switch (cause->code)
    {
    case JSON_PARSER_ERROR_TRAILING_COMMA:
      what = _("a comma before a closing bracket");
      break;
    case JSON_PARSER_ERROR_MISSING_COMMA:
      what = _("a comma is missing");
      break;
    case JSON_PARSER_ERROR_MISSING_COLON:
      what = _("a colon is missing");
      break;
    case JSON_PARSER_ERROR_INVALID_BAREWORD:
      what = _("a word that is not JSON");
      break;
    case JSON_PARSER_ERROR_EMPTY_MEMBER_NAME:
      what = _("an empty member name");
      break;
    case JSON_PARSER_ERROR_INVALID_DATA:
      what = _("not UTF-8 text");
      break;
    default:
      what = _("not valid JSON");
      break;
    }
  /* "<data>:3:7: Parse error: ..." */
  if (at != NULL && sscanf (at + 2, "%u:%u:", &line, &column) == 2)
    /* TRANSLATORS: where a JSON file is wrong, then what. */
    return g_strdup_printf (_("line %u, column %u: %s"), line, column, what);
  return g_strdup (what);
}

char *
mgw_error_describe (const GError *cause)
{
  g_return_val_if_fail (cause != NULL, NULL);

  if (cause->domain == JSON_PARSER_ERROR)
    return json_problem (cause);
  return g_strdup (cause->message);
}

void
mgw_error_set_in_file (GError       **error,
                       const char    *path,
                       const GError  *cause)
{
  g_autofree char *problem = NULL;

  g_return_if_fail (path != NULL && cause != NULL);

  problem = mgw_error_describe (cause);
  /* The reading functions name the file already. */
  if (strstr (problem, path) != NULL)
    g_set_error_literal (error, MGW_ERROR, MGW_ERROR_CONFIG, problem);
  else
    g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s: %s", path, problem);
}
