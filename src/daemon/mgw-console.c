/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-console.c: the admin text console ("display"; docs/protocol.md,
 * Admin console).
 *
 * A Telnet listener, loopback only unless configured otherwise (and then
 * with a warning), through the same MgwLinkTelnet as users and with their
 * negotiation (IAC WILL ECHO, IAC WILL SGA): a stock telnet client goes to
 * character mode, so a key acts without Enter and shows once (the
 * original's IAC DO ECHO alone left it in line mode). Enter is one key
 * however it is spelled: CR LF, CR NUL, CR or LF. Single-key commands,
 * each key echoed:
 *   h help, PIDs        i local addresses      t timeouts
 *   s sessions, totals  k stop Teletel         r start Teletel
 *   b bans              u unban (prompts)      d disconnect (prompts)
 *   w watch a session or replay a recording (prompts; any key stops)
 *   m message to a session or all (prompts)    c drain (prompts)
 *   o resume (open again after a drain)        q quit
 *   R record a session, or stop recording it (prompts; the recording's
 *     id is said once its file exists)
 *   l the recordings (the newest 50)           e their retention, now
 * Every console gets a trace line for each session start, end, timeout,
 * redirection and ban, and a drain's start and end. A console that does not read loses trace lines,
 * counted and reported to it: its queue is bounded and the gateway never
 * waits for it. */
#include "config.h"

#include "mgw-console.h"
#include "mgw-access.h"
#include "mgw-address-set.h"
#include "mgw-error.h"
#include "mgw-link-telnet.h"
#include "mgw-minitel.h"
#include "mgw-proc-net.h"
#include "mgw-replay.h"

#include <glib/gi18n.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONSOLE_QUEUE_LIMIT (256 * 1024)
#define CONSOLE_SNDBUF (64 * 1024)
#define MAX_SESSION_ROWS 50
#define MAX_BAN_ROWS 50
#define MAX_LINE 64

typedef enum {
  MODE_KEYS,
  MODE_PROMPT_UNBAN,
  MODE_PROMPT_DISCONNECT,
  MODE_PROMPT_WATCH,
  MODE_PROMPT_RECORD,
  MODE_WATCHING,
  MODE_PROMPT_MESSAGE_TO,
  MODE_PROMPT_MESSAGE,
  MODE_PROMPT_GRACE,
  MODE_PROMPT_DRAIN_TEXT,
} Mode;

#define MAX_GRACE_MIN (G_MAXUINT32 / 60)

typedef struct _ConsoleClient ConsoleClient;

struct _MgwConsole
{
  GObject         parent_instance;

  MgwGateway     *gateway;
  MgwTeletel     *teletel;
  GSocketService *service;
  guint16         port;
  GPtrArray      *clients;     /* of ConsoleClient */
};

struct _ConsoleClient
{
  MgwConsole *console;
  MgwLink    *link;
  char       *address;
  gint64      start;
  Mode        mode;
  GString    *line;
  gboolean    fresh_prompt;    /* nothing typed since the prompt */
  gboolean    after_cr;        /* an LF or NUL next is the same Enter */
  MgwSession *watched;
  MgwReplay  *replay;          /* a recording watched */
  MgwRecorder *awaited;        /* a recording asked for, its file not yet there */
  guint       awaited_session;
  guint64     lost;            /* trace lines not sent: queue full */
  gint64      message_to;      /* the session a message is for; -1: all */
  guint       grace_s;         /* the drain being asked for */
};

G_DEFINE_FINAL_TYPE (MgwConsole, mgw_console, G_TYPE_OBJECT)

/* Texts are written with "\n" (translators see no "\r"); a Telnet
 * terminal gets "\r\n". */
static char *
to_crlf (const char *text)
{
  GString *out = g_string_sized_new (strlen (text) + 8);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\n')
        g_string_append_c (out, '\r');
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static void
send_crlf (MgwLink    *link,
           const char *text)
{
  g_autofree char *crlf = to_crlf (text);

  mgw_link_send_data (link, (const guint8 *) crlf, strlen (crlf));
}

static void
say (ConsoleClient *client,
     const char    *text)
{
  send_crlf (client->link, text);
}

static void say_printf (ConsoleClient *client,
                        const char    *format,
                        ...) G_GNUC_PRINTF (2, 3);

static void
say_printf (ConsoleClient *client,
            const char    *format,
            ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  say (client, text);
}

/* Appends `text` padded to `width` characters (not bytes: translations
 * have accents), on the left when `width` is negative, then a space. */
static void
append_cell (GString    *line,
             const char *text,
             int         width)
{
  glong pad = ABS (width) - g_utf8_strlen (text, -1);

  if (width < 0)
    for (glong i = 0; i < pad; i++)
      g_string_append_c (line, ' ');
  g_string_append (line, text);
  if (width > 0)
    for (glong i = 0; i < pad; i++)
      g_string_append_c (line, ' ');
  g_string_append_c (line, ' ');
}

/* Sends a row of cells; no spaces at the end of the line. */
static void
say_row (ConsoleClient    *client,
         const int        *widths,
         const char *const *cells,
         gsize             n)
{
  g_autoptr(GString) line = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    append_cell (line, cells[i], i + 1 < n || widths[i] < 0 ? widths[i] : 0);
  g_string_truncate (line, line->len - 1);
  g_string_append (line, "\n");
  say (client, line->str);
}

static char *
local_time (gint64 usec)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (usec / G_USEC_PER_SEC);
  return dt ? g_date_time_format (dt, "%Y-%m-%d %H:%M:%S") : g_strdup ("?");
}

/* --- trace lines --- */

static void
trace (MgwConsole *self,
       const char *text)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = g_date_time_format (now, "%H:%M:%S");

  for (guint i = 0; i < self->clients->len; i++)
    {
      ConsoleClient *client = self->clients->pdata[i];

      /* A watching console shows a user's screen: no traces into it. A
       * console that does not read loses lines rather than slow anyone. */
      if (client->mode == MODE_WATCHING || mgw_link_get_congested (client->link))
        {
          client->lost++;
          continue;
        }
      if (client->lost > 0)
        {
          say_printf (client, g_dngettext (GETTEXT_PACKAGE,
                                           "[%llu trace line lost: the console did not keep up]\n",
                                           "[%llu trace lines lost: the console did not keep up]\n",
                                           client->lost),
                      (unsigned long long) client->lost);
          client->lost = 0;
        }
      say_printf (client, "[%s] %s\n", when, text);
    }
}

