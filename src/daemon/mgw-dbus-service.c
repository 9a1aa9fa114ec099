/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-dbus-service.c: the gateway on D-Bus.
 *
 * Exports the generated skeletons of data/dbus/org.moipgw.Gateway1.xml:
 * the gateway and Teletel interfaces on /org/moipgw/Gateway1, one object
 * per session under /org/moipgw/Gateway1/sessions/ through a
 * GDBusObjectManagerServer (applets follow InterfacesAdded/Removed). The
 * domain objects know nothing of D-Bus: this file copies their state
 * into the skeletons, at once for events (sessions coming and going,
 * states, bans, the command channel) and once a second for counters and
 * byte counts, so a busy gateway emits few PropertiesChanged.
 *
 * Every method that acts, the two that name users' addresses
 * (ListBans, ListPeers) and Session.Watch go through authorize(): the
 * caller's uid (org.freedesktop.DBus.GetConnectionCredentials, asked
 * asynchronously) must be an administrator's (mgw-access.h), whatever
 * the bus policy says. Session objects carry no address. The operator's
 * actions (Message, Drain, Resume) are the gateway's; what watchers see
 * of users' screens is mgw-dbus-watch.c's.
 *
 * The bus is a connection of our own (not GLib's shared singleton, which
 * stays closed once the bus went away): when it closes (dbus restarted)
 * or the name cannot be owned, users go on being served, the skeletons
 * stay up to date, and the service connects and asks for the name again,
 * after 1 s, then up to every 30 s; "notify::owned" says when the name is
 * ours, "unavailable" when an attempt failed.
 *
 * The Teletel interface follows an MgwTeletel when one is set (its
 * backend, and its state and PID as they are notified); its Stop, Start
 * and Restart run the backend's operations and answer when they are
 * over. Without one they answer NotSupported. */
#include "config.h"

#include "mgw-dbus-service.h"
#include "mgw-access.h"
#include "mgw-dbus-generated.h"
#include "mgw-dbus-watch.h"
#include "mgw-error.h"
#include "mgw-minitel.h"
#include "mgw-teletel.h"

#include <glib/gi18n.h>
#include <gio/gunixfdlist.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#define OBJECT_PATH "/org/moipgw/Gateway1"
#define BUS_NAME "org.moipgw.Gateway1"
#define REFRESH_S 1

struct _MgwDbusService
{
  GObject                   parent_instance;

  MgwGateway               *gateway;
  GBusType                  bus_type;
  MgwReloadFunc             reload;
  gpointer                  reload_data;
  guint                     owner_id;
  GDBusConnection          *connection;
  GCancellable             *connecting;
  guint                     retry_id;
  guint                     retry_s;
  gboolean                  owned;
  gboolean                  outage_logged;
  GDBusObjectManagerServer *manager;
  MgwDBusGateway           *iface;
  MgwDBusTeletel           *teletel;
  MgwTeletel               *teletel_control;   /* NULL: no backend */
  GHashTable               *sessions;   /* id -> MgwDBusObjectSkeleton */
  MgwDbusWatch             *watch;      /* Session.Watch's watchers */
  guint                     refresh_id;
};

G_DEFINE_FINAL_TYPE (MgwDbusService, mgw_dbus_service, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_OWNED,
  N_PROPS
};

enum {
  SIGNAL_UNAVAILABLE,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

#define RETRY_MAX_S 30

/* --- access control --- */

typedef void (*AuthorizedFunc) (MgwDbusService        *self,
                                GDBusMethodInvocation *invocation,
                                gpointer               data);

typedef struct
{
  MgwDbusService        *self;
  GDBusMethodInvocation *invocation;
  AuthorizedFunc         func;
  gpointer               data;
  GDestroyNotify         destroy;
} AuthRequest;

static void
auth_request_free (AuthRequest *req)
{
  if (req->destroy != NULL)
    req->destroy (req->data);
  g_object_unref (req->invocation);
  g_object_unref (req->self);
  g_free (req);
}

/* The bus's word on the caller's uid; the rule decides (mgw-access.h). */
static gboolean
credentials_allowed (MgwDbusService *self,
                     GVariant       *credentials)
{
  guint32 uid;

  return g_variant_lookup (credentials, "UnixUserID", "u", &uid) && mgw_access_is_admin (uid);
}

/* "alice (uid 1000)", or the bus name when the bus did not say. */
static char *
describe_user (GVariant   *credentials,
               const char *sender)
{
  struct passwd *pw;
  guint32 uid;

  if (credentials == NULL || !g_variant_lookup (credentials, "UnixUserID", "u", &uid))
    return g_strdup (sender);
  pw = getpwuid (uid);
  if (pw == NULL)
    return g_strdup_printf ("uid %u", uid);
  return g_strdup_printf ("%s (uid %u)", pw->pw_name, uid);
}

/* Who called, for the log and a manual ban's reason: set by authorize(). */
static const char *
caller (GDBusMethodInvocation *invocation)
{
  const char *who = g_object_get_data (G_OBJECT (invocation), "mgw-caller");

  return who != NULL ? who : g_dbus_method_invocation_get_sender (invocation);
}

static void
credentials_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  AuthRequest *req = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  g_autoptr(GVariant) credentials = NULL;

  if (reply != NULL)
    g_variant_get (reply, "(@a{sv})", &credentials);
  g_object_set_data_full (G_OBJECT (req->invocation), "mgw-caller",
                          describe_user (credentials,
                                         g_dbus_method_invocation_get_sender (req->invocation)),
                          g_free);
  if (credentials == NULL || !credentials_allowed (req->self, credentials))
    {
      const char *method = g_dbus_method_invocation_get_method_name (req->invocation);
      g_message ("D-Bus: %s refused to %s: not root, not in group %s", method,
                 caller (req->invocation), MGW_ADMIN_GROUP);
      g_dbus_method_invocation_return_dbus_error (req->invocation,
                                                  "org.freedesktop.DBus.Error.AccessDenied",
                                                  _("Permission denied: only root and "
                                                    "members of the moipgw group may do this"));
    }
  else
    req->func (req->self, req->invocation, req->data);
  auth_request_free (req);
}

/* The one gate of every mutating method. */
static void
authorize (MgwDbusService        *self,
           GDBusMethodInvocation *invocation,
           AuthorizedFunc         func,
           gpointer               data,
           GDestroyNotify         destroy)
{
  AuthRequest *req = g_new0 (AuthRequest, 1);

  req->self = g_object_ref (self);
  req->invocation = g_object_ref (invocation);
  req->func = func;
  req->data = data;
  req->destroy = destroy;
  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionCredentials",
                          g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
                          G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          credentials_cb, req);
}

/* --- state into skeletons --- */

