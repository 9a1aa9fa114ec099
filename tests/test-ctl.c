/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ctl.c: moipgwctl against a real moipgwd on a private bus: every
 * command, its human and --json output, exit statuses and messages,
 * usage errors, a bus where the gateway is not running, and French.
 *
 * Each test starts its own dbus-daemon (tests/data/test-bus.conf) and,
 * but for the usage and not-running tests, `moipgwd --session-bus
 * --demo` on it with ephemeral ports; moipgwctl is run as a separate
 * process ($MOIPGWCTL) with DBUS_SESSION_BUS_ADDRESS pointing there. */
#include "config.h"

#include "mgw-dbus-generated.h"
#include "mgw-recording.h"
#include "mgw-test-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <pwd.h>
#include <unistd.h>

#define S(lit) lit, sizeof lit - 1
#define BUS_NAME "org.moipgw.Gateway1"
/* moipgwctl and moipgwd may run under the sanitizers: generous. */
#define CHILD_TIMEOUT_MS 20000

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* Children get SIGKILL when the test program dies (an aborted test skips
 * teardown). Runs in the child between fork and exec. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* The same, then nobody (65534) with no groups: a user who is neither
 * root nor in the moipgw group. */
static void
die_with_parent_as_nobody (gpointer data)
{
  if (setgroups (0, NULL) != 0 || setgid (65534) != 0 || setuid (65534) != 0)
    _exit (125);
  /* After: a change of credentials clears the parent-death signal (an
   * aborted test left a moipgwd running as nobody). */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* --- a child process whose standard output is read line by line --- */

typedef struct
{
  GSubprocess *process;
  GString     *output;
  GPtrArray   *lines;
  gboolean     eof;
  gboolean     exited;
} Child;

static void
child_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Child *c = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, NULL);
  if (line == NULL)
    {
      c->eof = TRUE;
      return;
    }
  g_string_append_printf (c->output, "%s\n", line);
  g_ptr_array_add (c->lines, g_steal_pointer (&line));
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source), G_PRIORITY_DEFAULT,
                                       NULL, child_read_cb, c);
}

static void
child_exited_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Child *c = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  c->exited = TRUE;
}

/* Starts argv with the buses given (NULL: unset); `flags` chooses what
 * becomes of standard error (merged with stdout, silenced...). */
static Child *
child_spawn_as (const char * const *argv,
                const char         *session_bus,
                const char         *system_bus,
                GSubprocessFlags    flags,
                gboolean            nobody)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | flags);
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  Child *c = g_new0 (Child, 1);

  if (session_bus != NULL)
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", session_bus, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "DBUS_SESSION_BUS_ADDRESS");
  if (system_bus != NULL)
    g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", system_bus, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, nobody ? die_with_parent_as_nobody : die_with_parent,
                                         NULL, NULL);
  c->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  c->output = g_string_new (NULL);
  c->lines = g_ptr_array_new_with_free_func (g_free);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (c->process));
  g_data_input_stream_read_line_async (in, G_PRIORITY_DEFAULT, NULL, child_read_cb, c);
  g_subprocess_wait_async (c->process, NULL, child_exited_cb, c);
  return c;
}

static Child *
child_spawn (const char * const *argv,
             const char         *session_bus,
             const char         *system_bus,
             GSubprocessFlags    flags)
{
  return child_spawn_as (argv, session_bus, system_bus, flags, FALSE);
}

static gboolean
child_done (gpointer data)
{
  Child *c = data;
  return c->exited && c->eof;
}

static void
child_wait_exit (Child      *c,
                 const char *what)
{
  mgw_test_wait_until (child_done, c, CHILD_TIMEOUT_MS, what);
}

/* SIGTERM, or SIGKILL when `force`; waits until it is reaped and its
 * output read to the end. */
static void
child_stop (Child    *c,
            gboolean  force)
{
  if (!c->exited)
    {
      if (force)
        g_subprocess_force_exit (c->process);
      else
        g_subprocess_send_signal (c->process, SIGTERM);
    }
  child_wait_exit (c, "a child process to exit");
}

static void
child_free (Child *c)
{
  if (c == NULL)
    return;
  child_stop (c, TRUE);
  g_object_unref (c->process);
  g_string_free (c->output, TRUE);
  g_ptr_array_unref (c->lines);
  g_free (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Child, child_free)

typedef struct
{
  Child      *c;
  const char *needle;
} OutputWait;

static gboolean
output_has (gpointer data)
{
  OutputWait *w = data;
  return strstr (w->c->output->str, w->needle) != NULL || w->c->exited;
}

/* --- the fixture: a bus, and moipgwd on it --- */

typedef struct
{
  char            *dir;
  char            *config_file;
  Child           *bus;
  char            *bus_address;
  GDBusConnection *connection;
  guint            watch;
  gboolean         owned;
  Child           *daemon;
  guint16          telnet_port;
} Fixture;

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  ((Fixture *) user_data)->owned = TRUE;
}

static void
name_vanished_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  ((Fixture *) user_data)->owned = FALSE;
}

static gboolean
name_owned (gpointer data)
{
  return ((Fixture *) data)->owned;
}

static gboolean
owned_or_exited (gpointer data)
{
  Fixture *f = data;
  return f->owned || f->daemon->exited;
}

static void
setup_bus (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *conf = g_test_build_filename (G_TEST_DIST, "data", "test-bus.conf", NULL);
  g_autofree char *conf_arg = NULL;
  g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");
  g_autofree char *address_arg = NULL;
  const char *argv[] = { dbus_daemon, NULL, "--print-address", "--nofork", NULL, NULL };
  g_autoptr(GError) error = NULL;

  if (f->dir == NULL)
    f->dir = mgw_test_tmp_dir ();
  if (dbus_daemon == NULL)
    {
      g_test_skip ("no dbus-daemon");
      return;
    }
  /* The test bus with the policy moipgw installs on the system bus on
   * top: who may call and receive what. */
  if (g_strcmp0 (data, "policy") == 0)
    {
      g_autofree char *policy = g_test_build_filename (G_TEST_DIST, "..", "data", "dbus",
                                                       "org.moipgw.Gateway1.conf", NULL);
      g_autofree char *text = NULL;
      g_autofree char *ours = g_build_filename (f->dir, "bus.conf", NULL);
      g_autofree char *absolute = g_canonicalize_filename (policy, NULL);
      g_autofree char *include = g_strdup_printf ("  <include>%s</include>\n</busconfig>", absolute);
      g_autoptr(GString) combined = NULL;

      g_assert_true (g_file_get_contents (conf, &text, NULL, NULL));
      combined = g_string_new (text);
      g_assert_cmpuint (g_string_replace (combined, "</busconfig>", include, 1), ==, 1);
      g_assert_true (g_file_set_contents (ours, combined->str, -1, NULL));
      g_free (conf);
      conf = g_steal_pointer (&ours);
    }
  conf_arg = g_strdup_printf ("--config-file=%s", conf);
  argv[1] = conf_arg;
  /* A bus that can be restarted where it was: at a path of ours. */
  if (g_strcmp0 (data, "fixed path") == 0)
    {
      g_autofree char *socket = g_build_filename (f->dir, "bus", NULL);
      g_unlink (socket);
      address_arg = g_strdup_printf ("--address=unix:path=%s", socket);
      argv[4] = address_arg;
    }
  g_assert_nonnull (g_getenv ("MOIPGWCTL"));
  f->bus = child_spawn (argv, NULL, NULL, G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  while (f->bus->lines->len == 0 && !f->bus->exited)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (f->bus->lines->len, >, 0);
  f->bus_address = g_strdup (f->bus->lines->pdata[0]);

  f->connection = g_dbus_connection_new_for_address_sync (f->bus_address,
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);
  f->watch = g_bus_watch_name_on_connection (f->connection, BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                             name_appeared_cb, name_vanished_cb, f, NULL);
}

/* moipgwd on the fixture's bus, listening, its name owned; as root, or
 * as nobody (its directories nobody's). */
static void
start_daemon_as (Fixture  *f,
                 gboolean  nobody)
{
  g_autofree char *state = NULL;
  g_autofree char *confdir = NULL;
  g_autofree char *state_arg = NULL;
  g_autofree char *config_arg = NULL;
  g_autofree char *confdir_arg = NULL;
  const char *needle = "listening for Telnet users on port ";
  OutputWait w = { NULL, needle };
  const char *p;

  state = g_build_filename (f->dir, "state", NULL);
  confdir = g_build_filename (f->dir, "etc", NULL);
  f->config_file = g_build_filename (f->dir, "moipgw.conf", NULL);
  g_assert_cmpint (g_mkdir (state, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (confdir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (f->config_file, "", 0, NULL));
  if (nobody)
    {
      g_assert_cmpint (chown (f->dir, 65534, 65534), ==, 0);
      g_assert_cmpint (chown (state, 65534, 65534), ==, 0);
      g_assert_cmpint (chown (confdir, 65534, 65534), ==, 0);
      g_assert_cmpint (chown (f->config_file, 65534, 65534), ==, 0);
    }
  state_arg = g_strdup_printf ("--state-dir=%s", state);
  config_arg = g_strdup_printf ("--config=%s", f->config_file);
  confdir_arg = g_strdup_printf ("--configpath=%s", confdir);
  {
    const char *args[] = {
      g_getenv ("MOIPGWD"), "--session-bus", "--demo", "--tcp", "0", "--ws", "0",
      "-i", "127.0.0.1", "--display=off", state_arg, config_arg, confdir_arg, NULL
    };
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

    g_assert_nonnull (args[0]);
    mgw_test_add_wrapper (argv);
    for (guint i = 0; args[i] != NULL; i++)
      g_ptr_array_add (argv, g_strdup (args[i]));
    g_ptr_array_add (argv, NULL);
    f->daemon = child_spawn_as ((const char * const *) argv->pdata, f->bus_address, NULL,
                                G_SUBPROCESS_FLAGS_STDERR_MERGE, nobody);
  }
  w.c = f->daemon;
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, needle);
  p = strstr (f->daemon->output->str, needle);
  if (p == NULL)
    g_error ("moipgwd did not listen: %s", f->daemon->output->str);
  f->telnet_port = (guint16) g_ascii_strtoull (p + strlen (needle), NULL, 10);
  mgw_test_wait_until (owned_or_exited, f, CHILD_TIMEOUT_MS, "moipgwd to own " BUS_NAME);
  if (!f->owned)
    g_error ("moipgwd did not take " BUS_NAME ": %s", f->daemon->output->str);
}

static void
start_daemon (Fixture *f)
{
  start_daemon_as (f, FALSE);
}

/* data: "policy" (the bus with moipgw's policy), "daemon as nobody"
 * (moipgwd runs as nobody: needs root), NULL. */
static void
setup_daemon (Fixture       *f,
              gconstpointer  data)
{
  gboolean nobody = g_strcmp0 (data, "daemon as nobody") == 0;

  if ((nobody || g_strcmp0 (data, "policy") == 0) && geteuid () != 0)
    {
      g_test_skip ("not root: cannot run a process as another user");
      return;
    }
  setup_bus (f, data);
  if (f->bus != NULL)
    start_daemon_as (f, nobody);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  if (f->daemon != NULL)
    {
      /* SIGTERM: it ends cleanly (and, under the sanitizers, leak-free). */
      child_stop (f->daemon, FALSE);
      if (!g_subprocess_get_if_exited (f->daemon->process) ||
          g_subprocess_get_exit_status (f->daemon->process) != 0)
        g_error ("moipgwd did not exit 0 on SIGTERM:\n%s", f->daemon->output->str);
      g_clear_pointer (&f->daemon, child_free);
    }
  if (f->watch != 0)
    g_bus_unwatch_name (f->watch);
  if (f->connection != NULL)
    {
      g_dbus_connection_close_sync (f->connection, NULL, NULL);
      g_clear_object (&f->connection);
    }
  if (f->bus != NULL)
    {
      child_stop (f->bus, FALSE);
      g_clear_pointer (&f->bus, child_free);
    }
  /* Unwatching and closing leave idle callbacks behind. */
  mgw_test_run_for (10);
  g_free (f->bus_address);
  g_free (f->config_file);
  g_free (f->dir);
}

/* --- running moipgwctl --- */

typedef struct
{
  int   status;
  char *out;
  char *err;
} Result;

static void
result_free (Result *r)
{
  g_free (r->out);
  g_free (r->err);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Result, result_free)

typedef struct
{
  GSubprocess *process;
  gboolean     done;
  char        *out;
  char        *err;
  GError      *error;
} Communicate;

static void
communicate_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_utf8_finish (c->process, result, &c->out, &c->err, &c->error);
  c->done = TRUE;
}

static void
exited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

/* moipgwctl [first] `args`, its output piped, on the buses given (never
 * the machine's system bus), as root or as nobody, in `language`
 * (LANGUAGE; NULL: the test's). */
static GSubprocess *
spawn_ctl (const char         *language,
           const char         *session_bus,
           const char         *system_bus,
           gboolean            nobody,
           const char         *first,
           const char * const *args,
           GError            **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) g_getenv ("MOIPGWCTL"));
  if (first != NULL)
    g_ptr_array_add (argv, (gpointer) first);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  if (language != NULL)
    g_subprocess_launcher_setenv (launcher, "LANGUAGE", language, TRUE);
  if (session_bus != NULL)
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", session_bus, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "DBUS_SESSION_BUS_ADDRESS");
  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS",
                                system_bus != NULL ? system_bus : "unix:path=/nonexistent/bus", TRUE);
  g_subprocess_launcher_set_child_setup (launcher, nobody ? die_with_parent_as_nobody : die_with_parent,
                                         NULL, NULL);
  return g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
}

