/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-http.c: HTTP/1.1 heads (RFC 9112): the request and response head
 * parser, strict and incremental (garbage refused as soon as it is seen,
 * bounded by max_head), and the error answers. Used by the WebSocket
 * upgrade (mgw-ws-codec.c) and the metrics endpoint. Pure, no I/O. */
#include "config.h"

#include "mgw-http.h"
#include "mgw-error.h"

#include <string.h>

typedef struct {
  char *name;
  char *value;   /* every value, joined with ", " */
  guint count;   /* header lines with this name */
} HeadField;

struct _MgwHttpHead {
  char *method;   /* request */
  char *target;
  guint status;   /* response */
  char *reason;
  guint minor;    /* HTTP/1.minor */
  GPtrArray *fields;
};

static void
head_field_free (gpointer data)
{
  HeadField *field = data;

  g_free (field->name);
  g_free (field->value);
  g_free (field);
}

static MgwHttpHead *
head_new (void)
{
  MgwHttpHead *head = g_new0 (MgwHttpHead, 1);

  head->fields = g_ptr_array_new_with_free_func (head_field_free);
  return head;
}

void
mgw_http_head_free (MgwHttpHead *head)
{
  if (head == NULL)
    return;
  g_free (head->method);
  g_free (head->target);
  g_free (head->reason);
  g_ptr_array_unref (head->fields);
  g_free (head);
}

const char *
mgw_http_head_get_method (MgwHttpHead *head)
{
  g_return_val_if_fail (head != NULL, NULL);

  return head->method;
}

const char *
mgw_http_head_get_target (MgwHttpHead *head)
{
  g_return_val_if_fail (head != NULL, NULL);

  return head->target;
}

char *
mgw_http_head_get_path (MgwHttpHead *head)
{
  const char *target;

  g_return_val_if_fail (head != NULL, NULL);

  target = head->target;
  if (target == NULL)
    return NULL;
  /* absolute-form (RFC 9112 section 3.2.2): what follows the authority */
  if (g_ascii_strncasecmp (target, "http://", 7) == 0 ||
      g_ascii_strncasecmp (target, "https://", 8) == 0)
    {
      const char *authority = strstr (target, "//") + 2;

      target = authority + strcspn (authority, "/?");
      if (*target != '/')
        return g_strdup ("/");
    }
  return g_strndup (target, strcspn (target, "?#"));
}

static HeadField *
head_find (MgwHttpHead *head,
           const char  *name)
{
  for (guint i = 0; i < head->fields->len; i++)
    {
      HeadField *field = g_ptr_array_index (head->fields, i);

      if (g_ascii_strcasecmp (field->name, name) == 0)
        return field;
    }
  return NULL;
}

