/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-local-addresses.h: this machine's own addresses, kept current (they
 * are never banned, and never redirect targets). */
#pragma once

#include <glib.h>

#include "mgw-address-set.h"

G_BEGIN_DECLS

typedef struct _MgwLocalAddresses MgwLocalAddresses;

/* Fills `set` (borrowed: it must outlive the watcher) with the machine's
 * addresses now, and again whenever the kernel says they changed
 * (netlink, once a burst of changes is over); without netlink, at each
 * mgw_local_addresses_refresh () only, with a warning. */
MgwLocalAddresses *mgw_local_addresses_new     (MgwAddressSet     *set);
void               mgw_local_addresses_refresh (MgwLocalAddresses *self);
void               mgw_local_addresses_free    (MgwLocalAddresses *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwLocalAddresses, mgw_local_addresses_free)

G_END_DECLS
