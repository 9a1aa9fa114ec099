/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-record.c: session recordings end to end, with the real moipgwd
 * ([recording] enabled) and a raw TCP user (every byte data, both ways),
 * a scripted default server, a command channel and a redirect target
 * (libsoup): the recording's screen events, together, are byte for byte
 * what the user received, its user events what the user sent, the marks
 * where they happen; its file and directory modes; a restart keeps the
 * recordings, and a new session's takes the next free name rather than
 * overwrite one; SIGTERM waits for the last line; the recording replayed
 * at /replay/ID on the WebSocket port gives the user's bytes again. (Recording on demand:
 * test-ctl's /ctl/record; the recorder alone: test-recorder.) */
#include "config.h"

#include "mgw-recording.h"
#include "mgw-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#define STATUS(text) "\x1f\x40\x41" text "\x18\x0a"
#define S(lit) lit, sizeof lit - 1

typedef struct
{
  char          *dir;
  char          *state;
  char          *recordings;
  char          *config_file;
  MgwTestServer *teletel;   /* the default server */
  MgwTestServer *command;   /* the command channel */
  MgwTestServer *target;    /* a redirect target, echoing */
  MgwTestDaemon *daemon;
  guint16        raw_port;
  guint16        ws_port;   /* for /replay/ID */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *etc = NULL;
  g_autofree char *text = NULL;

  f->dir = mgw_test_tmp_dir ();
  f->state = g_build_filename (f->dir, "state", NULL);
  f->recordings = g_build_filename (f->state, "recordings", NULL);
  etc = g_build_filename (f->dir, "etc", NULL);
  g_assert_cmpint (g_mkdir (f->state, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (etc, 0700), ==, 0);
  f->teletel = mgw_test_server_new (FALSE, "TELETEL PAGE");
  f->command = mgw_test_server_new (FALSE, NULL);
  f->target = mgw_test_server_new (TRUE, "TARGET PAGE");
  f->config_file = g_build_filename (f->dir, "moipgw.conf", NULL);
  text = g_strdup_printf ("[server]\nuri=%s\n"
                          "[command]\nuri=%s\nretry-interval=1\n"
                          "[redirect]\nallow=ws:127.0.0.1:*\n"
                          "[telnet]\ngarbage-bytes=0\ntyping-rate=0\nscanner-wait=0\n"
                          "[bans]\nmin-session=0\n"
                          /* No retention: the restart test fills the directory. */
                          "[recording]\nenabled=true\ninput=keep\n"
                          "keep-count=0\nkeep-days=0\nkeep-size=0\n"
                          "replay-from=127.0.0.1\n",
                          f->teletel->uri, f->command->uri);
  g_assert_true (g_file_set_contents (f->config_file, text, -1, NULL));
}

static void
start_daemon (Fixture *f)
{
  g_autofree char *config_arg = g_strdup_printf ("--config=%s", f->config_file);
  g_autofree char *etc = g_build_filename (f->dir, "etc", NULL);

  f->daemon = mgw_test_daemon_spawn (config_arg, "--no-dbus", "--tcp", "off", "--ws", "0",
                                     "--raw", "0", "-i", "127.0.0.1", "-g", etc,
                                     "--state-dir", f->state, NULL);
  f->raw_port = mgw_test_daemon_port (f->daemon, "raw TCP");
  f->ws_port = mgw_test_daemon_port (f->daemon, "WebSocket");
}

/* SIGTERM: it exits 0 (under the sanitizers, leak-free). */
static void
stop_daemon (Fixture *f)
{
  g_subprocess_send_signal (f->daemon->process, SIGTERM);
  mgw_test_daemon_wait_exit (f->daemon, MGW_TEST_TIMEOUT_MS);
  if (!g_subprocess_get_if_exited (f->daemon->process) ||
      g_subprocess_get_exit_status (f->daemon->process) != 0)
    g_error ("moipgwd did not exit 0 on SIGTERM:\n%s", f->daemon->err->str);
  g_clear_pointer (&f->daemon, mgw_test_daemon_free);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->daemon != NULL)
    stop_daemon (f);
  g_clear_pointer (&f->teletel, mgw_test_server_free);
  g_clear_pointer (&f->command, mgw_test_server_free);
  g_clear_pointer (&f->target, mgw_test_server_free);
  mgw_test_run_for (20);
  g_free (f->config_file);
  g_free (f->recordings);
  g_free (f->state);
  g_free (f->dir);
}

/* A raw user, what it sent kept. */
typedef struct
{
  MgwTestTcp *tcp;
  GByteArray *sent;
  guint16     port;
} User;

