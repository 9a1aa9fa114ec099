/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-ban-list.c: banned addresses (docs/protocol.md, Admission and
 * bans).
 *
 * banned.json keeps the original's format so either gateway can read what
 * the other wrote: one JSON object, address -> local time of the last ban
 * or of the last attempt while banned, "%Y-%m-%dT%H:%M:%S.%f" without a
 * zone. A timestamp we have not changed is written back as it was read.
 * What that format cannot hold (the reason, how many times the address
 * was banned, a duration other than the configured one, and expired bans
 * remembered for escalation) goes to "<path>.extra.json":
 *
 *   { "192.0.2.7": { "reason": "short session", "count": 2,
 *                    "duration": 8640020.0,
 *                    "since": "2021-09-08T10:00:00.000000", "banned": true },
 *     "198.51.100.1": { "reason": "typing too fast", "count": 1,
 *                       "duration": 3600.0,
 *                       "since": "2021-08-11T18:40:53.797380" } }
 *
 * ("duration" in seconds, only when not the configured one; "since",
 * the ban's start as in banned.json; "banned" for a ban in force, absent
 * for an expired ban remembered for escalation). A missing or bad
 * sidecar only means defaults.
 *
 * banned.json is written first, the sidecar second: after a crash
 * between the two, the sidecar is one save behind, and the reading rule
 * makes that harmless. banned.json says who is banned and since when; a
 * sidecar entry describes that ban when its "since" is the same or
 * older (an attempt while banned moves banned.json's "since" forward), it
 * is ignored when newer (not a file of ours); a remembered entry for an
 * address banned again is the ban before it (count and escalation carry
 * on, the reason is not known); a "banned" entry for an
 * address banned.json no longer lists is a ban that ended (unbanned or
 * expired) and is dropped. Sidecars of the original (no "since" on bans)
 * read as before.
 *
 * Keys: an IPv4 address bans that address (IPv4-mapped IPv6 addresses
 * are IPv4); an IPv6 address bans its prefix of the configured length
 * ([bans] ipv6-prefix, 64 by default), kept as "2001:db8:1:2::/64"
 * (canonical network address, "/", length; a length of 128 is the
 * address alone, as before). banned.json holds such keys as they are;
 * the original's tools read IPv4 keys unchanged. Loading, a plain IPv6
 * address is widened to the configured prefix.
 *
 * Bounds: at most max-entries bans (and as many remembered ones); past
 * it the bans nearest expiry are dropped, counted and logged once a
 * minute. What one entry can take in each file is bounded (a reason is
 * cut to MAX_REASON bytes, a timestamp longer than MAX_STAMP is written
 * anew), so the loader's size limits follow from max-entries: what the
 * writer writes at the cap is read back.
 *
 * Every change marks the list dirty and schedules one save a little
 * later, so a burst of bans costs one save. A save takes a snapshot of
 * the entries (references), builds both files in slices of at most
 * SLICE_US from an idle callback, then writes each with
 * g_file_replace_contents_async () (temporary file, fsync, rename, off
 * the main loop). A change during a save marks the list dirty again: one
 * more save follows. A flush (shutdown) waits for a write in flight and
 * writes what is left synchronously. A corrupt banned.json at load time
 * is reported and renamed aside, never overwritten. */
#include "config.h"

#include "mgw-ban-list.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SAVE_DELAY_MS        200     /* after a ban, an unban, an expiry */
#define RENEW_SAVE_DELAY_MS  5000    /* after a ban was only renewed */
#define RETRY_SAVE_DELAY_MS  30000   /* after a failed write */
#define IO_POLL_MS           5       /* how often a write in flight is looked at */
#define SLICE_US             2000    /* main loop time one slice of a save takes at most */
#define DROP_LOG_INTERVAL_S  60
#define STAMP_FORMAT         "%Y-%m-%dT%H:%M:%S.%f"
#define UNKNOWN_REASON       "unknown"
#define GIO_TEMPORARY_PREFIX ".goutputstream-"

/* The most one entry takes in each file, as written: banned.json
 * `"<key>": "<stamp>", ` (key 43 at most, stamp MAX_STAMP); the sidecar
 * `"<key>": {"reason": "<reason, every byte escaped at worst to 2>",
 * "count": <10 digits>, "duration": <20>, "since": "<stamp>", "banned":
 * true}, `. */
#define MAX_KEY              43
#define MAX_STAMP            32
#define MAX_REASON           120
#define MAX_BANNED_ENTRY     (MAX_KEY + MAX_STAMP + 8)
#define MAX_EXTRA_ENTRY      (MAX_KEY + 2 * MAX_REASON + 2 * MAX_STAMP + 120)
#define FILE_SLACK           4096

typedef enum
{
  ENTRY_GONE,
  ENTRY_BANNED,
  ENTRY_REMEMBERED,
} EntryState;

typedef struct
{
  char          *address;    /* the key: canonical address, or prefix "net/len" */
  guint8         bytes[16];  /* network bytes, for matching */
  guint8         size;       /* 4 or 16; 0 for a key that is not an address */
  guint8         prefix;     /* bits: 32 for IPv4, 16..128 for IPv6 */
  guint8         state;      /* EntryState */
  guint          ref;        /* the table's; a save's, when it left during the save */
  guint          slot;       /* in the list's `all` */
  guint64        serial;     /* when made: entries made after a snapshot are not in it */
  GSequenceIter *order;      /* in its table's order by expiry */
  gint64         since;
  gint64         duration;   /* 0: the list's configured duration */
  char          *reason;     /* NULL: unknown */
  guint          count;
  char          *stamp;      /* the text read for since; NULL once since changed */
} Entry;

/* Entries by key, and by expiry (the nearest first). */
typedef struct
{
  GHashTable *index;
  GSequence  *order;
  EntryState  state;
  guint       prefixes[129];  /* IPv6 entries per prefix length */
} Table;

/* A save in progress: a snapshot of the entries, both files being built
 * and then written. */
typedef struct
{
  GPtrArray *entries;   /* of Entry, not referenced: those that leave go to gone */
  GPtrArray *gone;      /* of Entry, referenced */
  guint64    serial;    /* entries made before it are in entries */
  guint      next;
  guint      n_banned;
  guint      n_extra;
  gboolean   closed;
  gboolean   banned_written;
  GString   *banned;
  GString   *extra;
} SaveJob;

struct _MgwBanList
{
  GObject        parent_instance;

  char          *path;         /* NULL: memory only */
  char          *extra_path;
  MgwClockFunc   clock;
  gpointer       clock_data;
  gint64         duration;
  gboolean       escalate;
  gint64         max_duration;
  guint          ipv6_prefix;
  guint          max_entries;
  MgwAddressSet *never_ban;    /* borrowed */
  MgwAddressSet *local;        /* borrowed */

  Table          bans;         /* banned */
  Table          history;      /* expired, remembered */
  GPtrArray     *all;          /* of Entry: both tables', for a save's snapshot */
  guint64        serial;

  gboolean       dirty;
  guint          save_id;
  gint64         save_due;     /* monotonic µs */
  char          *last_save_error;
  SaveJob       *job;          /* a save being built or written */
  guint          build_id;
  GMainContext  *io_context;   /* where the asynchronous writes complete */
  guint          io_poll_id;
  gboolean       writing;
  gint64         longest_slice;
  gint64         longest_slice_cpu;

  guint64        n_bans;
  guint64        n_unbans;
  guint64        n_dropped;
  guint64        drops_unlogged;
  guint          drop_log_id;
};

G_DEFINE_FINAL_TYPE (MgwBanList, mgw_ban_list, G_TYPE_OBJECT)

enum {
  SIGNAL_BANNED,
  SIGNAL_UNBANNED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

void
mgw_ban_free (MgwBan *ban)
{
  if (ban == NULL)
    return;
  g_free (ban->address);
  g_free (ban->reason);
  g_free (ban);
}

static void
entry_unref (Entry *entry)
{
  if (--entry->ref > 0)
    return;
  g_free (entry->address);
  g_free (entry->reason);
  g_free (entry->stamp);
  g_free (entry);
}

static Entry *
entry_ref (Entry *entry)
{
  entry->ref++;
  return entry;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Entry, entry_unref)

/* Keys */

typedef struct
{
  guint8 bytes[16];
  guint8 size;
  guint8 prefix;
  char   text[64];
} Key;

/* The key of `inet` under a prefix of `prefix` bits (IPv6 only). */
static void
key_for (GInetAddress *inet,
         guint         prefix,
         Key          *key)
{
  g_autoptr(GInetAddress) network = NULL;
  g_autofree char *text = NULL;

  key->size = (guint8) g_inet_address_get_native_size (inet);
  memcpy (key->bytes, g_inet_address_to_bytes (inet), key->size);
  key->prefix = key->size == 4 ? 32 : (guint8) prefix;
  for (guint bit = key->prefix; bit < key->size * 8u; bit++)
    key->bytes[bit / 8] &= (guint8) ~(0x80u >> (bit % 8));
  network = g_inet_address_new_from_bytes (key->bytes, key->size == 4 ? G_SOCKET_FAMILY_IPV4
                                                                      : G_SOCKET_FAMILY_IPV6);
  text = g_inet_address_to_string (network);
  if (key->prefix == key->size * 8)
    g_strlcpy (key->text, text, sizeof key->text);
  else
    g_snprintf (key->text, sizeof key->text, "%s/%u", text, key->prefix);
}

/* A key as written: an address (IPv6 widened to `widen` bits) or an
 * IPv6 prefix "net/len" (host bits ignored). FALSE for anything else,
 * an IPv4 prefix included: IPv4 bans are per address. */
static gboolean
key_parse (const char *text,
           guint       widen,
           Key        *key)
{
  g_autofree char *address = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  const char *slash = strchr (text, '/');
  guint64 prefix = widen;

  if (slash != NULL)
    {
      if (!g_ascii_string_to_unsigned (slash + 1, 10, MGW_BAN_MIN_IPV6_PREFIX, 128, &prefix, NULL))
        return FALSE;
      address = g_strndup (text, slash - text);
    }
  inet = mgw_address_parse (address != NULL ? address : text);
  if (inet == NULL)
    return FALSE;
  if (slash != NULL && g_inet_address_get_family (inet) != G_SOCKET_FAMILY_IPV6)
    return FALSE;
  key_for (inet, (guint) prefix, key);
  return TRUE;
}

static Entry *
entry_new (MgwBanList *self,
           const Key  *key)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->ref = 1;
  entry->serial = self->serial++;
  entry->address = g_strdup (key->text);
  memcpy (entry->bytes, key->bytes, sizeof entry->bytes);
  entry->size = key->size;
  entry->prefix = key->prefix;
  entry->count = 1;
  return entry;
}

/* A reason as kept: valid UTF-8, no control characters, MAX_REASON
 * bytes at most. */
static char *
reason_bounded (const char *reason)
{
  char *text = g_utf8_make_valid (reason != NULL ? reason : UNKNOWN_REASON, -1);

  for (char *p = text; *p != '\0'; p++)
    if ((guchar) * p < 0x20 || *p == 0x7f)
      *p = ' ';
  if (strlen (text) > MAX_REASON)
    *g_utf8_find_prev_char (text, text + MAX_REASON + 1) = '\0';
  return text;
}

/* Time */

static gint64
now_us (MgwBanList *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_real_time ();
}

static GDateTime *
local_date_time (gint64 us)
{
  gint64 seconds = us / G_USEC_PER_SEC;
  gint64 rest = us % G_USEC_PER_SEC;
  g_autoptr(GDateTime) whole = NULL;

  if (rest < 0)
    {
      seconds--;
      rest += G_USEC_PER_SEC;
    }
  whole = g_date_time_new_from_unix_local (seconds);
  if (whole == NULL)
    whole = g_date_time_new_from_unix_local (0);
  return g_date_time_add (whole, rest);
}

static char *
format_local (gint64      us,
              const char *format)
{
  g_autoptr(GDateTime) time = local_date_time (us);

  return g_date_time_format (time, format);
}

static gboolean
parse_stamp (const char *text,
             GTimeZone  *zone,
             gint64     *us)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_iso8601 (text, zone);

  if (time == NULL)
    return FALSE;
  *us = g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
  return TRUE;
}

