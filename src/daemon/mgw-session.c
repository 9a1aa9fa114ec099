/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-session.c: one user's session.
 *
 * A session joins the user's link to a link to the default server, both
 * MgwLink: it never knows whether either is Telnet or WebSocket. It sends
 * the welcome line, opens the upstream (a Telnet or raw user's once its
 * first bytes, or [telnet] scanner-wait, showed no port scanner), relays bytes both ways (holding a
 * trailing SEP until its key code arrives), applies back-pressure between
 * the queues, watches the timeouts (docs/protocol.md, Timeouts),
 * identifies the user to Teletel on the first ENQROM, follows Teletel's
 * redirections (docs/protocol.md, Redirection and the return), brings
 * the user back on Connexion/Fin or a return sequence
 * and tells the user on the status line why something ends.
 *
 *   CONNECTING ─▶ TELETEL ─▶ REDIRECTING ─▶ REDIRECTED
 *                    ▲            │              │
 *                    └────────────┴──────────────┘  (redirection ends)
 *   any state ─▶ CLOSING ─▶ CLOSED */
#include "config.h"

#include "mgw-session.h"
#include "mgw-address-set.h"
#include "mgw-redirect-policy.h"
#include "mgw-error.h"
#include "mgw-link-telnet.h"
#include "mgw-link-ws.h"
#include "mgw-link-factory.h"
#include "mgw-minitel.h"
#include "mgw-poller.h"
#include "mgw-proxy.h"
#include "mgw-return-keys.h"
#include "mgw-scanner.h"
#include "mgw-throttle.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

#define SEP_HOLD_REDIRECTED_MS 2000

struct _MgwSession
{
  GObject          parent_instance;

  guint            id;
  MgwAccess        access;
  char            *peer_address;
  guint16          peer_port;
  MgwConfig       *config;
  GTlsDatabase    *tls_database;   /* NULL: the system default */
  MgwCommandLink  *command_link;   /* NULL: no command channel */
  MgwLinkOpener    opener;         /* NULL: mgw_link_open () */
  gpointer         opener_data;

  MgwLink         *user;
  MgwLink         *server;         /* the default server */
  MgwLink         *target;         /* the redirect target */
  MgwSessionState  state;
  char            *end_reason;

  gint64           start_wall;     /* µs since the epoch */
  gint64           start_mono;     /* monotonic µs */
  gint64           last_user;
  gint64           last_server;
  gint64           last_target;
  gint64           redirect_start;
  MgwTimer         timeout;
  gboolean         sep_held;
  MgwTimer         sep_timeout;
  guint            enqrom_state;
  gboolean         enqrom_seen;

  /* The current redirection. */
  char            *server_session;
  char            *target_uri;
  MgwFinHandling   fin;
  MgwKeyMatcher    keys;             /* the return sequences, while redirected */
  MgwTimer         keys_timeout;     /* how long a beginning of one is held */
  guint            redirections;
  guint64          target_base_in;   /* user link counters at its start */
  guint64          target_base_out;

  /* Abuse rules (Telnet): anti-garbage filter and typing too fast. */
  guint            garbage_dropped;
  MgwThrottle      typing;           /* typing_rate a second, one second deep */
  gboolean         typing_started;
  guint            typing_excess;
  gboolean         check_proxy;      /* refuse a PROXY header: untrusted peer */
  guint8           proxy_probe[MGW_PROXY_DETECT_MAX];   /* the first bytes, while they may start one */
  guint8           proxy_probe_len;
  gboolean         user_left;        /* the user ended the session */

  /* The scanner rule (Telnet, raw): the upstream waits, for at most
   * [telnet] scanner-wait, for the user's first raw bytes. */
  gboolean         scanning;
  MgwTimer         scan_timeout;
  guint8           scan_probe[MGW_SCANNER_PROBE_MAX];
  guint            scan_probe_len;
  GByteArray      *scan_held;        /* decoded user bytes meanwhile: fewer than
                                      * MGW_SCANNER_PROBE_MAX, which always decide */
  gboolean         announced;        /* NewTelnetUser/NewWsUser sent */

  FILE            *dump;             /* DumpData: what the user sends */
  guint            watchers;         /* consoles and D-Bus clients mirroring the user's output */
  MgwRecorder     *recorder;         /* NULL: not recorded */
  gboolean         started;
};

G_DEFINE_FINAL_TYPE (MgwSession, mgw_session, G_TYPE_OBJECT)

