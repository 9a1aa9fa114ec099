/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-web.c: plain HTTP answers on the WebSocket port.
 *
 * One request a connection (the answer says "Connection: close"), GET
 * and HEAD only. A path is decoded once, split into segments, and
 * refused (404) when a segment is "..", ".", starts with a dot or holds
 * an encoded slash or NUL: nothing outside the root can be named. In a
 * root directory the path is resolved with its symbolic links
 * (realpath) and served only when the result is still under the root's
 * own resolved path; the file is opened without following a link
 * (O_NOFOLLOW), must be a regular file of at most [web] max-file-size
 * bytes, and a directory is served as its index.html (no listings). The
 * body is then read a chunk at a time as the peer takes it (GIO's
 * asynchronous reads, mgw-link-ws.c), so no answer holds more than a
 * chunk in memory and nothing waits on the disk in the main loop. */
#include "config.h"

#include "mgw-web.h"
#include "mgw-error.h"
#include "mgw-web-resources.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESOURCE_PREFIX "/org/moipgw/web/"

/* The built-in page's policy: its own scripts, styles and WebSocket;
 * nothing inline, nothing from elsewhere. */
#define EMULATOR_CSP \
  "default-src 'self'; img-src 'self' data:; connect-src 'self'; " \
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct _MgwWeb
{
  gboolean  emulator;
  char     *root;            /* resolved; NULL: none */
  guint64   max_file_size;
};

MgwWeb *
mgw_web_new (void)
{
  MgwWeb *self = g_new0 (MgwWeb, 1);

  self->max_file_size = 16 * 1024 * 1024;
  return self;
}

void
mgw_web_free (MgwWeb *self)
{
  if (self == NULL)
    return;
  g_free (self->root);
  g_free (self);
}

gboolean
mgw_web_configure (MgwWeb      *self,
                   gboolean     emulator,
                   const char  *root,
                   guint64      max_file_size,
                   GError     **error)
{
  g_autofree char *resolved = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  if (root != NULL && *root != '\0')
    {
      struct stat st;

      resolved = realpath (root, NULL);
      if (resolved == NULL || stat (resolved, &st) < 0)
        {
          int saved = errno;

          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("[web] root %s: %s"), root,
                       g_strerror (saved));
          return FALSE;
        }
      if (!S_ISDIR (st.st_mode))
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("[web] root %s: not a directory"),
                       root);
          return FALSE;
        }
    }
  self->emulator = emulator;
  g_free (self->root);
  self->root = g_steal_pointer (&resolved);
  self->max_file_size = max_file_size;
  return TRUE;
}

gboolean
mgw_web_is_serving (MgwWeb *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->emulator || self->root != NULL;
}

char *
mgw_web_http_date (gint64 unix_time)
{
  static const char days[7][4] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char months[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
  };
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc (unix_time);

  if (t == NULL)
    return g_strdup ("Thu, 01 Jan 1970 00:00:00 GMT");
  return g_strdup_printf ("%s, %02d %s %04d %02d:%02d:%02d GMT",
                          days[g_date_time_get_day_of_week (t) - 1],
                          g_date_time_get_day_of_month (t),
                          months[g_date_time_get_month (t) - 1], g_date_time_get_year (t),
                          g_date_time_get_hour (t), g_date_time_get_minute (t),
                          g_date_time_get_second (t));
}

/* Our own table, not shared-mime-info: a server without that package
 * (it is only recommended) would serve every file as
 * application/octet-stream, and browsers refuse such scripts and
 * styles under "nosniff". */