static void
refresh_session (MgwDbusService *self,
                 MgwSession     *session)
{
  MgwDBusObjectSkeleton *object = g_hash_table_lookup (self->sessions,
                                                       GUINT_TO_POINTER (mgw_session_get_id (session)));
  g_autoptr(MgwDBusSession) iface = NULL;
  const char *target;

  if (object == NULL)
    return;
  iface = mgw_dbus_object_get_session (MGW_DBUS_OBJECT (object));
  target = mgw_session_get_target (session);
  mgw_dbus_session_set_state (iface, mgw_session_state_to_string (mgw_session_get_state (session)));
  mgw_dbus_session_set_bytes_from_user (iface, mgw_session_get_bytes_from_user (session));
  mgw_dbus_session_set_bytes_to_user (iface, mgw_session_get_bytes_to_user (session));
  mgw_dbus_session_set_redirect_bytes_from_user (iface, mgw_session_get_redirect_bytes_from_user (session));
  mgw_dbus_session_set_redirect_bytes_to_user (iface, mgw_session_get_redirect_bytes_to_user (session));
  mgw_dbus_session_set_redirections (iface, mgw_session_get_redirections (session));
  mgw_dbus_session_set_target (iface, target ? target : "");
  mgw_dbus_session_set_watched (iface, mgw_session_get_watched (session));
  mgw_dbus_session_set_recording (iface, mgw_session_get_recording (session) ?
                                  mgw_session_get_recording (session) : "");
}

static void
refresh_tls (MgwDBusGateway *i,
             MgwGateway     *gw)
{
  MgwTlsIdentity *identity = mgw_gateway_get_tls_identity (gw);
  MgwTlsHandshakes *handshakes = mgw_gateway_get_tls_handshakes (gw);
  const char *problem = mgw_gateway_get_tls_problem (gw);

  mgw_dbus_gateway_set_tls_certificate_subject (i, identity ? mgw_tls_identity_get_subject (identity) : "");
  mgw_dbus_gateway_set_tls_certificate_not_after (i, identity ? mgw_tls_identity_get_not_after (identity) : 0);
  mgw_dbus_gateway_set_tls_certificate_problem (i, problem ? problem : "");
  mgw_dbus_gateway_set_tls_handshakes (i, mgw_tls_handshakes_get_done (handshakes));
  mgw_dbus_gateway_set_tls_handshake_failures (i, mgw_tls_handshakes_get_failed (handshakes));
  mgw_dbus_gateway_set_tls_handshake_timeouts (i, mgw_tls_handshakes_get_timed_out (handshakes));
}

static void
refresh_gateway (MgwDbusService *self)
{
  MgwGateway *gw = self->gateway;
  const MgwCounters *c = mgw_gateway_get_counters (gw);
  MgwBanList *bans = mgw_gateway_get_ban_list (gw);
  MgwCommandLink *link = mgw_gateway_get_command_link (gw);
  MgwDBusGateway *i = self->iface;

  mgw_dbus_gateway_set_active_sessions (i, mgw_gateway_get_n_sessions (gw));
  mgw_dbus_gateway_set_active_telnet_sessions (i, mgw_gateway_get_n_sessions_by_access (gw, MGW_ACCESS_TELNET));
  mgw_dbus_gateway_set_active_web_socket_sessions (i, mgw_gateway_get_n_sessions_by_access (gw, MGW_ACCESS_WS));
  mgw_dbus_gateway_set_telnet_registrations (i, c->sessions_total[MGW_ACCESS_TELNET]);
  mgw_dbus_gateway_set_web_socket_registrations (i, c->sessions_total[MGW_ACCESS_WS]);
  mgw_dbus_gateway_set_active_raw_sessions (i, mgw_gateway_get_n_sessions_by_access (gw, MGW_ACCESS_RAW));
  mgw_dbus_gateway_set_raw_registrations (i, c->sessions_total[MGW_ACCESS_RAW]);
  mgw_dbus_gateway_set_redirections (i, c->redirections);
  mgw_dbus_gateway_set_bans (i, bans ? mgw_ban_list_get_bans (bans) : 0);
  mgw_dbus_gateway_set_unbans (i, bans ? mgw_ban_list_get_unbans (bans) : 0);
  mgw_dbus_gateway_set_ban_list_size (i, bans ? mgw_ban_list_get_size (bans) : 0);
  mgw_dbus_gateway_set_refused_banned (i, c->refused_banned);
  mgw_dbus_gateway_set_refused_full (i, c->refused_full);
  mgw_dbus_gateway_set_proxy_refused (i, c->proxy_refused);
  mgw_dbus_gateway_set_scanners (i, c->scanners);
  mgw_dbus_gateway_set_refused_rate (i, c->refused_rate);
  mgw_dbus_gateway_set_refused_pending (i, c->refused_pending);
  mgw_dbus_gateway_set_refused_draining (i, c->refused_draining);
  mgw_dbus_gateway_set_draining (i, mgw_gateway_get_draining (gw));
  mgw_dbus_gateway_set_drain_deadline (i, mgw_gateway_get_drain_deadline (gw));
  mgw_dbus_gateway_set_timeouts_user_inactivity (i, c->timeouts[MGW_TIMEOUT_USER_INACTIVITY]);
  mgw_dbus_gateway_set_timeouts_session_max (i, c->timeouts[MGW_TIMEOUT_SESSION_MAX]);
  mgw_dbus_gateway_set_timeouts_server_inactivity (i, c->timeouts[MGW_TIMEOUT_SERVER_INACTIVITY]);
  mgw_dbus_gateway_set_timeouts_redirect_inactivity (i, c->timeouts[MGW_TIMEOUT_REDIRECT_INACTIVITY]);
  mgw_dbus_gateway_set_timeouts_redirect_max (i, c->timeouts[MGW_TIMEOUT_REDIRECT_MAX]);
  mgw_dbus_gateway_set_bad_input (i, c->bad_input);
  mgw_dbus_gateway_set_bad_commands (i, c->bad_commands +
                                     (link ? mgw_command_link_get_bad_commands (link) : 0));
  mgw_dbus_gateway_set_command_messages_dropped (i, link ? mgw_command_link_get_dropped (link) : 0);
  mgw_dbus_gateway_set_command_channel_connected (i, link ? mgw_command_link_get_connected (link) : FALSE);
  mgw_dbus_gateway_set_recordings_active (i, mgw_gateway_get_n_recordings (gw));
  mgw_dbus_gateway_set_recordings_started (i, c->recordings_started);
  mgw_dbus_gateway_set_recording_bytes (i, c->recording_bytes);
  mgw_dbus_gateway_set_recording_dropped (i, c->recording_dropped_bytes);
  mgw_dbus_gateway_set_recording_failures (i, c->recording_failures);
  mgw_dbus_gateway_set_recordings_truncated (i, c->recordings_truncated);
  refresh_tls (i, gw);
}

static gboolean
refresh_cb (gpointer user_data)
{
  MgwDbusService *self = user_data;
  g_autoptr(GList) sessions = mgw_gateway_get_sessions (self->gateway);

  refresh_gateway (self);
  for (GList *l = sessions; l != NULL; l = l->next)
    refresh_session (self, l->data);
  return G_SOURCE_CONTINUE;
}

