/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-gateway.c: the gateway object.
 *
 * Owns the listeners (Telnet, WebSocket and raw TCP, each an MgwListener), the
 * TLS database upstream wss:// links and the command channel trust
 * ([tls] ca-file; none: the system's), the sessions by id and the
 * counters. A
 * new connection becomes a user link (a WebSocket one after its upgrade
 * request is read and accepted), then a session. The operator's actions
 * on all sessions are here too: a message to them, and the drain (no
 * new users, the open sessions ended after a grace: one timer in the
 * poller). */
#include "config.h"

#include "mgw-gateway.h"
#include "mgw-admission.h"
#include "mgw-error.h"
#include "mgw-link-telnet.h"
#include "mgw-link-ws.h"
#include "mgw-listener.h"
#include "mgw-local-addresses.h"
#include "mgw-minitel.h"
#include "mgw-poller.h"
#include "mgw-profiles.h"
#include "mgw-proxy.h"
#include "mgw-proxy-reader.h"
#include "mgw-redirect-policy.h"
#include "mgw-replay.h"
#include "mgw-web.h"
#include "mgw-uri.h"
#include "mgw-throttle.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>


struct _MgwGateway
{
  GObject           parent_instance;

  MgwConfig        *config;
  GTlsDatabase     *tls_database;   /* [tls] ca-file; NULL: the system default */
  MgwCommandLink   *command_link;   /* NULL: disabled */
  MgwProfiles      *profiles;
  MgwBanList       *bans;
  MgwPacer         *pacer;          /* the shared tick of paced users */
  MgwAddressSet    *never_ban;
  MgwAddressSet    *local;
  MgwAddressSet    *trusted;        /* proxies allowed to name the client */
  MgwLegacyConfig  *legacy;         /* GatewayConfig.json */
  MgwAdmission     *admission;      /* bans, caps, room in open files */
  MgwWeb           *web;            /* plain HTTP on the WebSocket port ([web]) */
  MgwRecordings    *recordings;     /* <state-dir>/recordings */
  MgwAddressSet    *replay_from;    /* [recording] replay-from: who may watch /replay/ID */
  GHashTable       *replays;        /* MgwLink -> MgwReplay, over the WebSocket port */
  guint             expire_id;      /* recordings' retention, every 10 minutes */
  MgwRecorderPool  *recorders;      /* what the sessions' recorders share */
  char             *recordings_dir; /* <state-dir>/recordings; NULL: recordings off */
  guint             sweep_id;
  MgwLocalAddresses *local_watch;   /* keeps `local` current */
  MgwListener      *telnet_listener;
  MgwListener      *ws_listener;
  MgwListener      *ws_tls_listener;
  MgwListener      *raw_listener;   /* raw TCP users: no telnet */
  GHashTable       *handshakes;     /* WebSocket upgrades: MgwLink -> Upgrade */
  MgwTlsHandshakes *tls_handshakes; /* wss:// connections before their upgrade */
  MgwTlsIdentity   *tls_identity;   /* the certificate in force; NULL: no wss:// */
  char             *tls_problem;    /* why the last reload kept it; NULL: none */
  guint16           telnet_port;
  guint16           ws_port;
  guint16           ws_tls_port;
  guint16           raw_port;
  GArray           *own_ports;      /* guint16: console, metrics */
  char            **restart_pending; /* keys a reload read but could not apply */

  GHashTable       *sessions;      /* id -> MgwSession */
  guint64           ended_bad_input;
  gint64            start_time;     /* µs since the epoch */
  guint             targets;        /* redirect targets open (one fd each) */
  guint             trim_id;
  guint             next_id;
  guint             n_by_access[MGW_N_ACCESS];
  MgwCounters       counters;
  gboolean          draining;
  gint64            drain_deadline; /* µs since the epoch; 0: not draining */
  MgwTimer          drain_timer;    /* the grace, in the poller */
};

G_DEFINE_FINAL_TYPE (MgwGateway, mgw_gateway, G_TYPE_OBJECT)

enum {
  SIGNAL_SESSION_ADDED,
  SIGNAL_SESSION_REMOVED,
  SIGNAL_DRAIN_CHANGED,
  SIGNAL_RECORDING_CLOSED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
session_timed_out_cb (MgwSession *session,
                      int         which,
                      MgwGateway *self)
{
  if (which >= 0 && which < MGW_N_TIMEOUTS)
    self->counters.timeouts[which]++;
}

static void
ban (MgwGateway *self,
     const char *address,
     const char *reason,
     const char *rule)
{
  g_autoptr(GError) error = NULL;

  if (!mgw_ban_list_ban (self->bans, address, reason, rule, &error))
    g_info ("not banning %s (%s, rule %s): %s", address, reason, rule, error->message);
}

static gboolean
has_target (int state)
{
  return state == MGW_SESSION_REDIRECTING || state == MGW_SESSION_REDIRECTED;
}

static void
session_state_cb (MgwSession *session,
                  int         old,
                  MgwGateway *self)
{
  int state = mgw_session_get_state (session);

  if (state == MGW_SESSION_REDIRECTED)
    self->counters.redirections++;
  if (has_target (state) && !has_target (old))
    self->targets++;
  else if (!has_target (state) && has_target (old) && self->targets > 0)
    self->targets--;
}

static void
session_abuse_cb (MgwSession *session,
                  const char *rule,
                  const char *reason,
                  gboolean    do_ban,
                  MgwGateway *self)
{
  if (g_strcmp0 (rule, "untrusted-proxy") == 0)
    self->counters.proxy_refused++;
  else if (g_str_has_prefix (rule, "scanner-"))
    self->counters.scanners++;
  if (do_ban)
    ban (self, mgw_session_get_peer_address (session), reason, rule);
}

static gboolean
trim_cb (gpointer user_data)
{
  MgwGateway *self = user_data;

  self->trim_id = 0;
  malloc_trim (0);
  return G_SOURCE_REMOVE;
}

static void
session_ended_cb (MgwSession *session,
                  MgwGateway *self)
{
  guint id = mgw_session_get_id (session);

  const char *address = mgw_session_get_peer_address (session);
  gint64 duration = mgw_session_get_duration (session);

  g_object_ref (session);
  g_signal_handlers_disconnect_by_data (session, self);
  self->ended_bad_input += mgw_session_get_bad_input (session);
  if (g_hash_table_remove (self->sessions, GUINT_TO_POINTER (id)))
    {
      self->n_by_access[mgw_session_get_access (session)]--;
      mgw_admission_count (self->admission, address, -1);
      g_signal_emit (self, signals[SIGNAL_SESSION_REMOVED], 0, session);
    }
  /* Give freed memory back to the system once everyone has left. */
  if (g_hash_table_size (self->sessions) == 0 && self->trim_id == 0)
    self->trim_id = g_idle_add (trim_cb, self);
  /* A user who leaves at once is most likely a port scanner. */
  if (mgw_session_get_user_left (session))
    mgw_gateway_judge_short_session (self, address, duration, "session");
  g_object_unref (session);
}

/* Bytes a second to a user: [telnet]/[websocket] baud, else the
 * original's LimitTcpSpeed/LimitWsSpeed; 0: no limit. */
static double
user_rate (MgwGateway *self,
           MgwAccess   access)
{
  access = mgw_access_settings (access);
  if (self->config->baud[access] > 0)
    return mgw_throttle_rate_from_baud (self->config->baud[access]);
  return mgw_throttle_rate_from_limit (access == MGW_ACCESS_TELNET ?
                                       mgw_legacy_config_get_limit_tcp_speed (self->legacy) :
                                       mgw_legacy_config_get_limit_ws_speed (self->legacy));
}

static char *
dump_dir (MgwGateway *self)
{
  const char *path = mgw_legacy_config_get_dump_path (self->legacy);

  return path != NULL && *path != '\0' ? g_strdup (path)
                                       : g_build_filename (self->config->state_dir, "dumps", NULL);
}

static void
start_dump (MgwGateway *self,
            MgwSession *session)
{
  g_autofree char *dir = dump_dir (self);
  g_autofree char *name = g_strdup_printf ("DumpData_%" G_GUINT64_FORMAT "_%u.dmp",
                                           mgw_legacy_config_get_exec_count (self->legacy),
                                           mgw_session_get_id (session));
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  if (g_mkdir_with_parents (dir, 0700) < 0 ||
      !mgw_session_set_dump (session, path, &error))
    g_warning ("session %u: no dump: %s", mgw_session_get_id (session),
               error ? error->message : g_strerror (errno));
}

static MgwSession *
add_session (MgwGateway *self,
             MgwAccess   access,
             MgwLink    *user,
             const char *address,
             guint16     port,
             gboolean    trusted)
{
  g_autoptr(MgwSession) session = NULL;
  g_autoptr(GError) error = NULL;
  guint id = self->next_id++;

  session = mgw_session_new (id, access, user, address, port, self->config,
                             self->tls_database, self->command_link);
  g_hash_table_insert (self->sessions, GUINT_TO_POINTER (id),
                       g_object_ref (session));
  self->n_by_access[access]++;
  self->counters.sessions_total[access]++;
  mgw_admission_count (self->admission, address, +1);
  mgw_link_set_rate (user, user_rate (self, access), self->pacer);
  mgw_session_set_check_proxy (session,
                               mgw_access_settings (access) == MGW_ACCESS_TELNET && !trusted);
  if (mgw_legacy_config_get_dump_data (self->legacy))
    start_dump (self, session);
  /* From its start, with the settings in force now. */
  if (self->config->recording_enabled && self->recordings_dir != NULL &&
      !mgw_gateway_record_session (self, session, &error))
    g_warning ("session %u: not recorded: %s", id, error->message);
  g_signal_connect (session, "timed-out", G_CALLBACK (session_timed_out_cb), self);
  g_signal_connect (session, "abuse", G_CALLBACK (session_abuse_cb), self);
  g_signal_connect (session, "state-changed", G_CALLBACK (session_state_cb), self);
  g_signal_connect (session, "ended", G_CALLBACK (session_ended_cb), self);
  g_signal_emit (self, signals[SIGNAL_SESSION_ADDED], 0, session);
  mgw_session_start (session);
  return session;
}

/* The kernel's send buffer for a user: far more than a Minitel displays
 * in a round trip, small enough that a user who stops reading fills it
 * at once (then the session's queue, then [session] stall-timeout) and
 * that the kernel holds little for each user. Without it, autotuning lets
 * it grow to megabytes. */
#define USER_SNDBUF (64 * 1024)

/* Keystrokes and short screens must not wait for Nagle's algorithm
 * (40 ms). A user whose machine or network vanished without a word (a
 * half-open connection) is found by TCP keepalive: probed after 2 min of
 * silence, dropped after 5 unanswered probes 15 s apart, rather than the
 * kernel's default of more than 2 h. */
static void
tune_socket (GSocket *socket)
{
  g_socket_set_keepalive (socket, TRUE);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_KEEPIDLE, 120, NULL);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_KEEPINTVL, 15, NULL);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_KEEPCNT, 5, NULL);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  g_socket_set_option (socket, SOL_SOCKET, SO_SNDBUF, USER_SNDBUF, NULL);
}