enum {
  SIGNAL_STATE_CHANGED,
  SIGNAL_TIMED_OUT,
  SIGNAL_ABUSE,
  SIGNAL_USER_OUTPUT,
  SIGNAL_WATCHED,
  SIGNAL_RECORDING_CHANGED,
  SIGNAL_ENDED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

const char *
mgw_timeout_to_string (MgwTimeout timeout)
{
  switch (timeout)
    {
    case MGW_TIMEOUT_USER_INACTIVITY:
      return "user-inactivity";
    case MGW_TIMEOUT_SESSION_MAX:
      return "session-max";
    case MGW_TIMEOUT_SERVER_INACTIVITY:
      return "server-inactivity";
    case MGW_TIMEOUT_REDIRECT_INACTIVITY:
      return "redirect-inactivity";
    case MGW_TIMEOUT_REDIRECT_MAX:
      return "redirect-max";
    case MGW_N_TIMEOUTS:
    default:
      return "unknown";
    }
}

const char *
mgw_session_state_to_string (MgwSessionState state)
{
  static const char *names[] = {
    "connecting", "teletel", "redirecting", "redirected", "closing", "closed",
  };
  return state < G_N_ELEMENTS (names) ? names[state] : "unknown";
}

static void session_log (MgwSession     *self,
                         GLogLevelFlags  level,
                         const char     *format,
                         ...) G_GNUC_PRINTF (3, 4);

/* Logs with the session id and peer as journal fields. */
static void
session_log (MgwSession     *self,
             GLogLevelFlags  level,
             const char     *format,
             ...)
{
  g_autofree char *text = NULL;
  g_autofree char *message = NULL;
  g_autofree char *peer = NULL;
  char id[16];
  va_list args;

  if (level == G_LOG_LEVEL_DEBUG &&
      g_log_writer_default_would_drop (level, G_LOG_DOMAIN))
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_snprintf (id, sizeof id, "%u", self->id);
  peer = mgw_address_with_port (self->peer_address, self->peer_port);
  message = g_strdup_printf ("session %u (%s %s): %s", self->id,
                             mgw_access_to_string (self->access), peer, text);

  const GLogField fields[] = {
    { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
    { "MESSAGE", message, -1 },
    { "MGW_SESSION_ID", id, -1 },
    { "MGW_PEER", self->peer_address, -1 },
  };
  g_log_structured_array (level, fields, G_N_ELEMENTS (fields));
}

static void
set_state (MgwSession      *self,
           MgwSessionState  state)
{
  MgwSessionState old = self->state;

  if (old == state)
    return;
  self->state = state;
  session_log (self, G_LOG_LEVEL_INFO, "%s -> %s",
               mgw_session_state_to_string (old), mgw_session_state_to_string (state));
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, (int) old);
}

static void
tell_teletel (MgwSession *self,
              char       *message)   /* (transfer full) */
{
  if (self->command_link != NULL)
    mgw_command_link_send (self->command_link, message);
  g_free (message);
}

static void
tell_teletel_event (MgwSession *self,
                    const char *event,
                    const char *detail)
{
  tell_teletel (self, mgw_command_user_event (event, self->id, detail));
}

/* µs since the session's start, for its recording. */
static gint64
session_time (MgwSession *self)
{
  return mgw_poller_now () - self->start_mono;
}

static void
record (MgwSession       *self,
        MgwRecordingKind  kind,
        guint             redirection,
        const guint8     *data,
        gsize             len)
{
  if (self->recorder != NULL)
    mgw_recorder_chunk (self->recorder, session_time (self), kind, redirection, data, len);
}

/* Everything for the user goes through here (and to its watchers,
 * consoles and D-Bus clients, and to the recording, tagged by its source: the default server, the
 * target of the current redirection, the gateway itself). */
static void
to_user (MgwSession       *self,
         MgwRecordingKind  source,
         const guint8     *data,
         gsize             len)
{
  record (self, source, source == MGW_RECORDING_TARGET ? self->redirections : 0, data, len);
  mgw_link_send_data (self->user, data, len);
  if (self->watchers > 0 && len > 0)
    g_signal_emit (self, signals[SIGNAL_USER_OUTPUT], 0, data, (guint) len);
}

/* A status line already in the user's language. */
static void
send_status_text (MgwSession *self,
                  const char *text)
{
  g_autoptr(GBytes) line = mgw_minitel_status_line (text);
  gsize len;
  const guint8 *data = g_bytes_get_data (line, &len);

  to_user (self, MGW_RECORDING_GATEWAY, data, len);
}

/* `text` is the English msgid (N_()): translated here for the user, the
 * English kept for the end reason in logs and on D-Bus. The three texts
 * of the original (CONNECT, END INACTIVE, END INACTIVE REDIR) stay as they
 * are: Minitel users and web clients know them. */
static void
send_status (MgwSession *self,
             const char *text)
{
  send_status_text (self, g_dgettext (GETTEXT_PACKAGE, text));
}

static void
send_text (MgwSession *self,
           const char *text)
{
  to_user (self, MGW_RECORDING_GATEWAY, (const guint8 *) text, strlen (text));
}

static void
set_reason (MgwSession *self,
            const char *reason)
{
  if (self->end_reason == NULL)
    self->end_reason = g_strdup (reason);
}

static gboolean
link_done (MgwLink *link)
{
  return link == NULL || mgw_link_get_state (link) == MGW_LINK_CLOSED;
}

static void
maybe_finish (MgwSession *self)
{
  if (self->state != MGW_SESSION_CLOSING)
    return;
  if (!link_done (self->user) || !link_done (self->server) || !link_done (self->target))
    return;

  mgw_timer_stop (&self->timeout);
  mgw_timer_stop (&self->sep_timeout);
  mgw_timer_stop (&self->keys_timeout);
  session_log (self, G_LOG_LEVEL_MESSAGE,
               "ended after %.1f s: %s; %" G_GUINT64_FORMAT " bytes from the user, %"
               G_GUINT64_FORMAT " to the user, %u redirections",
               (mgw_poller_now () - self->start_mono) / (double) G_USEC_PER_SEC,
               self->end_reason,
               mgw_link_get_bytes_in (self->user),
               mgw_link_get_bytes_out (self->user),
               self->redirections);
  g_clear_pointer (&self->dump, fclose);
  set_state (self, MGW_SESSION_CLOSED);
  g_signal_emit (self, signals[SIGNAL_ENDED], 0);
}

/* --- redirection --- */

static void
drop_target (MgwSession *self)
{
  if (self->target == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->target, self);
  mgw_link_close (self->target, FALSE);
  g_clear_object (&self->target);
  /* The target may have been what held the user's reading paused. */
  mgw_link_set_paused (self->user, self->server != NULL &&
                       mgw_link_get_congested (self->server));
}

/* Ends the current redirection, whatever ended it: UserRedirectEnded,
 * the target's output still queued for the user dropped, the user back
 * on the default server. `status`, if any, goes to the status line. */
static void
end_redirection (MgwSession *self,
                 const char *why,
                 const char *status)
{
  g_autoptr(GByteArray) held = NULL;

  if (self->state != MGW_SESSION_REDIRECTING && self->state != MGW_SESSION_REDIRECTED)
    return;

  session_log (self, G_LOG_LEVEL_MESSAGE, "redirection to '%s' ended: %s",
               self->target_uri, why);
  /* (One that never reached its target had no number, nor a mark.) */
  if (self->recorder != NULL && self->state == MGW_SESSION_REDIRECTED)
    mgw_recorder_mark_return (self->recorder, session_time (self), self->redirections, why);
  /* The beginning of a return sequence that the end interrupts was
   * typed, not a sequence after all: it goes on to Teletel. */
  held = g_byte_array_new ();
  mgw_key_matcher_flush (&self->keys, held);
  mgw_timer_stop (&self->keys_timeout);
  drop_target (self);
  mgw_link_drop_queue (self->user);
  tell_teletel_event (self, "UserRedirectEnded", self->server_session);
  g_clear_pointer (&self->target_uri, g_free);
  g_clear_pointer (&self->server_session, g_free);
  self->last_server = mgw_poller_now ();
  set_state (self, MGW_SESSION_TELETEL);
  if (status != NULL && mgw_link_get_state (self->user) == MGW_LINK_OPEN)
    send_status (self, status);
  if (held->len > 0 && self->server != NULL)
    mgw_link_send_data (self->server, held->data, held->len);
}

static void arm_timeout (MgwSession *self);
static void stop_scanning (MgwSession *self);

/* Ends the session: `status`, when not NULL, goes to the user's status
 * line first; every link closes. */
void
mgw_session_end (MgwSession *self,
                 const char *status)
{
  g_return_if_fail (MGW_IS_SESSION (self));

  if (self->state >= MGW_SESSION_CLOSING)
    return;

  g_object_ref (self);
  set_reason (self, status ? status : "closed");
  mgw_key_matcher_reset (&self->keys);   /* what it held goes nowhere now */
  if (self->state == MGW_SESSION_REDIRECTING || self->state == MGW_SESSION_REDIRECTED)
    end_redirection (self, self->end_reason, NULL);
  set_state (self, MGW_SESSION_CLOSING);
  mgw_timer_stop (&self->timeout);
  mgw_timer_stop (&self->sep_timeout);
  mgw_timer_stop (&self->keys_timeout);
  stop_scanning (self);
  if (self->announced)
    tell_teletel (self, mgw_command_user_gone (self->id));
  if (status != NULL && mgw_link_get_state (self->user) == MGW_LINK_OPEN)
    send_status (self, status);
  /* Nothing more goes to the user: the recording's last line. */
  if (self->recorder != NULL)
    mgw_recorder_finish (self->recorder, session_time (self), self->end_reason);
  mgw_link_close (self->user, TRUE);
  if (self->server != NULL)
    mgw_link_close (self->server, TRUE);
  maybe_finish (self);
  g_object_unref (self);
}

gboolean
mgw_session_message (MgwSession *self,
                     const char *text)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  if (self->state >= MGW_SESSION_CLOSING || mgw_link_get_state (self->user) != MGW_LINK_OPEN)
    return FALSE;
  session_log (self, G_LOG_LEVEL_INFO, "operator's message on the status line");
  send_status_text (self, text);
  return TRUE;
}

