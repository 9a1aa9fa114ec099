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
 * Every change marks the list dirty and schedules one write a little
 * later, so a burst of bans costs one write; each write replaces the file
 * atomically (temporary file, fsync, rename). A corrupt banned.json at
 * load time is reported and renamed aside, never overwritten. */
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

#define MAX_FILE_SIZE        (16 * 1024 * 1024)
#define SAVE_DELAY_MS        200     /* after a ban, an unban, an expiry */
#define RENEW_SAVE_DELAY_MS  5000    /* after a ban was only renewed */
#define RETRY_SAVE_DELAY_MS  30000   /* after a failed write */
#define STAMP_FORMAT         "%Y-%m-%dT%H:%M:%S.%f"
#define UNKNOWN_REASON       "unknown"

typedef struct
{
  char   *address;    /* canonical text */
  guint8  bytes[16];  /* for sorting */
  gsize   size;       /* 4 or 16 */
  gint64  since;
  gint64  duration;   /* 0: the list's configured duration */
  char   *reason;     /* NULL: unknown */
  guint   count;
  char   *stamp;      /* the text read for since; NULL once since changed */
} Entry;

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
  MgwAddressSet *never_ban;    /* borrowed */
  MgwAddressSet *local;        /* borrowed */

  GHashTable    *bans;         /* address -> Entry: banned */
  GHashTable    *history;      /* address -> Entry: expired, remembered */

  gboolean       dirty;
  guint          save_id;
  gint64         save_due;     /* monotonic µs */
  char          *last_save_error;

  guint64        n_bans;
  guint64        n_unbans;
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
entry_free (Entry *entry)
{
  g_free (entry->address);
  g_free (entry->reason);
  g_free (entry->stamp);
  g_free (entry);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Entry, entry_free)

/* address: canonical text (from mgw_address_normalize). */
static Entry *
entry_new (const char *address)
{
  g_autoptr(GInetAddress) parsed = g_inet_address_new_from_string (address);
  Entry *entry = g_new0 (Entry, 1);

  entry->address = g_strdup (address);
  entry->count = 1;
  if (parsed != NULL)
    {
      entry->size = g_inet_address_get_native_size (parsed);
      memcpy (entry->bytes, g_inet_address_to_bytes (parsed), entry->size);
    }
  return entry;
}

static GHashTable *
entry_table_new (void)
{
  /* The key is the entry's own address. */
  return g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                (GDestroyNotify) entry_free);
}

static void
table_insert (GHashTable *table,
              Entry      *entry)
{
  g_hash_table_replace (table, entry->address, entry);
}

static Entry *
table_steal (GHashTable *table,
             const char *address)
{
  gpointer key, value;

  if (!g_hash_table_steal_extended (table, address, &key, &value))
    return NULL;
  return value;
}

static gint
entry_compare (gconstpointer a,
               gconstpointer b)
{
  const Entry *x = *(Entry * const *) a;
  const Entry *y = *(Entry * const *) b;

  if (x->size != y->size)
    return x->size < y->size ? -1 : 1;
  if (x->size == 0)
    return strcmp (x->address, y->address);
  return memcmp (x->bytes, y->bytes, x->size);
}

/* Of Entry, not owned, sorted by address. */
static GPtrArray *
sorted_entries (GHashTable *table)
{
  GPtrArray *array = g_ptr_array_sized_new (g_hash_table_size (table));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (array, value);
  g_ptr_array_sort (array, entry_compare);
  return array;
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

/* As the original writes it (Python's json.dump). */
static GString *
build_banned (MgwBanList *self)
{
  g_autoptr(GPtrArray) entries = sorted_entries (self->bans);
  GString *out = g_string_new ("{");

  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = entries->pdata[i];
      g_autofree char *stamp = entry_stamp (entry);

      if (i > 0)
        g_string_append (out, ", ");
      append_json_string (out, entry->address);
      g_string_append (out, ": ");
      append_json_string (out, stamp);
    }
  g_string_append_c (out, '}');
  return out;
}