/* --- admission (mgw-admission.c decides) --- */

/* Descriptors the users hold, estimated without a system call: each
 * session its user's and its default server's, a redirection one more,
 * an upgrade under way one. */
static guint
user_fds (MgwGateway *self)
{
  return 2 * g_hash_table_size (self->sessions) + self->targets +
         g_hash_table_size (self->handshakes) + mgw_tls_handshakes_get_pending (self->tls_handshakes);
}

/* --- Telnet and raw TCP listeners --- */

/* Users of the Telnet port: raw with [telnet] negotiation=none. */
static MgwAccess
telnet_port_access (MgwGateway *self)
{
  return self->config->telnet_start == MGW_TELNET_START_NONE ? MGW_ACCESS_RAW
                                                              : MGW_ACCESS_TELNET;
}

/* A user over TCP: Telnet, or raw (no codec: nothing sent of the
 * gateway's own, every byte data). */
static void
admit_tcp_user (MgwGateway        *self,
                MgwAccess          access,
                GSocketConnection *connection,
                const char        *address,
                guint16            port,
                gboolean           trusted,
                const guint8      *initial,
                gsize              initial_len)
{
  g_autoptr(MgwLink) link = NULL;
  const char *full;
  MgwSession *session;

  tune_socket (g_socket_connection_get_socket (connection));
  link = access == MGW_ACCESS_RAW ?
         mgw_link_telnet_new_raw_server (G_IO_STREAM (connection)) :
         mgw_link_telnet_new_server (G_IO_STREAM (connection), self->config->telnet_start);
  full = mgw_admission_refuse_full (self->admission, address,
                                    g_hash_table_size (self->sessions), user_fds (self));
  if (full != NULL)
    {
      mgw_admission_turn_away (self->admission, link, address, full);
      return;
    }
  session = add_session (self, access, link, address, port, trusted);
  mgw_link_telnet_feed (MGW_LINK_TELNET (link), initial, initial_len);
  (void) session;
}

/* A Telnet or raw user whose address a trusted proxy gave: checked for
 * bans and its connection rate now. */
static void
admit_tcp (MgwGateway        *self,
           MgwAccess          access,
           GSocketConnection *connection,
           const char        *address,
           guint16            port,
           gboolean           trusted,
           const guint8      *initial,
           gsize              initial_len)
{
  if (mgw_admission_is_banned (self->admission, address, access) ||
      mgw_admission_refuse_rate (self->admission, address, access))
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return;
    }
  admit_tcp_user (self, access, connection, address, port, trusted, initial, initial_len);
}

/* A trusted proxy said whose connection it is (mgw-proxy-reader.c);
 * data: the listener's MgwAccess. */
static void
proxy_admit (GObject           *owner,
             GSocketConnection *connection,
             const char        *address,
             guint16            port,
             const guint8      *initial,
             gsize              initial_len,
             gpointer           data)
{
  admit_tcp (MGW_GATEWAY (owner), GPOINTER_TO_INT (data), connection, address, port, TRUE,
             initial, initial_len);
}

static void
proxy_refuse (GObject    *owner,
              const char *address,
              const char *why)
{
  MGW_GATEWAY (owner)->counters.proxy_refused++;
}

/* An accepted descriptor the gateway takes, wrapped for GIO. */
static GSocketConnection *
accepted_connection (int         fd,
                     const char *address,
                     const char *what)
{
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection = mgw_socket_connection_new_from_fd (fd, &error);

  if (connection == NULL)
    g_message ("%s connection from %s: %s", what, address, error->message);
  return connection;
}

/* A Telnet or raw connection accepted. A banned address is closed at
 * once, as a bare descriptor: a flood of them costs no object, no
 * session, no upstream. A trusted proxy's connection first says whose
 * it is. */
static void
tcp_accept (MgwGateway *self,
            MgwAccess   access,
            int         fd,
            const char *address,
            guint16     port)
{
  g_autoptr(GSocketConnection) connection = NULL;
  gboolean trusted = mgw_admission_is_trusted (self->admission, address);

  if (mgw_admission_refuse_accept (self->admission, address, access, user_fds (self)))
    {
      close (fd);
      return;
    }
  connection = accepted_connection (fd, address, mgw_access_to_string (access));
  if (connection == NULL)
    return;
  if (trusted)
    {
      mgw_proxy_reader_start (connection, address, port, self->config->proxy_timeout_ms,
                              G_OBJECT (self), proxy_admit, proxy_refuse,
                              GINT_TO_POINTER (access));
      return;
    }
  admit_tcp_user (self, access, connection, address, port, FALSE, NULL, 0);
}

