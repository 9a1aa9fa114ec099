/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-rate-table.h: how often each address connects, in a table of
 * bounded size: a token bucket per address (mgw-throttle.c), refused
 * connections counted towards a ban. Pure (the clock is given). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The table's default bound: about 10 MB at most. */
#define MGW_RATE_TABLE_MAX 65536

typedef enum {
  MGW_RATE_ADMIT,    /* within the rate */
  MGW_RATE_REFUSE,   /* beyond it: refuse this connection */
  MGW_RATE_BAN,      /* beyond it again and again: refuse and ban */
} MgwRateVerdict;

typedef struct _MgwRateTable MgwRateTable;

/* At most max_entries addresses (0: MGW_RATE_TABLE_MAX); off until a
 * rate is set. */
MgwRateTable   *mgw_rate_table_new      (guint         max_entries);
void            mgw_rate_table_free     (MgwRateTable *self);
/* per_second connections a second per address, after a burst of burst
 * (0: per_second); per_second 0: off, the table emptied. Buckets already
 * there keep their credit. */
void            mgw_rate_table_set_rate (MgwRateTable *self,
                                         guint         per_second,
                                         guint         burst);
/* One connection from address at now (µs, monotonic). BAN when burst
 * connections were refused since the address last rested long enough to
 * fill its bucket again. */
MgwRateVerdict  mgw_rate_table_hit      (MgwRateTable *self,
                                         const char   *address,
                                         gint64        now);
guint           mgw_rate_table_get_size (MgwRateTable *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwRateTable, mgw_rate_table_free)

G_END_DECLS