/* --- timeouts --- */

static gint64
seconds_after (gint64 start,
               guint  seconds)
{
  return seconds ? start + (gint64) seconds * G_USEC_PER_SEC : G_MAXINT64;
}

typedef struct
{
  MgwTimeout  which;
  gint64      deadline;
} Deadline;

/* The nearest deadline in the current state. */
static Deadline
next_deadline (MgwSession *self)
{
  const MgwConfig *c = self->config;
  MgwAccess a = mgw_access_settings (self->access);
  Deadline d = { MGW_N_TIMEOUTS, G_MAXINT64 };
  Deadline candidates[] = {
    { MGW_TIMEOUT_SESSION_MAX, seconds_after (self->start_mono, c->session_max[a]) },
    { MGW_TIMEOUT_USER_INACTIVITY, seconds_after (self->last_user, c->user_inactivity[a]) },
    { MGW_TIMEOUT_SERVER_INACTIVITY,
      self->state == MGW_SESSION_TELETEL ?
      seconds_after (self->last_server, c->server_inactivity[a]) : G_MAXINT64 },
    { MGW_TIMEOUT_REDIRECT_MAX,
      self->state == MGW_SESSION_REDIRECTED ?
      seconds_after (self->redirect_start, c->redirect_max[a]) : G_MAXINT64 },
    /* Also bounds a target that never completes its handshake. */
    { MGW_TIMEOUT_REDIRECT_INACTIVITY,
      self->state == MGW_SESSION_REDIRECTED || self->state == MGW_SESSION_REDIRECTING ?
      seconds_after (self->last_target, c->redirect_inactivity[a]) : G_MAXINT64 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (candidates[i].deadline < d.deadline)
      d = candidates[i];
  return d;
}


/* One timer per session, armed for the nearest deadline; activity only
 * moves timestamps, the timer looks at them when it fires. */
static void
arm_timeout (MgwSession *self)
{
  Deadline d;
  gint64 now = mgw_poller_now ();

  mgw_timer_stop (&self->timeout);
  if (self->state >= MGW_SESSION_CLOSING)
    return;
  d = next_deadline (self);
  if (d.deadline == G_MAXINT64)
    return;
  /* Just past it: the timer looks at the clock again when it fires. */
  mgw_timer_start_at (&self->timeout, MAX (d.deadline, now) + 1000);
}

static void
timeout_cb (gpointer user_data)
{
  MgwSession *self = user_data;
  Deadline d = next_deadline (self);
  g_autofree char *reason = NULL;

  if (mgw_poller_now () < d.deadline)
    {
      arm_timeout (self);
      return;
    }

  reason = g_strdup_printf ("%s timeout", mgw_timeout_to_string (d.which));
  session_log (self, G_LOG_LEVEL_MESSAGE, "%s", reason);
  g_object_ref (self);
  g_signal_emit (self, signals[SIGNAL_TIMED_OUT], 0, (int) d.which);
  switch (d.which)
    {
    case MGW_TIMEOUT_REDIRECT_INACTIVITY:
      end_redirection (self, reason, "END INACTIVE REDIR");
      arm_timeout (self);
      break;
    case MGW_TIMEOUT_REDIRECT_MAX:
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      end_redirection (self, reason, N_("END MAX TIME REDIR"));
      arm_timeout (self);
      break;
    case MGW_TIMEOUT_SESSION_MAX:
      set_reason (self, reason);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      mgw_session_end (self, N_("END MAX TIME"));
      break;
    case MGW_TIMEOUT_USER_INACTIVITY:
      set_reason (self, reason);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      mgw_session_end (self, N_("END INACTIVE USER"));
      break;
    case MGW_TIMEOUT_SERVER_INACTIVITY:
      set_reason (self, reason);
      mgw_session_end (self, "END INACTIVE");
      break;
    case MGW_N_TIMEOUTS:
    default:
      break;
    }
  g_object_unref (self);
}

/* --- relay --- */

static gboolean
redirected (MgwSession *self)
{
  return self->state == MGW_SESSION_REDIRECTED && self->target != NULL;
}

static void
send_upstream (MgwSession   *self,
               const guint8 *data,
               gsize         len)
{
  if (len == 0)
    return;
  if (redirected (self))
    mgw_link_send_data (self->target, data, len);
  else if (self->server != NULL)
    mgw_link_send_data (self->server, data, len);
  else if (self->scan_held != NULL)
    g_byte_array_append (self->scan_held, data, len);
}

/* How long the user's keys may wait while redirected: a SEP for its
 * code (Connexion/Fin typed by hand on an emulator, Ctrl-S then I), the
 * beginning of a return sequence for its next byte. */
static guint
redirected_hold_ms (MgwSession *self)
{
  return MAX (self->config->sep_hold_ms, SEP_HOLD_REDIRECTED_MS);
}

/* The user asked to go back (Connexion/Fin, a return sequence):
 * UserRequestedClose, then the redirection ends. */
static void
user_returns (MgwSession *self,
              const char *what)
{
  g_autofree char *why = g_strdup_printf ("%s pressed", what);

  session_log (self, G_LOG_LEVEL_MESSAGE, "%s: back to Teletel", what);
  tell_teletel_event (self, "UserRequestedClose", self->server_session);
  end_redirection (self, why, NULL);
  arm_timeout (self);
}

/* The user's bytes for the target, in order, the return sequences
 * already looked for. Connexion/Fin among them ends the redirection,
 * unless the target's profile wants the key: the key goes to no one,
 * what follows it to Teletel, and after that what the matcher held. TRUE
 * when the user is back. */
static gboolean
to_target (MgwSession   *self,
           const guint8 *data,
           gsize         len)
{
  g_autoptr(GByteArray) held = NULL;
  gssize fin;

  if (self->fin != MGW_FIN_GATEWAY || (fin = mgw_minitel_find_connexion_fin (data, len)) < 0)
    {
      send_upstream (self, data, len);
      return FALSE;
    }
  send_upstream (self, data, fin);
  held = g_byte_array_new ();
  mgw_key_matcher_flush (&self->keys, held);
  user_returns (self, "Connexion/Fin");
  if (self->state == MGW_SESSION_TELETEL)
    {
      send_upstream (self, data + fin + 2, len - fin - 2);
      send_upstream (self, held->data, held->len);
    }
  return TRUE;
}

/* The user's bytes, the SEP rule applied: to the default server; while
 * redirected to the target, through the return sequences' matcher and
 * the Connexion/Fin scan. A sequence completed goes to no one: what came
 * before it to the target, what follows it to Teletel. */
static void
relay_user (MgwSession   *self,
            const guint8 *data,
            gsize         len)
{
  g_autoptr(GByteArray) out = NULL;
  g_autofree char *name = NULL;
  gsize consumed = 0;
  int which;

  if (!redirected (self))
    {
      send_upstream (self, data, len);
      return;
    }
  if (!mgw_key_matcher_is_active (&self->keys))
    {
      to_target (self, data, len);
      return;
    }
  out = g_byte_array_new ();
  which = mgw_key_matcher_feed (&self->keys, data, len, out, &consumed);
  if (to_target (self, out->data, out->len))
    {
      /* Connexion/Fin came first: the sequence and what follows it
       * are keys for Teletel. */
      if (which >= 0 && self->state == MGW_SESSION_TELETEL)
        {
          send_upstream (self, self->keys.keys.bytes[which], self->keys.keys.len[which]);
          send_upstream (self, data + consumed, len - consumed);
        }
      return;
    }
  if (which < 0)
    return;
  name = mgw_return_keys_describe (&self->keys.keys, which);
  {
    g_autofree char *what = g_strdup_printf ("return sequence %s", name);
    user_returns (self, what);
  }
  if (self->state == MGW_SESSION_TELETEL)
    send_upstream (self, data + consumed, len - consumed);
}

/* The matcher's timer: running while it holds the beginning of a
 * sequence; `restart`: the user typed, the sequence's next byte has its
 * time again. */
static void
hold_keys (MgwSession *self,
           gboolean    restart)
{
  if (mgw_key_matcher_get_held (&self->keys) == 0 || self->state >= MGW_SESSION_CLOSING)
    mgw_timer_stop (&self->keys_timeout);
  else if (restart || !mgw_timer_is_active (&self->keys_timeout))
    mgw_timer_start (&self->keys_timeout, redirected_hold_ms (self));
}

static void
sep_timeout_cb (gpointer user_data)
{
  MgwSession *self = user_data;
  static const guint8 sep = MGW_MINITEL_SEP;

  if (self->sep_held)
    {
      self->sep_held = FALSE;
      g_object_ref (self);
      relay_user (self, &sep, 1);
      hold_keys (self, FALSE);
      g_object_unref (self);
    }
}

/* No next byte in time: what the matcher held was not a sequence. */
static void
keys_timeout_cb (gpointer user_data)
{
  MgwSession *self = user_data;
  g_autoptr(GByteArray) held = g_byte_array_new ();

  mgw_key_matcher_flush (&self->keys, held);
  if (held->len == 0)
    return;
  g_object_ref (self);
  if (redirected (self))
    to_target (self, held->data, held->len);
  else
    send_upstream (self, held->data, held->len);
  g_object_unref (self);
}

static void
abuse (MgwSession *self,
       const char *rule,
       const char *reason,
       gboolean    ban)
{
  g_object_ref (self);
  session_log (self, G_LOG_LEVEL_MESSAGE, "%s (rule %s)", reason, rule);
  set_reason (self, reason);
  g_signal_emit (self, signals[SIGNAL_ABUSE], 0, rule, reason, ban);
  mgw_session_end (self, NULL);
  g_object_unref (self);
}

/* The Telnet rules (raw users' too), on what the user sends: a PROXY
 * header from a peer that may not send one; the anti-garbage filter (the first bytes within
 * the first second are dropped: legacy iTimtel sends junk, scanners
 * too); typing too fast (a token bucket of typing_rate bytes a second,
 * one second deep: past typing_excess bytes beyond it, the user is
 * dropped and banned). FALSE: nothing left to relay. */
static gboolean
user_input_allowed (MgwSession    *self,
                    const guint8 **data,
                    guint         *len)
{
  const MgwConfig *c = self->config;
  gint64 now = self->last_user;
  gboolean in_window = now - self->start_mono < (gint64) c->garbage_window_ms * 1000;

  if (self->check_proxy)
    {
      /* Only the first bytes of the stream, taken together however they
       * were split, and only a whole signature: a user's first "P" or
       * Enter is relayed as it comes. */
      guint take = MIN (*len, sizeof self->proxy_probe - self->proxy_probe_len);
      MgwProxyResult found;

      memcpy (self->proxy_probe + self->proxy_probe_len, *data, take);
      self->proxy_probe_len += take;
      found = mgw_proxy_detect (self->proxy_probe, self->proxy_probe_len);
      if (found != MGW_PROXY_NEED_MORE)
        self->check_proxy = FALSE;
      if (found == MGW_PROXY_DONE)
        {
          abuse (self, "untrusted-proxy", "PROXY header from a peer not trusted to send one",
                 FALSE);
          return FALSE;
        }
    }

  if (in_window && self->garbage_dropped < c->garbage_bytes)
    {
      guint drop = MIN (*len, c->garbage_bytes - self->garbage_dropped);
      self->garbage_dropped += drop;
      *data += drop;
      *len -= drop;
      if (*len == 0)
        return FALSE;
    }
  if (in_window || c->typing_rate == 0)
    return TRUE;

  if (!self->typing_started)
    {
      mgw_throttle_init_burst (&self->typing, c->typing_rate, G_USEC_PER_SEC, now);
      self->typing_started = TRUE;
    }
  if (mgw_throttle_is_full (&self->typing, now))   /* refilled up to now */
    self->typing_excess = 0;   /* a full second of rest forgives */
  /* What goes beyond the credit, whole bytes only (a fraction short is
   * forgiven: a person's jitter around the rate). */
  self->typing.credit -= *len;
  if (self->typing.credit < 0)
    {
      self->typing_excess += (guint) -self->typing.credit;
      self->typing.credit = 0;
      if (self->typing_excess > c->typing_excess)
        {
          g_autofree char *reason =
            g_strdup_printf ("typing too fast: %u bytes beyond %u a second",
                             self->typing_excess, c->typing_rate);
          abuse (self, "typing-too-fast", reason, TRUE);
          return FALSE;
        }
    }
  return TRUE;
}

static void
user_received_cb (MgwLink      *link,
                  const guint8 *data,
                  guint         len,
                  MgwSession   *self)
{
  g_autofree guint8 *joined = NULL;

  if (self->state >= MGW_SESSION_CLOSING)
    return;
  self->last_user = mgw_poller_now ();
  session_log (self, G_LOG_LEVEL_DEBUG, "%u bytes from the user", len);
  /* As received, before any rule; to the target of redirection N while
   * redirected. */
  record (self, MGW_RECORDING_USER, redirected (self) ? self->redirections : 0, data, len);
  if (self->dump != NULL)
    fwrite (data, 1, len, self->dump);
  if (mgw_access_settings (self->access) == MGW_ACCESS_TELNET &&
      !user_input_allowed (self, &data, &len))
    return;

  /* A key is SEP plus its code: never send the SEP alone. */
  if (self->sep_held)
    {
      joined = g_malloc (len + 1);
      joined[0] = MGW_MINITEL_SEP;
      memcpy (joined + 1, data, len);
      data = joined;
      len++;
      self->sep_held = FALSE;
      mgw_timer_stop (&self->sep_timeout);
    }
  if (data[len - 1] == MGW_MINITEL_SEP)
    {
      /* Redirected, the key may be Connexion/Fin typed by hand on an
       * emulator (Ctrl-S, then I): wait longer for its code. */
      guint hold = redirected (self) ? redirected_hold_ms (self) : self->config->sep_hold_ms;
      self->sep_held = TRUE;
      mgw_timer_start (&self->sep_timeout, hold);
      len--;
    }

  g_object_ref (self);
  relay_user (self, data, len);
  hold_keys (self, TRUE);
  g_object_unref (self);
}

/* The first ENQROM of the session, while the command channel is up:
 * identify the user to Teletel (docs/protocol.md, ENQROM
 * identification). The ENQROM still goes to the user, whose terminal
 * answers with its real ROM id. */
static void
identify (MgwSession *self)
{
  static const guint8 introducer[] = { 0x01, 0x7f, 0x7f, 0x7f, 0x04 };
  g_autofree char *line = NULL;

  if (self->command_link == NULL || !mgw_command_link_get_connected (self->command_link))
    return;
  line = mgw_command_identification (self->id, self->peer_address, self->peer_port,
                                     self->access != MGW_ACCESS_WS);
  session_log (self, G_LOG_LEVEL_INFO, "ENQROM: identified to the default server");
  mgw_link_send_data (self->server, introducer, sizeof introducer);
  mgw_link_send_data (self->server, (const guint8 *) line, strlen (line));
}

static void
server_received_cb (MgwLink      *link,
                    const guint8 *data,
                    guint         len,
                    MgwSession   *self)
{
  if (self->state >= MGW_SESSION_CLOSING)
    return;
  self->last_server = mgw_poller_now ();
  session_log (self, G_LOG_LEVEL_DEBUG, "%u bytes from the default server", len);
  to_user (self, MGW_RECORDING_SERVER, data, len);
  if (!self->enqrom_seen &&
      mgw_minitel_scan_enqrom (&self->enqrom_state, data, len))
    {
      self->enqrom_seen = TRUE;
      identify (self);
    }
}

static void
target_received_cb (MgwLink      *link,
                    const guint8 *data,
                    guint         len,
                    MgwSession   *self)
{
  if (!redirected (self))
    return;
  self->last_target = mgw_poller_now ();
  session_log (self, G_LOG_LEVEL_DEBUG, "%u bytes from the redirect target", len);
  to_user (self, MGW_RECORDING_TARGET, data, len);
}

static void
user_closed_cb (MgwLink      *link,
                const GError *error,
                MgwSession   *self)
{
  g_object_ref (self);
  if (self->state < MGW_SESSION_CLOSING)
    {
      if (error != NULL)
        {
          g_autofree char *reason = g_strdup_printf ("user link: %s", error->message);
          set_reason (self, reason);
        }
      else
        set_reason (self, "user disconnected");
      /* The user went away (not a queue overflow or a keepalive timeout
       * decided here): the short-session rule may apply. */
      self->user_left = error == NULL ||
                        !(g_error_matches (error, MGW_ERROR, MGW_ERROR_OVERFLOW) ||
                          g_error_matches (error, MGW_ERROR, MGW_ERROR_TIMED_OUT));
      mgw_session_end (self, NULL);
    }
  maybe_finish (self);
  g_object_unref (self);
}

static void
server_opened_cb (MgwLink    *link,
                  MgwSession *self)
{
  g_autofree char *connected = NULL;

  if (self->state != MGW_SESSION_CONNECTING)
    return;
  self->last_server = mgw_poller_now ();
  set_state (self, MGW_SESSION_TELETEL);
  session_log (self, G_LOG_LEVEL_INFO, "connected to '%s'", self->config->server_uri);
  connected = g_strdup_printf ("Connected to '%s'\n\r", self->config->server_uri);
  send_text (self, connected);
  send_status (self, "CONNECT");
  arm_timeout (self);
}

static void
server_closed_cb (MgwLink      *link,
                  const GError *error,
                  MgwSession   *self)
{
  g_object_ref (self);
  if (self->state == MGW_SESSION_CONNECTING)
    {
      g_autofree char *reason =
        g_strdup_printf ("default server '%s' unreachable: %s",
                         self->config->server_uri,
                         error ? error->message : "closed");
      session_log (self, G_LOG_LEVEL_WARNING, "%s", reason);
      set_reason (self, reason);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      mgw_session_end (self, N_("SERVER UNAVAILABLE, RETRY LATER"));
    }
  else if (self->state < MGW_SESSION_CLOSING)
    {
      g_autofree char *reason =
        g_strdup_printf ("default server closed%s%s",
                         error ? ": " : "", error ? error->message : "");
      set_reason (self, reason);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      mgw_session_end (self, N_("END SERVER CLOSED"));
    }
  maybe_finish (self);
  g_object_unref (self);
}

static void
target_opened_cb (MgwLink    *link,
                  MgwSession *self)
{
  if (self->state != MGW_SESSION_REDIRECTING)
    return;
  self->redirections++;
  if (self->recorder != NULL)
    mgw_recorder_mark_redirect (self->recorder, session_time (self), self->target_uri,
                                self->redirections);
  self->redirect_start = mgw_poller_now ();
  self->last_target = self->redirect_start;
  self->target_base_in = mgw_link_get_bytes_in (self->user);
  self->target_base_out = mgw_link_get_bytes_out (self->user);
  set_state (self, MGW_SESSION_REDIRECTED);
  session_log (self, G_LOG_LEVEL_MESSAGE, "redirected to '%s'", self->target_uri);
  tell_teletel_event (self, "UserRedirected", self->server_session);
  send_status (self, "CONNECT");
  arm_timeout (self);
}

static void
target_closed_cb (MgwLink      *link,
                  const GError *error,
                  MgwSession   *self)
{
  g_autofree char *why = NULL;

  g_object_ref (self);
  if (self->state == MGW_SESSION_REDIRECTING)
    {
      why = g_strdup_printf ("target unreachable: %s", error ? error->message : "closed");
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      end_redirection (self, why, N_("SERVICE UNAVAILABLE"));
      arm_timeout (self);
    }
  else if (self->state == MGW_SESSION_REDIRECTED)
    {
      why = g_strdup_printf ("target closed%s%s", error ? ": " : "",
                             error ? error->message : "");
      end_redirection (self, why, NULL);
      arm_timeout (self);
    }
  maybe_finish (self);
  g_object_unref (self);
}

/* Back-pressure: a congested queue stops reading on the other side. */
static void
user_congested_cb (MgwLink    *link,
                   GParamSpec *pspec,
                   MgwSession *self)
{
  gboolean congested = mgw_link_get_congested (link);

  if (self->server != NULL)
    mgw_link_set_paused (self->server, congested);
  if (self->target != NULL)
    mgw_link_set_paused (self->target, congested);
}

static void
upstream_congested_cb (MgwLink    *link,
                       GParamSpec *pspec,
                       MgwSession *self)
{
  mgw_link_set_paused (self->user, mgw_link_get_congested (link));
}

/* Opens `uri`, the default server or a redirect target: ws://, wss://,
 * telnet://host[:port] or tcp://host:port (raw). */
static MgwLink *
open_target (MgwSession       *self,
             const char       *uri,
             guint             ping,
             char            **protocols,
             MgwFrameType      frame_type,
             GError          **error)
{
  MgwLinkRequest request = {
    uri, (const char * const *) protocols, frame_type, ping, self->id, self->peer_address,
  };

  if (self->opener != NULL)
    return self->opener (self->opener_data, &request, error);
  return mgw_link_open (self->tls_database, self->config, &request, error);
}

/* A CONNECT from Teletel (docs/protocol.md, Command channel): values in
 * the command win over the target's profile. Fails, changing nothing,
 * when the session is not on the default server. */
gboolean
mgw_session_redirect (MgwSession        *self,
                      const MgwCommand  *command,
                      const MgwProfile  *profile,
                      gboolean           to_gateway,
                      GError           **error)
{
  g_autoptr(GError) local = NULL;
  char **protocols;
  guint ping;
  MgwFrameType frame_type;

  g_return_val_if_fail (MGW_IS_SESSION (self), FALSE);
  g_return_val_if_fail (command != NULL, FALSE);

  protocols = command->subprotocols;
  ping = command->ping;
  frame_type = self->config->server_frame_type;
  if (self->state != MGW_SESSION_TELETEL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   "session %u is %s, not on Teletel: CONNECT ignored", self->id,
                   mgw_session_state_to_string (self->state));
      return FALSE;
    }
  if (profile != NULL)
    {
      if (!command->has_ping && profile->has_ping)
        ping = profile->ping;
      if (protocols[0] == NULL && profile->subprotocols != NULL)
        protocols = profile->subprotocols;
      if (profile->has_frame_type)
        frame_type = profile->frame_type;
    }

  self->server_session = g_strdup (command->server_session);
  self->target_uri = g_strdup (command->uri);
  self->last_target = mgw_poller_now ();
  self->fin = profile ? profile->fin : MGW_FIN_GATEWAY;
  /* The target's own return sequences, or none, else the gateway's. */
  mgw_key_matcher_init (&self->keys,
                        profile != NULL && profile->has_return_keys ? &profile->return_keys :
                        self->config->has_return_keys ? &self->config->return_keys : NULL);
  tell_teletel_event (self, "UserGotCommand", command->raw);
  tell_teletel_event (self, "UserRedirecting", self->server_session);
  set_state (self, MGW_SESSION_REDIRECTING);
  session_log (self, G_LOG_LEVEL_MESSAGE, "redirecting to '%s'", command->uri);

  if (to_gateway)
    g_set_error (&local, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                 "'%s' is one of this gateway's own listeners", command->uri);
  if (local != NULL ||
      !mgw_redirect_policy_allows (self->config->redirect_allow, command->uri, &local))
    {
      session_log (self, G_LOG_LEVEL_WARNING, "redirection refused: %s", local->message);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      end_redirection (self, local->message, N_("SERVICE UNAVAILABLE"));
      arm_timeout (self);
      return TRUE;
    }
  self->target = open_target (self, command->uri, ping, protocols, frame_type, &local);
  if (self->target == NULL)
    {
      g_autofree char *why = g_strdup_printf ("cannot open the target: %s", local->message);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      end_redirection (self, why, N_("SERVICE UNAVAILABLE"));
      arm_timeout (self);
      return TRUE;
    }
  g_signal_connect (self->target, "opened", G_CALLBACK (target_opened_cb), self);
  g_signal_connect (self->target, "received", G_CALLBACK (target_received_cb), self);
  g_signal_connect (self->target, "closed", G_CALLBACK (target_closed_cb), self);
  g_signal_connect (self->target, "notify::congested",
                    G_CALLBACK (upstream_congested_cb), self);
  arm_timeout (self);
  return TRUE;
}

/* --- life cycle --- */

/* The default server: opened once the user is known not to be a
 * scanner; Teletel told of the user first. */
static void
connect_upstream (MgwSession *self)
{
  const MgwConfig *c = self->config;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) held = g_steal_pointer (&self->scan_held);

  stop_scanning (self);
  /* Raw users are Telnet users to Teletel (compat: the original knows
   * no other). */
  tell_teletel (self, mgw_command_new_user (self->access != MGW_ACCESS_WS,
                                            self->peer_address, self->peer_port,
                                            self->id));
  self->announced = TRUE;

  self->server = open_target (self, c->server_uri, c->server_ping, c->server_subprotocols,
                              c->server_frame_type, &error);
  if (self->server == NULL)
    {
      session_log (self, G_LOG_LEVEL_WARNING, "cannot open the default server: %s",
                   error->message);
      set_reason (self, error->message);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      mgw_session_end (self, N_("SERVER UNAVAILABLE, RETRY LATER"));
      return;
    }
  g_signal_connect (self->server, "opened", G_CALLBACK (server_opened_cb), self);
  g_signal_connect (self->server, "received", G_CALLBACK (server_received_cb), self);
  g_signal_connect (self->server, "closed", G_CALLBACK (server_closed_cb), self);
  g_signal_connect (self->server, "notify::congested",
                    G_CALLBACK (upstream_congested_cb), self);
  /* What the user typed meanwhile, in order, once the server is open. */
  if (held != NULL && held->len > 0)
    mgw_link_send_data (self->server, held->data, held->len);
  arm_timeout (self);
}