/* moipgwctl with `args` (NULL-terminated), the buses given, as root or
 * as nobody, in `language` (LANGUAGE; NULL: the test's). */
static Result *
run_ctl_in (const char         *language,
            const char         *session_bus,
            const char         *system_bus,
            gboolean            nobody,
            const char * const *args)
{
  g_autoptr(GError) error = NULL;
  Communicate c = { 0 };
  gboolean exited = FALSE;
  Result *r = g_new0 (Result, 1);

  c.process = spawn_ctl (language, session_bus, system_bus, nobody, NULL, args, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (c.process, NULL, NULL, communicate_cb, &c);
  mgw_test_wait_until (flag_set, &c.done, CHILD_TIMEOUT_MS, "moipgwctl to finish");
  g_assert_no_error (c.error);
  g_subprocess_wait_async (c.process, NULL, exited_cb, &exited);
  mgw_test_wait_until (flag_set, &exited, CHILD_TIMEOUT_MS, "moipgwctl to exit");
  g_assert_true (g_subprocess_get_if_exited (c.process));
  r->status = g_subprocess_get_exit_status (c.process);
  r->out = c.out;
  r->err = c.err;
  g_object_unref (c.process);
  return r;
}

static Result *
run_ctl_as (const char         *session_bus,
            const char         *system_bus,
            gboolean            nobody,
            const char * const *args)
{
  return run_ctl_in (NULL, session_bus, system_bus, nobody, args);
}

static Result *
run_ctl_on (const char         *session_bus,
            const char         *system_bus,
            const char * const *args)
{
  return run_ctl_as (session_bus, system_bus, FALSE, args);
}

static Result *
run_ctl (Fixture    *f,
         const char *first,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  g_ptr_array_add (args, (gpointer) "--session-bus");
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return run_ctl_on (f->bus_address, NULL, (const char * const *) args->pdata);
}

/* Success: status 0, nothing on stderr. */
static void
assert_ok (Result     *r,
           const char *what)
{
  if (r->status != 0 || *r->err != '\0')
    g_error ("%s: status %d, stderr: %s, stdout: %s", what, r->status, r->err, r->out);
}

/* Failure `status` with exactly one line "moipgwctl: ..." on stderr,
 * holding `needle`, and nothing on stdout. */
static void
assert_fails (Result     *r,
              int         status,
              const char *needle,
              const char *what)
{
  if (r->status != status || !g_str_has_prefix (r->err, "moipgwctl: ") ||
      strstr (r->err, needle) == NULL || strchr (r->err, '\n') != r->err + strlen (r->err) - 1 ||
      *r->out != '\0')
    g_error ("%s: expected status %d and \"%s\"; have status %d, stderr: %s, stdout: %s",
             what, status, needle, r->status, r->err, r->out);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (!json_parser_load_from_data (parser, text, -1, &error))
    g_error ("not JSON (%s): %s", error->message, text);
  return json_node_copy (json_parser_get_root (parser));
}

/* A time member: ISO 8601 and the same instant in `name`Usec. */
static gint64
assert_json_time (JsonObject *o,
                  const char *name)
{
  g_autofree char *usec_name = g_strconcat (name, "Usec", NULL);
  const char *iso = json_object_get_string_member (o, name);
  gint64 usec = json_object_get_int_member (o, usec_name);
  g_autoptr(GDateTime) dt = NULL;

  g_assert_nonnull (iso);
  dt = g_date_time_new_from_iso8601 (iso, NULL);
  g_assert_nonnull (dt);
  g_assert_cmpint (g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt),
                   ==, usec);
  return usec;
}

/* Every line "Label:   value" with the values in one column. */
static void
assert_two_columns (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  gssize column = -1;

  for (guint i = 0; lines[i] != NULL && *lines[i] != '\0'; i++)
    {
      const char *colon = strchr (lines[i], ':');
      const char *value;

      g_assert_nonnull (colon);
      value = colon + 1;
      while (*value == ' ')
        value++;
      if (column < 0)
        column = value - lines[i];
      if (value - lines[i] != column || value == colon + 1)
        g_error ("values not aligned at line %u:\n%s", i, text);
    }
  g_assert_cmpint (column, >, 0);
}

/* A Telnet user on the demo service. */
static MgwTestTcp *
open_user (Fixture *f,
           guint16 *local_port)
{
  MgwTestTcp *tcp = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (tcp->socket, NULL);

  mgw_test_tcp_wait_for (tcp, S ("service de d\x19\x42" "emonstration"));
  if (local_port != NULL)
    *local_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  return tcp;
}

/* `moipgwctl sessions --json` until it lists `n` sessions, all in state
 * teletel (sessions appear at once, states within the coalescing). */
static JsonNode *
wait_sessions (Fixture *f,
               guint    n)
{
  gint64 deadline = g_get_monotonic_time () + CHILD_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  for (;;)
    {
      g_autoptr(Result) r = run_ctl (f, "sessions", "--json", NULL);
      g_autoptr(JsonNode) root = NULL;
      JsonArray *array;
      gboolean ready;

      assert_ok (r, "sessions --json");
      root = parse_json (r->out);
      g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
      array = json_node_get_array (root);
      ready = json_array_get_length (array) == n;
      for (guint i = 0; ready && i < n; i++)
        ready = g_strcmp0 (json_object_get_string_member (json_array_get_object_element (array, i),
                                                          "State"), "teletel") == 0;
      if (ready)
        return g_steal_pointer (&root);
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %u sessions in state teletel: %s", n, r->out);
      mgw_test_run_for (100);
    }
}

/* --- tests --- */

/* status: every property, human (aligned) and JSON; ActiveSessions
 * follows a Telnet user (counters are coalesced: polled). */
static void
test_status (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(MgwTestTcp) user = NULL;
  g_autoptr(Result) human = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *listen = g_strdup_printf ("telnet:%u@127.0.0.1", f->telnet_port);
  GDBusInterfaceInfo *info = mgw_dbus_gateway_interface_info ();
  gint64 deadline;
  JsonObject *o;

  if (f->bus == NULL)
    return;
  user = open_user (f, NULL);
  deadline = g_get_monotonic_time () + CHILD_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  for (;;)
    {
      g_autoptr(Result) r = run_ctl (f, "--json", "status", NULL);

      assert_ok (r, "--json status");
      g_clear_pointer (&root, json_node_unref);
      root = parse_json (r->out);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
      o = json_node_get_object (root);
      if (json_object_get_int_member (o, "ActiveSessions") == 1)
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("ActiveSessions never 1: %s", r->out);
      mgw_test_run_for (100);
    }
  /* Every property of the interface, none null. */
  for (guint i = 0; info->properties[i] != NULL; i++)
    {
      const char *name = info->properties[i]->name;

      /* A time that is unset is null: no wss:// listener here, no drain. */
      if (g_str_equal (name, "TlsCertificateNotAfter") || g_str_equal (name, "DrainDeadline"))
        g_assert_true (json_object_has_member (o, name) && json_object_get_null_member (o, name));
      else if (!json_object_has_member (o, name) || json_object_get_null_member (o, name))
        g_error ("status --json lacks %s", name);
    }
  g_assert_cmpstr (json_object_get_string_member (o, "Version"), ==, PACKAGE_VERSION);
  g_assert_cmpint (json_object_get_int_member (o, "ActiveTelnetSessions"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (o, "ActiveWebSocketSessions"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "TelnetRegistrations"), ==, 1);
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (o, "CommandChannelConnected")),
                   ==, G_TYPE_BOOLEAN);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "DefaultServer"), "ws://127.0.0.1:"));
  g_assert_cmpint (assert_json_time (o, "StartTime"), <=, g_get_real_time ());
  g_assert_cmpint (assert_json_time (o, "StartTime"), >, g_get_real_time () - 60 * G_USEC_PER_SEC);
  {
    JsonArray *addresses = json_object_get_array_member (o, "ListenAddresses");
    gboolean found = FALSE;

    for (guint i = 0; i < json_array_get_length (addresses); i++)
      found |= g_str_equal (json_array_get_string_element (addresses, i), listen);
    g_assert_true (found);
  }

  human = run_ctl (f, "status", NULL);
  assert_ok (human, "status");
  assert_two_columns (human->out);
  g_assert_nonnull (strstr (human->out, "Version:"));
  g_assert_nonnull (strstr (human->out, PACKAGE_VERSION "\n"));
  g_assert_nonnull (strstr (human->out, listen));
  g_assert_nonnull (strstr (human->out, "Command channel connected:"));
  g_assert_true (g_regex_match_simple ("^Active sessions: +1$", human->out, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Active Telnet sessions: +1$", human->out, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Started: +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}$",
                                       human->out, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Draining: +no$", human->out, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Sessions end at: +-$", human->out, G_REGEX_MULTILINE, 0));
  /* One line per property. */
  {
    guint n_props = 0, n_lines = 0;

    while (info->properties[n_props] != NULL)
      n_props++;
    for (const char *p = human->out; *p != '\0'; p++)
      n_lines += *p == '\n';
    g_assert_cmpuint (n_lines, ==, n_props);
  }
}

/* sessions and session ID: the users' rows, sorted by id, in columns;
 * JSON with every property; an unknown id. */