static gint64
entry_duration (MgwBanList  *self,
                const Entry *entry)
{
  return entry->duration > 0 ? entry->duration : self->duration;
}

/* The duration of a ban that follows one of `previous` (0: none). */
static gint64
escalated (MgwBanList *self,
           gint64      previous)
{
  if (!self->escalate)
    return 0;
  if (previous == 0)
    return MIN (self->duration, self->max_duration);
  return previous >= self->max_duration / 2 ? self->max_duration : previous * 2;
}

static gint64
entry_expiry (MgwBanList  *self,
              const Entry *entry)
{
  gint64 duration = entry_duration (self, entry);

  if (entry->since > G_MAXINT64 - duration)
    return G_MAXINT64;
  return entry->since + duration;
}

static gboolean
entry_expired (MgwBanList  *self,
               const Entry *entry,
               gint64       now)
{
  return now >= entry_expiry (self, entry);
}

/* An expired ban is remembered, for escalation, up to the maximum
 * duration after its expiry. */
static gboolean
history_stale (MgwBanList  *self,
               const Entry *entry,
               gint64       now)
{
  gint64 expiry = entry_expiry (self, entry);

  if (!self->escalate)
    return TRUE;
  return expiry > G_MAXINT64 - self->max_duration ||
         now >= expiry + self->max_duration;
}

static char *
format_duration (gint64 us)
{
  GString *text = g_string_new (NULL);
  gint64 seconds = us / G_USEC_PER_SEC;
  gint64 days = seconds / 86400;
  gint64 hours = seconds % 86400 / 3600;
  gint64 minutes = seconds % 3600 / 60;
  double rest = (double) (seconds % 60) + (double) (us % G_USEC_PER_SEC) / G_USEC_PER_SEC;

  if (days > 0)
    g_string_append_printf (text, "%" G_GINT64_FORMAT " d ", days);
  if (hours > 0)
    g_string_append_printf (text, "%" G_GINT64_FORMAT " h ", hours);
  if (minutes > 0)
    g_string_append_printf (text, "%" G_GINT64_FORMAT " min ", minutes);
  if (rest > 0 || text->len == 0)
    g_string_append_printf (text, "%g s ", rest);
  g_string_truncate (text, text->len - 1);
  return g_string_free (text, FALSE);
}