static void trace_printf (MgwConsole *self,
                          const char *format,
                          ...) G_GNUC_PRINTF (2, 3);

static void
trace_printf (MgwConsole *self,
              const char *format,
              ...)
{
  g_autofree char *text = NULL;
  va_list args;

  if (self->clients->len == 0)
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  trace (self, text);
}

static void
session_timed_out_cb (MgwSession *session,
                      int         which,
                      MgwConsole *self)
{
  trace_printf (self, _("session %u %s: timeout %s"), mgw_session_get_id (session),
                mgw_session_get_peer_address (session), mgw_timeout_to_string (which));
}

static void
session_state_cb (MgwSession *session,
                  int         old,
                  MgwConsole *self)
{
  if (mgw_session_get_state (session) == MGW_SESSION_REDIRECTED)
    trace_printf (self, _("session %u %s: redirected to %s"), mgw_session_get_id (session),
                  mgw_session_get_peer_address (session), mgw_session_get_target (session));
  else if (old == MGW_SESSION_REDIRECTED)
    trace_printf (self, _("session %u %s: back on Teletel"), mgw_session_get_id (session),
                  mgw_session_get_peer_address (session));
}

static void
session_added_cb (MgwGateway *gateway,
                  MgwSession *session,
                  MgwConsole *self)
{
  g_autofree char *peer = mgw_address_with_port (mgw_session_get_peer_address (session),
                                                 mgw_session_get_peer_port (session));

  /* TRANSLATORS: session number, address and port, access. */
  trace_printf (self, _("session %u %s (%s): start"), mgw_session_get_id (session), peer,
                mgw_access_to_string (mgw_session_get_access (session)));
  g_signal_connect_object (session, "timed-out", G_CALLBACK (session_timed_out_cb), self, 0);
  g_signal_connect_object (session, "state-changed", G_CALLBACK (session_state_cb), self, 0);
}

static void stop_watching (ConsoleClient *client);

static void
session_removed_cb (MgwGateway *gateway,
                    MgwSession *session,
                    MgwConsole *self)
{
  for (guint i = 0; i < self->clients->len; i++)
    {
      ConsoleClient *client = self->clients->pdata[i];
      if (client->watched == session)
        {
          stop_watching (client);
          say (client, _("\n[the watched session ended]\n"));
        }
    }
  trace_printf (self, _("session %u %s: end (%s) after %.1f s"), mgw_session_get_id (session),
                mgw_session_get_peer_address (session),
                mgw_session_get_end_reason (session) ? mgw_session_get_end_reason (session) : "?",
                mgw_session_get_duration (session) / 1e6);
}

static void
banned_cb (MgwBanList *bans,
           const char *address,
           const char *reason,
           MgwConsole *self)
{
  trace_printf (self, _("ban %s: %s"), address, reason);
}

static void
unbanned_cb (MgwBanList *bans,
             const char *address,
             const char *reason,
             MgwConsole *self)
{
  trace_printf (self, _("unban %s: %s"), address, reason);
}

static void
drain_changed_cb (MgwGateway *gateway,
                  MgwConsole *self)
{
  g_autofree char *end = NULL;

  if (!mgw_gateway_get_draining (gateway))
    {
      trace (self, _("drain over: users are admitted again"));
      return;
    }
  end = local_time (mgw_gateway_get_drain_deadline (gateway));
  trace_printf (self, _("draining: new users refused, the sessions end at %s"), end);
}

/* --- commands --- */

static void
show_help (ConsoleClient *client)
{
  MgwTeletel *teletel = client->console->teletel;

  say (client, _("h  this help\n"
                 "i  local addresses\n"
                 "t  timeouts\n"
                 "s  sessions and totals\n"
                 "k  stop the Teletel server\n"
                 "r  start the Teletel server again\n"
                 "b  bans\n"
                 "u  unban an address\n"
                 "d  disconnect a session\n"
                 "w  watch a session, or replay a recording (any key stops)\n"
                 "m  message to a session or to all, on their status line\n"
                 "c  drain: refuse new users, end the sessions after a grace\n"
                 "o  open again after a drain\n"
                 "R  record a session, or stop recording it\n"
                 "l  the recordings (the newest 50)\n"
                 "e  apply the recordings' retention now\n"
                 "q  quit\n"));
  say_printf (client, _("Gateway PID: %d\n"), (int) getpid ());
  if (teletel == NULL)
    say (client, _("Teletel server: no control backend configured\n"));
  else
    say_printf (client, _("Teletel server PID: %u (%s, backend %s)\n"),
                mgw_teletel_get_pid (teletel),
                mgw_teletel_state_to_string (mgw_teletel_get_state (teletel)),
                mgw_teletel_get_backend (teletel));
}

static void
show_addresses (ConsoleClient *client)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) local = mgw_local_addresses (&error);

  if (local == NULL)
    {
      say_printf (client, "%s\n", error->message);
      return;
    }
  say (client, _("Local addresses:\n"));
  for (guint i = 0; i + 1 < local->len; i += 2)
    say_printf (client, "  %-12s %s\n", (char *) local->pdata[i], (char *) local->pdata[i + 1]);
}

