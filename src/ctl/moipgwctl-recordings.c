/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-recordings.c: the session recordings: `recordings` (the
 * list), `recordings delete ID`, `recordings expire`, and `replay ID`,
 * which writes the user's screen bytes to standard output at the
 * recorded pace (--speed, --baud, --idle-limit) or at once (--raw). The
 * file comes from the gateway (OpenRecording hands its descriptor): the
 * gateway decides who may read it. */
#include "config.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "mgw-recording.h"
#include "moipgwctl.h"

static char *
format_size (guint64 size)
{
  return g_format_size_full (size, G_FORMAT_SIZE_IEC_UNITS);
}

static int
list_recordings (Ctl            *ctl,
                 MgwDBusGateway *gateway)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) list = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(MgwCtlTable) table = NULL;
  GVariantIter iter;
  gboolean any_active = FALSE;
  const char *id, *address, *access;
  guint32 session;
  guint16 port;
  gint64 start, modified;
  guint64 size;
  gboolean active;

  if (!mgw_dbus_gateway_call_list_recordings_sync (gateway, &list, NULL, &error))
    return mgw_ctl_report_error (ctl, error, _("cannot list the recordings"));
  if (ctl->json)
    {
      b = json_builder_new ();
      json_builder_begin_array (b);
    }
  else
    {
      table = mgw_ctl_table_new (7, 1u << 1 | 1u << 5);
      mgw_ctl_table_add (table, _("RECORDING"));
      mgw_ctl_table_add (table, _("SESSION"));
      mgw_ctl_table_add (table, _("PEER"));
      mgw_ctl_table_add (table, _("ACCESS"));
      mgw_ctl_table_add (table, _("START"));
      mgw_ctl_table_add (table, _("SIZE"));
      mgw_ctl_table_add (table, _("LAST WRITE"));
    }
  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "(&su&sq&sxxtb)", &id, &session, &address, &port, &access,
                              &start, &modified, &size, &active))
    {
      MgwCtlPeer peer = { (char *) address, port };

      any_active |= active;
      if (b != NULL)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "Id");
          json_builder_add_string_value (b, id);
          json_builder_set_member_name (b, "Session");
          json_builder_add_int_value (b, session);
          mgw_ctl_add_peer (*address != '\0' ? &peer : NULL, b, NULL);
          json_builder_set_member_name (b, "Access");
          json_builder_add_string_value (b, access);
          mgw_ctl_json_add_time (b, "Start", start);
          mgw_ctl_json_add_time (b, "Modified", modified);
          json_builder_set_member_name (b, "Size");
          json_builder_add_int_value (b, (gint64) size);
          json_builder_set_member_name (b, "Active");
          json_builder_add_boolean_value (b, active);
          json_builder_end_object (b);
        }
      else
        {
          mgw_ctl_table_take (table, g_strconcat (id, active ? " *" : "", NULL));
          mgw_ctl_table_take (table, session != 0 ? g_strdup_printf ("%u", session) : g_strdup ("-"));
          mgw_ctl_table_take (table, mgw_ctl_format_peer (*address != '\0' ? &peer : NULL));
          mgw_ctl_table_add (table, mgw_ctl_or_dash (access));
          mgw_ctl_table_take (table, start != 0 ? mgw_ctl_format_time (start) : g_strdup ("-"));
          mgw_ctl_table_take (table, format_size (size));
          mgw_ctl_table_take (table, mgw_ctl_format_time (modified));
        }
    }
  if (b != NULL)
    {
      json_builder_end_array (b);
      mgw_ctl_print_json (b, TRUE);
    }
  else if (g_variant_n_children (list) == 0)
    g_print ("%s\n", _("No recordings."));
  else
    {
      mgw_ctl_table_print (table);
      if (any_active)
        /* TRANSLATORS: under the list of recordings. */
        g_print ("%s\n", _("* being written"));
    }
  return EXIT_SUCCESS;
}

