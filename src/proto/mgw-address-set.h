/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-address-set.h: a set of IP addresses and CIDR prefixes (IPv4 and
 * IPv6): neverbanned.json and the machine's own addresses. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MgwAddressSet MgwAddressSet;

MgwAddressSet *mgw_address_set_new            (void);
void           mgw_address_set_free           (MgwAddressSet  *set);
/* "192.0.2.7", "::1", "192.168.0.0/16", "fd00::/8". Host bits set beyond
 * the prefix length are ignored ("192.168.1.1/16" is 192.168.0.0/16). */
gboolean       mgw_address_set_add            (MgwAddressSet  *set,
                                               const char     *address_or_prefix,
                                               GError        **error);
void           mgw_address_set_clear          (MgwAddressSet  *set);
/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches its IPv4 form; a
 * zone ("fe80::1%eth0") is ignored; text that is not an address: FALSE. */
gboolean       mgw_address_set_contains       (MgwAddressSet  *set,
                                               const char     *address);
guint          mgw_address_set_get_size       (MgwAddressSet  *set);
/* neverbanned.json: {"ip or prefix": "free label", ...}. A missing file
 * empties the set; keys that are not addresses are skipped with a warning
 * each; a file that is not a JSON object fails and leaves the set as it
 * was. */
gboolean       mgw_address_set_load_never_ban (MgwAddressSet  *set,
                                               const char     *path,
                                               GError        **error);
/* Replaces the content with every address of every interface of the
 * machine (getifaddrs), plus 127.0.0.0/8 and ::1. */
gboolean       mgw_address_set_load_local     (MgwAddressSet  *set,
                                               GError        **error);

/* The canonical text of an address (IPv4-mapped IPv6 as IPv4, zone
 * dropped); NULL when the text is not an address. */
char          *mgw_address_normalize          (const char     *address);
/* The address text names, as mgw_address_normalize () reads it (a zone
 * ignored, IPv4-mapped as IPv4); NULL for text that is not an address. */
GInetAddress  *mgw_address_parse              (const char     *address);
/* FALSE for an address no connection comes from: unspecified (0.0.0.0,
 * ::), the IPv4 broadcast 255.255.255.255, multicast (224.0.0.0/4,
 * ff00::/8), IPv4-mapped forms too; and for text that is not an
 * address. */
gboolean       mgw_address_is_peer            (const char     *address);
/* "192.0.2.1:80", "[2001:db8::5]:80": an address and port as logs and
 * URIs write them, IPv6 in brackets. */
char          *mgw_address_with_port          (const char     *address,
                                               guint           port);
GPtrArray     *mgw_local_addresses            (GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwAddressSet, mgw_address_set_free)

G_END_DECLS