static void
stop_scanning (MgwSession *self)
{
  if (!self->scanning)
    return;
  self->scanning = FALSE;
  mgw_timer_stop (&self->scan_timeout);
  if (MGW_IS_LINK_TELNET (self->user))
    mgw_link_telnet_set_sniff (MGW_LINK_TELNET (self->user), NULL, NULL);
}

/* The user's first raw bytes, however split, until they decide: another
 * protocol's (the session ends, the address is banned: no upstream was
 * opened, Teletel was not told), or not (the upstream opens now, without
 * waiting for the rest of the window). */
static void
scan_sniff (gpointer      user_data,
            const guint8 *data,
            gsize         len)
{
  MgwSession *self = user_data;
  guint take = MIN (len, sizeof self->scan_probe - self->scan_probe_len);
  const char *protocol;

  memcpy (self->scan_probe + self->scan_probe_len, data, take);
  self->scan_probe_len += take;
  protocol = mgw_scanner_classify (self->scan_probe, self->scan_probe_len);
  if (protocol != NULL)
    {
      g_autofree char *rule = g_strdup_printf ("scanner-%s", protocol);
      g_autofree char *upper = g_ascii_strup (protocol, -1);
      /* The rule in the reason too: banned.json's sidecar keeps that. */
      g_autofree char *reason = g_strdup_printf ("%s: %s first on the %s port (a port scanner)",
                                                 rule, upper,
                                                 mgw_access_to_string (self->access));

      stop_scanning (self);
      abuse (self, rule, reason, TRUE);
      return;
    }
  if (!mgw_scanner_need_more (self->scan_probe, self->scan_probe_len))
    connect_upstream (self);
}

