/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-rate-table.c: per-address connection rates, bounded.
 *
 * Entries sit in a queue by last use. A full bucket with no refusal on
 * it says nothing a new one would not: the oldest such are dropped as
 * the table is used (two per connection at most, so a connection costs
 * O(1)); when the table is full all the same, the oldest entry goes,
 * full or not (its address starts again with a full bucket: the bound
 * costs precision for addresses idle the longest, never memory). */
#include "config.h"

#include "mgw-rate-table.h"
#include "mgw-throttle.h"

typedef struct
{
  char        *address;
  MgwThrottle  bucket;
  guint        refused;   /* since the bucket was last full */
  GList        link;      /* in the queue, data: the entry */
} Entry;

struct _MgwRateTable
{
  GHashTable *entries;     /* address -> Entry */
  GQueue      by_use;      /* oldest first */
  guint       max_entries;
  guint       rate;        /* 0: off */
  guint       burst;
};

static void
entry_free (Entry *e)
{
  g_free (e->address);
  g_free (e);
}

MgwRateTable *
mgw_rate_table_new (guint max_entries)
{
  MgwRateTable *self = g_new0 (MgwRateTable, 1);

  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) entry_free);
  g_queue_init (&self->by_use);
  self->max_entries = max_entries > 0 ? max_entries : MGW_RATE_TABLE_MAX;
  return self;
}

void
mgw_rate_table_free (MgwRateTable *self)
{
  if (self == NULL)
    return;
  /* The queue's links are the entries' own: freed with them. */
  g_hash_table_unref (self->entries);
  g_free (self);
}

static void
drop (MgwRateTable *self,
      Entry        *e)
{
  g_queue_unlink (&self->by_use, &e->link);
  g_hash_table_remove (self->entries, e->address);
}

void
mgw_rate_table_set_rate (MgwRateTable *self,
                         guint         per_second,
                         guint         burst)
{
  g_return_if_fail (self != NULL);

  self->rate = per_second;
  self->burst = burst > 0 ? burst : per_second;
  if (per_second == 0)
    {
      g_queue_init (&self->by_use);
      g_hash_table_remove_all (self->entries);
    }
}

/* The bucket's depth: burst connections at once. */
static gint64
burst_us (MgwRateTable *self)
{
  return (gint64) self->burst * G_USEC_PER_SEC / self->rate;
}

static void
drop_rested (MgwRateTable *self,
             gint64        now)
{
  for (guint i = 0; i < 2 && self->by_use.head != NULL; i++)
    {
      Entry *e = self->by_use.head->data;

      if (!mgw_throttle_is_full (&e->bucket, now))
        return;
      drop (self, e);
    }
}

static Entry *
lookup (MgwRateTable *self,
        const char   *address,
        gint64        now)
{
  Entry *e = g_hash_table_lookup (self->entries, address);

  if (e != NULL)
    {
      g_queue_unlink (&self->by_use, &e->link);
      g_queue_push_tail_link (&self->by_use, &e->link);
      return e;
    }
  if (g_hash_table_size (self->entries) >= self->max_entries)
    drop (self, self->by_use.head->data);
  e = g_new0 (Entry, 1);
  e->address = g_strdup (address);
  e->link.data = e;
  mgw_throttle_init_burst (&e->bucket, self->rate, burst_us (self), now);
  g_hash_table_insert (self->entries, e->address, e);
  g_queue_push_tail_link (&self->by_use, &e->link);
  return e;
}

MgwRateVerdict
mgw_rate_table_hit (MgwRateTable *self,
                    const char   *address,
                    gint64        now)
{
  Entry *e;

  g_return_val_if_fail (self != NULL && address != NULL, MGW_RATE_ADMIT);

  if (self->rate == 0)
    return MGW_RATE_ADMIT;
  drop_rested (self, now);
  e = lookup (self, address, now);
  /* The rate may have changed at a reload. */
  e->bucket.rate = self->rate;
  e->bucket.burst = MAX (1.0, (double) self->burst);
  if (mgw_throttle_is_full (&e->bucket, now))
    e->refused = 0;   /* a rest long enough forgives */
  if (mgw_throttle_allow (&e->bucket, now, 1) == 1)
    {
      mgw_throttle_consume (&e->bucket, 1);
      return MGW_RATE_ADMIT;
    }
  if (++e->refused >= self->burst)
    {
      e->refused = 0;
      return MGW_RATE_BAN;
    }
  return MGW_RATE_REFUSE;
}

guint
mgw_rate_table_get_size (MgwRateTable *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return g_hash_table_size (self->entries);
}
