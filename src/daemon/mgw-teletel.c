/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-teletel.c: the abstract Teletel server control.
 *
 * The original console's k key stops the Teletel server (the process
 * listening on the command channel's port) and r starts it again as it
 * was started. The base owns what every backend shares: the state and
 * PID as GObject properties (the D-Bus service and the console follow
 * their notify), one operation at a time, and restart as stop then
 * start. Backends (mgw-teletel-process.c: signals and /proc;
 * mgw-teletel-systemd.c: a unit through systemd's D-Bus API) only
 * find out the state and carry out stop and start. */
#include "config.h"

#include "mgw-teletel.h"
#include "mgw-uri.h"
#include "mgw-teletel-process.h"
#include "mgw-teletel-systemd.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <string.h>

typedef struct
{
  MgwTeletelState state;
  guint           pid;
  gboolean        busy;   /* a stop, start or restart is under way */
} MgwTeletelPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (MgwTeletel, mgw_teletel, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (MgwTeletelState, mgw_teletel_state,
                    G_DEFINE_ENUM_VALUE (MGW_TELETEL_UNKNOWN, "unknown"),
                    G_DEFINE_ENUM_VALUE (MGW_TELETEL_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (MGW_TELETEL_STOPPED, "stopped"))

enum {
  PROP_0,
  PROP_BACKEND,
  PROP_STATE,
  PROP_PID,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

const char *
mgw_teletel_state_to_string (MgwTeletelState state)
{
  switch (state)
    {
    case MGW_TELETEL_RUNNING:
      return "running";
    case MGW_TELETEL_STOPPED:
      return "stopped";
    case MGW_TELETEL_UNKNOWN:
    default:
      return "unknown";
    }
}

/* --- restart: stop, then start --- */

static void
restart_started_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!MGW_TELETEL_GET_CLASS (source)->start_finish (MGW_TELETEL (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
restart_stopped_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MgwTeletel *self = MGW_TELETEL (source);
  GError *error = NULL;

  if (!MGW_TELETEL_GET_CLASS (self)->stop_finish (self, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  MGW_TELETEL_GET_CLASS (self)->start_async (self, g_task_get_cancellable (task),
                                             restart_started_cb, g_object_ref (task));
}

static void
mgw_teletel_real_restart_async (MgwTeletel          *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  MgwTeletelPrivate *priv = mgw_teletel_get_instance_private (self);
  MgwTeletelClass *klass = MGW_TELETEL_GET_CLASS (self);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, mgw_teletel_real_restart_async);
  mgw_teletel_refresh (self);
  /* A server that is not running is started: Restart is how an
   * operator gets it back whatever it was doing. */
  if (priv->state == MGW_TELETEL_STOPPED)
    klass->start_async (self, cancellable, restart_started_cb, task);
  else
    klass->stop_async (self, cancellable, restart_stopped_cb, task);
}

static gboolean
mgw_teletel_real_restart_finish (MgwTeletel    *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- GObject --- */

static void
mgw_teletel_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  MgwTeletel *self = MGW_TELETEL (object);

  switch (prop_id)
    {
    case PROP_BACKEND:
      g_value_set_string (value, mgw_teletel_get_backend (self));
      break;
    case PROP_STATE:
      g_value_set_enum (value, mgw_teletel_get_state (self));
      break;
    case PROP_PID:
      g_value_set_uint (value, mgw_teletel_get_pid (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mgw_teletel_class_init (MgwTeletelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = mgw_teletel_get_property;
  klass->restart_async = mgw_teletel_real_restart_async;
  klass->restart_finish = mgw_teletel_real_restart_finish;

  props[PROP_BACKEND] =
    g_param_spec_string ("backend", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, MGW_TYPE_TELETEL_STATE, MGW_TELETEL_UNKNOWN,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_PID] =
    g_param_spec_uint ("pid", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
mgw_teletel_init (MgwTeletel *self)
{
}

/* --- public API --- */

const char *
mgw_teletel_get_backend (MgwTeletel *self)
{
  g_return_val_if_fail (MGW_IS_TELETEL (self), NULL);

  return MGW_TELETEL_GET_CLASS (self)->backend ? MGW_TELETEL_GET_CLASS (self)->backend : "none";
}

MgwTeletelState
mgw_teletel_get_state (MgwTeletel *self)
{
  MgwTeletelPrivate *priv;

  g_return_val_if_fail (MGW_IS_TELETEL (self), MGW_TELETEL_UNKNOWN);
  priv = mgw_teletel_get_instance_private (self);
  return priv->state;
}

guint
mgw_teletel_get_pid (MgwTeletel *self)
{
  MgwTeletelPrivate *priv;

  g_return_val_if_fail (MGW_IS_TELETEL (self), 0);
  priv = mgw_teletel_get_instance_private (self);
  return priv->pid;
}

void
mgw_teletel_set_state (MgwTeletel      *self,
                       MgwTeletelState  state,
                       guint            pid)
{
  MgwTeletelPrivate *priv = mgw_teletel_get_instance_private (self);

  g_return_if_fail (MGW_IS_TELETEL (self));

  g_object_freeze_notify (G_OBJECT (self));
  if (priv->state != state)
    {
      g_debug ("Teletel server: %s -> %s", mgw_teletel_state_to_string (priv->state),
               mgw_teletel_state_to_string (state));
      priv->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
    }
  if (priv->pid != pid)
    {
      priv->pid = pid;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PID]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

void
mgw_teletel_refresh (MgwTeletel *self)
{
  g_return_if_fail (MGW_IS_TELETEL (self));

  if (MGW_TELETEL_GET_CLASS (self)->refresh != NULL)
    MGW_TELETEL_GET_CLASS (self)->refresh (self);
}

/* The task of a public operation, or NULL (the task already failed)
 * when another one is under way. */
static GTask *
begin_operation (MgwTeletel          *self,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data,
                 gpointer             tag)
{
  MgwTeletelPrivate *priv = mgw_teletel_get_instance_private (self);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  if (priv->busy)
    {
      g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED, "%s",
                               _("a stop or start of the Teletel server is already "
                                 "under way: try again when it is over"));
      g_object_unref (task);
      return NULL;
    }
  priv->busy = TRUE;
  return task;
}

static void
operation_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MgwTeletel *self = MGW_TELETEL (source);
  MgwTeletelPrivate *priv = mgw_teletel_get_instance_private (self);
  MgwTeletelClass *klass = MGW_TELETEL_GET_CLASS (self);
  gpointer tag = g_task_get_source_tag (task);
  GError *error = NULL;
  gboolean ok;

  if (tag == mgw_teletel_stop_async)
    ok = klass->stop_finish (self, result, &error);
  else if (tag == mgw_teletel_start_async)
    ok = klass->start_finish (self, result, &error);
  else
    ok = klass->restart_finish (self, result, &error);
  priv->busy = FALSE;
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
mgw_teletel_stop_async (MgwTeletel          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (MGW_IS_TELETEL (self));
  task = begin_operation (self, cancellable, callback, user_data, mgw_teletel_stop_async);
  if (task != NULL)
    MGW_TELETEL_GET_CLASS (self)->stop_async (self, cancellable, operation_done_cb, task);
}

gboolean
mgw_teletel_stop_finish (MgwTeletel    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mgw_teletel_stop_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
mgw_teletel_start_async (MgwTeletel          *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (MGW_IS_TELETEL (self));
  task = begin_operation (self, cancellable, callback, user_data, mgw_teletel_start_async);
  if (task != NULL)
    MGW_TELETEL_GET_CLASS (self)->start_async (self, cancellable, operation_done_cb, task);
}

gboolean
mgw_teletel_start_finish (MgwTeletel    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mgw_teletel_start_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
mgw_teletel_restart_async (MgwTeletel          *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (MGW_IS_TELETEL (self));
  task = begin_operation (self, cancellable, callback, user_data, mgw_teletel_restart_async);
  if (task != NULL)
    MGW_TELETEL_GET_CLASS (self)->restart_async (self, cancellable, operation_done_cb, task);
}

gboolean
mgw_teletel_restart_finish (MgwTeletel    *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mgw_teletel_restart_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- from the configuration --- */

/* The port of the command channel's URI: the Teletel server listens there. */
static gboolean
command_port (const char  *uri,
              guint16     *port,
              GError     **error)
{
  g_autoptr(GUri) parsed = uri ? g_uri_parse (uri, G_URI_FLAGS_NONE, NULL) : NULL;
  int p;

  if (parsed == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("[teletel] backend=process: the command channel '%s' is not a URI, "
                     "so the Teletel server's port is not known"), uri ? uri : "");
      return FALSE;
    }
  p = mgw_uri_get_port (parsed);
  *port = (guint16) p;
  return TRUE;
}

MgwTeletel *
mgw_teletel_new_from_config (const MgwConfig  *config,
                             GError          **error)
{
  const char *backend = config->teletel_backend;

  g_return_val_if_fail (config != NULL, NULL);

  if (backend == NULL || *backend == '\0' || strcmp (backend, "none") == 0)
    return NULL;

  if (strcmp (backend, "process") == 0)
    {
      g_auto(GStrv) argv = NULL;
      g_autoptr(GError) local = NULL;
      guint16 port;

      if (!command_port (config->command_uri, &port, error))
        return NULL;
      if (config->teletel_command != NULL && *config->teletel_command != '\0' &&
          !g_shell_parse_argv (config->teletel_command, NULL, &argv, &local))
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("[teletel] command: %s"),
                       local->message);
          return NULL;
        }
      return mgw_teletel_process_new (port, argv, config->teletel_grace_ms);
    }

  if (strcmp (backend, "systemd") == 0)
    {
      if (config->teletel_unit == NULL || *config->teletel_unit == '\0')
        {
          g_set_error_literal (error, MGW_ERROR, MGW_ERROR_CONFIG,
                               _("[teletel] backend=systemd needs the Teletel server's unit: "
                                 "set [teletel] unit, e.g. unit=teletel.service"));
          return NULL;
        }
      return mgw_teletel_systemd_new (config->teletel_unit);
    }

  g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
               _("[teletel] backend: '%s' is not none, process or systemd"), backend);
  return NULL;
}
