/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-teletel-process.c: the Teletel server as a plain process.
 *
 * As the original console did: the Teletel server is whatever process
 * listens on the command channel's TCP port. It is found from
 * /proc/net/tcp and /proc/net/tcp6 (the inode of the listening socket)
 * and the /proc/PID/fd links naming that socket. Before it is stopped
 * its argv, working directory and environment are read from /proc and
 * remembered; it gets SIGTERM, then SIGKILL when it is still there after
 * the grace period. Start runs the configured command, else the
 * remembered argv, in the remembered directory and environment, in a
 * session of its own, and is over once the port is listened on again.
 *
 * Everything here is a few small /proc reads (synchronous, as /proc
 * answers from memory) and timers on the main loop: no thread, no
 * netstat, ps or kill run. */
#include "config.h"

#include "mgw-teletel-process.h"
#include "mgw-proc-net.h"
#include "mgw-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define POLL_MS 50
/* After SIGKILL: a process in uninterruptible sleep may take a while. */
#define KILL_WAIT_MS 5000
/* From spawning to listening on the port. */
#define START_TIMEOUT_MS 20000

struct _MgwTeletelProcess
{
  MgwTeletel     parent_instance;

  guint16        port;
  char         **command;          /* configured; NULL: the remembered argv */
  guint          grace_ms;
  GCancellable  *cancellable;      /* cancelled in dispose */
  guint          pid_hint;         /* the last listener found, checked first */
  struct StartOp *starting;        /* the start under way, if any */

  /* How the last process this object stopped had been started. */
  char         **remembered_argv;
  char          *remembered_cwd;
  char         **remembered_env;
};

G_DEFINE_FINAL_TYPE (MgwTeletelProcess, mgw_teletel_process, MGW_TYPE_TELETEL)

/* --- /proc --- */

typedef struct
{
  char    state;
  guint   ppid;
  guint   session;
  guint64 starttime;   /* clock ticks since boot: tells a reused PID */
} ProcStat;

static gboolean
read_proc_stat (guint     pid,
                ProcStat *st)
{
  g_autofree char *path = g_strdup_printf ("/proc/%u/stat", pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  char *end;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  /* The command name, in parentheses, may hold anything: fields
   * start after the last ')'. */
  end = strrchr (contents, ')');
  if (end == NULL || end[1] != ' ')
    return FALSE;
  fields = g_strsplit (end + 2, " ", 0);
  /* state(3) ppid(4) pgrp(5) session(6) ... starttime(22) */
  if (g_strv_length (fields) < 20)
    return FALSE;
  st->state = fields[0][0];
  st->ppid = (guint) g_ascii_strtoull (fields[1], NULL, 10);
  st->session = (guint) g_ascii_strtoull (fields[3], NULL, 10);
  st->starttime = g_ascii_strtoull (fields[19], NULL, 10);
  return TRUE;
}

typedef struct
{
  guint16  port;
  GArray  *inodes;
} ListenSearch;

static gboolean
collect_listener (const MgwTcpSocket *socket,
                  gpointer            data)
{
  ListenSearch *search = data;

  if (socket->state == MGW_TCP_LISTEN && socket->local.port == search->port &&
      socket->inode != 0)
    g_array_append_val (search->inodes, socket->inode);
  return TRUE;
}

/* The inodes of the TCP sockets listening on `port`, IPv4 and IPv6. */
static GArray *
listening_inodes (guint16 port)
{
  ListenSearch search = { port, g_array_new (FALSE, FALSE, sizeof (guint64)) };

  mgw_proc_net_tcp_foreach (collect_listener, &search);
  return search.inodes;
}

static gboolean
has_inode (GArray  *inodes,
           guint64  inode)
{
  for (guint i = 0; i < inodes->len; i++)
    if (g_array_index (inodes, guint64, i) == inode)
      return TRUE;
  return FALSE;
}

/* Whether one of `pid`'s descriptors is one of the sockets. */
static gboolean
pid_holds (guint   pid,
           GArray *inodes)
{
  char dir_path[64];
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_snprintf (dir_path, sizeof dir_path, "/proc/%u/fd", pid);
  dir = g_dir_open (dir_path, 0, NULL);   /* another user's: EACCES */
  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char path[96];
      char target[64];
      ssize_t n;

      g_snprintf (path, sizeof path, "%s/%s", dir_path, name);
      n = readlink (path, target, sizeof target - 1);
      if (n <= 0)
        continue;
      target[n] = '\0';
      if (g_str_has_prefix (target, "socket:[") &&
          has_inode (inodes, g_ascii_strtoull (target + strlen ("socket:["), NULL, 10)))
        return TRUE;
    }
  return FALSE;
}

