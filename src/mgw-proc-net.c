/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-proc-net.c: the kernel's table of TCP sockets.
 *
 * /proc/net/tcp and /proc/net/tcp6 list every socket with its ports,
 * state, owner uid and inode: what netstat shows, without running it.
 * Used to find the Teletel server listening on the command channel's
 * port, and the user behind a console connection on loopback. */
#include "config.h"

#include "mgw-proc-net.h"

#include <stdio.h>
#include <string.h>

void
mgw_proc_net_tcp_foreach (gboolean (*func) (const MgwTcpSocket *socket,
                                            gpointer            data),
                          gpointer   data)
{
  static const char * const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };

  for (gsize f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *contents = NULL;
      char *line, *next;

      /* No tcp6 without IPv6. */
      if (!g_file_get_contents (files[f], &contents, NULL, NULL))
        continue;
      for (line = contents; line != NULL; line = next)
        {
          unsigned int local_port, remote_port, state, uid;
          guint64 inode;

          next = strchr (line, '\n');
          if (next != NULL)
            *next++ = '\0';
          /* sl local_address rem_address st tx:rx tr:when retrnsmt uid
           * timeout inode; the header line does not match. */
          if (sscanf (line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %u %*u %"
                      G_GUINT64_FORMAT, &local_port, &remote_port, &state, &uid, &inode) == 5)
            {
              MgwTcpSocket socket = { local_port, remote_port, state, uid, inode };
              if (!func (&socket, data))
                return;
            }
        }
    }
}
