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
#include "mgw-return-keys.h"
#include "mgw-session.h"

#include <glib/gstdio.h>
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
  MgwLinkRequest last;     /* the last request, its strings not kept */
  char       *last_protocols;  /* its subprotocols, joined by commas; NULL: none */
  GPtrArray  *abuses;      /* "rule ban|noban" the session reported */
  GString    *states;      /* each state entered, a space before each */
  guint       ended;       /* times "ended" was emitted */
} Fixture;

static MgwLink *
open_fake (gpointer              data,
           const MgwLinkRequest *request,
           GError              **error)
{
  Fixture *f = data;
  TestLink *link;

  g_ptr_array_add (f->uris, g_strdup (request->uri));
  f->last = *request;
  g_free (f->last_protocols);
  f->last_protocols = request->protocols && request->protocols[0] ?
                      g_strjoinv (",", (char **) request->protocols) : NULL;
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
abuse_cb (MgwSession *session,
          const char *rule,
          const char *reason,
          gboolean    ban,
          Fixture    *f)
{
  g_ptr_array_add (f->abuses, g_strdup_printf ("%s %s", rule, ban ? "ban" : "noban"));
}

static void
state_cb (MgwSession *session,
          int         old,
          Fixture    *f)
{
  g_string_append_printf (f->states, " %s",
                          mgw_session_state_to_string (mgw_session_get_state (session)));
}

static void
ended_cb (MgwSession *session,
          Fixture    *f)
{
  f->ended++;
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
  f->abuses = g_ptr_array_new_with_free_func (g_free);
  f->user = g_object_new (TEST_TYPE_LINK, NULL);
  mgw_link_set_queue_limit (MGW_LINK (f->user), 1024 * 1024);
  mgw_link_emit_opened (MGW_LINK (f->user));
  f->session = mgw_session_new (7, GPOINTER_TO_INT (data), MGW_LINK (f->user), "192.0.2.7",
                                4242, f->config, NULL, NULL);
  mgw_session_set_link_opener (f->session, open_fake, f);
  g_signal_connect (f->session, "abuse", G_CALLBACK (abuse_cb), f);
  f->states = g_string_new (NULL);
  g_signal_connect (f->session, "state-changed", G_CALLBACK (state_cb), f);
  g_signal_connect (f->session, "ended", G_CALLBACK (ended_cb), f);
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
  g_ptr_array_unref (f->abuses);
  g_string_free (f->states, TRUE);
  g_free (f->last_protocols);
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

/* A CONNECT to uri; line_tail: what follows the URI on the command
 * line (ping and subprotocols), profile: the target's, or NULL. */
static void
redirect_with (Fixture          *f,
               const char       *uri,
               const char       *line_tail,
               const MgwProfile *profile)
{
  g_autofree char *line = g_strdup_printf ("PID=7,42,CONNECT,%s,%s", uri, line_tail);
  g_autoptr(GError) error = NULL;
  MgwCommand *command = mgw_command_parse (line, strlen (line), &error);

  g_assert_no_error (error);
  g_assert_true (mgw_session_redirect (f->session, command, profile, FALSE, &error));
  g_assert_no_error (error);
  mgw_command_free (command);
}

static void
redirect (Fixture    *f,
          const char *uri)
{
  redirect_with (f, uri, "None,[]", NULL);
}

static void
redirected_to (Fixture    *f,
               const char *uri)
{
  redirect (f, uri);
  mgw_link_emit_opened (MGW_LINK (target (f, f->opened->len - 2)));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
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

/* A SEP at the end of a read waits for its key code: joined to it when
 * it comes, sent alone after sep-hold if nothing comes. Redirected, the
 * wait is 2 s at least (Connexion/Fin typed by hand, Ctrl-S then I), and
 * a Fin completed in time goes to no one. */
static void
test_sep_hold (Fixture *f, gconstpointer data)
{
  f->config->sep_hold_ms = 100;
  start_on_teletel (f);

  mgw_link_emit_received (MGW_LINK (f->user), S ("ab\x13"));
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "ab", 2);
  advance (0.05);
  g_assert_cmpuint (server (f)->sent->len, ==, 2);
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x41"));
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "ab\x13\x41", 4);

  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13"));
  advance (0.09);
  g_assert_cmpuint (server (f)->sent->len, ==, 4);
  advance (0.02);
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "ab\x13\x41\x13", 5);
  advance (5);
  g_assert_cmpuint (server (f)->sent->len, ==, 5);   /* sent once */

  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("x\x13"));
  advance (1.5);
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len, "x", 1);
  mgw_link_emit_received (MGW_LINK (f->user), S ("I"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len, "x", 1);
  g_assert_cmpuint (server (f)->sent->len, ==, 5);

  /* A lone SEP while redirected reaches the target after 2 s. */
  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13"));
  advance (1.9);
  g_assert_cmpuint (target (f, 1)->sent->len, ==, 0);
  advance (0.2);
  g_assert_cmpmem (target (f, 1)->sent->data, target (f, 1)->sent->len, "\x13", 1);
}

