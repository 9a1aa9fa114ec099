/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-bans.c: the ban list: `bans` (the list), `ban ADDR
 * [--days N]` and `unban ADDR`. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "moipgwctl.h"

#define MAX_BAN_DAYS (G_MAXUINT32 / 86400)

int
mgw_ctl_cmd_bans (Ctl   *ctl,
                  char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = mgw_ctl_get_gateway (ctl, &status);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) bans = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(MgwCtlTable) table = NULL;
  GVariantIter iter;
  const char *address, *reason;
  gint64 since, expires;

  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_list_bans_sync (gateway, &bans, NULL, &error))
    return mgw_ctl_report_error (ctl, error, _("cannot list the bans"));

  if (ctl->json)
    {
      b = json_builder_new ();
      json_builder_begin_array (b);
    }
  else
    {
      table = mgw_ctl_table_new (4, 0);
      mgw_ctl_table_add (table, _("ADDRESS"));
      mgw_ctl_table_add (table, _("SINCE"));
      mgw_ctl_table_add (table, _("EXPIRES"));
      mgw_ctl_table_add (table, _("REASON"));
    }
  g_variant_iter_init (&iter, bans);
  while (g_variant_iter_next (&iter, "(&sxx&s)", &address, &since, &expires, &reason))
    {
      if (b != NULL)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "Address");
          json_builder_add_string_value (b, address);
          mgw_ctl_json_add_time (b, "Since", since);
          mgw_ctl_json_add_time (b, "Expires", expires);
          json_builder_set_member_name (b, "Reason");
          json_builder_add_string_value (b, reason);
          json_builder_end_object (b);
        }
      else
        {
          mgw_ctl_table_add (table, address);
          mgw_ctl_table_take (table, mgw_ctl_format_time (since));
          mgw_ctl_table_take (table, mgw_ctl_format_time (expires));
          mgw_ctl_table_add (table, mgw_ctl_or_dash (reason));
        }
    }
  if (b != NULL)
    {
      json_builder_end_array (b);
      mgw_ctl_print_json (b, TRUE);
    }
  else if (g_variant_n_children (bans) == 0)
    g_print ("%s\n", _("No bans."));
  else
    mgw_ctl_table_print (table);
  return EXIT_SUCCESS;
}

int
mgw_ctl_cmd_ban (Ctl   *ctl,
                 char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (args[0]);
  g_autofree char *banned = NULL;
  guint64 days = 0;
  guint32 duration;

  if (address == NULL)
    {
      mgw_ctl_print_error (_("'%s' is not an IP address"), args[0]);
      return EXIT_USAGE;
    }
  if (ctl->days != NULL &&
      !g_ascii_string_to_unsigned (ctl->days, 10, 1, MAX_BAN_DAYS, &days, NULL))
    {
      mgw_ctl_print_error (_("--days: '%s' is not a number of days from 1 to %u"), ctl->days,
                           (guint) MAX_BAN_DAYS);
      return EXIT_USAGE;
    }
  duration = (guint32) (days * 86400);

  gateway = mgw_ctl_get_gateway (ctl, &status);
  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_ban_sync (gateway, args[0], duration, &banned, NULL, &error))
    {
      g_autofree char *what = g_strdup_printf (_("cannot ban %s"), args[0]);
      return mgw_ctl_report_error (ctl, error, what);
    }
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("ban");

      json_builder_set_member_name (b, "Address");
      json_builder_add_string_value (b, args[0]);
      json_builder_set_member_name (b, "Banned");
      json_builder_add_string_value (b, banned);
      json_builder_set_member_name (b, "Duration");
      json_builder_add_int_value (b, duration);
      mgw_ctl_action_end (b);
    }
  else
    {
      /* An IPv6 address bans its prefix: say which. */
      if (strcmp (banned, args[0]) != 0 && strchr (banned, '/') != NULL)
        g_print (_("%s is in %s: the prefix is banned.\n"), args[0], banned);
      if (duration == 0)
        g_print (_("%s banned for the configured duration.\n"), banned);
      else
        g_print (ngettext ("%s banned for %u day.\n", "%s banned for %u days.\n",
                           (gulong) days),
                 banned, (guint) days);
    }
  return EXIT_SUCCESS;
}

int
mgw_ctl_cmd_unban (Ctl   *ctl,
                   char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autoptr(GError) error = NULL;
  /* An address, or a prefix as `bans` lists it ("2001:db8::/64"). */
  g_autofree char *address_part = g_strndup (args[0], strcspn (args[0], "/"));
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (address_part);

  if (address == NULL)
    {
      mgw_ctl_print_error (_("'%s' is not an IP address"), args[0]);
      return EXIT_USAGE;
    }
  gateway = mgw_ctl_get_gateway (ctl, &status);
  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_unban_sync (gateway, args[0], NULL, &error))
    {
      g_autofree char *what = g_strdup_printf (_("cannot unban %s"), args[0]);
      return mgw_ctl_report_error (ctl, error, what);
    }
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("unban");

      json_builder_set_member_name (b, "Address");
      json_builder_add_string_value (b, args[0]);
      mgw_ctl_action_end (b);
    }
  else
    g_print (_("%s unbanned.\n"), args[0]);
  return EXIT_SUCCESS;
}