static void
refresh_teletel (MgwDbusService *self)
{
  MgwTeletel *control = self->teletel_control;

  mgw_dbus_teletel_set_backend (self->teletel, control ? mgw_teletel_get_backend (control) : "none");
  mgw_dbus_teletel_set_state (self->teletel,
                              mgw_teletel_state_to_string (control ? mgw_teletel_get_state (control)
                                                                   : MGW_TELETEL_UNKNOWN));
  mgw_dbus_teletel_set_pid (self->teletel, control ? mgw_teletel_get_pid (control) : 0);
}

static void
teletel_notify_cb (MgwTeletel     *control,
                   GParamSpec     *pspec,
                   MgwDbusService *self)
{
  if (self->teletel != NULL)
    refresh_teletel (self);
}

static void
set_static_properties (MgwDbusService *self)
{
  MgwConfig *config = mgw_gateway_get_config (self->gateway);
  MgwCommandLink *link = mgw_gateway_get_command_link (self->gateway);
  g_autoptr(GPtrArray) listen = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *addresses = config->listen_addresses ?
                               g_strjoinv (",", config->listen_addresses) : NULL;

  if (config->telnet_port != MGW_PORT_OFF)
    g_ptr_array_add (listen, g_strdup_printf ("telnet:%u%s%s",
                                              mgw_gateway_get_telnet_port (self->gateway),
                                              addresses ? "@" : "", addresses ? addresses : ""));
  if (config->ws_port != MGW_PORT_OFF)
    g_ptr_array_add (listen, g_strdup_printf ("websocket:%u%s%s",
                                              mgw_gateway_get_ws_port (self->gateway),
                                              addresses ? "@" : "", addresses ? addresses : ""));
  if (config->ws_tls_port != MGW_PORT_OFF)
    g_ptr_array_add (listen, g_strdup_printf ("websocket-tls:%u%s%s",
                                              mgw_gateway_get_ws_tls_port (self->gateway),
                                              addresses ? "@" : "", addresses ? addresses : ""));
  g_ptr_array_add (listen, NULL);
  mgw_dbus_gateway_set_version (self->iface, PACKAGE_VERSION);
  mgw_dbus_gateway_set_start_time (self->iface, mgw_gateway_get_start_time (self->gateway));
  mgw_dbus_gateway_set_listen_addresses (self->iface, (const char * const *) listen->pdata);
  mgw_dbus_gateway_set_default_server (self->iface, config->server_uri);
  mgw_dbus_gateway_set_command_channel (self->iface, link ? mgw_command_link_get_uri (link) : "");
  mgw_dbus_gateway_set_restart_pending (self->iface, mgw_gateway_get_restart_pending (self->gateway));
  refresh_teletel (self);
}

/* --- sessions --- */

static gboolean handle_disconnect (MgwDBusSession        *iface,
                                   GDBusMethodInvocation *invocation,
                                   MgwDbusService        *self);
static gboolean handle_session_message (MgwDBusSession        *iface,
                                        GDBusMethodInvocation *invocation,
                                        const char            *text,
                                        MgwDbusService        *self);
static gboolean handle_watch (MgwDBusSession        *iface,
                              GDBusMethodInvocation *invocation,
                              MgwDbusService        *self);
static gboolean handle_start_recording (MgwDBusSession        *iface,
                                        GDBusMethodInvocation *invocation,
                                        MgwDbusService        *self);
static gboolean handle_stop_recording (MgwDBusSession        *iface,
                                       GDBusMethodInvocation *invocation,
                                       MgwDbusService        *self);

static void
session_state_cb (MgwSession     *session,
                  int             old,
                  MgwDbusService *self)
{
  refresh_session (self, session);
}

static void
session_watched_cb (MgwSession     *session,
                    MgwDbusService *self)
{
  refresh_session (self, session);
}

static void
session_recording_cb (MgwSession     *session,
                      MgwDbusService *self)
{
  refresh_session (self, session);
}

static void
session_added_cb (MgwGateway     *gateway,
                  MgwSession     *session,
                  MgwDbusService *self)
{
  guint id = mgw_session_get_id (session);
  g_autofree char *path = g_strdup_printf (OBJECT_PATH "/sessions/%u", id);
  g_autoptr(MgwDBusObjectSkeleton) object = mgw_dbus_object_skeleton_new (path);
  g_autoptr(MgwDBusSession) iface = mgw_dbus_session_skeleton_new ();

  mgw_dbus_session_set_id (iface, id);
  mgw_dbus_session_set_access (iface, mgw_access_to_string (mgw_session_get_access (session)));
  mgw_dbus_session_set_start_time (iface, mgw_session_get_start_time (session));
  g_object_set_data (G_OBJECT (iface), "mgw-session-id", GUINT_TO_POINTER (id));
  g_signal_connect (iface, "handle-disconnect", G_CALLBACK (handle_disconnect), self);
  g_signal_connect (iface, "handle-message", G_CALLBACK (handle_session_message), self);
  g_signal_connect (iface, "handle-watch", G_CALLBACK (handle_watch), self);
  g_signal_connect (iface, "handle-unwatch", G_CALLBACK (handle_watch), self);
  g_signal_connect (iface, "handle-start-recording", G_CALLBACK (handle_start_recording), self);
  g_signal_connect (iface, "handle-stop-recording", G_CALLBACK (handle_stop_recording), self);
  mgw_dbus_object_skeleton_set_session (object, iface);
  g_hash_table_insert (self->sessions, GUINT_TO_POINTER (id), g_object_ref (object));
  refresh_session (self, session);
  g_signal_connect_object (session, "state-changed", G_CALLBACK (session_state_cb), self, 0);
  g_signal_connect_object (session, "watched-changed", G_CALLBACK (session_watched_cb), self, 0);
  g_signal_connect_object (session, "recording-changed", G_CALLBACK (session_recording_cb), self,
                           0);
  g_dbus_object_manager_server_export (self->manager, G_DBUS_OBJECT_SKELETON (object));
  refresh_gateway (self);
}

static void
session_removed_cb (MgwGateway     *gateway,
                    MgwSession     *session,
                    MgwDbusService *self)
{
  guint id = mgw_session_get_id (session);
  g_autofree char *path = g_strdup_printf (OBJECT_PATH "/sessions/%u", id);

  g_signal_handlers_disconnect_by_data (session, self);
  mgw_dbus_watch_session_gone (self->watch, id);
  g_dbus_object_manager_server_unexport (self->manager, path);
  g_hash_table_remove (self->sessions, GUINT_TO_POINTER (id));
  refresh_gateway (self);
}

static void
do_disconnect (MgwDbusService        *self,
               GDBusMethodInvocation *invocation,
               gpointer               data)
{
  guint id = GPOINTER_TO_UINT (data);
  MgwSession *session = mgw_gateway_lookup_session (self->gateway, id);

  if (session == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_UNKNOWN_OBJECT,
                                             _("No session %u"), id);
      return;
    }
  g_message ("D-Bus: session %u disconnected by %s", id, caller (invocation));
  /* TRANSLATORS: a Minitel status line, 39 places at most. */
  mgw_session_end (session, N_("DISCONNECTED BY THE OPERATOR"));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
