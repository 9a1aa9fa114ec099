/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-sessions.c: the user sessions: `sessions` (the list, one
 * row each), `session ID` (every property of one), `disconnect ID` and
 * `record [--stop] ID`. */
#include "config.h"

#include <glib/gi18n.h>

#include "moipgwctl.h"

static gint
compare_sessions (gconstpointer a,
                  gconstpointer b)
{
  guint ia = mgw_dbus_session_get_id (*(MgwDBusSession **) a);
  guint ib = mgw_dbus_session_get_id (*(MgwDBusSession **) b);

  return ia < ib ? -1 : ia > ib;
}

static const MgwCtlPeer *
session_peer (GHashTable     *peers,
              MgwDBusSession *session)
{
  if (peers == NULL)
    return NULL;
  return g_hash_table_lookup (peers, GUINT_TO_POINTER (mgw_dbus_session_get_id (session)));
}

static char *
format_count (guint64 n)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, n);
}

int
mgw_ctl_cmd_sessions (Ctl   *ctl,
                      char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(GDBusObjectManager) manager = mgw_ctl_get_manager (ctl, &status);
  g_autolist(GDBusObject) objects = NULL;
  g_autoptr(GPtrArray) sessions = g_ptr_array_new ();
  g_autoptr(GHashTable) peers = NULL;
  gboolean denied = FALSE;

  if (manager == NULL)
    return status;
  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (l->data));

      if (session != NULL)
        g_ptr_array_add (sessions, session);
    }
  g_ptr_array_sort (sessions, compare_sessions);
  /* After the list: a session may have come since, and shows no peer. */
  peers = mgw_ctl_get_peers (ctl, NULL, 0, &denied);

  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < sessions->len; i++)
        {
          json_builder_begin_object (b);
          mgw_ctl_add_properties (sessions->pdata[i], b, NULL);
          mgw_ctl_add_peer (session_peer (peers, sessions->pdata[i]), b, NULL);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      mgw_ctl_print_json (b, TRUE);
    }
  else if (sessions->len == 0)
    g_print ("%s\n", _("No sessions."));
  else
    {
      /* Right-aligned: id, bytes, redirections. */
      g_autoptr(MgwCtlTable) table =
        mgw_ctl_table_new (11, 1u << 0 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 8 | 1u << 9);

      mgw_ctl_table_add (table, _("ID"));
      mgw_ctl_table_add (table, _("ACCESS"));
      mgw_ctl_table_add (table, _("PEER"));
      mgw_ctl_table_add (table, _("STARTED"));
      mgw_ctl_table_add (table, _("STATE"));
      mgw_ctl_table_add (table, _("FROM USER"));
      mgw_ctl_table_add (table, _("TO USER"));
      mgw_ctl_table_add (table, _("REDIR"));
      mgw_ctl_table_add (table, _("R.FROM USER"));
      mgw_ctl_table_add (table, _("R.TO USER"));
      mgw_ctl_table_add (table, _("TARGET"));
      for (guint i = 0; i < sessions->len; i++)
        {
          MgwDBusSession *s = sessions->pdata[i];

          mgw_ctl_table_take (table, g_strdup_printf ("%u", mgw_dbus_session_get_id (s)));
          mgw_ctl_table_add (table, mgw_ctl_or_dash (mgw_dbus_session_get_access (s)));
          mgw_ctl_table_take (table, mgw_ctl_format_peer (session_peer (peers, s)));
          mgw_ctl_table_take (table, mgw_ctl_format_time (mgw_dbus_session_get_start_time (s)));
          mgw_ctl_table_add (table, mgw_ctl_or_dash (mgw_dbus_session_get_state (s)));
          mgw_ctl_table_take (table, format_count (mgw_dbus_session_get_bytes_from_user (s)));
          mgw_ctl_table_take (table, format_count (mgw_dbus_session_get_bytes_to_user (s)));
          mgw_ctl_table_take (table, format_count (mgw_dbus_session_get_redirections (s)));
          mgw_ctl_table_take (table,
                              format_count (mgw_dbus_session_get_redirect_bytes_from_user (s)));
          mgw_ctl_table_take (table,
                              format_count (mgw_dbus_session_get_redirect_bytes_to_user (s)));
          mgw_ctl_table_add (table, mgw_ctl_or_dash (mgw_dbus_session_get_target (s)));
        }
      mgw_ctl_table_print (table);
      if (denied)
        g_printerr ("%s\n", _("(Peer addresses are shown to root and the moipgw group only.)"));
    }
  return EXIT_SUCCESS;
}

