/* mgw-gateway.c: the gateway object.
 *
 * Owns the listeners (Telnet on a GSocketService, WebSocket on a
 * SoupServer), the one SoupSession every upstream connection goes
 * through, the sessions by id and the counters. A new connection becomes
 * a user link, then a session. */
#include "config.h"

#include "mgw-gateway.h"
#include "mgw-error.h"
#include "mgw-link-telnet.h"
#include "mgw-link-ws.h"
#include "mgw-profiles.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>

struct _MgwGateway
{
  GObject           parent_instance;

  MgwConfig        *config;
  SoupSession      *soup;
  MgwCommandLink   *command_link;   /* NULL: disabled */
  MgwProfiles      *profiles;
  GSocketService   *telnet_service;
  SoupServer       *ws_server;
  guint16           telnet_port;
  guint16           ws_port;

  GHashTable       *sessions;      /* id -> MgwSession */
  guint64           ended_bad_input;
  guint             next_id;
  guint             n_by_access[MGW_N_ACCESS];
  MgwCounters       counters;
};

G_DEFINE_FINAL_TYPE (MgwGateway, mgw_gateway, G_TYPE_OBJECT)

enum {
  SIGNAL_SESSION_ADDED,
  SIGNAL_SESSION_REMOVED,
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
session_ended_cb (MgwSession *session,
                  MgwGateway *self)
{
  guint id = mgw_session_get_id (session);

  g_object_ref (session);
  g_signal_handlers_disconnect_by_data (session, self);
  self->ended_bad_input += mgw_session_get_bad_input (session);
  if (g_hash_table_remove (self->sessions, GUINT_TO_POINTER (id)))
    {
      self->n_by_access[mgw_session_get_access (session)]--;
      g_signal_emit (self, signals[SIGNAL_SESSION_REMOVED], 0, session);
    }
  g_object_unref (session);
}

static void
add_session (MgwGateway *self,
             MgwAccess   access,
             MgwLink    *user,
             const char *address,
             guint16     port)
{
  g_autoptr(MgwSession) session = NULL;
  guint id = self->next_id++;

  session = mgw_session_new (id, access, user, address, port, self->config,
                             self->soup, self->command_link);
  g_hash_table_insert (self->sessions, GUINT_TO_POINTER (id),
                       g_object_ref (session));
  self->n_by_access[access]++;
  self->counters.sessions_total[access]++;
  g_signal_connect (session, "timed-out", G_CALLBACK (session_timed_out_cb), self);
  g_signal_connect (session, "ended", G_CALLBACK (session_ended_cb), self);
  g_signal_emit (self, signals[SIGNAL_SESSION_ADDED], 0, session);
  mgw_session_start (session);
}

static char *
address_string (GSocketAddress *address,
                guint16        *port)
{
  GInetAddress *inet;

  *port = 0;
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("unknown");
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  /* An IPv4 client on an IPv6 socket: show it as IPv4. */
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    {
      const guint8 *b = g_inet_address_to_bytes (inet);
      static const guint8 mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
      if (memcmp (b, mapped, 12) == 0)
        {
          g_autoptr(GInetAddress) v4 = g_inet_address_new_from_bytes (b + 12,
                                                                      G_SOCKET_FAMILY_IPV4);
          return g_inet_address_to_string (v4);
        }
    }
  return g_inet_address_to_string (inet);
}

/* --- Telnet listener --- */

static gboolean
telnet_incoming_cb (GSocketService    *service,
                    GSocketConnection *connection,
                    GObject           *source,
                    MgwGateway        *self)
{
  g_autoptr(GSocketAddress) remote = NULL;
  g_autoptr(MgwLink) link = NULL;
  g_autofree char *address = NULL;
  guint16 port = 0;

  remote = g_socket_connection_get_remote_address (connection, NULL);
  address = address_string (remote, &port);
  g_socket_set_keepalive (g_socket_connection_get_socket (connection), TRUE);
  link = mgw_link_telnet_new_server (G_IO_STREAM (connection),
                                     self->config->telnet_start);
  add_session (self, MGW_ACCESS_TELNET, link, address, port);
  return TRUE;
}

static gboolean
listen_telnet (MgwGateway  *self,
               GError     **error)
{
  GSocketListener *listener;
  guint16 port = self->config->telnet_port;
  g_autoptr(GError) local = NULL;

  self->telnet_service = g_socket_service_new ();
  listener = G_SOCKET_LISTENER (self->telnet_service);
  g_socket_listener_set_backlog (listener, 1024);

  if (self->config->listen_addresses == NULL)
    {
      if (port == 0)
        port = g_socket_listener_add_any_inet_port (listener, NULL, &local);
      else if (!g_socket_listener_add_inet_port (listener, port, NULL, &local))
        port = 0;
      if (port == 0)
        goto failed;
    }
  else
    {
      for (guint i = 0; self->config->listen_addresses[i] != NULL; i++)
        {
          g_autoptr(GInetAddress) inet =
            g_inet_address_new_from_string (self->config->listen_addresses[i]);
          g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (inet, port);
          g_autoptr(GSocketAddress) effective = NULL;

          if (!g_socket_listener_add_address (listener, addr, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, NULL,
                                              &effective, &local))
            goto failed;
          port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
        }
    }
  self->telnet_port = port;
  g_signal_connect (self->telnet_service, "incoming",
                    G_CALLBACK (telnet_incoming_cb), self);
  g_socket_service_start (self->telnet_service);
  g_message ("listening for Telnet users on port %u", port);
  return TRUE;

failed:
  g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
               "cannot listen for Telnet users on port %d: %s",
               self->config->telnet_port, local->message);
  return FALSE;
}