/* Tables */

static gint
expiry_compare (gconstpointer a,
                gconstpointer b,
                gpointer      user_data)
{
  MgwBanList *self = user_data;
  gint64 x = entry_expiry (self, a);
  gint64 y = entry_expiry (self, b);

  return x < y ? -1 : x > y;
}

static void
table_init (Table      *table,
            EntryState  state)
{
  /* The key is the entry's own address. */
  table->index = g_hash_table_new (g_str_hash, g_str_equal);
  table->order = g_sequence_new (NULL);
  table->state = state;
}

/* Takes the caller's reference. */
static void
table_add (MgwBanList *self,
           Table      *table,
           Entry      *entry)
{
  g_return_if_fail (entry->state == ENTRY_GONE);

  g_hash_table_insert (table->index, entry->address, entry);
  entry->order = g_sequence_insert_sorted (table->order, entry, expiry_compare, self);
  entry->state = table->state;
  entry->slot = self->all->len;
  g_ptr_array_add (self->all, entry);
  if (entry->size == 16)
    table->prefixes[entry->prefix]++;
}

/* Out of the table, the reference now the caller's. A save in progress
 * keeps it until done. */
static Entry *
table_take (MgwBanList *self,
            Table      *table,
            Entry      *entry)
{
  Entry *last = self->all->pdata[self->all->len - 1];

  g_return_val_if_fail (entry->state == table->state, entry);

  last->slot = entry->slot;
  self->all->pdata[entry->slot] = last;
  g_ptr_array_set_size (self->all, self->all->len - 1);
  if (self->job != NULL && entry->serial < self->job->serial)
    g_ptr_array_add (self->job->gone, entry_ref (entry));
  g_hash_table_remove (table->index, entry->address);
  g_sequence_remove (entry->order);
  entry->order = NULL;
  entry->state = ENTRY_GONE;
  if (entry->size == 16)
    table->prefixes[entry->prefix]--;
  return entry;
}

static void
table_remove (MgwBanList *self,
              Table      *table,
              Entry      *entry)
{
  entry_unref (table_take (self, table, entry));
}

/* After its since or duration changed. */
static void
table_moved (MgwBanList *self,
             Entry      *entry)
{
  g_sequence_sort_changed (entry->order, expiry_compare, self);
}

static Entry *
table_first (Table *table)
{
  GSequenceIter *first = g_sequence_get_begin_iter (table->order);

  return g_sequence_iter_is_end (first) ? NULL : g_sequence_get (first);
}

static void
table_clear (MgwBanList *self,
             Table      *table)
{
  Entry *entry;

  while ((entry = table_first (table)) != NULL)
    table_remove (self, table, entry);
}

static void
table_free (MgwBanList *self,
            Table      *table)
{
  table_clear (self, table);
  g_hash_table_unref (table->index);
  g_sequence_free (table->order);
}

static Entry *
table_lookup (Table     *table,
              const Key *key)
{
  return g_hash_table_lookup (table->index, key->text);
}

/* The entry whose key covers `inet`: its address, or an IPv6 prefix
 * holding it (the longest). */
static Entry *
table_covering (Table        *table,
                GInetAddress *inet)
{
  Key key;

  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV4)
    {
      key_for (inet, 32, &key);
      return table_lookup (table, &key);
    }
  for (guint prefix = 128; prefix >= MGW_BAN_MIN_IPV6_PREFIX; prefix--)
    if (table->prefixes[prefix] > 0)
      {
        Entry *entry;

        key_for (inet, prefix, &key);
        entry = table_lookup (table, &key);
        if (entry != NULL)
          return entry;
      }
  return NULL;
}

/* Of Entry, not owned, sorted by address. */
static gint
entry_compare (gconstpointer a,
               gconstpointer b)
{
  const Entry *x = *(Entry * const *) a;
  const Entry *y = *(Entry * const *) b;
  int bytes;

  if (x->size != y->size)
    return x->size < y->size ? -1 : 1;
  bytes = memcmp (x->bytes, y->bytes, x->size);
  if (bytes != 0)
    return bytes;
  return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

static GPtrArray *
sorted_entries (Table *table)
{
  GPtrArray *array = g_ptr_array_sized_new (g_hash_table_size (table->index));

  for (GSequenceIter *i = g_sequence_get_begin_iter (table->order);
       !g_sequence_iter_is_end (i); i = g_sequence_iter_next (i))
    g_ptr_array_add (array, g_sequence_get (i));
  g_ptr_array_sort (array, entry_compare);
  return array;
}

/* Saving */

static void
append_json_string (GString    *out,
                    const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

static char *
entry_stamp (const Entry *entry)
{
  return entry->stamp != NULL ? g_strdup (entry->stamp)
                              : format_local (entry->since, STAMP_FORMAT);
}

/* banned.json as the original writes it (Python's json.dump):
 * `{"KEY": "STAMP", ...}`; the sidecar's entry as described above. */
static void
append_entry (SaveJob *job,
              Entry   *entry)
{
  g_autofree char *stamp = NULL;
  gboolean banned = entry->state == ENTRY_BANNED;

  if (entry->state == ENTRY_GONE)
    return;   /* unbanned or dropped since the snapshot */
  stamp = entry_stamp (entry);
  if (banned)
    {
      g_string_append (job->banned, job->n_banned++ > 0 ? ", " : "");
      append_json_string (job->banned, entry->address);
      g_string_append (job->banned, ": ");
      append_json_string (job->banned, stamp);
    }
  g_string_append (job->extra, job->n_extra++ > 0 ? ", " : "");
  append_json_string (job->extra, entry->address);
  g_string_append (job->extra, ": {\"reason\": ");
  append_json_string (job->extra, entry->reason != NULL ? entry->reason : UNKNOWN_REASON);
  g_string_append_printf (job->extra, ", \"count\": %u", entry->count);
  if (entry->duration > 0)
    g_string_append_printf (job->extra, ", \"duration\": %" G_GINT64_FORMAT ".%06d",
                            entry->duration / G_USEC_PER_SEC,
                            (int) (entry->duration % G_USEC_PER_SEC));
  g_string_append (job->extra, ", \"since\": ");
  append_json_string (job->extra, stamp);
  g_string_append (job->extra, banned ? ", \"banned\": true}" : "}");
}

/* The entries as they are now: a copy of the array of pointers (the
 * entries that leave while the save runs are kept in `gone`). The
 * buffers are sized for the most the entries can take: never grown,
 * never copied. */
static SaveJob *
save_job_new (MgwBanList *self)
{
  SaveJob *job = g_new0 (SaveJob, 1);
  guint n = self->all->len;

  job->entries = g_ptr_array_sized_new (n);
  g_ptr_array_set_size (job->entries, n);
  if (n > 0)
    memcpy (job->entries->pdata, self->all->pdata, n * sizeof (gpointer));
  job->gone = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_unref);
  job->serial = self->serial;
  job->banned = g_string_sized_new (FILE_SLACK + (gsize) n * MAX_BANNED_ENTRY);
  job->extra = g_string_sized_new (FILE_SLACK + (gsize) n * MAX_EXTRA_ENTRY);
  g_string_append_c (job->banned, '{');
  g_string_append_c (job->extra, '{');
  return job;
}

static void
save_job_free (SaveJob *job)
{
  g_ptr_array_unref (job->entries);
  g_ptr_array_unref (job->gone);
  g_string_free (job->banned, TRUE);
  g_string_free (job->extra, TRUE);
  g_free (job);
}

/* TRUE when the job is built; `deadline`: monotonic µs, 0 for none. */
static gboolean
save_job_build (SaveJob *job,
                gint64   deadline)
{
  while (job->next < job->entries->len)
    {
      append_entry (job, job->entries->pdata[job->next++]);
      if (deadline > 0 && job->next % 64 == 0 && g_get_monotonic_time () >= deadline)
        return FALSE;
    }
  if (!job->closed)
    {
      g_string_append_c (job->banned, '}');
      g_string_append_c (job->extra, '}');
      job->closed = TRUE;
    }
  return TRUE;
}

static void schedule_save (MgwBanList *self,
                           guint       delay_ms);

/* Said once per distinct failure; tried again later. */
static void
save_failed (MgwBanList   *self,
             const GError *error)
{
  if (g_strcmp0 (self->last_save_error, error->message) != 0)
    {
      g_warning ("Cannot save the ban list: %s", error->message);
      g_free (self->last_save_error);
      self->last_save_error = g_strdup (error->message);
    }
  self->dirty = TRUE;
  schedule_save (self, RETRY_SAVE_DELAY_MS);
}

static void
save_done (MgwBanList *self)
{
  g_clear_pointer (&self->job, save_job_free);
  self->writing = FALSE;
  g_clear_handle_id (&self->io_poll_id, g_source_remove);
}

static void write_async (MgwBanList *self,
                         const char *path,
                         GString    *data);

static void
write_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  MgwBanList *self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean first = !self->job->banned_written;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      save_done (self);
      g_prefix_error (&error, "%s: ", first ? self->path : self->extra_path);
      save_failed (self, error);
      g_object_unref (self);
      return;
    }
  /* banned.json first: the sidecar is at most one save behind it, which
   * the reading rule expects (see load_extra ()). */
  if (first)
    {
      self->job->banned_written = TRUE;
      write_async (self, self->extra_path, self->job->extra);
    }
  else
    {
      save_done (self);
      g_clear_pointer (&self->last_save_error, g_free);
      if (self->dirty)
        schedule_save (self, SAVE_DELAY_MS);
    }
  g_object_unref (self);
}