handle_disconnect (MgwDBusSession        *iface,
                   GDBusMethodInvocation *invocation,
                   MgwDbusService        *self)
{
  authorize (self, invocation, do_disconnect,
             g_object_get_data (G_OBJECT (iface), "mgw-session-id"), NULL);
  return TRUE;
}

/* What an operator's text may be: InvalidArgs, saying why, otherwise. */
static gboolean
text_refused (GDBusMethodInvocation *invocation,
              const char            *text)
{
  g_autoptr(GError) error = NULL;

  if (mgw_minitel_check_message (text, &error))
    return FALSE;
  g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR,
                                                 G_DBUS_ERROR_INVALID_ARGS, error->message);
  return TRUE;
}

typedef struct
{
  guint32  id;        /* a session's */
  guint32  grace;     /* Drain's */
  char    *text;
  char    *target;    /* Message's */
} TextArgs;

static void
text_args_free (TextArgs *args)
{
  g_free (args->text);
  g_free (args->target);
  g_free (args);
}

static TextArgs *
text_args_new (guint32     id,
               guint32     grace,
               const char *text,
               const char *target)
{
  TextArgs *args = g_new0 (TextArgs, 1);

  args->id = id;
  args->grace = grace;
  args->text = g_strdup (text);
  args->target = g_strdup (target);
  return args;
}

static void
do_session_message (MgwDbusService        *self,
                    GDBusMethodInvocation *invocation,
                    gpointer               data)
{
  TextArgs *args = data;
  MgwSession *session = mgw_gateway_lookup_session (self->gateway, args->id);

  if (session == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_UNKNOWN_OBJECT,
                                             _("No session %u"), args->id);
      return;
    }
  if (text_refused (invocation, args->text))
    return;
  if (!mgw_session_message (session, args->text))
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                             _("Session %u is ending: not told"), args->id);
      return;
    }
  g_message ("D-Bus: message to session %u by %s: %s", args->id, caller (invocation), args->text);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
handle_session_message (MgwDBusSession        *iface,
                        GDBusMethodInvocation *invocation,
                        const char            *text,
                        MgwDbusService        *self)
{
  guint32 id = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (iface), "mgw-session-id"));

  authorize (self, invocation, do_session_message, text_args_new (id, 0, text, NULL),
             (GDestroyNotify) text_args_free);
  return TRUE;
}

/* Watch and Unwatch: the caller's unique name, for this session. */
static void
do_watch (MgwDbusService        *self,
          GDBusMethodInvocation *invocation,
          gpointer               data)
{
  guint id = GPOINTER_TO_UINT (data);
  MgwSession *session = mgw_gateway_lookup_session (self->gateway, id);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  if (strcmp (g_dbus_method_invocation_get_method_name (invocation), "Unwatch") == 0)
    mgw_dbus_watch_remove (self->watch, id, sender, "Unwatch");
  else if (session == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_UNKNOWN_OBJECT,
                                             _("No session %u"), id);
      return;
    }
  else if (mgw_session_get_state (session) >= MGW_SESSION_CLOSING)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                             _("Session %u is ending"), id);
      return;
    }
  else
    mgw_dbus_watch_add (self->watch, session, sender, caller (invocation));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
handle_watch (MgwDBusSession        *iface,
              GDBusMethodInvocation *invocation,
              MgwDbusService        *self)
{
  authorize (self, invocation, do_watch,
             g_object_get_data (G_OBJECT (iface), "mgw-session-id"), NULL);
  return TRUE;
}

/* StartRecording answers once the file is created, or cannot be. */
typedef struct
{
  MgwDbusService        *self;
  GDBusMethodInvocation *invocation;
  MgwRecorder           *recorder;
  guint                  id;
} RecordingWait;

static void
recording_wait_free (RecordingWait *w)
{
  g_signal_handlers_disconnect_by_data (w->recorder, w);
  g_object_unref (w->recorder);
  g_object_unref (w->invocation);
  g_object_unref (w->self);
  g_free (w);
}

static void
recording_ready_cb (MgwRecorder   *recorder,
                    RecordingWait *w)
{
  const char *id = mgw_recorder_get_id (recorder);

  g_message ("D-Bus: session %u recorded as %s, for %s", w->id, id, caller (w->invocation));
  g_dbus_method_invocation_return_value (w->invocation, g_variant_new ("(s)", id));
  recording_wait_free (w);
}

static void
recording_failed_cb (MgwRecorder   *recorder,
                     const GError  *error,
                     RecordingWait *w)
{
  g_autofree char *message = g_strdup_printf (_("Cannot record session %u: %s"), w->id,
                                              error->message);

  g_dbus_method_invocation_return_dbus_error (w->invocation, "org.freedesktop.DBus.Error.Failed",
                                              message);
  recording_wait_free (w);
}

static void
do_start_recording (MgwDbusService        *self,
                    GDBusMethodInvocation *invocation,
                    gpointer               data)
{
  guint id = GPOINTER_TO_UINT (data);
  MgwSession *session = mgw_gateway_lookup_session (self->gateway, id);
  g_autoptr(GError) error = NULL;
  RecordingWait *w;

  if (session == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_UNKNOWN_OBJECT,
                                             _("No session %u"), id);
      return;
    }
  if (!mgw_gateway_record_session (self->gateway, session, &error))
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  g_error_matches (error, G_IO_ERROR,
                                                                   G_IO_ERROR_NOT_SUPPORTED) ?
                                                  "org.freedesktop.DBus.Error.NotSupported" :
                                                  "org.freedesktop.DBus.Error.Failed",
                                                  error->message);
      return;
    }
  w = g_new0 (RecordingWait, 1);
  w->self = g_object_ref (self);
  w->invocation = g_object_ref (invocation);
  w->recorder = g_object_ref (mgw_session_get_recorder (session));
  w->id = id;
  g_signal_connect (w->recorder, "ready", G_CALLBACK (recording_ready_cb), w);
  g_signal_connect (w->recorder, "failed", G_CALLBACK (recording_failed_cb), w);
}

static gboolean
handle_start_recording (MgwDBusSession        *iface,
                        GDBusMethodInvocation *invocation,
                        MgwDbusService        *self)
{
  authorize (self, invocation, do_start_recording,
             g_object_get_data (G_OBJECT (iface), "mgw-session-id"), NULL);
  return TRUE;
}

static void
do_stop_recording (MgwDbusService        *self,
                   GDBusMethodInvocation *invocation,
                   gpointer               data)
{
  guint id = GPOINTER_TO_UINT (data);
  MgwSession *session = mgw_gateway_lookup_session (self->gateway, id);
  g_autoptr(GError) error = NULL;

  if (session == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_UNKNOWN_OBJECT,
                                             _("No session %u"), id);
      return;
    }
  if (!mgw_session_stop_recording (session, &error))
    {
      g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.Failed",
                                                  error->message);
      return;
    }
  g_message ("D-Bus: session %u no longer recorded, for %s", id, caller (invocation));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