const char *
mgw_http_head_get (MgwHttpHead *head,
                   const char  *name)
{
  HeadField *field;

  g_return_val_if_fail (head != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  field = head_find (head, name);
  return field != NULL ? field->value : NULL;
}

static gboolean
is_ows (char c)
{
  return c == ' ' || c == '\t';
}

/* TRUE when the comma-separated list has token (case-insensitive). */
static gboolean
list_has_token (const char *list,
                const char *token)
{
  gsize token_len = strlen (token);
  const char *p = list;

  while (p != NULL && *p != '\0')
    {
      const char *comma = strchr (p, ',');
      const char *end = comma != NULL ? comma : p + strlen (p);

      while (p < end && is_ows (*p))
        p++;
      while (end > p && is_ows (end[-1]))
        end--;
      if ((gsize) (end - p) == token_len && g_ascii_strncasecmp (p, token, token_len) == 0)
        return TRUE;
      p = comma != NULL ? comma + 1 : NULL;
    }
  return FALSE;
}

gboolean
mgw_http_head_has_token (MgwHttpHead *head,
                         const char  *name,
                         const char  *token)
{
  const char *value;

  g_return_val_if_fail (head != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (token != NULL, FALSE);

  value = mgw_http_head_get (head, name);
  return value != NULL && list_has_token (value, token);
}

guint
mgw_http_head_get_minor (MgwHttpHead *head)
{
  g_return_val_if_fail (head != NULL, 0);

  return head->minor;
}

guint
mgw_http_head_get_status (MgwHttpHead *head)
{
  g_return_val_if_fail (head != NULL, 0);

  return head->status;
}

const char *
mgw_http_head_get_reason (MgwHttpHead *head)
{
  g_return_val_if_fail (head != NULL, NULL);

  return head->reason;
}

guint
mgw_http_head_count (MgwHttpHead *head,
                     const char  *name)
{
  HeadField *field;

  g_return_val_if_fail (head != NULL, 0);
  g_return_val_if_fail (name != NULL, 0);

  field = head_find (head, name);
  return field != NULL ? field->count : 0;
}

/* RFC 9110 tchar */
static gboolean
is_tchar (guint8 c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

MgwHttpParse
mgw_http_fail (GError    **error,
               guint      *status,
               guint       code,
               const char *format,
               ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (status != NULL)
    *status = code;
  g_set_error_literal (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, message);
  return MGW_HTTP_INVALID;
}

/* Finds the end of the head ("\r\n\r\n"), refusing bytes that no head may
 * hold as soon as they are seen, so garbage is answered at once. */
static MgwHttpParse
head_scan (const guint8  *buf,
           gsize          len,
           gsize          max_head,
           gsize         *head_len,
           guint         *status,
           GError       **error)
{
  gsize n = MIN (len, max_head);

  for (gsize i = 0; i < n; i++)
    {
      guint8 c = buf[i];

      if (c == '\r')
        {
          /* Only what is within the limit decides, so the answer does not
           * depend on how the bytes arrived. */
          if (i + 1 < n && buf[i + 1] != '\n')
            return mgw_http_fail (error, status, 400, "bare CR in the HTTP head");
        }
      else if (c == '\n')
        {
          if (i == 0 || buf[i - 1] != '\r')
            return mgw_http_fail (error, status, 400, "bare LF in the HTTP head");
          if (i == 1)
            return mgw_http_fail (error, status, 400, "empty line before the HTTP start line");
          if (i >= 3 && buf[i - 2] == '\n')
            {
              *head_len = i + 1;
              return MGW_HTTP_COMPLETE;
            }
        }
      else if ((c < 0x20 && c != '\t') || c == 0x7F)
        {
          return mgw_http_fail (error, status, 400,
                                "control character 0x%02x in the HTTP head", c);
        }
    }
  if (len >= max_head)
    return mgw_http_fail (error, status, 431, "HTTP head over %" G_GSIZE_FORMAT " bytes", max_head);
  return MGW_HTTP_INCOMPLETE;
}

/* "HTTP/1.x" at text, exactly len bytes. */
static gboolean
parse_version (const char *text,
               gsize       len,
               guint      *minor)
{
  if (len != 8 || memcmp (text, "HTTP/1.", 7) != 0 || !g_ascii_isdigit (text[7]))
    return FALSE;
  *minor = (guint) (text[7] - '0');
  return TRUE;
}

/* One "name: value" line (no CRLF). */
static MgwHttpParse
parse_field (MgwHttpHead  *head,
             const char   *line,
             gsize         len,
             guint        *status,
             GError      **error)
{
  gsize name_len = 0;
  const char *value, *end;
  HeadField *field;
  g_autofree char *name = NULL;

  if (is_ows (line[0]))
    return mgw_http_fail (error, status, 400, "folded header line (obs-fold)");
  while (name_len < len && is_tchar ((guint8) line[name_len]))
    name_len++;
  if (name_len == 0 || name_len == len || line[name_len] != ':')
    {
      g_autofree char *text = mgw_error_escape (line, len);

      return mgw_http_fail (error, status, 400, "malformed header line \"%s\"", text);
    }
  value = line + name_len + 1;
  end = line + len;
  while (value < end && is_ows (*value))
    value++;
  while (end > value && is_ows (end[-1]))
    end--;

  name = g_strndup (line, name_len);
  field = head_find (head, name);
  if (field == NULL)
    {
      field = g_new0 (HeadField, 1);
      field->name = g_steal_pointer (&name);
      field->value = g_strndup (value, (gsize) (end - value));
      g_ptr_array_add (head->fields, field);
    }
  else
    {
      g_autofree char *old = field->value;

      field->value = g_strdup_printf ("%s, %.*s", old, (int) (end - value), value);
    }
  field->count++;
  return MGW_HTTP_COMPLETE;
}

/* "GET /target HTTP/1.1": single spaces, a token, visible ASCII. */
static MgwHttpParse
parse_request_line (MgwHttpHead  *head,
                    const char   *line,
                    gsize         len,
                    guint        *status,
                    GError      **error)
{
  gsize method_len = 0, target_start, target_len = 0;
  g_autofree char *text = NULL;

  while (method_len < len && is_tchar ((guint8) line[method_len]))
    method_len++;
  if (method_len == 0 || method_len == len || line[method_len] != ' ')
    goto malformed;
  target_start = method_len + 1;
  while (target_start + target_len < len
         && line[target_start + target_len] > 0x20
         && line[target_start + target_len] < 0x7F)
    target_len++;
  if (target_len == 0 || target_start + target_len == len
      || line[target_start + target_len] != ' ')
    goto malformed;
  if (!parse_version (line + target_start + target_len + 1,
                      len - target_start - target_len - 1, &head->minor))
    goto malformed;
  head->method = g_strndup (line, method_len);
  head->target = g_strndup (line + target_start, target_len);
  return MGW_HTTP_COMPLETE;

malformed:
  text = mgw_error_escape (line, len);
  return mgw_http_fail (error, status, 400, "malformed request line \"%s\"", text);
}

/* "HTTP/1.1 101 Switching Protocols"; the reason phrase may be empty or
 * absent. */
static MgwHttpParse
parse_status_line (MgwHttpHead  *head,
                   const char   *line,
                   gsize         len,
                   GError      **error)
{
  g_autofree char *text = NULL;

  if (len < 12 || !parse_version (line, 8, &head->minor) || line[8] != ' '
      || !g_ascii_isdigit (line[9]) || !g_ascii_isdigit (line[10])
      || !g_ascii_isdigit (line[11]) || (len > 12 && line[12] != ' '))
    {
      text = mgw_error_escape (line, len);
      return mgw_http_fail (error, NULL, 0, "malformed HTTP status line \"%s\"", text);
    }
  head->status = (guint) ((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
  head->reason = len > 13 ? g_strndup (line + 13, len - 13) : g_strdup ("");
  return MGW_HTTP_COMPLETE;
}

/* Splits a complete head (head_len bytes, ending with the blank line) into
 * its start line and fields. */
static MgwHttpParse
parse_head (MgwHttpHead  *head,
            const guint8 *buf,
            gsize         head_len,
            gboolean      request,
            guint        *status,
            GError      **error)
{
  const char *p = (const char *) buf;
  const char *end = p + head_len - 2;   /* the blank line's CRLF */
  gboolean first = TRUE;

  while (p < end)
    {
      /* head_scan() made sure every LF follows a CR. */
      const char *eol = memchr (p, '\r', (gsize) (end - p));
      gsize len = (gsize) (eol - p);
      MgwHttpParse result;

      if (first)
        result = request ? parse_request_line (head, p, len, status, error)
                         : parse_status_line (head, p, len, error);
      else
        result = parse_field (head, p, len, status, error);
      if (result != MGW_HTTP_COMPLETE)
        return result;
      first = FALSE;
      p = eol + 2;
    }
  return MGW_HTTP_COMPLETE;
}

/* The syntax of a request or response head: on COMPLETE, *parsed is the
 * head and *scanned its length. */
static MgwHttpParse
parse_any_head (const guint8  *buf,
                gsize          len,
                gsize          max_head,
                gboolean       request,
                gsize         *scanned,
                MgwHttpHead  **parsed,
                guint         *status,
                GError       **error)
{
  g_autoptr(MgwHttpHead) head = NULL;
  MgwHttpParse result;

  result = head_scan (buf, len, max_head, scanned, status, error);
  if (result != MGW_HTTP_COMPLETE)
    return result;

  head = head_new ();
  result = parse_head (head, buf, *scanned, request, status, error);
  if (result != MGW_HTTP_COMPLETE)
    return result;
  *parsed = g_steal_pointer (&head);
  return MGW_HTTP_COMPLETE;
}

/* RFC 9112 section 3.2: exactly one Host in an HTTP/1.1 request. */
static MgwHttpParse
check_host (MgwHttpHead  *head,
            guint        *status,
            GError      **error)
{
  HeadField *host = head_find (head, "Host");

  if (head->minor >= 1 && host == NULL)
    return mgw_http_fail (error, status, 400, "no Host header");
  if (host != NULL && host->count > 1)
    return mgw_http_fail (error, status, 400, "several Host headers");
  return MGW_HTTP_COMPLETE;
}

MgwHttpParse
mgw_http_parse_request_checked (const guint8  *buf,
                                gsize          len,
                                gsize          max_head,
                                gsize         *head_len,
                                MgwHttpHead  **head,
                                guint         *status,
                                MgwHttpCheck   check,
                                GError       **error)
{
  g_autoptr(MgwHttpHead) parsed = NULL;
  MgwHttpParse result;
  gsize scanned = 0;

  g_return_val_if_fail (buf != NULL || len == 0, MGW_HTTP_INVALID);
  g_return_val_if_fail (head_len != NULL, MGW_HTTP_INVALID);
  g_return_val_if_fail (head != NULL, MGW_HTTP_INVALID);
  g_return_val_if_fail (status != NULL, MGW_HTTP_INVALID);
  g_return_val_if_fail (error == NULL || *error == NULL, MGW_HTTP_INVALID);

  result = parse_any_head (buf, len, max_head, TRUE, &scanned, &parsed, status, error);
  if (result != MGW_HTTP_COMPLETE)
    return result;
  result = check (parsed, status, error);
  if (result != MGW_HTTP_COMPLETE)
    return result;

  *head_len = scanned;
  *head = g_steal_pointer (&parsed);
  return MGW_HTTP_COMPLETE;
}

MgwHttpParse
mgw_http_parse_request (const guint8  *buf,
                        gsize          len,
                        gsize          max_head,
                        gsize         *head_len,
                        MgwHttpHead  **head,
                        guint         *status,
                        GError       **error)
{
  return mgw_http_parse_request_checked (buf, len, max_head, head_len, head, status,
                                         check_host, error);
}

MgwHttpParse
mgw_http_parse_response (const guint8  *buf,
                         gsize          len,
                         gsize          max_head,
                         gsize         *head_len,
                         MgwHttpHead  **head,
                         GError       **error)
{
  g_autoptr(MgwHttpHead) parsed = NULL;
  MgwHttpParse result;
  gsize scanned = 0;

  g_return_val_if_fail (buf != NULL || len == 0, MGW_HTTP_INVALID);
  g_return_val_if_fail (head_len != NULL, MGW_HTTP_INVALID);
  g_return_val_if_fail (head != NULL, MGW_HTTP_INVALID);
  g_return_val_if_fail (error == NULL || *error == NULL, MGW_HTTP_INVALID);

  result = parse_any_head (buf, len, max_head, FALSE, &scanned, &parsed, NULL, error);
  if (result != MGW_HTTP_COMPLETE)
    return result;
  *head_len = scanned;
  *head = g_steal_pointer (&parsed);
  return MGW_HTTP_COMPLETE;
}

const char *
mgw_http_status_reason (guint status)
{
  switch (status)
    {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

char *
mgw_http_error_response (guint status)
{
  const char *reason = mgw_http_status_reason (status);
  g_autofree char *body = NULL;
  GString *response;

  g_return_val_if_fail (status >= 400 && status <= 599, NULL);

  body = g_strdup_printf ("%u %s\n", status, reason);
  response = g_string_new (NULL);
  g_string_append_printf (response, "HTTP/1.1 %u %s\r\n", status, reason);
  if (status == 426)
    g_string_append (response,
                     "Connection: Upgrade, close\r\n"
                     "Upgrade: websocket\r\n"
                     "Sec-WebSocket-Version: 13\r\n");
  else
    g_string_append (response, "Connection: close\r\n");
  if (status == 405)
    g_string_append (response, "Allow: GET\r\n");
  g_string_append_printf (response,
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                          "\r\n"
                          "%s",
                          strlen (body), body);
  return g_string_free (response, FALSE);
}