const char *
mgw_web_content_type (const char *name)
{
  static const struct
  {
    const char *extension;
    const char *type;
  } types[] = {
    { "html", "text/html; charset=utf-8" },
    { "htm", "text/html; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "json", "application/json" },
    { "map", "application/json" },
    { "txt", "text/plain; charset=utf-8" },
    { "md", "text/markdown; charset=utf-8" },
    { "xml", "application/xml" },
    { "svg", "image/svg+xml" },
    { "png", "image/png" },
    { "jpg", "image/jpeg" },
    { "jpeg", "image/jpeg" },
    { "gif", "image/gif" },
    { "webp", "image/webp" },
    { "ico", "image/vnd.microsoft.icon" },
    { "woff", "font/woff" },
    { "woff2", "font/woff2" },
    { "ttf", "font/ttf" },
    { "otf", "font/otf" },
    { "wasm", "application/wasm" },
    { "pdf", "application/pdf" },
  };
  const char *base = strrchr (name, '/');
  const char *dot = strrchr (base != NULL ? base : name, '.');

  if (dot != NULL)
    for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
      if (g_ascii_strcasecmp (dot + 1, types[i].extension) == 0)
        return types[i].type;
  return "application/octet-stream";
}

/* The request's path as segments joined by '/', without a leading one:
 * "" for the top. NULL when it cannot name a file under the root. */
static char *
relative_path (const char  *path,
               gboolean    *directory,
               const char **why)
{
  g_autofree char *decoded = NULL;
  g_auto(GStrv) segments = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  *directory = g_str_has_suffix (path, "/");
  /* An encoded '/' or NUL: refused by g_uri_unescape_string(). */
  decoded = g_uri_unescape_string (path, "/");
  if (decoded == NULL)
    {
      *why = "an encoded slash or NUL in the path";
      return NULL;
    }
  segments = g_strsplit (decoded, "/", -1);
  for (guint i = 0; segments[i] != NULL; i++)
    {
      if (*segments[i] == '\0')
        continue;
      if (segments[i][0] == '.')
        {
          *why = strcmp (segments[i], "..") == 0 ? "\"..\" in the path" :
                 "a path segment starting with a dot";
          return NULL;
        }
      if (out->len > 0)
        g_string_append_c (out, '/');
      g_string_append (out, segments[i]);
    }
  if (out->len == 0)
    *directory = TRUE;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef enum {
  FOUND,
  NOT_FOUND,
  IS_DIRECTORY,   /* asked without its '/' */
  TOO_LARGE,
  FAILED,
} Lookup;

/* `relative` in the root: an open regular file, its size and mtime. */
static Lookup
open_in_root (MgwWeb      *self,
              const char  *relative,
              int         *fd,
              struct stat *st,
              const char **why)
{
  g_autofree char *joined = g_build_filename (self->root, relative, NULL);
  g_autofree char *resolved = realpath (joined, NULL);
  gsize root_len = strlen (self->root);

  if (resolved == NULL)
    {
      *why = errno == ENOENT || errno == ENOTDIR ? "no such file" : g_strerror (errno);
      return errno == ENOENT || errno == ENOTDIR ? NOT_FOUND : FAILED;
    }
  if (strncmp (resolved, self->root, root_len) != 0 ||
      (resolved[root_len] != '/' && resolved[root_len] != '\0' &&
       strcmp (self->root, "/") != 0))
    {
      *why = "a symbolic link out of the root";
      return NOT_FOUND;
    }
  *fd = open (resolved, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (*fd < 0)
    {
      *why = errno == ELOOP ? "a symbolic link changed under the root" : g_strerror (errno);
      return errno == ENOENT || errno == ELOOP ? NOT_FOUND : FAILED;
    }
  if (fstat (*fd, st) < 0 || (!S_ISREG (st->st_mode) && !S_ISDIR (st->st_mode)))
    {
      *why = "not a regular file";
      close (*fd);
      *fd = -1;
      return NOT_FOUND;
    }
  if (S_ISDIR (st->st_mode))
    {
      close (*fd);
      *fd = -1;
      *why = "a directory";
      return IS_DIRECTORY;
    }
  if ((guint64) st->st_size > self->max_file_size)
    {
      *why = "larger than [web] max-file-size";
      close (*fd);
      *fd = -1;
      return TOO_LARGE;
    }
  return FOUND;
}

static const char *
reason (guint status)
{
  switch (status)
    {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    default: return mgw_http_status_reason (status);
    }
}

/* The head of an answer, up to and with the blank line. */
static char *
answer_head (guint       status,
             const char *content_type,
             goffset     length,
             const char *extra)
{
  g_autofree char *date = mgw_web_http_date (g_get_real_time () / G_USEC_PER_SEC);

  return g_strdup_printf ("HTTP/1.1 %u %s\r\n"
                          "Date: %s\r\n"
                          "Server: moipgw/" PACKAGE_VERSION "\r\n"
                          "Connection: close\r\n"
                          "Content-Type: %s\r\n"
                          "Content-Length: %" G_GOFFSET_FORMAT "\r\n"
                          "Cache-Control: no-cache\r\n"
                          "X-Content-Type-Options: nosniff\r\n"
                          "Referrer-Policy: no-referrer\r\n"
                          "%s"
                          "\r\n",
                          status, reason (status), date, content_type, length,
                          extra != NULL ? extra : "");
}

static guint
answer_error (MgwLinkWs  *link,
              guint       status,
              gboolean    head_only,
              const char *extra,
              goffset    *length)
{
  g_autofree char *text = g_strdup_printf ("%u %s\n", status, reason (status));
  gsize text_len = strlen (text);
  g_autofree char *head = answer_head (status, "text/plain; charset=utf-8", text_len, extra);
  g_autoptr(GInputStream) body = NULL;

  *length = head_only ? 0 : (goffset) text_len;
  if (!head_only)
    body = g_memory_input_stream_new_from_data (g_steal_pointer (&text), text_len, g_free);
  mgw_link_ws_reply (link, head, body, *length);
  return status;
}

static void
answer_body (MgwLinkWs    *link,
             const char   *name,
             GInputStream *body,
             goffset       size,
             gboolean      head_only,
             const char   *extra,
             goffset      *length)
{
  g_autofree char *head = answer_head (200, mgw_web_content_type (name), size, extra);

  *length = head_only ? 0 : size;
  mgw_link_ws_reply (link, head, head_only ? NULL : body, *length);
}

guint
mgw_web_refuse (MgwLinkWs   *link,
                MgwHttpHead *request,
                guint        status,
                goffset     *length)
{
  g_return_val_if_fail (MGW_IS_LINK_WS (link) && request != NULL && length != NULL, 500);
  g_return_val_if_fail (status >= 400 && status <= 599, 500);

  return answer_error (link, status, strcmp (mgw_http_head_get_method (request), "HEAD") == 0,
                       NULL, length);
}

guint
mgw_web_answer (MgwWeb      *self,
                MgwLinkWs   *link,
                MgwHttpHead *request,
                goffset     *length,
                char       **why)
{
  const char *method = mgw_http_head_get_method (request);
  gboolean head_only = strcmp (method, "HEAD") == 0;
  g_autofree char *path = mgw_http_head_get_path (request);
  g_autofree char *relative = NULL;
  g_autofree char *name = NULL;
  const char *cause = NULL;
  gboolean directory = FALSE;

  g_return_val_if_fail (self != NULL && MGW_IS_LINK_WS (link) && request != NULL, 500);
  g_return_val_if_fail (length != NULL, 500);

  if (why != NULL)
    *why = NULL;
  if (strcmp (method, "GET") != 0 && !head_only)
    {
      if (why != NULL)
        *why = g_strdup ("only GET and HEAD are served");
      return answer_error (link, 405, FALSE, "Allow: GET, HEAD\r\n", length);
    }
  if (path == NULL || *path != '/')
    {
      if (why != NULL)
        *why = g_strdup ("not a path");
      return answer_error (link, 400, head_only, NULL, length);
    }
  relative = relative_path (path, &directory, &cause);
  if (relative == NULL)
    {
      if (why != NULL)
        *why = g_strdup (cause);
      return answer_error (link, 404, head_only, NULL, length);
    }
  name = directory ? g_build_filename (relative, "index.html", NULL) : g_strdup (relative);

  if (self->root != NULL)
    {
      struct stat st;
      int fd = -1;

      switch (open_in_root (self, name, &fd, &st, &cause))
        {
        case FOUND:
          {
            g_autoptr(GInputStream) body = g_unix_input_stream_new (fd, TRUE);

            answer_body (link, name, body, st.st_size, head_only, NULL, length);
            return 200;
          }
        case IS_DIRECTORY:
          {
            g_autofree char *location = g_strdup_printf ("Location: %s/\r\n", path);

            return answer_error (link, 301, head_only, location, length);
          }
        case TOO_LARGE:
          if (why != NULL)
            *why = g_strdup (cause);
          return answer_error (link, 403, head_only, NULL, length);
        case FAILED:
          if (why != NULL)
            *why = g_strdup (cause);
          return answer_error (link, 403, head_only, NULL, length);
        case NOT_FOUND:
          break;
        }
    }
  if (self->emulator)
    {
      g_autofree char *resource = NULL;

      /* /replay/ID: the emulator's page, which opens the WebSocket of the
       * same path (whether the replay is allowed is the upgrade's to say). */
      if (g_str_has_prefix (name, "replay/") && strchr (name + 7, '/') == NULL && !directory)
        {
          g_free (name);
          name = g_strdup ("index.html");
        }
      resource = g_strconcat (RESOURCE_PREFIX, name, NULL);
      g_autoptr(GBytes) bytes = g_resource_lookup_data (mgw_web_get_resource (), resource,
                                                        G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

      if (bytes != NULL)
        {
          g_autoptr(GInputStream) body = g_memory_input_stream_new_from_bytes (bytes);

          answer_body (link, name, body, g_bytes_get_size (bytes), head_only,
                       "Content-Security-Policy: " EMULATOR_CSP "\r\n", length);
          return 200;
        }
      cause = NULL;
    }
  if (why != NULL)
    *why = g_strdup (cause != NULL ? cause : "no such file");
  return answer_error (link, 404, head_only, NULL, length);
}