static gboolean
io_poll_cb (gpointer user_data)
{
  MgwBanList *self = user_data;

  while (g_main_context_iteration (self->io_context, FALSE))
    ;
  return G_SOURCE_CONTINUE;
}

/* In GIO's worker, completing in io_context: a flush can wait for it
 * without running anything else. The data stays in the job until done. */
static void
write_async (MgwBanList *self,
             const char *path,
             GString    *data)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);

  g_main_context_push_thread_default (self->io_context);
  /* REPLACE_DESTINATION: a symbolic link put in its place is replaced,
   * not followed. */
  g_file_replace_contents_async (file, data->str, data->len, NULL, FALSE,
                                 G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
                                 NULL, write_cb, g_object_ref (self));
  g_main_context_pop_thread_default (self->io_context);
  self->writing = TRUE;
  if (self->io_poll_id == 0)
    self->io_poll_id = g_timeout_add (IO_POLL_MS, io_poll_cb, self);
}

/* The main thread's CPU time, µs: what a step costs, without the time
 * the scheduler gave to others. */
static gint64
thread_cpu_us (void)
{
  struct timespec t;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t) != 0)
    return 0;
  return (gint64) t.tv_sec * G_USEC_PER_SEC + t.tv_nsec / 1000;
}

static void
note_step (MgwBanList *self,
           gint64      start,
           gint64      start_cpu)
{
  self->longest_slice = MAX (self->longest_slice, g_get_monotonic_time () - start);
  self->longest_slice_cpu = MAX (self->longest_slice_cpu, thread_cpu_us () - start_cpu);
}

static gboolean
build_cb (gpointer user_data)
{
  MgwBanList *self = user_data;
  gint64 start = g_get_monotonic_time ();
  gint64 start_cpu = thread_cpu_us ();
  gboolean built = save_job_build (self->job, start + SLICE_US);

  note_step (self, start, start_cpu);
  if (!built)
    return G_SOURCE_CONTINUE;
  self->build_id = 0;
  write_async (self, self->path, self->job->banned);
  return G_SOURCE_REMOVE;
}

static gboolean
save_cb (gpointer user_data)
{
  MgwBanList *self = user_data;
  gint64 start = g_get_monotonic_time ();
  gint64 start_cpu = thread_cpu_us ();

  self->save_id = 0;
  /* One save at a time: the one in progress saves again when done. */
  if (self->job != NULL)
    return G_SOURCE_REMOVE;
  self->job = save_job_new (self);
  self->dirty = FALSE;
  note_step (self, start, start_cpu);
  self->build_id = g_idle_add (build_cb, self);
  return G_SOURCE_REMOVE;
}

/* Marks the list changed and makes sure a save starts within delay_ms. */
static void
schedule_save (MgwBanList *self,
               guint       delay_ms)
{
  gint64 due;

  if (self->path == NULL)
    return;
  self->dirty = TRUE;
  due = g_get_monotonic_time () + (gint64) delay_ms * 1000;
  if (self->save_id != 0)
    {
      if (self->save_due <= due)
        return;
      g_clear_handle_id (&self->save_id, g_source_remove);
    }
  self->save_due = due;
  self->save_id = g_timeout_add (delay_ms, save_cb, self);
}

/* Everything, now, on the main loop (a flush). */
static gboolean
save_sync (MgwBanList  *self,
           GError     **error)
{
  g_autoptr(GError) local = NULL;
  SaveJob *job;
  gboolean ok;

  g_clear_handle_id (&self->save_id, g_source_remove);
  job = save_job_new (self);
  save_job_build (job, 0);
  ok = mgw_file_replace (self->path, job->banned->str, job->banned->len, &local) &&
       mgw_file_replace (self->extra_path, job->extra->str, job->extra->len, &local);
  save_job_free (job);
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  self->dirty = FALSE;
  g_clear_pointer (&self->last_save_error, g_free);
  return TRUE;
}

gboolean
mgw_ban_list_flush (MgwBanList  *self,
                    GError     **error)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  if (self->path == NULL)
    return TRUE;
  /* A save being built is done over; one being written ends first, so
   * that it cannot land after this one. */
  if (self->build_id != 0)
    {
      g_clear_handle_id (&self->build_id, g_source_remove);
      g_clear_pointer (&self->job, save_job_free);
      self->dirty = TRUE;
    }
  while (self->writing)
    g_main_context_iteration (self->io_context, TRUE);
  if (!self->dirty)
    return TRUE;
  return save_sync (self, error);
}

gboolean
mgw_ban_list_get_saving (MgwBanList *self)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  return self->job != NULL || self->save_id != 0;
}

gint64
mgw_ban_list_get_longest_slice (MgwBanList *self,
                                gint64     *cpu)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), 0);

  if (cpu != NULL)
    *cpu = self->longest_slice_cpu;
  return self->longest_slice;
}