static void
show_timeouts (ConsoleClient *client)
{
  const MgwConfig *c = mgw_gateway_get_config (client->console->gateway);
  static const struct { const char *name; gsize offset; } rows[] = {
    { N_("user inactivity"), G_STRUCT_OFFSET (MgwConfig, user_inactivity) },
    { N_("session maximum"), G_STRUCT_OFFSET (MgwConfig, session_max) },
    { N_("default server inactivity"), G_STRUCT_OFFSET (MgwConfig, server_inactivity) },
    { N_("redirected inactivity"), G_STRUCT_OFFSET (MgwConfig, redirect_inactivity) },
    { N_("redirected maximum"), G_STRUCT_OFFSET (MgwConfig, redirect_max) },
  };
  g_autofree char *retry = NULL;
  g_autofree char *short_session = NULL;

  static const int widths[] = { 28, -10, -10 };
  const char *header[] = { _("Timeouts (s)"), "Telnet", "WS" };

  say_row (client, widths, header, G_N_ELEMENTS (header));
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      const guint *values = (const guint *) ((const guint8 *) c + rows[i].offset);
      g_autofree char *telnet = g_strdup_printf ("%u", values[MGW_ACCESS_TELNET]);
      g_autofree char *ws = g_strdup_printf ("%u", values[MGW_ACCESS_WS]);
      const char *cells[] = { _(rows[i].name), telnet, ws };

      say_row (client, widths, cells, G_N_ELEMENTS (cells));
    }
  retry = g_strdup_printf ("%u", c->command_retry_ms / 1000);
  short_session = g_strdup_printf ("%.3f", c->min_session_ms / 1000.0);
  say_row (client, widths, (const char *[]) { _("command channel retry"), retry }, 2);
  say_row (client, widths, (const char *[]) { _("short session ban below"), short_session }, 2);
}

static gint
compare_sessions (gconstpointer a,
                  gconstpointer b)
{
  guint ia = mgw_session_get_id ((MgwSession *) a);
  guint ib = mgw_session_get_id ((MgwSession *) b);
  return ia < ib ? -1 : ia > ib;
}

static void
show_sessions (ConsoleClient *client)
{
  MgwGateway *gw = client->console->gateway;
  g_autoptr(GList) sessions = g_list_sort (mgw_gateway_get_sessions (gw), compare_sessions);
  const MgwCounters *c = mgw_gateway_get_counters (gw);
  MgwBanList *bans = mgw_gateway_get_ban_list (gw);
  MgwCommandLink *link = mgw_gateway_get_command_link (gw);
  guint n = 0, total = g_list_length (sessions);

  static const int widths[] = { -4, -6, 39, -5, 6, 19, -9, -9, -3, -9, -9, 0 };
  const char *header[] = { "#", "id", _("address"), _("port"), _("access"), _("start"),
                           _("in"), _("out"), _("red"), _("red in"), _("red out"), _("target") };

  say_row (client, widths, header, G_N_ELEMENTS (header));
  for (GList *l = sessions; l != NULL && n < MAX_SESSION_ROWS; l = l->next, n++)
    {
      MgwSession *s = l->data;
      g_autofree char *start = local_time (mgw_session_get_start_time (s));
      const char *target = mgw_session_get_target (s);

      say_printf (client, "%4u %6u %-39s %5u %-6s %-19s %9" G_GUINT64_FORMAT " %9" G_GUINT64_FORMAT
                  " %3u %9" G_GUINT64_FORMAT " %9" G_GUINT64_FORMAT " %s\n",
                  n + 1, mgw_session_get_id (s), mgw_session_get_peer_address (s),
                  mgw_session_get_peer_port (s), mgw_access_to_string (mgw_session_get_access (s)),
                  start, mgw_session_get_bytes_from_user (s), mgw_session_get_bytes_to_user (s),
                  mgw_session_get_redirections (s), mgw_session_get_redirect_bytes_from_user (s),
                  mgw_session_get_redirect_bytes_to_user (s), target ? target : "-");
    }
  if (total > n)
    say_printf (client, g_dngettext (GETTEXT_PACKAGE,
                                     "... and %u more session (moipgwctl sessions lists them all)\n",
                                     "... and %u more sessions (moipgwctl sessions lists them all)\n",
                                     total - n),
                total - n);
  say_printf (client, _("Sessions: %u Telnet, %u WS; since start %llu Telnet, %llu WS\n"),
              mgw_gateway_get_n_sessions_by_access (gw, MGW_ACCESS_TELNET),
              mgw_gateway_get_n_sessions_by_access (gw, MGW_ACCESS_WS),
              (unsigned long long) c->sessions_total[MGW_ACCESS_TELNET],
              (unsigned long long) c->sessions_total[MGW_ACCESS_WS]);
  say_printf (client, _("Raw TCP sessions: %u; since start %llu\n"),
              mgw_gateway_get_n_sessions_by_access (gw, MGW_ACCESS_RAW),
              (unsigned long long) c->sessions_total[MGW_ACCESS_RAW]);
  say_printf (client, _("Redirections: %llu\n"), (unsigned long long) c->redirections);
  say_printf (client, _("Bans: %llu, unbans: %llu, banned now: %u\n"),
              (unsigned long long) mgw_ban_list_get_bans (bans),
              (unsigned long long) mgw_ban_list_get_unbans (bans),
              mgw_ban_list_get_size (bans));
  say (client, _("Timeouts:"));
  for (int t = 0; t < MGW_N_TIMEOUTS; t++)
    say_printf (client, " %s %" G_GUINT64_FORMAT, mgw_timeout_to_string (t), c->timeouts[t]);
  say (client, "\n");
  say_printf (client, _("Command channel: %s\n"),
              link == NULL ? _("disabled") :
              mgw_command_link_get_connected (link) ? _("connected") : _("not connected"));
  if (mgw_gateway_get_draining (gw))
    {
      g_autofree char *end = local_time (mgw_gateway_get_drain_deadline (gw));

      say_printf (client, _("Draining: yes, new users refused (%llu so far); the sessions end at %s\n"),
                  (unsigned long long) c->refused_draining, end);
    }
  else
    say (client, _("Draining: no\n"));
}

