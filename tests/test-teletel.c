/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-teletel.c: control of the Teletel server (the console's k and r
 * keys, the D-Bus Teletel interface).
 *
 * The process backend against real, separate processes:
 * tests/lib/teletel-server.py (python3-websockets) started by the test
 * in a directory and with an environment variable of its own, and tiny
 * Python listeners, one of which ignores SIGTERM. The backend must find
 * the listener of the port, stop it, and start it again as it was
 * started (argv, directory, environment) or with the configured command.
 *
 * The systemd backend against a fake org.freedesktop.systemd1 written
 * here with GDBus, on a private dbus-daemon (tests/data/test-bus.conf)
 * that DBUS_SYSTEM_BUS_ADDRESS points at: GetUnit, LoadUnit, StartUnit,
 * StopUnit, RestartUnit, Subscribe, JobRemoved, the unit's ActiveState
 * and MainPID.
 *
 * The D-Bus service's Teletel interface, in this process, following a
 * backend and running its operations; and the [teletel] settings. */
#include "config.h"

#include "mgw-dbus-generated.h"
#include "mgw-dbus-service.h"
#include "mgw-error.h"
#include "mgw-teletel.h"
#include "mgw-teletel-process.h"
#include "mgw-teletel-systemd.h"
#include "mgw-test-util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
#define MARK_VAR "MGW_TEST_TELETEL_MARK"
#define OP_TIMEOUT_MS 20000

/* A listener: SIGTERM ignored or not (argv: port host ignore|default). */
#define LISTENER_CODE \
  "import signal, socket, sys\n" \
  "if sys.argv[3] == 'ignore':\n" \
  "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" \
  "host = sys.argv[2]\n" \
  "s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)\n" \
  "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n" \
  "s.bind((host, int(sys.argv[1])))\n" \
  "s.listen()\n" \
  "while True:\n" \
  "    signal.pause()\n"

/* --- helpers --- */

/* Children get SIGKILL when the test program dies (an aborted test
 * skips teardown). Runs in the child between fork and exec. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

typedef struct
{
  GSubprocess *process;
  guint        pid;
  gboolean     exited;
} Child;

static void
child_exited_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Child *child = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  child->exited = TRUE;
}

static Child *
child_spawn (const char * const *argv,
             const char         *cwd,
             const char         *mark)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  Child *child = g_new0 (Child, 1);

  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);
  if (mark != NULL)
    g_subprocess_launcher_setenv (launcher, MARK_VAR, mark, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  child->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  child->pid = (guint) g_ascii_strtoull (g_subprocess_get_identifier (child->process), NULL, 10);
  g_subprocess_wait_async (child->process, NULL, child_exited_cb, child);
  return child;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
child_wait_exit (Child *child)
{
  mgw_test_wait_until (flag_set, &child->exited, OP_TIMEOUT_MS, "a child process to end");
}

static void
child_free (Child *child)
{
  if (child == NULL)
    return;
  if (!child->exited)
    g_subprocess_force_exit (child->process);
  child_wait_exit (child);
  g_object_unref (child->process);
  g_free (child);
}

/* The /proc/PID/stat state, '\0' when there is no such process. */
static char
proc_state (guint pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%u/stat", pid);
  g_autofree char *contents = NULL;
  const char *end;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return '\0';
  end = strrchr (contents, ')');
  return end != NULL && end[1] == ' ' ? end[2] : '\0';
}

static gboolean
process_alive (guint pid)
{
  char state = proc_state (pid);
  return state != '\0' && state != 'Z' && state != 'X';
}

static guint
proc_session (guint pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%u/stat", pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  fields = g_strsplit (strrchr (contents, ')') + 2, " ", 0);
  return (guint) g_ascii_strtoull (fields[3], NULL, 10);
}

static char **
proc_nul_list (guint        pid,
               const char  *file)
{
  g_autofree char *path = g_strdup_printf ("/proc/%u/%s", pid, file);
  g_autofree char *contents = NULL;
  GPtrArray *list = g_ptr_array_new ();
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  for (gsize i = 0; i < len;)
    {
      gsize n = strnlen (contents + i, len - i);
      g_ptr_array_add (list, g_strndup (contents + i, n));
      i += n + 1;
    }
  g_ptr_array_add (list, NULL);
  return (char **) g_ptr_array_free (list, FALSE);
}

static char *
proc_cwd (guint pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%u/cwd", pid);
  g_autoptr(GError) error = NULL;
  char *cwd = g_file_read_link (path, &error);

  g_assert_no_error (error);
  return cwd;
}

static char *
real_path (const char *path)
{
  char buf[PATH_MAX];

  g_assert_nonnull (realpath (path, buf));
  return g_strdup (buf);
}

static void
assert_strv_equal (char               **have,
                   const char * const  *want)
{
  g_autofree char *h = g_strjoinv (" | ", have);
  g_autofree char *w = g_strjoinv (" | ", (char **) want);

  g_assert_cmpstr (h, ==, w);
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  MgwTeletel      *teletel;
  MgwTeletelState  state;
  guint            pid;       /* G_MAXUINT: any but 0 */
  gboolean         refresh;
} StateWait;

static gboolean
state_reached (gpointer data)
{
  StateWait *w = data;
  guint pid;

  if (w->refresh)
    mgw_teletel_refresh (w->teletel);
  pid = mgw_teletel_get_pid (w->teletel);
  return mgw_teletel_get_state (w->teletel) == w->state &&
         (w->pid == G_MAXUINT ? pid != 0 : pid == w->pid);
}

/* Waits for a state and PID, refreshing (as the gateway does
 * periodically) when asked. */
static void
wait_state (MgwTeletel      *teletel,
            MgwTeletelState  state,
            guint            pid,
            gboolean         refresh)
{
  StateWait w = { teletel, state, pid, refresh };
  guint tick = g_timeout_add (20, tick_cb, NULL);
  g_autofree char *what = g_strdup_printf ("the Teletel server to be %s with PID %u",
                                           mgw_teletel_state_to_string (state), pid);

  mgw_test_wait_until (state_reached, &w, OP_TIMEOUT_MS, what);
  g_source_remove (tick);
}