/* Nothing that decides came in time: a user who has not typed yet (a
 * Minitel sends nothing until a key is pressed). */
static void
scan_timeout_cb (gpointer user_data)
{
  MgwSession *self = user_data;

  if (self->scanning && self->state == MGW_SESSION_CONNECTING)
    connect_upstream (self);
}

void
mgw_session_start (MgwSession *self)
{
  const MgwConfig *c = self->config;
  const char *welcome = mgw_access_settings (self->access) == MGW_ACCESS_TELNET ?
                        c->telnet_welcome : c->ws_welcome;

  g_return_if_fail (self->state == MGW_SESSION_CONNECTING && self->server == NULL);
  session_log (self, G_LOG_LEVEL_MESSAGE, "started");
  self->started = TRUE;

  if (welcome != NULL && *welcome != '\0')
    send_text (self, welcome);
  if (c->scanner_wait_ms == 0 || !MGW_IS_LINK_TELNET (self->user))
    {
      connect_upstream (self);
      return;
    }
  self->scanning = TRUE;
  self->scan_held = g_byte_array_new ();
  mgw_link_telnet_set_sniff (MGW_LINK_TELNET (self->user), scan_sniff, self);
  mgw_timer_start (&self->scan_timeout, c->scanner_wait_ms);
  arm_timeout (self);
}