gboolean
mgw_ctl_parse_id (const char *text,
                  guint32    *id)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &value, NULL))
    {
      mgw_ctl_print_error (_("'%s' is not a session id (a number, as `moipgwctl sessions` shows)"),
                           text);
      return FALSE;
    }
  *id = (guint32) value;
  return TRUE;
}

int
mgw_ctl_cmd_session (Ctl   *ctl,
                     char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autoptr(GHashTable) peers = NULL;
  gboolean denied;
  guint32 id;

  if (!mgw_ctl_parse_id (args[0], &id))
    return EXIT_USAGE;
  session = mgw_ctl_get_session (ctl, id, &status);
  if (session == NULL)
    return status;
  peers = mgw_ctl_get_peers (ctl, &id, 1, &denied);
  return mgw_ctl_print_session (ctl, session, session_peer (peers, session));
}

int
mgw_ctl_cmd_disconnect (Ctl   *ctl,
                        char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autoptr(GError) error = NULL;
  guint32 id;

  if (!mgw_ctl_parse_id (args[0], &id))
    return EXIT_USAGE;
  session = mgw_ctl_get_session (ctl, id, &status);
  if (session == NULL)
    return status;
  if (!mgw_dbus_session_call_disconnect_sync (session, NULL, &error))
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);
      g_autofree char *what = g_strdup_printf (_("cannot disconnect session %u"), id);

      /* Gone in the meantime. */
      if (g_strcmp0 (remote, DBUS_ERROR_PREFIX "UnknownMethod") == 0 ||
          g_strcmp0 (remote, DBUS_ERROR_PREFIX "UnknownObject") == 0)
        {
          mgw_ctl_print_error (_("no session %u"), id);
          return EXIT_FAILURE;
        }
      return mgw_ctl_report_error (ctl, error, what);
    }
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("disconnect");

      json_builder_set_member_name (b, "Id");
      json_builder_add_int_value (b, id);
      mgw_ctl_action_end (b);
    }
  else
    g_print (_("Session %u disconnected.\n"), id);
  return EXIT_SUCCESS;
}

/* A failed call on session `id`: gone in the meantime, or refused. */
static int
session_call_failed (Ctl        *ctl,
                     GError     *error,
                     guint32     id,
                     const char *what)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);

  if (g_strcmp0 (remote, DBUS_ERROR_PREFIX "UnknownObject") == 0)
    {
      mgw_ctl_print_error (_("no session %u"), id);
      return EXIT_FAILURE;
    }
  return mgw_ctl_report_error (ctl, error, what);
}

/* Records the session from now on and prints the recording's id (alone
 * on its line: `id=$(moipgwctl record 12)`); --stop stops it. */
int
mgw_ctl_cmd_record (Ctl   *ctl,
                    char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *recording = NULL;
  g_autofree char *what = NULL;
  gboolean ok;
  guint32 id;

  if (!mgw_ctl_parse_id (args[0], &id))
    return EXIT_USAGE;
  session = mgw_ctl_get_session (ctl, id, &status);
  if (session == NULL)
    return status;
  if (ctl->stop)
    {
      recording = g_strdup (mgw_dbus_session_get_recording (session));
      ok = mgw_dbus_session_call_stop_recording_sync (session, NULL, &error);
      what = g_strdup_printf (_("cannot stop recording session %u"), id);
    }
  else
    {
      ok = mgw_dbus_session_call_start_recording_sync (session, &recording, NULL, &error);
      what = g_strdup_printf (_("cannot record session %u"), id);
    }
  if (!ok)
    return session_call_failed (ctl, error, id, what);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin (ctl->stop ? "record --stop" : "record");

      json_builder_set_member_name (b, "Id");
      json_builder_add_int_value (b, id);
      json_builder_set_member_name (b, "Recording");
      json_builder_add_string_value (b, recording != NULL ? recording : "");
      mgw_ctl_action_end (b);
    }
  else if (ctl->stop)
    g_print (_("Session %u is no longer recorded.\n"), id);
  else
    g_print ("%s\n", recording);
  return EXIT_SUCCESS;
}
