/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-reload.c: `moipgwctl reload`: the configuration read
 * again, and what waits for a restart of moipgwd. */
#include "config.h"

#include <glib/gi18n.h>

#include "moipgwctl.h"

int
mgw_ctl_cmd_reload (Ctl   *ctl,
                    char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = mgw_ctl_get_gateway (ctl, &status);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree const char **pending = NULL;

  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_reload_sync (gateway, NULL, &error))
    return mgw_ctl_report_error (ctl, error,
                                 _("reload refused, the configuration in force is kept"));
  /* Asked afresh: the cached value may predate the reload. */
  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (gateway), "org.freedesktop.DBus.Properties.Get",
                                  g_variant_new ("(ss)", "org.moipgw.Gateway1", "RestartPending"),
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    {
      g_variant_get (reply, "(v)", &value);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
        pending = g_variant_get_strv (value, NULL);
    }
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("reload");
      json_builder_set_member_name (b, "RestartPending");
      json_builder_begin_array (b);
      for (guint i = 0; pending != NULL && pending[i] != NULL; i++)
        json_builder_add_string_value (b, pending[i]);
      json_builder_end_array (b);
      mgw_ctl_action_end (b);
    }
  else
    {
      g_print ("%s\n", _("Configuration reloaded."));
      if (pending != NULL && pending[0] != NULL)
        {
          g_autofree char *names = g_strjoinv (", ", (char **) pending);
          /* TRANSLATORS: %s: settings, e.g. "[listen] telnet-port, [console] port". */
          g_print (_("Waiting for a restart of moipgwd: %s.\n"), names);
        }
    }
  return EXIT_SUCCESS;
}