static User *
user_new (Fixture *f)
{
  User *u = g_new0 (User, 1);
  g_autoptr(GSocketAddress) local = NULL;

  u->tcp = mgw_test_tcp_connect ("127.0.0.1", f->raw_port);
  local = g_socket_get_local_address (u->tcp->socket, NULL);
  u->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  u->sent = g_byte_array_new ();
  mgw_test_tcp_wait_for (u->tcp, S ("TELETEL PAGE"));
  return u;
}

static void
user_send (User       *u,
           const char *text)
{
  g_byte_array_append (u->sent, (const guint8 *) text, (guint) strlen (text));
  mgw_test_tcp_send (u->tcp, text, strlen (text));
}

static void
user_free (User *u)
{
  g_clear_pointer (&u->tcp, mgw_test_tcp_free);
  g_byte_array_unref (u->sent);
  g_free (u);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (User, user_free)

/* The names in the recordings directory, sorted. */
static GPtrArray *
list_recordings (Fixture *f)
{
  g_autoptr(GDir) dir = g_dir_open (f->recordings, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  return names;
}

typedef struct
{
  Fixture *f;
  guint    n;
} CountWait;

static gboolean
has_recordings (gpointer data)
{
  CountWait *w = data;
  g_autoptr(GPtrArray) names = list_recordings (w->f);

  return names->len >= w->n;
}

/* Until the directory holds `n` files (each created as its session
 * starts, asynchronously). */
static GPtrArray *
wait_recordings (Fixture *f,
                 guint    n)
{
  CountWait w = { f, n };
  gint64 deadline = g_get_monotonic_time () + MGW_TEST_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  GPtrArray *names;

  while (!has_recordings (&w) && !f->daemon->exited && g_get_monotonic_time () < deadline)
    mgw_test_run_for (20);
  names = list_recordings (f);
  if (names->len != n)
    g_error ("%u recordings, not %u; moipgwd said:\n%s", names->len, n, f->daemon->err->str);
  return names;
}

typedef struct
{
  const char    *path;
  const char    *suffix;
  MgwTestDaemon *daemon;
} Ending;

static gboolean
file_ends_with (gpointer data)
{
  Ending *e = data;
  g_autofree char *text = NULL;

  return g_file_get_contents (e->path, &text, NULL, NULL) && g_str_has_suffix (text, e->suffix);
}

static gboolean
file_ends_or_daemon_exits (gpointer data)
{
  Ending *e = data;

  return file_ends_with (e) || e->daemon->exited;
}

/* Waits for its last line, an `end` mark with `reason`; says what there
 * is when it does not come. */
static void
wait_end (Fixture    *f,
          const char *path,
          const char *reason)
{
  g_autofree char *suffix = g_strdup_printf (",\"m\",{\"event\":\"end\",\"reason\":\"%s\"}]\n",
                                             reason);
  Ending e = { path, suffix, f->daemon };
  gint64 deadline = g_get_monotonic_time () + MGW_TEST_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  while (!file_ends_or_daemon_exits (&e) && g_get_monotonic_time () < deadline)
    mgw_test_run_for (20);
  if (!file_ends_with (&e))
    {
      g_autofree char *text = NULL;

      g_file_get_contents (path, &text, NULL, NULL);
      g_error ("no end mark in %s:\n%s\nmoipgwd said:\n%s", path, text ? text : "(none)",
               f->daemon->err->str);
    }
}

/* The header and every event parse. */
static GPtrArray *
read_events (const char         *path,
             MgwRecordingHeader *header)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *events = g_ptr_array_new ();

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_true (mgw_recording_parse_header (lines[0], strlen (lines[0]), header, &error));
  g_assert_no_error (error);
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      MgwRecordingEvent *e = g_new0 (MgwRecordingEvent, 1);

      g_assert_true (mgw_recording_parse_event (lines[i], strlen (lines[i]), e, &error));
      g_assert_no_error (error);
      g_ptr_array_add (events, e);
    }
  return events;
}

static void
events_free (GPtrArray *events)
{
  for (guint i = 0; i < events->len; i++)
    {
      mgw_recording_event_clear (events->pdata[i]);
      g_free (events->pdata[i]);
    }
  g_ptr_array_unref (events);
}

/* A session with a redirection, recorded: the screen events are what
 * the user received, the user events what it sent, in order; redirect,
 * return and end where they happen. */
