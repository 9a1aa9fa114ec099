/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-dbus-watch.h: users' screens for D-Bus watchers (Session.Watch):
 * who watches which session, by unique bus name, and what they are
 * sent, coalesced in ScreenOutput signals to each watcher alone. */
#pragma once

#include <gio/gio.h>

#include "mgw-session.h"

G_BEGIN_DECLS

/* A session's bytes waiting for its watchers, at most; what does not fit
 * is dropped and counted in the next signal. */
#define MGW_DBUS_WATCH_BUFFER_MAX (16 * 1024)
/* The most one session's watchers are signalled. */
#define MGW_DBUS_WATCH_INTERVAL_MS 100

typedef struct _MgwDbusWatch MgwDbusWatch;

MgwDbusWatch *mgw_dbus_watch_new            (void);
void          mgw_dbus_watch_free           (MgwDbusWatch    *self);
/* The bus the watchers are on (NULL: it went away): every watcher of
 * another connection is forgotten. */
void          mgw_dbus_watch_set_connection (MgwDbusWatch    *self,
                                             GDBusConnection *connection);
/* `name` (a unique bus name) watches `session` until it leaves the bus,
 * mgw_dbus_watch_remove () or the session's end; `who` names it in the
 * log. FALSE when it was watching it already, or there is no bus. */
gboolean      mgw_dbus_watch_add            (MgwDbusWatch    *self,
                                             MgwSession      *session,
                                             const char      *name,
                                             const char      *who);
/* FALSE when `name` was not watching session `id`. */
gboolean      mgw_dbus_watch_remove         (MgwDbusWatch    *self,
                                             guint            id,
                                             const char      *name,
                                             const char      *why);
/* Session `id` ended: its watchers get what is pending, then are
 * forgotten. */
void          mgw_dbus_watch_session_gone   (MgwDbusWatch    *self,
                                             guint            id);
/* Watchers of session `id` now (0: none). */
guint         mgw_dbus_watch_get_n_watchers (MgwDbusWatch    *self,
                                             guint            id);

G_END_DECLS
