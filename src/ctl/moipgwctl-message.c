/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-message.c: `moipgwctl message ID TEXT`, `message --all
 * TEXT` and `message --target URI TEXT`: an operator's text on users'
 * status lines (the gateway checks it). */
#include "config.h"

#include <glib/gi18n.h>

#include "moipgwctl.h"

static int
message_session (Ctl        *ctl,
                 const char *id_text,
                 const char *text)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autoptr(GError) error = NULL;
  guint32 id;

  if (!mgw_ctl_parse_id (id_text, &id))
    return EXIT_USAGE;
  session = mgw_ctl_get_session (ctl, id, &status);
  if (session == NULL)
    return status;
  if (!mgw_dbus_session_call_message_sync (session, text, NULL, &error))
    {
      g_autofree char *what = g_strdup_printf (_("cannot tell session %u"), id);
      return mgw_ctl_report_error (ctl, error, what);
    }
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("message");

      json_builder_set_member_name (b, "Id");
      json_builder_add_int_value (b, id);
      json_builder_set_member_name (b, "Count");
      json_builder_add_int_value (b, 1);
      mgw_ctl_action_end (b);
    }
  else
    g_print (_("Session %u told.\n"), id);
  return EXIT_SUCCESS;
}

/* Every session (target ""), or those redirected to target. */
static int
message_sessions (Ctl        *ctl,
                  const char *target,
                  const char *text)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = mgw_ctl_get_gateway (ctl, &status);
  g_autoptr(GError) error = NULL;
  guint32 count = 0;

  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_message_sync (gateway, text, target, &count, NULL, &error))
    return mgw_ctl_report_error (ctl, error, _("cannot tell the sessions"));
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = mgw_ctl_action_begin ("message");

      json_builder_set_member_name (b, "Target");
      if (*target != '\0')
        json_builder_add_string_value (b, target);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "Count");
      json_builder_add_int_value (b, count);
      mgw_ctl_action_end (b);
    }
  else
    g_print (ngettext ("%u session told.\n", "%u sessions told.\n", count), count);
  return EXIT_SUCCESS;
}

int
mgw_ctl_cmd_message (Ctl   *ctl,
                     char **args)
{
  guint n = g_strv_length (args);
  gboolean many = ctl->all || ctl->target != NULL;

  if (ctl->all && ctl->target != NULL)
    {
      mgw_ctl_print_error (_("message: --all or --target, not both"));
      return EXIT_USAGE;
    }
  if (many && n != 1)
    {
      mgw_ctl_print_error (_("message: with --all or --target, TEXT alone (quote it)"));
      return EXIT_USAGE;
    }
  if (!many && n != 2)
    {
      mgw_ctl_print_error (_("message: ID and TEXT, or --all or --target URI and TEXT "
                             "(see moipgwctl message --help)"));
      return EXIT_USAGE;
    }
  if (ctl->target != NULL && *ctl->target == '\0')
    {
      mgw_ctl_print_error (_("message: --target needs a URI (--all for every session)"));
      return EXIT_USAGE;
    }
  if (many)
    return message_sessions (ctl, ctl->all ? "" : ctl->target, args[0]);
  return message_session (ctl, args[0], args[1]);
}