static gboolean
is_pid_name (const char *name)
{
  if (*name == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

/* The process holding the listening sockets, 0 when none we can see.
 * Forked workers may hold them too: the one whose parent does not is
 * the server. */
static guint
find_owner (MgwTeletelProcess *self,
            GArray            *inodes)
{
  guint me = (guint) getpid ();
  g_autoptr(GArray) owners = NULL;
  g_autoptr(GDir) proc = NULL;
  const char *name;
  guint best = 0;

  if (self->pid_hint != 0 && self->pid_hint != me && pid_holds (self->pid_hint, inodes))
    return self->pid_hint;

  owners = g_array_new (FALSE, FALSE, sizeof (guint));
  proc = g_dir_open ("/proc", 0, NULL);
  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      guint pid;

      if (!is_pid_name (name))
        continue;
      pid = (guint) g_ascii_strtoull (name, NULL, 10);
      /* Never ourselves, should the gateway hold that port. */
      if (pid != me && pid_holds (pid, inodes))
        g_array_append_val (owners, pid);
    }
  for (guint i = 0; i < owners->len; i++)
    {
      guint pid = g_array_index (owners, guint, i);
      ProcStat st;
      gboolean child_of_owner = FALSE;

      if (read_proc_stat (pid, &st))
        for (guint j = 0; j < owners->len; j++)
          if (g_array_index (owners, guint, j) == st.ppid)
            child_of_owner = TRUE;
      if (!child_of_owner && (best == 0 || pid < best))
        best = pid;
    }
  return best;
}

/* Updates the state from /proc; TRUE when something listens on the
 * port, its PID (0: not visible to us) in *pid_out. */
static gboolean
refresh_now (MgwTeletelProcess *self,
             guint             *pid_out)
{
  g_autoptr(GArray) inodes = listening_inodes (self->port);
  guint pid = 0;

  if (inodes->len == 0)
    {
      mgw_teletel_set_state (MGW_TELETEL (self), MGW_TELETEL_STOPPED, 0);
      if (pid_out != NULL)
        *pid_out = 0;
      return FALSE;
    }
  pid = find_owner (self, inodes);
  if (pid != 0)
    self->pid_hint = pid;
  mgw_teletel_set_state (MGW_TELETEL (self), MGW_TELETEL_RUNNING, pid);
  if (pid_out != NULL)
    *pid_out = pid;
  return TRUE;
}

/* A /proc file of NUL-separated strings (cmdline, environ) as a strv;
 * NULL when unreadable or empty. */
static char **
read_nul_list (const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GPtrArray) list = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL) || len == 0)
    return NULL;
  list = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < len;)
    {
      gsize n = strnlen (contents + i, len - i);
      g_ptr_array_add (list, g_strndup (contents + i, n));
      i += n + 1;
    }
  g_ptr_array_add (list, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&list), FALSE);
}

static gboolean
process_gone (guint   pid,
              guint64 starttime)
{
  ProcStat st;

  if (!read_proc_stat (pid, &st))
    return kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
  /* A zombie no longer serves; another start time is another process. */
  return st.starttime != starttime || st.state == 'Z' || st.state == 'X';
}

/* --- stop --- */

typedef struct
{
  guint   pid;
  guint64 starttime;
  gint64  signalled_at;   /* monotonic µs of SIGTERM */
  gboolean killed;
  guint   poll_id;
} StopOp;

static void
stop_op_free (StopOp *op)
{
  g_clear_handle_id (&op->poll_id, g_source_remove);
  g_free (op);
}