static void
show_bans (ConsoleClient *client)
{
  g_autoptr(GPtrArray) bans = mgw_ban_list_list (mgw_gateway_get_ban_list (client->console->gateway));

  if (bans->len == 0)
    {
      say (client, _("No bans.\n"));
      return;
    }
  say_row (client, (const int[]) { 39, 19, 19, 0 },
           (const char *[]) { _("address"), _("since"), _("expiry"), _("reason") }, 4);
  for (guint i = 0; i < bans->len && i < MAX_BAN_ROWS; i++)
    {
      MgwBan *ban = bans->pdata[i];
      g_autofree char *since = local_time (ban->since);
      g_autofree char *expiry = local_time (ban->expiry);

      say_printf (client, "%-39s %-19s %-19s %s\n", ban->address, since, expiry,
                  ban->reason ? ban->reason : "");
    }
  if (bans->len > MAX_BAN_ROWS)
    say_printf (client, g_dngettext (GETTEXT_PACKAGE,
                                     "... and %u more (moipgwctl bans lists them all)\n",
                                     "... and %u more (moipgwctl bans lists them all)\n",
                                     bans->len - MAX_BAN_ROWS),
                bans->len - MAX_BAN_ROWS);
}

/* An asynchronous command's answer goes to the client's link. */
typedef struct
{
  MgwConsole *console;
  MgwLink    *link;     /* the client may be gone when the job ends */
  gboolean    start;    /* Teletel: start, not stop */
} Job;

static Job *
job_new (ConsoleClient *client,
         gboolean       start)
{
  Job *job = g_new0 (Job, 1);

  job->console = g_object_ref (client->console);
  job->link = g_object_ref (client->link);
  job->start = start;
  return job;
}

static void
job_free (Job *job)
{
  g_object_unref (job->link);
  g_object_unref (job->console);
  g_free (job);
}

static void
teletel_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = job->start ? mgw_teletel_start_finish (MGW_TELETEL (source), result, &error)
                           : mgw_teletel_stop_finish (MGW_TELETEL (source), result, &error);
  g_autofree char *text = NULL;

  if (ok)
    text = job->start ? g_strdup_printf (_("Teletel server started, PID %u\n"),
                                         mgw_teletel_get_pid (MGW_TELETEL (source)))
                      : g_strdup (_("Teletel server stopped\n"));
  else
    text = g_strdup_printf (_("Teletel server: %s\n"), error->message);
  send_crlf (job->link, text);
  job_free (job);
}

static void
teletel_action (ConsoleClient *client,
                gboolean       start)
{
  Job *job;

  if (client->console->teletel == NULL)
    {
      say (client, _("No Teletel control backend is configured ([teletel] backend=)\n"));
      return;
    }
  job = job_new (client, start);
  say (client, start ? _("Starting the Teletel server...\n") : _("Stopping the Teletel server...\n"));
  if (start)
    mgw_teletel_start_async (client->console->teletel, NULL, teletel_done_cb, job);
  else
    mgw_teletel_stop_async (client->console->teletel, NULL, teletel_done_cb, job);
}

/* --- recordings: l lists them, e applies the retention --- */

#define MAX_RECORDING_ROWS 50

/* The newest MAX_RECORDING_ROWS, oldest first as the list comes. */
static void
recordings_listed_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Job *job = user_data;
  MgwRecordings *recordings = MGW_RECORDINGS (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = mgw_recordings_list_finish (recordings, result, &error);
  g_autoptr(GString) text = g_string_new (NULL);
  guint first;

  if (list == NULL)
    g_string_append_printf (text, _("Recordings: %s\n"), error->message);
  else if (list->len == 0)
    g_string_append (text, _("No recordings.\n"));
  else
    {
      first = list->len > MAX_RECORDING_ROWS ? list->len - MAX_RECORDING_ROWS : 0;
      if (first > 0)
        g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE,
                                                   "%u older one (moipgwctl recordings lists them all)\n",
                                                   "%u older ones (moipgwctl recordings lists them all)\n",
                                                   first), first);
      g_string_append_printf (text, "%-24s %-7s %-39s %10s %s\n", _("recording"), _("session"),
                              _("peer"), _("bytes"), _("last write"));
      for (guint i = first; i < list->len; i++)
        {
          MgwRecordingInfo *info = list->pdata[i];
          g_autofree char *when = local_time (info->modified);
          g_autofree char *id = g_strconcat (info->id,
                                             mgw_recordings_is_active (recordings, info->id) ? " *" : "",
                                             NULL);

          g_string_append_printf (text, "%-24s %-7u %-39s %10" G_GUINT64_FORMAT " %s\n", id,
                                  info->readable ? info->header.session : 0,
                                  info->readable ? info->header.peer : "-", info->size, when);
        }
    }
  send_crlf (job->link, text->str);
  job_free (job);
}

static void
recordings_expired_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *size = NULL;
  guint removed = 0;
  guint64 freed = 0;

  if (!mgw_recordings_expire_finish (MGW_RECORDINGS (source), result, &removed, &freed, &error))
    text = g_strdup_printf (_("Recordings: %s\n"), error->message);
  else
    {
      size = g_format_size_full (freed, G_FORMAT_SIZE_IEC_UNITS);
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u recording removed (%s).\n",
                                           "%u recordings removed (%s).\n", removed),
                              removed, size);
    }
  send_crlf (job->link, text);
  job_free (job);
}

static void
recordings_action (ConsoleClient *client,
                   gboolean       expire)
{
  MgwRecordings *recordings = mgw_gateway_get_recordings (client->console->gateway);

  if (recordings == NULL)
    {
      say (client, _("No recordings\n"));
      return;
    }
  if (expire)
    {
      g_message ("console %s: retention of the recordings", client->address);
      mgw_recordings_expire_async (recordings, NULL, recordings_expired_cb,
                                   job_new (client, FALSE));
    }
  else
    mgw_recordings_list_async (recordings, NULL, recordings_listed_cb, job_new (client, FALSE));
}

/* --- watching --- */

static void
user_output_cb (MgwSession    *session,
                const guint8  *data,
                guint          len,
                ConsoleClient *client)
{
  /* Read-only mirror: when the console lags, frames are skipped. */
  if (!mgw_link_get_congested (client->link))
    mgw_link_send_data (client->link, data, len);
}