static void
test_redirection (Fixture *f, gconstpointer data)
{
  g_autoptr(User) u = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GByteArray) screen = g_byte_array_new ();
  g_autoptr(GByteArray) typed = g_byte_array_new ();
  g_autoptr(GString) marks = g_string_new (NULL);
  g_autofree char *path = NULL;
  g_autofree char *connect = NULL;
  g_autofree char *expected = NULL;
  MgwTestPeer *teletel, *command;
  MgwRecordingHeader header;
  GPtrArray *events;
  struct stat st;

  start_daemon (f);
  command = mgw_test_server_wait_peer (f->command, 0);
  u = user_new (f);
  teletel = mgw_test_server_wait_peer (f->teletel, 0);
  user_send (u, "3615 METEO\r");
  mgw_test_peer_wait_for (teletel, S ("3615 METEO\r"));
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_TEXT, S ("\x0c" "MENU\xe9"));
  mgw_test_tcp_wait_for (u->tcp, S ("MENU"));

  connect = g_strdup_printf ("PID=0,42,CONNECT,%s,None,[]", f->target->uri);
  mgw_test_peer_send (command, SOUP_WEBSOCKET_DATA_TEXT, connect, strlen (connect));
  mgw_test_tcp_wait_for (u->tcp, S ("TARGET PAGE"));
  user_send (u, "PARIS");
  mgw_test_tcp_wait_for (u->tcp, S ("TARGET PAGEPARIS"));
  /* Connexion/Fin: back on Teletel (the key goes to no one, but it is
   * recorded as typed). */
  user_send (u, "\x13I");
  mgw_test_server_wait_frame (f->command, "UserRedirectEnded,,,0,42");
  mgw_test_peer_send (teletel, SOUP_WEBSOCKET_DATA_TEXT, S ("BACK"));
  mgw_test_tcp_wait_for (u->tcp, S ("BACK"));
  user_send (u, "bye");
  mgw_test_peer_wait_for (teletel, S ("bye"));
  g_socket_close (u->tcp->socket, NULL);

  names = wait_recordings (f, 1);
  path = g_build_filename (f->recordings, names->pdata[0], NULL);
  wait_end (f, path, "user disconnected");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);
  g_assert_cmpint (g_stat (f->recordings, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0750);

  events = read_events (path, &header);
  g_assert_cmpuint (header.session, ==, 0);
  g_assert_cmpstr (header.peer, ==, "127.0.0.1");
  g_assert_cmpuint (header.port, ==, u->port);
  g_assert_cmpstr (header.access, ==, "raw");
  g_assert_cmpint (header.offset, ==, 0);
  g_assert_cmpint (header.input, ==, MGW_RECORDING_INPUT_KEEP);
  g_assert_cmpuint (header.max_size, ==, 1024 * 1024);
  g_assert_cmpstr (header.gateway, ==, "moipgw " PACKAGE_VERSION);
  expected = g_strconcat (header.id, MGW_RECORDING_SUFFIX, NULL);
  g_assert_cmpstr (names->pdata[0], ==, expected);
  mgw_recording_header_clear (&header);
  for (guint i = 0; i < events->len; i++)
    {
      MgwRecordingEvent *e = events->pdata[i];

      if (mgw_recording_kind_is_screen (e->kind))
        g_byte_array_append (screen, e->data->data, e->data->len);
      if (e->kind == MGW_RECORDING_TARGET)
        g_assert_cmpuint (e->redirection, ==, 1);
      if (e->kind == MGW_RECORDING_SERVER)
        g_assert_cmpuint (e->redirection, ==, 0);
      if (e->kind == MGW_RECORDING_USER)
        {
          g_byte_array_append (typed, e->data->data, e->data->len);
          g_string_append_printf (marks, "u%u ", e->redirection);
        }
      if (e->kind == MGW_RECORDING_MARK)
        g_string_append_printf (marks, "%s ", e->detail);
    }
  events_free (events);
  g_assert_cmpmem (screen->data, screen->len, u->tcp->received->data, u->tcp->received->len);
  g_assert_cmpmem (typed->data, typed->len, u->sent->data, u->sent->len);
  g_free (expected);
  expected = g_strdup_printf ("u0 {\"event\":\"redirect\",\"target\":\"%s\",\"redirection\":1} "
                              "u1 u1 {\"event\":\"return\",\"redirection\":1,"
                              "\"reason\":\"Connexion/Fin pressed\"} u0 "
                              "{\"event\":\"end\",\"reason\":\"user disconnected\"} ",
                              f->target->uri);
  g_assert_cmpstr (marks->str, ==, expected);

  /* Replayed to a browser emulator (a libsoup client) at /replay/ID:
   * the same bytes again, in order. */
  {
    g_autofree char *id = g_strndup (names->pdata[0], strlen (names->pdata[0]) -
                                     strlen (MGW_RECORDING_SUFFIX));
    g_autofree char *uri = g_strdup_printf ("ws://127.0.0.1:%u/replay/%s?speed=1000",
                                            f->ws_port, id);
    g_autoptr(MgwTestWs) ws = mgw_test_ws_connect (uri, NULL);

    g_assert_no_error (ws->error);
    mgw_test_ws_wait_for (ws, u->tcp->received->data + u->tcp->received->len - 4, 4);
    mgw_test_run_for (100);
    g_assert_cmpmem (ws->received->data, ws->received->len,
                     u->tcp->received->data, u->tcp->received->len);
  }
}