/* Nothing from the default server for server-inactivity ends the
 * session (END INACTIVE, the original's); its pages move the deadline;
 * redirected, the default server is not expected to speak. */
static void
test_server_inactivity (Fixture *f, gconstpointer data)
{
  f->config->user_inactivity[MGW_ACCESS_TELNET] = 0;
  f->config->server_inactivity[MGW_ACCESS_TELNET] = 30;
  f->config->redirect_inactivity[MGW_ACCESS_TELNET] = 0;
  f->config->session_max[MGW_ACCESS_TELNET] = 0;
  start_on_teletel (f);

  advance (29);
  mgw_link_emit_received (MGW_LINK (server (f)), S ("PAGE"));
  advance (29);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);

  redirected_to (f, "ws://meteo.example/");
  advance (120);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);

  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13\x49"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  mgw_link_emit_received (MGW_LINK (server (f)), S ("MENU"));
  advance (29);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  advance (2);
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_true (sent_has (f->user, S ("END INACTIVE")));
  g_assert_cmpstr (mgw_session_get_end_reason (f->session), ==, "server-inactivity timeout");
}

/* A redirection lasting redirect-max, however active, ends on END MAX
 * TIME REDIR; the session goes on. A target that never completes its
 * handshake is bounded by redirect-inactivity. */
static void
test_redirect_max (Fixture *f, gconstpointer data)
{
  f->config->user_inactivity[MGW_ACCESS_TELNET] = 0;
  f->config->server_inactivity[MGW_ACCESS_TELNET] = 0;
  f->config->redirect_inactivity[MGW_ACCESS_TELNET] = 15;
  f->config->redirect_max[MGW_ACCESS_TELNET] = 50;
  f->config->session_max[MGW_ACCESS_TELNET] = 0;
  start_on_teletel (f);

  redirected_to (f, "ws://meteo.example/");
  for (guint i = 0; i < 4; i++)
    {
      advance (12);
      mgw_link_emit_received (MGW_LINK (target (f, 0)), S ("RAIN"));
    }
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
  advance (3);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_true (sent_has (f->user, S ("END MAX TIME REDIR")));
  g_assert_cmpint (mgw_link_get_state (MGW_LINK (target (f, 0))), >=, MGW_LINK_CLOSING);

  redirect (f, "ws://slow.example/");
  advance (14);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTING);
  advance (2);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpint (mgw_link_get_state (MGW_LINK (target (f, 1))), >=, MGW_LINK_CLOSING);
  mgw_link_emit_received (MGW_LINK (f->user), S ("k"));
  g_assert_true (sent_has (server (f), S ("k")));
}

/* A target's profile: its ping, subprotocols and frame type used unless
 * the CONNECT names its own; fin=forward hands Connexion/Fin to the
 * target, which hangs up itself. */
static void
test_profile (Fixture *f, gconstpointer data)
{
  char *protocols[] = { "tty", NULL };
  MgwProfile profile = {
    .has_ping = TRUE, .ping = 25, .subprotocols = protocols,
    .has_frame_type = TRUE, .frame_type = MGW_FRAME_BINARY, .fin = MGW_FIN_FORWARD,
  };

  f->config->server_frame_type = MGW_FRAME_TEXT;
  start_on_teletel (f);
  redirect_with (f, "ws://forward.example/", "None,[]", &profile);
  g_assert_cmpuint (f->last.ping, ==, 25);
  g_assert_cmpstr (f->last_protocols, ==, "tty");
  g_assert_cmpint (f->last.frame_type, ==, MGW_FRAME_BINARY);
  mgw_link_emit_opened (MGW_LINK (target (f, 0)));

  mgw_link_emit_received (MGW_LINK (f->user), S ("a\x13\x49"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len, "a\x13\x49", 3);
  mgw_link_close (MGW_LINK (target (f, 0)), FALSE);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);

  /* The command's own values win; no profile: the gateway's Fin. */
  redirect_with (f, "ws://forward.example/", "5,['vt']", &profile);
  g_assert_cmpuint (f->last.ping, ==, 5);
  g_assert_cmpstr (f->last_protocols, ==, "vt");
  mgw_link_close (MGW_LINK (target (f, 1)), FALSE);
  redirect (f, "ws://plain.example/");
  g_assert_cmpuint (f->last.ping, ==, 0);
  g_assert_null (f->last_protocols);
  g_assert_cmpint (f->last.frame_type, ==, MGW_FRAME_TEXT);
  mgw_link_emit_opened (MGW_LINK (target (f, 2)));
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13\x49"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
}