static gboolean
stop_poll_cb (gpointer user_data)
{
  GTask *task = user_data;
  MgwTeletelProcess *self = g_task_get_source_object (task);
  StopOp *op = g_task_get_task_data (task);
  gint64 elapsed_ms = (g_get_monotonic_time () - op->signalled_at) / 1000;

  if (process_gone (op->pid, op->starttime))
    {
      g_message ("Teletel server: process %u has ended", op->pid);
      refresh_now (self, NULL);
      op->poll_id = 0;
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      op->poll_id = 0;
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  if (!op->killed && elapsed_ms >= self->grace_ms)
    {
      g_message ("Teletel server: process %u is still there %u ms after SIGTERM: SIGKILL",
                 op->pid, self->grace_ms);
      op->killed = TRUE;
      if (kill ((pid_t) op->pid, SIGKILL) != 0 && errno != ESRCH)
        {
          int saved = errno;
          op->poll_id = 0;
          g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED,
                                   _("cannot kill process %u: %s"), op->pid, g_strerror (saved));
          g_object_unref (task);
          return G_SOURCE_REMOVE;
        }
    }
  else if (op->killed && elapsed_ms >= (gint64) self->grace_ms + KILL_WAIT_MS)
    {
      op->poll_id = 0;
      g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_TIMED_OUT,
                               _("process %u is still there %u s after SIGKILL"),
                               op->pid, KILL_WAIT_MS / 1000);
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
remember (MgwTeletelProcess  *self,
          guint               pid,
          char              **argv,
          char               *cwd,
          char              **env)
{
  g_autofree char *line = NULL;

  if (argv == NULL)
    {
      /* A process without a command line (a zombie, a kernel thread):
       * keep what was remembered before. */
      g_warning ("Teletel server: cannot read the command line of process %u: "
                 "it will not be started again as it was", pid);
      g_strfreev (env);
      g_free (cwd);
      return;
    }
  if (cwd == NULL)
    g_warning ("Teletel server: cannot read the working directory of process %u; "
               "it will be started again in moipgwd's", pid);
  if (env == NULL)
    g_warning ("Teletel server: cannot read the environment of process %u; "
               "it will be started again with moipgwd's", pid);
  g_strfreev (self->remembered_argv);
  g_free (self->remembered_cwd);
  g_strfreev (self->remembered_env);
  self->remembered_argv = argv;
  self->remembered_cwd = cwd;
  self->remembered_env = env;
  line = g_strjoinv (" ", argv);
  g_message ("Teletel server: process %u was started as '%s' in %s", pid, line,
             cwd ? cwd : "an unknown directory");
}

static void
mgw_teletel_process_stop_async (MgwTeletel          *teletel,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  MgwTeletelProcess *self = MGW_TELETEL_PROCESS (teletel);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *cmdline_path = NULL;
  g_autofree char *cwd_path = NULL;
  g_autofree char *environ_path = NULL;
  char **argv;
  char *cwd;
  char **env;
  StopOp *op;
  ProcStat st;
  guint pid;

  g_task_set_source_tag (task, mgw_teletel_process_stop_async);
  if (!refresh_now (self, &pid))
    {
      g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED,
                               _("no process listens on port %u"), self->port);
      return;
    }
  if (pid == 0)
    {
      g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED,
                               _("a process listens on port %u but moipgwd cannot see which "
                                 "(another user's): run moipgwd as its user or root"),
                               self->port);
      return;
    }
  if (!read_proc_stat (pid, &st))
    {
      /* It ended just now. */
      refresh_now (self, NULL);
      g_task_return_boolean (task, TRUE);
      return;
    }

  cmdline_path = g_strdup_printf ("/proc/%u/cmdline", pid);
  cwd_path = g_strdup_printf ("/proc/%u/cwd", pid);
  environ_path = g_strdup_printf ("/proc/%u/environ", pid);
  argv = read_nul_list (cmdline_path);
  cwd = g_file_read_link (cwd_path, NULL);
  env = read_nul_list (environ_path);

  if (kill ((pid_t) pid, SIGTERM) != 0)
    {
      int saved = errno;

      g_strfreev (argv);
      g_free (cwd);
      g_strfreev (env);
      if (saved == ESRCH)
        {
          refresh_now (self, NULL);
          g_task_return_boolean (task, TRUE);
        }
      else if (saved == EPERM)
        g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED,
                                 _("process %u is not ours to signal (EPERM): run moipgwd "
                                   "as its user or root"), pid);
      else
        g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED,
                                 _("cannot signal process %u: %s"), pid, g_strerror (saved));
      return;
    }
  remember (self, pid, argv, cwd, env);
  g_message ("Teletel server: SIGTERM to process %u (listening on port %u)", pid, self->port);

  op = g_new0 (StopOp, 1);
  op->pid = pid;
  op->starttime = st.starttime;
  op->signalled_at = g_get_monotonic_time ();
  g_task_set_task_data (task, op, (GDestroyNotify) stop_op_free);
  op->poll_id = g_timeout_add (POLL_MS, stop_poll_cb, g_steal_pointer (&task));
}