static void
telnet_accept_cb (int         fd,
                  const char *address,
                  guint16     port,
                  gpointer    user_data)
{
  MgwGateway *self = user_data;

  tcp_accept (self, telnet_port_access (self), fd, address, port);
}

static void
raw_accept_cb (int         fd,
               const char *address,
               guint16     port,
               gpointer    user_data)
{
  tcp_accept (user_data, MGW_ACCESS_RAW, fd, address, port);
}

/* A listener on the configured addresses (every address, IPv4 and IPv6,
 * when none), `port` 0 letting the kernel choose. */
static MgwListener *
listen_on (MgwGateway     *self,
           int             wanted,
           const char     *what,
           MgwAcceptFunc   func,
           guint16        *port_out,
           GError        **error)
{
  g_autoptr(GError) local = NULL;
  MgwListener *listener;

  listener = mgw_listener_new ((const char * const *) self->config->listen_addresses,
                               wanted, 1024, func, self, port_out, &local);
  if (listener == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("cannot listen for %s users on port %d: %s"), what, wanted,
                   local->message);
      return NULL;
    }
  g_message ("listening for %s users on port %u", what, *port_out);
  return listener;
}

static gboolean
listen_telnet (MgwGateway  *self,
               GError     **error)
{
  self->telnet_listener = listen_on (self, self->config->telnet_port, "Telnet",
                                     telnet_accept_cb, &self->telnet_port, error);
  return self->telnet_listener != NULL;
}

static gboolean
listen_raw (MgwGateway  *self,
            GError     **error)
{
  self->raw_listener = listen_on (self, self->config->raw_port, "raw TCP",
                                  raw_accept_cb, &self->raw_port, error);
  return self->raw_listener != NULL;
}

/* --- WebSocket listener --- */

/* A WebSocket connection before its upgrade: accepted by the gateway's
 * own listener, its request read by the link, closed if no upgrade comes
 * in time, and counted against the caps meanwhile. */
typedef struct
{
  MgwGateway *gateway;
  MgwLink    *link;
  char       *address;   /* the socket's, then what a trusted proxy says */
  char       *socket_address;   /* counted as pending under it */
  guint16     port;
  int         replay_fd;        /* /replay/ID: the recording; -1: a user */
  double      replay_speed;
  gboolean    served;           /* a plain HTTP request, answered (mgw-web.c) */
} Upgrade;

static void
upgrade_free (Upgrade *up)
{
  mgw_admission_pending (up->gateway->admission, up->socket_address, -1);
  g_free (up->socket_address);
  g_signal_handlers_disconnect_by_data (up->link, up);
  g_object_unref (up->link);
  g_free (up->address);
  if (up->replay_fd >= 0)
    close (up->replay_fd);
  g_free (up);
}

/* --- replays over the WebSocket port --- */

#define MAX_REPLAYS 16
#define REPLAY_PREFIX "/replay/"

/* ?speed=X in the request's target; 1 when absent or not a number from
 * 0.01 to 1000. */
static double
replay_speed (MgwHttpHead *request)
{
  const char *query = strchr (mgw_http_head_get_target (request), '?');
  g_auto(GStrv) pairs = NULL;
  double speed = 1;

  if (query == NULL)
    return speed;
  pairs = g_strsplit (query + 1, "&", 8);
  for (guint i = 0; pairs[i] != NULL; i++)
    if (g_str_has_prefix (pairs[i], "speed="))
      {
        char *end;
        double value = g_ascii_strtod (pairs[i] + 6, &end);

        if (*end == '\0' && end != pairs[i] + 6 && value >= 0.01 && value <= 1000)
          speed = value;
      }
  return speed;
}

/* A request for /replay/ID while [recording] replay-from is set: from
 * an address it names, the recording opened (its answer then 101), or
 * the HTTP status that refuses it. 0: not a replay, a user. */
static guint
decide_replay (MgwGateway  *self,
               Upgrade     *up,
               MgwHttpHead *request)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;

  if (self->recordings == NULL || mgw_address_set_get_size (self->replay_from) == 0)
    return 0;
  path = mgw_http_head_get_path (request);
  if (path == NULL || !g_str_has_prefix (path, REPLAY_PREFIX))
    return 0;
  id = path + strlen (REPLAY_PREFIX);
  if (!mgw_address_set_contains (self->replay_from, up->address))
    {
      g_message ("replay of %s refused to %s: not in [recording] replay-from", id, up->address);
      return 403;
    }
  if (g_hash_table_size (self->replays) >= MAX_REPLAYS)
    {
      g_message ("replay of %s refused to %s: %u replays already", id, up->address, MAX_REPLAYS);
      return 503;
    }
  up->replay_fd = mgw_recordings_open (self->recordings, id, &error);
  if (up->replay_fd < 0)
    {
      g_message ("replay refused to %s: %s", up->address, error->message);
      return 404;
    }
  up->replay_speed = replay_speed (request);
  return 101;
}

static void
replay_finished_cb (MgwReplay    *replay,
                    const GError *error,
                    MgwLink      *link)
{
  if (error != NULL)
    g_message ("replay over WebSocket stopped: %s", error->message);
  /* The screen stays: the browser closes when it likes. */
}

static void
replay_closed_cb (MgwLink      *link,
                  const GError *error,
                  MgwGateway   *self)
{
  MgwReplay *replay = g_hash_table_lookup (self->replays, link);

  if (replay != NULL)
    g_info ("replay over WebSocket ended: %" G_GUINT64_FORMAT " bytes sent",
            mgw_replay_get_bytes (replay));
  g_hash_table_remove (self->replays, link);
}

static void
start_replay (MgwGateway *self,
              MgwLink    *link,
              const char *address,
              int         fd,
              double      speed)
{
  MgwReplay *replay = mgw_replay_new (fd, link, speed, 0);

  g_message ("replaying a recording to %s over WebSocket (speed %g)", address, speed);
  g_signal_connect (replay, "finished", G_CALLBACK (replay_finished_cb), link);
  g_signal_connect (link, "closed", G_CALLBACK (replay_closed_cb), self);
  g_hash_table_insert (self->replays, g_object_ref (link), replay);
  mgw_replay_start (replay);
}

static void
replay_free (gpointer data)
{
  MgwReplay *replay = data;

  g_signal_handlers_disconnect_matched (replay, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                        replay_finished_cb, NULL);
  mgw_replay_stop (replay);
  g_object_unref (replay);
}

static void
replay_link_free (gpointer data)
{
  MgwLink *link = data;

  g_signal_handlers_disconnect_matched (link, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                        replay_closed_cb, NULL);
  mgw_link_close (link, FALSE);
  g_object_unref (link);
}

/* The request is in: mgw-admission.c says whose it is and the answer. */
static guint
ws_decide_cb (MgwLinkWs   *link,
              MgwHttpHead *request,
              gpointer     user_data)
{
  Upgrade *up = user_data;
  guint status = mgw_admission_decide_upgrade (up->gateway->admission, request, &up->address,
                                               &up->port);
  guint replay;

  if (status != 101)
    return status;
  replay = decide_replay (up->gateway, up, request);
  return replay != 0 ? replay : status;
}

/* A plain HTTP request on the WebSocket port: the emulator's page or
 * an operator's files, when [web] serves them; else 426, as ever. */
