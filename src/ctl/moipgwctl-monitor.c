/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-monitor.c: `moipgwctl monitor`: the events of the gateway
 * (sessions added, removed and their states, bans, the command channel,
 * moipgwd started and stopped), one line each until Ctrl-C; it waits
 * for a moipgwd not running yet. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "moipgwctl.h"

typedef struct
{
  Ctl                *ctl;
  GMainLoop          *loop;
  GDBusObjectManager *manager;
  MgwDBusGateway     *gateway;
  gboolean            command_channel_connected;
  gboolean            running;
  gboolean            peers_denied;   /* not ours to see: not asked again */
} Monitor;

/* A session's last state shown, to show each change once. */
#define STATE_KEY "moipgwctl-state"

static void
json_add_session_id (JsonBuilder    *b,
                     MgwDBusSession *session)
{
  json_builder_set_member_name (b, "Id");
  json_builder_add_int_value (b, mgw_dbus_session_get_id (session));
}

static void
session_state_cb (MgwDBusSession *session,
                  GParamSpec     *pspec,
                  Monitor        *m)
{
  const char *state = mgw_ctl_or_dash (mgw_dbus_session_get_state (session));
  const char *last = g_object_get_data (G_OBJECT (session), STATE_KEY);
  gint64 now = g_get_real_time ();
  g_autofree char *text = NULL;
  JsonBuilder *b;

  if (g_strcmp0 (state, last) == 0)
    return;
  g_object_set_data_full (G_OBJECT (session), STATE_KEY, g_strdup (state), g_free);
  b = mgw_ctl_event_begin ("session-state", now);
  json_add_session_id (b, session);
  json_builder_set_member_name (b, "State");
  json_builder_add_string_value (b, state);
  text = g_strdup_printf (_("session %u: %s"), mgw_dbus_session_get_id (session), state);
  mgw_ctl_event_end (m->ctl, b, now, text);
}

static void
watch_session (Monitor        *m,
               MgwDBusSession *session)
{
  const char *state = mgw_ctl_or_dash (mgw_dbus_session_get_state (session));

  g_object_set_data_full (G_OBJECT (session), STATE_KEY, g_strdup (state), g_free);
  g_signal_connect (session, "notify::state", G_CALLBACK (session_state_cb), m);
}

static void
object_added_cb (GDBusObjectManager *manager,
                 GDBusObject        *object,
                 Monitor            *m)
{
  MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (object));
  gint64 now = g_get_real_time ();
  g_autoptr(GHashTable) peers = NULL;
  const MgwCtlPeer *peer;
  g_autofree char *from = NULL;
  g_autofree char *text = NULL;
  guint32 id;
  JsonBuilder *b;

  if (session == NULL)
    return;
  id = mgw_dbus_session_get_id (session);
  watch_session (m, session);
  b = mgw_ctl_event_begin ("session-added", now);
  json_add_session_id (b, session);
  json_builder_set_member_name (b, "Access");
  json_builder_add_string_value (b, mgw_ctl_or_dash (mgw_dbus_session_get_access (session)));
  if (!m->peers_denied)
    peers = mgw_ctl_get_peers (m->ctl, &id, 1, &m->peers_denied);
  peer = peers != NULL ? g_hash_table_lookup (peers, GUINT_TO_POINTER (id)) : NULL;
  mgw_ctl_add_peer (peer, b, NULL);
  json_builder_set_member_name (b, "State");
  json_builder_add_string_value (b, mgw_ctl_or_dash (mgw_dbus_session_get_state (session)));
  from = mgw_ctl_format_peer (peer);
  text = g_strdup_printf (_("session %u added: %s from %s, %s"), id,
                          mgw_ctl_or_dash (mgw_dbus_session_get_access (session)), from,
                          mgw_ctl_or_dash (mgw_dbus_session_get_state (session)));
  mgw_ctl_event_end (m->ctl, b, now, text);
}

static void
object_removed_cb (GDBusObjectManager *manager,
                   GDBusObject        *object,
                   Monitor            *m)
{
  MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (object));
  gint64 now = g_get_real_time ();
  g_autofree char *text = NULL;
  JsonBuilder *b;

  if (session == NULL)
    return;
  g_signal_handlers_disconnect_by_data (session, m);
  b = mgw_ctl_event_begin ("session-removed", now);
  json_add_session_id (b, session);
  text = g_strdup_printf (_("session %u removed"), mgw_dbus_session_get_id (session));
  mgw_ctl_event_end (m->ctl, b, now, text);
}

static void
ban_event (Monitor    *m,
           const char *event,
           const char *address,
           const char *reason,
           const char *text)
{
  gint64 now = g_get_real_time ();
  JsonBuilder *b = mgw_ctl_event_begin (event, now);

  json_builder_set_member_name (b, "Address");
  json_builder_add_string_value (b, address);
  json_builder_set_member_name (b, "Reason");
  json_builder_add_string_value (b, reason);
  mgw_ctl_event_end (m->ctl, b, now, text);
}

static void
banned_cb (MgwDBusGateway *gateway,
           const char     *address,
           const char     *reason,
           Monitor        *m)
{
  g_autofree char *text = g_strdup_printf (_("%s banned (%s)"), address, reason);

  ban_event (m, "banned", address, reason, text);
}

