/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-teletel-systemd.c: the Teletel server as a systemd unit.
 *
 * Talks to org.freedesktop.systemd1 on the system bus, asynchronously:
 * the unit's object path from Manager.GetUnit (Manager.LoadUnit when it
 * is not loaded), its state from Unit.ActiveState and its PID from
 * Service.MainPID. Stop, start and restart are Manager.StopUnit,
 * StartUnit and RestartUnit in "replace" mode; each returns a job, and
 * the operation is over when the Manager's JobRemoved names that job:
 * a result other than "done" is the operation's error. The state is
 * read again after every job and whenever the unit's properties change
 * (systemd signals both once Manager.Subscribe was called).
 *
 * Calling StopUnit and friends needs systemd's permission (polkit
 * action org.freedesktop.systemd1.manage-units) for moipgwd's user:
 * without it the error systemd gives is reported as it is. */
#include "config.h"

#include "mgw-teletel-systemd.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <string.h>

#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define MANAGER_IFACE "org.freedesktop.systemd1.Manager"
#define UNIT_IFACE "org.freedesktop.systemd1.Unit"
#define SERVICE_IFACE "org.freedesktop.systemd1.Service"
#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"
/* A job systemd never reports as removed (systemd restarted...) does
 * not keep its caller waiting forever. */
#define JOB_TIMEOUT_S 300

struct _MgwTeletelSystemd
{
  MgwTeletel       parent_instance;

  char            *unit;
  GDBusConnection *bus;
  guint            job_removed_id;
  char            *unit_path;
  guint            unit_changed_id;
  GHashTable      *jobs;           /* job path -> Job, waiting for JobRemoved */
  GHashTable      *early;          /* job path -> result: JobRemoved before the reply */
  guint            calls;          /* job calls waiting for their reply */
  gboolean         refreshing;
  gboolean         refresh_again;
  char            *last_error;     /* of refresh, logged once */
};

G_DEFINE_FINAL_TYPE (MgwTeletelSystemd, mgw_teletel_systemd, MGW_TYPE_TELETEL)

typedef struct
{
  const char *method;   /* "StopUnit"... */
  const char *verb;     /* "stop"... for messages */
  char       *job;      /* its path, once systemd answered */
  GError     *job_error;
} Operation;

static void
operation_free (Operation *op)
{
  g_clear_error (&op->job_error);
  g_free (op->job);
  g_free (op);
}

typedef struct
{
  GTask *task;
  guint  timeout_id;
} Job;

static void
job_free (Job *job)
{
  g_clear_handle_id (&job->timeout_id, g_source_remove);
  if (job->task != NULL)
    {
      /* Only when the object goes away or the bus closes. */
      g_task_return_new_error (job->task, MGW_ERROR, MGW_ERROR_FAILED, "%s",
                               _("the connection to systemd was lost"));
      g_object_unref (job->task);
    }
  g_free (job);
}

static void refresh_async (MgwTeletelSystemd   *self,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data);

/* --- the system bus --- */

static void
unit_changed_cb (GDBusConnection *connection,
                 const char      *sender,
                 const char      *path,
                 const char      *iface,
                 const char      *signal,
                 GVariant        *parameters,
                 gpointer         user_data)
{
  mgw_teletel_refresh (MGW_TELETEL (user_data));
}

static void
forget_unit_path (MgwTeletelSystemd *self)
{
  if (self->unit_changed_id != 0 && self->bus != NULL)
    g_dbus_connection_signal_unsubscribe (self->bus, self->unit_changed_id);
  self->unit_changed_id = 0;
  g_clear_pointer (&self->unit_path, g_free);
}

static void
set_unit_path (MgwTeletelSystemd *self,
               const char        *path)
{
  if (g_strcmp0 (self->unit_path, path) == 0)
    return;
  forget_unit_path (self);
  self->unit_path = g_strdup (path);
  /* The state follows what others do to the unit (systemctl, a crash). */
  self->unit_changed_id =
    g_dbus_connection_signal_subscribe (self->bus, SYSTEMD_NAME, PROPERTIES_IFACE,
                                        "PropertiesChanged", path, NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, unit_changed_cb, self, NULL);
}

static void
job_finished (MgwTeletelSystemd *self,
              GTask             *task,
              const char        *job,
              const char        *result);

