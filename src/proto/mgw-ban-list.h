/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-ban-list.h: banned addresses, persisted in the original's
 * banned.json (docs/protocol.md, Admission and bans). */
#pragma once

#include <glib-object.h>

#include "mgw-address-set.h"

G_BEGIN_DECLS

/* Wall clock, µs since the Unix epoch. */
typedef gint64 (*MgwClockFunc) (gpointer user_data);

typedef struct
{
  char   *address;  /* an address, or an IPv6 prefix: "2001:db8:1:2::/64" */
  gint64  since;    /* µs since the epoch: last banned or seen while banned */
  gint64  expiry;   /* µs since the epoch */
  char   *reason;   /* never NULL; "unknown" for entries of the original */
  guint   count;    /* how many times banned */
} MgwBan;

void mgw_ban_free (MgwBan *ban);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwBan, mgw_ban_free)

#define MGW_BAN_DEFAULT_DURATION ((gint64) (100 * 86400 + 20) * G_USEC_PER_SEC)
/* A ban of an IPv6 address bans its prefix of this length. */
#define MGW_BAN_DEFAULT_IPV6_PREFIX 64
#define MGW_BAN_MIN_IPV6_PREFIX     16
/* Bans kept at most (and as many expired ones remembered). */
#define MGW_BAN_DEFAULT_MAX_ENTRIES 100000
#define MGW_BAN_MAX_MAX_ENTRIES     1000000

#define MGW_TYPE_BAN_LIST (mgw_ban_list_get_type ())
G_DECLARE_FINAL_TYPE (MgwBanList, mgw_ban_list, MGW, BAN_LIST, GObject)

/* path: banned.json, NULL to keep the list in memory only; clock: NULL for
 * g_get_real_time. */
MgwBanList *mgw_ban_list_new            (const char     *path,
                                         MgwClockFunc    clock,
                                         gpointer        clock_data);
void        mgw_ban_list_set_duration   (MgwBanList     *self,
                                         gint64          duration_us);
/* When on, each new ban of an address doubles its previous duration, up
 * to max_duration_us; an expired ban is remembered (not banned) until
 * max_duration_us after its expiry for that. */
void        mgw_ban_list_set_escalation (MgwBanList     *self,
                                         gboolean        escalate,
                                         gint64          max_duration_us);
/* MGW_BAN_MIN_IPV6_PREFIX..128; for the bans made from now on. */
void        mgw_ban_list_set_ipv6_prefix (MgwBanList    *self,
                                          guint          prefix);
/* 1..MGW_BAN_MAX_MAX_ENTRIES; past it the bans nearest expiry are
 * dropped ("unbanned" with reason "dropped"), now and from now on. */
void        mgw_ban_list_set_max_entries (MgwBanList    *self,
                                          guint          max_entries);
/* The largest banned.json the loader reads: what max-entries bans take
 * at most. */
gsize       mgw_ban_list_get_file_limit  (MgwBanList    *self);
/* Borrowed, may be NULL: the owner keeps them alive and up to date. */
void        mgw_ban_list_set_exempt     (MgwBanList     *self,
                                         MgwAddressSet  *never_ban,
                                         MgwAddressSet  *local);
gboolean    mgw_ban_list_load           (MgwBanList     *self,
                                         GError        **error);
/* TRUE when banned now; the ban then restarts. */
gboolean    mgw_ban_list_check          (MgwBanList     *self,
                                         const char     *address);
gboolean    mgw_ban_list_ban            (MgwBanList     *self,
                                         const char     *address,
                                         const char     *reason,
                                         const char     *rule,
                                         GError        **error);
gboolean    mgw_ban_list_ban_for        (MgwBanList     *self,
                                         const char     *address,
                                         const char     *reason,
                                         const char     *rule,
                                         gint64          duration_us,
                                         char          **banned,
                                         GError        **error);
gboolean    mgw_ban_list_unban          (MgwBanList     *self,
                                         const char     *address,
                                         GError        **error);
guint       mgw_ban_list_sweep          (MgwBanList     *self);
/* What bans address now (the key, an address or a prefix), without
 * renewing it; NULL when not banned. */
char       *mgw_ban_list_lookup         (MgwBanList     *self,
                                         const char     *address);
/* What a ban of address would be kept under, banned or not: the
 * address (IPv4), or its prefix of [bans] ipv6-prefix bits (IPv6), as
 * ListBans shows it; NULL for what is not an address. For the
 * per-address limits that must see one /64 as one user. */
char       *mgw_ban_list_key            (MgwBanList     *self,
                                         const char     *address);
/* Of MgwBan, owned by the array, sorted by address. */
GPtrArray  *mgw_ban_list_list           (MgwBanList     *self);
guint       mgw_ban_list_get_size       (MgwBanList     *self);
gboolean    mgw_ban_list_flush          (MgwBanList     *self,
                                         GError        **error);
guint64     mgw_ban_list_get_bans       (MgwBanList     *self);
guint64     mgw_ban_list_get_unbans     (MgwBanList     *self);
/* Bans dropped because the list was full, since start. */
guint64     mgw_ban_list_get_dropped    (MgwBanList     *self);
/* TRUE while a save is due or in progress. */
gboolean    mgw_ban_list_get_saving     (MgwBanList     *self);
/* The longest time one step of a save held the main loop, µs (wall
 * clock); cpu: the longest CPU time one step took. */
gint64      mgw_ban_list_get_longest_slice (MgwBanList  *self,
                                            gint64      *cpu);

G_END_DECLS