static gboolean
ws_serve_cb (MgwLinkWs   *link,
             MgwHttpHead *request,
             gpointer     user_data)
{
  Upgrade *up = user_data;
  MgwGateway *self = up->gateway;
  g_autofree char *address = NULL;
  g_autofree char *path = NULL;
  g_autofree char *why = NULL;
  g_autofree char *method = NULL;
  goffset length = 0;
  guint status;

  if (!mgw_web_is_serving (self->web))
    return FALSE;
  up->served = TRUE;
  /* Who asks, as for an upgrade: a banned client a proxy names is
   * refused here too. */
  status = mgw_admission_decide_upgrade (self->admission, request, &up->address, &up->port);
  /* The answer may be written and the link closed (up freed) at once. */
  address = g_strdup (up->address);
  method = g_strdup (mgw_http_head_get_method (request));
  path = mgw_http_head_get_path (request);
  if (status != 101)
    status = mgw_web_refuse (link, request, status, &length);
  else
    status = mgw_web_answer (self->web, link, request, &length, &why);
  self->counters.web_requests++;
  self->counters.web_errors += status >= 400;
  self->counters.web_bytes += length;
  g_info ("HTTP %s %s from %s: %u, %" G_GOFFSET_FORMAT " bytes%s%s", method,
          path != NULL ? path : "?", address, status, length, why != NULL ? ": " : "",
          why != NULL ? why : "");
  return TRUE;
}

static void
ws_upgraded_cb (MgwLink *link,
                Upgrade *up)
{
  MgwGateway *self = up->gateway;
  g_autoptr(MgwLink) user = g_object_ref (link);
  g_autofree char *address = g_strdup (up->address);
  guint16 port = up->port;
  int replay_fd = up->replay_fd;   /* /replay/ID: not a user */
  double speed = up->replay_speed;
  const char *full;

  up->replay_fd = -1;
  g_hash_table_remove (self->handshakes, link);  /* frees up */
  mgw_link_ws_set_keepalive (MGW_LINK_WS (user), self->config->ws_ping_interval,
                             self->config->ws_ping_timeout);
  if (replay_fd >= 0)
    {
      start_replay (self, user, address, replay_fd, speed);
      return;
    }
  full = mgw_admission_refuse_full (self->admission, address,
                                    g_hash_table_size (self->sessions), user_fds (self));
  if (full != NULL)
    {
      mgw_admission_turn_away (self->admission, user, address, full);
      return;
    }
  add_session (self, MGW_ACCESS_WS, user, address, port, FALSE);
}

static void
ws_upgrade_failed_cb (MgwLink      *link,
                      const GError *error,
                      Upgrade      *up)
{
  MgwGateway *self = up->gateway;

  if (up->served && error != NULL)
    g_info ("HTTP answer to %s cut short: %s", up->address, error->message);
  else if (!up->served)
    g_info ("WebSocket connection from %s closed before its upgrade: %s", up->address,
            error ? error->message : "closed by the peer");
  g_hash_table_remove (self->handshakes, link);
}

/* A WebSocket connection whose request is to be read: over the socket,
 * or over TLS once its handshake is done. */
static void
start_upgrade (MgwGateway *self,
               GIOStream  *stream,
               const char *address,
               guint16     port)
{
  g_autofree char *description = NULL;
  Upgrade *up;

  up = g_new0 (Upgrade, 1);
  up->gateway = self;
  up->address = g_strdup (address);
  up->socket_address = g_strdup (address);
  up->replay_fd = -1;
  mgw_admission_pending (self->admission, address, +1);
  up->port = port;
  up->link = mgw_link_ws_accept (stream, self->config->ws_frame_type,
                                 MAX (1, self->config->connect_timeout),
                                 ws_decide_cb, up);
  description = g_strdup_printf ("WebSocket%s connection from %s",
                                 G_IS_TLS_CONNECTION (stream) ? " TLS" : "", up->address);
  mgw_link_set_description (up->link, description);
  mgw_link_ws_set_max_incoming (MGW_LINK_WS (up->link), self->config->ws_max_message);
  mgw_link_ws_set_serve (MGW_LINK_WS (up->link), ws_serve_cb, up);
  g_signal_connect (up->link, "opened", G_CALLBACK (ws_upgraded_cb), up);
  g_signal_connect (up->link, "closed", G_CALLBACK (ws_upgrade_failed_cb), up);
  g_hash_table_insert (self->handshakes, up->link, up);
}

/* A WebSocket (wss: TLS) connection accepted: a banned address, or no
 * room left, is closed at once as a bare descriptor. A proxy names the
 * client in its headers: that is checked at the request. */
static GSocketConnection *
accept_ws (MgwGateway *self,
           int         fd,
           const char *address,
           const char *what)
{
  GSocketConnection *connection;

  if (mgw_admission_refuse_accept (self->admission, address, MGW_ACCESS_WS, user_fds (self)))
    {
      close (fd);
      return NULL;
    }
  connection = accepted_connection (fd, address, what);
  if (connection != NULL)
    tune_socket (g_socket_connection_get_socket (connection));
  return connection;
}

static void
ws_accept_cb (int         fd,
              const char *address,
              guint16     port,
              gpointer    user_data)
{
  MgwGateway *self = user_data;
  g_autoptr(GSocketConnection) connection = accept_ws (self, fd, address, "WebSocket");

  if (connection != NULL)
    start_upgrade (self, G_IO_STREAM (connection), address, port);
}

/* A TLS handshake is a connection not yet a session too. */
static void
tls_count_cb (gpointer    user_data,
              const char *address,
              int         delta)
{
  MgwGateway *self = user_data;

  mgw_admission_pending (self->admission, address, delta);
}

static void
wss_handshake_done (GObject    *owner,
                    GIOStream  *tls,
                    const char *address,
                    guint16     port)
{
  start_upgrade (MGW_GATEWAY (owner), tls, address, port);
}

/* The handshake is bounded like a connection to a server. */
static void
wss_accept_cb (int         fd,
               const char *address,
               guint16     port,
               gpointer    user_data)
{
  MgwGateway *self = user_data;
  g_autoptr(GSocketConnection) connection = accept_ws (self, fd, address, "WebSocket TLS");

  if (connection != NULL)
    mgw_tls_handshakes_start (self->tls_handshakes, self->tls_identity, connection, address,
                              port, MAX (1, self->config->connect_timeout) * 1000,
                              G_OBJECT (self), wss_handshake_done);
}

static gboolean
listen_ws (MgwGateway  *self,
           GError     **error)
{
  self->ws_listener = listen_on (self, self->config->ws_port, "WebSocket",
                                 ws_accept_cb, &self->ws_port, error);
  return self->ws_listener != NULL;
}

static void
log_identity (MgwTlsIdentity *identity,
              const char     *what)
{
  g_autoptr(GDateTime) until =
    g_date_time_new_from_unix_utc (mgw_tls_identity_get_not_after (identity) / G_USEC_PER_SEC);
  g_autofree char *date = g_date_time_format (until, "%Y-%m-%d %H:%M:%S UTC");

  g_message ("%s: %s, valid until %s, %u certificate%s in the chain", what,
             mgw_tls_identity_get_subject (identity), date,
             mgw_tls_identity_get_chain_length (identity),
             mgw_tls_identity_get_chain_length (identity) == 1 ? "" : "s");
}

static gboolean
listen_wss (MgwGateway  *self,
            GError     **error)
{
  self->tls_identity = mgw_tls_identity_load (self->config->tls_certificate,
                                              self->config->tls_key, g_get_real_time (),
                                              error);
  if (self->tls_identity == NULL)
    return FALSE;
  log_identity (self->tls_identity, "TLS certificate");
  self->ws_tls_listener = listen_on (self, self->config->ws_tls_port, "WebSocket TLS",
                                     wss_accept_cb, &self->ws_tls_port, error);
  return self->ws_tls_listener != NULL;
}

/* At reload: the files again. A pair that cannot serve is refused with
 * one line, and the certificate in force stays; new connections get a
 * new one, open sessions keep theirs. */