static void
test_sessions (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(MgwTestTcp) user1 = NULL;
  g_autoptr(MgwTestTcp) user2 = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(Result) empty = NULL;
  g_autoptr(Result) empty_json = NULL;
  g_autoptr(Result) table = NULL;
  g_autoptr(Result) one = NULL;
  g_autoptr(Result) one_json = NULL;
  g_autoptr(Result) unknown = NULL;
  g_autoptr(JsonNode) one_root = NULL;
  g_autofree char *peer1 = NULL;
  g_autofree char *id_text = NULL;
  GDBusInterfaceInfo *info = mgw_dbus_session_interface_info ();
  guint16 port1, port2;
  JsonArray *array;
  JsonObject *s1;
  gint64 id1, id2;

  if (f->bus == NULL)
    return;
  empty = run_ctl (f, "sessions", NULL);
  assert_ok (empty, "sessions");
  g_assert_cmpstr (empty->out, ==, "No sessions.\n");
  empty_json = run_ctl (f, "sessions", "--json", NULL);
  assert_ok (empty_json, "sessions --json");
  g_assert_cmpstr (g_strstrip (empty_json->out), ==, "[]");

  user1 = open_user (f, &port1);
  user2 = open_user (f, &port2);
  root = wait_sessions (f, 2);
  array = json_node_get_array (root);
  s1 = json_array_get_object_element (array, 0);
  id1 = json_object_get_int_member (s1, "Id");
  id2 = json_object_get_int_member (json_array_get_object_element (array, 1), "Id");
  g_assert_cmpint (id1, <, id2);
  g_assert_cmpint (json_object_get_int_member (s1, "PeerPort"), ==, port1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (array, 1), "PeerPort"),
                   ==, port2);
  g_assert_cmpstr (json_object_get_string_member (s1, "Access"), ==, "Telnet");
  g_assert_cmpstr (json_object_get_string_member (s1, "PeerAddress"), ==, "127.0.0.1");
  g_assert_cmpstr (json_object_get_string_member (s1, "Target"), ==, "");
  g_assert_cmpint (json_object_get_int_member (s1, "Redirections"), ==, 0);
  assert_json_time (s1, "StartTime");
  for (guint i = 0; info->properties[i] != NULL; i++)
    if (!json_object_has_member (s1, info->properties[i]->name))
      g_error ("sessions --json lacks %s", info->properties[i]->name);

  /* The table: a header and one row per session, in id order, aligned. */
  table = run_ctl (f, "sessions", NULL);
  assert_ok (table, "sessions");
  {
    g_auto(GStrv) lines = g_strsplit (table->out, "\n", -1);
    g_autofree char *row1 = NULL;
    const char *state_col, *peer_col;

    g_assert_cmpuint (g_strv_length (lines), ==, 4);   /* and "" after the last \n */
    g_assert_true (g_regex_match_simple ("^ *ID +ACCESS +PEER +STARTED +STATE", lines[0], 0, 0));
    peer1 = g_strdup_printf ("127.0.0.1:%u", port1);
    row1 = g_strdup_printf ("^ *%" G_GINT64_FORMAT "  Telnet  127\\.0\\.0\\.1:%u  ", id1, port1);
    if (!g_regex_match_simple (row1, lines[1], 0, 0))
      g_error ("first row is not session %" G_GINT64_FORMAT ":\n%s", id1, table->out);
    state_col = strstr (lines[0], "STATE");
    peer_col = strstr (lines[0], "PEER");
    g_assert_cmpint (strstr (lines[1], "teletel") - lines[1], ==, state_col - lines[0]);
    g_assert_cmpint (strstr (lines[2], "teletel") - lines[2], ==, state_col - lines[0]);
    g_assert_cmpint (strstr (lines[1], peer1) - lines[1], ==, peer_col - lines[0]);
  }

  /* session ID: every property. */
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id1);
  one = run_ctl (f, "session", id_text, NULL);
  assert_ok (one, "session ID");
  assert_two_columns (one->out);
  g_assert_nonnull (strstr (one->out, peer1 + strlen ("127.0.0.1:")));
  g_assert_true (g_regex_match_simple ("^Peer address: +127\\.0\\.0\\.1$", one->out, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^State: +teletel$", one->out, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Access: +Telnet$", one->out, G_REGEX_MULTILINE, 0));
  one_json = run_ctl (f, "--json", "session", id_text, NULL);
  assert_ok (one_json, "--json session ID");
  one_root = parse_json (one_json->out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (one_root), "Id"), ==, id1);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (one_root), "PeerPort"), ==, port1);
  for (guint i = 0; info->properties[i] != NULL; i++)
    if (!json_object_has_member (json_node_get_object (one_root), info->properties[i]->name))
      g_error ("session --json lacks %s", info->properties[i]->name);

  unknown = run_ctl (f, "session", "4242", NULL);
  assert_fails (unknown, 1, "no session 4242", "session 4242");
}

/* ListBans, Ban (with and without --days), Unban, and the refusals. */
static void
test_bans (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(Result) none = NULL;
  g_autoptr(Result) ban = NULL;
  g_autoptr(Result) listed = NULL;
  g_autoptr(Result) table = NULL;
  g_autoptr(Result) renew = NULL;
  g_autoptr(Result) relisted = NULL;
  g_autoptr(Result) unban = NULL;
  g_autoptr(Result) again = NULL;
  g_autoptr(Result) after = NULL;
  g_autoptr(Result) own = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) reroot = NULL;
  g_autoptr(JsonNode) ban_root = NULL;
  JsonObject *o;
  gint64 since, expires;

  if (f->bus == NULL)
    return;
  none = run_ctl (f, "bans", NULL);
  assert_ok (none, "bans");
  g_assert_cmpstr (none->out, ==, "No bans.\n");

  ban = run_ctl (f, "--json", "ban", "203.0.113.7", NULL);
  assert_ok (ban, "ban");
  ban_root = parse_json (ban->out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (ban_root), "Command"), ==, "ban");
  g_assert_true (json_object_get_boolean_member (json_node_get_object (ban_root), "Ok"));

  listed = run_ctl (f, "bans", "--json", NULL);
  assert_ok (listed, "bans --json");
  root = parse_json (listed->out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 1);
  o = json_array_get_object_element (json_node_get_array (root), 0);
  g_assert_cmpstr (json_object_get_string_member (o, "Address"), ==, "203.0.113.7");
  /* The caller by name and uid, not its bus name. */
  {
    struct passwd *pw = getpwuid (getuid ());
    g_autofree char *by = g_strdup_printf ("manual, by %s (uid %u)", pw ? pw->pw_name : "?",
                                           (guint) getuid ());
    if (pw != NULL)
      g_assert_cmpstr (json_object_get_string_member (o, "Reason"), ==, by);
    else
      g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "Reason"), "manual, by uid "));
  }
  since = assert_json_time (o, "Since");
  expires = assert_json_time (o, "Expires");
  g_assert_cmpint (expires, >, since);

  table = run_ctl (f, "bans", NULL);
  assert_ok (table, "bans");
  g_assert_true (g_regex_match_simple ("^ADDRESS +SINCE +EXPIRES +REASON\n203\\.0\\.113\\.7 +[0-9-]+ [0-9:]+ +[0-9-]+ [0-9:]+ +manual",
                                       table->out, 0, 0));

  /* --days: the expiry is that far from the renewal. */
  renew = run_ctl (f, "ban", "203.0.113.7", "--days", "2", NULL);
  assert_ok (renew, "ban --days 2");
  g_assert_cmpstr (renew->out, ==, "203.0.113.7 banned for 2 days.\n");
  relisted = run_ctl (f, "bans", "--json", NULL);
  reroot = parse_json (relisted->out);
  o = json_array_get_object_element (json_node_get_array (reroot), 0);
  g_assert_cmpint (json_object_get_int_member (o, "ExpiresUsec") - json_object_get_int_member (o, "SinceUsec"),
                   ==, (gint64) 2 * 86400 * G_USEC_PER_SEC);

  unban = run_ctl (f, "unban", "203.0.113.7", NULL);
  assert_ok (unban, "unban");
  g_assert_cmpstr (unban->out, ==, "203.0.113.7 unbanned.\n");
  again = run_ctl (f, "unban", "203.0.113.7", NULL);
  assert_fails (again, 1, "cannot unban 203.0.113.7: ", "unban of an address not banned");
  after = run_ctl (f, "bans", "--json", NULL);
  assert_ok (after, "bans --json");
  g_assert_cmpstr (g_strstrip (after->out), ==, "[]");

  /* An IPv6 address bans its /64, and says so; listed as such; unbanned
   * by the prefix as listed. */
  {
    g_autoptr(Result) v6 = run_ctl (f, "ban", "2001:db8::1", NULL);
    g_autoptr(Result) v6_json = run_ctl (f, "--json", "ban", "2001:db8::2", NULL);
    g_autoptr(Result) v6_listed = run_ctl (f, "bans", NULL);
    g_autoptr(Result) v6_unban = NULL;
    g_autoptr(JsonNode) v6_root = NULL;

    assert_ok (v6, "ban 2001:db8::1");
    g_assert_cmpstr (v6->out, ==, "2001:db8::1 is in 2001:db8::/64: the prefix is banned.\n"
                     "2001:db8::/64 banned for the configured duration.\n");
    assert_ok (v6_json, "--json ban 2001:db8::2");
    v6_root = parse_json (v6_json->out);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (v6_root), "Banned"), ==,
                     "2001:db8::/64");
    assert_ok (v6_listed, "bans");
    g_assert_true (g_regex_match_simple ("\n2001:db8::/64 +[0-9-]+ ", v6_listed->out, 0, 0));
    v6_unban = run_ctl (f, "unban", "2001:db8::/64", NULL);
    assert_ok (v6_unban, "unban 2001:db8::/64");
  }

  /* The machine's own address: refused by the gateway (InvalidArgs). */
  own = run_ctl (f, "ban", "127.0.0.1", NULL);
  assert_fails (own, 1, "cannot ban 127.0.0.1: ", "ban 127.0.0.1");

  /* Addresses no user connects from: refused by the gateway. */
  {
    static const char *const nobody[] = { "0.0.0.0", "255.255.255.255", "224.0.0.1",
                                          "239.255.255.250", "::", "ff02::1", "::ffff:0.0.0.0" };
    for (gsize i = 0; i < G_N_ELEMENTS (nobody); i++)
      {
        g_autoptr(Result) r = run_ctl (f, "ban", nobody[i], NULL);
        g_autofree char *what = g_strdup_printf ("cannot ban %s: ", nobody[i]);
        assert_fails (r, 1, what, nobody[i]);
        g_assert_nonnull (strstr (r->err, "cannot be a user's address"));
      }
  }
}

/* Reload: fine with a good moipgw.conf, refused (status 1, the reason)
 * with a broken one; keys that need a restart are named. */
static void
test_reload (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(Result) ok = NULL;
  g_autoptr(Result) json = NULL;
  g_autoptr(Result) broken = NULL;
  g_autoptr(Result) again = NULL;
  g_autoptr(Result) restart = NULL;
  g_autoptr(Result) restart_json = NULL;
  g_autoptr(Result) back = NULL;

  if (f->bus == NULL)
    return;
  ok = run_ctl (f, "reload", NULL);
  assert_ok (ok, "reload");
  g_assert_cmpstr (ok->out, ==, "Configuration reloaded.\n");
  json = run_ctl (f, "reload", "--json", NULL);
  assert_ok (json, "reload --json");
  g_assert_nonnull (strstr (json->out, "\"Ok\" : true"));

  g_assert_true (g_file_set_contents (f->config_file, "[listen]\ntelnet-prot=9000\n", -1, NULL));
  broken = run_ctl (f, "reload", NULL);
  assert_fails (broken, 1, "telnet-prot", "reload of a broken moipgw.conf");
  g_assert_nonnull (strstr (broken->err, "reload refused"));

  g_assert_true (g_file_set_contents (f->config_file, "", 0, NULL));
  again = run_ctl (f, "reload", NULL);
  assert_ok (again, "reload after the fix");

  /* Settings read at start only are named, and wait. */
  g_assert_true (g_file_set_contents (f->config_file,
                                      "[metrics]\nlisten=127.0.0.1:9\n"
                                      "[command]\nretry-interval=7\n", -1, NULL));
  restart = run_ctl (f, "reload", NULL);
  assert_ok (restart, "reload with restart-only keys");
  g_assert_cmpstr (restart->out, ==, "Configuration reloaded.\n"
                   "Waiting for a restart of moipgwd: [command] retry-interval, [metrics] listen.\n");
  restart_json = run_ctl (f, "reload", "--json", NULL);
  assert_ok (restart_json, "reload --json with restart-only keys");
  g_assert_nonnull (strstr (restart_json->out, "\"[command] retry-interval\""));
  g_assert_nonnull (strstr (restart_json->out, "\"[metrics] listen\""));

  g_assert_true (g_file_set_contents (f->config_file, "", 0, NULL));
  back = run_ctl (f, "reload", NULL);
  assert_ok (back, "reload back to the running values");
  g_assert_cmpstr (back->out, ==, "Configuration reloaded.\n");
}

/* Teletel: status works, the actions say NotSupported (no backend). */
static void
test_teletel (Fixture       *f,
              gconstpointer  data)
{
  static const char *actions[] = { "stop", "start", "restart" };
  g_autoptr(Result) status = NULL;
  g_autoptr(Result) json = NULL;
  g_autoptr(JsonNode) root = NULL;

  if (f->bus == NULL)
    return;
  status = run_ctl (f, "teletel", "status", NULL);
  assert_ok (status, "teletel status");
  assert_two_columns (status->out);
  g_assert_true (g_regex_match_simple ("^Backend: +none$", status->out, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^State: +\\w+$", status->out, G_REGEX_MULTILINE, 0));
  json = run_ctl (f, "teletel", "status", "--json", NULL);
  assert_ok (json, "teletel status --json");
  root = parse_json (json->out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "Backend"), ==, "none");
  g_assert_true (json_object_has_member (json_node_get_object (root), "State"));
  g_assert_true (json_object_has_member (json_node_get_object (root), "Pid"));

  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      g_autoptr(Result) r = run_ctl (f, "teletel", actions[i], NULL);
      g_autofree char *needle = g_strdup_printf ("cannot %s the Teletel server: not supported",
                                                 actions[i]);
      assert_fails (r, 1, needle, actions[i]);
    }
}

