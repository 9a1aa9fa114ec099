/* mgw-error.c: the project's GError domain, and reading a file with a
 * bound on its size. */
#include "config.h"

#include "mgw-error.h"

#include <errno.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK (mgw-error-quark, mgw_error)

/* g_file_get_contents() that refuses (MGW_ERROR_CONFIG) a file of more
 * than `max` bytes without reading it: a file an attacker or an accident
 * made huge must not cost that much memory. A missing file is
 * G_FILE_ERROR_NOENT, as with g_file_get_contents(). */
gboolean
mgw_file_get_contents_max (const char  *path,
                           gsize        max,
                           char       **contents,
                           gsize       *length,
                           GError     **error)
{
  GStatBuf st;

  if (g_stat (path, &st) == 0 && S_ISREG (st.st_mode) && (guint64) st.st_size > max)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s is bigger than %" G_GSIZE_FORMAT
                   " MiB", path, max / (1024 * 1024));
      return FALSE;
    }
  if (!g_file_get_contents (path, contents, length, error))
    return FALSE;
  /* It grew between the two looks. */
  if (*length > max)
    {
      g_clear_pointer (contents, g_free);
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s is bigger than %" G_GSIZE_FORMAT
                   " MiB", path, max / (1024 * 1024));
      return FALSE;
    }
  return TRUE;
}