static void
reload_identity (MgwGateway *self)
{
  g_autoptr(GError) error = NULL;
  MgwTlsIdentity *identity;

  if (self->ws_tls_listener == NULL)
    return;
  identity = mgw_tls_identity_load (self->config->tls_certificate, self->config->tls_key,
                                    g_get_real_time (), &error);
  g_clear_pointer (&self->tls_problem, g_free);
  if (identity == NULL)
    {
      g_warning ("TLS certificate not reloaded, the one in force stays (%s): %s",
                 mgw_tls_identity_get_subject (self->tls_identity), error->message);
      self->tls_problem = g_strdup (error->message);
      return;
    }
  mgw_tls_identity_unref (self->tls_identity);
  self->tls_identity = identity;
  log_identity (identity, "TLS certificate reloaded");
}

/* --- command channel --- */

static gboolean
is_own_port (MgwGateway *self,
             int         port)
{
  if (port <= 0)
    return FALSE;
  if (port == self->telnet_port || port == self->ws_port || port == self->ws_tls_port ||
      port == self->raw_port)
    return TRUE;
  for (guint i = 0; i < self->own_ports->len; i++)
    if (g_array_index (self->own_ports, guint16, i) == port)
      return TRUE;
  return FALSE;
}

/* TRUE when uri names one of our own listeners: one of our ports on a
 * loopback, unspecified or local address (as written: a name is not
 * resolved). */
static gboolean
targets_gateway (MgwGateway *self,
                 const char *uri)
{
  g_autoptr(GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  const char *host;
  int port;

  if (parsed == NULL || (host = g_uri_get_host (parsed)) == NULL)
    return FALSE;
  port = mgw_uri_get_port (parsed);
  return is_own_port (self, port) &&
         (mgw_redirect_policy_is_guarded_host (host) ||
          mgw_address_set_contains (self->local, host));
}

static void
command_cb (MgwCommandLink *link,
            MgwCommand     *command,
            MgwGateway     *self)
{
  MgwSession *session = mgw_gateway_lookup_session (self, command->id);
  g_autoptr(GError) error = NULL;

  if (session == NULL)
    {
      self->counters.bad_commands++;
      g_message ("command channel: CONNECT for unknown session %u ignored", command->id);
      return;
    }
  if (!mgw_session_redirect (session, command,
                             mgw_profiles_lookup (self->profiles, command->uri),
                             targets_gateway (self, command->uri), &error))
    {
      self->counters.bad_commands++;
      g_message ("command channel: %s", error->message);
    }
}

static char *
profiles_path (const MgwConfig *config)
{
  if (config->profiles_file != NULL)
    return g_strdup (config->profiles_file);
  return g_build_filename (config->config_path, "profiles.json", NULL);
}

/* Reads profiles.json again; a bad file keeps the profiles in force. */
gboolean
mgw_gateway_reload_profiles (MgwGateway  *self,
                             GError     **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (MGW_IS_GATEWAY (self), FALSE);

  path = profiles_path (self->config);
  if (!mgw_profiles_load_file (self->profiles, path, error))
    return FALSE;
  g_message ("%u redirect profiles from %s", mgw_profiles_get_size (self->profiles), path);
  return TRUE;
}

/* --- recordings (mgw-recorder.c) --- */

static void start_retention (MgwGateway *self,
                             const char *dir);

/* The directory is made if missing, 0750 as the state directory (the
 * moipgw group may read); when it cannot be, the gateway runs and
 * records nothing (and lists none). */
static void
start_recordings (MgwGateway *self)
{
  g_autofree char *dir = g_build_filename (self->config->state_dir, "recordings", NULL);

  start_retention (self, dir);

  /* 0750 whatever the umask (the service's is 0077). */
  if (g_mkdir (dir, 0750) == 0)
    g_chmod (dir, 0750);
  else if (errno != EEXIST || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_warning ("recordings: cannot make %s: %s; no session is recorded", dir,
                 g_strerror (errno == EEXIST ? ENOTDIR : errno));
      return;
    }
  self->recordings_dir = g_steal_pointer (&dir);
  if (self->config->recording_enabled)
    g_message ("recording every session into %s (input %s, max-size %" G_GUINT64_FORMAT ")",
               self->recordings_dir, mgw_recording_input_to_string (self->config->recording_input),
               self->config->recording_max_size);
}

static void
recorder_watch (gpointer    data,
                const char *id,
                gboolean    open)
{
  MgwGateway *self = data;

  /* Being written: never removed by retention or DeleteRecording. */
  if (id != NULL && self->recordings != NULL)
    mgw_recordings_set_active (self->recordings, id, open);
  if (!open)
    g_signal_emit (self, signals[SIGNAL_RECORDING_CLOSED], 0, id);
}

/* The session recorded from now on, with the [recording] settings in
 * force now. */
gboolean
mgw_gateway_record_session (MgwGateway  *self,
                            MgwSession  *session,
                            GError     **error)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), FALSE);
  g_return_val_if_fail (MGW_IS_SESSION (session), FALSE);

  if (self->recordings_dir == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Recordings are off: their directory could not be made "
                     "(the gateway's log says why)"));
      return FALSE;
    }
  return mgw_session_start_recording (session, self->recorders, self->recordings_dir,
                                      self->config->recording_input,
                                      self->config->recording_max_size, error);
}

/* Recorders still writing or closing: ended sessions' too. */
guint
mgw_gateway_get_n_recordings (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return mgw_recorder_pool_get_counters (self->recorders)->active;
}

/* --- object --- */

static gboolean
sweep_cb (gpointer user_data)
{
  MgwGateway *self = user_data;
  guint n = mgw_ban_list_sweep (self->bans);

  if (n > 0)
    g_message ("%u expired bans removed", n);
  return G_SOURCE_CONTINUE;
}

/* --- recordings' retention --- */

static gboolean load_prefixes (MgwAddressSet  *set,
                               char          **list,
                               GError        **error);

#define EXPIRE_INTERVAL_S 600

static void
expired_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  guint removed = 0;
  guint64 freed = 0;

  if (!mgw_recordings_expire_finish (MGW_RECORDINGS (source), result, &removed, &freed, &error))
    g_warning ("recordings: retention failed: %s", error->message);
  else if (removed > 0)
    g_message ("recordings: %u removed by retention (%" G_GUINT64_FORMAT " bytes)",
               removed, freed);
}

static gboolean
expire_cb (gpointer user_data)
{
  MgwGateway *self = user_data;

  mgw_recordings_expire_async (self->recordings, NULL, expired_cb, NULL);
  return G_SOURCE_CONTINUE;
}

static void
apply_recording_settings (MgwGateway *self)
{
  g_autoptr(GError) error = NULL;

  if (!load_prefixes (self->replay_from, self->config->recording_replay_from, &error))
    g_warning ("[recording] replay-from: %s", error->message);   /* checked when read */
  mgw_recordings_set_retention (self->recordings, self->config->recording_keep_count,
                                self->config->recording_keep_days,
                                self->config->recording_keep_size);
}

/* The directory's list and retention: at once, then every ten minutes. */
static void
start_retention (MgwGateway *self,
                 const char *dir)
{
  self->recordings = mgw_recordings_new (dir);
  apply_recording_settings (self);
  expire_cb (self);
  self->expire_id = g_timeout_add_seconds (EXPIRE_INTERVAL_S, expire_cb, self);
}

static char *
config_file (MgwGateway *self,
             const char *name)
{
  return g_build_filename (self->config->config_path, name, NULL);
}

/* The original's GatewayConfig.json: read from the state directory when a
 * copy is there (we write it there: /etc is read-only to the service),
 * else from the configuration directory; GatewayExecCount goes up by one
 * at each start. */