/* The cap */

static void
log_drops (MgwBanList *self)
{
  g_message ("The ban list is full (%u entries, [bans] max-entries): %" G_GUINT64_FORMAT
             " bans nearest expiry dropped (%" G_GUINT64_FORMAT " since start)",
             self->max_entries, self->drops_unlogged, self->n_dropped);
  self->drops_unlogged = 0;
}

static gboolean
drop_log_cb (gpointer user_data)
{
  MgwBanList *self = user_data;

  if (self->drops_unlogged == 0)
    {
      self->drop_log_id = 0;
      return G_SOURCE_REMOVE;
    }
  log_drops (self);
  return G_SOURCE_CONTINUE;
}

/* Said at once, then at most once a minute. */
static void
note_drops (MgwBanList *self,
            guint       n)
{
  self->n_dropped += n;
  self->drops_unlogged += n;
  if (self->drop_log_id != 0)
    return;
  log_drops (self);
  self->drop_log_id = g_timeout_add_seconds (DROP_LOG_INTERVAL_S, drop_log_cb, self);
}

/* Down to max-entries, the entries nearest expiry first, but `keep`
 * (the ban just made). Returns the keys of the bans dropped. */
static GPtrArray *
trim (MgwBanList *self,
      Table      *table,
      Entry      *keep)
{
  GPtrArray *dropped = g_ptr_array_new_with_free_func (g_free);

  while (g_hash_table_size (table->index) > self->max_entries)
    {
      GSequenceIter *first = g_sequence_get_begin_iter (table->order);
      Entry *victim = g_sequence_get (first);

      if (victim == keep)
        victim = g_sequence_get (g_sequence_iter_next (first));
      g_ptr_array_add (dropped, g_strdup (victim->address));
      table_remove (self, table, victim);
    }
  return dropped;
}

/* Trims both tables; the bans dropped are counted, logged and
 * signalled ("dropped"), remembered ones only forgotten. */
static void
enforce_cap (MgwBanList *self,
             Entry      *keep)
{
  g_autoptr(GPtrArray) dropped = trim (self, &self->bans, keep);
  g_autoptr(GPtrArray) forgotten = trim (self, &self->history, NULL);

  if (dropped->len == 0 && forgotten->len == 0)
    return;
  schedule_save (self, SAVE_DELAY_MS);
  if (dropped->len == 0)
    return;
  note_drops (self, dropped->len);
  for (guint i = 0; i < dropped->len; i++)
    g_signal_emit (self, signals[SIGNAL_UNBANNED], 0, dropped->pdata[i], "dropped");
}

/* GObject */

static void
mgw_ban_list_dispose (GObject *object)
{
  MgwBanList *self = MGW_BAN_LIST (object);
  g_autoptr(GError) error = NULL;

  if (!mgw_ban_list_flush (self, &error))
    g_warning ("Cannot save the ban list: %s", error->message);
  g_clear_handle_id (&self->save_id, g_source_remove);
  g_clear_handle_id (&self->build_id, g_source_remove);
  g_clear_handle_id (&self->io_poll_id, g_source_remove);
  g_clear_handle_id (&self->drop_log_id, g_source_remove);
  g_clear_pointer (&self->job, save_job_free);
  G_OBJECT_CLASS (mgw_ban_list_parent_class)->dispose (object);
}

static void
mgw_ban_list_finalize (GObject *object)
{
  MgwBanList *self = MGW_BAN_LIST (object);

  table_free (self, &self->bans);
  table_free (self, &self->history);
  g_ptr_array_unref (self->all);
  g_main_context_unref (self->io_context);
  g_free (self->path);
  g_free (self->extra_path);
  g_free (self->last_save_error);
  G_OBJECT_CLASS (mgw_ban_list_parent_class)->finalize (object);
}

static void
mgw_ban_list_class_init (MgwBanListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mgw_ban_list_dispose;
  object_class->finalize = mgw_ban_list_finalize;

  /* (const char *address, const char *reason): the key banned, an
   * address or an IPv6 prefix. */
  signals[SIGNAL_BANNED] =
    g_signal_new ("banned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /* (const char *address, const char *reason): "manual", "expired" or
   * "dropped" (the list was full). */
  signals[SIGNAL_UNBANNED] =
    g_signal_new ("unbanned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
mgw_ban_list_init (MgwBanList *self)
{
  table_init (&self->bans, ENTRY_BANNED);
  table_init (&self->history, ENTRY_REMEMBERED);
  self->all = g_ptr_array_new ();
  self->io_context = g_main_context_new ();
  self->duration = MGW_BAN_DEFAULT_DURATION;
  self->max_duration = MGW_BAN_DEFAULT_DURATION;
  self->ipv6_prefix = MGW_BAN_DEFAULT_IPV6_PREFIX;
  self->max_entries = MGW_BAN_DEFAULT_MAX_ENTRIES;
}

MgwBanList *
mgw_ban_list_new (const char   *path,
                  MgwClockFunc  clock,
                  gpointer      clock_data)
{
  MgwBanList *self = g_object_new (MGW_TYPE_BAN_LIST, NULL);

  self->path = g_strdup (path);
  if (path != NULL)
    self->extra_path = g_strconcat (path, ".extra.json", NULL);
  self->clock = clock;
  self->clock_data = clock_data;
  return self;
}

/* The order by expiry after a change of the configured durations. */
static void
resort (MgwBanList *self)
{
  g_sequence_sort (self->bans.order, expiry_compare, self);
  g_sequence_sort (self->history.order, expiry_compare, self);
}

void
mgw_ban_list_set_duration (MgwBanList *self,
                           gint64      duration_us)
{
  g_return_if_fail (MGW_IS_BAN_LIST (self));
  g_return_if_fail (duration_us > 0);

  if (self->duration == duration_us)
    return;
  self->duration = duration_us;
  resort (self);
}

void
mgw_ban_list_set_escalation (MgwBanList *self,
                             gboolean    escalate,
                             gint64      max_duration_us)
{
  g_return_if_fail (MGW_IS_BAN_LIST (self));
  g_return_if_fail (!escalate || max_duration_us > 0);

  self->escalate = escalate;
  if (escalate)
    self->max_duration = max_duration_us;
}

char *
mgw_ban_list_key (MgwBanList *self,
                  const char *address)
{
  Key key;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  if (strchr (address, '/') != NULL || !key_parse (address, self->ipv6_prefix, &key))
    return NULL;
  return g_strdup (key.text);
}

void
mgw_ban_list_set_ipv6_prefix (MgwBanList *self,
                              guint       prefix)
{
  g_return_if_fail (MGW_IS_BAN_LIST (self));
  g_return_if_fail (prefix >= MGW_BAN_MIN_IPV6_PREFIX && prefix <= 128);

  self->ipv6_prefix = prefix;
}

void
mgw_ban_list_set_max_entries (MgwBanList *self,
                              guint       max_entries)
{
  g_return_if_fail (MGW_IS_BAN_LIST (self));
  g_return_if_fail (max_entries >= 1 && max_entries <= MGW_BAN_MAX_MAX_ENTRIES);

  self->max_entries = max_entries;
  enforce_cap (self, NULL);
}

gsize
mgw_ban_list_get_file_limit (MgwBanList *self)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), 0);

  return (gsize) self->max_entries * MAX_BANNED_ENTRY + FILE_SLACK;
}