static void
stop_watching (ConsoleClient *client)
{
  if (client->replay != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->replay, client);
      mgw_replay_stop (client->replay);
      g_clear_object (&client->replay);
      client->mode = MODE_KEYS;
    }
  if (client->watched == NULL)
    return;
  g_signal_handlers_disconnect_by_data (client->watched, client);
  mgw_session_watch (client->watched, FALSE);
  g_clear_object (&client->watched);
  client->mode = MODE_KEYS;
}

static gboolean
parse_id (const char *text,
          guint      *id)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &value, NULL))
    return FALSE;
  *id = (guint) value;
  return TRUE;
}

static void
stop_awaiting (ConsoleClient *client)
{
  if (client->awaited == NULL)
    return;
  g_signal_handlers_disconnect_by_data (client->awaited, client);
  g_clear_object (&client->awaited);
}

static void
awaited_ready_cb (MgwRecorder   *recorder,
                  ConsoleClient *client)
{
  if (client->mode != MODE_WATCHING)
    say_printf (client, _("Session %u recorded as %s\n"), client->awaited_session,
                mgw_recorder_get_id (recorder));
  stop_awaiting (client);
}

static void
awaited_failed_cb (MgwRecorder   *recorder,
                   const GError  *error,
                   ConsoleClient *client)
{
  if (client->mode != MODE_WATCHING)
    say_printf (client, _("Session %u cannot be recorded: %s\n"), client->awaited_session,
                error->message);
  stop_awaiting (client);
}

/* R: a session not recorded is from now on (its id said when its file
 * exists); a recorded one no longer is. */
static void
toggle_recording (ConsoleClient *client,
                  MgwSession    *session)
{
  guint id = mgw_session_get_id (session);
  g_autoptr(GError) error = NULL;

  if (mgw_session_get_recorder (session) != NULL)
    {
      g_autofree char *was = g_strdup (mgw_session_get_recording (session));

      if (!mgw_session_stop_recording (session, &error))
        say_printf (client, "%s\n", error->message);
      else
        {
          g_message ("console %s: session %u no longer recorded", client->address, id);
          say_printf (client, _("Session %u is no longer recorded (%s)\n"), id,
                      was != NULL ? was : "-");
        }
      return;
    }
  if (!mgw_gateway_record_session (client->console->gateway, session, &error))
    {
      say_printf (client, "%s\n", error->message);
      return;
    }
  g_message ("console %s: session %u recorded", client->address, id);
  say_printf (client, _("Recording session %u...\n"), id);
  stop_awaiting (client);
  client->awaited = g_object_ref (mgw_session_get_recorder (session));
  client->awaited_session = id;
  g_signal_connect (client->awaited, "ready", G_CALLBACK (awaited_ready_cb), client);
  g_signal_connect (client->awaited, "failed", G_CALLBACK (awaited_failed_cb), client);
}

static void
replay_finished_cb (MgwReplay     *replay,
                    const GError  *error,
                    ConsoleClient *client)
{
  stop_watching (client);
  if (error != NULL)
    say_printf (client, _("\n[the recording cannot be replayed: %s]\n"), error->message);
  else
    say (client, _("\n[end of the recording]\n"));
}

/* A recording, watched as the user saw it, at its pace (pauses cut to
 * two seconds: nobody watches a console sit idle for an hour). */
static void
watch_recording (ConsoleClient *client,
                 const char    *id)
{
  MgwRecordings *recordings = mgw_gateway_get_recordings (client->console->gateway);
  g_autoptr(GError) error = NULL;
  int fd = recordings != NULL ? mgw_recordings_open (recordings, id, &error) : -1;

  if (fd < 0)
    {
      say_printf (client, "%s\n", error != NULL ? error->message : _("No recordings"));
      return;
    }
  g_message ("console %s: replaying recording %s", client->address, id);
  say_printf (client, _("Replaying recording %s (press any key to stop)\n"), id);
  client->replay = mgw_replay_new (fd, client->link, 1, 2 * G_USEC_PER_SEC);
  client->mode = MODE_WATCHING;
  g_signal_connect (client->replay, "finished", G_CALLBACK (replay_finished_cb), client);
  mgw_replay_start (client->replay);
}

static void
prompt (ConsoleClient *client,
        Mode           mode,
        const char    *question)
{
  client->mode = mode;
  client->fresh_prompt = TRUE;
  g_string_truncate (client->line, 0);
  say (client, question);
}

/* The next question of a two-step command: its Enter is an answer, not
 * the key's own. */
static void
prompt_next (ConsoleClient *client,
             Mode           mode,
             const char    *question)
{
  prompt (client, mode, question);
  client->fresh_prompt = FALSE;
}

/* m: the session (an id, or * for all), then the text. */
static void
message_to (ConsoleClient *client,
            const char    *text)
{
  MgwGateway *gw = client->console->gateway;
  guint id;

  if (strcmp (text, "*") == 0)
    client->message_to = -1;
  else if (parse_id (text, &id) && mgw_gateway_lookup_session (gw, id) != NULL)
    client->message_to = id;
  else
    {
      say_printf (client, _("No session %s\n"), text);
      return;
    }
  prompt_next (client, MODE_PROMPT_MESSAGE, _("Message: "));
}

static void
message (ConsoleClient *client,
         const char    *text)
{
  MgwGateway *gw = client->console->gateway;
  g_autoptr(GError) error = NULL;
  MgwSession *session;
  guint told;

  if (!mgw_minitel_check_message (text, &error))
    {
      say_printf (client, "%s\n", error->message);
      return;
    }
  if (client->message_to < 0)
    {
      told = mgw_gateway_message (gw, text, NULL);
      g_message ("console %s: message to every session, %u told: %s", client->address, told, text);
      say_printf (client, g_dngettext (GETTEXT_PACKAGE, "%u session told\n",
                                       "%u sessions told\n", told), told);
      return;
    }
  session = mgw_gateway_lookup_session (gw, (guint) client->message_to);
  if (session == NULL || !mgw_session_message (session, text))
    {
      say_printf (client, _("Session %u is gone or ending: not told\n"), (guint) client->message_to);
      return;
    }
  g_message ("console %s: message to session %u: %s", client->address, (guint) client->message_to,
             text);
  say_printf (client, _("Session %u told\n"), (guint) client->message_to);
}