/* Disconnect: the user reads its status line and is closed; the
 * session is gone. */
static void
test_disconnect (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(MgwTestTcp) user = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(Result) r = NULL;
  g_autoptr(Result) gone = NULL;
  g_autoptr(Result) after = NULL;
  g_autofree char *id = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *no_session = NULL;
  gsize before;

  if (f->bus == NULL)
    return;
  user = open_user (f, NULL);
  root = wait_sessions (f, 1);
  id = g_strdup_printf ("%" G_GINT64_FORMAT,
                        json_object_get_int_member (json_array_get_object_element (json_node_get_array (root), 0),
                                                    "Id"));
  mgw_test_run_for (100);
  before = user->received->len;
  r = run_ctl (f, "disconnect", id, NULL);
  assert_ok (r, "disconnect");
  expected = g_strdup_printf ("Session %s disconnected.\n", id);
  g_assert_cmpstr (r->out, ==, expected);
  /* The status line: US 4/1, the text, CAN LF. */
  mgw_test_tcp_wait_closed (user);
  g_assert_cmpuint (user->received->len, >, before);
  g_assert_nonnull (memmem (user->received->data + before, user->received->len - before,
                            S ("\x1f\x40\x41")));
  g_assert_nonnull (memmem (user->received->data + before, user->received->len - before,
                            S ("\x18\x0a")));

  gone = run_ctl (f, "disconnect", id, NULL);
  no_session = g_strdup_printf ("no session %s", id);
  assert_fails (gone, 1, no_session, "disconnect of a session gone");
  after = run_ctl (f, "sessions", NULL);
  assert_ok (after, "sessions");
  g_assert_cmpstr (after->out, ==, "No sessions.\n");
}

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"

/* The id of the only session, as text. */
static char *
only_session_id (Fixture *f)
{
  g_autoptr(JsonNode) root = wait_sessions (f, 1);

  return g_strdup_printf ("%" G_GINT64_FORMAT,
                          json_object_get_int_member (json_array_get_object_element (json_node_get_array (root), 0),
                                                      "Id"));
}

/* message ID, --all, --target: the users' status lines and how many were
 * told, --json; texts the gateway refuses, and why, status 1. */
static void
test_message (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(MgwTestTcp) user = NULL;
  g_autofree char *id = NULL;
  g_autofree char *told = NULL;
  g_autofree char *too_long = g_strnfill (201, 'x');

  if (f->bus == NULL)
    return;
  user = open_user (f, NULL);
  id = only_session_id (f);
  {
    g_autoptr(Result) r = run_ctl (f, "message", id, "Fermeture \xc3\xa0 22 h", NULL);

    assert_ok (r, "message ID");
    told = g_strdup_printf ("Session %s told.\n", id);
    g_assert_cmpstr (r->out, ==, told);
    mgw_test_tcp_wait_for (user, S (STATUS ("Fermeture \x19\x41" "a 22 h")));
  }
  {
    g_autoptr(Result) r = run_ctl (f, "message", "--all", "EVERYONE", NULL);

    assert_ok (r, "message --all");
    g_assert_cmpstr (r->out, ==, "1 session told.\n");
    mgw_test_tcp_wait_for (user, S (STATUS ("EVERYONE")));
  }
  {
    g_autoptr(Result) r = run_ctl (f, "--json", "message", "--target", "ws://nowhere.example/",
                                   "NOBODY", NULL);
    g_autoptr(JsonNode) root = NULL;
    JsonObject *o;

    assert_ok (r, "message --target --json");
    root = parse_json (r->out);
    o = json_node_get_object (root);
    g_assert_cmpstr (json_object_get_string_member (o, "Command"), ==, "message");
    g_assert_cmpstr (json_object_get_string_member (o, "Target"), ==, "ws://nowhere.example/");
    g_assert_cmpint (json_object_get_int_member (o, "Count"), ==, 0);
  }
  {
    g_autoptr(Result) empty = run_ctl (f, "message", id, "", NULL);
    g_autoptr(Result) tab = run_ctl (f, "message", "--all", "a\tb", NULL);
    g_autoptr(Result) big = run_ctl (f, "message", id, too_long, NULL);
    g_autoptr(Result) gone = run_ctl (f, "message", "4242", "HELLO", NULL);

    assert_fails (empty, 1, "The message is empty", "message ''");
    assert_fails (tab, 1, "The message holds a control character (U+0009)", "message TAB");
    assert_fails (big, 1, "The message is 201 bytes long, more than 200", "message too long");
    assert_fails (gone, 1, "no session 4242", "message 4242");
  }
  g_assert_false (mgw_test_bytes_contain (user->received, S ("NOBODY")));
}

/* drain with a grace and a text: told, status shows it, new users
 * refused; resume; drain --grace 0: ended at once. */
static void
test_drain (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(MgwTestTcp) user = NULL;
  g_autoptr(MgwTestTcp) refused = NULL;
  g_autoptr(MgwTestTcp) later = NULL;

  if (f->bus == NULL)
    return;
  user = open_user (f, NULL);
  json_node_unref (wait_sessions (f, 1));
  {
    g_autoptr(Result) r = run_ctl (f, "drain", "--grace", "30", "CLOSING AT 22:00", NULL);
    g_autoptr(Result) st = NULL;
    g_autoptr(Result) json = NULL;
    g_autoptr(JsonNode) root = NULL;
    JsonObject *o;

    assert_ok (r, "drain");
    if (!g_regex_match_simple ("^Draining: new users are refused; the open sessions end at "
                               "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\\.\n$", r->out, 0, 0))
      g_error ("drain said: %s", r->out);
    mgw_test_tcp_wait_for (user, S (STATUS ("CLOSING AT 22:00")));
    st = run_ctl (f, "status", NULL);
    assert_ok (st, "status while draining");
    assert_two_columns (st->out);
    g_assert_true (g_regex_match_simple ("^Draining: +yes$", st->out, G_REGEX_MULTILINE, 0));
    g_assert_true (g_regex_match_simple ("^Sessions end at: +[0-9]{4}-", st->out, G_REGEX_MULTILINE, 0));
    json = run_ctl (f, "--json", "status", NULL);
    root = parse_json (json->out);
    o = json_node_get_object (root);
    g_assert_true (json_object_get_boolean_member (o, "Draining"));
    g_assert_cmpint (assert_json_time (o, "DrainDeadline"), >, g_get_real_time () + 25 * 60 * G_USEC_PER_SEC);
  }
  refused = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  mgw_test_tcp_wait_for (refused, S (STATUS ("SERVICE CLOSING, RETRY LATER")));
  mgw_test_tcp_wait_closed (refused);
  {
    g_autoptr(Result) r = run_ctl (f, "resume", NULL);
    g_autoptr(Result) again = run_ctl (f, "--json", "resume", NULL);

    assert_ok (r, "resume");
    g_assert_cmpstr (r->out, ==, "Users are admitted again.\n");
    assert_ok (again, "resume --json, not draining");
    g_assert_nonnull (strstr (again->out, "\"Command\" : \"resume\""));
  }
  later = open_user (f, NULL);
  g_assert_false (user->closed);
  {
    g_autoptr(Result) r = run_ctl (f, "drain", "--grace", "0", NULL);

    assert_ok (r, "drain --grace 0");
    g_assert_cmpstr (r->out, ==, "Draining: new users are refused; the open sessions were ended.\n");
    mgw_test_tcp_wait_for (user, S (STATUS ("SERVICE CLOSED")));
    mgw_test_tcp_wait_closed (user);
    mgw_test_tcp_wait_closed (later);
  }
  {
    g_autoptr(Result) r = run_ctl (f, "resume", NULL);
    assert_ok (r, "resume");
  }
}

/* --- moipgwctl watch: its standard output, raw --- */

typedef struct
{
  GSubprocess *process;
  GByteArray  *out;
  GString     *err;
  gboolean     out_done;
  gboolean     err_done;
  gboolean     exited;
} RawChild;

static void raw_read_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
raw_read_next (RawChild *c,
               gboolean  err)
{
  GInputStream *in = err ? g_subprocess_get_stderr_pipe (c->process)
                         : g_subprocess_get_stdout_pipe (c->process);

  g_input_stream_read_bytes_async (in, 4096, G_PRIORITY_DEFAULT, NULL, raw_read_cb, c);
}

static void
raw_read_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  RawChild *c = user_data;
  gboolean err = G_INPUT_STREAM (source) == g_subprocess_get_stderr_pipe (c->process);
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, NULL);
  gsize len = bytes != NULL ? g_bytes_get_size (bytes) : 0;

  if (len == 0)
    {
      if (err)
        c->err_done = TRUE;
      else
        c->out_done = TRUE;
      return;
    }
  if (err)
    g_string_append_len (c->err, g_bytes_get_data (bytes, NULL), (gssize) len);
  else
    g_byte_array_append (c->out, g_bytes_get_data (bytes, NULL), (guint) len);
  raw_read_next (c, err);
}

static void
raw_exited_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  ((RawChild *) user_data)->exited = TRUE;
}

static RawChild *
watch_spawn (Fixture    *f,
             const char *id)
{
  const char *args[] = { "watch", id, NULL };
  g_autoptr(GError) error = NULL;
  RawChild *c = g_new0 (RawChild, 1);

  c->process = spawn_ctl (NULL, f->bus_address, NULL, FALSE, "--session-bus", args, &error);
  g_assert_no_error (error);
  c->out = g_byte_array_new ();
  c->err = g_string_new (NULL);
  raw_read_next (c, FALSE);
  raw_read_next (c, TRUE);
  g_subprocess_wait_async (c->process, NULL, raw_exited_cb, c);
  return c;
}

static gboolean
raw_done (gpointer data)
{
  RawChild *c = data;

  return c->exited && c->out_done && c->err_done;
}

