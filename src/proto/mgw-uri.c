/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-uri.c: the schemes' ports, in one place. */
#include "config.h"

#include "mgw-uri.h"

guint16
mgw_uri_scheme_port (const char *scheme)
{
  g_return_val_if_fail (scheme != NULL, 0);

  if (g_ascii_strcasecmp (scheme, "ws") == 0)
    return 80;
  if (g_ascii_strcasecmp (scheme, "wss") == 0)
    return 443;
  if (g_ascii_strcasecmp (scheme, "telnet") == 0)
    return 23;
  return 0;
}

guint16
mgw_uri_get_port (GUri *uri)
{
  int port;

  g_return_val_if_fail (uri != NULL, 0);

  port = g_uri_get_port (uri);
  if (port > 0 && port <= G_MAXUINT16)
    return (guint16) port;
  return mgw_uri_scheme_port (g_uri_get_scheme (uri));
}