handle_stop_recording (MgwDBusSession        *iface,
                       GDBusMethodInvocation *invocation,
                       MgwDbusService        *self)
{
  authorize (self, invocation, do_stop_recording,
             g_object_get_data (G_OBJECT (iface), "mgw-session-id"), NULL);
  return TRUE;
}

/* --- gateway methods --- */

static void
do_list_bans (MgwDbusService        *self,
              GDBusMethodInvocation *invocation,
              gpointer               data)
{
  g_autoptr(GPtrArray) bans = mgw_ban_list_list (mgw_gateway_get_ban_list (self->gateway));
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sxxs)"));
  for (guint i = 0; i < bans->len; i++)
    {
      MgwBan *ban = bans->pdata[i];
      g_variant_builder_add (&builder, "(sxxs)", ban->address, ban->since, ban->expiry,
                             ban->reason ? ban->reason : "");
    }
  mgw_dbus_gateway_complete_list_bans (self->iface, invocation, g_variant_builder_end (&builder));
}

/* It names users' addresses: behind the gate. */
static gboolean
handle_list_bans (MgwDBusGateway        *iface,
                  GDBusMethodInvocation *invocation,
                  MgwDbusService        *self)
{
  authorize (self, invocation, do_list_bans, NULL, NULL);
  return TRUE;
}

static void
add_peer (GVariantBuilder *builder,
          MgwSession      *session)
{
  g_variant_builder_add (builder, "(usq)", mgw_session_get_id (session),
                         mgw_session_get_peer_address (session),
                         mgw_session_get_peer_port (session));
}

static void
do_list_peers (MgwDbusService        *self,
               GDBusMethodInvocation *invocation,
               gpointer               data)
{
  GArray *ids = data;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(usq)"));
  if (ids->len == 0)
    {
      g_autoptr(GList) sessions = mgw_gateway_get_sessions (self->gateway);

      for (GList *l = sessions; l != NULL; l = l->next)
        add_peer (&builder, l->data);
    }
  for (guint i = 0; i < ids->len; i++)
    {
      MgwSession *session = mgw_gateway_lookup_session (self->gateway,
                                                        g_array_index (ids, guint32, i));

      if (session != NULL)
        add_peer (&builder, session);
    }
  mgw_dbus_gateway_complete_list_peers (self->iface, invocation, g_variant_builder_end (&builder));
}

static gboolean
handle_list_peers (MgwDBusGateway        *iface,
                   GDBusMethodInvocation *invocation,
                   GVariant              *ids,
                   MgwDbusService        *self)
{
  gsize n = 0;
  const guint32 *values = g_variant_get_fixed_array (ids, &n, sizeof (guint32));
  GArray *copy = g_array_sized_new (FALSE, FALSE, sizeof (guint32), (guint) n);

  if (n > 0)
    g_array_append_vals (copy, values, (guint) n);
  authorize (self, invocation, do_list_peers, copy, (GDestroyNotify) g_array_unref);
  return TRUE;
}

typedef struct
{
  char   *address;
  guint32 duration;
} BanArgs;

static void
ban_args_free (BanArgs *args)
{
  g_free (args->address);
  g_free (args);
}

static void
do_ban (MgwDbusService        *self,
        GDBusMethodInvocation *invocation,
        gpointer               data)
{
  BanArgs *args = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = g_strdup_printf ("manual, by %s", caller (invocation));
  g_autofree char *banned = NULL;

  if (!mgw_gateway_ban (self->gateway, args->address, reason,
                        (gint64) args->duration * G_USEC_PER_SEC, &banned, &error))
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "org.freedesktop.DBus.Error.InvalidArgs",
                                                  error->message);
      return;
    }
  refresh_gateway (self);
  mgw_dbus_gateway_complete_ban (self->iface, invocation, banned);
}

static gboolean
handle_ban (MgwDBusGateway        *iface,
            GDBusMethodInvocation *invocation,
            const char            *address,
            guint32                duration,
            MgwDbusService        *self)
{
  BanArgs *args = g_new0 (BanArgs, 1);

  args->address = g_strdup (address);
  args->duration = duration;
  authorize (self, invocation, do_ban, args, (GDestroyNotify) ban_args_free);
  return TRUE;
}

static void
do_unban (MgwDbusService        *self,
          GDBusMethodInvocation *invocation,
          gpointer               data)
{
  g_autoptr(GError) error = NULL;

  if (!mgw_ban_list_unban (mgw_gateway_get_ban_list (self->gateway), data, &error))
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "org.freedesktop.DBus.Error.InvalidArgs",
                                                  error->message);
      return;
    }
  refresh_gateway (self);
  mgw_dbus_gateway_complete_unban (self->iface, invocation);
}

static gboolean
handle_unban (MgwDBusGateway        *iface,
              GDBusMethodInvocation *invocation,
              const char            *address,
              MgwDbusService        *self)
{
  authorize (self, invocation, do_unban, g_strdup (address), g_free);
  return TRUE;
}

static void
do_reload (MgwDbusService        *self,
           GDBusMethodInvocation *invocation,
           gpointer               data)
{
  g_autoptr(GError) error = NULL;

  if (self->reload == NULL || !self->reload (self->reload_data, &error))
    {
      g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.Failed",
                                                  error ? error->message : _("Reload is not available"));
      return;
    }
  /* RestartPending and the certificate, before the caller reads them. */
  set_static_properties (self);
  refresh_tls (self->iface, self->gateway);
  mgw_dbus_gateway_complete_reload (self->iface, invocation);
}

static gboolean
handle_reload (MgwDBusGateway        *iface,
               GDBusMethodInvocation *invocation,
               MgwDbusService        *self)
{
  authorize (self, invocation, do_reload, NULL, NULL);
  return TRUE;
}

/* --- recordings --- */

static MgwRecordings *
recordings_or_fail (MgwDbusService        *self,
                    GDBusMethodInvocation *invocation)
{
  MgwRecordings *recordings = mgw_gateway_get_recordings (self->gateway);

  if (recordings == NULL)
    g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.Failed",
                                                _("The gateway has not started"));
  return recordings;
}

/* A recording error as D-Bus names it. */
static void
return_recording_error (GDBusMethodInvocation *invocation,
                        const GError          *error)
{
  const char *name = "org.freedesktop.DBus.Error.Failed";

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    name = "org.freedesktop.DBus.Error.InvalidArgs";
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    name = "org.freedesktop.DBus.Error.FileNotFound";
  g_dbus_method_invocation_return_dbus_error (invocation, name, error->message);
}

