/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-recording.c: the session recording format (docs/protocol.md,
 * Session recordings).
 *
 * A recording is JSON lines. The first is the header, an object:
 *   {"moipgw-recording":1,"id":"20261203-164225-12","session":12,
 *    "peer":"192.0.2.7","port":40112,"access":"Telnet",
 *    "start":1796316145123456,"offset":0,"gateway":"moipgw 1.0",
 *    "input":"mask","max-size":1048576}
 * then one event a line, an array:
 *   [TIME, "s", "BYTES"]            default server → user
 *   [TIME, "t", "BYTES", N]         redirect target → user, redirection N
 *   [TIME, "g", "BYTES"]            the gateway's status lines → user
 *   [TIME, "u", "BYTES"(, N)]       user → gateway; a number instead of
 *                                   the string under input=mask
 *   [TIME, "m", {"event":"..."...}] a mark
 * TIME is seconds since the session's start, to the microsecond; BYTES
 * a JSON string where each code point U+0000 to U+00FF is one byte. */
#include "config.h"

#include "mgw-recording.h"

#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <string.h>

#include "mgw-error.h"

static const char *const input_names[] = { "keep", "mask", "drop" };
static const char kind_letters[] = "ustgm";

const char *
mgw_recording_input_to_string (MgwRecordingInput input)
{
  g_return_val_if_fail (input <= MGW_RECORDING_INPUT_DROP, NULL);
  return input_names[input];
}

gboolean
mgw_recording_input_from_string (const char        *text,
                                 MgwRecordingInput *input)
{
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (input != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (input_names); i++)
    if (g_str_equal (text, input_names[i]))
      {
        *input = (MgwRecordingInput) i;
        return TRUE;
      }
  return FALSE;
}

/* --- encoding --- */

/* A JSON string: of bytes one code point each (latin1), or of UTF-8
 * text. */
static void
append_string (GString      *out,
               const guint8 *data,
               gsize         len,
               gboolean      latin1)
{
  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = data[i];

      if (b == '"' || b == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) b);
        }
      else if (b < 0x20 || b == 0x7f)
        {
          /* Per byte of a screen: no printf. */
          static const char hex[] = "0123456789abcdef";
          char escape[6] = { '\\', 'u', '0', '0', hex[b >> 4], hex[b & 0xf] };

          g_string_append_len (out, escape, sizeof escape);
        }
      else if (b < 0x80 || !latin1)
        g_string_append_c (out, (char) b);
      else
        {
          g_string_append_c (out, (char) (0xc0 | (b >> 6)));
          g_string_append_c (out, (char) (0x80 | (b & 0x3f)));
        }
    }
  g_string_append_c (out, '"');
}

static void
append_bytes (GString      *out,
              const guint8 *data,
              gsize         len)
{
  append_string (out, data, len, TRUE);
}

/* UTF-8 text (invalid sequences replaced). */
static void
append_text (GString    *out,
             const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  append_string (out, (const guint8 *) valid, strlen (valid), FALSE);
}

static void
append_time (GString *out,
             gint64   time)
{
  if (time < 0)
    time = 0;
  g_string_append_printf (out, "%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT,
                          time / G_USEC_PER_SEC, time % G_USEC_PER_SEC);
}

void
mgw_recording_append_header (GString                  *out,
                             const MgwRecordingHeader *header)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (header != NULL && header->id != NULL);
  g_return_if_fail (header->input <= MGW_RECORDING_INPUT_DROP);

  g_string_append_printf (out, "{\"moipgw-recording\":%d,\"id\":", MGW_RECORDING_VERSION);
  append_text (out, header->id);
  g_string_append_printf (out, ",\"session\":%u,\"peer\":", header->session);
  append_text (out, header->peer != NULL ? header->peer : "");
  g_string_append_printf (out, ",\"port\":%u,\"access\":", header->port);
  append_text (out, header->access != NULL ? header->access : "");
  g_string_append_printf (out, ",\"start\":%" G_GINT64_FORMAT ",\"offset\":", header->start);
  append_time (out, header->offset);
  g_string_append (out, ",\"gateway\":");
  append_text (out, header->gateway != NULL ? header->gateway : "");
  g_string_append_printf (out, ",\"input\":\"%s\",\"max-size\":%" G_GUINT64_FORMAT "}\n",
                          input_names[header->input], header->max_size);
}