/* --- WebSocket listener --- */

static void
ws_upgraded_cb (SoupServerMessage *msg,
                MgwGateway        *self)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  g_autoptr(SoupWebsocketConnection) conn = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MgwLink) link = NULL;
  g_autofree char *address = NULL;
  guint16 port = 0;

  g_signal_handlers_disconnect_by_func (msg, ws_upgraded_cb, self);
  if (soup_server_message_get_status (msg) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;

  address = address_string (soup_server_message_get_remote_address (msg), &port);
  socket = g_object_ref (soup_server_message_get_socket (msg));
  stream = soup_server_message_steal_connection (msg);
  conn = soup_websocket_connection_new (stream, soup_server_message_get_uri (msg),
                                        SOUP_WEBSOCKET_CONNECTION_SERVER,
                                        soup_message_headers_get_one (req, "Origin"),
                                        soup_message_headers_get_one (resp, "Sec-WebSocket-Protocol"),
                                        NULL);
  link = mgw_link_ws_new_server (conn, socket, self->config->ws_frame_type);
  mgw_link_ws_set_keepalive (MGW_LINK_WS (link), self->config->ws_ping_interval,
                             self->config->ws_ping_timeout);
  mgw_link_ws_set_max_incoming (MGW_LINK_WS (link), self->config->ws_max_message);
  add_session (self, MGW_ACCESS_WS, link, address, port);
}

/* Any path. When the client offers subprotocols, answer with the first it
 * offered (browsers drop a handshake that ignores their list); accept
 * clients that offer none. */
static void
ws_request_cb (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               MgwGateway        *self)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const char *offered = soup_message_headers_get_list (req, "Sec-WebSocket-Protocol");
  g_auto(GStrv) protocols = NULL;

  if (offered != NULL)
    {
      g_auto(GStrv) list = g_strsplit (offered, ",", 2);
      protocols = g_new0 (char *, 2);
      protocols[0] = g_strdup (g_strstrip (list[0]));
    }

  if (!soup_websocket_server_process_handshake (msg, NULL, protocols, NULL, NULL))
    {
      if (soup_server_message_get_status (msg) == SOUP_STATUS_NONE)
        soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
      return;
    }
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (ws_upgraded_cb), self);
}

static gboolean
listen_ws (MgwGateway  *self,
           GError     **error)
{
  guint16 port = self->config->ws_port;
  g_autoptr(GError) local = NULL;
  GSList *listeners;

  self->ws_server = soup_server_new ("server-header", NULL, NULL);
  soup_server_add_handler (self->ws_server, NULL,
                           (SoupServerCallback) ws_request_cb, self, NULL);

  if (self->config->listen_addresses == NULL)
    {
      if (!soup_server_listen_all (self->ws_server, port, 0, &local))
        goto failed;
    }
  else
    {
      for (guint i = 0; self->config->listen_addresses[i] != NULL; i++)
        {
          g_autoptr(GInetAddress) inet =
            g_inet_address_new_from_string (self->config->listen_addresses[i]);
          g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (inet, port);

          if (!soup_server_listen (self->ws_server, addr, 0, &local))
            goto failed;
          listeners = soup_server_get_listeners (self->ws_server);
          if (port == 0 && listeners != NULL)
            {
              g_autoptr(GSocketAddress) bound =
                g_socket_get_local_address (listeners->data, NULL);
              port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
            }
          g_slist_free (listeners);
        }
    }

  listeners = soup_server_get_listeners (self->ws_server);
  if (listeners != NULL)
    {
      g_autoptr(GSocketAddress) bound = g_socket_get_local_address (listeners->data, NULL);
      if (bound != NULL)
        port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    }
  g_slist_free (listeners);
  self->ws_port = port;
  g_message ("listening for WebSocket users on port %u", port);
  return TRUE;

failed:
  g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
               "cannot listen for WebSocket users on port %d: %s",
               self->config->ws_port, local->message);
  return FALSE;
}

/* --- command channel --- */

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
                             mgw_profiles_lookup (self->profiles, command->uri), &error))
    {
      self->counters.bad_commands++;
      g_message ("command channel: %s", error->message);
    }
}

static char *
profiles_path (MgwGateway *self)
{
  if (self->config->profiles_file != NULL)
    return g_strdup (self->config->profiles_file);
  return g_build_filename (self->config->config_path, "profiles.json", NULL);
}

