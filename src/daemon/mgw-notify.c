/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-notify.c: one datagram to $NOTIFY_SOCKET per call, as sd_notify()
 * sends it: a path, or an abstract name written with a leading '@'. */
#include "config.h"

#include "mgw-notify.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>

gboolean
mgw_notify (const char *state)
{
  const char *path = g_getenv ("NOTIFY_SOCKET");
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (state != NULL, FALSE);

  if (path == NULL || (path[0] != '/' && path[0] != '@') || path[1] == '\0')
    return FALSE;
  if (path[0] == '@')
    address = g_unix_socket_address_new_with_type (path + 1, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  else
    address = g_unix_socket_address_new (path);
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, 0, &error);
  if (socket == NULL)
    {
      g_debug ("notify: %s", error->message);
      return FALSE;
    }
  g_socket_set_blocking (socket, FALSE);
  if (g_socket_send_to (socket, address, state, strlen (state), NULL, &error) < 0)
    {
      g_debug ("notify: cannot send to %s: %s", path, error->message);
      return FALSE;
    }
  return TRUE;
}