static void
listed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GDBusMethodInvocation) invocation = user_data;
  MgwRecordings *recordings = MGW_RECORDINGS (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = mgw_recordings_list_finish (recordings, result, &error);
  MgwDbusService *self = g_object_get_data (G_OBJECT (invocation), "mgw-service");
  GVariantBuilder builder;

  if (list == NULL)
    {
      return_recording_error (invocation, error);
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(susqsxxtb)"));
  for (guint i = 0; i < list->len; i++)
    {
      MgwRecordingInfo *info = list->pdata[i];
      const MgwRecordingHeader *h = &info->header;

      g_variant_builder_add (&builder, "(susqsxxtb)", info->id, info->readable ? h->session : 0,
                             info->readable ? h->peer : "", info->readable ? h->port : 0,
                             info->readable ? h->access : "", info->readable ? h->start : 0,
                             info->modified, info->size,
                             mgw_recordings_is_active (recordings, info->id));
    }
  mgw_dbus_gateway_complete_list_recordings (self->iface, invocation,
                                             g_variant_builder_end (&builder));
}

static void
do_list_recordings (MgwDbusService        *self,
                    GDBusMethodInvocation *invocation,
                    gpointer               data)
{
  MgwRecordings *recordings = recordings_or_fail (self, invocation);

  if (recordings == NULL)
    return;
  /* The invocation keeps the service for the reply. */
  g_object_set_data_full (G_OBJECT (invocation), "mgw-service", g_object_ref (self), g_object_unref);
  mgw_recordings_list_async (recordings, NULL, listed_cb, g_object_ref (invocation));
}

static gboolean
handle_list_recordings (MgwDBusGateway        *iface,
                        GDBusMethodInvocation *invocation,
                        MgwDbusService        *self)
{
  authorize (self, invocation, do_list_recordings, NULL, NULL);
  return TRUE;
}

static void
do_open_recording (MgwDbusService        *self,
                   GDBusMethodInvocation *invocation,
                   gpointer               data)
{
  MgwRecordings *recordings = recordings_or_fail (self, invocation);
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  int fd, index;

  if (recordings == NULL)
    return;
  fd = mgw_recordings_open (recordings, data, &error);
  if (fd < 0)
    {
      return_recording_error (invocation, error);
      return;
    }
  fds = g_unix_fd_list_new ();
  index = g_unix_fd_list_append (fds, fd, &error);
  close (fd);
  if (index < 0)
    {
      return_recording_error (invocation, error);
      return;
    }
  g_message ("D-Bus: recording %s opened by %s", (const char *) data, caller (invocation));
  mgw_dbus_gateway_complete_open_recording (self->iface, invocation, fds,
                                            g_variant_new_handle (index));
}

static gboolean
handle_open_recording (MgwDBusGateway        *iface,
                       GDBusMethodInvocation *invocation,
                       GUnixFDList           *fd_list,
                       const char            *id,
                       MgwDbusService        *self)
{
  authorize (self, invocation, do_open_recording, g_strdup (id), g_free);
  return TRUE;
}

static void
do_delete_recording (MgwDbusService        *self,
                     GDBusMethodInvocation *invocation,
                     gpointer               data)
{
  MgwRecordings *recordings = recordings_or_fail (self, invocation);
  g_autoptr(GError) error = NULL;

  if (recordings == NULL)
    return;
  if (!mgw_recordings_delete (recordings, data, &error))
    {
      return_recording_error (invocation, error);
      return;
    }
  g_message ("D-Bus: recording %s removed by %s", (const char *) data, caller (invocation));
  mgw_dbus_gateway_complete_delete_recording (self->iface, invocation);
}

static gboolean
handle_delete_recording (MgwDBusGateway        *iface,
                         GDBusMethodInvocation *invocation,
                         const char            *id,
                         MgwDbusService        *self)
{
  authorize (self, invocation, do_delete_recording, g_strdup (id), g_free);
  return TRUE;
}

static void
expired_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GDBusMethodInvocation) invocation = user_data;
  MgwDbusService *self = g_object_get_data (G_OBJECT (invocation), "mgw-service");
  g_autoptr(GError) error = NULL;
  guint removed = 0;
  guint64 freed = 0;

  if (!mgw_recordings_expire_finish (MGW_RECORDINGS (source), result, &removed, &freed, &error))
    {
      return_recording_error (invocation, error);
      return;
    }
  g_message ("D-Bus: retention asked by %s: %u recordings removed (%" G_GUINT64_FORMAT " bytes)",
             caller (invocation), removed, freed);
  mgw_dbus_gateway_complete_expire_recordings (self->iface, invocation, removed, freed);
}

static void
do_expire_recordings (MgwDbusService        *self,
                      GDBusMethodInvocation *invocation,
                      gpointer               data)
{
  MgwRecordings *recordings = recordings_or_fail (self, invocation);

  if (recordings == NULL)
    return;
  g_object_set_data_full (G_OBJECT (invocation), "mgw-service", g_object_ref (self), g_object_unref);
  mgw_recordings_expire_async (recordings, NULL, expired_cb, g_object_ref (invocation));
}

static gboolean
handle_expire_recordings (MgwDBusGateway        *iface,
                          GDBusMethodInvocation *invocation,
                          MgwDbusService        *self)
{
  authorize (self, invocation, do_expire_recordings, NULL, NULL);
  return TRUE;
}

static void
do_message (MgwDbusService        *self,
            GDBusMethodInvocation *invocation,
            gpointer               data)
{
  TextArgs *args = data;
  guint told;

  if (text_refused (invocation, args->text))
    return;
  told = mgw_gateway_message (self->gateway, args->text, args->target);
  if (*args->target != '\0')
    g_message ("D-Bus: message to the sessions redirected to '%s' by %s, %u told: %s",
               args->target, caller (invocation), told, args->text);
  else
    g_message ("D-Bus: message to every session by %s, %u told: %s", caller (invocation), told,
               args->text);
  mgw_dbus_gateway_complete_message (self->iface, invocation, told);
}

static gboolean
handle_message (MgwDBusGateway        *iface,
                GDBusMethodInvocation *invocation,
                const char            *text,
                const char            *target,
                MgwDbusService        *self)
{
  authorize (self, invocation, do_message, text_args_new (0, 0, text, target),
             (GDestroyNotify) text_args_free);
  return TRUE;
}

static void
do_drain (MgwDbusService        *self,
          GDBusMethodInvocation *invocation,
          gpointer               data)
{
  TextArgs *args = data;

  if (*args->text != '\0' && text_refused (invocation, args->text))
    return;
  g_message ("D-Bus: drain by %s, grace %u s%s%s", caller (invocation), args->grace,
             *args->text != '\0' ? ": " : "", args->text);
  mgw_gateway_drain (self->gateway, args->grace, *args->text != '\0' ? args->text : NULL);
  mgw_dbus_gateway_complete_drain (self->iface, invocation);
}

static gboolean
handle_drain (MgwDBusGateway        *iface,
              GDBusMethodInvocation *invocation,
              guint32                grace,
              const char            *text,
              MgwDbusService        *self)
{
  authorize (self, invocation, do_drain, text_args_new (0, grace, text, NULL),
             (GDestroyNotify) text_args_free);
  return TRUE;
}

static void
do_resume (MgwDbusService        *self,
           GDBusMethodInvocation *invocation,
           gpointer               data)
{
  gboolean was = mgw_gateway_resume (self->gateway);

  g_message ("D-Bus: resume by %s%s", caller (invocation), was ? "" : " (not draining)");
  mgw_dbus_gateway_complete_resume (self->iface, invocation);
}

static gboolean
handle_resume (MgwDBusGateway        *iface,
               GDBusMethodInvocation *invocation,
               MgwDbusService        *self)
{
  authorize (self, invocation, do_resume, NULL, NULL);
  return TRUE;
}