/* The drain asked for: client->grace_s, and text ("": the default). */
static void
drain (ConsoleClient *client,
       const char    *text)
{
  MgwGateway *gw = client->console->gateway;
  g_autoptr(GError) error = NULL;

  if (*text != '\0' && !mgw_minitel_check_message (text, &error))
    {
      say_printf (client, "%s\n", error->message);
      return;
    }
  g_message ("console %s: drain, grace %u s%s%s", client->address, client->grace_s,
             *text != '\0' ? ": " : "", text);
  mgw_gateway_drain (gw, client->grace_s, *text != '\0' ? text : NULL);
  if (client->grace_s == 0)
    say (client, _("Draining: new users are refused; the open sessions were ended\n"));
  else
    say_printf (client, g_dngettext (GETTEXT_PACKAGE,
                                     "Draining: new users are refused; the open sessions end in %u minute\n",
                                     "Draining: new users are refused; the open sessions end in %u minutes\n",
                                     client->grace_s / 60),
                client->grace_s / 60);
}

/* c: the grace, then the text (Enter: the default one). */
static void
drain_grace (ConsoleClient *client,
             const char    *text)
{
  guint64 minutes;

  if (!g_ascii_string_to_unsigned (text, 10, 0, MAX_GRACE_MIN, &minutes, NULL))
    {
      say_printf (client, _("Not a number of minutes: %s\n"), text);
      return;
    }
  client->grace_s = (guint) minutes * 60;
  if (minutes == 0)
    {
      drain (client, "");
      return;
    }
  prompt_next (client, MODE_PROMPT_DRAIN_TEXT, _("Message for the open sessions (Enter: the default one): "));
}

/* o */
static void
resume (ConsoleClient *client)
{
  if (!mgw_gateway_resume (client->console->gateway))
    {
      say (client, _("The gateway is not draining\n"));
      return;
    }
  g_message ("console %s: resume", client->address);
  say (client, _("Users are admitted again\n"));
}

static void
finish_prompt (ConsoleClient *client)
{
  MgwGateway *gw = client->console->gateway;
  g_autofree char *text = g_strstrip (g_strdup (client->line->str));
  Mode mode = client->mode;
  g_autoptr(GError) error = NULL;
  MgwSession *session = NULL;
  guint id;

  g_string_truncate (client->line, 0);
  client->mode = MODE_KEYS;
  say (client, "\n");
  /* An empty answer cancels, but for the drain's text: the default. */
  if (mode == MODE_PROMPT_DRAIN_TEXT)
    {
      drain (client, text);
      return;
    }
  if (*text == '\0')
    return;

  switch (mode)
    {
    case MODE_PROMPT_UNBAN:
      if (mgw_gateway_unban (gw, text, &error))
        say_printf (client, _("%s unbanned\n"), text);
      else
        say_printf (client, "%s\n", error->message);
      return;
    case MODE_PROMPT_MESSAGE_TO:
      message_to (client, text);
      return;
    case MODE_PROMPT_MESSAGE:
      message (client, text);
      return;
    case MODE_PROMPT_GRACE:
      drain_grace (client, text);
      return;
    case MODE_PROMPT_DISCONNECT:
    case MODE_PROMPT_WATCH:
    case MODE_PROMPT_DRAIN_TEXT:
    case MODE_KEYS:
    case MODE_WATCHING:
    default:
      break;
    }
  /* A recording's id has dashes, a session's none. */
  if (mode == MODE_PROMPT_WATCH && strchr (text, '-') != NULL)
    {
      watch_recording (client, text);
      return;
    }
  if (!parse_id (text, &id) || (session = mgw_gateway_lookup_session (gw, id)) == NULL)
    {
      say_printf (client, _("No session %s\n"), text);
      return;
    }
  if (mode == MODE_PROMPT_DISCONNECT)
    {
      g_message ("console %s: session %u disconnected", client->address, id);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      mgw_session_end (session, N_("DISCONNECTED BY THE OPERATOR"));
      say_printf (client, _("Session %u disconnected\n"), id);
      return;
    }
  if (mode == MODE_PROMPT_RECORD)
    {
      toggle_recording (client, session);
      return;
    }
  say_printf (client, _("Watching session %u (press any key to stop)\n"), id);
  client->watched = g_object_ref (session);
  client->mode = MODE_WATCHING;
  g_signal_connect (session, "user-output", G_CALLBACK (user_output_cb), client);
  mgw_session_watch (session, TRUE);
}

static void
client_free (ConsoleClient *client)
{
  stop_watching (client);
  stop_awaiting (client);
  g_signal_handlers_disconnect_by_data (client->link, client);
  mgw_link_close (client->link, FALSE);
  g_object_unref (client->link);
  g_string_free (client->line, TRUE);
  g_free (client->address);
  g_free (client);
}

