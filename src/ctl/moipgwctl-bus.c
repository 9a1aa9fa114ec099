/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-bus.c: reaching moipgwd: the bus connection, the proxies
 * of the gateway, its object manager and its sessions, and what a failed
 * call says to the user (not running, permission denied, too old a
 * gateway...). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "moipgwctl.h"

/* --- errors --- */

/* Says moipgwd is not on the bus; returns the exit status. */
int
mgw_ctl_not_running (Ctl *ctl)
{
  if (ctl->session_bus)
    mgw_ctl_print_error (_("moipgwd is not running on the session bus"));
  else
    mgw_ctl_print_error (_("moipgwd is not running on the system bus (or use --session-bus)"));
  return EXIT_FAILURE;
}

/* Reports a failed D-Bus call; `what` says what was being done ("cannot
 * ban 192.0.2.1"). Returns the exit status. */
int
mgw_ctl_report_error (Ctl        *ctl,
                      GError     *error,
                      const char *what)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);
  const char *name;

  if (remote == NULL)
    {
      mgw_ctl_print_error ("%s: %s", what, error->message);
      return EXIT_FAILURE;
    }
  g_dbus_error_strip_remote_error (error);
  name = g_str_has_prefix (remote, DBUS_ERROR_PREFIX) ? remote + strlen (DBUS_ERROR_PREFIX) : "";

  if (g_str_equal (name, "ServiceUnknown") || g_str_equal (name, "NameHasNoOwner"))
    return mgw_ctl_not_running (ctl);
  if (g_str_equal (name, "AccessDenied"))
    mgw_ctl_print_error ("%s: %s", what,
                         _("permission denied: you must be root or in the moipgw group"));
  else if (g_str_equal (name, "NotSupported"))
    mgw_ctl_print_error (_("%s: not supported by this gateway: %s"), what, error->message);
  else if (g_str_equal (name, "UnknownMethod") || g_str_equal (name, "UnknownObject") ||
           g_str_equal (name, "UnknownInterface"))
    mgw_ctl_print_error (_("%s: the gateway does not offer this "
                           "(is moipgwd older than moipgwctl?): %s"),
                         what, error->message);
  else
    mgw_ctl_print_error ("%s: %s", what, error->message);
  return EXIT_FAILURE;
}

/* A proxy whose properties could not be read: the object is not there. */
gboolean
mgw_ctl_proxy_has_properties (gpointer proxy)
{
  g_auto(GStrv) names = g_dbus_proxy_get_cached_property_names (G_DBUS_PROXY (proxy));

  return names != NULL && names[0] != NULL;
}

/* --- connecting --- */

static gboolean
ctl_connect (Ctl  *ctl,
             int  *status)
{
  g_autoptr(GError) error = NULL;

  ctl->connection = g_bus_get_sync (ctl->session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
                                    NULL, &error);
  if (ctl->connection == NULL)
    {
      if (ctl->session_bus)
        mgw_ctl_print_error (_("cannot connect to the session bus: %s"), error->message);
      else
        mgw_ctl_print_error (_("cannot connect to the system bus: %s"), error->message);
      *status = EXIT_FAILURE;
      return FALSE;
    }
  return TRUE;
}

/* The gateway's main object, or NULL with the error reported. */
MgwDBusGateway *
mgw_ctl_get_gateway_full (Ctl      *ctl,
                          int      *status,
                          gboolean  absent_ok)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autofree char *owner = NULL;

  if (ctl->connection == NULL && !ctl_connect (ctl, status))
    return NULL;
  gateway = mgw_dbus_gateway_proxy_new_sync (ctl->connection, PROXY_FLAGS, BUS_NAME,
                                             GATEWAY_PATH, NULL, &error);
  if (gateway == NULL)
    {
      *status = mgw_ctl_report_error (ctl, error, _("cannot reach the gateway"));
      return NULL;
    }
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (gateway));
  if (owner == NULL && !absent_ok)
    {
      *status = mgw_ctl_not_running (ctl);
      return NULL;
    }
  return g_steal_pointer (&gateway);
}

