/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-local-addresses.c: the machine's addresses (getifaddrs, through
 * mgw_address_set_load_local) and a netlink socket in the poller that
 * says when to read them again. GNetworkMonitor would do, but asking for
 * it makes GIO load its proxy modules (libproxy, libstdc++: 1.5 MB of an
 * 8 MB gateway) for nothing. */
#include "config.h"

#include "mgw-local-addresses.h"
#include "mgw-poller.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

/* A burst of netlink messages (an interface coming up) is read once. */
#define SETTLE_MS 200

struct _MgwLocalAddresses
{
  MgwAddressSet *set;
  int            fd;       /* -1: no netlink */
  MgwWatch      *watch;
  MgwTimer       settle;
};

void
mgw_local_addresses_refresh (MgwLocalAddresses *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (self != NULL);

  if (!mgw_address_set_load_local (self->set, &error))
    g_warning ("cannot list this machine's addresses: %s", error->message);
  else
    g_debug ("%u local addresses never banned", mgw_address_set_get_size (self->set));
}

static void
settled_cb (gpointer user_data)
{
  mgw_local_addresses_refresh (user_data);
}

static void
netlink_cb (gpointer     user_data,
            GIOCondition condition)
{
  MgwLocalAddresses *self = user_data;
  char buf[8192];

  while (recv (self->fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
    ;
  mgw_timer_start (&self->settle, SETTLE_MS);
}

MgwLocalAddresses *
mgw_local_addresses_new (MgwAddressSet *set)
{
  MgwLocalAddresses *self;
  struct sockaddr_nl sa = { 0 };
  int fd;

  g_return_val_if_fail (set != NULL, NULL);

  self = g_new0 (MgwLocalAddresses, 1);
  self->set = set;
  self->fd = -1;
  mgw_timer_init (&self->settle, settled_cb, self);
  mgw_local_addresses_refresh (self);

  /* The kernel's address changes (RTMGRP_*_IFADDR). */
  fd = socket (AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (fd < 0 || bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      g_warning ("cannot watch this machine's addresses (netlink): %s; "
                 "changes are seen at the next reload", g_strerror (errno));
      if (fd >= 0)
        close (fd);
      return self;
    }
  self->fd = fd;
  self->watch = mgw_watch_new (fd, G_IO_IN, netlink_cb, self);
  return self;
}

void
mgw_local_addresses_free (MgwLocalAddresses *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->watch, mgw_watch_free);
  mgw_timer_stop (&self->settle);
  if (self->fd >= 0)
    close (self->fd);
  g_free (self);
}