static gsize
extra_file_limit (MgwBanList *self)
{
  /* Bans and as many remembered ones. */
  return (gsize) self->max_entries * 2 * MAX_EXTRA_ENTRY + FILE_SLACK;
}

void
mgw_ban_list_set_exempt (MgwBanList    *self,
                         MgwAddressSet *never_ban,
                         MgwAddressSet *local)
{
  g_return_if_fail (MGW_IS_BAN_LIST (self));

  self->never_ban = never_ban;
  self->local = local;
}

/* Loading */

static void
clear_entries (MgwBanList *self)
{
  table_clear (self, &self->bans);
  table_clear (self, &self->history);
  g_clear_handle_id (&self->save_id, g_source_remove);
  self->dirty = FALSE;
}

/* What g_file_replace_contents_async () left in the directory of
 * `path` when the daemon stopped during a write. */
static void
remove_gio_temporaries (const char *path)
{
  g_autofree char *dir_name = g_path_get_dirname (path);
  g_autoptr(GDir) dir = g_dir_open (dir_name, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = NULL;
      GStatBuf st;

      if (!g_str_has_prefix (name, GIO_TEMPORARY_PREFIX))
        continue;
      child = g_build_filename (dir_name, name, NULL);
      if (g_lstat (child, &st) == 0 && S_ISREG (st.st_mode))
        g_unlink (child);
    }
}

/* Renames a corrupt banned.json to "<path>.corrupt-YYYYMMDD-HHMMSS" (with
 * "-N" if that exists) and starts empty. */
static gboolean
move_aside (MgwBanList  *self,
            const char  *problem,
            GError     **error)
{
  g_autofree char *stamp = format_local (now_us (self), "%Y%m%d-%H%M%S");
  g_autofree char *aside = g_strdup_printf ("%s.corrupt-%s", self->path, stamp);

  for (guint n = 1; g_file_test (aside, G_FILE_TEST_EXISTS) && n < 1000; n++)
    {
      g_free (aside);
      aside = g_strdup_printf ("%s.corrupt-%s-%u", self->path, stamp, n);
    }
  if (g_rename (self->path, aside) != 0)
    {
      int saved_errno = errno;

      /* Not moved aside, it would be overwritten by the next save. */
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("The ban list %s is corrupt (%s) and cannot be renamed to %s: %s"),
                   self->path, problem, aside, g_strerror (saved_errno));
      return FALSE;
    }
  g_warning ("The ban list %s is corrupt (%s): renamed to %s, starting with no bans",
             self->path, problem, aside);
  clear_entries (self);
  return TRUE;
}

/* A sidecar entry's reason, count and duration into `entry` (those
 * present; *bad when one is not understood). */
static void
read_sidecar_fields (JsonObject *fields,
                     Entry      *entry,
                     gboolean   *bad)
{
  JsonNode *field = json_object_get_member (fields, "reason");

  if (field != NULL && json_node_get_value_type (field) == G_TYPE_STRING)
    {
      g_free (entry->reason);
      entry->reason = reason_bounded (json_node_get_string (field));
    }
  else if (field != NULL)
    *bad = TRUE;

  field = json_object_get_member (fields, "count");
  if (field != NULL && json_node_get_value_type (field) == G_TYPE_INT64 &&
      json_node_get_int (field) >= 1 && json_node_get_int (field) <= G_MAXUINT)
    entry->count = (guint) json_node_get_int (field);
  else if (field != NULL)
    *bad = TRUE;

  field = json_object_get_member (fields, "duration");
  if (field != NULL &&
      (json_node_get_value_type (field) == G_TYPE_INT64 ||
       json_node_get_value_type (field) == G_TYPE_DOUBLE) &&
      json_node_get_double (field) > 0 &&
      json_node_get_double (field) < 1e12)
    entry->duration = (gint64) (json_node_get_double (field) * G_USEC_PER_SEC);
  else if (field != NULL)
    *bad = TRUE;
}

static void
load_extra (MgwBanList *self,
            GTimeZone  *zone)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GList) members = NULL;
  GStatBuf st;
  JsonNode *root;
  JsonObject *object;
  gboolean bad = FALSE;
  gsize len;

  if (g_lstat (self->extra_path, &st) != 0)
    {
      int saved_errno = errno;

      if (saved_errno != ENOENT)
        g_warning ("%s: %s, ignored (default reasons and durations)",
                   self->extra_path, g_strerror (saved_errno));
      return;
    }
  if ((guint64) st.st_size > extra_file_limit (self))
    {
      g_warning ("%s: bigger than %" G_GSIZE_FORMAT " bytes, the most %u bans write, "
                 "ignored (default reasons and durations)",
                 self->extra_path, extra_file_limit (self), self->max_entries);
      return;
    }
  if (!mgw_file_get_contents_max (self->extra_path, extra_file_limit (self), MGW_FILE_NO_SYMLINK,
                                  &data, &len, &error) ||
      !json_parser_load_from_data (parser, data, (gssize) len, &error))
    {
      g_autoptr(GError) named = NULL;

      mgw_error_set_in_file (&named, self->extra_path, error);
      g_warning ("%s, ignored (default reasons and durations)", named->message);
      return;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_warning ("%s: not a JSON object, ignored (default reasons and durations)",
                 self->extra_path);
      return;
    }

  object = json_node_get_object (root);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);
      Key key;
      JsonObject *fields;
      JsonNode *field;
      Entry *entry;
      gboolean active;
      const char *since_text = NULL;
      gint64 since = 0;

      if (!key_parse (l->data, self->ipv6_prefix, &key) || !JSON_NODE_HOLDS_OBJECT (node))
        {
          bad = TRUE;
          continue;
        }
      fields = json_node_get_object (node);
      entry = table_lookup (&self->bans, &key);
      field = json_object_get_member (fields, "since");
      if (field != NULL)
        {
          since_text = json_node_get_value_type (field) == G_TYPE_STRING ?
                       json_node_get_string (field) : NULL;
          if (since_text == NULL || !parse_stamp (since_text, zone, &since))
            {
              bad = TRUE;
              continue;
            }
        }
      field = json_object_get_member (fields, "banned");
      active = field != NULL && json_node_get_value_type (field) == G_TYPE_BOOLEAN &&
               json_node_get_boolean (field);
      if (entry == NULL)
        {
          /* An expired ban remembered for escalation. A ban in force
           * that banned.json (written first) no longer has, or one
           * without "since" (the original's), has ended. */
          g_autoptr(Entry) remembered = NULL;

          if (since_text == NULL || active || table_lookup (&self->history, &key) != NULL)
            continue;
          remembered = entry_new (self, &key);
          remembered->since = since;
          if (strlen (since_text) <= MAX_STAMP)
            remembered->stamp = g_strdup (since_text);
          entry = g_steal_pointer (&remembered);
          read_sidecar_fields (fields, entry, &bad);
          table_add (self, &self->history, entry);
          continue;
        }
      else if (since_text != NULL && !active)
        {
          /* Remembered as expired, banned again since: the sidecar is one
           * save behind this ban. Its count and escalation carry on, its
           * reason is not this ban's. */
          Entry previous = { 0 };

          read_sidecar_fields (fields, &previous, &bad);
          g_free (previous.reason);
          if (previous.count > 0 && previous.count < G_MAXUINT)
            entry->count = previous.count + 1;
          entry->duration = escalated (self, entry_duration (self, &previous));
          table_moved (self, entry);
          continue;
        }
      else if (since_text != NULL && since > entry->since)
        {
          /* Ahead of banned.json, written first: not from our saves. */
          bad = TRUE;
          continue;
        }
      /* Else this ban, its start the same or since moved by an attempt
       * while banned (banned.json's "since" moves then, not the count). */
      read_sidecar_fields (fields, entry, &bad);
      table_moved (self, entry);
    }
  if (bad)
    g_warning ("%s: some entries are not understood, defaults used for them",
               self->extra_path);
}