static void
drain_changed_cb (MgwGateway     *gateway,
                  MgwDbusService *self)
{
  refresh_gateway (self);
}

static void
teletel_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GDBusMethodInvocation) invocation = user_data;
  MgwTeletel *control = MGW_TELETEL (source);
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (strcmp (method, "Stop") == 0)
    ok = mgw_teletel_stop_finish (control, result, &error);
  else if (strcmp (method, "Start") == 0)
    ok = mgw_teletel_start_finish (control, result, &error);
  else
    ok = mgw_teletel_restart_finish (control, result, &error);
  if (!ok)
    {
      g_message ("D-Bus: Teletel %s by %s failed: %s", method, caller (invocation),
                 error->message);
      g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.Failed",
                                                  error->message);
      return;
    }
  g_message ("D-Bus: Teletel %s by %s done", method, caller (invocation));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
do_teletel (MgwDbusService        *self,
            GDBusMethodInvocation *invocation,
            gpointer               data)
{
  MgwTeletel *control = self->teletel_control;
  const char *method = g_dbus_method_invocation_get_method_name (invocation);

  if (control == NULL)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.NotSupported",
                                                  _("No Teletel control backend is configured"));
      return;
    }
  /* The operation keeps `control` alive; the invocation is answered
   * when it is over. */
  if (strcmp (method, "Stop") == 0)
    mgw_teletel_stop_async (control, NULL, teletel_done_cb, g_object_ref (invocation));
  else if (strcmp (method, "Start") == 0)
    mgw_teletel_start_async (control, NULL, teletel_done_cb, g_object_ref (invocation));
  else
    mgw_teletel_restart_async (control, NULL, teletel_done_cb, g_object_ref (invocation));
}

static gboolean
handle_teletel (MgwDBusTeletel        *iface,
                GDBusMethodInvocation *invocation,
                MgwDbusService        *self)
{
  authorize (self, invocation, do_teletel, NULL, NULL);
  return TRUE;
}

/* --- bans and the command channel --- */

static void
banned_cb (MgwBanList     *bans,
           const char     *address,
           const char     *reason,
           MgwDbusService *self)
{
  mgw_dbus_gateway_emit_banned (self->iface, address, reason);
  refresh_gateway (self);
}

static void
unbanned_cb (MgwBanList     *bans,
             const char     *address,
             const char     *reason,
             MgwDbusService *self)
{
  mgw_dbus_gateway_emit_unbanned (self->iface, address, reason);
  refresh_gateway (self);
}

static void
command_connected_cb (GObject        *link,
                      GParamSpec     *pspec,
                      MgwDbusService *self)
{
  refresh_gateway (self);
}

/* --- bus --- */

static void connect_bus (MgwDbusService *self);

static void
set_owned (MgwDbusService *self,
           gboolean        owned)
{
  if (self->owned == owned)
    return;
  self->owned = owned;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_OWNED]);
}

static gboolean
retry_cb (gpointer user_data)
{
  MgwDbusService *self = user_data;

  self->retry_id = 0;
  connect_bus (self);
  return G_SOURCE_REMOVE;
}

/* The D-Bus view is gone for now: said once an outage, tried again. */
static void
unavailable (MgwDbusService *self,
             const char     *why)
{
  self->retry_s = self->retry_s == 0 ? 1 : MIN (self->retry_s * 2, RETRY_MAX_S);
  if (!self->outage_logged)
    {
      g_warning ("D-Bus: %s; users are still served, trying again (every %u s at most)",
                 why, (guint) RETRY_MAX_S);
      self->outage_logged = TRUE;
    }
  g_signal_emit (self, signals[SIGNAL_UNAVAILABLE], 0, why);
  if (self->retry_id == 0)
    self->retry_id = g_timeout_add_seconds (self->retry_s, retry_cb, self);
}

static void
drop_connection (MgwDbusService *self)
{
  /* The watchers were on that bus. */
  mgw_dbus_watch_set_connection (self->watch, NULL);
  if (self->owner_id != 0)
    {
      g_bus_unown_name (self->owner_id);
      self->owner_id = 0;
    }
  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->iface)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->iface));
  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->teletel)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->teletel));
  if (self->manager != NULL)
    g_dbus_object_manager_server_set_connection (self->manager, NULL);
  if (self->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->connection, self);
      /* The bus sees us leave now, not when the last reference goes. */
      if (!g_dbus_connection_is_closed (self->connection))
        g_dbus_connection_close (self->connection, NULL, NULL, NULL);
      g_clear_object (&self->connection);
    }
  set_owned (self, FALSE);
}

static void
connection_closed_cb (GDBusConnection *connection,
                      gboolean         remote_peer_vanished,
                      GError          *error,
                      MgwDbusService  *self)
{
  g_autofree char *why = g_strdup_printf ("the connection to the bus closed (%s)",
                                          error != NULL ? error->message : "by the bus");

  drop_connection (self);
  unavailable (self, why);
}

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  MgwDbusService *self = user_data;

  g_message ("D-Bus: %s acquired%s", name, self->outage_logged ? " again" : "");
  self->retry_s = 0;
  self->outage_logged = FALSE;
  set_owned (self, TRUE);
}

static void
name_lost_cb (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  MgwDbusService *self = user_data;
  g_autofree char *why = NULL;

  /* A closed connection says so itself (connection_closed_cb). */
  if (connection == NULL || g_dbus_connection_is_closed (connection))
    return;
  why = g_strdup_printf ("cannot own the name %s (another moipgwd has it, or the bus policy "
                         "does not let this user own it)", name);
  drop_connection (self);
  unavailable (self, why);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  MgwDbusService *self = user_data;
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection = g_dbus_connection_new_for_address_finish (result, &error);

  /* Cancelled: the service is being disposed (self may be gone). */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->connecting);
  if (connection == NULL)
    {
      g_autofree char *why = g_strdup_printf ("cannot connect to the %s bus: %s",
                                              self->bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session",
                                              error->message);
      unavailable (self, why);
      return;
    }
  self->connection = connection;
  mgw_dbus_watch_set_connection (self->watch, connection);
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  g_signal_connect (connection, "closed", G_CALLBACK (connection_closed_cb), self);
  /* The root object carries the ObjectManager (its children are the
   * sessions) and, next to it, the gateway and Teletel interfaces. */
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->iface), connection,
                                         OBJECT_PATH, &error) ||
      !g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->teletel), connection,
                                         OBJECT_PATH, &error))
    g_warning ("D-Bus: cannot export %s: %s", OBJECT_PATH, error->message);
  g_dbus_object_manager_server_set_connection (self->manager, connection);
  self->owner_id = g_bus_own_name_on_connection (connection, BUS_NAME,
                                                 G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                 name_acquired_cb, name_lost_cb, self, NULL);
}

