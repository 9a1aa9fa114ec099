/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-watch.c: `moipgwctl watch ID`: what a user's Minitel is
 * sent, raw videotex bytes on standard output (to a file, or to an
 * emulator reading its standard input), from Session.Watch's
 * ScreenOutput signals, until Ctrl-C, the session's end or the
 * gateway's; then Unwatch, and how many bytes the gateway dropped, on
 * standard error. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

#include "moipgwctl.h"

typedef struct
{
  GMainLoop *loop;
  char      *path;
  guint32    id;
  guint64    dropped;
  gboolean   ended;       /* the session */
  gboolean   stopped;     /* the gateway */
  gboolean   broken;      /* standard output closed */
} Watch;

static void
screen_output_cb (GDBusConnection *connection,
                  const char      *sender,
                  const char      *path,
                  const char      *interface,
                  const char      *member,
                  GVariant        *parameters,
                  gpointer         user_data)
{
  Watch *w = user_data;
  g_autoptr(GVariant) bytes = NULL;
  guint32 dropped;
  gsize len;
  const guint8 *data;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ayu)")))
    return;
  g_variant_get (parameters, "(@ayu)", &bytes, &dropped);
  data = g_variant_get_fixed_array (bytes, &len, 1);
  w->dropped += dropped;
  if (!mgw_ctl_write_stdout (data, len))
    {
      w->broken = TRUE;
      g_main_loop_quit (w->loop);
    }
}

/* InterfacesRemoved for the session's object: it ended. */
static void
removed_cb (GDBusConnection *connection,
            const char      *sender,
            const char      *path,
            const char      *interface,
            const char      *member,
            GVariant        *parameters,
            gpointer         user_data)
{
  Watch *w = user_data;
  const char *object;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(oas)")))
    return;
  g_variant_get (parameters, "(&o@as)", &object, NULL);
  if (g_strcmp0 (object, w->path) != 0)
    return;
  w->ended = TRUE;
  g_main_loop_quit (w->loop);
}

static void
gateway_vanished_cb (GDBusConnection *connection,
                     const char      *name,
                     gpointer         user_data)
{
  Watch *w = user_data;

  w->stopped = TRUE;
  g_main_loop_quit (w->loop);
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
mgw_ctl_cmd_watch (Ctl   *ctl,
                   char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *owner = NULL;
  Watch w = { 0 };
  guint output, removed, vanished, sigint, sigterm;

  if (!mgw_ctl_parse_id (args[0], &w.id))
    return EXIT_USAGE;
  session = mgw_ctl_get_session (ctl, w.id, &status);
  if (session == NULL)
    return status;
  /* A reader that goes away ends the watch, not the program. */
  signal (SIGPIPE, SIG_IGN);
  loop = g_main_loop_new (NULL, FALSE);
  w.loop = loop;
  w.path = g_strdup_printf (SESSIONS_PATH "%u", w.id);
  /* From the gateway's unique name: the signal is sent to ours. */
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (session));
  output = g_dbus_connection_signal_subscribe (ctl->connection, owner, BUS_NAME ".Session",
                                               "ScreenOutput", w.path, NULL,
                                               G_DBUS_SIGNAL_FLAGS_NONE, screen_output_cb, &w, NULL);
  removed = g_dbus_connection_signal_subscribe (ctl->connection, owner,
                                                "org.freedesktop.DBus.ObjectManager",
                                                "InterfacesRemoved", GATEWAY_PATH, NULL,
                                                G_DBUS_SIGNAL_FLAGS_NONE, removed_cb, &w, NULL);
  vanished = g_bus_watch_name_on_connection (ctl->connection, BUS_NAME,
                                             G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                             gateway_vanished_cb, &w, NULL);
  if (!mgw_dbus_session_call_watch_sync (session, NULL, &error))
    {
      g_autofree char *what = g_strdup_printf (_("cannot watch session %u"), w.id);

      status = mgw_ctl_report_error (ctl, error, what);
    }
  else
    {
      sigint = g_unix_signal_add (SIGINT, quit_cb, loop);
      sigterm = g_unix_signal_add (SIGTERM, quit_cb, loop);
      g_main_loop_run (loop);
      g_source_remove (sigint);
      g_source_remove (sigterm);
      /* Ended, the watch ended with it. */
      if (!w.ended && !w.stopped)
        mgw_dbus_session_call_unwatch_sync (session, NULL, NULL);
      if (w.dropped > 0)
        g_printerr (ngettext ("%llu byte dropped\n", "%llu bytes dropped\n", (gulong) w.dropped),
                    (unsigned long long) w.dropped);
      if (w.ended)
        g_printerr (_("Session %u ended.\n"), w.id);
      else if (w.stopped)
        g_printerr ("%s\n", _("moipgwd stopped."));
      status = EXIT_SUCCESS;
    }
  g_bus_unwatch_name (vanished);
  g_dbus_connection_signal_unsubscribe (ctl->connection, removed);
  g_dbus_connection_signal_unsubscribe (ctl->connection, output);
  g_free (w.path);
  return status;
}