/* Telnet's rules on what the user sends: the first garbage-bytes within
 * the garbage window dropped (iTimtel's junk), then typing faster than
 * typing-rate by more than typing-excess bytes ends the session and asks
 * for a ban. */
static void
test_telnet_rules (Fixture *f, gconstpointer data)
{
  f->config->garbage_bytes = 4;
  f->config->garbage_window_ms = 1000;
  f->config->typing_rate = 10;
  f->config->typing_excess = 5;
  start_on_teletel (f);

  mgw_link_emit_received (MGW_LINK (f->user), S ("\xff\xfe" "ju"));
  mgw_link_emit_received (MGW_LINK (f->user), S ("nk"));
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "nk", 2);
  advance (1);

  /* A person's pace: 10 bytes a second for 5 s. */
  for (guint i = 0; i < 50; i++)
    {
      mgw_link_emit_received (MGW_LINK (f->user), S ("k"));
      advance (0.1);
    }
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpuint (f->abuses->len, ==, 0);

  /* A paste well past the second's credit and the excess. */
  mgw_link_emit_received (MGW_LINK (f->user), S ("0123456789abcdefghij"));
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_cmpuint (f->abuses->len, ==, 1);
  g_assert_cmpstr (f->abuses->pdata[0], ==, "typing-too-fast ban");
}

/* A PROXY header from a peer not trusted to send one, however split:
 * the session ends, reported (not banned: a misconfigured proxy). */
static void
test_untrusted_proxy (Fixture *f, gconstpointer data)
{
  mgw_session_set_check_proxy (f->session, TRUE);
  start_on_teletel (f);
  mgw_link_emit_received (MGW_LINK (f->user), S ("PROX"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  mgw_link_emit_received (MGW_LINK (f->user), S ("Y TCP4 198.51.100.1 192.0.2.1 1 2\r\n"));
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_cmpuint (f->abuses->len, ==, 1);
  g_assert_cmpstr (f->abuses->pdata[0], ==, "untrusted-proxy noban");
}

/* A WebSocket user: the Telnet rules do not apply (a browser's first
 * message is the user's); the WebSocket timeouts are used, not
 * Telnet's. */
static void
test_websocket_user (Fixture *f, gconstpointer data)
{
  f->config->garbage_bytes = 144;
  f->config->typing_rate = 1;
  f->config->typing_excess = 0;
  f->config->user_inactivity[MGW_ACCESS_TELNET] = 10;
  f->config->user_inactivity[MGW_ACCESS_WS] = 40;
  f->config->server_inactivity[MGW_ACCESS_WS] = 0;
  f->config->session_max[MGW_ACCESS_WS] = 0;
  start_on_teletel (f);

  mgw_link_emit_received (MGW_LINK (f->user), S ("0123456789abcdefghij"));
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "0123456789abcdefghij", 20);
  advance (39);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpuint (f->abuses->len, ==, 0);
  advance (2);
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_true (sent_has (f->user, S ("END INACTIVE USER")));
}

/* A raw TCP user: Telnet's welcome and timeouts (not WebSocket's); its
 * Telnet rules are the telnet-rules and untrusted-proxy cases run as a
 * raw user. */
static void
test_raw_user (Fixture *f, gconstpointer data)
{
  f->config->user_inactivity[MGW_ACCESS_TELNET] = 10;
  f->config->user_inactivity[MGW_ACCESS_WS] = 40;
  f->config->server_inactivity[MGW_ACCESS_TELNET] = 0;
  f->config->session_max[MGW_ACCESS_TELNET] = 0;
  start_on_teletel (f);
  g_assert_true (sent_has (f->user, S ("Welcome to PyMoIP [telnet]/WS gateway")));
  advance (9);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  advance (2);
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_true (sent_has (f->user, S ("END INACTIVE USER")));
}

/* The whole diagram of docs/architecture.md in one life: each state
 * entered once in order, "ended" once when every link is closed. */
static void
test_states (Fixture *f, gconstpointer data)
{
  g_autofree char *want = NULL;

  start_on_teletel (f);
  g_assert_true (sent_has (f->user, S ("CONNECT")));
  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13\x49"));
  mgw_link_close (MGW_LINK (f->user), FALSE);
  g_assert_cmpstr (mgw_session_state_to_string (mgw_session_get_state (f->session)), ==,
                   mgw_session_state_to_string (MGW_SESSION_CLOSED));
  g_assert_cmpuint (f->ended, ==, 1);
  want = g_strdup_printf (" %s %s %s %s %s %s",
                          mgw_session_state_to_string (MGW_SESSION_TELETEL),
                          mgw_session_state_to_string (MGW_SESSION_REDIRECTING),
                          mgw_session_state_to_string (MGW_SESSION_REDIRECTED),
                          mgw_session_state_to_string (MGW_SESSION_TELETEL),
                          mgw_session_state_to_string (MGW_SESSION_CLOSING),
                          mgw_session_state_to_string (MGW_SESSION_CLOSED));
  g_assert_cmpstr (f->states->str, ==, want);
}

/* The default server closing ends the session, before it opened, on
 * Teletel and while redirected (the target closed too). (The user's link
 * is closed after its queue drains, which a fake link never does: the
 * session stays CLOSING here.) */
static void
test_server_closes (Fixture *f, gconstpointer data)
{
  for (guint when = 0; when < 3; when++)
    {
      Fixture g = { 0 };

      g_test_message ("server closes %s",
                      (const char *[]) { "while connecting", "on Teletel", "redirected" }[when]);
      setup (&g, data);
      mgw_session_start (g.session);
      if (when >= 1)
        mgw_link_emit_opened (MGW_LINK (server (&g)));
      if (when == 2)
        redirected_to (&g, "ws://meteo.example/");
      mgw_link_close (MGW_LINK (server (&g)), FALSE);
      g_assert_cmpint (mgw_session_get_state (g.session), ==, MGW_SESSION_CLOSING);
      g_assert_cmpint (mgw_link_get_state (MGW_LINK (g.user)), >=, MGW_LINK_CLOSING);
      if (when == 2)
        g_assert_cmpint (mgw_link_get_state (MGW_LINK (target (&g, 0))), >=, MGW_LINK_CLOSING);
      g_assert_false (mgw_session_get_user_left (g.session));
      teardown (&g, data);
    }
}

/* The gateway's return sequences ([redirect] return-keys). */
static void
set_return_keys (Fixture    *f,
                 const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_return_keys_parse (&f->config->return_keys, text, &error));
  g_assert_no_error (error);
  f->config->has_return_keys = TRUE;
}