int
mgw_ctl_cmd_recordings (Ctl   *ctl,
                        char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autoptr(GError) error = NULL;
  const char *action = args[0];
  guint n = g_strv_length (args);

  if (action != NULL && !g_str_equal (action, "delete") && !g_str_equal (action, "expire"))
    {
      mgw_ctl_print_error (_("recordings: unknown action '%s' (delete ID or expire)"), action);
      return EXIT_USAGE;
    }
  if (action != NULL && (g_str_equal (action, "delete") ? n != 2 : n != 1))
    {
      mgw_ctl_print_error (g_str_equal (action, "delete") ? _("recordings delete: give one ID")
                                                          : _("recordings expire: no argument"));
      return EXIT_USAGE;
    }
  if (action != NULL && g_str_equal (action, "delete") && !mgw_recording_id_is_valid (args[1]))
    {
      mgw_ctl_print_error (_("'%s' is not a recording's id"), args[1]);
      return EXIT_USAGE;
    }
  gateway = mgw_ctl_get_gateway (ctl, &status);
  if (gateway == NULL)
    return status;
  if (action == NULL)
    return list_recordings (ctl, gateway);

  if (g_str_equal (action, "delete"))
    {
      if (!mgw_dbus_gateway_call_delete_recording_sync (gateway, args[1], NULL, &error))
        {
          g_autofree char *what = g_strdup_printf (_("cannot delete recording %s"), args[1]);
          return mgw_ctl_report_error (ctl, error, what);
        }
      if (ctl->json)
        {
          g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("recordings delete");

          json_builder_set_member_name (b, "Id");
          json_builder_add_string_value (b, args[1]);
          mgw_ctl_action_end (b);
        }
      else
        g_print (_("Recording %s deleted.\n"), args[1]);
      return EXIT_SUCCESS;
    }

  {
    guint removed = 0;
    guint64 freed = 0;
    g_autofree char *size = NULL;

    if (!mgw_dbus_gateway_call_expire_recordings_sync (gateway, &removed, &freed, NULL, &error))
      return mgw_ctl_report_error (ctl, error, _("cannot expire the recordings"));
    if (ctl->json)
      {
        g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("recordings expire");

        json_builder_set_member_name (b, "Removed");
        json_builder_add_int_value (b, removed);
        json_builder_set_member_name (b, "Freed");
        json_builder_add_int_value (b, (gint64) freed);
        mgw_ctl_action_end (b);
        return EXIT_SUCCESS;
      }
    size = format_size (freed);
    g_print (ngettext ("%u recording removed (%s).\n", "%u recordings removed (%s).\n", removed),
             removed, size);
  }
  return EXIT_SUCCESS;
}

/* --- replay --- */

typedef struct {
  int      fd;
  char     buf[65536];
  gsize    start;
  gsize    end;
  gboolean eof;
  GString *line;
} Reader;

/* The next whole line, without its '\n'; NULL at the end (a last line
 * without one is being written: left out) or, *error set, on a read
 * error or a line longer than any the gateway writes. */
static const char *
next_line (Reader  *r,
           GError **error)
{
  g_string_truncate (r->line, 0);
  for (;;)
    {
      const char *nl = memchr (r->buf + r->start, '\n', r->end - r->start);
      gsize take = (nl != NULL ? (gsize) (nl - r->buf) : r->end) - r->start;
      ssize_t n;

      if (r->line->len + take > MGW_RECORDING_LINE_MAX)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("a line is longer than any the gateway writes"));
          return NULL;
        }
      g_string_append_len (r->line, r->buf + r->start, (gssize) take);
      r->start += take;
      if (nl != NULL)
        {
          r->start++;
          return r->line->str;
        }
      if (r->eof)
        return NULL;
      do
        n = read (r->fd, r->buf, sizeof r->buf);
      while (n < 0 && errno == EINTR);
      if (n < 0)
        {
          int saved = errno;
          g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
          return NULL;
        }
      r->start = 0;
      r->end = (gsize) n;
      r->eof = n == 0;
    }
}

static void
sleep_until (gint64 origin,
             gint64 due)
{
  gint64 wait = origin + due - g_get_monotonic_time ();

  if (wait > 0)
    g_usleep ((gulong) wait);
}

/* An event's bytes at the pace's rhythm: all at `due`, or under baud
 * as the line would carry them, about 20 ms of them a write. */
static gboolean
play (MgwReplayPace *pace,
      gint64         origin,
      gint64         due,
      const guint8  *data,
      gsize          len)
{
  gsize slice = pace->baud > 0 ? MAX (1, pace->baud / 10 / 50) : len;
  gsize written = 0;

  while (written < len)
    {
      gsize next = MIN (len, written + slice);
      gsize allowed;

      /* When byte `next` is due: ten bits each at baud. */
      sleep_until (origin, due + (pace->baud > 0 ? (gint64) ((double) (next - 1) * 10 *
                                                             G_USEC_PER_SEC / pace->baud) : 0));
      allowed = mgw_replay_pace_allowed (pace, due, g_get_monotonic_time () - origin, len);
      allowed = MAX (allowed, next);
      if (!mgw_ctl_write_stdout (data + written, allowed - written))
        return FALSE;
      written = allowed;
    }
  return TRUE;
}