static void
raw_child_free (RawChild *c)
{
  if (!c->exited)
    g_subprocess_force_exit (c->process);
  mgw_test_wait_until (raw_done, c, CHILD_TIMEOUT_MS, "moipgwctl watch to exit");
  g_object_unref (c->process);
  g_byte_array_unref (c->out);
  g_string_free (c->err, TRUE);
  g_free (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawChild, raw_child_free)

/* `session ID --json` until its Watched is `watched` (changes come
 * at once, polled as `wait_sessions` does); `c`, when not NULL, is the
 * watch that must keep running meanwhile. */
static void
wait_watched (Fixture    *f,
              const char *id,
              gboolean    watched,
              RawChild   *c)
{
  gint64 deadline = g_get_monotonic_time () + CHILD_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  for (;;)
    {
      g_autoptr(Result) r = run_ctl (f, "--json", "session", id, NULL);
      g_autoptr(JsonNode) root = NULL;

      assert_ok (r, "session --json");
      root = parse_json (r->out);
      if (json_object_get_boolean_member (json_node_get_object (root), "Watched") == watched)
        return;
      if (c != NULL && c->exited)
        g_error ("moipgwctl watch exited: %s", c->err->str);
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for Watched %s: %s", watched ? "true" : "false", r->out);
      mgw_test_run_for (100);
    }
}

/* watch ID: the user's screen, raw, on standard output (an operator's
 * message shows there as the user gets it), Watched while it runs;
 * Ctrl-C ends it with status 0 and Unwatch. Again, and the session is
 * disconnected: its last status line comes, then the watch ends by
 * itself, saying so. On the bus with moipgw's policy too (data
 * "policy"): root receives the signal it keeps from others. */
static void
test_watch (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(MgwTestTcp) user = NULL;
  g_autofree char *id = NULL;
  g_autofree char *ended = NULL;

  if (f->bus == NULL)
    return;
  user = open_user (f, NULL);
  id = only_session_id (f);
  {
    g_autoptr(RawChild) c = watch_spawn (f, id);
    g_autoptr(Result) r = NULL;

    wait_watched (f, id, TRUE, c);
    r = run_ctl (f, "message", id, "SEEN FROM AFAR", NULL);
    assert_ok (r, "message while watched");
    mgw_test_bytes_wait (c->out, S (STATUS ("SEEN FROM AFAR")), "moipgwctl watch's output");
    g_subprocess_send_signal (c->process, SIGINT);
    mgw_test_wait_until (raw_done, c, CHILD_TIMEOUT_MS, "moipgwctl watch to exit");
    g_assert_true (g_subprocess_get_if_exited (c->process));
    g_assert_cmpint (g_subprocess_get_exit_status (c->process), ==, 0);
    g_assert_cmpstr (c->err->str, ==, "");
    wait_watched (f, id, FALSE, NULL);
  }
  {
    g_autoptr(RawChild) c = watch_spawn (f, id);
    g_autoptr(Result) r = NULL;

    wait_watched (f, id, TRUE, c);
    r = run_ctl (f, "disconnect", id, NULL);
    assert_ok (r, "disconnect while watched");
    mgw_test_wait_until (raw_done, c, CHILD_TIMEOUT_MS, "moipgwctl watch to end with the session");
    g_assert_cmpint (g_subprocess_get_exit_status (c->process), ==, 0);
    g_assert_true (mgw_test_bytes_contain (c->out, S (STATUS ("DISCONNECTED BY THE OPERATOR"))));
    ended = g_strdup_printf ("Session %s ended.\n", id);
    g_assert_cmpstr (c->err->str, ==, ended);
  }
  {
    g_autoptr(Result) r = run_ctl (f, "watch", "4242", NULL);
    assert_fails (r, 1, "no session 4242", "watch 4242");
  }
}

/* The last line of a recording, once it is `needle`'s. */
typedef struct
{
  const char *path;
  const char *needle;
} FileWait;

static gboolean
file_ends_with (gpointer data)
{
  FileWait *w = data;
  g_autofree char *text = NULL;

  return g_file_get_contents (w->path, &text, NULL, NULL) && g_str_has_suffix (text, w->needle);
}

/* record ID: the recording's id alone on stdout, the file in
 * <state>/recordings (0640), its header's offset the session's age;
 * `session ID` shows it; a second one is refused; --stop ends it with a
 * stop mark; then it is not recorded. */
static void
test_record (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(MgwTestTcp) user = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) shown = NULL;
  g_autoptr(JsonNode) action = NULL;
  g_autoptr(Result) r = NULL;
  g_autoptr(Result) again = NULL;
  g_autoptr(Result) session = NULL;
  g_autoptr(Result) stop = NULL;
  g_autoptr(Result) stop_again = NULL;
  g_autoptr(Result) none = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *recording = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  g_auto(GStrv) lines = NULL;
  MgwRecordingHeader header;
  FileWait w;
  struct stat st;

  if (f->bus == NULL)
    return;
  user = open_user (f, NULL);
  root = wait_sessions (f, 1);
  id = g_strdup_printf ("%" G_GINT64_FORMAT,
                        json_object_get_int_member (json_array_get_object_element (json_node_get_array (root), 0),
                                                    "Id"));
  r = run_ctl (f, "record", id, NULL);
  assert_ok (r, "record");
  g_assert_true (g_str_has_suffix (r->out, "\n"));
  recording = g_strndup (r->out, strlen (r->out) - 1);
  g_assert_true (mgw_recording_id_is_valid (recording));
  g_assert_true (g_str_has_suffix (recording, id));
  name = g_strconcat (recording, MGW_RECORDING_SUFFIX, NULL);
  path = g_build_filename (f->dir, "state", "recordings", name, NULL);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);

  session = run_ctl (f, "session", id, "--json", NULL);
  assert_ok (session, "session --json");
  shown = parse_json (session->out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (shown), "Recording"), ==,
                   recording);
  again = run_ctl (f, "record", id, NULL);
  expected = g_strdup_printf ("Session %s is already recorded (%s)", id, recording);
  assert_fails (again, 1, expected, "record twice");
  /* Being written: listed so, and kept from recordings delete. */
  {
    g_autoptr(Result) list = run_ctl (f, "recordings", NULL);
    g_autoptr(Result) del = run_ctl (f, "recordings", "delete", recording, NULL);
    g_autofree char *marked = g_strconcat (recording, " *", NULL);

    assert_ok (list, "recordings while recording");
    g_assert_nonnull (strstr (list->out, marked));
    g_assert_nonnull (strstr (list->out, "* being written"));
    assert_fails (del, 1, "is being written: stop it first", "recordings delete while recording");
  }

  mgw_test_tcp_send (user, S ("abc"));
  mgw_test_run_for (200);
  stop = run_ctl (f, "--json", "record", "--stop", id, NULL);
  assert_ok (stop, "record --stop");
  action = parse_json (stop->out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (action), "Command"), ==,
                   "record --stop");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (action), "Recording"), ==,
                   recording);
  w.path = path;
  w.needle = ",\"m\",{\"event\":\"stop\"}]\n";
  mgw_test_wait_until (file_ends_with, &w, CHILD_TIMEOUT_MS, "the stop mark");
  stop_again = run_ctl (f, "record", "--stop", id, NULL);
  g_free (expected);
  expected = g_strdup_printf ("Session %s is not recorded", id);
  assert_fails (stop_again, 1, expected, "record --stop of a session not recorded");
  none = run_ctl (f, "record", "4242", NULL);
  assert_fails (none, 1, "no session 4242", "record of no session");

  /* Recorded from the middle of the session: its age in the header; what
   * the user typed, masked by default. */
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_true (mgw_recording_parse_header (lines[0], strlen (lines[0]), &header, &error));
  g_assert_no_error (error);
  g_assert_cmpint (header.offset, >, 0);
  g_assert_cmpstr (header.id, ==, recording);
  g_assert_cmpuint (header.session, ==, g_ascii_strtoull (id, NULL, 10));
  g_assert_cmpint (header.input, ==, MGW_RECORDING_INPUT_MASK);
  mgw_recording_header_clear (&header);
  g_assert_nonnull (strstr (text, ",\"u\",3]\n"));
  g_assert_null (strstr (text, "abc"));
}

typedef struct
{
  Child      *c;
  const char *event;
  guint       from;
  guint       found;
} EventWait;

static gboolean
event_seen (gpointer data)
{
  EventWait *w = data;
  g_autofree char *needle = g_strdup_printf ("\"Event\":\"%s\"", w->event);

  for (guint i = w->from; i < w->c->lines->len; i++)
    if (strstr (w->c->lines->pdata[i], needle) != NULL)
      {
        w->found = i;
        return TRUE;
      }
  return w->c->exited;
}

/* The JSON line of the next `event` of monitor `c`. */
static JsonNode *
wait_event (Child      *c,
            const char *event,
            guint      *from)
{
  EventWait w = { c, event, *from, 0 };
  g_autofree char *what = g_strdup_printf ("monitor event %s", event);

  mgw_test_wait_until (event_seen, &w, CHILD_TIMEOUT_MS, what);
  if (c->exited)
    g_error ("the monitor exited: %s", c->output->str);
  *from = w.found + 1;
  /* One object per line. */
  return parse_json (c->lines->pdata[w.found]);
}

/* monitor --json: a line per event, as it happens; SIGTERM ends it with
 * status 0. The human monitor prints the same. */
static void
test_monitor (Fixture       *f,
              gconstpointer  data)
{
  const char *json_argv[] = { g_getenv ("MOIPGWCTL"), "--session-bus", "monitor", "--json", NULL };
  const char *human_argv[] = { g_getenv ("MOIPGWCTL"), "--session-bus", "monitor", NULL };
  g_autoptr(Child) json = NULL;
  g_autoptr(Child) human = NULL;
  g_autoptr(MgwTestTcp) user = NULL;
  g_autoptr(JsonNode) started = NULL;
  g_autoptr(JsonNode) added = NULL;
  g_autoptr(JsonNode) banned = NULL;
  g_autoptr(JsonNode) unbanned = NULL;
  g_autoptr(JsonNode) removed = NULL;
  g_autoptr(JsonNode) stopped = NULL;
  g_autofree char *human_added = NULL;
  OutputWait w = { NULL, NULL };
  guint16 port;
  guint from = 0;
  gint64 id;

  if (f->bus == NULL)
    return;
  json = child_spawn (json_argv, f->bus_address, NULL, G_SUBPROCESS_FLAGS_NONE);
  human = child_spawn (human_argv, f->bus_address, NULL, G_SUBPROCESS_FLAGS_NONE);
  started = wait_event (json, "monitor-started", &from);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (started),
                                                                         "Sessions")), ==, 0);
  w.c = human;
  w.needle = "monitoring moipgwd";
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "the human monitor to start");

  user = open_user (f, &port);
  added = wait_event (json, "session-added", &from);
  id = json_object_get_int_member (json_node_get_object (added), "Id");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (added), "PeerPort"), ==, port);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (added), "Access"), ==, "Telnet");
  assert_json_time (json_node_get_object (added), "Time");

  {
    g_autoptr(Result) r = run_ctl (f, "ban", "203.0.113.8", NULL);
    assert_ok (r, "ban");
  }
  banned = wait_event (json, "banned", &from);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (banned), "Address"), ==, "203.0.113.8");
  {
    g_autoptr(Result) r = run_ctl (f, "unban", "203.0.113.8", NULL);
    assert_ok (r, "unban");
  }
  unbanned = wait_event (json, "unbanned", &from);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (unbanned), "Reason"), ==, "manual");

  g_clear_pointer (&user, mgw_test_tcp_free);
  removed = wait_event (json, "session-removed", &from);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (removed), "Id"), ==, id);

  human_added = g_strdup_printf (" session %" G_GINT64_FORMAT " added: Telnet from 127.0.0.1:%u", id, port);
  w.needle = human_added;
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "the human monitor's session line");
  w.needle = " 203.0.113.8 unbanned (manual)";
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "the human monitor's unban line");
  g_assert_true (g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} ",
                                       human->lines->pdata[0], 0, 0));

  /* The gateway goes away: said once, and the monitor goes on. */
  child_stop (f->daemon, FALSE);
  stopped = wait_event (json, "gateway-stopped", &from);
  w.needle = " moipgwd stopped\n";
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "the human monitor's stop line");
  mgw_test_run_for (200);
  g_assert_false (json->exited);
  g_assert_null (strstr (strstr (human->output->str, w.needle) + 1, w.needle));

  child_stop (json, FALSE);
  child_stop (human, FALSE);
  g_assert_true (g_subprocess_get_if_exited (json->process));
  g_assert_cmpint (g_subprocess_get_exit_status (json->process), ==, 0);
  g_assert_true (g_subprocess_get_if_exited (human->process));
  g_assert_cmpint (g_subprocess_get_exit_status (human->process), ==, 0);
  /* Every line of the JSON monitor is an object with a time. */
  for (guint i = 0; i < json->lines->len; i++)
    {
      g_autoptr(JsonNode) line = parse_json (json->lines->pdata[i]);
      assert_json_time (json_node_get_object (line), "Time");
    }
}

/* Started before moipgwd: the monitor says it waits, and follows the
 * gateway once it comes. */
static void
test_monitor_waits (Fixture       *f,
                    gconstpointer  data)
{
  const char *json_argv[] = { g_getenv ("MOIPGWCTL"), "--session-bus", "monitor", "--json", NULL };
  const char *human_argv[] = { g_getenv ("MOIPGWCTL"), "--session-bus", "monitor", NULL };
  g_autoptr(Child) json = NULL;
  g_autoptr(Child) human = NULL;
  g_autoptr(JsonNode) started = NULL;
  g_autoptr(JsonNode) up = NULL;
  g_autoptr(JsonNode) added = NULL;
  g_autoptr(MgwTestTcp) user = NULL;
  OutputWait w = { NULL, NULL };
  guint16 port;
  guint from = 0;

  if (f->bus == NULL)
    return;
  json = child_spawn (json_argv, f->bus_address, NULL, G_SUBPROCESS_FLAGS_NONE);
  human = child_spawn (human_argv, f->bus_address, NULL, G_SUBPROCESS_FLAGS_NONE);
  started = wait_event (json, "monitor-started", &from);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (started), "Running"));
  w.c = human;
  w.needle = "moipgwd is not running: waiting for it";
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "the human monitor to wait");
  mgw_test_run_for (200);
  g_assert_false (json->exited);
  g_assert_false (human->exited);

  start_daemon (f);
  up = wait_event (json, "gateway-started", &from);
  w.needle = " moipgwd started\n";
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "the human monitor's start line");
  user = open_user (f, &port);
  added = wait_event (json, "session-added", &from);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (added), "PeerPort"), ==, port);

  child_stop (json, FALSE);
  child_stop (human, FALSE);
  g_assert_cmpint (g_subprocess_get_exit_status (json->process), ==, 0);
  g_assert_cmpint (g_subprocess_get_exit_status (human->process), ==, 0);
}