gboolean
mgw_ban_list_load (MgwBanList  *self,
                   GError     **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GTimeZone) zone = NULL;
  g_autoptr(GList) members = NULL;
  GStatBuf st;
  JsonNode *root;
  JsonObject *object;
  gsize len, limit;
  guint n_read;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  if (self->path == NULL)
    return TRUE;

  /* What a crash during a save left. */
  mgw_file_remove_temporaries (self->path);
  mgw_file_remove_temporaries (self->extra_path);
  remove_gio_temporaries (self->path);
  if (g_lstat (self->path, &st) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        {
          clear_entries (self);
          return TRUE;
        }
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("Cannot read the ban list %s: %s"),
                   self->path, g_strerror (saved_errno));
      return FALSE;
    }
  /* Our own file: a link put in its place is not followed (it could
   * point at a file of root's, and quote it in the log). */
  if (S_ISLNK (st.st_mode))
    return move_aside (self, "a symbolic link, not followed", error);
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("Cannot read the ban list %s: %s"), self->path,
                   S_ISDIR (st.st_mode) ? _("it is a directory") : _("not a regular file"));
      return FALSE;
    }
  limit = mgw_ban_list_get_file_limit (self);
  if ((guint64) st.st_size > limit)
    {
      g_autofree char *problem =
        g_strdup_printf ("bigger than %" G_GSIZE_FORMAT " bytes, the most %u bans write; "
                         "[bans] max-entries sets that", limit, self->max_entries);
      return move_aside (self, problem, error);
    }
  if (!mgw_file_get_contents_max (self->path, limit, MGW_FILE_NO_SYMLINK,
                                  &data, &len, &local))
    {
      if (g_error_matches (local, MGW_ERROR, MGW_ERROR_CONFIG))   /* swapped, grown */
        return move_aside (self, local->message, error);
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("Cannot read the ban list: %s"),
                   local->message);
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local))
    {
      g_autofree char *problem = mgw_error_describe (local);
      return move_aside (self, problem, error);
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    return move_aside (self, "empty file", error);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return move_aside (self, "not a JSON object", error);

  clear_entries (self);
  zone = g_time_zone_new_local ();
  object = json_node_get_object (root);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *value = json_object_get_member (object, key);
      Key parsed;
      const char *address = parsed.text;
      Entry *existing;
      Entry *entry;
      const char *text;
      gint64 since;

      if (!key_parse (key, self->ipv6_prefix, &parsed))
        {
          g_autofree char *shown = mgw_error_escape (key, strlen (key));
          g_warning ("%s: \"%s\" is not an IP address or IPv6 prefix, entry ignored",
                     self->path, shown);
          continue;
        }
      if (json_node_get_value_type (value) != G_TYPE_STRING)
        {
          g_warning ("%s: the timestamp of %s is not a string, entry ignored",
                     self->path, address);
          continue;
        }
      text = json_node_get_string (value);
      if (!parse_stamp (text, zone, &since))
        {
          g_autofree char *shown = mgw_error_escape (text, strlen (text));
          g_warning ("%s: the timestamp of %s, \"%s\", is not a date, entry ignored",
                     self->path, address, shown);
          continue;
        }
      /* "::ffff:192.0.2.7" and "192.0.2.7" are one address, as are
       * addresses of one IPv6 prefix: the latest wins. */
      existing = table_lookup (&self->bans, &parsed);
      if (existing != NULL && existing->since >= since)
        continue;
      if (existing != NULL)
        table_remove (self, &self->bans, existing);
      entry = entry_new (self, &parsed);
      entry->since = since;
      if (strlen (text) <= MAX_STAMP)
        entry->stamp = g_strdup (text);
      table_add (self, &self->bans, entry);
    }
  load_extra (self, zone);
  n_read = g_hash_table_size (self->bans.index);
  if (n_read > self->max_entries)
    g_message ("%s: %u bans, more than [bans] max-entries (%u): the %u nearest expiry dropped",
               self->path, n_read, self->max_entries, n_read - self->max_entries);
  enforce_cap (self, NULL);
  return TRUE;
}

/* Changes */

static gboolean
exempt (MgwBanList *self,
        const char *address,
        GError    **error)
{
  if (self->never_ban != NULL && mgw_address_set_contains (self->never_ban, address))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("%s is never banned (neverbanned.json)"), address);
      return TRUE;
    }
  if (self->local != NULL && mgw_address_set_contains (self->local, address))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("%s is an address of this machine, never banned"), address);
      return TRUE;
    }
  return FALSE;
}

/* Ends an expired ban; the caller saves and emits. */
static void
expire (MgwBanList *self,
        Entry      *entry)
{
  table_take (self, &self->bans, entry);
  self->n_unbans++;
  g_message ("Ban of %s expired", entry->address);
  if (self->escalate)
    {
      table_add (self, &self->history, entry);
      enforce_cap (self, NULL);
    }
  else
    entry_unref (entry);
}

/* The address parsed; NULL, error set, for text that is not an
 * address. */
static GInetAddress *
parse_address (const char  *address,
               GError     **error)
{
  GInetAddress *inet = address != NULL ? mgw_address_parse (address) : NULL;

  if (inet == NULL)
    g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("“%s” is not an IP address"),
                 address != NULL ? address : "(null)");
  return inet;
}

gboolean
mgw_ban_list_check (MgwBanList *self,
                    const char *address)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *key = NULL;
  Entry *entry;
  gint64 now;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  inet = address != NULL ? mgw_address_parse (address) : NULL;
  if (inet == NULL)
    return FALSE;
  entry = table_covering (&self->bans, inet);
  if (entry == NULL)
    return FALSE;
  now = now_us (self);
  if (entry_expired (self, entry, now))
    {
      key = g_strdup (entry->address);
      expire (self, entry);
      schedule_save (self, SAVE_DELAY_MS);
      g_signal_emit (self, signals[SIGNAL_UNBANNED], 0, key, "expired");
      return FALSE;
    }
  /* Never banned, even inside a banned prefix; or added to
   * neverbanned.json since: let it in, the entry expires. */
  canonical = g_inet_address_to_string (inet);
  if (exempt (self, canonical, NULL))
    return FALSE;
  entry->since = now;
  g_clear_pointer (&entry->stamp, g_free);
  table_moved (self, entry);
  schedule_save (self, RENEW_SAVE_DELAY_MS);
  return TRUE;
}

