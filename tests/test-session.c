/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-session.c: the session's state machine alone, with fake links (no
 * socket, no server): the user's link is a TestLink, the default server
 * and every target are TestLinks the session gets from its link opener.
 * Each test drives the links' signals by hand and reads what the session
 * sent each of them; time is a fake clock the tests move. Milliseconds,
 * no network; the end-to-end tests
 * (test-gateway, test-redirect) keep checking the real links. */
#include "config.h"

#include "mgw-command.h"
#include "mgw-error.h"
#include "mgw-minitel.h"
#include "mgw-poller.h"
#include "mgw-session.h"

#include <string.h>

#define S(lit) (const guint8 *) lit, sizeof lit - 1

/* --- a link with no transport: what is sent to it is kept --- */

#define TEST_TYPE_LINK (test_link_get_type ())
G_DECLARE_FINAL_TYPE (TestLink, test_link, TEST, LINK, MgwLink)

struct _TestLink
{
  MgwLink     parent_instance;
  GByteArray *sent;
};

G_DEFINE_FINAL_TYPE (TestLink, test_link, MGW_TYPE_LINK)

static void
test_link_input (MgwLink      *link,
                 const guint8 *data,
                 gsize         len)
{
}

/* Queued data is what the session sent: kept, and queued as usual. */
static GBytes *
test_link_encode (MgwLink *link,
                  GBytes  *data)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);

  g_byte_array_append (TEST_LINK (link)->sent, p, (guint) len);
  return g_bytes_ref (data);
}

static void
test_link_close (MgwLink *link)
{
  mgw_link_emit_closed (link, NULL);
}

static void
test_link_finalize (GObject *object)
{
  g_byte_array_unref (TEST_LINK (object)->sent);
  G_OBJECT_CLASS (test_link_parent_class)->finalize (object);
}

static void
test_link_class_init (TestLinkClass *klass)
{
  MgwLinkClass *link_class = MGW_LINK_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_link_finalize;
  link_class->input = test_link_input;
  link_class->encode = test_link_encode;
  link_class->close = test_link_close;
}

static void
test_link_init (TestLink *self)
{
  self->sent = g_byte_array_new ();
}

static gboolean
sent_has (TestLink     *link,
          const guint8 *needle,
          gsize         len)
{
  for (guint i = 0; i + len <= link->sent->len; i++)
    if (memcmp (link->sent->data + i, needle, len) == 0)
      return TRUE;
  return FALSE;
}

/* --- a clock the tests move --- */

static gint64 fake_now = 1000 * G_USEC_PER_SEC;

static gint64
fake_clock (void)
{
  return fake_now;
}

/* Time passes; the timers due run. */
static void
advance (double seconds)
{
  fake_now += (gint64) (seconds * G_USEC_PER_SEC);
  mgw_poller_run_due_timers ();
}

/* --- the fixture: a session, its user, the links it opened --- */

typedef struct
{
  MgwConfig  *config;
  MgwSession *session;
  TestLink   *user;
  GPtrArray  *opened;      /* TestLink, in the order the session asked */
  GPtrArray  *uris;        /* what it asked for */
  gboolean    fail_next;   /* the next open fails at once */
} Fixture;

static MgwLink *
open_fake (gpointer              data,
           const MgwLinkRequest *request,
           GError              **error)
{
  Fixture *f = data;
  TestLink *link;

  g_ptr_array_add (f->uris, g_strdup (request->uri));
  if (f->fail_next)
    {
      f->fail_next = FALSE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "refused");
      return NULL;
    }
  link = g_object_new (TEST_TYPE_LINK, NULL);
  mgw_link_set_queue_limit (MGW_LINK (link), 1024 * 1024);
  g_ptr_array_add (f->opened, g_object_ref (link));
  return MGW_LINK (link);
}

static TestLink *
server (Fixture *f)
{
  return f->opened->pdata[0];
}

static TestLink *
target (Fixture *f,
        guint    i)
{
  return f->opened->pdata[1 + i];
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->config = mgw_config_new_default ();
  g_free (f->config->server_uri);
  f->config->server_uri = g_strdup ("ws://teletel.example/");
  g_free (f->config->redirect_allow);
  f->config->redirect_allow = g_strdup ("ws:*, telnet:*");
  f->config->garbage_bytes = 0;
  f->config->typing_rate = 0;
  f->opened = g_ptr_array_new_with_free_func (g_object_unref);
  f->uris = g_ptr_array_new_with_free_func (g_free);
  f->user = g_object_new (TEST_TYPE_LINK, NULL);
  mgw_link_set_queue_limit (MGW_LINK (f->user), 1024 * 1024);
  mgw_link_emit_opened (MGW_LINK (f->user));
  f->session = mgw_session_new (7, GPOINTER_TO_INT (data), MGW_LINK (f->user), "192.0.2.7",
                                4242, f->config, NULL, NULL);
  mgw_session_set_link_opener (f->session, open_fake, f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (mgw_session_get_state (f->session) < MGW_SESSION_CLOSING)
    mgw_session_end (f->session, NULL);
  g_clear_object (&f->session);
  g_clear_object (&f->user);
  g_ptr_array_unref (f->opened);
  g_ptr_array_unref (f->uris);
  mgw_config_unref (f->config);
}

/* Started and the default server open: on Teletel, CONNECT on the status
 * line; keys go up, pages come down. */
static void
start_on_teletel (Fixture *f)
{
  mgw_session_start (f->session);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_CONNECTING);
  g_assert_cmpuint (f->opened->len, ==, 1);
  g_assert_cmpstr (f->uris->pdata[0], ==, "ws://teletel.example/");
  mgw_link_emit_opened (MGW_LINK (server (f)));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
}