static gboolean
daemon_said (gpointer data)
{
  OutputWait *w = data;
  return strstr (w->c->output->str, w->needle) != NULL || w->c->exited;
}

/* dbus restarted: moipgwd keeps serving its users, connects to the new
 * bus and owns its name again; moipgwctl works again. */
static void
test_bus_restart (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(MgwTestTcp) user = NULL;
  OutputWait w = { NULL, NULL };
  guint16 port;

  if (f->bus == NULL)
    return;
  start_daemon (f);
  user = open_user (f, &port);
  mgw_test_tcp_wait_for (user, S ("\x1f\x40\x41"));

  g_bus_unwatch_name (f->watch);
  f->watch = 0;
  g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  child_stop (f->bus, FALSE);
  g_clear_pointer (&f->bus, child_free);
  w.c = f->daemon;
  w.needle = "the connection to the bus closed";
  mgw_test_wait_until (daemon_said, &w, CHILD_TIMEOUT_MS, "moipgwd to see the bus go");
  g_assert_false (f->daemon->exited);

  g_free (f->bus_address);
  setup_bus (f, data);
  w.needle = "org.moipgw.Gateway1 acquired again";
  mgw_test_wait_until (daemon_said, &w, CHILD_TIMEOUT_MS, "moipgwd to own its name again");
  g_assert_false (f->daemon->exited);
  {
    g_autoptr(Result) r = run_ctl (f, "status", NULL);
    assert_ok (r, "status on the new bus");
  }
  /* The user never noticed. */
  mgw_test_tcp_send (user, S ("still"));
  mgw_test_run_for (100);
  g_assert_false (user->closed);
  {
    g_autoptr(Result) r = run_ctl (f, "sessions", NULL);
    g_autofree char *peer = g_strdup_printf ("127.0.0.1:%u", port);
    assert_ok (r, "sessions on the new bus");
    g_assert_nonnull (strstr (r->out, peer));
  }
}

static gboolean
child_exited (gpointer data)
{
  return ((Child *) data)->exited;
}

/* --require-bus with the name already taken: moipgwd fails at once,
 * saying why, instead of serving unseen. */
static void
test_require_bus_name_taken (Fixture       *f,
                             gconstpointer  data)
{
  const char *argv[] = { g_getenv ("MOIPGWD"), "--session-bus", "--require-bus", "--demo",
                         "--tcp", "0", "--ws", "off", "--display", "off", "-i", "127.0.0.1",
                         NULL };
  g_autoptr(Child) d = NULL;
  guint id;

  if (f->bus == NULL)
    return;
  id = g_bus_own_name_on_connection (f->connection, BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                     NULL, NULL, NULL, NULL);
  mgw_test_wait_until (name_owned, f, CHILD_TIMEOUT_MS, "the test to own " BUS_NAME);
  d = child_spawn (argv, f->bus_address, NULL, G_SUBPROCESS_FLAGS_STDERR_MERGE);
  mgw_test_wait_until (child_exited, d, CHILD_TIMEOUT_MS, "moipgwd to give up");
  g_assert_cmpint (g_subprocess_get_exit_status (d->process), ==, 1);
  if (strstr (d->output->str, "cannot serve D-Bus (--require-bus): cannot own the name") == NULL)
    g_error ("no reason given:\n%s", d->output->str);
  g_bus_unown_name (id);
}

/* A user neither root nor in the moipgw group reads (status, sessions)
 * but may not act nor list the bans: a clear message, status 1. Needs
 * root to become nobody. */
static void
test_access_denied (Fixture       *f,
                    gconstpointer  data)
{
  static const char *actions[][3] = {
    { "ban", "192.0.2.1" }, { "unban", "192.0.2.1" }, { "reload" }, { "disconnect", "0" },
    { "teletel", "stop" }, { "bans" }, { "message", "0", "HI" }, { "message", "--all", "HI" },
    { "drain" }, { "resume" }, { "watch", "0" }, { "recordings" }, { "recordings", "expire" },
    { "replay", "20261203-164225-3" }, { "record", "0" },
  };
  static const char *reads[][3] = { { "status" }, { "sessions" }, { "teletel", "status" } };
  g_autoptr(MgwTestTcp) user = NULL;

  if (f->bus == NULL)
    return;
  if (geteuid () != 0)
    {
      g_test_skip ("not root: cannot run moipgwctl as another user");
      return;
    }
  /* A session for disconnect to be refused on (the first has id 0). */
  user = open_user (f, NULL);
  json_node_unref (wait_sessions (f, 1));
  for (gsize i = 0; i < G_N_ELEMENTS (reads); i++)
    {
      const char *args[] = { "--session-bus", reads[i][0], reads[i][1], NULL };
      g_autoptr(Result) r = run_ctl_as (f->bus_address, NULL, TRUE, args);

      /* The list, without where the users are, and a word of why. */
      if (g_str_equal (reads[i][0], "sessions"))
        {
          g_assert_cmpint (r->status, ==, 0);
          g_assert_null (strstr (r->out, "127.0.0.1"));
          g_assert_cmpstr (r->err, ==, "(Peer addresses are shown to root and the moipgw group only.)\n");
        }
      else
        assert_ok (r, reads[i][0]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      const char *args[] = { "--session-bus", actions[i][0], actions[i][1], actions[i][2], NULL };
      g_autoptr(Result) r = run_ctl_as (f->bus_address, NULL, TRUE, args);

      assert_fails (r, 1, "permission denied: you must be root or in the moipgw group", actions[i][0]);
    }
  g_assert_false (mgw_test_bytes_contain (user->received, S ("HI")));
  /* Nothing happened. */
  {
    g_autoptr(Result) bans = run_ctl (f, "bans", NULL);
    g_autoptr(Result) sessions = run_ctl (f, "sessions", "--json", NULL);

    g_assert_cmpstr (bans->out, ==, "No bans.\n");
    g_assert_nonnull (strstr (sessions->out, "\"Id\" : 0,"));
  }
}

/* --- recordings --- */

typedef struct
{
  int         status;
  GByteArray *out;
  char       *err;
  gint64      elapsed;   /* µs */
} BinaryResult;

static void
binary_result_free (BinaryResult *r)
{
  g_byte_array_unref (r->out);
  g_free (r->err);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BinaryResult, binary_result_free)

/* moipgwctl --session-bus `args`, its standard output as bytes (replay
 * writes a Minitel's screen, not text), and how long it ran. */
static BinaryResult *
run_ctl_binary (Fixture            *f,
                const char * const *args)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GError) error = NULL;
  BinaryResult *r = g_new0 (BinaryResult, 1);
  gint64 start = g_get_monotonic_time ();

  process = spawn_ctl (NULL, f->bus_address, NULL, FALSE, "--session-bus", args, &error);
  g_assert_no_error (error);
  /* Synchronous: the daemon answers from its own process. */
  g_assert_true (g_subprocess_communicate (process, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  r->elapsed = g_get_monotonic_time () - start;
  r->status = g_subprocess_get_exit_status (process);
  r->out = g_bytes_unref_to_array (g_steal_pointer (&out));
  r->err = g_bytes_get_size (err) > 0 ? g_strndup (g_bytes_get_data (err, NULL), g_bytes_get_size (err))
                                      : g_strdup ("");
  return r;
}

/* A recording in the daemon's directory as the gateway writes it, its
 * screen bytes in `screen`: every byte value from the default server,
 * a redirection's target, a status line, and over a second between the
 * first and the last; what the user typed masked. */
static char *
put_recording (Fixture    *f,
               const char *id,
               GByteArray *screen,
               const char *tail)
{
  g_autofree char *name = g_strconcat (id, ".mgwrec", NULL);
  g_autofree char *path = g_build_filename (f->dir, "state", "recordings", name, NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  guint8 all[256];
  static const guint8 page[] = "\x0c\x1b\x39\x7b" "3615 MOIPGW";
  static const guint8 status[] = "\x1f\x40\x41 CONNECT\x0a";
  MgwRecordingHeader header = {
    .id = (char *) id, .session = 3, .peer = (char *) "192.0.2.44", .port = 4444,
    .access = (char *) "Telnet", .start = G_GINT64_CONSTANT (1796316145000000),
    .gateway = (char *) "moipgw test", .input = MGW_RECORDING_INPUT_MASK, .max_size = 1 << 20,
  };

  for (guint i = 0; i < 256; i++)
    all[i] = (guint8) i;
  mgw_recording_append_header (text, &header);
  mgw_recording_append_chunk (text, 100000, MGW_RECORDING_SERVER, 0, page, sizeof page - 1);
  mgw_recording_append_masked (text, 200000, 0, 5);
  mgw_recording_append_mark (text, 300000, "redirect", "target", "ws://127.0.0.1:1/",
                             "#redirection", (guint64) 1, NULL);
  mgw_recording_append_chunk (text, 500000, MGW_RECORDING_TARGET, 1, all, sizeof all);
  mgw_recording_append_chunk (text, 600000, MGW_RECORDING_USER, 1, (const guint8 *) "\x13I", 2);
  mgw_recording_append_mark (text, 700000, "return", "reason", "Connexion/Fin",
                             "#redirection", (guint64) 1, NULL);
  mgw_recording_append_chunk (text, 1100000, MGW_RECORDING_GATEWAY, 0, status, sizeof status - 1);
  mgw_recording_append_mark (text, 1200000, "end", "reason", "user left", NULL);
  if (tail != NULL)
    g_string_append (text, tail);
  if (screen != NULL)
    {
      g_byte_array_append (screen, page, sizeof page - 1);
      g_byte_array_append (screen, all, sizeof all);
      g_byte_array_append (screen, status, sizeof status - 1);
    }
  g_assert_true (g_file_set_contents (path, text->str, (gssize) text->len, NULL));
  return g_steal_pointer (&path);
}

static void
assert_bytes (GByteArray *have,
              GByteArray *want,
              const char *what)
{
  if (have->len != want->len || memcmp (have->data, want->data, want->len) != 0)
    g_error ("%s: %u bytes, not the %u recorded", what, have->len, want->len);
}

static void
test_recordings (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GByteArray) screen = g_byte_array_new ();
  g_autofree char *path = NULL;
  g_autofree char *bad = NULL;

  if (f->bus == NULL)
    return;
  {
    g_autoptr(Result) r = run_ctl (f, "recordings", NULL);
    assert_ok (r, "recordings, none");
    g_assert_cmpstr (r->out, ==, "No recordings.\n");
  }
  path = put_recording (f, "20261203-164225-3", screen, NULL);
  bad = put_recording (f, "20261203-164226-4", NULL, "[1.3,\"s\",\"\\u0100\"]\n");

  /* The list: both, with the user's address for root. */
  {
    g_autoptr(Result) r = run_ctl (f, "recordings", NULL);
    g_autoptr(Result) j = run_ctl (f, "recordings", "--json", NULL);
    g_autoptr(JsonNode) root = NULL;
    JsonObject *o;
    struct stat st;

    assert_ok (r, "recordings");
    g_assert_nonnull (strstr (r->out, "20261203-164225-3"));
    g_assert_nonnull (strstr (r->out, "192.0.2.44:4444"));
    g_assert_nonnull (strstr (r->out, "20261203-164226-4"));
    assert_ok (j, "recordings --json");
    root = parse_json (j->out);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 2);
    o = json_array_get_object_element (json_node_get_array (root), 0);
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "Id"), "20261203-16422"));
    g_assert_cmpstr (json_object_get_string_member (o, "Access"), ==, "Telnet");
    g_assert_cmpint (json_object_get_int_member (o, "Session"), >=, 3);
    g_assert_false (json_object_get_boolean_member (o, "Active"));
    g_assert_cmpint (json_object_get_int_member (o, "Size"), >, 0);
  }

  /* --raw: the screen's bytes, exactly, in order, and nothing else. */
  {
    const char *args[] = { "replay", "--raw", "20261203-164225-3", NULL };
    g_autoptr(BinaryResult) r = run_ctl_binary (f, args);

    g_assert_cmpint (r->status, ==, 0);
    g_assert_cmpstr (r->err, ==, "");
    assert_bytes (r->out, screen, "replay --raw");
  }
  /* At twice the pace: the first byte to the last took 1 s, so at
   * least 0.5 s now; the same bytes. (Lower bounds only: a busy machine
   * is slower, never faster.) */
  {
    const char *args[] = { "replay", "--speed", "2", "20261203-164225-3", NULL };
    g_autoptr(BinaryResult) r = run_ctl_binary (f, args);

    g_assert_cmpint (r->status, ==, 0);
    assert_bytes (r->out, screen, "replay --speed 2");
    g_assert_cmpint (r->elapsed, >=, 500000);
  }
  /* At 4800 baud, 480 bytes a second: the 256 of the target alone take
   * half a second, whatever the recorded pace (--speed 1000). */
  {
    const char *args[] = { "replay", "--speed", "1000", "--baud", "4800", "20261203-164225-3", NULL };
    g_autoptr(BinaryResult) r = run_ctl_binary (f, args);

    g_assert_cmpint (r->status, ==, 0);
    assert_bytes (r->out, screen, "replay --baud 4800");
    g_assert_cmpint (r->elapsed, >=, (gint64) screen->len * 10 * G_USEC_PER_SEC / 4800 - 20000);
  }
  /* A broken line: what came before it, then the line named. */
  {
    const char *args[] = { "replay", "--raw", "20261203-164226-4", NULL };
    g_autoptr(BinaryResult) r = run_ctl_binary (f, args);

    g_assert_cmpint (r->status, ==, 1);
    g_assert_nonnull (strstr (r->err, "line 10:"));
    g_assert_cmpuint (r->out->len, ==, screen->len);
  }
  /* Usage and refusals. */
  {
    g_autoptr(Result) a = run_ctl (f, "replay", "../etc/passwd", NULL);
    g_autoptr(Result) b = run_ctl (f, "replay", "20261203-000000-9", NULL);
    g_autoptr(Result) c = run_ctl (f, "replay", "--raw", "--speed", "2", "20261203-164225-3", NULL);
    g_autoptr(Result) d = run_ctl (f, "replay", "--speed", "fast", "20261203-164225-3", NULL);
    g_autoptr(Result) e = run_ctl (f, "recordings", "remove", NULL);

    assert_fails (a, 2, "is not a recording's id", "replay ../etc/passwd");
    assert_fails (b, 1, "No recording 20261203-000000-9", "replay of none");
    assert_fails (c, 2, "--raw", "replay --raw --speed");
    assert_fails (d, 2, "--speed", "replay --speed fast");
    assert_fails (e, 2, "unknown action", "recordings remove");
  }
  /* Delete, then retention: keep-count=1 keeps the newer (keep-days=0:
   * the files are dated by the kernel, whatever date the test fakes). */
  {
    g_autoptr(Result) del = run_ctl (f, "recordings", "delete", "20261203-164226-4", NULL);
    g_autoptr(Result) again = run_ctl (f, "recordings", "delete", "20261203-164226-4", NULL);
    g_autoptr(Result) reload = NULL;
    g_autoptr(Result) expire = NULL;
    g_autoptr(Result) list = NULL;

    assert_ok (del, "recordings delete");
    g_assert_cmpstr (del->out, ==, "Recording 20261203-164226-4 deleted.\n");
    g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
    assert_fails (again, 1, "No recording", "recordings delete, again");

    g_free (put_recording (f, "20261203-170000-5", NULL, NULL));
    g_assert_true (g_file_set_contents (f->config_file, "[recording]\nkeep-count=1\nkeep-days=0\n", -1, NULL));
    reload = run_ctl (f, "reload", NULL);
    assert_ok (reload, "reload");
    expire = run_ctl (f, "recordings", "expire", NULL);
    assert_ok (expire, "recordings expire");
    g_assert_true (g_str_has_prefix (expire->out, "1 recording removed ("));
    list = run_ctl (f, "recordings", NULL);
    g_assert_null (strstr (list->out, "20261203-164225-3"));
    g_assert_nonnull (strstr (list->out, "20261203-170000-5"));
  }
}

