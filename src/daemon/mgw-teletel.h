/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-teletel.h: control of the Teletel server (the process behind the
 * command channel), as the original console's k and r keys. */
#pragma once

#include <gio/gio.h>

#include "mgw-config.h"

G_BEGIN_DECLS

typedef enum {
  MGW_TELETEL_UNKNOWN,
  MGW_TELETEL_RUNNING,
  MGW_TELETEL_STOPPED,
} MgwTeletelState;

#define MGW_TYPE_TELETEL_STATE (mgw_teletel_state_get_type ())
GType mgw_teletel_state_get_type (void);

const char *mgw_teletel_state_to_string (MgwTeletelState state);

#define MGW_TYPE_TELETEL (mgw_teletel_get_type ())
G_DECLARE_DERIVABLE_TYPE (MgwTeletel, mgw_teletel, MGW, TELETEL, GObject)

struct _MgwTeletelClass
{
  GObjectClass parent_class;

  /* "process", "systemd". */
  const char *backend;

  /* Find out the state and PID again; reports them with
   * mgw_teletel_set_state(), at once or later. */
  void     (*refresh)        (MgwTeletel           *self);
  void     (*stop_async)     (MgwTeletel           *self,
                              GCancellable         *cancellable,
                              GAsyncReadyCallback   callback,
                              gpointer              user_data);
  gboolean (*stop_finish)    (MgwTeletel           *self,
                              GAsyncResult         *result,
                              GError              **error);
  void     (*start_async)    (MgwTeletel           *self,
                              GCancellable         *cancellable,
                              GAsyncReadyCallback   callback,
                              gpointer              user_data);
  gboolean (*start_finish)   (MgwTeletel           *self,
                              GAsyncResult         *result,
                              GError              **error);
  /* Optional: the default stops (unless stopped already), then starts. */
  void     (*restart_async)  (MgwTeletel           *self,
                              GCancellable         *cancellable,
                              GAsyncReadyCallback   callback,
                              gpointer              user_data);
  gboolean (*restart_finish) (MgwTeletel           *self,
                              GAsyncResult         *result,
                              GError              **error);
};

/* NULL, without an error, for backend=none. */
MgwTeletel      *mgw_teletel_new_from_config (const MgwConfig      *config,
                                              GError              **error);

const char      *mgw_teletel_get_backend     (MgwTeletel           *self);
MgwTeletelState  mgw_teletel_get_state       (MgwTeletel           *self);
guint            mgw_teletel_get_pid         (MgwTeletel           *self);
void             mgw_teletel_refresh         (MgwTeletel           *self);

/* One operation at a time: another one meanwhile fails at once. */
void             mgw_teletel_stop_async      (MgwTeletel           *self,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
gboolean         mgw_teletel_stop_finish     (MgwTeletel           *self,
                                              GAsyncResult         *result,
                                              GError              **error);
void             mgw_teletel_start_async     (MgwTeletel           *self,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
gboolean         mgw_teletel_start_finish    (MgwTeletel           *self,
                                              GAsyncResult         *result,
                                              GError              **error);
void             mgw_teletel_restart_async   (MgwTeletel           *self,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
gboolean         mgw_teletel_restart_finish  (MgwTeletel           *self,
                                              GAsyncResult         *result,
                                              GError              **error);

/* For implementations: notifies "state" and "pid" when they change. */
void             mgw_teletel_set_state       (MgwTeletel           *self,
                                              MgwTeletelState       state,
                                              guint                 pid);

G_END_DECLS