static gboolean
mgw_teletel_process_stop_finish (MgwTeletel    *teletel,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- start --- */

typedef struct StartOp
{
  GSubprocess *child;
  char        *what;          /* the command line, for messages */
  gint64       spawned_at;    /* monotonic µs */
  gboolean     exited;
  char        *exit_reason;   /* "exit status 3", "signal 9"; NULL: success */
  guint        poll_id;
} StartOp;

static void
start_op_free (StartOp *op)
{
  g_clear_handle_id (&op->poll_id, g_source_remove);
  g_clear_object (&op->child);
  g_free (op->what);
  g_free (op->exit_reason);
  g_free (op);
}

/* Ends a start; error NULL: success. */
static void
start_done (GTask  *task,
            GError *error)
{
  MgwTeletelProcess *self = g_task_get_source_object (task);
  StartOp *op = g_task_get_task_data (task);

  op->poll_id = 0;
  if (self->starting == op)
    self->starting = NULL;
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
start_poll_cb (gpointer user_data)
{
  GTask *task = user_data;
  MgwTeletelProcess *self = g_task_get_source_object (task);
  StartOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  guint pid;

  if (refresh_now (self, &pid))
    {
      g_message ("Teletel server: process %u listens on port %u", pid, self->port);
      start_done (task, NULL);
      return G_SOURCE_REMOVE;
    }
  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    {
      start_done (task, error);
      return G_SOURCE_REMOVE;
    }
  /* Exit status 0 may be a server that forked into the background:
   * then wait for the port as for any other. */
  if (op->exited && op->exit_reason != NULL)
    {
      start_done (task, g_error_new (MGW_ERROR, MGW_ERROR_FAILED,
                                     _("the Teletel server '%s' ended (%s) before listening "
                                       "on port %u"), op->what, op->exit_reason, self->port));
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () - op->spawned_at >= (gint64) START_TIMEOUT_MS * 1000)
    {
      start_done (task, g_error_new (MGW_ERROR, MGW_ERROR_TIMED_OUT,
                                     _("nothing listens on port %u %u s after starting '%s'"),
                                     self->port, START_TIMEOUT_MS / 1000, op->what));
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Reaps what we started and says how it ended. */
static void
child_exited_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GSubprocess *child = G_SUBPROCESS (source);
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  MgwTeletelProcess *self;

  if (!g_subprocess_wait_finish (child, result, &error))
    return;   /* cancelled: `self` is being disposed */
  self = user_data;
  if (g_subprocess_get_if_signaled (child))
    reason = g_strdup_printf ("signal %d", g_subprocess_get_term_sig (child));
  else if (g_subprocess_get_if_exited (child) && g_subprocess_get_exit_status (child) != 0)
    reason = g_strdup_printf ("exit status %d", g_subprocess_get_exit_status (child));
  g_message ("Teletel server: the process moipgwd started has ended (%s)",
             reason ? reason : "exit status 0");
  if (self->starting != NULL && self->starting->child == child)
    {
      self->starting->exited = TRUE;
      self->starting->exit_reason = g_steal_pointer (&reason);
    }
}

/* In the child, before exec: a session of its own, so that it outlives
 * signals meant for the gateway's terminal or process group. */
static void
child_setup (gpointer user_data)
{
  setsid ();
}

static void
mgw_teletel_process_start_async (MgwTeletel          *teletel,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  MgwTeletelProcess *self = MGW_TELETEL_PROCESS (teletel);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  char **argv = self->command ? self->command : self->remembered_argv;
  StartOp *op;
  guint pid;

  g_task_set_source_tag (task, mgw_teletel_process_start_async);
  if (refresh_now (self, &pid))
    {
      if (pid != 0)
        g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED,
                                 _("the Teletel server is running already: process %u "
                                   "listens on port %u"), pid, self->port);
      else
        g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED,
                                 _("the Teletel server is running already: a process "
                                   "listens on port %u"), self->port);
      return;
    }
  if (argv == NULL || argv[0] == NULL)
    {
      g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED, "%s",
                               _("nothing to start: no command configured and no Teletel "
                                 "server was stopped by this gateway"));
      return;
    }

  op = g_new0 (StartOp, 1);
  op->what = g_strjoinv (" ", argv);
  g_task_set_task_data (task, op, (GDestroyNotify) start_op_free);

  /* Standard output and error are the gateway's (under systemd, the
   * journal); standard input is /dev/null. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  if (self->remembered_env != NULL)
    g_subprocess_launcher_set_environ (launcher, self->remembered_env);
  if (self->remembered_cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, self->remembered_cwd);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  op->child = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, &error);
  if (op->child == NULL)
    {
      g_task_return_new_error (task, MGW_ERROR, MGW_ERROR_FAILED,
                               _("cannot start the Teletel server '%s': %s"), op->what,
                               error->message);
      return;
    }
  g_message ("Teletel server: started '%s' as process %s in %s", op->what,
             g_subprocess_get_identifier (op->child),
             self->remembered_cwd ? self->remembered_cwd : "moipgwd's directory");
  g_subprocess_wait_async (op->child, self->cancellable, child_exited_cb, self);
  op->spawned_at = g_get_monotonic_time ();
  self->starting = op;
  op->poll_id = g_timeout_add (POLL_MS, start_poll_cb, g_steal_pointer (&task));
}

static gboolean
mgw_teletel_process_start_finish (MgwTeletel    *teletel,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
mgw_teletel_process_refresh (MgwTeletel *teletel)
{
  refresh_now (MGW_TELETEL_PROCESS (teletel), NULL);
}

/* --- GObject --- */

static void
mgw_teletel_process_dispose (GObject *object)
{
  MgwTeletelProcess *self = MGW_TELETEL_PROCESS (object);

  g_cancellable_cancel (self->cancellable);
  G_OBJECT_CLASS (mgw_teletel_process_parent_class)->dispose (object);
}

static void
mgw_teletel_process_finalize (GObject *object)
{
  MgwTeletelProcess *self = MGW_TELETEL_PROCESS (object);

  g_clear_object (&self->cancellable);
  g_strfreev (self->command);
  g_strfreev (self->remembered_argv);
  g_free (self->remembered_cwd);
  g_strfreev (self->remembered_env);
  G_OBJECT_CLASS (mgw_teletel_process_parent_class)->finalize (object);
}

static void
mgw_teletel_process_class_init (MgwTeletelProcessClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  MgwTeletelClass *teletel_class = MGW_TELETEL_CLASS (klass);

  object_class->dispose = mgw_teletel_process_dispose;
  object_class->finalize = mgw_teletel_process_finalize;
  teletel_class->backend = "process";
  teletel_class->refresh = mgw_teletel_process_refresh;
  teletel_class->stop_async = mgw_teletel_process_stop_async;
  teletel_class->stop_finish = mgw_teletel_process_stop_finish;
  teletel_class->start_async = mgw_teletel_process_start_async;
  teletel_class->start_finish = mgw_teletel_process_start_finish;
}

static void
mgw_teletel_process_init (MgwTeletelProcess *self)
{
  self->cancellable = g_cancellable_new ();
}

MgwTeletel *
mgw_teletel_process_new (guint16   port,
                         char    **command,
                         guint     grace_ms)
{
  MgwTeletelProcess *self;

  g_return_val_if_fail (port > 0, NULL);

  self = g_object_new (MGW_TYPE_TELETEL_PROCESS, NULL);
  self->port = port;
  self->command = command && command[0] ? g_strdupv (command) : NULL;
  self->grace_ms = grace_ms;
  refresh_now (self, NULL);
  return MGW_TELETEL (self);
}