static gboolean
parse_double (const char *text,
              double      min,
              double      max,
              double     *value)
{
  char *end;

  if (text == NULL)
    return FALSE;
  *value = g_ascii_strtod (text, &end);
  return *text != '\0' && *end == '\0' && *value >= min && *value <= max;
}

static int
replay_fd (int     fd,
           double  speed,
           guint   baud,
           gint64  idle_max)
{
  Reader r = { .fd = fd, .line = g_string_new (NULL) };
  g_autoptr(GError) error = NULL;
  MgwRecordingHeader header;
  MgwReplayPace pace;
  const char *line;
  guint number = 1;
  gint64 origin = g_get_monotonic_time ();
  int status = EXIT_SUCCESS;

  line = next_line (&r, &error);
  if (line == NULL || !mgw_recording_parse_header (line, r.line->len, &header, &error))
    {
      mgw_ctl_print_error (_("replay: not a recording: %s"),
                           error != NULL ? error->message : _("it is empty"));
      g_string_free (r.line, TRUE);
      return EXIT_FAILURE;
    }
  mgw_recording_header_clear (&header);
  mgw_replay_pace_init (&pace, speed, baud, idle_max);
  while ((line = next_line (&r, &error)) != NULL)
    {
      MgwRecordingEvent event;

      number++;
      if (!mgw_recording_parse_event (line, r.line->len, &event, &error))
        break;
      if (mgw_recording_kind_is_screen (event.kind) && event.data->len > 0)
        {
          gint64 due = mgw_replay_pace_next (&pace, event.time, event.data->len);

          if (!play (&pace, origin, due, event.data->data, event.data->len))
            {
              int saved = errno;
              mgw_recording_event_clear (&event);
              mgw_ctl_print_error (_("replay: cannot write: %s"), g_strerror (saved));
              status = EXIT_FAILURE;
              break;
            }
        }
      mgw_recording_event_clear (&event);
    }
  if (error != NULL)
    {
      mgw_ctl_print_error (_("replay: line %u: %s"), number, error->message);
      status = EXIT_FAILURE;
    }
  g_string_free (r.line, TRUE);
  return status;
}

int
mgw_ctl_cmd_replay (Ctl   *ctl,
                    char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) handle = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  double speed = 1, idle = 0, baud = 0;
  int fd;

  if (!mgw_recording_id_is_valid (args[0]))
    {
      mgw_ctl_print_error (_("'%s' is not a recording's id"), args[0]);
      return EXIT_USAGE;
    }
  if (ctl->speed != NULL && !parse_double (ctl->speed, 0.01, 1000, &speed))
    {
      mgw_ctl_print_error (_("--speed: '%s' is not a number from 0.01 to 1000"), ctl->speed);
      return EXIT_USAGE;
    }
  if (ctl->baud != NULL && !parse_double (ctl->baud, 50, 1000000, &baud))
    {
      mgw_ctl_print_error (_("--baud: '%s' is not a number from 50 to 1000000"), ctl->baud);
      return EXIT_USAGE;
    }
  if (ctl->idle_limit != NULL && !parse_double (ctl->idle_limit, 0.001, 86400, &idle))
    {
      mgw_ctl_print_error (_("--idle-limit: '%s' is not a number of seconds from 0.001 to 86400"),
                           ctl->idle_limit);
      return EXIT_USAGE;
    }
  if (ctl->raw && (ctl->speed != NULL || ctl->baud != NULL || ctl->idle_limit != NULL))
    {
      mgw_ctl_print_error (_("replay: --raw writes everything at once, without --speed, "
                             "--baud or --idle-limit"));
      return EXIT_USAGE;
    }
  if (ctl->json)
    {
      mgw_ctl_print_error (_("replay: its output is the user's screen, not JSON"));
      return EXIT_USAGE;
    }
  gateway = mgw_ctl_get_gateway (ctl, &status);
  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_open_recording_sync (gateway, args[0], NULL, &handle, &fds,
                                                  NULL, &error))
    {
      g_autofree char *what = g_strdup_printf (_("cannot open recording %s"), args[0]);
      return mgw_ctl_report_error (ctl, error, what);
    }
  fd = fds != NULL ? g_unix_fd_list_get (fds, g_variant_get_handle (handle), &error) : -1;
  if (fd < 0)
    {
      mgw_ctl_print_error (_("cannot open recording %s: %s"), args[0],
                           error != NULL ? error->message : _("no file came"));
      return EXIT_FAILURE;
    }
  status = replay_fd (fd, ctl->raw ? 0 : speed, ctl->raw ? 0 : (guint) baud,
                      (gint64) (idle * G_USEC_PER_SEC));
  close (fd);
  return status;
}