static void
job_removed_cb (GDBusConnection *connection,
                const char      *sender,
                const char      *path,
                const char      *iface,
                const char      *signal,
                GVariant        *parameters,
                gpointer         user_data)
{
  MgwTeletelSystemd *self = user_data;
  gpointer key = NULL;
  gpointer value = NULL;
  const char *job;
  const char *unit;
  const char *result;
  guint32 id;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(uoss)")))
    return;
  g_variant_get (parameters, "(u&o&s&s)", &id, &job, &unit, &result);
  if (g_hash_table_steal_extended (self->jobs, job, &key, &value))
    {
      Job *waiting = value;
      GTask *task = g_steal_pointer (&waiting->task);

      g_free (key);
      job_free (waiting);
      job_finished (self, task, job, result);
    }
  else if (self->calls > 0)
    /* Perhaps ours, its reply not read yet. */
    g_hash_table_insert (self->early, g_strdup (job), g_strdup (result));
  else if (g_strcmp0 (unit, self->unit) == 0)
    mgw_teletel_refresh (MGW_TELETEL (self));
}

static void
subscribe_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);

  if (reply == NULL)
    g_debug ("Teletel server: systemd Subscribe: %s", error->message);
}

static void drop_bus (MgwTeletelSystemd *self);

static void
bus_closed_cb (GDBusConnection   *bus,
               gboolean           remote_peer_vanished,
               GError            *error,
               MgwTeletelSystemd *self)
{
  g_warning ("Teletel server: the system bus connection was closed");
  drop_bus (self);
  mgw_teletel_set_state (MGW_TELETEL (self), MGW_TELETEL_UNKNOWN, 0);
}

static void
setup_bus (MgwTeletelSystemd *self,
           GDBusConnection   *bus)
{
  self->bus = g_object_ref (bus);
  g_signal_connect_object (bus, "closed", G_CALLBACK (bus_closed_cb), self, 0);
  /* Subscribed to before any job is asked for: no JobRemoved is missed. */
  self->job_removed_id =
    g_dbus_connection_signal_subscribe (bus, SYSTEMD_NAME, MANAGER_IFACE, "JobRemoved",
                                        SYSTEMD_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        job_removed_cb, self, NULL);
  /* systemd emits its signals only while someone is subscribed. */
  g_dbus_connection_call (bus, SYSTEMD_NAME, SYSTEMD_PATH, MANAGER_IFACE, "Subscribe",
                          NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, subscribe_cb, NULL);
}

static void
drop_bus (MgwTeletelSystemd *self)
{
  forget_unit_path (self);
  if (self->bus != NULL)
    {
      if (self->job_removed_id != 0)
        g_dbus_connection_signal_unsubscribe (self->bus, self->job_removed_id);
      g_signal_handlers_disconnect_by_data (self->bus, self);
    }
  self->job_removed_id = 0;
  g_clear_object (&self->bus);
  /* Whoever waits for a job is told. */
  g_hash_table_remove_all (self->jobs);
  g_hash_table_remove_all (self->early);
}

typedef void (*BusReadyFunc) (GTask *task);

typedef struct
{
  GTask        *task;
  BusReadyFunc  func;
} BusWait;

static void
got_bus_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  BusWait *wait = user_data;
  GTask *task = wait->task;
  BusReadyFunc func = wait->func;
  MgwTeletelSystemd *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_finish (result, &error);

  g_free (wait);
  if (bus == NULL)
    {
      g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED,
                               _("cannot reach systemd on the system bus: %s"), error->message);
      g_object_unref (task);
      return;
    }
  if (self->bus == NULL)
    setup_bus (self, bus);
  func (task);
}

/* Calls func (task) once connected; `task` is handed over. */
static void
with_bus (MgwTeletelSystemd *self,
          GTask             *task,
          BusReadyFunc       func)
{
  BusWait *wait;

  if (self->bus != NULL)
    {
      func (task);
      return;
    }
  wait = g_new0 (BusWait, 1);
  wait->task = task;
  wait->func = func;
  g_bus_get (G_BUS_TYPE_SYSTEM, NULL, got_bus_cb, wait);
}

/* --- state: ActiveState and MainPID --- */

typedef struct
{
  char *path;     /* the unit's */
  char *active;   /* its ActiveState */
} RefreshData;

static void
refresh_data_free (RefreshData *data)
{
  g_free (data->path);
  g_free (data->active);
  g_free (data);
}