static void
build_extra_entries (JsonBuilder *builder,
                     GHashTable  *table,
                     gboolean     remembered)
{
  g_autoptr(GPtrArray) entries = sorted_entries (table);

  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = entries->pdata[i];

      json_builder_set_member_name (builder, entry->address);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, entry->reason != NULL ? entry->reason
                                                                   : UNKNOWN_REASON);
      json_builder_set_member_name (builder, "count");
      json_builder_add_int_value (builder, entry->count);
      if (entry->duration > 0)
        {
          json_builder_set_member_name (builder, "duration");
          json_builder_add_double_value (builder, (double) entry->duration / G_USEC_PER_SEC);
        }
      {
        g_autofree char *stamp = entry_stamp (entry);

        json_builder_set_member_name (builder, "since");
        json_builder_add_string_value (builder, stamp);
      }
      if (!remembered)
        {
          json_builder_set_member_name (builder, "banned");
          json_builder_add_boolean_value (builder, TRUE);
        }
      json_builder_end_object (builder);
    }
}

static char *
build_extra (MgwBanList *self,
             gsize      *len)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  build_extra_entries (builder, self->bans, FALSE);
  build_extra_entries (builder, self->history, TRUE);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, len);
}

static gboolean
write_files (MgwBanList  *self,
             GError     **error)
{
  g_autoptr(GString) banned = build_banned (self);
  g_autofree char *extra = NULL;
  gsize extra_len;

  /* banned.json first: the sidecar is at most one save behind it, which
   * the reading rule expects (see load_extra ()). */
  if (!mgw_file_replace (self->path, banned->str, banned->len, error))
    return FALSE;
  extra = build_extra (self, &extra_len);
  return mgw_file_replace (self->extra_path, extra, extra_len, error);
}

static void schedule_save (MgwBanList *self,
                           guint       delay_ms);

static gboolean
save_now (MgwBanList  *self,
          GError     **error)
{
  g_clear_handle_id (&self->save_id, g_source_remove);
  if (!write_files (self, error))
    return FALSE;
  self->dirty = FALSE;
  g_clear_pointer (&self->last_save_error, g_free);
  return TRUE;
}

static gboolean
save_cb (gpointer user_data)
{
  MgwBanList *self = user_data;
  g_autoptr(GError) error = NULL;

  self->save_id = 0;
  if (!save_now (self, &error))
    {
      /* Said once per distinct failure; tried again later. */
      if (g_strcmp0 (self->last_save_error, error->message) != 0)
        {
          g_warning ("Cannot save the ban list: %s", error->message);
          g_free (self->last_save_error);
          self->last_save_error = g_strdup (error->message);
        }
      schedule_save (self, RETRY_SAVE_DELAY_MS);
    }
  return G_SOURCE_REMOVE;
}

/* Marks the list changed and makes sure a write happens within delay_ms. */
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

gboolean
mgw_ban_list_flush (MgwBanList  *self,
                    GError     **error)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  if (self->path == NULL || !self->dirty)
    return TRUE;
  return save_now (self, error);
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
  G_OBJECT_CLASS (mgw_ban_list_parent_class)->dispose (object);
}