static void
begin_event (GString          *out,
             gint64            time,
             MgwRecordingKind  kind)
{
  g_string_append_c (out, '[');
  append_time (out, time);
  g_string_append_printf (out, ",\"%c\",", kind_letters[kind]);
}

static void
end_event (GString *out,
           guint    redirection)
{
  if (redirection > 0)
    g_string_append_printf (out, ",%u", redirection);
  g_string_append (out, "]\n");
}

void
mgw_recording_append_chunk (GString          *out,
                            gint64            time,
                            MgwRecordingKind  kind,
                            guint             redirection,
                            const guint8     *data,
                            gsize             len)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (kind < MGW_RECORDING_MARK);
  g_return_if_fail (data != NULL || len == 0);

  begin_event (out, time, kind);
  append_bytes (out, data, len);
  end_event (out, redirection);
}

void
mgw_recording_append_masked (GString *out,
                             gint64   time,
                             guint    redirection,
                             gsize    len)
{
  g_return_if_fail (out != NULL);

  begin_event (out, time, MGW_RECORDING_USER);
  g_string_append_printf (out, "%" G_GSIZE_FORMAT, len);
  end_event (out, redirection);
}

void
mgw_recording_append_mark (GString    *out,
                           gint64      time,
                           const char *event,
                           ...)
{
  va_list args;
  const char *name;

  g_return_if_fail (out != NULL);
  g_return_if_fail (event != NULL);

  begin_event (out, time, MGW_RECORDING_MARK);
  g_string_append (out, "{\"event\":");
  append_text (out, event);
  va_start (args, event);
  while ((name = va_arg (args, const char *)) != NULL)
    {
      g_string_append_c (out, ',');
      if (name[0] == '#')
        {
          append_text (out, name + 1);
          g_string_append_printf (out, ":%" G_GUINT64_FORMAT, va_arg (args, guint64));
        }
      else
        {
          const char *value = va_arg (args, const char *);

          append_text (out, name);
          g_string_append_c (out, ':');
          append_text (out, value != NULL ? value : "");
        }
    }
  va_end (args);
  g_string_append (out, "}]\n");
}

/* --- parsing --- */

static gboolean
bad (GError    **error,
     const char *what)
{
  g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, "%s", what);
  return FALSE;
}

static JsonNode *
parse_line (const char *line,
            gsize       len,
            GError    **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) cause = NULL;
  JsonNode *root;

  if (len > MGW_RECORDING_LINE_MAX)
    {
      bad (error, "a line is longer than any the gateway writes");
      return NULL;
    }
  if (memchr (line, '\0', len) != NULL)
    {
      bad (error, "a line holds a NUL byte");
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, line, (gssize) len, &cause))
    {
      g_autofree char *why = mgw_error_describe (cause);
      g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, "not JSON: %s", why);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      bad (error, "an empty line");
      return NULL;
    }
  return json_node_copy (root);
}