static void
result_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
result_ready (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

typedef enum {
  OP_STOP,
  OP_START,
  OP_RESTART,
} Op;

static void
op_begin (MgwTeletel    *teletel,
          Op             op,
          GAsyncResult **result)
{
  *result = NULL;
  if (op == OP_STOP)
    mgw_teletel_stop_async (teletel, NULL, result_cb, result);
  else if (op == OP_START)
    mgw_teletel_start_async (teletel, NULL, result_cb, result);
  else
    mgw_teletel_restart_async (teletel, NULL, result_cb, result);
}

static gboolean
op_end (MgwTeletel    *teletel,
        Op             op,
        GAsyncResult **result,
        GError       **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  mgw_test_wait_until (result_ready, result, OP_TIMEOUT_MS, "a Teletel operation to end");
  res = g_steal_pointer (result);
  if (op == OP_STOP)
    return mgw_teletel_stop_finish (teletel, res, error);
  if (op == OP_START)
    return mgw_teletel_start_finish (teletel, res, error);
  return mgw_teletel_restart_finish (teletel, res, error);
}

static gboolean
run_op (MgwTeletel  *teletel,
        Op           op,
        GError     **error)
{
  GAsyncResult *result = NULL;

  op_begin (teletel, op, &result);
  return op_end (teletel, op, &result, error);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static gboolean
is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* Drops the last reference and waits until the object is finalized
 * (pending callbacks may hold it a little longer). */
static void
unref_and_wait (gpointer object_ptr)
{
  GObject **object = object_ptr;

  if (*object == NULL)
    return;
  g_object_add_weak_pointer (*object, (gpointer *) object);
  g_object_unref (*object);
  mgw_test_wait_until (is_null, object, OP_TIMEOUT_MS, "an object to be finalized");
}

/* --- process backend --- */

typedef struct
{
  char       *dir;       /* the original server's working directory */
  char       *script;    /* teletel-server.py */
  guint16     port;
  char       *port_arg;
  Child      *original;  /* started by the test */
  GArray     *started;   /* PIDs started by the backend, killed at the end */
  MgwTeletel *teletel;
} ProcFixture;

static void
proc_setup (ProcFixture   *f,
            gconstpointer  data)
{
  if (!g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE))
    g_test_fail_printf ("%s is missing: install the Debian package python3-websockets", PYTHON);
  f->dir = mgw_test_tmp_dir ();
  f->script = g_test_build_filename (G_TEST_DIST, "lib", "teletel-server.py", NULL);
  f->port = mgw_test_closed_port ();
  f->port_arg = g_strdup_printf ("%u", f->port);
  f->started = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
proc_teardown (ProcFixture   *f,
               gconstpointer  data)
{
  unref_and_wait (&f->teletel);
  for (guint i = 0; i < f->started->len; i++)
    {
      guint pid = g_array_index (f->started, guint, i);

      if (process_alive (pid))
        kill ((pid_t) pid, SIGKILL);
      for (guint n = 0; n < 250 && process_alive (pid); n++)
        mgw_test_run_for (20);
    }
  g_clear_pointer (&f->original, child_free);
  g_array_unref (f->started);
  g_free (f->port_arg);
  g_free (f->script);
  g_free (f->dir);
}

/* The PID now reported, after a start: a new process to kill at the end. */
static guint
started_pid (ProcFixture *f)
{
  guint pid = mgw_teletel_get_pid (f->teletel);

  g_assert_cmpuint (pid, !=, 0);
  g_array_append_val (f->started, pid);
  return pid;
}

static void
assert_environ_has (guint       pid,
                    const char *entry)
{
  g_auto(GStrv) env = proc_nul_list (pid, "environ");

  g_assert_true (g_strv_contains ((const char * const *) env, entry));
}

/* k then r then restart: the listener is found, stopped with SIGTERM
 * (it exits cleanly), and started again with its argv, directory and
 * environment, in a session of its own, on the same port; the state and
 * PID are notified all along. */
static void
test_process_cycle (ProcFixture   *f,
                    gconstpointer  data)
{
  g_autofree char *mark = g_strdup_printf ("cycle-%u", g_random_int ());
  g_autofree char *mark_entry = g_strdup_printf (MARK_VAR "=%s", mark);
  g_autofree char *dir = real_path (f->dir);
  const char *argv[] = { PYTHON, f->script, "--port", f->port_arg, "--quiet",
                         "--die-with-parent", NULL };
  g_autoptr(GError) error = NULL;
  guint state_notified = 0;
  guint pid_notified = 0;
  guint first, second, third;

  f->original = child_spawn (argv, f->dir, mark);
  f->teletel = mgw_teletel_process_new (f->port, NULL, 3000);
  g_assert_cmpstr (mgw_teletel_get_backend (f->teletel), ==, "process");
  g_signal_connect (f->teletel, "notify::state", G_CALLBACK (count_notify_cb), &state_notified);
  g_signal_connect (f->teletel, "notify::pid", G_CALLBACK (count_notify_cb), &pid_notified);
  wait_state (f->teletel, MGW_TELETEL_RUNNING, f->original->pid, TRUE);

  /* k */
  g_assert_true (run_op (f->teletel, OP_STOP, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mgw_teletel_get_state (f->teletel), ==, MGW_TELETEL_STOPPED);
  g_assert_cmpuint (mgw_teletel_get_pid (f->teletel), ==, 0);
  child_wait_exit (f->original);
  g_assert_true (g_subprocess_get_if_exited (f->original->process));
  g_assert_cmpint (g_subprocess_get_exit_status (f->original->process), ==, 0);
  g_assert_false (process_alive (f->original->pid));

  /* r */
  g_assert_true (run_op (f->teletel, OP_START, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mgw_teletel_get_state (f->teletel), ==, MGW_TELETEL_RUNNING);
  first = started_pid (f);
  g_assert_cmpuint (first, !=, f->original->pid);
  {
    g_auto(GStrv) cmdline = proc_nul_list (first, "cmdline");
    g_autofree char *cwd = proc_cwd (first);

    assert_strv_equal (cmdline, argv);
    g_assert_cmpstr (cwd, ==, dir);
    assert_environ_has (first, mark_entry);
    g_assert_cmpuint (proc_session (first), ==, first);
  }

  /* Restart: stopped (it was remembered again) and started again. */
  g_assert_true (run_op (f->teletel, OP_RESTART, &error));
  g_assert_no_error (error);
  second = started_pid (f);
  g_assert_cmpuint (second, !=, first);
  g_assert_false (process_alive (first));
  {
    g_autofree char *cwd = proc_cwd (second);
    g_assert_cmpstr (cwd, ==, dir);
    assert_environ_has (second, mark_entry);
  }

  /* Restart of a stopped server starts it. */
  g_assert_true (run_op (f->teletel, OP_STOP, &error));
  g_assert_cmpint (mgw_teletel_get_state (f->teletel), ==, MGW_TELETEL_STOPPED);
  g_assert_true (run_op (f->teletel, OP_RESTART, &error));
  g_assert_no_error (error);
  third = started_pid (f);
  g_assert_cmpuint (third, !=, second);

  g_assert_true (run_op (f->teletel, OP_STOP, &error));
  g_assert_no_error (error);
  g_assert_false (process_alive (third));
  g_assert_cmpuint (state_notified, >=, 5);
  g_assert_cmpuint (pid_notified, >=, 5);
}

/* A server that ignores SIGTERM gets SIGKILL after the grace period. */
static void
test_process_sigkill (ProcFixture   *f,
                      gconstpointer  data)
{
  const char *argv[] = { PYTHON, "-c", LISTENER_CODE, f->port_arg, "127.0.0.1", "ignore", NULL };
  g_autoptr(GError) error = NULL;
  gint64 begin;

  f->original = child_spawn (argv, NULL, NULL);
  f->teletel = mgw_teletel_process_new (f->port, NULL, 300);
  wait_state (f->teletel, MGW_TELETEL_RUNNING, f->original->pid, TRUE);

  begin = g_get_monotonic_time ();
  g_assert_true (run_op (f->teletel, OP_STOP, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - begin, >=, 300 * 1000);
  child_wait_exit (f->original);
  g_assert_true (g_subprocess_get_if_signaled (f->original->process));
  g_assert_cmpint (g_subprocess_get_term_sig (f->original->process), ==, SIGKILL);
  g_assert_cmpint (mgw_teletel_get_state (f->teletel), ==, MGW_TELETEL_STOPPED);
}

/* An IPv6 listener is found in /proc/net/tcp6; SIGTERM ends it. */
static void
test_process_ipv6 (ProcFixture   *f,
                   gconstpointer  data)
{
  const char *argv[] = { PYTHON, "-c", LISTENER_CODE, f->port_arg, "::1", "default", NULL };
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GError) error = NULL;

  if (probe == NULL || !g_socket_bind (probe, address, TRUE, NULL))
    {
      g_test_skip ("no IPv6 loopback");
      return;
    }
  f->original = child_spawn (argv, NULL, NULL);
  f->teletel = mgw_teletel_process_new (f->port, NULL, 3000);
  wait_state (f->teletel, MGW_TELETEL_RUNNING, f->original->pid, TRUE);
  g_assert_true (run_op (f->teletel, OP_STOP, &error));
  g_assert_no_error (error);
  child_wait_exit (f->original);
  g_assert_true (g_subprocess_get_if_signaled (f->original->process));
  g_assert_cmpint (g_subprocess_get_term_sig (f->original->process), ==, SIGTERM);
}

/* Nothing listens: stop says so; nothing was stopped and no command is
 * configured: start says so. */
static void
test_process_errors (ProcFixture   *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *not_found = g_strdup_printf ("no process listens on port %u", f->port);

  f->teletel = mgw_teletel_process_new (f->port, NULL, 3000);
  g_assert_cmpint (mgw_teletel_get_state (f->teletel), ==, MGW_TELETEL_STOPPED);
  g_assert_cmpuint (mgw_teletel_get_pid (f->teletel), ==, 0);

  g_assert_false (run_op (f->teletel, OP_STOP, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, not_found);
  g_clear_error (&error);

  g_assert_false (run_op (f->teletel, OP_START, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "nothing to start: no command configured and no "
                   "Teletel server was stopped by this gateway");
  g_clear_error (&error);

  /* Restart of nothing: the same start error. */
  g_assert_false (run_op (f->teletel, OP_RESTART, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "nothing to start"));
}

/* The configured command is what starts, in the gateway's directory
 * when nothing was remembered; the server then runs in a session of
 * its own. */
static void
test_process_command (ProcFixture   *f,
                      gconstpointer  data)
{
  const char *command[] = { PYTHON, f->script, "--port", f->port_arg, "--quiet",
                            "--die-with-parent", NULL };
  g_autofree char *here = g_get_current_dir ();
  g_autofree char *here_real = real_path (here);
  g_autoptr(GError) error = NULL;
  guint pid;

  f->teletel = mgw_teletel_process_new (f->port, (char **) command, 3000);
  g_assert_true (run_op (f->teletel, OP_START, &error));
  g_assert_no_error (error);
  pid = started_pid (f);
  {
    g_auto(GStrv) cmdline = proc_nul_list (pid, "cmdline");
    g_autofree char *cwd = proc_cwd (pid);

    assert_strv_equal (cmdline, command);
    g_assert_cmpstr (cwd, ==, here_real);
    g_assert_cmpuint (proc_session (pid), ==, pid);
  }
  /* Start while it runs. */
  {
    g_autofree char *running = g_strdup_printf ("the Teletel server is running already: "
                                                "process %u listens on port %u", pid, f->port);
    g_assert_false (run_op (f->teletel, OP_START, &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
    g_assert_cmpstr (error->message, ==, running);
    g_clear_error (&error);
  }
  g_assert_true (run_op (f->teletel, OP_STOP, &error));
  g_assert_no_error (error);
  g_assert_false (process_alive (pid));
}

/* With a command configured and a server stopped: the command starts,
 * in the stopped server's directory and environment. */
static void
test_process_command_over_remembered (ProcFixture   *f,
                                      gconstpointer  data)
{
  g_autofree char *mark = g_strdup_printf ("command-%u", g_random_int ());
  g_autofree char *mark_entry = g_strdup_printf (MARK_VAR "=%s", mark);
  g_autofree char *dir = real_path (f->dir);
  const char *argv[] = { PYTHON, f->script, "--page-hex", "0c41", "--port", f->port_arg,
                         "--quiet", "--die-with-parent", NULL };
  const char *command[] = { PYTHON, f->script, "--port", f->port_arg, "--quiet",
                            "--die-with-parent", NULL };
  g_autoptr(GError) error = NULL;
  guint pid;

  f->original = child_spawn (argv, f->dir, mark);
  f->teletel = mgw_teletel_process_new (f->port, (char **) command, 3000);
  wait_state (f->teletel, MGW_TELETEL_RUNNING, f->original->pid, TRUE);
  g_assert_true (run_op (f->teletel, OP_STOP, &error));
  g_assert_no_error (error);
  g_assert_true (run_op (f->teletel, OP_START, &error));
  g_assert_no_error (error);
  pid = started_pid (f);
  {
    g_auto(GStrv) cmdline = proc_nul_list (pid, "cmdline");
    g_autofree char *cwd = proc_cwd (pid);

    assert_strv_equal (cmdline, command);
    g_assert_cmpstr (cwd, ==, dir);
    assert_environ_has (pid, mark_entry);
  }
}

/* A command that ends before it listens: start reports how it ended. */
static void
test_process_start_fails (ProcFixture   *f,
                          gconstpointer  data)
{
  const char *command[] = { PYTHON, "-c", "import sys; sys.exit(3)", NULL };
  const char *missing[] = { "/nonexistent/teletel-server", NULL };
  g_autoptr(GError) error = NULL;

  f->teletel = mgw_teletel_process_new (f->port, (char **) command, 3000);
  g_assert_false (run_op (f->teletel, OP_START, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "ended (exit status 3) before listening on port"));
  g_clear_error (&error);
  g_clear_object (&f->teletel);

  f->teletel = mgw_teletel_process_new (f->port, (char **) missing, 3000);
  g_assert_false (run_op (f->teletel, OP_START, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message,
                                   "cannot start the Teletel server '/nonexistent/teletel-server': "));
}

/* One operation at a time: a second one meanwhile fails at once. */
static void
test_process_busy (ProcFixture   *f,
                   gconstpointer  data)
{
  const char *argv[] = { PYTHON, "-c", LISTENER_CODE, f->port_arg, "127.0.0.1", "ignore", NULL };
  GAsyncResult *first = NULL;
  GAsyncResult *second = NULL;
  g_autoptr(GError) error = NULL;

  f->original = child_spawn (argv, NULL, NULL);
  f->teletel = mgw_teletel_process_new (f->port, NULL, 200);
  wait_state (f->teletel, MGW_TELETEL_RUNNING, f->original->pid, TRUE);
  op_begin (f->teletel, OP_STOP, &first);
  op_begin (f->teletel, OP_START, &second);
  g_assert_false (op_end (f->teletel, OP_START, &second, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "already under way"));
  g_clear_error (&error);
  g_assert_true (op_end (f->teletel, OP_STOP, &first, &error));
  g_assert_no_error (error);
}

/* --- a fake systemd on a private bus --- */

static const char fake_xml[] =
  "<node>"
  " <interface name='org.freedesktop.systemd1.Manager'>"
  "  <method name='GetUnit'><arg type='s' direction='in'/><arg type='o' direction='out'/></method>"
  "  <method name='LoadUnit'><arg type='s' direction='in'/><arg type='o' direction='out'/></method>"
  "  <method name='StartUnit'><arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "   <arg type='o' direction='out'/></method>"
  "  <method name='StopUnit'><arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "   <arg type='o' direction='out'/></method>"
  "  <method name='RestartUnit'><arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "   <arg type='o' direction='out'/></method>"
  "  <method name='Subscribe'/>"
  "  <signal name='JobRemoved'><arg type='u'/><arg type='o'/><arg type='s'/><arg type='s'/></signal>"
  " </interface>"
  " <interface name='org.freedesktop.systemd1.Unit'>"
  "  <property name='ActiveState' type='s' access='read'/>"
  " </interface>"
  " <interface name='org.freedesktop.systemd1.Service'>"
  "  <property name='MainPID' type='u' access='read'/>"
  " </interface>"
  "</node>";

typedef struct
{
  char    *name;
  char    *path;
  char    *active;
  guint32  pid;
  gboolean loaded;
  guint    unit_id;      /* object registrations, once loaded */
  guint    service_id;
} FakeUnit;

typedef struct
{
  GSubprocess     *daemon;
  char            *address;
  GDBusConnection *conn;         /* the fake systemd's */
  GDBusNodeInfo   *info;
  guint            manager_id;
  GHashTable      *units;        /* name -> FakeUnit */
  guint            next_job;
  guint32          next_pid;
  /* What was asked, for the tests. */
  guint            n_get_unit;
  guint            n_load_unit;
  guint            n_start;
  guint            n_stop;
  guint            n_restart;
  guint            n_subscribe;
  char            *last_mode;
} Fake;

static Fake *fake;

static void
fake_unit_free (FakeUnit *unit)
{
  if (unit->unit_id != 0)
    g_dbus_connection_unregister_object (fake->conn, unit->unit_id);
  if (unit->service_id != 0)
    g_dbus_connection_unregister_object (fake->conn, unit->service_id);
  g_free (unit->name);
  g_free (unit->path);
  g_free (unit->active);
  g_free (unit);
}

static void
fake_reset_counts (void)
{
  fake->n_get_unit = fake->n_load_unit = 0;
  fake->n_start = fake->n_stop = fake->n_restart = fake->n_subscribe = 0;
  g_clear_pointer (&fake->last_mode, g_free);
}

static GVariant *
fake_get_property (GDBusConnection  *connection,
                   const char       *sender,
                   const char       *path,
                   const char       *iface,
                   const char       *property,
                   GError          **error,
                   gpointer          user_data)
{
  FakeUnit *unit = user_data;

  if (strcmp (property, "ActiveState") == 0)
    return g_variant_new_string (unit->active);
  return g_variant_new_uint32 (unit->pid);
}

static const GDBusInterfaceVTable fake_unit_vtable = { NULL, fake_get_property, NULL, { 0 } };

/* A unit systemd knows of, loaded or not yet. */
static FakeUnit *
fake_add_unit (const char *name,
               const char *active,
               guint32     pid)
{
  FakeUnit *unit = g_new0 (FakeUnit, 1);
  GString *path = g_string_new ("/org/freedesktop/systemd1/unit/");

  for (const char *p = name; *p != '\0'; p++)
    if (g_ascii_isalnum (*p))
      g_string_append_c (path, *p);
    else
      g_string_append_printf (path, "_%02x", (guchar) *p);
  unit->name = g_strdup (name);
  unit->path = g_string_free (path, FALSE);
  unit->active = g_strdup (active);
  unit->pid = pid;
  g_hash_table_replace (fake->units, unit->name, unit);
  return unit;
}

static void
fake_load (FakeUnit *unit)
{
  g_autoptr(GError) error = NULL;

  if (unit->loaded)
    return;
  unit->loaded = TRUE;
  unit->unit_id = g_dbus_connection_register_object (fake->conn, unit->path,
                                                     fake->info->interfaces[1],
                                                     &fake_unit_vtable, unit, NULL, &error);
  g_assert_no_error (error);
  unit->service_id = g_dbus_connection_register_object (fake->conn, unit->path,
                                                        fake->info->interfaces[2],
                                                        &fake_unit_vtable, unit, NULL, &error);
  g_assert_no_error (error);
}

/* Changes a unit as if by someone else, with PropertiesChanged. */
static void
fake_set_state (FakeUnit   *unit,
                const char *active,
                guint32     pid)
{
  GVariantBuilder changed;

  g_free (unit->active);
  unit->active = g_strdup (active);
  unit->pid = pid;
  g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&changed, "{sv}", "ActiveState", g_variant_new_string (active));
  g_dbus_connection_emit_signal (fake->conn, NULL, unit->path, "org.freedesktop.DBus.Properties",
                                 "PropertiesChanged",
                                 g_variant_new ("(sa{sv}as)", "org.freedesktop.systemd1.Unit",
                                                &changed, NULL),
                                 NULL);
}

typedef struct
{
  guint32  id;
  char    *job;
  char    *unit;
  char    *result;
} FakeJob;

static void
fake_job_free (FakeJob *job)
{
  g_free (job->job);
  g_free (job->unit);
  g_free (job->result);
  g_free (job);
}

static void
fake_emit_job_removed (FakeJob *job)
{
  g_dbus_connection_emit_signal (fake->conn, NULL, "/org/freedesktop/systemd1",
                                 "org.freedesktop.systemd1.Manager", "JobRemoved",
                                 g_variant_new ("(uoss)", job->id, job->job, job->unit, job->result),
                                 NULL);
}

static gboolean
fake_job_done_cb (gpointer data)
{
  fake_emit_job_removed (data);
  return G_SOURCE_REMOVE;
}

/* StartUnit, StopUnit, RestartUnit: the unit changes, the job is
 * answered at once and its JobRemoved follows a little later (before
 * the answer for early.service). broken.service's jobs fail,
 * denied.service's calls are refused. */
static void
fake_job (GDBusMethodInvocation *invocation,
          const char            *method,
          const char            *name,
          const char            *mode)
{
  FakeUnit *unit = g_hash_table_lookup (fake->units, name);
  FakeJob *job;
  gboolean broken = strcmp (name, "broken.service") == 0;

  g_free (fake->last_mode);
  fake->last_mode = g_strdup (mode);
  if (strcmp (name, "denied.service") == 0)
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
                                                  "Interactive authentication required.");
      return;
    }
  if (unit == NULL)
    unit = fake_add_unit (name, "inactive", 0);
  fake_load (unit);
  g_free (unit->active);
  if (broken)
    {
      unit->active = g_strdup ("failed");
      unit->pid = 0;
    }
  else if (strcmp (method, "StopUnit") == 0)
    {
      unit->active = g_strdup ("inactive");
      unit->pid = 0;
    }
  else
    {
      unit->active = g_strdup ("active");
      unit->pid = fake->next_pid++;
    }
  job = g_new0 (FakeJob, 1);
  job->id = ++fake->next_job;
  job->job = g_strdup_printf ("/org/freedesktop/systemd1/job/%u", job->id);
  job->unit = g_strdup (name);
  job->result = g_strdup (broken ? "failed" : "done");
  if (strcmp (name, "early.service") == 0)
    {
      fake_emit_job_removed (job);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", job->job));
      fake_job_free (job);
      return;
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", job->job));
  g_timeout_add_full (G_PRIORITY_DEFAULT, 30, fake_job_done_cb, job,
                      (GDestroyNotify) fake_job_free);
}

static void
fake_method_call (GDBusConnection       *connection,
                  const char            *sender,
                  const char            *path,
                  const char            *iface,
                  const char            *method,
                  GVariant              *parameters,
                  GDBusMethodInvocation *invocation,
                  gpointer               user_data)
{
  const char *name = NULL;
  const char *mode = NULL;
  FakeUnit *unit;

  if (strcmp (method, "Subscribe") == 0)
    {
      fake->n_subscribe++;
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
  if (g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ss)")))
    g_variant_get (parameters, "(&s&s)", &name, &mode);
  else
    g_variant_get (parameters, "(&s)", &name);
  unit = g_hash_table_lookup (fake->units, name);

  if (strcmp (method, "GetUnit") == 0)
    {
      fake->n_get_unit++;
      if (unit == NULL || !unit->loaded)
        g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.systemd1.NoSuchUnit",
                                                    "Unit not loaded.");
      else
        g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", unit->path));
      return;
    }
  if (strcmp (method, "LoadUnit") == 0)
    {
      fake->n_load_unit++;
      if (unit == NULL)
        unit = fake_add_unit (name, "inactive", 0);
      fake_load (unit);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", unit->path));
      return;
    }
  if (strcmp (method, "StartUnit") == 0)
    fake->n_start++;
  else if (strcmp (method, "StopUnit") == 0)
    fake->n_stop++;
  else
    fake->n_restart++;
  fake_job (invocation, method, name, mode);
}

static const GDBusInterfaceVTable fake_manager_vtable = { fake_method_call, NULL, NULL, { 0 } };

/* One private bus for the whole program: the backend's system bus
 * connection is a process-wide singleton. The gateway's D-Bus service
 * uses it too, as its session bus. */
static void
fake_ensure (void)
{
  g_autofree char *conf = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint32 owned = 0;

  if (fake != NULL)
    return;
  fake = g_new0 (Fake, 1);
  conf = g_test_build_filename (G_TEST_DIST, "data", "test-bus.conf", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  fake->daemon = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", "--config-file",
                                              conf, "--print-address", "--nofork", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fake->daemon));
  fake->address = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fake->address);
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", fake->address, TRUE);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", fake->address, TRUE);

  fake->conn = g_dbus_connection_new_for_address_sync (fake->address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  fake->info = g_dbus_node_info_new_for_xml (fake_xml, &error);
  g_assert_no_error (error);
  fake->units = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) fake_unit_free);
  fake->next_pid = 4000;
  fake->manager_id = g_dbus_connection_register_object (fake->conn, "/org/freedesktop/systemd1",
                                                        fake->info->interfaces[0],
                                                        &fake_manager_vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (fake->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.systemd1", 4),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &owned);
  g_assert_cmpuint (owned, ==, 1);
}

static void
close_singleton (GBusType type)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (type, NULL, NULL);

  if (bus == NULL)
    return;
  /* Not the end of the program when the bus goes. */
  g_dbus_connection_set_exit_on_close (bus, FALSE);
  g_dbus_connection_close_sync (bus, NULL, NULL);
}

static void
fake_shutdown (void)
{
  if (fake == NULL)
    return;
  close_singleton (G_BUS_TYPE_SYSTEM);
  close_singleton (G_BUS_TYPE_SESSION);
  g_hash_table_unref (fake->units);
  g_dbus_connection_unregister_object (fake->conn, fake->manager_id);
  g_dbus_connection_close_sync (fake->conn, NULL, NULL);
  g_clear_object (&fake->conn);
  g_dbus_node_info_unref (fake->info);
  g_subprocess_force_exit (fake->daemon);
  g_subprocess_wait (fake->daemon, NULL, NULL);
  g_clear_object (&fake->daemon);
  g_free (fake->address);
  g_free (fake->last_mode);
  g_clear_pointer (&fake, g_free);
  g_unsetenv ("DBUS_SYSTEM_BUS_ADDRESS");
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
}

/* --- systemd backend --- */

/* The state and PID come from the unit (loaded on demand); stop, start
 * and restart are systemd jobs in "replace" mode, over when JobRemoved
 * says so, with the state read again by then; others' changes are
 * followed through PropertiesChanged. */
static void
test_systemd_cycle (void)
{
  g_autoptr(MgwTeletel) teletel = NULL;
  g_autoptr(GError) error = NULL;
  FakeUnit *unit;
  guint restart_pid;

  fake_ensure ();
  fake_reset_counts ();
  unit = fake_add_unit ("teletel-cycle.service", "active", 1234);

  teletel = mgw_teletel_systemd_new ("teletel-cycle");
  g_assert_cmpstr (mgw_teletel_get_backend (teletel), ==, "systemd");
  wait_state (teletel, MGW_TELETEL_RUNNING, 1234, FALSE);
  g_assert_cmpuint (fake->n_get_unit, ==, 1);
  g_assert_cmpuint (fake->n_load_unit, ==, 1);
  g_assert_cmpuint (fake->n_subscribe, ==, 1);

  g_assert_true (run_op (teletel, OP_STOP, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake->n_stop, ==, 1);
  g_assert_cmpstr (fake->last_mode, ==, "replace");
  g_assert_cmpint (mgw_teletel_get_state (teletel), ==, MGW_TELETEL_STOPPED);
  g_assert_cmpuint (mgw_teletel_get_pid (teletel), ==, 0);

  g_assert_true (run_op (teletel, OP_START, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake->n_start, ==, 1);
  g_assert_cmpint (mgw_teletel_get_state (teletel), ==, MGW_TELETEL_RUNNING);
  g_assert_cmpuint (mgw_teletel_get_pid (teletel), ==, unit->pid);
  restart_pid = unit->pid;

  /* systemd's own restart, not a stop and a start. */
  g_assert_true (run_op (teletel, OP_RESTART, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake->n_restart, ==, 1);
  g_assert_cmpuint (fake->n_stop, ==, 1);
  g_assert_cmpuint (fake->n_start, ==, 1);
  g_assert_cmpuint (mgw_teletel_get_pid (teletel), ==, unit->pid);
  g_assert_cmpuint (mgw_teletel_get_pid (teletel), !=, restart_pid);

  /* Someone else's doing. */
  fake_set_state (unit, "failed", 0);
  wait_state (teletel, MGW_TELETEL_STOPPED, 0, FALSE);
  fake_set_state (unit, "activating", 77);
  wait_state (teletel, MGW_TELETEL_UNKNOWN, 77, FALSE);
  fake_set_state (unit, "active", 78);
  wait_state (teletel, MGW_TELETEL_RUNNING, 78, FALSE);

  /* Loaded now: GetUnit is enough. */
  fake_reset_counts ();
  unref_and_wait (&teletel);
  teletel = mgw_teletel_systemd_new ("teletel-cycle.service");
  wait_state (teletel, MGW_TELETEL_RUNNING, 78, FALSE);
  g_assert_cmpuint (fake->n_get_unit, ==, 1);
  g_assert_cmpuint (fake->n_load_unit, ==, 0);
  unref_and_wait (&teletel);
}

/* A job ending with a result other than "done" is the operation's
 * error, naming the result. */
static void
test_systemd_failed_job (void)
{
  g_autoptr(MgwTeletel) teletel = NULL;
  g_autoptr(GError) error = NULL;

  fake_ensure ();
  teletel = mgw_teletel_systemd_new ("broken.service");
  wait_state (teletel, MGW_TELETEL_STOPPED, 0, FALSE);
  g_assert_false (run_op (teletel, OP_START, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "systemd could not start broken.service: the job ended with result 'failed'");
  g_assert_cmpint (mgw_teletel_get_state (teletel), ==, MGW_TELETEL_STOPPED);
  g_clear_error (&error);
  g_assert_false (run_op (teletel, OP_RESTART, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "result 'failed'"));
  unref_and_wait (&teletel);
}

/* JobRemoved before the call's answer is not missed. */
static void
test_systemd_early_job_removed (void)
{
  g_autoptr(MgwTeletel) teletel = NULL;
  g_autoptr(GError) error = NULL;

  fake_ensure ();
  teletel = mgw_teletel_systemd_new ("early.service");
  wait_state (teletel, MGW_TELETEL_STOPPED, 0, FALSE);
  g_assert_true (run_op (teletel, OP_START, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mgw_teletel_get_state (teletel), ==, MGW_TELETEL_RUNNING);
  g_assert_true (run_op (teletel, OP_STOP, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mgw_teletel_get_state (teletel), ==, MGW_TELETEL_STOPPED);
  unref_and_wait (&teletel);
}

/* A call systemd refuses: its message is the error. */
static void
test_systemd_refused (void)
{
  g_autoptr(MgwTeletel) teletel = NULL;
  g_autoptr(GError) error = NULL;

  fake_ensure ();
  teletel = mgw_teletel_systemd_new ("denied.service");
  wait_state (teletel, MGW_TELETEL_STOPPED, 0, FALSE);
  g_assert_false (run_op (teletel, OP_START, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "systemd cannot start denied.service: Interactive authentication required.");
  unref_and_wait (&teletel);
}

/* --- the D-Bus service --- */

static void
proxy_ready_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  *(MgwDBusTeletel **) user_data = mgw_dbus_teletel_proxy_new_finish (result, &error);
  g_assert_no_error (error);
}

typedef struct
{
  MgwDBusTeletel *proxy;
  const char     *backend;
  const char     *state;
  guint           pid;
} ProxyWait;

static gboolean
proxy_shows (gpointer data)
{
  ProxyWait *w = data;

  return g_strcmp0 (mgw_dbus_teletel_get_backend (w->proxy), w->backend) == 0 &&
         g_strcmp0 (mgw_dbus_teletel_get_state (w->proxy), w->state) == 0 &&
         mgw_dbus_teletel_get_pid (w->proxy) == w->pid;
}

static void
wait_proxy (MgwDBusTeletel *proxy,
            const char     *backend,
            const char     *state,
            guint           pid)
{
  ProxyWait w = { proxy, backend, state, pid };
  g_autofree char *what = g_strdup_printf ("Teletel on D-Bus: %s, %s, %u", backend, state, pid);

  mgw_test_wait_until (proxy_shows, &w, OP_TIMEOUT_MS, what);
}

/* Calls Stop, Start or Restart as a client would (asynchronously: the
 * service runs in this very main loop); the D-Bus error name in
 * *error_name. */
static gboolean
call_teletel (MgwDBusTeletel  *proxy,
              const char      *method,
              char           **error_name,
              GError         **error)
{
  GAsyncResult *result = NULL;
  g_autoptr(GVariant) reply = NULL;

  g_dbus_proxy_call (G_DBUS_PROXY (proxy), method, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                     result_cb, &result);
  mgw_test_wait_until (result_ready, &result, OP_TIMEOUT_MS, method);
  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (proxy), result, error);
  g_object_unref (result);
  if (reply == NULL && error_name != NULL)
    {
      *error_name = g_dbus_error_get_remote_error (*error);
      g_dbus_error_strip_remote_error (*error);
    }
  return reply != NULL;
}

static gboolean
name_owned (gpointer data)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (data));

  return owner != NULL;
}

/* The Teletel interface follows the backend set (Backend, State, Pid),
 * runs its operations for a caller allowed by authorize(), answers
 * Failed with the backend's message, and NotSupported without one. */
static void
test_dbus_service (void)
{
  g_autoptr(MgwConfig) config = NULL;
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(MgwDbusService) service = NULL;
  g_autoptr(MgwTeletel) teletel = NULL;
  g_autoptr(MgwTeletel) broken = NULL;
  MgwDBusTeletel *proxy = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *error_name = NULL;
  FakeUnit *unit;

  fake_ensure ();
  unit = fake_add_unit ("dbus-teletel.service", "active", 777);
  config = mgw_test_config_new ("ws://127.0.0.1:1/");
  gateway = mgw_test_gateway_new (config);
  service = mgw_dbus_service_new (gateway, G_BUS_TYPE_SESSION, NULL, NULL);
  mgw_dbus_service_start (service);
  mgw_dbus_teletel_proxy_new (fake->conn, G_DBUS_PROXY_FLAGS_NONE, "org.moipgw.Gateway1",
                              "/org/moipgw/Gateway1", NULL, proxy_ready_cb, &proxy);
  mgw_test_wait_until (result_ready, &proxy, OP_TIMEOUT_MS, "the Teletel proxy");
  mgw_test_wait_until (name_owned, proxy, OP_TIMEOUT_MS, "org.moipgw.Gateway1 on the bus");
  wait_proxy (proxy, "none", "unknown", 0);

  teletel = mgw_teletel_systemd_new ("dbus-teletel.service");
  mgw_dbus_service_set_teletel (service, teletel);
  wait_proxy (proxy, "systemd", "running", 777);

  if (getuid () != 0)
    {
      /* authorize() lets root and the moipgw group only. */
      mgw_dbus_service_set_teletel (service, NULL);
      g_object_unref (proxy);
      unref_and_wait (&service);
      unref_and_wait (&teletel);
      g_test_skip ("the methods need root");
      return;
    }

  g_assert_true (call_teletel (proxy, "Stop", &error_name, &error));
  g_assert_no_error (error);
  wait_proxy (proxy, "systemd", "stopped", 0);
  g_assert_true (call_teletel (proxy, "Start", &error_name, &error));
  g_assert_no_error (error);
  wait_proxy (proxy, "systemd", "running", unit->pid);
  g_assert_true (call_teletel (proxy, "Restart", &error_name, &error));
  g_assert_no_error (error);
  wait_proxy (proxy, "systemd", "running", unit->pid);

  /* Another backend object, whose jobs fail. */
  broken = mgw_teletel_systemd_new ("broken.service");
  mgw_dbus_service_set_teletel (service, broken);
  g_assert_false (call_teletel (proxy, "Start", &error_name, &error));
  g_assert_cmpstr (error_name, ==, "org.freedesktop.DBus.Error.Failed");
  g_assert_cmpstr (error->message, ==,
                   "systemd could not start broken.service: the job ended with result 'failed'");
  g_clear_error (&error);
  g_clear_pointer (&error_name, g_free);

  /* Back to none. */
  mgw_dbus_service_set_teletel (service, NULL);
  wait_proxy (proxy, "none", "unknown", 0);
  g_assert_false (call_teletel (proxy, "Restart", &error_name, &error));
  g_assert_cmpstr (error_name, ==, "org.freedesktop.DBus.Error.NotSupported");

  g_object_unref (proxy);
  unref_and_wait (&service);
  unref_and_wait (&teletel);
  unref_and_wait (&broken);
  mgw_gateway_stop (gateway, NULL);
}

/* --- [teletel] settings --- */

static gboolean
load (MgwConfig   *config,
      const char  *text,
      GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();

  g_assert_true (g_key_file_load_from_data (keyfile, text, -1, G_KEY_FILE_NONE, NULL));
  return mgw_config_load_keyfile (config, keyfile, error) && mgw_config_validate (config, error);
}

static void
test_config (void)
{
  g_autoptr(GError) error = NULL;

  fake_ensure ();   /* a systemd backend below: on the private bus */
  {
    g_autoptr(MgwConfig) config = mgw_config_new_default ();
    g_autoptr(MgwTeletel) teletel = NULL;

    g_assert_true (mgw_config_validate (config, &error));
    g_assert_cmpstr (config->teletel_backend, ==, "none");
    g_assert_cmpuint (config->teletel_grace_ms, ==, 5000);
    g_assert_null (config->teletel_command);
    g_assert_null (config->teletel_unit);
    teletel = mgw_teletel_new_from_config (config, &error);
    g_assert_no_error (error);
    g_assert_null (teletel);
  }
  {
    g_autoptr(MgwConfig) config = mgw_config_new_default ();
    g_autoptr(MgwTeletel) teletel = NULL;

    g_assert_true (load (config, "[teletel]\nbackend=process\n"
                         "command=/usr/bin/python3 'my server.py' --port 8764\ngrace=0.25\n",
                         &error));
    g_assert_no_error (error);
    g_assert_cmpuint (config->teletel_grace_ms, ==, 250);
    teletel = mgw_teletel_new_from_config (config, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (mgw_teletel_get_backend (teletel), ==, "process");
  }
  {
    g_autoptr(MgwConfig) config = mgw_config_new_default ();
    g_autoptr(MgwTeletel) teletel = NULL;

    g_assert_true (load (config, "[teletel]\nbackend=systemd\nunit=teletel\n", &error));
    g_assert_no_error (error);
    teletel = mgw_teletel_new_from_config (config, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (mgw_teletel_get_backend (teletel), ==, "systemd");
    unref_and_wait (&teletel);
  }
  {
    g_autoptr(MgwConfig) config = mgw_config_new_default ();

    g_assert_false (load (config, "[teletel]\nbackend=systemd\n", &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "backend=systemd needs unit="));
    g_clear_error (&error);
  }
  {
    g_autoptr(MgwConfig) config = mgw_config_new_default ();

    g_assert_false (load (config, "[teletel]\nbackend=kill\n", &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "'kill' is not none, process or systemd"));
    g_clear_error (&error);
  }
  {
    g_autoptr(MgwConfig) config = mgw_config_new_default ();

    g_assert_false (load (config, "[teletel]\nbackend=process\ncommand=server 'unterminated\n",
                          &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
    g_assert_true (g_str_has_prefix (error->message, "[teletel] command: "));
    g_clear_error (&error);
  }
  {
    g_autoptr(MgwConfig) config = mgw_config_new_default ();

    g_assert_false (load (config, "[teletel]\ngrace=soon\n", &error));
    g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
    g_clear_error (&error);
  }
  {
    /* Every key the shipped sample documents, uncommented, is known. */
    g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "moipgw.conf", NULL);
    g_autofree char *sample = NULL;
    g_autoptr(GString) text = g_string_new (NULL);
    g_autoptr(MgwConfig) config = mgw_config_new_default ();
    g_auto(GStrv) lines = NULL;
    gboolean in_teletel = FALSE;

    g_assert_true (g_file_get_contents (path, &sample, NULL, NULL));
    lines = g_strsplit (sample, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      {
        if (lines[i][0] == '[')
          in_teletel = strcmp (lines[i], "[teletel]") == 0;
        if (in_teletel && lines[i][0] == '#' && strchr (lines[i], '=') != NULL &&
            !strchr (lines[i], ' '))
          g_string_append_printf (text, "%s\n", lines[i] + 1);
        else if (in_teletel && lines[i][0] == '[')
          g_string_append_printf (text, "%s\n", lines[i]);
      }
    g_assert_nonnull (strstr (text->str, "backend=none"));
    g_assert_nonnull (strstr (text->str, "grace=5"));
    g_assert_true (load (config, text->str, &error));
    g_assert_no_error (error);
  }
}

int
main (int argc, char **argv)
{
  int status;

  mgw_test_init (&argc, &argv);
  g_test_add ("/teletel/process/cycle", ProcFixture, NULL, proc_setup, test_process_cycle,
              proc_teardown);
  g_test_add ("/teletel/process/sigkill", ProcFixture, NULL, proc_setup, test_process_sigkill,
              proc_teardown);
  g_test_add ("/teletel/process/ipv6", ProcFixture, NULL, proc_setup, test_process_ipv6,
              proc_teardown);
  g_test_add ("/teletel/process/errors", ProcFixture, NULL, proc_setup, test_process_errors,
              proc_teardown);
  g_test_add ("/teletel/process/command", ProcFixture, NULL, proc_setup, test_process_command,
              proc_teardown);
  g_test_add ("/teletel/process/command-over-remembered", ProcFixture, NULL, proc_setup,
              test_process_command_over_remembered, proc_teardown);
  g_test_add ("/teletel/process/start-fails", ProcFixture, NULL, proc_setup,
              test_process_start_fails, proc_teardown);
  g_test_add ("/teletel/process/busy", ProcFixture, NULL, proc_setup, test_process_busy,
              proc_teardown);
  g_test_add_func ("/teletel/systemd/cycle", test_systemd_cycle);
  g_test_add_func ("/teletel/systemd/failed-job", test_systemd_failed_job);
  g_test_add_func ("/teletel/systemd/early-job-removed", test_systemd_early_job_removed);
  g_test_add_func ("/teletel/systemd/refused", test_systemd_refused);
  g_test_add_func ("/teletel/dbus/service", test_dbus_service);
  g_test_add_func ("/teletel/config", test_config);
  status = g_test_run ();
  fake_shutdown ();
  return status;
}