static void
unbanned_cb (MgwDBusGateway *gateway,
             const char     *address,
             const char     *reason,
             Monitor        *m)
{
  g_autofree char *text = g_strdup_printf (_("%s unbanned (%s)"), address, reason);

  ban_event (m, "unbanned", address, reason, text);
}

static void
command_channel_cb (MgwDBusGateway *gateway,
                    GParamSpec     *pspec,
                    Monitor        *m)
{
  gboolean connected = mgw_dbus_gateway_get_command_channel_connected (gateway);
  gint64 now = g_get_real_time ();
  JsonBuilder *b;

  if (connected == m->command_channel_connected)
    return;
  m->command_channel_connected = connected;
  b = mgw_ctl_event_begin ("command-channel", now);
  json_builder_set_member_name (b, "Connected");
  json_builder_add_boolean_value (b, connected);
  mgw_ctl_event_end (m->ctl, b, now, connected ? _("command channel connected")
                                               : _("command channel disconnected"));
}

static void
name_owner_cb (GObject    *manager,
               GParamSpec *pspec,
               Monitor    *m)
{
  g_autofree char *owner =
    g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (manager));
  gint64 now = g_get_real_time ();
  JsonBuilder *b;

  /* The client goes through "no owner" while it reloads for a new one. */
  if ((owner != NULL) == m->running)
    return;
  m->running = owner != NULL;
  b = mgw_ctl_event_begin (owner != NULL ? "gateway-started" : "gateway-stopped", now);
  mgw_ctl_event_end (m->ctl, b, now,
                     owner != NULL ? _("moipgwd started") : _("moipgwd stopped"));
}

static gint
compare_ids (gconstpointer a,
             gconstpointer b)
{
  guint ia = *(const guint *) a;
  guint ib = *(const guint *) b;

  return ia < ib ? -1 : ia > ib;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
mgw_ctl_cmd_monitor (Ctl   *ctl,
                     char **args)
{
  int status = EXIT_FAILURE;
  /* moipgwd not running yet: wait for it, as for a restart later. */
  g_autoptr(MgwDBusGateway) gateway = mgw_ctl_get_gateway_full (ctl, &status, TRUE);
  g_autoptr(GDBusObjectManager) manager = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autolist(GDBusObject) objects = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  Monitor m = { 0 };
  guint sigint, sigterm;
  gint64 now;
  JsonBuilder *b;

  if (gateway == NULL)
    return status;
  manager = mgw_ctl_get_manager_full (ctl, &status, TRUE);
  if (manager == NULL)
    return status;

  loop = g_main_loop_new (NULL, FALSE);
  m.ctl = ctl;
  m.loop = loop;
  m.manager = manager;
  m.gateway = gateway;
  m.command_channel_connected = mgw_dbus_gateway_get_command_channel_connected (gateway);
  {
    g_autofree char *owner =
      g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (manager));
    m.running = owner != NULL;
  }

  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (l->data));

      if (session != NULL)
        {
          guint id = mgw_dbus_session_get_id (session);

          watch_session (&m, session);
          g_array_append_val (ids, id);
        }
    }
  g_array_sort (ids, compare_ids);
  g_signal_connect (manager, "object-added", G_CALLBACK (object_added_cb), &m);
  g_signal_connect (manager, "object-removed", G_CALLBACK (object_removed_cb), &m);
  g_signal_connect (manager, "notify::name-owner", G_CALLBACK (name_owner_cb), &m);
  g_signal_connect (gateway, "banned", G_CALLBACK (banned_cb), &m);
  g_signal_connect (gateway, "unbanned", G_CALLBACK (unbanned_cb), &m);
  g_signal_connect (gateway, "notify::command-channel-connected",
                    G_CALLBACK (command_channel_cb), &m);
  sigint = g_unix_signal_add (SIGINT, quit_cb, loop);
  sigterm = g_unix_signal_add (SIGTERM, quit_cb, loop);

  /* The first line says the monitor listens, and what is there now. */
  now = g_get_real_time ();
  b = mgw_ctl_event_begin ("monitor-started", now);
  json_builder_set_member_name (b, "Sessions");
  json_builder_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    json_builder_add_int_value (b, g_array_index (ids, guint, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "Running");
  json_builder_add_boolean_value (b, m.running);
  if (m.running)
    {
      g_autofree char *text =
        g_strdup_printf (ngettext (
                           "monitoring moipgwd, %u session open; Ctrl-C to stop",
                           "monitoring moipgwd, %u sessions open; Ctrl-C to stop",
                           ids->len), ids->len);
      mgw_ctl_event_end (ctl, b, now, text);
    }
  else
    mgw_ctl_event_end (ctl, b, now, _("moipgwd is not running: waiting for it; Ctrl-C to stop"));

  g_main_loop_run (loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handlers_disconnect_by_data (manager, &m);
  g_signal_handlers_disconnect_by_data (gateway, &m);
  g_list_free_full (g_steal_pointer (&objects), g_object_unref);
  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (l->data));

      if (session != NULL)
        g_signal_handlers_disconnect_by_data (session, &m);
    }
  return EXIT_SUCCESS;
}