/* A JSON number that is seconds to µs, from 0 to about 31 years. */
static gboolean
node_time (JsonNode *node,
           gint64   *time)
{
  double seconds;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return FALSE;
  if (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  seconds = json_node_get_double (node);
  if (!(seconds >= 0 && seconds < 1e9))
    return FALSE;
  *time = (gint64) (seconds * G_USEC_PER_SEC + 0.5);
  return TRUE;
}

static gboolean
node_uint (JsonNode *node,
           guint64   max,
           guint64  *value)
{
  gint64 number;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  number = json_node_get_int (node);
  if (number < 0 || (guint64) number > max)
    return FALSE;
  *value = (guint64) number;
  return TRUE;
}

static const char *
node_string (JsonNode *node)
{
  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

void
mgw_recording_header_clear (MgwRecordingHeader *header)
{
  if (header == NULL)
    return;
  g_clear_pointer (&header->id, g_free);
  g_clear_pointer (&header->peer, g_free);
  g_clear_pointer (&header->access, g_free);
  g_clear_pointer (&header->gateway, g_free);
  memset (header, 0, sizeof *header);
}

gboolean
mgw_recording_parse_header (const char         *line,
                            gsize               len,
                            MgwRecordingHeader *header,
                            GError            **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  guint64 version, session, port, max_size;
  gint64 offset;
  const char *id, *peer, *access, *gateway, *input;
  JsonNode *start;

  g_return_val_if_fail (line != NULL || len == 0, FALSE);
  g_return_val_if_fail (header != NULL, FALSE);

  memset (header, 0, sizeof *header);
  root = parse_line (line, len, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return bad (error, "the first line is not a recording's header");
  object = json_node_get_object (root);
  if (!node_uint (json_object_get_member (object, "moipgw-recording"), G_MAXUINT, &version))
    return bad (error, "the first line is not a recording's header");
  if (version != MGW_RECORDING_VERSION)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                   "a recording of version %" G_GUINT64_FORMAT ", this reader knows %d",
                   version, MGW_RECORDING_VERSION);
      return FALSE;
    }
  id = node_string (json_object_get_member (object, "id"));
  peer = node_string (json_object_get_member (object, "peer"));
  access = node_string (json_object_get_member (object, "access"));
  gateway = node_string (json_object_get_member (object, "gateway"));
  input = node_string (json_object_get_member (object, "input"));
  start = json_object_get_member (object, "start");
  if (id == NULL || !mgw_recording_id_is_valid (id) || peer == NULL || access == NULL ||
      gateway == NULL || input == NULL ||
      !mgw_recording_input_from_string (input, &header->input) ||
      !node_uint (json_object_get_member (object, "session"), G_MAXUINT, &session) ||
      !node_uint (json_object_get_member (object, "port"), G_MAXUINT16, &port) ||
      !node_uint (json_object_get_member (object, "max-size"), G_MAXINT64, &max_size) ||
      !node_time (json_object_get_member (object, "offset"), &offset) ||
      start == NULL || JSON_NODE_TYPE (start) != JSON_NODE_VALUE ||
      json_node_get_value_type (start) != G_TYPE_INT64)
    {
      memset (header, 0, sizeof *header);
      return bad (error, "the header lacks a field or has a bad value");
    }
  header->id = g_strdup (id);
  header->session = (guint) session;
  header->peer = g_strdup (peer);
  header->port = (guint16) port;
  header->access = g_strdup (access);
  header->start = json_node_get_int (start);
  header->offset = offset;
  header->gateway = g_strdup (gateway);
  header->max_size = max_size;
  return TRUE;
}

void
mgw_recording_event_clear (MgwRecordingEvent *event)
{
  if (event == NULL)
    return;
  g_clear_pointer (&event->data, g_byte_array_unref);
  g_clear_pointer (&event->event, g_free);
  g_clear_pointer (&event->detail, g_free);
  memset (event, 0, sizeof *event);
}

/* An event line is read by hand, not by json-glib: a chunk may hold
 * U+0000, which a C string cannot. The cursor below stops at the first
 * thing that is not what the format allows. */
typedef struct {
  const char *p;
  const char *end;
} Cursor;

static void
skip_space (Cursor *c)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
    c->p++;
}

static gboolean
expect (Cursor *c,
        char    ch)
{
  skip_space (c);
  if (c->p >= c->end || *c->p != ch)
    return FALSE;
  c->p++;
  return TRUE;
}

static gboolean
peek (Cursor *c,
      char    ch)
{
  skip_space (c);
  return c->p < c->end && *c->p == ch;
}

/* A JSON number, as a double; only what JSON allows. */
static gboolean
read_number (Cursor *c,
             double *value)
{
  char buf[48];
  const char *start;
  gsize n;
  char *endp;

  skip_space (c);
  start = c->p;
  while (c->p < c->end && strchr ("0123456789+-.eE", *c->p) != NULL)
    c->p++;
  n = (gsize) (c->p - start);
  if (n == 0 || n >= sizeof buf || !(g_ascii_isdigit (start[0]) || start[0] == '-'))
    return FALSE;
  memcpy (buf, start, n);
  buf[n] = '\0';
  *value = g_ascii_strtod (buf, &endp);
  return *endp == '\0';
}