static void
redirect (Fixture    *f,
          const char *uri)
{
  g_autofree char *line = g_strdup_printf ("PID=7,42,CONNECT,%s,None,[]", uri);
  g_autoptr(GError) error = NULL;
  MgwCommand *command = mgw_command_parse (line, strlen (line), &error);

  g_assert_no_error (error);
  g_assert_true (mgw_session_redirect (f->session, command, NULL, FALSE, &error));
  g_assert_no_error (error);
  mgw_command_free (command);
}

static void
test_teletel (Fixture *f, gconstpointer data)
{
  start_on_teletel (f);
  g_assert_true (sent_has (f->user, S ("CONNECT")));
  mgw_link_emit_received (MGW_LINK (f->user), S ("3615"));
  g_assert_true (sent_has (server (f), S ("3615")));
  mgw_link_emit_received (MGW_LINK (server (f)), S ("PAGE"));
  g_assert_true (sent_has (f->user, S ("PAGE")));
}

/* CONNECTING → TELETEL → REDIRECTING → REDIRECTED → (Connexion/Fin)
 * TELETEL: the target gets the keys while redirected, Teletel again
 * after. */
static void
test_redirect_and_back (Fixture *f, gconstpointer data)
{
  start_on_teletel (f);
  redirect (f, "ws://meteo.example/");
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTING);
  g_assert_cmpuint (f->opened->len, ==, 2);
  mgw_link_emit_opened (MGW_LINK (target (f, 0)));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
  g_assert_cmpstr (mgw_session_get_target (f->session), ==, "ws://meteo.example/");

  mgw_link_emit_received (MGW_LINK (f->user), S ("PARIS"));
  g_assert_true (sent_has (target (f, 0), S ("PARIS")));
  g_assert_false (sent_has (server (f), S ("PARIS")));
  mgw_link_emit_received (MGW_LINK (target (f, 0)), S ("SUNNY"));
  g_assert_true (sent_has (f->user, S ("SUNNY")));

  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13\x49" "after"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_true (sent_has (server (f), S ("after")));
  g_assert_false (sent_has (target (f, 0), S ("\x13\x49")));
  g_assert_cmpint (mgw_link_get_state (MGW_LINK (target (f, 0))), >=, MGW_LINK_CLOSING);
  g_assert_cmpuint (mgw_session_get_redirections (f->session), ==, 1);
}

/* Connexion/Fin split between two reads at every byte boundary, with
 * keys before and after: the key goes to no one, what precedes it to the
 * target, what follows it to Teletel. (A SEP alone at the end of a read
 * waits for its code: the session holds it.) */
static void
test_fin_split (Fixture *f, gconstpointer data)
{
  static const guint8 keys[] = { 'a', 'b', 0x13, 0x49, 'c', 'd' };

  for (gsize cut = 0; cut <= sizeof keys; cut++)
    {
      Fixture g = { 0 };

      g_test_message ("split at %" G_GSIZE_FORMAT, cut);
      setup (&g, data);
      start_on_teletel (&g);
      redirect (&g, "ws://meteo.example/");
      mgw_link_emit_opened (MGW_LINK (target (&g, 0)));
      if (cut > 0)
        mgw_link_emit_received (MGW_LINK (g.user), keys, cut);
      if (cut < sizeof keys)
        mgw_link_emit_received (MGW_LINK (g.user), keys + cut, sizeof keys - cut);
      g_assert_cmpint (mgw_session_get_state (g.session), ==, MGW_SESSION_TELETEL);
      g_assert_cmpmem (target (&g, 0)->sent->data, target (&g, 0)->sent->len, "ab", 2);
      g_assert_true (sent_has (server (&g), S ("cd")));
      g_assert_false (sent_has (server (&g), S ("\x13\x49")));
      teardown (&g, data);
    }
}

/* A target that cannot be opened: back on Teletel at once, the user told
 * SERVICE UNAVAILABLE, the session goes on. */
static void
test_target_fails (Fixture *f, gconstpointer data)
{
  start_on_teletel (f);
  f->fail_next = TRUE;
  redirect (f, "ws://down.example/");
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_true (sent_has (f->user, S ("SERVICE UNAVAILABLE")));
  mgw_link_emit_received (MGW_LINK (f->user), S ("k"));
  g_assert_true (sent_has (server (f), S ("k")));
}