static gboolean
load_legacy_config (MgwGateway  *self,
                    GError     **error)
{
  g_autofree char *state_path = g_build_filename (self->config->state_dir,
                                                  "GatewayConfig.json", NULL);
  g_autofree char *etc_path = config_file (self, "GatewayConfig.json");
  const char *path = g_file_test (state_path, G_FILE_TEST_EXISTS) ? state_path : etc_path;
  g_autoptr(GError) local = NULL;

  if (!mgw_legacy_config_load (self->legacy, path,
                               path == state_path ? MGW_FILE_NO_SYMLINK : MGW_FILE_DEFAULT,
                               &local))
    {
      mgw_error_set_in_file (error, path, local);
      return FALSE;
    }
  mgw_legacy_config_set_exec_count (self->legacy,
                                    mgw_legacy_config_get_exec_count (self->legacy) + 1);
  if (g_mkdir_with_parents (self->config->state_dir, 0700) < 0 ||
      !mgw_legacy_config_save (self->legacy, state_path, &local))
    g_warning ("cannot save GatewayExecCount to %s: %s", state_path,
               local ? local->message : g_strerror (errno));
  return TRUE;
}

static gboolean
load_prefixes (MgwAddressSet  *set,
               char          **list,
               GError        **error)
{
  mgw_address_set_clear (set);
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    if (!mgw_address_set_add (set, list[i], error))
      return FALSE;
  return TRUE;
}

static void
apply_ban_settings (MgwGateway *self)
{
  const MgwConfig *c = self->config;

  mgw_ban_list_set_duration (self->bans, (gint64) c->ban_duration * G_USEC_PER_SEC);
  mgw_ban_list_set_escalation (self->bans, c->ban_escalate,
                               (gint64) c->ban_max_duration * G_USEC_PER_SEC);
  mgw_ban_list_set_ipv6_prefix (self->bans, c->ban_ipv6_prefix);
  mgw_ban_list_set_max_entries (self->bans, c->ban_max_entries);
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  if (c->ban_sweep_interval > 0)
    self->sweep_id = g_timeout_add_seconds (c->ban_sweep_interval, sweep_cb, self);
}

static gboolean
start_bans (MgwGateway  *self,
            GError     **error)
{
  g_autofree char *never_path = config_file (self, "neverbanned.json");
  g_autofree char *banned_path = g_build_filename (self->config->state_dir, "banned.json", NULL);
  g_autoptr(GError) local = NULL;

  if (!mgw_address_set_load_never_ban (self->never_ban, never_path, &local))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s", local->message);
      return FALSE;
    }
  if (self->local_watch == NULL)
    self->local_watch = mgw_local_addresses_new (self->local);
  else
    mgw_local_addresses_refresh (self->local_watch);
  if (!load_prefixes (self->trusted, self->config->trusted_proxies, error))
    return FALSE;

  if (g_mkdir_with_parents (self->config->state_dir, 0700) < 0)
    g_warning ("cannot create the state directory %s: %s", self->config->state_dir,
               g_strerror (errno));
  self->bans = mgw_ban_list_new (banned_path, NULL, NULL);
  mgw_admission_set_ban_list (self->admission, self->bans);
  mgw_ban_list_set_exempt (self->bans, self->never_ban, self->local);
  apply_ban_settings (self);
  if (!mgw_ban_list_load (self->bans, &local))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, "%s: %s", banned_path, local->message);
      return FALSE;
    }
  g_message ("%u banned addresses, %u never banned, %u trusted proxies",
             mgw_ban_list_get_size (self->bans), mgw_address_set_get_size (self->never_ban),
             mgw_address_set_get_size (self->trusted));
  return TRUE;
}

/* SIGHUP: moipgw.conf settings that can change while running (rules,
 * thresholds, speed limits, trusted proxies), never-ban list, local
 * addresses and profiles. Sessions already open keep the settings they
 * started with. Nothing is changed when anything is wrong. */
gboolean
mgw_gateway_reload (MgwGateway  *self,
                    MgwConfig   *config,
                    GError     **error)
{
  g_autofree char *never_path = NULL;
  g_autofree char *profiles_file = NULL;
  g_autoptr(MgwAddressSet) never_ban = mgw_address_set_new ();
  g_autoptr(MgwAddressSet) trusted = mgw_address_set_new ();
  g_autoptr(MgwProfiles) profiles = mgw_profiles_new ();
  g_autoptr(MgwConfig) old = NULL;
  g_autoptr(MgwWeb) web = NULL;

  g_return_val_if_fail (MGW_IS_GATEWAY (self), FALSE);

  if (config != NULL)
    {
      web = mgw_web_new ();
      if (!mgw_web_configure (web, config->web_emulator, config->web_root,
                              config->web_max_file_size, error))
        return FALSE;
    }

  if (config != NULL && !load_prefixes (trusted, config->trusted_proxies, error))
    return FALSE;
  never_path = g_build_filename (config ? config->config_path : self->config->config_path,
                                 "neverbanned.json", NULL);
  if (!mgw_address_set_load_never_ban (never_ban, never_path, error))
    return FALSE;
  profiles_file = profiles_path (config ? config : self->config);
  if (!mgw_profiles_load_file (profiles, profiles_file, error))
    return FALSE;

  /* Everything read: now apply. */
  if (config != NULL)
    {
      /* Listeners, paths, links already in use stay as they are. */
      g_auto(GStrv) pending = mgw_config_keep_restart_keys (config, self->config);

      old = self->config;
      self->config = mgw_config_ref (config);
      mgw_admission_set_config (self->admission, self->config);
      g_strfreev (self->restart_pending);
      self->restart_pending = g_steal_pointer (&pending);
      if (self->restart_pending[0] != NULL)
        {
          g_autofree char *names = g_strjoinv (", ", self->restart_pending);
          g_message ("reload: %s wait for a restart of moipgwd", names);
        }
      load_prefixes (self->trusted, config->trusted_proxies, NULL);
      apply_ban_settings (self);
      if (self->recordings != NULL)
        apply_recording_settings (self);
      mgw_web_free (self->web);
      self->web = g_steal_pointer (&web);
    }
  reload_identity (self);
  mgw_address_set_load_never_ban (self->never_ban, never_path, NULL);
  if (self->local_watch != NULL)
    mgw_local_addresses_refresh (self->local_watch);
  mgw_profiles_free (self->profiles);
  self->profiles = g_steal_pointer (&profiles);
  g_message ("configuration reloaded: %u never banned, %u trusted proxies, "
             "%u redirect profiles from %s", mgw_address_set_get_size (self->never_ban),
             mgw_address_set_get_size (self->trusted), mgw_profiles_get_size (self->profiles),
             profiles_file);
  return TRUE;
}

gboolean
mgw_gateway_ban (MgwGateway  *self,
                 const char  *address,
                 const char  *reason,
                 gint64       duration_us,
                 char       **banned,
                 GError     **error)
{
  g_autofree char *key = NULL;
  g_autoptr(GList) sessions = NULL;

  g_return_val_if_fail (MGW_IS_GATEWAY (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  if (!mgw_ban_list_ban_for (self->bans, address, reason, "manual", duration_us, &key, error))
    return FALSE;
  /* The open sessions of the address, or of its IPv6 prefix, end. */
  sessions = mgw_gateway_get_sessions (self);
  for (GList *l = sessions; l != NULL; l = l->next)
    {
      g_autofree char *peer = mgw_ban_list_lookup (self->bans,
                                                   mgw_session_get_peer_address (l->data));

      if (g_strcmp0 (peer, key) == 0)
        /* TRANSLATORS: a Minitel status line, 39 places at most. */
        mgw_session_end (l->data, N_("DISCONNECTED BY THE OPERATOR"));
    }
  if (banned != NULL)
    *banned = g_steal_pointer (&key);
  return TRUE;
}

void
mgw_gateway_judge_short_session (MgwGateway *self,
                                 const char *address,
                                 gint64      duration_us,
                                 const char *what)
{
  g_return_if_fail (MGW_IS_GATEWAY (self));
  g_return_if_fail (address != NULL && what != NULL);

  if (duration_us < (gint64) self->config->min_session_ms * 1000)
    {
      g_autofree char *reason = g_strdup_printf ("%s of %.3f s", what, duration_us / 1e6);
      ban (self, address, reason, "min-session");
    }
}

gboolean
mgw_gateway_unban (MgwGateway  *self,
                   const char  *address,
                   GError     **error)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), FALSE);

  return mgw_ban_list_unban (self->bans, address, error);
}

