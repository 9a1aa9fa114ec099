/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-listener.c: listening sockets accepted from the poller.
 *
 * GSocketService builds a GSocket and a GSocketConnection for every
 * connection (several system calls and objects) and re-arms a new GSource
 * after each one, before the gateway can look at the peer's address. A
 * flood from banned addresses must cost as little as possible: here the
 * listening sockets sit in the poller, connections are taken with
 * accept4() in batches, and the gateway sees a bare fd and the address
 * as text; only what it admits becomes a GSocketConnection. */
#include "config.h"

#include "mgw-listener.h"
#include "mgw-error.h"
#include "mgw-poller.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections taken at one wake-up, so that one listener cannot starve
 * the sessions. */
#define ACCEPT_BATCH 64
/* How long accepting pauses when the process is out of descriptors. */
#define EMFILE_PAUSE_MS 100

typedef struct
{
  MgwListener *listener;
  GSocket     *socket;
  MgwWatch    *watch;
} Socket;

struct _MgwListener
{
  GPtrArray     *sockets;     /* of Socket */
  MgwAcceptFunc  func;
  gpointer       user_data;
  MgwTimer       resume;
  gint64         warned;      /* last "out of descriptors" warning, µs */
};

static void
socket_free (Socket *s)
{
  g_clear_pointer (&s->watch, mgw_watch_free);
  if (s->socket != NULL)
    g_socket_close (s->socket, NULL);
  g_clear_object (&s->socket);
  g_free (s);
}

/* The peer's address as the rest of the gateway writes it. */
static const char *
format_address (const struct sockaddr_storage *ss,
                char                          *buf,
                gsize                          size,
                guint16                       *port)
{
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  *port = 0;
  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *in = (const struct sockaddr_in *) ss;

      *port = ntohs (in->sin_port);
      return inet_ntop (AF_INET, &in->sin_addr, buf, size);
    }
  if (ss->ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) ss;

      *port = ntohs (in6->sin6_port);
      if (memcmp (in6->sin6_addr.s6_addr, mapped, sizeof mapped) == 0)
        return inet_ntop (AF_INET, in6->sin6_addr.s6_addr + 12, buf, size);
      return inet_ntop (AF_INET6, &in6->sin6_addr, buf, size);
    }
  return NULL;
}

static void
set_accepting (MgwListener *self,
               gboolean     accepting)
{
  for (guint i = 0; i < self->sockets->len; i++)
    {
      Socket *s = self->sockets->pdata[i];
      mgw_watch_set_events (s->watch, accepting ? G_IO_IN : 0);
    }
}

static void
resume_cb (gpointer user_data)
{
  set_accepting (user_data, TRUE);
}

static void
accept_cb (gpointer     user_data,
           GIOCondition condition)
{
  Socket *s = user_data;
  MgwListener *self = s->listener;
  int lfd = g_socket_get_fd (s->socket);

  for (guint n = 0; n < ACCEPT_BATCH; n++)
    {
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      char text[INET6_ADDRSTRLEN];
      const char *address;
      guint16 port;
      int fd;

      fd = accept4 (lfd, (struct sockaddr *) &ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            {
              gint64 now = g_get_monotonic_time ();

              /* The connection stays in the kernel's queue; look again
               * shortly rather than spin on a socket that stays ready. */
              if (now - self->warned > 10 * G_USEC_PER_SEC)
                {
                  self->warned = now;
                  g_warning ("cannot accept connections: %s", g_strerror (errno));
                }
              set_accepting (self, FALSE);
              mgw_timer_start (&self->resume, EMFILE_PAUSE_MS);
            }
          return;  /* EAGAIN: all taken */
        }
      address = format_address (&ss, text, sizeof text, &port);
      /* (The callback must not free the listener.) */
      self->func (fd, address ? address : "unknown", port, self->user_data);
    }
}