/* /replay/ID on the WebSocket port: off until [recording] replay-from
 * names the address (the path is then a user's like any other); then
 * the screen bytes, in order, to a libsoup client; 403 from an address
 * it does not name, 404 for no such recording. */
static void
test_replay_websocket (Fixture       *f,
                       gconstpointer  data)
{
  const char *needle = "listening for WebSocket users on port ";
  g_autoptr(GByteArray) screen = g_byte_array_new ();
  g_autofree char *uri = NULL;
  g_autofree char *missing = NULL;
  const char *p;
  guint16 port;

  if (f->bus == NULL)
    return;
  p = strstr (f->daemon->output->str, needle);
  g_assert_nonnull (p);
  port = (guint16) g_ascii_strtoull (p + strlen (needle), NULL, 10);
  g_free (put_recording (f, "20261203-164225-3", screen, NULL));
  uri = g_strdup_printf ("ws://127.0.0.1:%u/replay/20261203-164225-3?speed=4", port);
  missing = g_strdup_printf ("ws://127.0.0.1:%u/replay/20261203-000000-1", port);

  /* Off: a user like any other, on the demo's welcome page. */
  {
    g_autoptr(MgwTestWs) ws = mgw_test_ws_connect (uri, NULL);

    g_assert_no_error (ws->error);
    json_node_unref (wait_sessions (f, 1));
  }
  /* Another address only: refused. */
  {
    g_autoptr(Result) reload = NULL;
    g_autoptr(MgwTestWs) ws = NULL;

    g_assert_true (g_file_set_contents (f->config_file, "[recording]\nreplay-from=192.0.2.0/24\n",
                                        -1, NULL));
    reload = run_ctl (f, "reload", NULL);
    assert_ok (reload, "reload");
    ws = mgw_test_ws_connect (uri, NULL);
    g_assert_nonnull (ws->error);
    {
      OutputWait w = { f->daemon, "refused to 127.0.0.1: not in [recording] replay-from" };
      mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "the daemon's log");
    }
  }
  g_assert_true (g_file_set_contents (f->config_file, "[recording]\nreplay-from=127.0.0.1\n",
                                      -1, NULL));
  {
    g_autoptr(Result) reload = run_ctl (f, "reload", NULL);
    g_autoptr(MgwTestWs) none = mgw_test_ws_connect (missing, NULL);
    g_autoptr(MgwTestWs) ws = mgw_test_ws_connect (uri, NULL);

    assert_ok (reload, "reload");
    g_assert_nonnull (none->error);
    {
      OutputWait w = { f->daemon, "No recording 20261203-000000-1" };
      mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "the daemon's log");
    }
    g_assert_no_error (ws->error);
    mgw_test_ws_wait_for (ws, screen->data + screen->len - 8, 8);
    assert_bytes (ws->received, screen, "replay over WebSocket");
  }
}

/* Where users connect from is for root and the moipgw group: on a bus
 * with the policy moipgw installs, nobody sees sessions without their
 * peers, and its monitor gets no ban event (the bus keeps the signals
 * from it) though it gets the events after it; root sees both. */
static void
test_addresses_hidden (Fixture       *f,
                       gconstpointer  data)
{
  const char *monitor_argv[] = { g_getenv ("MOIPGWCTL"), "--session-bus", "monitor", NULL };
  g_autoptr(Child) theirs = NULL;
  g_autoptr(Child) ours = NULL;
  g_autoptr(MgwTestTcp) user = NULL;
  g_autoptr(MgwTestTcp) second = NULL;
  g_autofree char *peer = NULL;
  OutputWait w = { NULL, NULL };
  guint16 port;

  if (f->bus == NULL)
    return;
  user = open_user (f, &port);
  json_node_unref (wait_sessions (f, 1));
  peer = g_strdup_printf ("127.0.0.1:%u", port);
  {
    const char *args[] = { "--session-bus", "sessions", NULL };
    const char *json_args[] = { "--session-bus", "sessions", "--json", NULL };
    const char *one_args[] = { "--session-bus", "session", "0", NULL };
    g_autoptr(Result) r = run_ctl_as (f->bus_address, NULL, TRUE, args);
    g_autoptr(Result) j = run_ctl_as (f->bus_address, NULL, TRUE, json_args);
    g_autoptr(Result) one = run_ctl_as (f->bus_address, NULL, TRUE, one_args);
    g_autoptr(Result) root = run_ctl (f, "sessions", NULL);

    g_assert_cmpint (r->status, ==, 0);
    g_assert_nonnull (strstr (r->out, "teletel"));
    g_assert_null (strstr (r->out, "127.0.0.1"));
    g_assert_cmpstr (r->err, ==, "(Peer addresses are shown to root and the moipgw group only.)\n");
    assert_ok (j, "sessions --json as nobody");
    g_assert_nonnull (strstr (j->out, "\"State\" : \"teletel\""));
    g_assert_null (strstr (j->out, "Peer"));
    assert_ok (one, "session 0 as nobody");
    g_assert_nonnull (strstr (one->out, "(shown to root and the moipgw group only)"));
    g_assert_null (strstr (one->out, "127.0.0.1"));
    assert_ok (root, "sessions as root");
    g_assert_nonnull (strstr (root->out, peer));
  }

  theirs = child_spawn_as (monitor_argv, f->bus_address, NULL, G_SUBPROCESS_FLAGS_NONE, TRUE);
  ours = child_spawn (monitor_argv, f->bus_address, NULL, G_SUBPROCESS_FLAGS_NONE);
  w.needle = "monitoring moipgwd";
  w.c = theirs;
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "nobody's monitor to start");
  w.c = ours;
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "root's monitor to start");
  {
    g_autoptr(Result) r = run_ctl (f, "ban", "203.0.113.77", NULL);
    assert_ok (r, "ban");
  }
  w.needle = " 203.0.113.77 banned (";
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "root's monitor's ban line");
  /* An event after it, that nobody does get: the ban would be before. */
  second = open_user (f, NULL);
  w.c = theirs;
  w.needle = " session 1 added: Telnet from -, ";
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "nobody's monitor's session line");
  g_assert_false (theirs->exited);
  g_assert_null (strstr (theirs->output->str, "203.0.113.77"));
  g_assert_null (strstr (theirs->output->str, "127.0.0.1"));
  w.c = ours;
  w.needle = " session 1 added: Telnet from 127.0.0.1:";
  mgw_test_wait_until (output_has, &w, CHILD_TIMEOUT_MS, "root's monitor's session line");
  child_stop (theirs, FALSE);
  child_stop (ours, FALSE);
}

/* The daemon's own user is not an administrator: with moipgwd running
 * as nobody, nobody may not act (a Teletel server the gateway started
 * runs as the daemon's user), root may. */
static void
test_daemon_user (Fixture       *f,
                  gconstpointer  data)
{
  static const char *actions[][3] = { { "ban", "192.0.2.1" }, { "reload" }, { "bans" } };

  if (f->bus == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      const char *args[] = { "--session-bus", actions[i][0], actions[i][1], NULL };
      g_autoptr(Result) r = run_ctl_as (f->bus_address, NULL, TRUE, args);

      assert_fails (r, 1, "permission denied: you must be root or in the moipgw group", actions[i][0]);
    }
  {
    g_autoptr(Result) r = run_ctl (f, "ban", "192.0.2.1", NULL);
    g_autoptr(Result) bans = NULL;

    assert_ok (r, "ban as root");
    bans = run_ctl (f, "bans", NULL);
    assert_ok (bans, "bans as root");
    g_assert_nonnull (strstr (bans->out, "192.0.2.1"));
  }
}