static void
connect_bus (MgwDbusService *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_dbus_address_get_for_bus_sync (self->bus_type, NULL, &error);

  if (address == NULL)
    {
      g_autofree char *why = g_strdup_printf ("no %s bus: %s",
                                              self->bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session",
                                              error->message);
      unavailable (self, why);
      return;
    }
  self->connecting = g_cancellable_new ();
  g_dbus_connection_new_for_address (address,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, self->connecting, connected_cb, self);
}

void
mgw_dbus_service_start (MgwDbusService *self)
{
  g_autoptr(GList) sessions = NULL;
  MgwCommandLink *link = mgw_gateway_get_command_link (self->gateway);

  g_return_if_fail (MGW_IS_DBUS_SERVICE (self));
  g_return_if_fail (self->manager == NULL);

  /* The skeletons follow the gateway whether the bus is there or not:
   * whenever it comes (back), they are exported as they are. */
  self->manager = g_dbus_object_manager_server_new (OBJECT_PATH);
  set_static_properties (self);
  refresh_gateway (self);
  sessions = mgw_gateway_get_sessions (self->gateway);
  for (GList *l = sessions; l != NULL; l = l->next)
    session_added_cb (self->gateway, l->data, self);
  g_signal_connect_object (self->gateway, "session-added", G_CALLBACK (session_added_cb), self, 0);
  g_signal_connect_object (self->gateway, "session-removed", G_CALLBACK (session_removed_cb), self, 0);
  g_signal_connect_object (self->gateway, "drain-changed", G_CALLBACK (drain_changed_cb), self, 0);
  g_signal_connect_object (mgw_gateway_get_ban_list (self->gateway), "banned",
                           G_CALLBACK (banned_cb), self, 0);
  g_signal_connect_object (mgw_gateway_get_ban_list (self->gateway), "unbanned",
                           G_CALLBACK (unbanned_cb), self, 0);
  if (link != NULL)
    g_signal_connect_object (link, "notify::connected", G_CALLBACK (command_connected_cb), self, 0);
  self->refresh_id = g_timeout_add_seconds (REFRESH_S, refresh_cb, self);
  connect_bus (self);
}

gboolean
mgw_dbus_service_get_owned (MgwDbusService *self)
{
  g_return_val_if_fail (MGW_IS_DBUS_SERVICE (self), FALSE);

  return self->owned;
}

static void
mgw_dbus_service_dispose (GObject *object)
{
  MgwDbusService *self = MGW_DBUS_SERVICE (object);

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->connecting != NULL)
    g_cancellable_cancel (self->connecting);
  g_clear_object (&self->connecting);
  /* Exported only while the bus was there. */
  if (self->iface != NULL && self->teletel != NULL)
    drop_connection (self);
  g_clear_pointer (&self->watch, mgw_dbus_watch_free);
  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_clear_object (&self->manager);
  g_clear_object (&self->iface);
  if (self->teletel_control != NULL)
    g_signal_handlers_disconnect_by_data (self->teletel_control, self);
  g_clear_object (&self->teletel_control);
  g_clear_object (&self->teletel);
  g_clear_object (&self->connection);
  g_clear_object (&self->gateway);
  G_OBJECT_CLASS (mgw_dbus_service_parent_class)->dispose (object);
}

static void
mgw_dbus_service_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  MgwDbusService *self = MGW_DBUS_SERVICE (object);

  switch (prop_id)
    {
    case PROP_OWNED:
      g_value_set_boolean (value, self->owned);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mgw_dbus_service_class_init (MgwDbusServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mgw_dbus_service_dispose;
  object_class->get_property = mgw_dbus_service_get_property;

  /* Whether org.moipgw.Gateway1 is ours on the bus now. */
  props[PROP_OWNED] =
    g_param_spec_boolean ("owned", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /* An attempt to reach the bus or own the name failed (why, in
   * English); the service tries again by itself. */
  signals[SIGNAL_UNAVAILABLE] =
    g_signal_new ("unavailable", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
mgw_dbus_service_init (MgwDbusService *self)
{
  self->sessions = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->watch = mgw_dbus_watch_new ();
}

/* The Teletel server's control (NULL: none); D-Bus follows it. */
void
mgw_dbus_service_set_teletel (MgwDbusService *self,
                              MgwTeletel     *teletel)
{
  g_return_if_fail (MGW_IS_DBUS_SERVICE (self));
  g_return_if_fail (teletel == NULL || MGW_IS_TELETEL (teletel));

  if (self->teletel_control == teletel)
    return;
  if (self->teletel_control != NULL)
    g_signal_handlers_disconnect_by_data (self->teletel_control, self);
  g_set_object (&self->teletel_control, teletel);
  if (teletel != NULL)
    {
      g_signal_connect_object (teletel, "notify::state", G_CALLBACK (teletel_notify_cb), self, 0);
      g_signal_connect_object (teletel, "notify::pid", G_CALLBACK (teletel_notify_cb), self, 0);
    }
  if (self->teletel != NULL)
    refresh_teletel (self);
}

MgwDbusService *
mgw_dbus_service_new (MgwGateway    *gateway,
                      GBusType       bus_type,
                      MgwReloadFunc  reload,
                      gpointer       reload_data)
{
  MgwDbusService *self;

  g_return_val_if_fail (MGW_IS_GATEWAY (gateway), NULL);

  self = g_object_new (MGW_TYPE_DBUS_SERVICE, NULL);
  self->gateway = g_object_ref (gateway);
  self->bus_type = bus_type;
  self->reload = reload;
  self->reload_data = reload_data;
  self->iface = mgw_dbus_gateway_skeleton_new ();
  self->teletel = mgw_dbus_teletel_skeleton_new ();
  g_signal_connect (self->iface, "handle-list-bans", G_CALLBACK (handle_list_bans), self);
  g_signal_connect (self->iface, "handle-list-peers", G_CALLBACK (handle_list_peers), self);
  g_signal_connect (self->iface, "handle-ban", G_CALLBACK (handle_ban), self);
  g_signal_connect (self->iface, "handle-unban", G_CALLBACK (handle_unban), self);
  g_signal_connect (self->iface, "handle-reload", G_CALLBACK (handle_reload), self);
  g_signal_connect (self->iface, "handle-list-recordings", G_CALLBACK (handle_list_recordings), self);
  g_signal_connect (self->iface, "handle-open-recording", G_CALLBACK (handle_open_recording), self);
  g_signal_connect (self->iface, "handle-delete-recording",
                    G_CALLBACK (handle_delete_recording), self);
  g_signal_connect (self->iface, "handle-expire-recordings",
                    G_CALLBACK (handle_expire_recordings), self);
  g_signal_connect (self->iface, "handle-message", G_CALLBACK (handle_message), self);
  g_signal_connect (self->iface, "handle-drain", G_CALLBACK (handle_drain), self);
  g_signal_connect (self->iface, "handle-resume", G_CALLBACK (handle_resume), self);
  g_signal_connect (self->teletel, "handle-stop", G_CALLBACK (handle_teletel), self);
  g_signal_connect (self->teletel, "handle-start", G_CALLBACK (handle_teletel), self);
  g_signal_connect (self->teletel, "handle-restart", G_CALLBACK (handle_teletel), self);
  return self;
}