static void
refresh_failed (GTask  *task,
                GError *error)
{
  MgwTeletelSystemd *self = g_task_get_source_object (task);

  g_dbus_error_strip_remote_error (error);
  mgw_teletel_set_state (MGW_TELETEL (self), MGW_TELETEL_UNKNOWN, 0);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
main_pid_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  MgwTeletelSystemd *self = g_task_get_source_object (task);
  RefreshData *data = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, NULL);
  MgwTeletelState state = MGW_TELETEL_UNKNOWN;
  guint32 pid = 0;

  /* No MainPID: not a service unit. */
  if (reply != NULL)
    {
      g_autoptr(GVariant) value = NULL;
      g_variant_get (reply, "(v)", &value);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
        pid = g_variant_get_uint32 (value);
    }
  if (strcmp (data->active, "active") == 0)
    state = MGW_TELETEL_RUNNING;
  else if (strcmp (data->active, "inactive") == 0 || strcmp (data->active, "failed") == 0)
    state = MGW_TELETEL_STOPPED;
  mgw_teletel_set_state (MGW_TELETEL (self), state, pid);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
active_state_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  MgwTeletelSystemd *self = g_task_get_source_object (task);
  RefreshData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  g_autoptr(GVariant) value = NULL;

  if (reply == NULL)
    {
      /* The path may be stale: look it up again next time. */
      if (g_strcmp0 (self->unit_path, data->path) == 0)
        forget_unit_path (self);
      refresh_failed (task, error);
      return;
    }
  g_variant_get (reply, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      refresh_failed (task, g_error_new (MGW_ERROR, MGW_ERROR_FAILED,
                                         _("systemd gave %s an ActiveState of type %s"),
                                         self->unit, g_variant_get_type_string (value)));
      return;
    }
  data->active = g_variant_dup_string (value, NULL);
  g_dbus_connection_call (G_DBUS_CONNECTION (source), SYSTEMD_NAME, data->path,
                          PROPERTIES_IFACE, "Get",
                          g_variant_new ("(ss)", SERVICE_IFACE, "MainPID"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          main_pid_cb, task);
}

static void
get_active_state (GTask           *task,
                  GDBusConnection *bus,
                  const char      *path)
{
  RefreshData *data = g_task_get_task_data (task);

  data->path = g_strdup (path);
  g_dbus_connection_call (bus, SYSTEMD_NAME, path, PROPERTIES_IFACE, "Get",
                          g_variant_new ("(ss)", UNIT_IFACE, "ActiveState"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          active_state_cb, task);
}

/* The unit's path, from GetUnit or LoadUnit. */
static void
got_unit_path (GTask           *task,
               GDBusConnection *bus,
               GVariant        *reply)
{
  MgwTeletelSystemd *self = g_task_get_source_object (task);
  const char *path;

  g_variant_get (reply, "(&o)", &path);
  if (self->bus == bus)
    set_unit_path (self, path);
  get_active_state (task, bus, path);
}

static void
load_unit_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);

  if (reply == NULL)
    refresh_failed (task, error);
  else
    got_unit_path (task, G_DBUS_CONNECTION (source), reply);
}

static void
get_unit_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  MgwTeletelSystemd *self = g_task_get_source_object (task);
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, NULL);

  if (reply == NULL)
    /* Not loaded (NoSuchUnit): load it. */
    g_dbus_connection_call (G_DBUS_CONNECTION (source), SYSTEMD_NAME, SYSTEMD_PATH,
                            MANAGER_IFACE, "LoadUnit", g_variant_new ("(s)", self->unit),
                            G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                            load_unit_cb, task);
  else
    got_unit_path (task, G_DBUS_CONNECTION (source), reply);
}