static gboolean
read_count (Cursor  *c,
            guint64  max,
            guint64 *value)
{
  double number;

  if (!read_number (c, &number) || !(number >= 0 && number <= (double) max) ||
      number != (double) (guint64) number)
    return FALSE;
  *value = (guint64) number;
  return TRUE;
}

static gint
hex_digit (char ch)
{
  return g_ascii_xdigit_value (ch);
}

/* A JSON string of code points up to U+00FF, as bytes. */
static GByteArray *
read_bytes (Cursor *c)
{
  g_autoptr(GByteArray) bytes = NULL;

  if (!expect (c, '"'))
    return NULL;
  bytes = g_byte_array_new ();
  while (c->p < c->end && *c->p != '"')
    {
      guint32 code;
      guint8 b;

      if (*c->p == '\\')
        {
          if (c->end - c->p < 2)
            return NULL;
          switch (c->p[1])
            {
            case '"': code = '"'; break;
            case '\\': code = '\\'; break;
            case '/': code = '/'; break;
            case 'b': code = '\b'; break;
            case 'f': code = '\f'; break;
            case 'n': code = '\n'; break;
            case 'r': code = '\r'; break;
            case 't': code = '\t'; break;
            case 'u':
              code = 0;
              if (c->end - c->p < 6)
                return NULL;
              for (guint i = 2; i < 6; i++)
                {
                  gint d = hex_digit (c->p[i]);
                  if (d < 0)
                    return NULL;
                  code = code * 16 + (guint32) d;
                }
              c->p += 4;
              break;
            default:
              return NULL;
            }
          c->p += 2;
        }
      else if ((guchar) *c->p < 0x20)
        return NULL;
      else if ((guchar) *c->p < 0x80)
        code = (guchar) *c->p++;
      else
        {
          /* Two bytes of UTF-8 at most: U+0080 to U+00FF. */
          if (c->end - c->p < 2 || ((guchar) c->p[0] & 0xfe) != 0xc2 ||
              ((guchar) c->p[1] & 0xc0) != 0x80)
            return NULL;
          code = (((guchar) c->p[0] & 0x1fu) << 6) | ((guchar) c->p[1] & 0x3fu);
          c->p += 2;
        }
      if (code > 0xff)
        return NULL;
      b = (guint8) code;
      g_byte_array_append (bytes, &b, 1);
    }
  if (!expect (c, '"'))
    return NULL;
  return g_steal_pointer (&bytes);
}

gboolean
mgw_recording_parse_event (const char        *line,
                           gsize              len,
                           MgwRecordingEvent *event,
                           GError           **error)
{
  Cursor c = { line, line + len };
  g_autoptr(GByteArray) kind = NULL;
  const char *letter;
  double seconds;
  guint64 number;

  g_return_val_if_fail (line != NULL || len == 0, FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  memset (event, 0, sizeof *event);
  if (len > MGW_RECORDING_LINE_MAX)
    return bad (error, "a line is longer than any the gateway writes");
  if (!expect (&c, '['))
    return bad (error, "an event is not an array");
  if (!read_number (&c, &seconds) || !(seconds >= 0 && seconds < 1e9))
    return bad (error, "an event's time is not a number of seconds");
  event->time = (gint64) (seconds * G_USEC_PER_SEC + 0.5);
  if (!expect (&c, ',') || (kind = read_bytes (&c)) == NULL || kind->len != 1 ||
      kind->data[0] == '\0' || (letter = strchr (kind_letters, kind->data[0])) == NULL)
    return bad (error, "an event of an unknown kind");
  event->kind = (MgwRecordingKind) (letter - kind_letters);
  if (!expect (&c, ','))
    return bad (error, "an event has no payload");

  if (event->kind == MGW_RECORDING_MARK)
    {
      /* The object runs to the array's last ']': json-glib reads it. */
      const char *close = c.end;
      g_autoptr(JsonNode) node = NULL;
      const char *name;

      while (close > c.p && (close[-1] == ' ' || close[-1] == '\t' || close[-1] == '\r'))
        close--;
      if (close == c.p || close[-1] != ']' || !peek (&c, '{'))
        return bad (error, "a mark is not an object with an event");
      node = parse_line (c.p, (gsize) (close - 1 - c.p), error);
      if (node == NULL)
        return FALSE;
      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          (name = node_string (json_object_get_member (json_node_get_object (node), "event"))) == NULL)
        return bad (error, "a mark is not an object with an event");
      event->event = g_strdup (name);
      event->detail = json_to_string (node, FALSE);
      return TRUE;
    }

  if (peek (&c, '"'))
    {
      event->data = read_bytes (&c);
      if (event->data == NULL)
        return bad (error, "a chunk is not a string of code points up to U+00FF");
    }
  else if (event->kind == MGW_RECORDING_USER && read_count (&c, G_MAXINT32, &number))
    event->masked = (gsize) number;
  else
    return bad (error, "a chunk is not a string");

  if (peek (&c, ','))
    {
      c.p++;
      if (!read_count (&c, G_MAXUINT, &number))
        {
          mgw_recording_event_clear (event);
          return bad (error, "an event's redirection is not a number");
        }
      event->redirection = (guint) number;
    }
  if (!expect (&c, ']') || (skip_space (&c), c.p != c.end))
    {
      mgw_recording_event_clear (event);
      return bad (error, "an event has neither three nor four members");
    }
  return TRUE;
}

