/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-dbus-watch.c: users' screens for D-Bus watchers.
 *
 * Each watched session has the unique bus names of its watchers (a name
 * watch each: a client that leaves the bus is forgotten without calling
 * Unwatch) and one buffer of the bytes its user was sent, bounded
 * (MGW_DBUS_WATCH_BUFFER_MAX: what does not fit is dropped and counted).
 * One timer in the poller, running only while some buffer holds bytes,
 * flushes every buffer at most every MGW_DBUS_WATCH_INTERVAL_MS: one
 * ScreenOutput signal per watcher, sent to its unique name alone
 * (g_dbus_connection_emit_signal () with a destination), never broadcast.
 * The session emits "user-output" only while someone watches it
 * (mgw_session_watch (), once per watcher). */
#include "config.h"

#include "mgw-dbus-watch.h"
#include "mgw-poller.h"

#define SESSIONS_PATH "/org/moipgw/Gateway1/sessions/"
#define SESSION_INTERFACE "org.moipgw.Gateway1.Session"

typedef struct _Screen Screen;

struct _MgwDbusWatch
{
  GDBusConnection *connection;
  GHashTable      *screens;   /* session id -> Screen */
  MgwTimer         flush;
};

struct _Screen
{
  MgwDbusWatch *watch;
  MgwSession   *session;
  guint         id;
  GHashTable   *watchers;     /* unique name -> name watch id */
  GByteArray   *pending;
  guint32       dropped;      /* after the pending bytes, in this interval */
  guint32       reported;     /* dropped before them: in the next signal */
};

/* What the name watch needs to find its watcher again. */
typedef struct
{
  MgwDbusWatch *watch;
  guint         id;
} Watcher;

static void
screen_output_cb (MgwSession   *session,
                  const guint8 *data,
                  guint         len,
                  Screen       *screen)
{
  guint room = MGW_DBUS_WATCH_BUFFER_MAX - screen->pending->len;
  guint take = MIN (len, room);

  g_byte_array_append (screen->pending, data, take);
  if (take < len)
    screen->dropped = (guint32) MIN ((guint64) screen->dropped + (len - take), G_MAXUINT32);
  if (!mgw_timer_is_active (&screen->watch->flush))
    mgw_timer_start (&screen->watch->flush, MGW_DBUS_WATCH_INTERVAL_MS);
}

/* What is pending, to each watcher of the screen, with the count of
 * the bytes dropped since the last signal, before these; those dropped
 * after them go in the next one (sent empty if need be). */
static void
screen_flush (Screen *screen)
{
  g_autofree char *path = NULL;
  g_autoptr(GVariant) signal = NULL;
  GHashTableIter iter;
  gpointer name;

  if (screen->pending->len == 0 && screen->reported == 0)
    return;
  if (screen->watch->connection != NULL)
    {
      path = g_strdup_printf (SESSIONS_PATH "%u", screen->id);
      signal = g_variant_ref_sink (g_variant_new ("(@ayu)",
                                                  g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                             screen->pending->data,
                                                                             screen->pending->len, 1),
                                                  screen->reported));
      g_hash_table_iter_init (&iter, screen->watchers);
      while (g_hash_table_iter_next (&iter, &name, NULL))
        g_dbus_connection_emit_signal (screen->watch->connection, name, path, SESSION_INTERFACE,
                                       "ScreenOutput", signal, NULL);
    }
  g_byte_array_set_size (screen->pending, 0);
  screen->reported = screen->dropped;
  screen->dropped = 0;
  if (screen->reported > 0 && !mgw_timer_is_active (&screen->watch->flush))
    mgw_timer_start (&screen->watch->flush, MGW_DBUS_WATCH_INTERVAL_MS);
}

static void
flush_cb (gpointer user_data)
{
  MgwDbusWatch *self = user_data;
  GHashTableIter iter;
  gpointer screen;

  g_hash_table_iter_init (&iter, self->screens);
  while (g_hash_table_iter_next (&iter, NULL, &screen))
    screen_flush (screen);
}

static void
screen_free (Screen *screen)
{
  g_signal_handlers_disconnect_by_data (screen->session, screen);
  g_hash_table_unref (screen->watchers);
  g_byte_array_unref (screen->pending);
  g_object_unref (screen->session);
  g_free (screen);
}

static void
unwatch_name (gpointer watch_id)
{
  g_bus_unwatch_name (GPOINTER_TO_UINT (watch_id));
}

static Screen *
screen_get (MgwDbusWatch *self,
            MgwSession   *session)
{
  guint id = mgw_session_get_id (session);
  Screen *screen = g_hash_table_lookup (self->screens, GUINT_TO_POINTER (id));

  if (screen != NULL)
    return screen;
  screen = g_new0 (Screen, 1);
  screen->watch = self;
  screen->session = g_object_ref (session);
  screen->id = id;
  screen->watchers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            unwatch_name);
  screen->pending = g_byte_array_new ();
  g_signal_connect (session, "user-output", G_CALLBACK (screen_output_cb), screen);
  g_hash_table_insert (self->screens, GUINT_TO_POINTER (id), screen);
  return screen;
}