/* The gateway's proxy; NULL, the error reported, when moipgwd is not
 * running. */
MgwDBusGateway *
mgw_ctl_get_gateway (Ctl *ctl,
                     int *status)
{
  return mgw_ctl_get_gateway_full (ctl, status, FALSE);
}

GDBusObjectManager *
mgw_ctl_get_manager_full (Ctl      *ctl,
                          int      *status,
                          gboolean  absent_ok)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusObjectManager) manager = NULL;
  g_autofree char *owner = NULL;

  if (ctl->connection == NULL && !ctl_connect (ctl, status))
    return NULL;
  manager = mgw_dbus_object_manager_client_new_sync (ctl->connection,
                                                     G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                                                     BUS_NAME, GATEWAY_PATH, NULL, &error);
  if (manager == NULL)
    {
      *status = mgw_ctl_report_error (ctl, error, _("cannot list the sessions"));
      return NULL;
    }
  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (manager));
  if (owner == NULL && !absent_ok)
    {
      *status = mgw_ctl_not_running (ctl);
      return NULL;
    }
  return g_steal_pointer (&manager);
}

GDBusObjectManager *
mgw_ctl_get_manager (Ctl *ctl,
                     int *status)
{
  return mgw_ctl_get_manager_full (ctl, status, FALSE);
}

/* One session by id, NULL with the error reported when it is not there. */
MgwDBusSession *
mgw_ctl_get_session (Ctl     *ctl,
                     guint32  id,
                     int     *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autofree char *path = g_strdup_printf (SESSIONS_PATH "%u", id);
  g_autoptr(MgwDBusGateway) gateway = mgw_ctl_get_gateway (ctl, status);

  /* The gateway first: "not running" rather than "no session". */
  if (gateway == NULL)
    return NULL;
  session = mgw_dbus_session_proxy_new_sync (ctl->connection, PROXY_FLAGS, BUS_NAME, path,
                                             NULL, &error);
  if (session == NULL)
    {
      g_autofree char *what = g_strdup_printf (_("cannot reach session %u"), id);
      *status = mgw_ctl_report_error (ctl, error, what);
      return NULL;
    }
  if (!mgw_ctl_proxy_has_properties (session))
    {
      mgw_ctl_print_error (_("no session %u"), id);
      *status = EXIT_FAILURE;
      return NULL;
    }
  return g_steal_pointer (&session);
}

static void
peer_free (MgwCtlPeer *peer)
{
  g_free (peer->address);
  g_free (peer);
}

GHashTable *
mgw_ctl_get_peers (Ctl           *ctl,
                   const guint32 *ids,
                   gsize          n_ids,
                   gboolean      *denied)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  GHashTable *peers;
  const char *address;
  guint32 id;
  guint16 port;
  int status;

  *denied = FALSE;
  if (ctl->connection == NULL && !ctl_connect (ctl, &status))
    return NULL;
  reply = g_dbus_connection_call_sync (ctl->connection, BUS_NAME, GATEWAY_PATH, BUS_NAME,
                                       "ListPeers",
                                       g_variant_new ("(@au)",
                                                      g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32,
                                                                                 ids, n_ids,
                                                                                 sizeof (guint32))),
                                       G_VARIANT_TYPE ("(a(usq))"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       -1, NULL, &error);
  if (reply == NULL)
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      *denied = g_strcmp0 (remote, DBUS_ERROR_PREFIX "AccessDenied") == 0;
      return NULL;
    }
  peers = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) peer_free);
  g_variant_get (reply, "(a(usq))", &iter);
  while (g_variant_iter_next (iter, "(u&sq)", &id, &address, &port))
    {
      MgwCtlPeer *peer = g_new0 (MgwCtlPeer, 1);

      peer->address = g_strdup (address);
      peer->port = port;
      g_hash_table_replace (peers, GUINT_TO_POINTER (id), peer);
    }
  return peers;
}