static void
key (ConsoleClient *client,
     guint8         k)
{
  char echo[2] = { (char) k, 0 };

  if (client->mode == MODE_WATCHING)
    {
      stop_watching (client);
      say (client, _("\n[stopped watching]\n"));
      return;
    }
  if (client->mode != MODE_KEYS)
    {
      gboolean fresh = client->fresh_prompt;
      /* A message takes UTF-8 (checked when it is done), and more. */
      gboolean text = client->mode == MODE_PROMPT_MESSAGE ||
                      client->mode == MODE_PROMPT_DRAIN_TEXT;

      client->fresh_prompt = FALSE;
      /* An Enter straight after u, d, w, m, c or R is that key's own
       * (typed out of a line-mode habit), not an empty answer. */
      if (k == '\r' && fresh)
        return;
      if (k == '\r')
        finish_prompt (client);
      else if ((k == 0x7f || k == 0x08) && client->line->len > 0)
        {
          /* A whole character: a UTF-8 one's continuation bytes too. */
          gsize len = client->line->len - 1;

          while (text && len > 0 && (client->line->str[len] & 0xc0) == 0x80)
            len--;
          g_string_truncate (client->line, len);
          say (client, "\b \b");
        }
      else if (((k >= 0x20 && k < 0x7f) || (text && k >= 0x80)) &&
               client->line->len < (text ? MGW_MINITEL_MESSAGE_MAX : MAX_LINE))
        {
          g_string_append_c (client->line, (char) k);
          say (client, echo);
        }
      return;
    }
  if (k < 0x20)
    return;   /* Enter, controls */
  say (client, echo);
  say (client, "\n");
  switch (k)
    {
    case 'h': show_help (client); break;
    case 'i': show_addresses (client); break;
    case 't': show_timeouts (client); break;
    case 's': show_sessions (client); break;
    case 'k': teletel_action (client, FALSE); break;
    case 'r': teletel_action (client, TRUE); break;
    case 'b': show_bans (client); break;
    case 'u': prompt (client, MODE_PROMPT_UNBAN, _("Address to unban: ")); break;
    case 'd': prompt (client, MODE_PROMPT_DISCONNECT, _("Session to disconnect: ")); break;
    case 'w': prompt (client, MODE_PROMPT_WATCH, _("Session or recording to watch: ")); break;
    case 'm': prompt (client, MODE_PROMPT_MESSAGE_TO, _("Session to tell (its id, or * for all): ")); break;
    case 'c': prompt (client, MODE_PROMPT_GRACE, _("Drain: minutes before the sessions end (0: now): ")); break;
    case 'o': resume (client); break;
    case 'R': prompt (client, MODE_PROMPT_RECORD, _("Session to record (or stop recording): ")); break;
    case 'l': recordings_action (client, FALSE); break;
    case 'e': recordings_action (client, TRUE); break;
    case 'q':
      say (client, _("Bye.\n"));
      mgw_link_close (client->link, TRUE);
      break;
    default:
      say (client, _("Unknown key: press 'h' for help\n"));
    }
}

static void
received_cb (MgwLink       *link,
             const guint8  *data,
             guint          len,
             ConsoleClient *client)
{
  for (guint i = 0; i < len && mgw_link_get_state (link) == MGW_LINK_OPEN; i++)
    {
      guint8 k = data[i];

      /* Telnet's Enter is CR LF or CR NUL (RFC 854), possibly split
       * between reads; some clients send a lone CR or LF. One Enter, so
       * that an LF does not also answer a prompt or stop watching. */
      if (client->after_cr && (k == '\n' || k == '\0'))
        {
          client->after_cr = FALSE;
          continue;
        }
      client->after_cr = k == '\r';
      key (client, k == '\n' ? '\r' : k);
    }
}

static guint
find_client (MgwConsole    *self,
             ConsoleClient *client)
{
  guint index = 0;

  g_assert (g_ptr_array_find (self->clients, client, &index));
  return index;
}

static gboolean
free_client_idle (gpointer data)
{
  client_free (data);
  return G_SOURCE_REMOVE;
}

static void
closed_cb (MgwLink       *link,
           const GError  *error,
           ConsoleClient *client)
{
  MgwConsole *self = client->console;
  gint64 duration = g_get_monotonic_time () - client->start;

  g_message ("console %s: closed after %.1f s", client->address, duration / 1e6);
  /* Console sessions follow the short-session rule too. */
  mgw_gateway_judge_short_session (self->gateway, client->address, duration, "console session");
  /* The closing may come from inside a command still writing to this
   * client (its queue overflowed): free it once that is over. */
  stop_watching (client);
  g_ptr_array_steal_index_fast (self->clients, find_client (self, client));
  g_idle_add_full (G_PRIORITY_DEFAULT, free_client_idle, client, NULL);
}

/* Callers pass addresses normalized (mgw_address_normalize ()): a
 * connection from 127.0.0.1 to a console on "::" comes from
 * ::ffff:127.0.0.1, loopback too. */
static gboolean
is_loopback (const char *address)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  return inet != NULL && g_inet_address_get_is_loopback (inet);
}

/* The owner of the socket at the other end of `connection` (on
 * loopback, the kernel's socket table knows it): the socket whose
 * addresses and ports are ours reversed, never our own (by its inode),
 * and no answer when two users' sockets claim the same tuple. */
static MgwTcpPeer
peer_uid (GSocketConnection *connection,
          guint             *uid)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  MgwTcpEndpoint ours, theirs;
  struct stat st;

  if (local == NULL || remote == NULL || !mgw_tcp_endpoint_set (&ours, local) ||
      !mgw_tcp_endpoint_set (&theirs, remote) || fstat (g_socket_get_fd (socket), &st) < 0)
    return MGW_TCP_PEER_UNKNOWN;
  return mgw_proc_net_find_peer (&ours, &theirs, (guint64) st.st_ino, uid);
}

/* The console can do what the D-Bus methods reserved to root and the
 * moipgw group do: on loopback, where the kernel's socket table names the
 * user at the other end, the same rule applies. (A console configured on
 * other addresses cannot know who connects: that is the operator's
 * explicit, logged choice.) */