/* '***' then Sommaire, with keys before and after, cut into one, two or
 * three reads at every byte boundary: the user is back on Teletel, the
 * sequence goes to no one, what precedes it to the target, what follows
 * it to Teletel. */
static void
test_return_keys_split (Fixture *f, gconstpointer data)
{
  static const guint8 keys[] = { 'a', 'b', '*', '*', '*', 0x13, 0x46, 'c', 'd' };

  for (gsize a = 0; a <= sizeof keys; a++)
    for (gsize b = a; b <= sizeof keys; b++)
      {
        Fixture g = { 0 };
        gsize cuts[] = { 0, a, b, sizeof keys };

        g_test_message ("reads cut at %" G_GSIZE_FORMAT " and %" G_GSIZE_FORMAT, a, b);
        setup (&g, data);
        set_return_keys (&g, "'***' Sommaire");
        start_on_teletel (&g);
        redirected_to (&g, "ws://meteo.example/");
        for (gsize i = 0; i + 1 < G_N_ELEMENTS (cuts); i++)
          if (cuts[i + 1] > cuts[i])
            mgw_link_emit_received (MGW_LINK (g.user), keys + cuts[i], cuts[i + 1] - cuts[i]);
        g_assert_cmpint (mgw_session_get_state (g.session), ==, MGW_SESSION_TELETEL);
        g_assert_cmpmem (target (&g, 0)->sent->data, target (&g, 0)->sent->len, "ab", 2);
        g_assert_cmpmem (server (&g)->sent->data, server (&g)->sent->len, "cd", 2);
        g_assert_cmpint (mgw_link_get_state (MGW_LINK (target (&g, 0))), >=, MGW_LINK_CLOSING);
        teardown (&g, data);
      }
}

/* Typed by hand: each key within 2 s of the one before (SEP and its
 * code too), the sequence is seen, and nothing reached the target
 * meanwhile. A longer pause: the stars held reach the target, in order,
 * and what is typed afterwards is no sequence. */