/* Usage errors: status 2, one line, before any bus is needed; --help,
 * per command too, and --version. */
static void
test_usage (void)
{
  static const struct { const char *args[6]; const char *needle; } cases[] = {
    { { NULL }, "no command given" },
    { { "bogus" }, "unknown command 'bogus'" },
    { { "--bogus", "status" }, "--bogus" },
    { { "status", "--bogus" }, "--bogus" },
    { { "status", "extra" }, "unexpected argument 'extra'" },
    { { "session" }, "missing argument ID" },
    { { "session", "1", "2" }, "unexpected argument '2'" },
    { { "session", "x" }, "'x' is not a session id" },
    { { "disconnect", "99999999999" }, "'99999999999' is not a session id" },
    { { "disconnect", "1a" }, "'1a' is not a session id" },
    { { "ban" }, "missing argument ADDR" },
    { { "ban", "example.org" }, "'example.org' is not an IP address" },
    { { "ban", "192.0.2.1", "--days", "x" }, "--days: 'x'" },
    { { "ban", "192.0.2.1", "--days", "0" }, "--days: '0'" },
    { { "ban", "192.0.2.1", "--days", "-3" }, "--days: '-3'" },
    { { "ban", "192.0.2.1", "--days", "50000" }, "--days: '50000'" },
    { { "unban" }, "missing argument ADDR" },
    { { "unban", "bogus" }, "'bogus' is not an IP address" },
    { { "teletel" }, "missing argument" },
    { { "teletel", "bogus" }, "unknown action 'bogus'" },
    { { "monitor", "now" }, "unexpected argument 'now'" },
    { { "message" }, "missing argument ID|--all|--target URI TEXT" },
    { { "message", "1" }, "message: ID and TEXT" },
    { { "message", "x", "HI" }, "'x' is not a session id" },
    { { "message", "--all" }, "missing argument" },
    { { "message", "--all", "1", "HI" }, "TEXT alone" },
    { { "message", "--all", "--target", "ws://a/", "HI" }, "not both" },
    { { "message", "--target", "", "HI" }, "--target needs a URI" },
    { { "drain", "A", "B" }, "unexpected argument 'B'" },
    { { "drain", "--grace", "x" }, "--grace: 'x'" },
    { { "drain", "--grace", "-1" }, "--grace: '-1'" },
    { { "drain", "--grace", "99999999999" }, "--grace: '99999999999'" },
    { { "resume", "now" }, "unexpected argument 'now'" },
    { { "watch" }, "missing argument ID" },
    { { "watch", "x" }, "'x' is not a session id" },
    { { "help", "bogus" }, "unknown command 'bogus'" },
  };
  static const char *commands[] = {
    "status", "sessions", "session", "disconnect", "bans", "ban", "unban", "reload",
    "teletel", "monitor", "message", "drain", "resume", "watch",
  };
  /* A bus that is not there: usage errors come first. */
  const char *nowhere = "unix:path=/nonexistent/bus";

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Result) r = run_ctl_on (nowhere, nowhere, cases[i].args);
      g_autofree char *what = g_strdup_printf ("usage case %" G_GSIZE_FORMAT, i);
      assert_fails (r, 2, cases[i].needle, what);
    }

  {
    const char *args[] = { "--help", NULL };
    g_autoptr(Result) r = run_ctl_on (nowhere, nowhere, args);

    assert_ok (r, "--help");
    g_assert_nonnull (strstr (r->out, "--session-bus"));
    g_assert_nonnull (strstr (r->out, "--json"));
    g_assert_nonnull (strstr (r->out, "--version"));
    for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
      {
        g_autofree char *line = g_strdup_printf ("\n  %s", commands[i]);
        if (strstr (r->out, line) == NULL)
          g_error ("--help does not list %s:\n%s", commands[i], r->out);
      }
  }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const char *args[] = { commands[i], "--help", NULL };
      g_autoptr(Result) r = run_ctl_on (nowhere, nowhere, args);
      g_autofree char *usage = g_strdup_printf ("moipgwctl [OPTION…] %s", commands[i]);

      assert_ok (r, "COMMAND --help");
      if (strstr (r->out, usage) == NULL)
        g_error ("%s --help: %s", commands[i], r->out);
      g_assert_true ((strstr (r->out, "--days") != NULL) == g_str_equal (commands[i], "ban"));
      g_assert_true ((strstr (r->out, "--all") != NULL) == g_str_equal (commands[i], "message"));
      g_assert_true ((strstr (r->out, "--grace") != NULL) == g_str_equal (commands[i], "drain"));
    }
  {
    const char *args[] = { "help", "ban", NULL };
    g_autoptr(Result) r = run_ctl_on (nowhere, nowhere, args);

    assert_ok (r, "help ban");
    g_assert_nonnull (strstr (r->out, "--days"));
  }
  {
    const char *args[] = { "--version", NULL };
    g_autoptr(Result) r = run_ctl_on (nowhere, nowhere, args);

    assert_ok (r, "--version");
    g_assert_cmpstr (r->out, ==, "moipgwctl " PACKAGE_VERSION "\n");
  }
}

/* A bus without moipgwd: every command says so, status 1; on the
 * "system" bus the message suggests --session-bus. */
static void
test_not_running (Fixture       *f,
                  gconstpointer  data)
{
  static const char *cases[][3] = {
    { "status" }, { "sessions" }, { "session", "1" }, { "disconnect", "1" }, { "bans" },
    { "ban", "192.0.2.1" }, { "unban", "192.0.2.1" }, { "reload" }, { "teletel", "status" },
    { "teletel", "stop" }, { "message", "--all", "HI" }, { "message", "1", "HI" },
    { "drain" }, { "resume" }, { "watch", "1" },   /* monitor waits: /ctl/monitor-waits */
  };

  if (f->bus == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *session_args[] = { "--session-bus", cases[i][0], cases[i][1], cases[i][2], NULL };
      const char *system_args[] = { cases[i][0], cases[i][1], cases[i][2], NULL };
      g_autoptr(Result) session = run_ctl_on (f->bus_address, NULL, session_args);
      g_autoptr(Result) system = run_ctl_on (NULL, f->bus_address, system_args);

      assert_fails (session, 1, "moipgwd is not running on the session bus", cases[i][0]);
      g_assert_cmpstr (session->err, ==, "moipgwctl: moipgwd is not running on the session bus\n");
      assert_fails (system, 1, "moipgwd is not running on the system bus", cases[i][0]);
      g_assert_cmpstr (system->err,
                       ==, "moipgwctl: moipgwd is not running on the system bus (or use --session-bus)\n");
    }
}

/* In French (LANGUAGE=fr, the build tree's catalogue through
 * MOIPGW_LOCALEDIR, C.UTF-8 from the test environment): --help, a usage
 * error, a command's help and the error of a bus without the gateway. */
static void
test_french (Fixture       *f,
             gconstpointer  data)
{
  const char *nowhere = "unix:path=/nonexistent/bus";

  if (f->bus == NULL)
    return;
  if (g_getenv ("MOIPGW_LOCALEDIR") == NULL)
    {
      g_test_skip ("MOIPGW_LOCALEDIR is not set (run through meson test)");
      return;
    }
  {
    const char *args[] = { "--help", NULL };
    g_autoptr(Result) r = run_ctl_in ("fr", nowhere, nowhere, FALSE, args);

    assert_ok (r, "--help in French");
    if (strstr (r->out, "\nAdministrer moipgwd, la passerelle Minitel sur IP, par D-Bus.\n") == NULL ||
        strstr (r->out, "\n  ban ADRESSE [--days N]  ") == NULL ||
        strstr (r->out, "  --version  ") == NULL ||
        strstr (r->out, "Afficher la version et quitter\n") == NULL ||
        strstr (r->out, "\nCommandes :\n") == NULL ||
        strstr (r->out, "\nCode de sortie : 0 succ\xc3\xa8s, 1 \xc3\xa9" "chec, 2 erreur d\xe2\x80\x99utilisation.\n") == NULL)
      g_error ("moipgwctl --help is not in French:\n%s", r->out);
  }
  {
    const char *args[] = { "frobnicate", NULL };
    g_autoptr(Result) r = run_ctl_in ("fr", nowhere, nowhere, FALSE, args);

    assert_fails (r, 2, "", "an unknown command in French");
    g_assert_cmpstr (r->err, ==,
                     "moipgwctl: commande \xc2\xab frobnicate \xc2\xbb inconnue (voir moipgwctl --help)\n");
  }
  {
    const char *args[] = { "ban", "--help", NULL };
    g_autoptr(Result) r = run_ctl_in ("fr", nowhere, nowhere, FALSE, args);

    assert_ok (r, "ban --help in French");
    if (strstr (r->out, "Bannir une adresse et d\xc3\xa9" "connecter ses sessions") == NULL ||
        strstr (r->out, "Bannir pour N jours (par d\xc3\xa9" "faut : la dur\xc3\xa9" "e configur\xc3\xa9" "e)") == NULL)
      g_error ("moipgwctl ban --help is not in French:\n%s", r->out);
  }
  {
    const char *args[] = { "--session-bus", "status", NULL };
    g_autoptr(Result) r = run_ctl_in ("fr", f->bus_address, NULL, FALSE, args);

    g_assert_cmpint (r->status, ==, 1);
    g_assert_cmpstr (r->err, ==, "moipgwctl: moipgwd ne tourne pas sur le bus de session\n");
  }
  {
    /* The same under LANGUAGE=C: English. */
    const char *args[] = { "frobnicate", NULL };
    g_autoptr(Result) r = run_ctl_in ("C", nowhere, nowhere, FALSE, args);

    g_assert_cmpstr (r->err, ==, "moipgwctl: unknown command 'frobnicate' (see moipgwctl --help)\n");
  }
}

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  g_test_add ("/ctl/status", Fixture, NULL, setup_daemon, test_status, teardown);
  g_test_add ("/ctl/sessions", Fixture, NULL, setup_daemon, test_sessions, teardown);
  g_test_add ("/ctl/bans", Fixture, NULL, setup_daemon, test_bans, teardown);
  g_test_add ("/ctl/reload", Fixture, NULL, setup_daemon, test_reload, teardown);
  g_test_add ("/ctl/teletel", Fixture, NULL, setup_daemon, test_teletel, teardown);
  g_test_add ("/ctl/disconnect", Fixture, NULL, setup_daemon, test_disconnect, teardown);
  g_test_add ("/ctl/record", Fixture, NULL, setup_daemon, test_record, teardown);
  g_test_add ("/ctl/monitor", Fixture, NULL, setup_daemon, test_monitor, teardown);
  g_test_add ("/ctl/message", Fixture, NULL, setup_daemon, test_message, teardown);
  g_test_add ("/ctl/drain", Fixture, NULL, setup_daemon, test_drain, teardown);
  g_test_add ("/ctl/watch", Fixture, NULL, setup_daemon, test_watch, teardown);
  g_test_add ("/ctl/watch/policy", Fixture, "policy", setup_daemon, test_watch, teardown);
  g_test_add ("/ctl/monitor-waits", Fixture, NULL, setup_bus, test_monitor_waits, teardown);
  g_test_add ("/ctl/bus-restart", Fixture, "fixed path", setup_bus, test_bus_restart, teardown);
  g_test_add ("/ctl/require-bus-name-taken", Fixture, NULL, setup_bus, test_require_bus_name_taken,
              teardown);
  g_test_add ("/ctl/access-denied", Fixture, NULL, setup_daemon, test_access_denied, teardown);
  g_test_add ("/ctl/recordings", Fixture, NULL, setup_daemon, test_recordings, teardown);
  g_test_add ("/ctl/replay-websocket", Fixture, NULL, setup_daemon, test_replay_websocket,
              teardown);
  g_test_add ("/ctl/addresses-hidden", Fixture, "policy", setup_daemon, test_addresses_hidden,
              teardown);
  g_test_add ("/ctl/daemon-user", Fixture, "daemon as nobody", setup_daemon, test_daemon_user,
              teardown);
  g_test_add_func ("/ctl/usage", test_usage);
  g_test_add ("/ctl/not-running", Fixture, NULL, setup_bus, test_not_running, teardown);
  g_test_add ("/ctl/french", Fixture, NULL, setup_bus, test_french, teardown);
  return g_test_run ();
}