static void
release_link (MgwSession  *self,
              MgwLink    **link)
{
  if (*link == NULL)
    return;
  g_signal_handlers_disconnect_by_data (*link, self);
  mgw_link_close (*link, FALSE);
  g_clear_object (link);
}

static void
mgw_session_dispose (GObject *object)
{
  MgwSession *self = MGW_SESSION (object);

  mgw_timer_stop (&self->timeout);
  mgw_timer_stop (&self->sep_timeout);
  mgw_timer_stop (&self->keys_timeout);
  stop_scanning (self);
  if (self->recorder != NULL)
    {
      if (self->state < MGW_SESSION_CLOSING)
        mgw_recorder_finish (self->recorder, session_time (self),
                             self->end_reason != NULL ? self->end_reason : "closed");
      g_signal_handlers_disconnect_by_data (self->recorder, self);
      g_clear_object (&self->recorder);
    }
  release_link (self, &self->user);
  release_link (self, &self->server);
  release_link (self, &self->target);
  g_clear_object (&self->tls_database);
  g_clear_object (&self->command_link);
  G_OBJECT_CLASS (mgw_session_parent_class)->dispose (object);
}

static void
mgw_session_finalize (GObject *object)
{
  MgwSession *self = MGW_SESSION (object);

  g_clear_pointer (&self->dump, fclose);
  g_free (self->peer_address);
  g_free (self->end_reason);
  g_free (self->server_session);
  g_free (self->target_uri);
  g_clear_pointer (&self->scan_held, g_byte_array_unref);
  g_clear_pointer (&self->config, mgw_config_unref);
  G_OBJECT_CLASS (mgw_session_parent_class)->finalize (object);
}

