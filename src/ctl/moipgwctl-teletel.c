/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-teletel.c: `moipgwctl teletel status|stop|start|restart`,
 * the Teletel server seen and controlled through the gateway. */
#include "config.h"

#include <glib/gi18n.h>

#include "moipgwctl.h"

#define TELETEL_TIMEOUT_MS (90 * 1000)

int
mgw_ctl_cmd_teletel (Ctl   *ctl,
                     char **args)
{
  static const char *actions[] = { "status", "stop", "start", "restart" };
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autoptr(MgwDBusTeletel) teletel = NULL;
  g_autoptr(GError) error = NULL;
  const char *action = args[0];
  gboolean ok;

  if (!g_strv_contains (actions, action))
    {
      mgw_ctl_print_error (_("teletel: unknown action '%s' (status, stop, start or restart)"),
                           action);
      return EXIT_USAGE;
    }
  gateway = mgw_ctl_get_gateway (ctl, &status);
  if (gateway == NULL)
    return status;
  teletel = mgw_dbus_teletel_proxy_new_sync (ctl->connection, PROXY_FLAGS, BUS_NAME,
                                             GATEWAY_PATH, NULL, &error);
  if (teletel == NULL)
    return mgw_ctl_report_error (ctl, error, _("cannot reach the Teletel control"));
  /* A start waits for the server to listen, a stop for its grace. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (teletel), TELETEL_TIMEOUT_MS);

  if (g_str_equal (action, "status"))
    {
      if (!mgw_ctl_proxy_has_properties (teletel))
        {
          mgw_ctl_print_error (_("cannot read the Teletel state "
                                 "(is moipgwd older than moipgwctl?)"));
          return EXIT_FAILURE;
        }
      return mgw_ctl_print_properties (ctl, teletel);
    }

  if (g_str_equal (action, "stop"))
    ok = mgw_dbus_teletel_call_stop_sync (teletel, NULL, &error);
  else if (g_str_equal (action, "start"))
    ok = mgw_dbus_teletel_call_start_sync (teletel, NULL, &error);
  else
    ok = mgw_dbus_teletel_call_restart_sync (teletel, NULL, &error);
  if (!ok)
    {
      const char *what = g_str_equal (action, "stop") ? _("cannot stop the Teletel server")
                       : g_str_equal (action, "start") ? _("cannot start the Teletel server")
                       : _("cannot restart the Teletel server");
      return mgw_ctl_report_error (ctl, error, what);
    }
  if (ctl->json)
    {
      g_autofree char *command = g_strconcat ("teletel ", action, NULL);
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin (command);
      mgw_ctl_action_end (b);
    }
  else if (g_str_equal (action, "stop"))
    g_print ("%s\n", _("Teletel server stopped."));
  else if (g_str_equal (action, "start"))
    g_print ("%s\n", _("Teletel server started."));
  else
    g_print ("%s\n", _("Teletel server restarted."));
  return EXIT_SUCCESS;
}