static void
name_vanished_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Watcher *watcher = user_data;
  g_autofree char *copy = g_strdup (name);

  mgw_dbus_watch_remove (watcher->watch, watcher->id, copy, "left the bus");
}

gboolean
mgw_dbus_watch_add (MgwDbusWatch *self,
                    MgwSession   *session,
                    const char   *name,
                    const char   *who)
{
  Screen *screen;
  Watcher *watcher;
  guint watch_id;

  g_return_val_if_fail (self != NULL && MGW_IS_SESSION (session), FALSE);
  g_return_val_if_fail (name != NULL && who != NULL, FALSE);

  /* The bus went away since the call came: so did the caller. */
  if (self->connection == NULL)
    return FALSE;
  screen = screen_get (self, session);
  if (g_hash_table_contains (screen->watchers, name))
    return FALSE;
  watcher = g_new0 (Watcher, 1);
  watcher->watch = self;
  watcher->id = screen->id;
  watch_id = g_bus_watch_name_on_connection (self->connection, name, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                             NULL, name_vanished_cb, watcher, g_free);
  g_hash_table_insert (screen->watchers, g_strdup (name), GUINT_TO_POINTER (watch_id));
  g_message ("D-Bus: session %u watched by %s (%s)", screen->id, who, name);
  mgw_session_watch (session, TRUE);
  return TRUE;
}

gboolean
mgw_dbus_watch_remove (MgwDbusWatch *self,
                       guint         id,
                       const char   *name,
                       const char   *why)
{
  Screen *screen;

  g_return_val_if_fail (self != NULL && name != NULL && why != NULL, FALSE);

  screen = g_hash_table_lookup (self->screens, GUINT_TO_POINTER (id));
  if (screen == NULL || !g_hash_table_remove (screen->watchers, name))
    return FALSE;
  g_message ("D-Bus: session %u no longer watched by %s (%s)", id, name, why);
  mgw_session_watch (screen->session, FALSE);
  if (g_hash_table_size (screen->watchers) == 0)
    g_hash_table_remove (self->screens, GUINT_TO_POINTER (id));
  return TRUE;
}

static void
forget_screen (MgwDbusWatch *self,
               Screen       *screen,
               const char   *why)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint id = screen->id;
  GHashTableIter iter;
  gpointer name;

  /* Copied: each removal changes the table, the last frees the screen. */
  g_hash_table_iter_init (&iter, screen->watchers);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    g_ptr_array_add (names, g_strdup (name));
  for (guint i = 0; i < names->len; i++)
    mgw_dbus_watch_remove (self, id, names->pdata[i], why);
}

void
mgw_dbus_watch_session_gone (MgwDbusWatch *self,
                             guint         id)
{
  Screen *screen;

  g_return_if_fail (self != NULL);

  screen = g_hash_table_lookup (self->screens, GUINT_TO_POINTER (id));
  if (screen == NULL)
    return;
  /* The pending bytes, then what was dropped after them. */
  screen_flush (screen);
  screen_flush (screen);
  forget_screen (self, screen, "the session ended");
}

static void
forget_all (MgwDbusWatch *self,
            const char   *why)
{
  g_autoptr(GList) screens = g_hash_table_get_values (self->screens);

  for (GList *l = screens; l != NULL; l = l->next)
    forget_screen (self, l->data, why);
  mgw_timer_stop (&self->flush);
}

void
mgw_dbus_watch_set_connection (MgwDbusWatch    *self,
                               GDBusConnection *connection)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection));

  if (self->connection == connection)
    return;
  forget_all (self, "the bus went away");
  g_set_object (&self->connection, connection);
}

guint
mgw_dbus_watch_get_n_watchers (MgwDbusWatch *self,
                               guint         id)
{
  Screen *screen;

  g_return_val_if_fail (self != NULL, 0);

  screen = g_hash_table_lookup (self->screens, GUINT_TO_POINTER (id));
  return screen != NULL ? g_hash_table_size (screen->watchers) : 0;
}

MgwDbusWatch *
mgw_dbus_watch_new (void)
{
  MgwDbusWatch *self = g_new0 (MgwDbusWatch, 1);

  self->screens = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) screen_free);
  mgw_timer_init (&self->flush, flush_cb, self);
  return self;
}

void
mgw_dbus_watch_free (MgwDbusWatch *self)
{
  if (self == NULL)
    return;
  forget_all (self, "the gateway stops");
  g_hash_table_unref (self->screens);
  g_clear_object (&self->connection);
  g_free (self);
}
