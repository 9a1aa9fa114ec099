/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-status.c: `moipgwctl status`, every property of the
 * gateway. */
#include "config.h"

#include <glib/gi18n.h>

#include "moipgwctl.h"

int
mgw_ctl_cmd_status (Ctl   *ctl,
                    char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = mgw_ctl_get_gateway (ctl, &status);

  if (gateway == NULL)
    return status;
  if (!mgw_ctl_proxy_has_properties (gateway))
    {
      mgw_ctl_print_error (_("cannot read the state of the gateway"));
      return EXIT_FAILURE;
    }
  return mgw_ctl_print_properties (ctl, gateway);
}