static gboolean
peer_allowed (GSocketConnection *connection,
              char             **who)
{
  struct passwd *pw;
  guint uid = 0;

  switch (peer_uid (connection, &uid))
    {
    case MGW_TCP_PEER_UNKNOWN:
      *who = g_strdup ("an unknown user");
      return FALSE;
    case MGW_TCP_PEER_AMBIGUOUS:
      *who = g_strdup ("an unknown user (sockets of several users match the connection)");
      return FALSE;
    case MGW_TCP_PEER_FOUND:
    default:
      break;
    }
  if (mgw_access_is_admin (uid))
    return TRUE;
  pw = getpwuid ((uid_t) uid);
  *who = pw ? g_strdup (pw->pw_name) : g_strdup_printf ("uid %u", uid);
  return FALSE;
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             MgwConsole        *self)
{
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  GInetAddress *inet = G_IS_INET_SOCKET_ADDRESS (remote) ?
                       g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)) : NULL;
  g_autofree char *address = inet ? g_inet_address_to_string (inet) : g_strdup ("unknown");
  g_autofree char *normal = mgw_address_normalize (address);
  ConsoleClient *client;

  if (normal != NULL)
    {
      g_free (address);
      address = g_steal_pointer (&normal);
    }
  if (mgw_ban_list_check (mgw_gateway_get_ban_list (self->gateway), address))
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  if (inet != NULL && is_loopback (address))
    {
      g_autofree char *who = NULL;

      if (!peer_allowed (connection, &who))
        {
          static const char refusal[] =
            N_("Permission denied: only root and members of the moipgw group may use the console.\n");
          g_autofree char *text = to_crlf (_(refusal));

          g_message ("console: %s refused (not root, not in group moipgw)", who);
          g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                     text, strlen (text), NULL, NULL, NULL);
          g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
          return TRUE;
        }
    }
  client = g_new0 (ConsoleClient, 1);
  client->console = self;
  client->address = g_steal_pointer (&address);
  client->start = g_get_monotonic_time ();
  client->line = g_string_new (NULL);
  /* A console needs little kernel buffer; its bounded queue does the
   * rest (and tells it what it lost). */
  g_socket_set_option (g_socket_connection_get_socket (connection), SOL_SOCKET, SO_SNDBUF,
                       CONSOLE_SNDBUF, NULL);
  client->link = mgw_link_telnet_new_server (G_IO_STREAM (connection), MGW_TELNET_START_WILL_ECHO);
  mgw_link_set_queue_limit (client->link, CONSOLE_QUEUE_LIMIT);
  mgw_link_set_description (client->link, "console");
  g_signal_connect (client->link, "received", G_CALLBACK (received_cb), client);
  g_signal_connect (client->link, "closed", G_CALLBACK (closed_cb), client);
  g_ptr_array_add (self->clients, client);
  g_message ("console %s: connected", client->address);
  say (client, "Welcome to PyMoIP Telnet/WS gateway [display] (press 'h' for Help)\n");
  return TRUE;
}

gboolean
mgw_console_start (MgwConsole  *self,
                   GError     **error)
{
  MgwConfig *config;
  GSocketListener *listener;
  char **addresses;
  guint16 port;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (MGW_IS_CONSOLE (self), FALSE);

  config = mgw_gateway_get_config (self->gateway);
  addresses = config->console_addresses;
  port = config->display_port;

  if (config->display_port == MGW_PORT_OFF)
    return TRUE;
  self->service = g_socket_service_new ();
  listener = G_SOCKET_LISTENER (self->service);
  if (addresses == NULL)
    {
      g_warning ("the admin console listens on every address: anyone who reaches port %d "
                 "controls the gateway", config->display_port);
      port = port ? (g_socket_listener_add_inet_port (listener, port, NULL, &local) ? port : 0)
                  : g_socket_listener_add_any_inet_port (listener, NULL, &local);
    }
  for (guint i = 0; addresses != NULL && addresses[i] != NULL && local == NULL; i++)
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (addresses[i]);
      g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (inet, port);
      g_autoptr(GSocketAddress) effective = NULL;

      if (!is_loopback (addresses[i]))
        g_warning ("the admin console listens on %s, not loopback: anyone who reaches it "
                   "controls the gateway", addresses[i]);
      if (g_socket_listener_add_address (listener, addr, G_SOCKET_TYPE_STREAM,
                                         G_SOCKET_PROTOCOL_TCP, NULL, &effective, &local))
        port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
    }
  if (local != NULL || port == 0)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   "cannot listen for the admin console on port %d: %s", config->display_port,
                   local ? local->message : "no address");
      return FALSE;
    }
  self->port = port;
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_signal_connect_object (self->gateway, "session-added", G_CALLBACK (session_added_cb), self, 0);
  g_signal_connect_object (self->gateway, "session-removed", G_CALLBACK (session_removed_cb), self, 0);
  g_signal_connect_object (self->gateway, "drain-changed", G_CALLBACK (drain_changed_cb), self, 0);
  g_signal_connect_object (mgw_gateway_get_ban_list (self->gateway), "banned",
                           G_CALLBACK (banned_cb), self, 0);
  g_signal_connect_object (mgw_gateway_get_ban_list (self->gateway), "unbanned",
                           G_CALLBACK (unbanned_cb), self, 0);
  g_socket_service_start (self->service);
  g_message ("listening for the admin console on port %u", port);
  return TRUE;
}

guint16
mgw_console_get_port (MgwConsole *self)
{
  g_return_val_if_fail (MGW_IS_CONSOLE (self), 0);

  return self->port;
}

guint
mgw_console_get_n_clients (MgwConsole *self)
{
  g_return_val_if_fail (MGW_IS_CONSOLE (self), 0);

  return self->clients->len;
}

static void
mgw_console_dispose (GObject *object)
{
  MgwConsole *self = MGW_CONSOLE (object);

  if (self->service != NULL)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }
  g_clear_pointer (&self->clients, g_ptr_array_unref);
  g_clear_object (&self->teletel);
  g_clear_object (&self->gateway);
  G_OBJECT_CLASS (mgw_console_parent_class)->dispose (object);
}

static void
mgw_console_class_init (MgwConsoleClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mgw_console_dispose;
}

static void
mgw_console_init (MgwConsole *self)
{
  self->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
}

MgwConsole *
mgw_console_new (MgwGateway *gateway,
                 MgwTeletel *teletel)
{
  MgwConsole *self;

  g_return_val_if_fail (MGW_IS_GATEWAY (gateway), NULL);
  g_return_val_if_fail (teletel == NULL || MGW_IS_TELETEL (teletel), NULL);

  self = g_object_new (MGW_TYPE_CONSOLE, NULL);
  self->gateway = g_object_ref (gateway);
  self->teletel = teletel ? g_object_ref (teletel) : NULL;
  return self;
}