static void
test_return_keys_typed (Fixture *f, gconstpointer data)
{
  static const guint8 keys[] = { '*', '*', '*', 0x13, 0x46 };

  set_return_keys (f, "'***' Sommaire");
  start_on_teletel (f);
  redirected_to (f, "ws://meteo.example/");
  for (gsize i = 0; i < sizeof keys; i++)
    {
      if (i > 0)
        advance (1.9);
      g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
      mgw_link_emit_received (MGW_LINK (f->user), keys + i, 1);
      g_assert_cmpuint (target (f, 0)->sent->len, ==, 0);
    }
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpuint (server (f)->sent->len, ==, 0);

  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("**"));
  advance (1.9);
  g_assert_cmpuint (target (f, 1)->sent->len, ==, 0);
  advance (0.2);
  g_assert_cmpmem (target (f, 1)->sent->data, target (f, 1)->sent->len, "**", 2);
  mgw_link_emit_received (MGW_LINK (f->user), S ("*"));
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13"));
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x46"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
  g_assert_cmpmem (target (f, 1)->sent->data, target (f, 1)->sent->len, "***\x13\x46", 5);
  g_assert_cmpuint (server (f)->sent->len, ==, 0);
}

/* What begins the sequence and turns out not to be it reaches the target
 * intact and in order, as soon as it is known: a letter after two stars,
 * a star too many, Envoi after the stars (SEP A, one message), Sommaire
 * alone. */
static void
test_return_keys_not_it (Fixture *f, gconstpointer data)
{
  set_return_keys (f, "'***' Sommaire");
  start_on_teletel (f);
  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("**x"));
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len, "**x", 3);
  mgw_link_emit_received (MGW_LINK (f->user), S ("****"));
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len, "**x*", 4);
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13"));
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x41"));
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len, "**x****\x13\x41", 9);
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13\x46"));
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len,
                   "**x****\x13\x41\x13\x46", 11);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
  g_assert_cmpuint (server (f)->sent->len, ==, 0);
  advance (5);
  g_assert_cmpuint (target (f, 0)->sent->len, ==, 11);
}

/* On the default server the sequence is keys like any: to Teletel as
 * typed, at once. */
static void
test_return_keys_teletel (Fixture *f, gconstpointer data)
{
  set_return_keys (f, "'***' Sommaire");
  start_on_teletel (f);
  mgw_link_emit_received (MGW_LINK (f->user), S ("***"));
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "***", 3);
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13\x46"));
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "***\x13\x46", 5);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
}

/* A target's profile: an empty list turns the return sequences off for
 * it (Connexion/Fin still works), a list of its own replaces the
 * gateway's, none keeps the gateway's. */