static void
refresh_with_bus (GTask *task)
{
  MgwTeletelSystemd *self = g_task_get_source_object (task);

  if (self->unit_path != NULL)
    {
      get_active_state (task, self->bus, self->unit_path);
      return;
    }
  g_dbus_connection_call (self->bus, SYSTEMD_NAME, SYSTEMD_PATH, MANAGER_IFACE, "GetUnit",
                          g_variant_new ("(s)", self->unit), G_VARIANT_TYPE ("(o)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, get_unit_cb, task);
}

static void
refresh_async (MgwTeletelSystemd   *self,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, refresh_async);
  g_task_set_task_data (task, g_new0 (RefreshData, 1), (GDestroyNotify) refresh_data_free);
  with_bus (self, task, refresh_with_bus);
}

static void
plain_refresh_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  MgwTeletelSystemd *self = MGW_TELETEL_SYSTEMD (source);
  g_autoptr(GError) error = NULL;

  self->refreshing = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      /* Said once, not at every periodic refresh. */
      if (g_strcmp0 (self->last_error, error->message) != 0)
        g_warning ("Teletel server: cannot get the state of %s: %s", self->unit, error->message);
      g_free (self->last_error);
      self->last_error = g_strdup (error->message);
    }
  else
    g_clear_pointer (&self->last_error, g_free);
  if (self->refresh_again)
    {
      self->refresh_again = FALSE;
      mgw_teletel_refresh (MGW_TELETEL (self));
    }
}

static void
mgw_teletel_systemd_refresh (MgwTeletel *teletel)
{
  MgwTeletelSystemd *self = MGW_TELETEL_SYSTEMD (teletel);

  if (self->refreshing)
    {
      self->refresh_again = TRUE;
      return;
    }
  self->refreshing = TRUE;
  refresh_async (self, plain_refresh_cb, NULL);
}

/* --- jobs: stop, start, restart --- */

static void
job_refreshed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  Operation *op = g_task_get_task_data (task);

  /* A state that cannot be read is "unknown"; the job's result stands. */
  g_task_propagate_boolean (G_TASK (result), NULL);
  if (op->job_error != NULL)
    g_task_return_error (task, g_steal_pointer (&op->job_error));
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* The job of `task` is over: read the state again, then report. */
static void
job_finished (MgwTeletelSystemd *self,
              GTask             *task,
              const char        *job,
              const char        *result)
{
  Operation *op = g_task_get_task_data (task);

  g_message ("Teletel server: systemd job %s (%s %s) ended: %s", job, op->verb, self->unit,
             result);
  if (g_strcmp0 (result, "done") != 0)
    op->job_error = g_error_new (MGW_ERROR, MGW_ERROR_FAILED,
                                 _("systemd could not %s %s: the job ended with result '%s'"),
                                 op->verb, self->unit, result);
  refresh_async (self, job_refreshed_cb, task);
}

static gboolean
job_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  MgwTeletelSystemd *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);
  gpointer key = NULL;
  gpointer value = NULL;

  if (g_hash_table_steal_extended (self->jobs, op->job, &key, &value))
    {
      Job *waiting = value;

      waiting->timeout_id = 0;
      waiting->task = NULL;
      job_free (waiting);
      g_free (key);
      g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_TIMED_OUT,
                               _("systemd did not say in %u s how the job to %s %s ended"),
                               JOB_TIMEOUT_S, op->verb, self->unit);
      g_object_unref (task);
      mgw_teletel_refresh (MGW_TELETEL (self));
    }
  return G_SOURCE_REMOVE;
}

static void
job_called_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  MgwTeletelSystemd *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  gpointer early_job = NULL;
  gpointer early_result = NULL;
  const char *job;
  Job *waiting;

  self->calls--;
  if (reply == NULL)
    {
      if (self->calls == 0)
        g_hash_table_remove_all (self->early);
      g_dbus_error_strip_remote_error (error);
      g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED, _("systemd cannot %s %s: %s"),
                               op->verb, self->unit, error->message);
      g_object_unref (task);
      return;
    }
  g_variant_get (reply, "(&o)", &job);
  g_debug ("Teletel server: systemd job %s to %s %s", job, op->verb, self->unit);
  op->job = g_strdup (job);
  if (g_hash_table_steal_extended (self->early, job, &early_job, &early_result))
    {
      if (self->calls == 0)
        g_hash_table_remove_all (self->early);
      job_finished (self, task, job, early_result);
      g_free (early_job);
      g_free (early_result);
      return;
    }
  if (self->calls == 0)
    g_hash_table_remove_all (self->early);
  waiting = g_new0 (Job, 1);
  waiting->task = task;
  waiting->timeout_id = g_timeout_add_seconds (JOB_TIMEOUT_S, job_timeout_cb, task);
  g_hash_table_insert (self->jobs, g_strdup (job), waiting);
}