gboolean
mgw_ban_list_ban (MgwBanList  *self,
                  const char  *address,
                  const char  *reason,
                  const char  *rule,
                  GError     **error)
{
  return mgw_ban_list_ban_for (self, address, reason, rule, 0, NULL, error);
}

/* As mgw_ban_list_ban(), for `duration_us` instead of the configured
 * duration (and without escalation) when it is not 0; `banned`, when not
 * NULL, is set to what was banned: the address, or its IPv6 prefix. */
gboolean
mgw_ban_list_ban_for (MgwBanList  *self,
                      const char  *address,
                      const char  *reason,
                      const char  *rule,
                      gint64       duration_us,
                      char       **banned,
                      GError     **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *duration_text = NULL;
  Entry *entry;
  gint64 previous = 0;
  Key key;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  inet = parse_address (address, error);
  if (inet == NULL)
    return FALSE;
  canonical = g_inet_address_to_string (inet);
  /* Here only, not in exempt (): the refusal of a banned address, the hot
   * path, need not parse it again. */
  if (!mgw_address_is_peer (canonical))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("%s cannot be a user's address (unspecified, broadcast or multicast)"),
                   canonical);
      return FALSE;
    }
  /* The address itself, never its prefix: an address never banned is
   * not banned at all, not even alone. */
  if (exempt (self, canonical, error))
    return FALSE;

  key_for (inet, self->ipv6_prefix, &key);
  entry = table_lookup (&self->bans, &key);
  if (entry != NULL)
    {
      previous = entry_duration (self, entry);
      entry->count++;
    }
  else
    {
      entry = table_lookup (&self->history, &key);
      if (entry != NULL)
        {
          table_take (self, &self->history, entry);
          previous = entry_duration (self, entry);
          entry->count++;
        }
      else
        entry = entry_new (self, &key);
      table_add (self, &self->bans, entry);
    }

  entry->duration = duration_us > 0 ? duration_us : escalated (self, previous);
  entry->since = now_us (self);
  g_clear_pointer (&entry->stamp, g_free);
  g_free (entry->reason);
  entry->reason = reason_bounded (reason);
  table_moved (self, entry);
  self->n_bans++;
  schedule_save (self, SAVE_DELAY_MS);

  duration_text = format_duration (entry_duration (self, entry));
  if (strcmp (entry->address, canonical) == 0)
    g_message ("Banned %s for %s: %s (rule: %s, ban #%u)", entry->address, duration_text,
               entry->reason, rule != NULL ? rule : "none", entry->count);
  else
    g_message ("Banned %s for %s: %s, from %s (rule: %s, ban #%u)", entry->address,
               duration_text, entry->reason, canonical, rule != NULL ? rule : "none", entry->count);
  if (banned != NULL)
    *banned = g_strdup (entry->address);
  g_signal_emit (self, signals[SIGNAL_BANNED], 0, entry->address, entry->reason);
  enforce_cap (self, entry);
  return TRUE;
}

/* address: an address (the ban covering it goes) or a key as listed
 * ("2001:db8::/64"). */
gboolean
mgw_ban_list_unban (MgwBanList  *self,
                    const char  *address,
                    GError     **error)
{
  g_autofree char *key = NULL;
  Entry *entry = NULL;
  Key parsed;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  if (address != NULL && strchr (address, '/') != NULL)
    {
      if (!key_parse (address, 128, &parsed))
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                       _("“%s” is not an IP address or IPv6 prefix"), address);
          return FALSE;
        }
      entry = table_lookup (&self->bans, &parsed);
    }
  else
    {
      g_autoptr(GInetAddress) inet = parse_address (address, error);

      if (inet == NULL)
        return FALSE;
      entry = table_covering (&self->bans, inet);
    }
  if (entry == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("%s is not banned"), address);
      return FALSE;
    }
  key = g_strdup (entry->address);
  /* Forgiven: not remembered for escalation either. */
  table_remove (self, &self->bans, entry);
  self->n_unbans++;
  schedule_save (self, SAVE_DELAY_MS);
  g_message ("Unbanned %s", key);
  g_signal_emit (self, signals[SIGNAL_UNBANNED], 0, key, "manual");
  return TRUE;
}

guint
mgw_ban_list_sweep (MgwBanList *self)
{
  g_autoptr(GPtrArray) expired = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_unref);
  gboolean forgot = FALSE;
  Entry *entry;
  gint64 now;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), 0);

  now = now_us (self);
  /* Both in order of expiry: the first still in force ends the walk. */
  while ((entry = table_first (&self->history)) != NULL && history_stale (self, entry, now))
    {
      table_remove (self, &self->history, entry);
      forgot = TRUE;
    }
  while ((entry = table_first (&self->bans)) != NULL && entry_expired (self, entry, now))
    {
      g_ptr_array_add (expired, entry_ref (entry));
      table_remove (self, &self->bans, entry);
    }
  /* In address order, for the log and the signals. */
  g_ptr_array_sort (expired, entry_compare);
  for (guint i = 0; i < expired->len; i++)
    {
      entry = expired->pdata[i];
      self->n_unbans++;
      g_message ("Ban of %s expired", entry->address);
      if (self->escalate)
        table_add (self, &self->history, entry_ref (entry));
    }
  if (self->escalate)
    enforce_cap (self, NULL);
  if (expired->len > 0 || forgot)
    schedule_save (self, SAVE_DELAY_MS);
  for (guint i = 0; i < expired->len; i++)
    g_signal_emit (self, signals[SIGNAL_UNBANNED], 0, ((Entry *) expired->pdata[i])->address,
                   "expired");
  return expired->len;
}

GPtrArray *
mgw_ban_list_list (MgwBanList *self)
{
  g_autoptr(GPtrArray) entries = NULL;
  GPtrArray *list;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), NULL);

  entries = sorted_entries (&self->bans);
  list = g_ptr_array_new_full (entries->len, (GDestroyNotify) mgw_ban_free);
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = entries->pdata[i];
      MgwBan *ban = g_new0 (MgwBan, 1);

      ban->address = g_strdup (entry->address);
      ban->since = entry->since;
      ban->expiry = entry_expiry (self, entry);
      ban->reason = g_strdup (entry->reason != NULL ? entry->reason : UNKNOWN_REASON);
      ban->count = entry->count;
      g_ptr_array_add (list, ban);
    }
  return list;
}

/* What bans `address` now, without renewing it: the key ("2001:db8::/64",
 * "192.0.2.7"), or NULL. */
char *
mgw_ban_list_lookup (MgwBanList *self,
                     const char *address)
{
  g_autoptr(GInetAddress) inet = NULL;
  Entry *entry;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), NULL);

  inet = address != NULL ? mgw_address_parse (address) : NULL;
  if (inet == NULL)
    return NULL;
  entry = table_covering (&self->bans, inet);
  return entry != NULL ? g_strdup (entry->address) : NULL;
}

guint
mgw_ban_list_get_size (MgwBanList *self)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), 0);

  return g_hash_table_size (self->bans.index);
}

guint64
mgw_ban_list_get_bans (MgwBanList *self)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), 0);

  return self->n_bans;
}

guint64
mgw_ban_list_get_unbans (MgwBanList *self)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), 0);

  return self->n_unbans;
}

guint64
mgw_ban_list_get_dropped (MgwBanList *self)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), 0);

  return self->n_dropped;
}