static void
mgw_session_class_init (MgwSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mgw_session_dispose;
  object_class->finalize = mgw_session_finalize;

  /* (MgwSessionState old): the state changed; the new one is current. */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* (MgwTimeout which): emitted as a timeout fires. */
  signals[SIGNAL_TIMED_OUT] =
    g_signal_new ("timed-out", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* (const char *rule, const char *reason, gboolean ban): a rule caught
   * the user; the session ends after the emission. */
  signals[SIGNAL_ABUSE] =
    g_signal_new ("abuse", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_BOOLEAN);
  /* (data, length): bytes going to the user, emitted only while a
   * console or a D-Bus client watches the session. */
  signals[SIGNAL_USER_OUTPUT] =
    g_signal_new ("user-output", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_UINT);
  /* Watched or not any more. */
  signals[SIGNAL_WATCHED] =
    g_signal_new ("watched-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* Recorded or not any more, or its recording's id now known. */
  signals[SIGNAL_RECORDING_CHANGED] =
    g_signal_new ("recording-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* Every link is closed; the session is done. */
  signals[SIGNAL_ENDED] =
    g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mgw_session_init (MgwSession *self)
{
  self->state = MGW_SESSION_CONNECTING;
  mgw_timer_init (&self->timeout, timeout_cb, self);
  mgw_timer_init (&self->sep_timeout, sep_timeout_cb, self);
  mgw_timer_init (&self->keys_timeout, keys_timeout_cb, self);
  mgw_timer_init (&self->scan_timeout, scan_timeout_cb, self);
}

MgwSession *
mgw_session_new (guint           id,
                 MgwAccess       access,
                 MgwLink        *user,
                 const char     *peer_address,
                 guint16         peer_port,
                 MgwConfig      *config,
                 GTlsDatabase   *tls_database,
                 MgwCommandLink *command_link)
{
  MgwSession *self;
  g_autofree char *description = NULL;
  g_autofree char *peer = NULL;

  g_return_val_if_fail (MGW_IS_LINK (user), NULL);
  g_return_val_if_fail (peer_address != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (access < MGW_N_ACCESS, NULL);

  self = g_object_new (MGW_TYPE_SESSION, NULL);
  self->id = id;
  self->access = access;
  self->user = g_object_ref (user);
  self->peer_address = g_strdup (peer_address);
  self->peer_port = peer_port;
  self->config = mgw_config_ref (config);
  self->tls_database = tls_database ? g_object_ref (tls_database) : NULL;
  self->command_link = command_link ? g_object_ref (command_link) : NULL;
  self->start_wall = g_get_real_time ();
  self->start_mono = mgw_poller_now ();
  self->last_user = self->start_mono;
  self->last_server = self->start_mono;

  peer = mgw_address_with_port (peer_address, peer_port);
  description = g_strdup_printf ("session %u user %s", id, peer);
  mgw_link_set_description (user, description);
  mgw_link_set_session (user, id, peer_address);
  mgw_link_set_queue_limit (user, config->queue_limit);
  mgw_link_set_stall_timeout (user, config->stall_timeout);
  g_signal_connect (user, "received", G_CALLBACK (user_received_cb), self);
  g_signal_connect (user, "closed", G_CALLBACK (user_closed_cb), self);
  g_signal_connect (user, "notify::congested", G_CALLBACK (user_congested_cb), self);
  return self;
}

void
mgw_session_set_link_opener (MgwSession    *self,
                             MgwLinkOpener  opener,
                             gpointer       data)
{
  g_return_if_fail (MGW_IS_SESSION (self));
  g_return_if_fail (self->state == MGW_SESSION_CONNECTING && self->server == NULL);

  self->opener = opener;
  self->opener_data = data;
}

guint
mgw_session_get_id (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return self->id;
}

MgwAccess
mgw_session_get_access (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return self->access;
}

const char *
mgw_session_get_peer_address (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), NULL);

  return self->peer_address;
}

guint16
mgw_session_get_peer_port (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return self->peer_port;
}

MgwSessionState
mgw_session_get_state (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return self->state;
}

gint64
mgw_session_get_start_time (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return self->start_wall;
}

guint64
mgw_session_get_bytes_from_user (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return mgw_link_get_bytes_in (self->user);
}

guint64
mgw_session_get_bytes_to_user (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return mgw_link_get_bytes_out (self->user);
}

const char *
mgw_session_get_end_reason (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), NULL);

  return self->end_reason;
}

/* The user's bytes go to `path` (docs/protocol.md, Session dumps): peer
 * address, port, access and start time, one per line (CRLF), a line
 * "Input", then every byte received from the user. */
gboolean
mgw_session_set_dump (MgwSession  *self,
                      const char  *path,
                      GError     **error)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), FALSE);

  g_autoptr(GDateTime) second = g_date_time_new_from_unix_local (self->start_wall / G_USEC_PER_SEC);
  g_autoptr(GDateTime) start = g_date_time_add (second, self->start_wall % G_USEC_PER_SEC);
  g_autofree char *when = g_date_time_format (start, "%Y-%m-%d %H:%M:%S.%f");
  FILE *file = fopen (path, "wbx");

  if (file == NULL)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot create %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  fprintf (file, "%s\r\n%u\r\n%s\r\n%s\r\nInput\r\n", self->peer_address,
           self->peer_port, mgw_access_to_compat_string (self->access), when);
  g_clear_pointer (&self->dump, fclose);
  self->dump = file;
  return TRUE;
}