gboolean
mgw_recording_kind_is_screen (MgwRecordingKind kind)
{
  return kind == MGW_RECORDING_SERVER || kind == MGW_RECORDING_TARGET ||
         kind == MGW_RECORDING_GATEWAY;
}

/* --- ids --- */

char *
mgw_recording_make_id (gint64 start,
                       guint  session,
                       guint  attempt)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (start / G_USEC_PER_SEC);
  g_autofree char *stamp = NULL;

  g_return_val_if_fail (when != NULL, NULL);
  stamp = g_date_time_format (when, "%Y%m%d-%H%M%S");
  if (attempt == 0)
    return g_strdup_printf ("%s-%u", stamp, session);
  return g_strdup_printf ("%s-%u-%u", stamp, session, attempt + 1);
}

gboolean
mgw_recording_id_is_valid (const char *id)
{
  gsize len;

  if (id == NULL)
    return FALSE;
  len = strlen (id);
  if (len == 0 || len > 64 || id[0] == '-')
    return FALSE;
  return strspn (id, "0123456789-") == len;
}

/* --- replay pacing --- */

void
mgw_replay_pace_init (MgwReplayPace *pace,
                      double         speed,
                      guint          baud,
                      gint64         idle_max)
{
  g_return_if_fail (pace != NULL);
  g_return_if_fail (speed >= 0);

  memset (pace, 0, sizeof *pace);
  pace->speed = speed;
  pace->baud = baud;
  pace->idle_max = idle_max;
}

/* µs the line takes for n bytes: ten bits a byte (start, 8 data... as
 * a Minitel's 7E1 plus stop). */
static gint64
line_time (guint baud,
           gsize n)
{
  return (gint64) ((double) n * 10 * G_USEC_PER_SEC / baud);
}

gint64
mgw_replay_pace_next (MgwReplayPace *pace,
                      gint64         time,
                      gsize          len)
{
  gint64 due;

  g_return_val_if_fail (pace != NULL, 0);

  if (pace->speed == 0)
    due = 0;
  else if (!pace->started)
    due = 0;
  else
    {
      gint64 gap = MAX (time - pace->last_time, 0);

      if (pace->idle_max > 0)
        gap = MIN (gap, pace->idle_max);
      due = pace->due + (gint64) (gap / pace->speed);
    }
  pace->started = TRUE;
  pace->last_time = time;
  pace->due = due;
  if (pace->baud > 0)
    {
      due = MAX (due, pace->line_free);
      pace->line_free = due + line_time (pace->baud, len);
    }
  return due;
}

gsize
mgw_replay_pace_allowed (const MgwReplayPace *pace,
                         gint64               due,
                         gint64               now,
                         gsize                len)
{
  double n;

  g_return_val_if_fail (pace != NULL, len);

  if (pace->baud == 0)
    return len;
  if (now < due)
    return 0;
  n = (double) (now - due) * pace->baud / (10.0 * G_USEC_PER_SEC) + 1;
  return n >= (double) len ? len : (gsize) n;
}
