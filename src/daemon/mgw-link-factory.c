/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-link-factory.c: server URIs into links. */
#include "config.h"

#include "mgw-link-factory.h"
#include "mgw-error.h"
#include "mgw-link-telnet.h"
#include "mgw-link-ws.h"
#include "mgw-uri.h"

MgwLink *
mgw_link_open (GTlsDatabase         *tls_database,
               const MgwConfig      *config,
               const MgwLinkRequest *request,
               GError              **error)
{
  g_autoptr(GUri) parsed = NULL;
  gboolean raw;
  MgwLink *link;

  g_return_val_if_fail (config != NULL && request != NULL && request->uri != NULL, NULL);

  parsed = g_uri_parse (request->uri, G_URI_FLAGS_NONE, error);
  if (parsed == NULL)
    return NULL;
  /* telnet://: the telnet client; tcp://: raw TCP, no telnet at all. */
  raw = g_ascii_strcasecmp (g_uri_get_scheme (parsed), "tcp") == 0;
  if (raw || g_ascii_strcasecmp (g_uri_get_scheme (parsed), "telnet") == 0)
    {
      guint16 port = mgw_uri_get_port (parsed);

      if (g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, "'%s' names no host",
                       request->uri);
          return NULL;
        }
      if (port == 0)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, "'%s' names no port",
                       request->uri);
          return NULL;
        }
      link = raw ? mgw_link_telnet_connect_raw (g_uri_get_host (parsed), port,
                                                config->connect_timeout * 1000)
                 : mgw_link_telnet_connect (g_uri_get_host (parsed), port,
                                            config->connect_timeout * 1000);
    }
  else
    {
      link = mgw_link_ws_connect (tls_database, request->uri, request->protocols,
                                  request->frame_type, config->connect_timeout * 1000, error);
      if (link == NULL)
        return NULL;
      mgw_link_ws_set_keepalive (MGW_LINK_WS (link), request->ping,
                                 request->ping ? config->ws_ping_timeout : 0);
      mgw_link_ws_set_max_incoming (MGW_LINK_WS (link), config->ws_max_message);
    }
  mgw_link_set_description (link, request->uri);
  mgw_link_set_session (link, request->session_id, request->peer_address);
  mgw_link_set_queue_limit (link, config->queue_limit);
  mgw_link_set_stall_timeout (link, config->stall_timeout);
  return link;
}