static void
mgw_ban_list_finalize (GObject *object)
{
  MgwBanList *self = MGW_BAN_LIST (object);

  g_hash_table_unref (self->bans);
  g_hash_table_unref (self->history);
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

  /* (const char *address, const char *reason) */
  signals[SIGNAL_BANNED] =
    g_signal_new ("banned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /* (const char *address, const char *reason): "manual" or "expired". */
  signals[SIGNAL_UNBANNED] =
    g_signal_new ("unbanned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
mgw_ban_list_init (MgwBanList *self)
{
  self->bans = entry_table_new ();
  self->history = entry_table_new ();
  self->duration = MGW_BAN_DEFAULT_DURATION;
  self->max_duration = MGW_BAN_DEFAULT_DURATION;
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

void
mgw_ban_list_set_duration (MgwBanList *self,
                           gint64      duration_us)
{
  g_return_if_fail (MGW_IS_BAN_LIST (self));
  g_return_if_fail (duration_us > 0);

  self->duration = duration_us;
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
  g_hash_table_remove_all (self->bans);
  g_hash_table_remove_all (self->history);
  g_clear_handle_id (&self->save_id, g_source_remove);
  self->dirty = FALSE;
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
      entry->reason = g_strdup (json_node_get_string (field));
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
  if (st.st_size > MAX_FILE_SIZE)
    {
      g_warning ("%s: bigger than %d bytes, ignored (default reasons and durations)",
                 self->extra_path, MAX_FILE_SIZE);
      return;
    }
  if (!mgw_file_get_contents_max (self->extra_path, MAX_FILE_SIZE, MGW_FILE_NO_SYMLINK,
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
      g_autofree char *address = mgw_address_normalize (l->data);
      JsonNode *node = json_object_get_member (object, l->data);
      JsonObject *fields;
      JsonNode *field;
      Entry *entry;
      gboolean active;
      const char *since_text = NULL;
      gint64 since = 0;

      if (address == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        {
          bad = TRUE;
          continue;
        }
      fields = json_node_get_object (node);
      entry = g_hash_table_lookup (self->bans, address);
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

          if (since_text == NULL || active)
            continue;
          remembered = entry_new (address);
          remembered->since = since;
          remembered->stamp = g_strdup (since_text);
          entry = g_steal_pointer (&remembered);
          table_insert (self->history, entry);
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
  gsize len;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  if (self->path == NULL)
    return TRUE;

  /* What a crash during a save left. */
  mgw_file_remove_temporaries (self->path);
  mgw_file_remove_temporaries (self->extra_path);
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
  if (st.st_size > MAX_FILE_SIZE)
    return move_aside (self, "bigger than 16 MiB", error);
  if (!mgw_file_get_contents_max (self->path, MAX_FILE_SIZE, MGW_FILE_NO_SYMLINK,
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
      g_autofree char *address = mgw_address_normalize (key);
      Entry *existing;
      Entry *entry;
      const char *text;
      gint64 since;

      if (address == NULL)
        {
          g_autofree char *shown = mgw_error_escape (key, strlen (key));
          g_warning ("%s: \"%s\" is not an IP address, entry ignored", self->path, shown);
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
      /* "::ffff:192.0.2.7" and "192.0.2.7" are one address: the latest wins. */
      existing = g_hash_table_lookup (self->bans, address);
      if (existing != NULL && existing->since >= since)
        continue;
      entry = entry_new (address);
      entry->since = since;
      entry->stamp = g_strdup (text);
      table_insert (self->bans, entry);
    }
  load_extra (self, zone);
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

/* Ends an expired ban (its key: address); the caller saves and emits. */
static void
expire (MgwBanList *self,
        const char *address)
{
  Entry *entry = table_steal (self->bans, address);

  g_return_if_fail (entry != NULL);
  self->n_unbans++;
  g_message ("Ban of %s expired", entry->address);
  if (self->escalate)
    table_insert (self->history, entry);
  else
    entry_free (entry);
}

static Entry *
lookup (GHashTable  *table,
        const char  *address,
        char       **canonical)
{
  Entry *entry = g_hash_table_lookup (table, address);

  if (entry != NULL || canonical == NULL)
    return entry;
  *canonical = mgw_address_normalize (address);
  if (*canonical == NULL || strcmp (*canonical, address) == 0)
    return NULL;
  return g_hash_table_lookup (table, *canonical);
}

/* The address in the form the tables use; NULL, error set, for text that
 * is not an address. */
static char *
canonical_address (const char  *address,
                   GError     **error)
{
  char *canonical = address != NULL ? mgw_address_normalize (address) : NULL;

  if (canonical == NULL)
    g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("“%s” is not an IP address"),
                 address != NULL ? address : "(null)");
  return canonical;
}

gboolean
mgw_ban_list_check (MgwBanList *self,
                    const char *address)
{
  g_autofree char *canonical = NULL;
  g_autofree char *key = NULL;
  Entry *entry;
  gint64 now;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  if (address == NULL)
    return FALSE;
  entry = lookup (self->bans, address, &canonical);
  if (entry == NULL)
    return FALSE;
  now = now_us (self);
  if (entry_expired (self, entry, now))
    {
      key = g_strdup (entry->address);
      expire (self, key);
      schedule_save (self, SAVE_DELAY_MS);
      g_signal_emit (self, signals[SIGNAL_UNBANNED], 0, key, "expired");
      return FALSE;
    }
  /* Added to neverbanned.json since: let it in, the entry expires. */
  if (exempt (self, entry->address, NULL))
    return FALSE;
  entry->since = now;
  g_clear_pointer (&entry->stamp, g_free);
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
  return mgw_ban_list_ban_for (self, address, reason, rule, 0, error);
}

/* As mgw_ban_list_ban(), for `duration_us` instead of the configured
 * duration (and without escalation) when it is not 0. */
gboolean
mgw_ban_list_ban_for (MgwBanList  *self,
                      const char  *address,
                      const char  *reason,
                      const char  *rule,
                      gint64       duration_us,
                      GError     **error)
{
  g_autofree char *canonical = NULL;
  g_autofree char *duration_text = NULL;
  Entry *entry;
  gint64 previous = 0;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  canonical = canonical_address (address, error);
  if (canonical == NULL)
    return FALSE;
  /* Here only, not in exempt (): the refusal of a banned address, the hot
   * path, need not parse it again. */
  if (!mgw_address_is_peer (canonical))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("%s cannot be a user's address (unspecified, broadcast or multicast)"),
                   canonical);
      return FALSE;
    }
  if (exempt (self, canonical, error))
    return FALSE;

  entry = g_hash_table_lookup (self->bans, canonical);
  if (entry != NULL)
    {
      previous = entry_duration (self, entry);
      entry->count++;
    }
  else
    {
      entry = table_steal (self->history, canonical);
      if (entry != NULL)
        {
          previous = entry_duration (self, entry);
          entry->count++;
        }
      else
        entry = entry_new (canonical);
      table_insert (self->bans, entry);
    }

  entry->duration = duration_us > 0 ? duration_us : escalated (self, previous);
  entry->since = now_us (self);
  g_clear_pointer (&entry->stamp, g_free);
  g_free (entry->reason);
  entry->reason = g_strdup (reason != NULL ? reason : UNKNOWN_REASON);
  self->n_bans++;
  schedule_save (self, SAVE_DELAY_MS);

  duration_text = format_duration (entry_duration (self, entry));
  g_message ("Banned %s for %s: %s (rule: %s, ban #%u)", canonical, duration_text,
             entry->reason, rule != NULL ? rule : "none", entry->count);
  g_signal_emit (self, signals[SIGNAL_BANNED], 0, canonical,
                 reason != NULL ? reason : UNKNOWN_REASON);
  return TRUE;
}

gboolean
mgw_ban_list_unban (MgwBanList  *self,
                    const char  *address,
                    GError     **error)
{
  g_autofree char *canonical = NULL;
  g_autofree char *key = NULL;
  Entry *entry;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), FALSE);

  canonical = canonical_address (address, error);
  if (canonical == NULL)
    return FALSE;
  entry = g_hash_table_lookup (self->bans, canonical);
  if (entry == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("%s is not banned"),
                   address != NULL ? address : "(null)");
      return FALSE;
    }
  key = g_strdup (entry->address);
  /* Forgiven: not remembered for escalation either. */
  g_hash_table_remove (self->bans, key);
  self->n_unbans++;
  schedule_save (self, SAVE_DELAY_MS);
  g_message ("Unbanned %s", key);
  g_signal_emit (self, signals[SIGNAL_UNBANNED], 0, key, "manual");
  return TRUE;
}

guint
mgw_ban_list_sweep (MgwBanList *self)
{
  g_autoptr(GPtrArray) expired = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) entries = NULL;
  GHashTableIter iter;
  gpointer value;
  gboolean forgot = FALSE;
  gint64 now;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), 0);

  now = now_us (self);
  g_hash_table_iter_init (&iter, self->history);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (history_stale (self, value, now))
      {
        g_hash_table_iter_remove (&iter);
        forgot = TRUE;
      }
  entries = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, self->bans);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (entry_expired (self, value, now))
      g_ptr_array_add (entries, value);
  /* In address order, for the log and the signals. */
  g_ptr_array_sort (entries, entry_compare);
  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (expired, g_strdup (((Entry *) entries->pdata[i])->address));
  for (guint i = 0; i < expired->len; i++)
    expire (self, expired->pdata[i]);
  if (expired->len > 0 || forgot)
    schedule_save (self, SAVE_DELAY_MS);
  for (guint i = 0; i < expired->len; i++)
    g_signal_emit (self, signals[SIGNAL_UNBANNED], 0, expired->pdata[i], "expired");
  return expired->len;
}

GPtrArray *
mgw_ban_list_list (MgwBanList *self)
{
  g_autoptr(GPtrArray) entries = NULL;
  GPtrArray *list;

  g_return_val_if_fail (MGW_IS_BAN_LIST (self), NULL);

  entries = sorted_entries (self->bans);
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

guint
mgw_ban_list_get_size (MgwBanList *self)
{
  g_return_val_if_fail (MGW_IS_BAN_LIST (self), 0);

  return g_hash_table_size (self->bans);
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