/* A watcher (a console, a D-Bus client) starts or stops mirroring what
 * the user receives; each counts. */
void
mgw_session_watch (MgwSession *self,
                   gboolean    watch)
{
  guint before;

  g_return_if_fail (MGW_IS_SESSION (self));

  before = self->watchers;

  if (watch)
    self->watchers++;
  else if (self->watchers > 0)
    self->watchers--;
  if ((before == 0) != (self->watchers == 0))
    {
      session_log (self, G_LOG_LEVEL_MESSAGE, "%s", self->watchers ? "watched"
                                                                   : "no longer watched");
      g_signal_emit (self, signals[SIGNAL_WATCHED], 0);
    }
}

gboolean
mgw_session_get_watched (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), FALSE);

  return self->watchers > 0;
}

/* The peer is not a trusted proxy: a PROXY header from it is refused. */
void
mgw_session_set_check_proxy (MgwSession *self,
                             gboolean    check)
{
  g_return_if_fail (MGW_IS_SESSION (self));

  self->check_proxy = check;
}

/* TRUE when the session ended because the user went away. */
gboolean
mgw_session_get_user_left (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), FALSE);

  return self->user_left;
}

gint64
mgw_session_get_duration (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return mgw_poller_now () - self->start_mono;
}

/* Frames and sequences refused from any of the session's peers. */
guint64
mgw_session_get_bad_input (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return mgw_link_get_bad_input (self->user) +
         (self->server ? mgw_link_get_bad_input (self->server) : 0) +
         (self->target ? mgw_link_get_bad_input (self->target) : 0);
}

guint
mgw_session_get_redirections (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return self->redirections;
}

const char *
mgw_session_get_target (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), NULL);

  return self->state == MGW_SESSION_REDIRECTED ? self->target_uri : NULL;
}

guint64
mgw_session_get_redirect_bytes_from_user (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return redirected (self) ? mgw_link_get_bytes_in (self->user) - self->target_base_in : 0;
}

guint64
mgw_session_get_redirect_bytes_to_user (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), 0);

  return redirected (self) ? mgw_link_get_bytes_out (self->user) - self->target_base_out : 0;
}

/* --- recording (docs/protocol.md, Session recordings) --- */

static void
recorder_ready_cb (MgwRecorder *recorder,
                   MgwSession  *self)
{
  session_log (self, G_LOG_LEVEL_MESSAGE, "recorded as %s", mgw_recorder_get_id (recorder));
  g_signal_emit (self, signals[SIGNAL_RECORDING_CHANGED], 0);
}

/* The recorder said why (once); the session goes on, not recorded. */
static void
recorder_failed_cb (MgwRecorder  *recorder,
                    const GError *error,
                    MgwSession   *self)
{
  g_signal_handlers_disconnect_by_data (recorder, self);
  g_clear_object (&self->recorder);
  g_signal_emit (self, signals[SIGNAL_RECORDING_CHANGED], 0);
}

/* Records the session from now on into `dir`, with the input and
 * max-size given: from its start (offset 0) when called before
 * mgw_session_start(). Its id comes with "recording-changed" once the
 * file is created. Fails when it is recorded already or ending. */
gboolean
mgw_session_start_recording (MgwSession         *self,
                             MgwRecorderPool    *pool,
                             const char         *dir,
                             MgwRecordingInput   input,
                             guint64             max_size,
                             GError            **error)
{
  MgwRecordingHeader header = { 0 };

  g_return_val_if_fail (MGW_IS_SESSION (self), FALSE);
  g_return_val_if_fail (pool != NULL && dir != NULL, FALSE);
  g_return_val_if_fail (input <= MGW_RECORDING_INPUT_DROP, FALSE);

  if (self->state >= MGW_SESSION_CLOSING)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("Session %u is ending"), self->id);
      return FALSE;
    }
  if (self->recorder != NULL)
    {
      const char *id = mgw_recorder_get_id (self->recorder);

      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("Session %u is already recorded (%s)"),
                   self->id, id != NULL ? id : _("its file is being created"));
      return FALSE;
    }
  header.session = self->id;
  header.peer = self->peer_address;
  header.port = self->peer_port;
  header.access = (char *) mgw_access_to_string (self->access);
  header.start = self->start_wall;
  header.offset = self->started ? session_time (self) : 0;
  header.input = input;
  header.max_size = max_size;
  self->recorder = mgw_recorder_new (pool, dir, &header);
  g_signal_connect (self->recorder, "ready", G_CALLBACK (recorder_ready_cb), self);
  g_signal_connect (self->recorder, "failed", G_CALLBACK (recorder_failed_cb), self);
  return TRUE;
}

/* An operator's: a `stop` mark ends the recording. */
gboolean
mgw_session_stop_recording (MgwSession  *self,
                            GError     **error)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), FALSE);

  if (self->state >= MGW_SESSION_CLOSING)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("Session %u is ending"), self->id);
      return FALSE;
    }
  if (self->recorder == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("Session %u is not recorded"), self->id);
      return FALSE;
    }
  session_log (self, G_LOG_LEVEL_MESSAGE, "recording %s stopped",
               mgw_recorder_get_id (self->recorder) ? mgw_recorder_get_id (self->recorder) : "");
  mgw_recorder_stop (self->recorder, session_time (self));
  g_signal_handlers_disconnect_by_data (self->recorder, self);
  g_clear_object (&self->recorder);
  g_signal_emit (self, signals[SIGNAL_RECORDING_CHANGED], 0);
  return TRUE;
}

/* The recording's id; NULL when not recorded, or until its file exists. */
const char *
mgw_session_get_recording (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), NULL);

  return self->recorder != NULL ? mgw_recorder_get_id (self->recorder) : NULL;
}

/* NULL when not recorded. */
MgwRecorder *
mgw_session_get_recorder (MgwSession *self)
{
  g_return_val_if_fail (MGW_IS_SESSION (self), NULL);

  return self->recorder;
}
