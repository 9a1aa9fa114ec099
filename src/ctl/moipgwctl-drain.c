/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-drain.c: `moipgwctl drain [--grace MIN] [TEXT]` (no new
 * users, the open sessions told and ended after the grace) and
 * `moipgwctl resume`. */
#include "config.h"

#include <glib/gi18n.h>

#include "moipgwctl.h"

#define DEFAULT_GRACE_MIN 5
#define MAX_GRACE_MIN (G_MAXUINT32 / 60)

/* A property read afresh: the cached one may predate the call. */
static gint64
read_deadline (MgwDBusGateway *gateway)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;

  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (gateway), "org.freedesktop.DBus.Properties.Get",
                                  g_variant_new ("(ss)", BUS_NAME, "DrainDeadline"),
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply == NULL)
    return 0;
  g_variant_get (reply, "(v)", &value);
  return g_variant_is_of_type (value, G_VARIANT_TYPE_INT64) ? g_variant_get_int64 (value) : 0;
}

int
mgw_ctl_cmd_drain (Ctl   *ctl,
                   char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autoptr(GError) error = NULL;
  const char *text = args[0] != NULL ? args[0] : "";
  guint64 minutes = DEFAULT_GRACE_MIN;
  gint64 deadline;

  if (ctl->grace != NULL &&
      !g_ascii_string_to_unsigned (ctl->grace, 10, 0, MAX_GRACE_MIN, &minutes, NULL))
    {
      mgw_ctl_print_error (_("--grace: '%s' is not a number of minutes from 0 to %u"), ctl->grace,
                           (guint) MAX_GRACE_MIN);
      return EXIT_USAGE;
    }
  gateway = mgw_ctl_get_gateway (ctl, &status);
  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_drain_sync (gateway, (guint32) (minutes * 60), text, NULL, &error))
    return mgw_ctl_report_error (ctl, error, _("cannot drain the gateway"));
  deadline = read_deadline (gateway);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("drain");

      json_builder_set_member_name (b, "GraceSeconds");
      json_builder_add_int_value (b, (gint64) minutes * 60);
      mgw_ctl_json_add_time (b, "Deadline", deadline);
      mgw_ctl_action_end (b);
    }
  else if (minutes == 0)
    g_print ("%s\n", _("Draining: new users are refused; the open sessions were ended."));
  else
    {
      g_autofree char *when = mgw_ctl_format_time (deadline);

      g_print (_("Draining: new users are refused; the open sessions end at %s.\n"), when);
    }
  return EXIT_SUCCESS;
}

int
mgw_ctl_cmd_resume (Ctl   *ctl,
                    char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = mgw_ctl_get_gateway (ctl, &status);
  g_autoptr(GError) error = NULL;

  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_resume_sync (gateway, NULL, &error))
    return mgw_ctl_report_error (ctl, error, _("cannot resume"));
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("resume");
      mgw_ctl_action_end (b);
    }
  else
    g_print ("%s\n", _("Users are admitted again."));
  return EXIT_SUCCESS;
}