/* The restart keeps the recordings; the new session 0 finds its name
 * taken (every second around now is, for session 0) and takes the next
 * one. SIGTERM with a user on: the last line is still written. */
static void
test_restart (Fixture *f, gconstpointer data)
{
  g_autoptr(User) first = NULL;
  g_autoptr(User) second = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *first_path = NULL;
  g_autofree char *first_text = NULL;
  g_autofree char *text = NULL;
  g_autofree char *new_name = NULL;
  g_autofree char *new_path = NULL;
  MgwRecordingHeader header;
  GPtrArray *events;
  guint planted = 0;

  start_daemon (f);
  first = user_new (f);
  g_socket_close (first->tcp->socket, NULL);
  before = wait_recordings (f, 1);
  first_path = g_build_filename (f->recordings, before->pdata[0], NULL);
  wait_end (f, first_path, "user disconnected");
  g_assert_true (g_file_get_contents (first_path, &first_text, NULL, NULL));
  stop_daemon (f);

  /* Session 0's names for ten minutes each side of now, taken (wide: a
   * faked clock, libfaketime's, starts anew in each process). */
  now = g_date_time_new_now_utc ();
  for (int s = -600; s < 600; s++)
    {
      g_autoptr(GDateTime) t = g_date_time_add_seconds (now, s);
      g_autofree char *id = mgw_recording_make_id (g_date_time_to_unix (t) * G_USEC_PER_SEC, 0, 0);
      g_autofree char *name = g_strconcat (id, MGW_RECORDING_SUFFIX, NULL);
      g_autofree char *path = g_build_filename (f->recordings, name, NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      g_assert_true (g_file_set_contents (path, "planted\n", -1, NULL));
      planted++;
    }
  g_clear_pointer (&before, g_ptr_array_unref);
  before = list_recordings (f);

  start_daemon (f);
  second = user_new (f);
  after = wait_recordings (f, before->len + 1);
  for (guint i = 0; i < after->len; i++)
    if (!g_ptr_array_find_with_equal_func (before, after->pdata[i], g_str_equal, NULL))
      new_name = g_strdup (after->pdata[i]);
  g_assert_nonnull (new_name);
  g_assert_true (g_str_has_suffix (new_name, "-0-2" MGW_RECORDING_SUFFIX));
  new_path = g_build_filename (f->recordings, new_name, NULL);
  /* A user on at SIGTERM: its recording ends all the same. */
  stop_daemon (f);
  g_assert_true (file_ends_with (&(Ending) { new_path,
                                             ",\"m\",{\"event\":\"end\",\"reason\":"
                                             "\"GATEWAY STOPPED, SORRY\"}]\n", NULL }));
  events = read_events (new_path, &header);
  g_assert_cmpuint (header.session, ==, 0);
  g_assert_cmpuint (header.port, ==, second->port);
  mgw_recording_header_clear (&header);
  events_free (events);

  /* Nothing else changed: the first recording, the planted names. */
  g_assert_true (g_file_get_contents (first_path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, first_text);
  for (guint i = 0; i < before->len; i++)
    {
      g_autofree char *path = g_build_filename (f->recordings, before->pdata[i], NULL);
      g_autofree char *content = NULL;

      if (g_str_equal (path, first_path))
        continue;
      g_assert_true (g_file_get_contents (path, &content, NULL, NULL));
      g_assert_cmpstr (content, ==, "planted\n");
    }
  g_assert_cmpuint (planted, >=, 1199);
}

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  g_test_add ("/record/redirection", Fixture, NULL, setup, test_redirection, teardown);
  g_test_add ("/record/restart", Fixture, NULL, setup, test_restart, teardown);
  return g_test_run ();
}