/* A target that closes while being opened, then once open: back on
 * Teletel each time. */
static void
test_target_closes (Fixture *f, gconstpointer data)
{
  start_on_teletel (f);
  redirect (f, "ws://flaky.example/");
  mgw_link_close (MGW_LINK (target (f, 0)), FALSE);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);

  redirect (f, "ws://flaky.example/");
  mgw_link_emit_opened (MGW_LINK (target (f, 1)));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
  mgw_link_close (MGW_LINK (target (f, 1)), FALSE);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
}

/* A CONNECT while one is under way is refused, the first goes on. */
static void
test_connect_while_redirecting (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *line = "PID=7,43,CONNECT,ws://other.example/,None,[]";
  MgwCommand *command;

  start_on_teletel (f);
  redirect (f, "ws://meteo.example/");
  command = mgw_command_parse (line, strlen (line), &error);
  g_assert_no_error (error);
  g_assert_false (mgw_session_redirect (f->session, command, NULL, FALSE, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  mgw_command_free (command);
  g_assert_cmpuint (f->opened->len, ==, 2);
  mgw_link_emit_opened (MGW_LINK (target (f, 0)));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
}

/* The user leaves while redirected: the session ends, the target and
 * the default server are closed too. */
static void
test_user_leaves_redirected (Fixture *f, gconstpointer data)
{
  start_on_teletel (f);
  redirect (f, "ws://meteo.example/");
  mgw_link_emit_opened (MGW_LINK (target (f, 0)));
  mgw_link_close (MGW_LINK (f->user), FALSE);
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_true (mgw_session_get_user_left (f->session));
  g_assert_cmpint (mgw_link_get_state (MGW_LINK (target (f, 0))), >=, MGW_LINK_CLOSING);
  g_assert_cmpint (mgw_link_get_state (MGW_LINK (server (f))), >=, MGW_LINK_CLOSING);
}

/* The default server cannot be opened: the session ends, the user told. */
static void
test_server_unavailable (Fixture *f, gconstpointer data)
{
  f->fail_next = TRUE;
  mgw_session_start (f->session);
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_true (sent_has (f->user, S ("SERVER UNAVAILABLE")));
}

/* Each timeout at its time, not before: the user's inactivity on
 * Teletel, activity moving it; the redirect inactivity ends the
 * redirection only; the session's maximum ends it. */
static void
test_timeouts (Fixture *f, gconstpointer data)
{
  f->config->user_inactivity[MGW_ACCESS_TELNET] = 60;
  f->config->server_inactivity[MGW_ACCESS_TELNET] = 0;
  f->config->redirect_inactivity[MGW_ACCESS_TELNET] = 20;
  f->config->redirect_max[MGW_ACCESS_TELNET] = 0;
  f->config->session_max[MGW_ACCESS_TELNET] = 300;
  start_on_teletel (f);

  advance (59);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  mgw_link_emit_received (MGW_LINK (f->user), S ("k"));   /* activity */
  advance (59);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  mgw_link_emit_received (MGW_LINK (f->user), S ("k"));

  redirect (f, "ws://meteo.example/");
  mgw_link_emit_opened (MGW_LINK (target (f, 0)));
  advance (19);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
  advance (2);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_true (sent_has (f->user, S ("END INACTIVE REDIR")));

  /* 300 s after the start (now at 139 s): the maximum, whatever the
   * activity. */
  for (guint i = 0; i < 8; i++)
    {
      mgw_link_emit_received (MGW_LINK (f->user), S ("k"));
      advance (20);
    }
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  mgw_link_emit_received (MGW_LINK (f->user), S ("k"));
  advance (2);
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_true (sent_has (f->user, S ("END MAX TIME")));
}

/* The user's inactivity ends the session at its time. */
static void
test_user_inactivity (Fixture *f, gconstpointer data)
{
  f->config->user_inactivity[MGW_ACCESS_TELNET] = 30;
  f->config->server_inactivity[MGW_ACCESS_TELNET] = 0;
  f->config->session_max[MGW_ACCESS_TELNET] = 0;
  start_on_teletel (f);
  advance (29.5);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  advance (1);
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_true (sent_has (f->user, S ("END INACTIVE")));
}

#define ADD(path, func) \
  g_test_add ("/session/" path, Fixture, GINT_TO_POINTER (MGW_ACCESS_TELNET), setup, func, teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* The session logs warnings it is right to log here (a server that
   * cannot be opened); criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  mgw_poller_set_clock (fake_clock);
  ADD ("teletel", test_teletel);
  ADD ("redirect-and-back", test_redirect_and_back);
  ADD ("fin-split", test_fin_split);
  ADD ("target-fails", test_target_fails);
  ADD ("target-closes", test_target_closes);
  ADD ("connect-while-redirecting", test_connect_while_redirecting);
  ADD ("user-leaves-redirected", test_user_leaves_redirected);
  ADD ("server-unavailable", test_server_unavailable);
  ADD ("timeouts", test_timeouts);
  ADD ("user-inactivity", test_user_inactivity);
  return g_test_run ();
}