/* Reads profiles.json again; a bad file keeps the profiles in force. */
gboolean
mgw_gateway_reload_profiles (MgwGateway  *self,
                             GError     **error)
{
  g_autofree char *path = profiles_path (self);

  if (!mgw_profiles_load_file (self->profiles, path, error))
    return FALSE;
  g_message ("%u redirect profiles from %s", mgw_profiles_get_size (self->profiles), path);
  return TRUE;
}

/* --- object --- */

gboolean
mgw_gateway_start (MgwGateway  *self,
                   GError     **error)
{
  if (self->config->tls_ca_file != NULL)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(GTlsDatabase) database =
        g_tls_file_database_new (self->config->tls_ca_file, &local);

      if (database == NULL)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       "[tls] ca-file: %s", local->message);
          return FALSE;
        }
      soup_session_set_tls_database (self->soup, database);
    }
  if (!mgw_gateway_reload_profiles (self, error))
    return FALSE;
  if (!self->config->no_command_channel)
    {
      self->command_link = mgw_command_link_new (self->soup, self->config->command_uri,
                                                 self->config->command_retry_ms,
                                                 self->config->command_queue_max);
      g_signal_connect (self->command_link, "command", G_CALLBACK (command_cb), self);
      mgw_command_link_start (self->command_link);
    }
  if (self->config->telnet_port != MGW_PORT_OFF && !listen_telnet (self, error))
    return FALSE;
  if (self->config->ws_port != MGW_PORT_OFF && !listen_ws (self, error))
    return FALSE;
  g_message ("default server is '%s'", self->config->server_uri);
  return TRUE;
}

/* Stops listening and ends every session, each user told `status`. */
void
mgw_gateway_stop (MgwGateway *self,
                  const char *status)
{
  g_autoptr(GPtrArray) sessions = NULL;

  if (self->telnet_service != NULL)
    {
      g_socket_service_stop (self->telnet_service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->telnet_service));
    }
  if (self->ws_server != NULL)
    soup_server_disconnect (self->ws_server);

  GHashTableIter iter;
  gpointer value;

  sessions = g_ptr_array_new_with_free_func (g_object_unref);
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sessions, g_object_ref (value));
  for (guint i = 0; i < sessions->len; i++)
    mgw_session_end (sessions->pdata[i], status);
}

guint16
mgw_gateway_get_telnet_port (MgwGateway *self)
{
  return self->telnet_port;
}

guint16
mgw_gateway_get_ws_port (MgwGateway *self)
{
  return self->ws_port;
}

guint
mgw_gateway_get_n_sessions (MgwGateway *self)
{
  return g_hash_table_size (self->sessions);
}

guint
mgw_gateway_get_n_sessions_by_access (MgwGateway *self,
                                      MgwAccess   access)
{
  return self->n_by_access[access];
}

MgwSession *
mgw_gateway_lookup_session (MgwGateway *self,
                            guint       id)
{
  return g_hash_table_lookup (self->sessions, GUINT_TO_POINTER (id));
}

/* Counters since start; bad input is summed over live sessions too. */
const MgwCounters *
mgw_gateway_get_counters (MgwGateway *self)
{
  GHashTableIter iter;
  gpointer value;

  self->counters.bad_input = self->ended_bad_input;
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    self->counters.bad_input += mgw_session_get_bad_input (value);
  return &self->counters;
}

MgwConfig *
mgw_gateway_get_config (MgwGateway *self)
{
  return self->config;
}

MgwCommandLink *
mgw_gateway_get_command_link (MgwGateway *self)
{
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
  if (self->telnet_service != NULL)
    {
      g_socket_service_stop (self->telnet_service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->telnet_service));
      g_clear_object (&self->telnet_service);
    }
  if (self->ws_server != NULL)
    {
      soup_server_disconnect (self->ws_server);
      g_clear_object (&self->ws_server);
    }
  if (self->command_link != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->command_link, self);
      g_clear_object (&self->command_link);
    }
  if (self->soup != NULL)
    {
      soup_session_abort (self->soup);
      g_clear_object (&self->soup);
    }
  G_OBJECT_CLASS (mgw_gateway_parent_class)->dispose (object);
}

static void
mgw_gateway_finalize (GObject *object)
{
  MgwGateway *self = MGW_GATEWAY (object);

  g_clear_pointer (&self->config, mgw_config_unref);
  g_clear_pointer (&self->profiles, mgw_profiles_free);
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
}

static void
mgw_gateway_init (MgwGateway *self)
{
  self->sessions = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->profiles = mgw_profiles_new ();
}

MgwGateway *
mgw_gateway_new (MgwConfig *config)
{
  MgwGateway *self = g_object_new (MGW_TYPE_GATEWAY, NULL);

  self->config = mgw_config_ref (config);
  /* Every upstream is its own connection: no pooling limits, no HTTP
   * idle timeout (WebSocket connections leave the pool once upgraded). */
  self->soup = soup_session_new_with_options ("max-conns", G_MAXINT,
                                              "max-conns-per-host", G_MAXINT,
                                              "user-agent", PACKAGE_NAME "/" PACKAGE_VERSION,
                                              NULL);
  return self;
}