static void
test_return_keys_profile (Fixture *f, gconstpointer data)
{
  MgwProfile off = { .has_return_keys = TRUE };
  MgwProfile own = { .has_return_keys = TRUE };
  MgwProfile other = { .has_ping = TRUE, .ping = 5 };

  g_assert_true (mgw_return_keys_parse (&own.return_keys, "'##'", NULL));
  set_return_keys (f, "'***' Sommaire");
  start_on_teletel (f);

  redirect_with (f, "ws://off.example/", "None,[]", &off);
  mgw_link_emit_opened (MGW_LINK (target (f, 0)));
  mgw_link_emit_received (MGW_LINK (f->user), S ("***\x13\x46"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len, "***\x13\x46", 5);
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13\x49"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);

  redirect_with (f, "ws://own.example/", "None,[]", &own);
  mgw_link_emit_opened (MGW_LINK (target (f, 1)));
  mgw_link_emit_received (MGW_LINK (f->user), S ("***\x13\x46"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_REDIRECTED);
  mgw_link_emit_received (MGW_LINK (f->user), S ("x#"));
  mgw_link_emit_received (MGW_LINK (f->user), S ("#y"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpmem (target (f, 1)->sent->data, target (f, 1)->sent->len, "***\x13\x46x", 6);
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "y", 1);

  redirect_with (f, "ws://other.example/", "None,[]", &other);
  mgw_link_emit_opened (MGW_LINK (target (f, 2)));
  mgw_link_emit_received (MGW_LINK (f->user), S ("##***\x13\x46"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpmem (target (f, 2)->sent->data, target (f, 2)->sent->len, "##", 2);
}

/* Connexion/Fin before a sequence completes wins: the user is back at
 * the key; what came before it goes to the target, what follows it (the
 * stars held, a whole sequence) to Teletel as typed. */
static void
test_return_keys_fin (Fixture *f, gconstpointer data)
{
  set_return_keys (f, "'***' Sommaire");
  start_on_teletel (f);

  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("a**"));
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13\x49" "b"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len, "a**", 3);
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "b", 1);

  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("***\x13"));
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x49"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpmem (target (f, 1)->sent->data, target (f, 1)->sent->len, "***", 3);

  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("\x13\x49" "***\x13\x46" "z"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpuint (target (f, 2)->sent->len, ==, 0);
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "b***\x13\x46z", 7);
}

/* The target closes while the beginning of a sequence is held: those
 * bytes go on to Teletel, nothing lost, nothing later. The user leaving
 * while one is held ends the session as ever, the held bytes going to
 * no one. */
static void
test_return_keys_ends (Fixture *f, gconstpointer data)
{
  set_return_keys (f, "'***' Sommaire");
  start_on_teletel (f);
  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("x**"));
  g_assert_cmpmem (target (f, 0)->sent->data, target (f, 0)->sent->len, "x", 1);
  mgw_link_close (MGW_LINK (target (f, 0)), FALSE);
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  g_assert_cmpmem (server (f)->sent->data, server (f)->sent->len, "**", 2);
  advance (5);
  g_assert_cmpuint (server (f)->sent->len, ==, 2);

  redirected_to (f, "ws://meteo.example/");
  mgw_link_emit_received (MGW_LINK (f->user), S ("**"));
  mgw_link_close (MGW_LINK (f->user), FALSE);
  g_assert_cmpint (mgw_session_get_state (f->session), >=, MGW_SESSION_CLOSING);
  g_assert_true (mgw_session_get_user_left (f->session));
  g_assert_cmpint (mgw_link_get_state (MGW_LINK (target (f, 1))), >=, MGW_LINK_CLOSING);
  g_assert_cmpint (mgw_link_get_state (MGW_LINK (server (f))), >=, MGW_LINK_CLOSING);
  g_assert_cmpuint (target (f, 1)->sent->len, ==, 0);
  g_assert_cmpuint (server (f)->sent->len, ==, 2);
  advance (5);
  g_assert_cmpuint (server (f)->sent->len, ==, 2);
}

static void
user_output_cb (MgwSession   *session,
                const guint8 *data,
                guint         len,
                GByteArray   *seen)
{
  g_byte_array_append (seen, data, len);
}

/* An operator's message: on the user's status line as it is, seen by a
 * watcher too; refused (nothing sent) once the session ends. */
static void
test_message (Fixture *f, gconstpointer data)
{
  g_autoptr(GByteArray) seen = g_byte_array_new ();
  static const guint8 line[] = "\x1f\x40\x41" "Fermeture \x19\x41" "a 22 h\x18\x0a";
  guint before;

  start_on_teletel (f);
  g_signal_connect (f->session, "user-output", G_CALLBACK (user_output_cb), seen);
  mgw_session_watch (f->session, TRUE);
  g_assert_true (mgw_session_message (f->session, "Fermeture \xc3\xa0 22 h"));
  g_assert_true (sent_has (f->user, line, sizeof line - 1));
  g_assert_cmpmem (seen->data, seen->len, line, sizeof line - 1);
  mgw_session_watch (f->session, FALSE);
  g_assert_false (mgw_session_get_watched (f->session));

  mgw_session_end (f->session, NULL);
  before = f->user->sent->len;
  g_assert_false (mgw_session_message (f->session, "LATE"));
  g_assert_cmpuint (f->user->sent->len, ==, before);
}

/* Two watchers: the session is watched until the last one stops. */
static void
test_two_watchers (Fixture *f, gconstpointer data)
{
  start_on_teletel (f);
  mgw_session_watch (f->session, TRUE);
  mgw_session_watch (f->session, TRUE);
  mgw_session_watch (f->session, FALSE);
  g_assert_true (mgw_session_get_watched (f->session));
  mgw_session_watch (f->session, FALSE);
  g_assert_false (mgw_session_get_watched (f->session));
  /* One too many: still not watched, no underflow. */
  mgw_session_watch (f->session, FALSE);
  mgw_session_watch (f->session, TRUE);
  g_assert_true (mgw_session_get_watched (f->session));
  mgw_session_watch (f->session, FALSE);
}

/* --- recording (the recorder itself: test-recorder.c) --- */

static gboolean
recorder_closed (gpointer data)
{
  return mgw_recorder_get_closed (data);
}

/* Runs the main loop (GIO's file operations) until `cond`. */
static void
iterate_until (gboolean (*cond)(gpointer), gpointer data)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!cond (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* The recording's lines, the header first. */
static GPtrArray *
recording_lines (const char *dir,
                 const char *id)
{
  g_autofree char *name = g_strconcat (id, MGW_RECORDING_SUFFIX, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (g_str_has_suffix (text, "\n"));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    g_ptr_array_add (out, g_strdup (lines[i]));
  g_unlink (path);
  return out;
}

static void
recording_changed_cb (MgwSession *session,
                      guint      *count)
{
  (*count)++;
}

static gboolean
has_recording (gpointer data)
{
  return mgw_session_get_recording (data) != NULL;
}

/* Recorded from its start: what the user's link was handed, tagged by its
 * source (s, t with the redirection's number, g), in order, equals the
 * bytes it was sent; what the user typed as typed (u), before the rules
 * (the SEP hold, Connexion/Fin); the marks where they happen. */
static void
test_recording (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwRecorderPool) pool = mgw_recorder_pool_new (4, MGW_RECORDER_QUEUED_MAX);
  g_autofree char *dir = g_dir_make_tmp ("test-session-XXXXXX", NULL);
  g_autoptr(GByteArray) screen = g_byte_array_new ();
  g_autoptr(GByteArray) typed = g_byte_array_new ();
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(MgwRecorder) rec = NULL;
  g_autoptr(GError) error = NULL;
  MgwRecordingHeader header;
  GString *marks = g_string_new (NULL);
  guint changed = 0;

  g_signal_connect (f->session, "recording-changed", G_CALLBACK (recording_changed_cb), &changed);
  g_assert_true (mgw_session_start_recording (f->session, pool, dir, MGW_RECORDING_INPUT_KEEP, 0,
                                              &error));
  g_assert_no_error (error);
  g_assert_false (mgw_session_start_recording (f->session, pool, dir, MGW_RECORDING_INPUT_KEEP, 0,
                                               &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_clear_error (&error);
  rec = g_object_ref (mgw_session_get_recorder (f->session));
  start_on_teletel (f);
  advance (0.5);
  mgw_link_emit_received (MGW_LINK (f->user), S ("3615\x13"));
  mgw_link_emit_received (MGW_LINK (f->user), S ("A"));
  mgw_link_emit_received (MGW_LINK (server (f)), S ("PAGE\x1b\x39\x7b"));
  redirected_to (f, "ws://meteo.example/");
  advance (1);
  mgw_link_emit_received (MGW_LINK (target (f, 0)), S ("SUNNY\xff"));
  mgw_link_emit_received (MGW_LINK (f->user), S ("PARIS\x13\x49"));
  g_assert_cmpint (mgw_session_get_state (f->session), ==, MGW_SESSION_TELETEL);
  mgw_link_emit_received (MGW_LINK (server (f)), S ("MENU"));
  iterate_until (has_recording, f->session);
  g_assert_cmpuint (changed, ==, 1);
  g_assert_cmpstr (mgw_session_get_recording (f->session), ==, mgw_recorder_get_id (rec));
  advance (2);
  mgw_session_end (f->session, "END TEST");
  iterate_until (recorder_closed, rec);

  lines = recording_lines (dir, mgw_recorder_get_id (rec));
  g_assert_true (mgw_recording_parse_header (lines->pdata[0], strlen (lines->pdata[0]), &header,
                                             &error));
  g_assert_no_error (error);
  g_assert_cmpuint (header.session, ==, 7);
  g_assert_cmpstr (header.peer, ==, "192.0.2.7");
  g_assert_cmpuint (header.port, ==, 4242);
  g_assert_cmpint (header.offset, ==, 0);
  g_assert_cmpint (header.start, ==, mgw_session_get_start_time (f->session));
  mgw_recording_header_clear (&header);
  for (guint i = 1; i < lines->len; i++)
    {
      MgwRecordingEvent e;

      g_assert_true (mgw_recording_parse_event (lines->pdata[i], strlen (lines->pdata[i]), &e,
                                                &error));
      g_assert_no_error (error);
      if (mgw_recording_kind_is_screen (e.kind))
        g_byte_array_append (screen, e.data->data, e.data->len);
      if (e.kind == MGW_RECORDING_TARGET)
        g_assert_cmpuint (e.redirection, ==, 1);
      if (e.kind == MGW_RECORDING_USER)
        {
          g_byte_array_append (typed, e.data->data, e.data->len);
          g_string_append_printf (marks, "u%u ", e.redirection);
        }
      if (e.kind == MGW_RECORDING_MARK)
        g_string_append_printf (marks, "%s ", e.detail);
      if (e.kind == MGW_RECORDING_SERVER && e.data->len == 4 && memcmp (e.data->data, "MENU", 4) == 0)
        g_assert_cmpint (e.time, ==, (gint64) (1.5 * G_USEC_PER_SEC));
      mgw_recording_event_clear (&e);
    }
  g_assert_cmpmem (screen->data, screen->len, f->user->sent->data, f->user->sent->len);
  g_assert_cmpmem (typed->data, typed->len, "3615\x13" "A" "PARIS\x13\x49", 13);
  g_assert_cmpstr (marks->str, ==,
                   "u0 u0 {\"event\":\"redirect\",\"target\":\"ws://meteo.example/\","
                   "\"redirection\":1} u1 {\"event\":\"return\",\"redirection\":1,"
                   "\"reason\":\"Connexion/Fin pressed\"} {\"event\":\"end\",\"reason\":\"END TEST\"} ");
  g_string_free (marks, TRUE);
  g_rmdir (dir);
}

/* On an operator's demand: the offset is the session's age; a stop is
 * the last line; errors when not recorded or ending. */
static void
test_recording_on_demand (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwRecorderPool) pool = mgw_recorder_pool_new (4, MGW_RECORDER_QUEUED_MAX);
  g_autofree char *dir = g_dir_make_tmp ("test-session-XXXXXX", NULL);
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(MgwRecorder) rec = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  MgwRecordingHeader header;
  guint changed = 0;

  g_signal_connect (f->session, "recording-changed", G_CALLBACK (recording_changed_cb), &changed);
  start_on_teletel (f);
  advance (3.25);
  g_assert_false (mgw_session_stop_recording (f->session, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (mgw_session_start_recording (f->session, pool, dir, MGW_RECORDING_INPUT_MASK,
                                              1024 * 1024, &error));
  rec = g_object_ref (mgw_session_get_recorder (f->session));
  iterate_until (has_recording, f->session);
  id = g_strdup (mgw_session_get_recording (f->session));
  mgw_link_emit_received (MGW_LINK (f->user), S ("secret"));
  advance (1);
  g_assert_true (mgw_session_stop_recording (f->session, &error));
  g_assert_no_error (error);
  g_assert_null (mgw_session_get_recording (f->session));
  g_assert_null (mgw_session_get_recorder (f->session));
  g_assert_cmpuint (changed, ==, 2);
  mgw_link_emit_received (MGW_LINK (server (f)), S ("not recorded"));
  iterate_until (recorder_closed, rec);

  lines = recording_lines (dir, id);
  g_assert_true (mgw_recording_parse_header (lines->pdata[0], strlen (lines->pdata[0]), &header,
                                             &error));
  g_assert_cmpint (header.offset, ==, (gint64) (3.25 * G_USEC_PER_SEC));
  g_assert_cmpint (header.input, ==, MGW_RECORDING_INPUT_MASK);
  mgw_recording_header_clear (&header);
  g_assert_cmpuint (lines->len, ==, 3);
  g_assert_cmpstr (lines->pdata[1], ==, "[3.250000,\"u\",6]");
  g_assert_cmpstr (lines->pdata[2], ==, "[4.250000,\"m\",{\"event\":\"stop\"}]");

  mgw_session_end (f->session, NULL);
  g_assert_false (mgw_session_start_recording (f->session, pool, dir, MGW_RECORDING_INPUT_KEEP, 0,
                                               &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_FAILED);
  g_rmdir (dir);
}

#define ADD_AS(path, access, func) \
  g_test_add ("/session/" path, Fixture, GINT_TO_POINTER (access), setup, func, teardown)
#define ADD(path, func) ADD_AS (path, MGW_ACCESS_TELNET, func)

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
  ADD ("states", test_states);
  ADD ("server-closes", test_server_closes);
  ADD ("sep-hold", test_sep_hold);
  ADD ("server-inactivity", test_server_inactivity);
  ADD ("redirect-max", test_redirect_max);
  ADD ("profile", test_profile);
  ADD ("telnet-rules", test_telnet_rules);
  ADD ("untrusted-proxy", test_untrusted_proxy);
  ADD_AS ("websocket-user", MGW_ACCESS_WS, test_websocket_user);
  ADD_AS ("raw-user", MGW_ACCESS_RAW, test_raw_user);
  ADD_AS ("raw-user/telnet-rules", MGW_ACCESS_RAW, test_telnet_rules);
  ADD_AS ("raw-user/untrusted-proxy", MGW_ACCESS_RAW, test_untrusted_proxy);
  ADD ("return-keys/split", test_return_keys_split);
  ADD ("return-keys/typed", test_return_keys_typed);
  ADD ("return-keys/not-it", test_return_keys_not_it);
  ADD ("return-keys/teletel", test_return_keys_teletel);
  ADD ("return-keys/profile", test_return_keys_profile);
  ADD ("return-keys/fin", test_return_keys_fin);
  ADD ("return-keys/ends", test_return_keys_ends);
  ADD ("message", test_message);
  ADD ("two-watchers", test_two_watchers);
  ADD ("recording", test_recording);
  ADD ("recording/on-demand", test_recording_on_demand);
  return g_test_run ();
}