static GSocket *
bind_one (GInetAddress  *inet,
          guint16        port,
          gboolean       v6only,
          guint          backlog,
          GError       **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) addr = NULL;

  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, v6only, NULL);
  addr = g_inet_socket_address_new (inet, port);
  g_socket_set_listen_backlog (socket, backlog);
  if (!g_socket_bind (socket, addr, TRUE, error) || !g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static guint16
local_port (GSocket *socket)
{
  g_autoptr(GSocketAddress) addr = g_socket_get_local_address (socket, NULL);

  return addr ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr)) : 0;
}

/* Listens on each of `addresses` (NULL: every address, IPv4 and IPv6, on
 * one dual-stack socket where the system allows it), all on `port` (0:
 * one the kernel chooses, the same for all, in *port_out). */
MgwListener *
mgw_listener_new (const char * const  *addresses,
                  int                  port,
                  guint                backlog,
                  MgwAcceptFunc        func,
                  gpointer             user_data,
                  guint16             *port_out,
                  GError             **error)
{
  g_autoptr(MgwListener) self = NULL;
  g_autoptr(GPtrArray) sockets = NULL;
  guint16 chosen = port;

  g_return_val_if_fail (port >= 0 && port <= G_MAXUINT16, NULL);
  g_return_val_if_fail (func != NULL && port_out != NULL, NULL);

  self = g_new0 (MgwListener, 1);
  sockets = g_ptr_array_new_with_free_func (g_object_unref);
  self->sockets = g_ptr_array_new_with_free_func ((GDestroyNotify) socket_free);
  self->func = func;
  self->user_data = user_data;
  mgw_timer_init (&self->resume, resume_cb, self);

  if (addresses == NULL)
    {
      g_autoptr(GInetAddress) any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
      g_autoptr(GError) v6_error = NULL;
      GSocket *socket = bind_one (any6, chosen, FALSE, backlog, &v6_error);

      if (socket == NULL)
        {
          /* No IPv6 on this machine: IPv4 alone. */
          g_autoptr(GInetAddress) any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
          socket = bind_one (any4, chosen, FALSE, backlog, error);
          if (socket == NULL)
            return NULL;
        }
      g_ptr_array_add (sockets, socket);
    }
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (addresses[i]);
      GSocket *socket;

      if (inet == NULL)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "'%s' is not an IP address",
                       addresses[i]);
          return NULL;
        }
      socket = bind_one (inet, chosen, TRUE, backlog, error);
      if (socket == NULL)
        return NULL;
      g_ptr_array_add (sockets, socket);
      if (chosen == 0)
        chosen = local_port (socket);
    }
  if (chosen == 0 && sockets->len > 0)
    chosen = local_port (sockets->pdata[0]);

  for (guint i = 0; i < sockets->len; i++)
    {
      Socket *s = g_new0 (Socket, 1);

      s->listener = self;
      s->socket = g_object_ref (sockets->pdata[i]);
      s->watch = mgw_watch_new (g_socket_get_fd (s->socket), G_IO_IN, accept_cb, s);
      g_ptr_array_add (self->sockets, s);
    }
  *port_out = chosen;
  return g_steal_pointer (&self);
}

/* Stops listening and closes the sockets. */
void
mgw_listener_free (MgwListener *self)
{
  if (self == NULL)
    return;
  mgw_timer_stop (&self->resume);
  for (guint i = 0; i < self->sockets->len; i++)
    {
      Socket *s = self->sockets->pdata[i];
      g_clear_pointer (&s->watch, mgw_watch_free);
    }
  g_ptr_array_unref (self->sockets);
  g_free (self);
}

GSocketConnection *
mgw_socket_connection_new_from_fd (int      fd,
                                   GError **error)
{
  g_return_val_if_fail (fd >= 0, NULL);

  /* On failure the half-made GSocket closes `fd` as it is finalized:
   * closing it here too could close a descriptor opened meanwhile by
   * another thread (GDBus, the resolver). */
  g_autoptr(GSocket) socket = g_socket_new_from_fd (fd, error);

  if (socket == NULL)
    return NULL;
  return g_socket_connection_factory_create_connection (socket);
}
