/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-proxy-reader.c: a trusted proxy's PROXY header, before the user. */
#include "config.h"

#include "mgw-proxy-reader.h"
#include "mgw-proxy.h"

typedef struct
{
  GObject           *owner;
  MgwProxyAdmit      admit;
  MgwProxyRefuse     refuse;
  gpointer           data;
  GSocketConnection *connection;
  GSource           *source;
  guint              timeout_id;
  char              *address;     /* the socket's */
  guint16            port;
  guint8             buf[MGW_PROXY_V2_MAX];
  gsize              len;
} ProxyRead;

static void
proxy_read_free (ProxyRead *pr)
{
  if (pr->source != NULL)
    {
      g_source_destroy (pr->source);
      g_source_unref (pr->source);
    }
  g_clear_handle_id (&pr->timeout_id, g_source_remove);
  g_object_unref (pr->connection);
  g_object_unref (pr->owner);
  g_free (pr->address);
  g_free (pr);
}

static void
proxy_refuse (ProxyRead  *pr,
              const char *why)
{
  pr->refuse (pr->owner, pr->address, why);
  g_message ("refused connection from proxy %s: %s", pr->address, why);
  g_io_stream_close (G_IO_STREAM (pr->connection), NULL, NULL);
  proxy_read_free (pr);
}

static gboolean
proxy_timeout_cb (gpointer user_data)
{
  ProxyRead *pr = user_data;

  pr->timeout_id = 0;
  if (pr->len > 0)
    {
      proxy_refuse (pr, "incomplete PROXY header");
      return G_SOURCE_REMOVE;
    }
  /* A trusted peer may send no header: the socket's address stands. */
  pr->admit (pr->owner, pr->connection, pr->address, pr->port, NULL, 0, pr->data);
  proxy_read_free (pr);
  return G_SOURCE_REMOVE;
}

static gboolean
proxy_read_cb (GObject  *pollable,
               gpointer  user_data)
{
  ProxyRead *pr = user_data;
  g_autoptr(GError) error = NULL;
  MgwProxyInfo info;
  gssize n;

  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (pollable),
                                                pr->buf + pr->len,
                                                sizeof pr->buf - pr->len, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      g_clear_pointer (&pr->source, g_source_unref);
      g_info ("proxy %s closed before its header", pr->address);
      g_io_stream_close (G_IO_STREAM (pr->connection), NULL, NULL);
      proxy_read_free (pr);
      return G_SOURCE_REMOVE;
    }
  pr->len += n;

  switch (mgw_proxy_parse (pr->buf, pr->len, &info, &error))
    {
    case MGW_PROXY_NEED_MORE:
      if (pr->len < sizeof pr->buf)
        return G_SOURCE_CONTINUE;
      g_clear_pointer (&pr->source, g_source_unref);
      proxy_refuse (pr, "oversized PROXY header");
      return G_SOURCE_REMOVE;
    case MGW_PROXY_ERROR:
      g_clear_pointer (&pr->source, g_source_unref);
      proxy_refuse (pr, error->message);
      return G_SOURCE_REMOVE;
    case MGW_PROXY_ABSENT:
      g_clear_pointer (&pr->source, g_source_unref);
      pr->admit (pr->owner, pr->connection, pr->address, pr->port, pr->buf, pr->len, pr->data);
      proxy_read_free (pr);
      return G_SOURCE_REMOVE;
    case MGW_PROXY_DONE:
    default:
      g_clear_pointer (&pr->source, g_source_unref);
      /* No client named (LOCAL, UNKNOWN): the socket's address stands. */
      pr->admit (pr->owner, pr->connection, info.local ? pr->address : info.address,
                 info.local ? pr->port : info.port, pr->buf + info.header_len,
                 pr->len - info.header_len, pr->data);
      proxy_read_free (pr);
      return G_SOURCE_REMOVE;
    }
}

void
mgw_proxy_reader_start (GSocketConnection *connection,
                        const char        *address,
                        guint16            port,
                        guint              timeout_ms,
                        GObject           *owner,
                        MgwProxyAdmit      admit,
                        MgwProxyRefuse     refuse,
                        gpointer           data)
{
  ProxyRead *pr;
  GInputStream *in;

  g_return_if_fail (G_IS_SOCKET_CONNECTION (connection));
  g_return_if_fail (address != NULL && G_IS_OBJECT (owner) && admit != NULL && refuse != NULL);

  pr = g_new0 (ProxyRead, 1);
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  pr->owner = g_object_ref (owner);
  pr->admit = admit;
  pr->refuse = refuse;
  pr->data = data;
  pr->connection = g_object_ref (connection);
  pr->address = g_strdup (address);
  pr->port = port;
  pr->source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (in), NULL);
  g_source_set_callback (pr->source, G_SOURCE_FUNC (proxy_read_cb), pr, NULL);
  g_source_attach (pr->source, NULL);
  pr->timeout_id = g_timeout_add (MAX (1, timeout_ms), proxy_timeout_cb, pr);
}