MgwBanList *
mgw_gateway_get_ban_list (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return self->bans;
}

gboolean
mgw_gateway_start (MgwGateway  *self,
                   GError     **error)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), FALSE);

  mgw_admission_setup_files (self->admission);
  if (!load_legacy_config (self, error) || !start_bans (self, error))
    return FALSE;
  if (self->config->tls_ca_file != NULL)
    {
      g_autoptr(GError) local = NULL;
      GTlsDatabase *database = g_tls_file_database_new (self->config->tls_ca_file, &local);

      if (database == NULL)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       "[tls] ca-file: %s", local->message);
          return FALSE;
        }
      g_clear_object (&self->tls_database);
      self->tls_database = database;
    }
  if (!mgw_gateway_reload_profiles (self, error))
    return FALSE;
  if (!mgw_web_configure (self->web, self->config->web_emulator, self->config->web_root,
                          self->config->web_max_file_size, error))
    return FALSE;
  start_recordings (self);
  if (!self->config->no_command_channel)
    {
      self->command_link = mgw_command_link_new (self->tls_database, self->config->command_uri,
                                                 self->config->command_retry_ms,
                                                 self->config->command_queue_max);
      g_signal_connect (self->command_link, "command", G_CALLBACK (command_cb), self);
      mgw_command_link_start (self->command_link);
    }
  if (self->config->telnet_port != MGW_PORT_OFF && !listen_telnet (self, error))
    return FALSE;
  if (self->config->ws_port != MGW_PORT_OFF && !listen_ws (self, error))
    return FALSE;
  if (self->config->ws_tls_port != MGW_PORT_OFF && !listen_wss (self, error))
    return FALSE;
  if (self->config->raw_port != MGW_PORT_OFF && !listen_raw (self, error))
    return FALSE;
  g_message ("default server is '%s'", self->config->server_uri);
  return TRUE;
}

/* The sessions, each held: ending one changes the table. */
static GPtrArray *
hold_sessions (MgwGateway *self)
{
  GPtrArray *sessions = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sessions, g_object_ref (value));
  return sessions;
}

static guint
end_all (MgwGateway *self,
         const char *status)
{
  g_autoptr(GPtrArray) sessions = hold_sessions (self);

  for (guint i = 0; i < sessions->len; i++)
    mgw_session_end (sessions->pdata[i], status);
  return sessions->len;
}

/* Stops listening and ends every session, each user told `status`. */
void
mgw_gateway_stop (MgwGateway *self,
                  const char *status)
{
  g_return_if_fail (MGW_IS_GATEWAY (self));

  g_clear_pointer (&self->telnet_listener, mgw_listener_free);
  g_clear_pointer (&self->ws_listener, mgw_listener_free);
  g_clear_pointer (&self->ws_tls_listener, mgw_listener_free);
  g_clear_pointer (&self->raw_listener, mgw_listener_free);
  g_hash_table_remove_all (self->handshakes);
  g_hash_table_remove_all (self->replays);
  mgw_tls_handshakes_cancel_all (self->tls_handshakes);
  mgw_timer_stop (&self->drain_timer);
  end_all (self, status);
}

/* --- operator actions --- */

guint
mgw_gateway_message (MgwGateway *self,
                     const char *text,
                     const char *target)
{
  g_autoptr(GPtrArray) sessions = NULL;
  guint told = 0;

  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);
  g_return_val_if_fail (text != NULL, 0);

  sessions = hold_sessions (self);
  for (guint i = 0; i < sessions->len; i++)
    if (target == NULL || *target == '\0' ||
        g_strcmp0 (mgw_session_get_target (sessions->pdata[i]), target) == 0)
      told += mgw_session_message (sessions->pdata[i], text);
  return told;
}

/* The grace is over: whoever is left goes. */
static void
drain_timeout_cb (gpointer user_data)
{
  MgwGateway *self = user_data;
  guint n;

  /* TRANSLATORS: a Minitel status line, 39 places at most. */
  n = end_all (self, N_("SERVICE CLOSED"));
  g_message ("draining: the grace is over, %u sessions ended", n);
}

/* What the open sessions are told when the operator said nothing. */
static char *
drain_default_text (guint grace_s)
{
  if (grace_s < 60)
    /* TRANSLATORS: a Minitel status line, 39 places at most; %u: seconds. */
    return g_strdup_printf (_("SERVICE CLOSING IN %u S"), grace_s);
  /* TRANSLATORS: a Minitel status line, 39 places at most; %u: minutes. */
  return g_strdup_printf (_("SERVICE CLOSING IN %u MIN"), grace_s / 60 + (grace_s % 60 != 0));
}

void
mgw_gateway_drain (MgwGateway *self,
                   guint       grace_s,
                   const char *text)
{
  g_autofree char *fallback = NULL;
  gboolean again;
  guint told;

  g_return_if_fail (MGW_IS_GATEWAY (self));

  again = self->draining;
  self->draining = TRUE;
  mgw_admission_set_draining (self->admission, TRUE);
  self->drain_deadline = g_get_real_time () + (gint64) grace_s * G_USEC_PER_SEC;
  mgw_timer_stop (&self->drain_timer);
  g_message ("draining%s: new users refused, the %u open sessions end in %u s", again ? " again" : "",
             g_hash_table_size (self->sessions), grace_s);
  g_signal_emit (self, signals[SIGNAL_DRAIN_CHANGED], 0);
  if (grace_s == 0)
    {
      drain_timeout_cb (self);
      return;
    }
  if (text == NULL || *text == '\0')
    text = fallback = drain_default_text (grace_s);
  told = mgw_gateway_message (self, text, NULL);
  g_info ("draining: %u sessions told", told);
  mgw_timer_start_at (&self->drain_timer, mgw_poller_now () + (gint64) grace_s * G_USEC_PER_SEC);
}

gboolean
mgw_gateway_resume (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), FALSE);

  if (!self->draining)
    return FALSE;
  self->draining = FALSE;
  self->drain_deadline = 0;
  mgw_timer_stop (&self->drain_timer);
  mgw_admission_set_draining (self->admission, FALSE);
  g_message ("drain over: users are admitted again");
  g_signal_emit (self, signals[SIGNAL_DRAIN_CHANGED], 0);
  return TRUE;
}

gboolean
mgw_gateway_get_draining (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), FALSE);

  return self->draining;
}

gint64
mgw_gateway_get_drain_deadline (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return self->drain_deadline;
}

guint16
mgw_gateway_get_telnet_port (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return self->telnet_port;
}

guint16
mgw_gateway_get_ws_port (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return self->ws_port;
}

guint16
mgw_gateway_get_ws_tls_port (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return self->ws_tls_port;
}

MgwTlsIdentity *
mgw_gateway_get_tls_identity (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return self->tls_identity;
}

const char *
mgw_gateway_get_tls_problem (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return self->tls_problem;
}

MgwTlsHandshakes *
mgw_gateway_get_tls_handshakes (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return self->tls_handshakes;
}

guint16
mgw_gateway_get_raw_port (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return self->raw_port;
}

const char * const *
mgw_gateway_get_restart_pending (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return (const char * const *) self->restart_pending;
}

void
mgw_gateway_add_own_port (MgwGateway *self,
                          guint16     port)
{
  g_return_if_fail (MGW_IS_GATEWAY (self));

  if (!is_own_port (self, port))
    g_array_append_val (self->own_ports, port);
}

guint
mgw_gateway_get_n_sessions (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return g_hash_table_size (self->sessions);
}