static void
job_with_bus (GTask *task)
{
  MgwTeletelSystemd *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);

  self->calls++;
  g_dbus_connection_call (self->bus, SYSTEMD_NAME, SYSTEMD_PATH, MANAGER_IFACE, op->method,
                          g_variant_new ("(ss)", self->unit, "replace"),
                          G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          g_task_get_cancellable (task), job_called_cb, task);
}

static void
run_job (MgwTeletel          *teletel,
         const char          *method,
         const char          *verb,
         gpointer             tag,
         GCancellable        *cancellable,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  MgwTeletelSystemd *self = MGW_TELETEL_SYSTEMD (teletel);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Operation *op = g_new0 (Operation, 1);

  op->method = method;
  op->verb = verb;
  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, op, (GDestroyNotify) operation_free);
  g_message ("Teletel server: asking systemd to %s %s", verb, self->unit);
  with_bus (self, task, job_with_bus);
}

static void
mgw_teletel_systemd_stop_async (MgwTeletel          *teletel,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  run_job (teletel, "StopUnit", "stop", mgw_teletel_systemd_stop_async, cancellable,
           callback, user_data);
}

static void
mgw_teletel_systemd_start_async (MgwTeletel          *teletel,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  run_job (teletel, "StartUnit", "start", mgw_teletel_systemd_start_async, cancellable,
           callback, user_data);
}

static void
mgw_teletel_systemd_restart_async (MgwTeletel          *teletel,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  run_job (teletel, "RestartUnit", "restart", mgw_teletel_systemd_restart_async, cancellable,
           callback, user_data);
}

static gboolean
mgw_teletel_systemd_job_finish (MgwTeletel    *teletel,
                                GAsyncResult  *result,
                                GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- GObject --- */

static void
mgw_teletel_systemd_dispose (GObject *object)
{
  MgwTeletelSystemd *self = MGW_TELETEL_SYSTEMD (object);

  if (self->jobs != NULL)
    drop_bus (self);
  G_OBJECT_CLASS (mgw_teletel_systemd_parent_class)->dispose (object);
}

static void
mgw_teletel_systemd_finalize (GObject *object)
{
  MgwTeletelSystemd *self = MGW_TELETEL_SYSTEMD (object);

  g_clear_pointer (&self->jobs, g_hash_table_unref);
  g_clear_pointer (&self->early, g_hash_table_unref);
  g_free (self->unit);
  g_free (self->last_error);
  G_OBJECT_CLASS (mgw_teletel_systemd_parent_class)->finalize (object);
}

static void
mgw_teletel_systemd_class_init (MgwTeletelSystemdClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  MgwTeletelClass *teletel_class = MGW_TELETEL_CLASS (klass);

  object_class->dispose = mgw_teletel_systemd_dispose;
  object_class->finalize = mgw_teletel_systemd_finalize;
  teletel_class->backend = "systemd";
  teletel_class->refresh = mgw_teletel_systemd_refresh;
  teletel_class->stop_async = mgw_teletel_systemd_stop_async;
  teletel_class->stop_finish = mgw_teletel_systemd_job_finish;
  teletel_class->start_async = mgw_teletel_systemd_start_async;
  teletel_class->start_finish = mgw_teletel_systemd_job_finish;
  teletel_class->restart_async = mgw_teletel_systemd_restart_async;
  teletel_class->restart_finish = mgw_teletel_systemd_job_finish;
}

static void
mgw_teletel_systemd_init (MgwTeletelSystemd *self)
{
  self->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) job_free);
  self->early = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* "teletel" -> "teletel.service", as systemctl does. */
static char *
unit_name (const char *unit)
{
  static const char * const suffixes[] = {
    ".service", ".socket", ".target", ".device", ".mount", ".automount",
    ".swap", ".timer", ".path", ".slice", ".scope",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_has_suffix (unit, suffixes[i]))
      return g_strdup (unit);
  return g_strconcat (unit, ".service", NULL);
}

MgwTeletel *
mgw_teletel_systemd_new (const char *unit)
{
  MgwTeletelSystemd *self;

  g_return_val_if_fail (unit != NULL && *unit != '\0', NULL);

  self = g_object_new (MGW_TYPE_TELETEL_SYSTEMD, NULL);
  self->unit = unit_name (unit);
  mgw_teletel_refresh (MGW_TELETEL (self));
  return MGW_TELETEL (self);
}