guint
mgw_gateway_get_address_table_size (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return mgw_admission_get_table_size (self->admission);
}

guint
mgw_gateway_get_n_sessions_by_access (MgwGateway *self,
                                      MgwAccess   access)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return self->n_by_access[access];
}

MgwSession *
mgw_gateway_lookup_session (MgwGateway *self,
                            guint       id)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return g_hash_table_lookup (self->sessions, GUINT_TO_POINTER (id));
}

/* The sessions, for listing; owned by the gateway. */
GList *
mgw_gateway_get_sessions (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return g_hash_table_get_values (self->sessions);
}

/* Counters since start; bad input is summed over live sessions too. */
const MgwCounters *
mgw_gateway_get_counters (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  GHashTableIter iter;
  gpointer value;
  const MgwRecorderCounters *rec = mgw_recorder_pool_get_counters (self->recorders);

  self->counters.recordings_started = rec->started;
  self->counters.recording_bytes = rec->bytes;
  self->counters.recording_dropped_bytes = rec->dropped_bytes;
  self->counters.recording_dropped_events = rec->dropped_events;
  self->counters.recording_failures = rec->failures;
  self->counters.recordings_truncated = rec->truncated;
  self->counters.bad_input = self->ended_bad_input;
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    self->counters.bad_input += mgw_session_get_bad_input (value);
  return &self->counters;
}

/* NULL before start. */
MgwRecordings *
mgw_gateway_get_recordings (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return self->recordings;
}

MgwConfig *
mgw_gateway_get_config (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return self->config;
}

gint64
mgw_gateway_get_start_time (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), 0);

  return self->start_time;
}

MgwCommandLink *
mgw_gateway_get_command_link (MgwGateway *self)
{
  g_return_val_if_fail (MGW_IS_GATEWAY (self), NULL);

  return self->command_link;
}

static void
mgw_gateway_dispose (GObject *object)
{
  MgwGateway *self = MGW_GATEWAY (object);

  if (self->sessions != NULL)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->sessions);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        g_signal_handlers_disconnect_by_data (value, self);
      g_clear_pointer (&self->sessions, g_hash_table_unref);
    }
  g_clear_pointer (&self->telnet_listener, mgw_listener_free);
  g_clear_pointer (&self->ws_listener, mgw_listener_free);
  g_clear_pointer (&self->ws_tls_listener, mgw_listener_free);
  g_clear_pointer (&self->raw_listener, mgw_listener_free);
  g_clear_pointer (&self->handshakes, g_hash_table_unref);
  g_clear_pointer (&self->replays, g_hash_table_unref);
  g_clear_pointer (&self->tls_handshakes, mgw_tls_handshakes_free);
  if (self->command_link != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->command_link, self);
      g_clear_object (&self->command_link);
    }
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  g_clear_handle_id (&self->expire_id, g_source_remove);
  g_clear_object (&self->recordings);
  g_clear_handle_id (&self->trim_id, g_source_remove);
  mgw_timer_stop (&self->drain_timer);
  g_clear_pointer (&self->local_watch, mgw_local_addresses_free);
  if (self->bans != NULL)
    {
      g_autoptr(GError) error = NULL;
      if (!mgw_ban_list_flush (self->bans, &error))
        g_warning ("cannot save the ban list: %s", error->message);
      g_clear_object (&self->bans);
    }
  g_clear_object (&self->tls_database);
  G_OBJECT_CLASS (mgw_gateway_parent_class)->dispose (object);
}

static void
mgw_gateway_finalize (GObject *object)
{
  MgwGateway *self = MGW_GATEWAY (object);

  g_clear_pointer (&self->config, mgw_config_unref);
  g_clear_pointer (&self->profiles, mgw_profiles_free);
  g_clear_pointer (&self->never_ban, mgw_address_set_free);
  g_clear_pointer (&self->local, mgw_address_set_free);
  g_clear_pointer (&self->own_ports, g_array_unref);
  g_clear_pointer (&self->restart_pending, g_strfreev);
  g_clear_pointer (&self->trusted, mgw_address_set_free);
  g_clear_pointer (&self->replay_from, mgw_address_set_free);
  g_clear_pointer (&self->legacy, mgw_legacy_config_free);
  g_clear_pointer (&self->admission, mgw_admission_free);
  g_clear_pointer (&self->web, mgw_web_free);
  g_clear_pointer (&self->pacer, mgw_pacer_free);
  /* Recorders still writing keep the pool, not the gateway. */
  mgw_recorder_pool_set_watch (self->recorders, NULL, NULL);
  g_clear_pointer (&self->recorders, mgw_recorder_pool_unref);
  g_free (self->recordings_dir);
  g_clear_pointer (&self->tls_identity, mgw_tls_identity_unref);
  g_free (self->tls_problem);
  G_OBJECT_CLASS (mgw_gateway_parent_class)->finalize (object);
}

static void
mgw_gateway_class_init (MgwGatewayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mgw_gateway_dispose;
  object_class->finalize = mgw_gateway_finalize;

  signals[SIGNAL_SESSION_ADDED] =
    g_signal_new ("session-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, MGW_TYPE_SESSION);
  signals[SIGNAL_SESSION_REMOVED] =
    g_signal_new ("session-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, MGW_TYPE_SESSION);
  /* Draining began, changed its grace, or ended (resumed). */
  signals[SIGNAL_DRAIN_CHANGED] =
    g_signal_new ("drain-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* (const char *id, NULL when it never had a file): a recorder is done,
   * its file closed; mgw_gateway_get_n_recordings () those left. */
  signals[SIGNAL_RECORDING_CLOSED] =
    g_signal_new ("recording-closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
mgw_gateway_init (MgwGateway *self)
{
  self->sessions = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->profiles = mgw_profiles_new ();
  self->start_time = g_get_real_time ();
  self->never_ban = mgw_address_set_new ();
  self->local = mgw_address_set_new ();
  self->own_ports = g_array_new (FALSE, FALSE, sizeof (guint16));
  self->restart_pending = g_new0 (char *, 1);
  self->trusted = mgw_address_set_new ();
  self->replay_from = mgw_address_set_new ();
  self->replays = g_hash_table_new_full (NULL, NULL, replay_link_free, replay_free);
  self->legacy = mgw_legacy_config_new ();
  self->web = mgw_web_new ();
  self->admission = mgw_admission_new (&self->counters.refused_banned,
                                       &self->counters.refused_full,
                                       &self->counters.refused_rate,
                                       &self->counters.refused_pending,
                                       &self->counters.refused_draining);
  mgw_admission_set_trusted (self->admission, self->trusted);
  mgw_admission_set_exempt (self->admission, self->never_ban, self->local);
  self->pacer = mgw_pacer_new (mgw_link_pace);
  mgw_timer_init (&self->drain_timer, drain_timeout_cb, self);
  self->recorders = mgw_recorder_pool_new (MGW_RECORDER_IN_FLIGHT_MAX, MGW_RECORDER_QUEUED_MAX);
  mgw_recorder_pool_set_watch (self->recorders, recorder_watch, self);
  /* link -> Upgrade (which holds the link) */
  self->handshakes = g_hash_table_new_full (NULL, NULL, NULL,
                                            (GDestroyNotify) upgrade_free);
}

MgwGateway *
mgw_gateway_new (MgwConfig *config)
{
  MgwGateway *self;

  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (MGW_TYPE_GATEWAY, NULL);
  self->config = mgw_config_ref (config);
  mgw_admission_set_config (self->admission, self->config);
  self->tls_handshakes = mgw_tls_handshakes_new (config->tls_max_handshakes,
                                                 config->tls_max_handshakes_per_address);
  mgw_tls_handshakes_set_exempt (self->tls_handshakes, self->never_ban, self->trusted);
  mgw_tls_handshakes_set_count_func (self->tls_handshakes, tls_count_cb, self);
  return self;
}
