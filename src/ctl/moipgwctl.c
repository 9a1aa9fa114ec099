/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl.c: moipgwctl, the command-line admin client of moipgwd.
 *
 * Talks to the gateway over D-Bus (org.moipgw.Gateway1 on the system
 * bus, or the session bus with --session-bus) through the proxies
 * generated from data/dbus/org.moipgw.Gateway1.xml: status, sessions,
 * bans, reload, Teletel control and a live event monitor, as aligned
 * tables for people or JSON for programs (--json).
 *
 * Exit status: 0 success, 1 failure (gateway not running, access
 * denied, refused by the gateway, unknown session), 2 usage error. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgw-dbus-generated.h"
#include "mgw-i18n.h"

#define TELETEL_TIMEOUT_MS (90 * 1000)
#define EXIT_USAGE 2
#define BUS_NAME "org.moipgw.Gateway1"
#define GATEWAY_PATH "/org/moipgw/Gateway1"
#define SESSIONS_PATH GATEWAY_PATH "/sessions/"
#define MAX_BAN_DAYS (G_MAXUINT32 / 86400)

#define DBUS_ERROR_PREFIX "org.freedesktop.DBus.Error."

typedef struct
{
  gboolean         session_bus;
  gboolean         json;
  char            *days;
  GDBusConnection *connection;
} Ctl;

static void
ctl_clear (Ctl *ctl)
{
  g_free (ctl->days);
  g_clear_object (&ctl->connection);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Ctl, ctl_clear)

/* --- errors --- */

static void G_GNUC_PRINTF (1, 2)
print_error (const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("moipgwctl: %s\n", message);
}

static int
not_running (Ctl *ctl)
{
  if (ctl->session_bus)
    print_error (_("moipgwd is not running on the session bus"));
  else
    print_error (_("moipgwd is not running on the system bus (or use --session-bus)"));
  return EXIT_FAILURE;
}

/* Reports a failed D-Bus call; `what` says what was being done ("cannot
 * ban 192.0.2.1"). Returns the exit status. */
static int
report_error (Ctl        *ctl,
              GError     *error,
              const char *what)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);
  const char *name;

  if (remote == NULL)
    {
      print_error ("%s: %s", what, error->message);
      return EXIT_FAILURE;
    }
  g_dbus_error_strip_remote_error (error);
  name = g_str_has_prefix (remote, DBUS_ERROR_PREFIX) ? remote + strlen (DBUS_ERROR_PREFIX) : "";

  if (g_str_equal (name, "ServiceUnknown") || g_str_equal (name, "NameHasNoOwner"))
    return not_running (ctl);
  if (g_str_equal (name, "AccessDenied"))
    print_error ("%s: %s", what, _("permission denied: you must be root or in the moipgw group"));
  else if (g_str_equal (name, "NotSupported"))
    print_error (_("%s: not supported by this gateway: %s"), what, error->message);
  else if (g_str_equal (name, "UnknownMethod") || g_str_equal (name, "UnknownObject") ||
           g_str_equal (name, "UnknownInterface"))
    print_error (_("%s: the gateway does not offer this (is moipgwd older than moipgwctl?): %s"),
                 what, error->message);
  else
    print_error ("%s: %s", what, error->message);
  return EXIT_FAILURE;
}

/* A proxy whose properties could not be read: the object is not there. */
static gboolean
proxy_has_properties (gpointer proxy)
{
  g_auto(GStrv) names = g_dbus_proxy_get_cached_property_names (G_DBUS_PROXY (proxy));

  return names != NULL && names[0] != NULL;
}

/* --- times --- */

static GDateTime *
local_time (gint64 usec)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  g_autoptr(GDateTime) precise = NULL;

  if (utc == NULL)
    return NULL;
  precise = g_date_time_add (utc, usec % G_USEC_PER_SEC);
  return precise != NULL ? g_date_time_to_local (precise) : NULL;
}

/* For people: local time to the second, "-" when unset. */
static char *
format_time (gint64 usec)
{
  g_autoptr(GDateTime) dt = NULL;

  if (usec <= 0)
    return g_strdup ("-");
  dt = local_time (usec);
  if (dt == NULL)
    return g_strdup_printf ("@%" G_GINT64_FORMAT, usec);
  return g_date_time_format (dt, "%Y-%m-%d %H:%M:%S");
}

/* For programs: `name` as ISO 8601 (null when unset) and `name`Usec as
 * microseconds since the epoch. */
static void
json_add_time (JsonBuilder *b,
               const char  *name,
               gint64       usec)
{
  g_autofree char *usec_name = g_strconcat (name, "Usec", NULL);
  g_autoptr(GDateTime) dt = usec > 0 ? local_time (usec) : NULL;
  g_autofree char *iso = dt != NULL ? g_date_time_format_iso8601 (dt) : NULL;

  json_builder_set_member_name (b, name);
  if (iso != NULL)
    json_builder_add_string_value (b, iso);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, usec_name);
  json_builder_add_int_value (b, usec);
}

/* --- output --- */

static void
print_json (JsonBuilder *b,
            gboolean     pretty)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, pretty);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
  fflush (stdout);
}

/* Aligned columns, two spaces apart; `right` says which columns are
 * aligned right (a bit per column). */
typedef struct
{
  guint      n_columns;
  guint32    right;
  GPtrArray *cells;
} Table;

static Table *
table_new (guint   n_columns,
           guint32 right)
{
  Table *t = g_new0 (Table, 1);

  t->n_columns = n_columns;
  t->right = right;
  t->cells = g_ptr_array_new_with_free_func (g_free);
  return t;
}

static void
table_free (Table *t)
{
  g_ptr_array_unref (t->cells);
  g_free (t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Table, table_free)

static void
table_take (Table *t,
            char  *cell)
{
  g_ptr_array_add (t->cells, cell);
}

static void
table_add (Table      *t,
           const char *cell)
{
  table_take (t, g_strdup (cell));
}

static void
table_print (Table *t)
{
  g_autofree glong *widths = g_new0 (glong, t->n_columns);
  g_autoptr(GString) line = g_string_new (NULL);

  for (guint i = 0; i < t->cells->len; i++)
    widths[i % t->n_columns] = MAX (widths[i % t->n_columns],
                                    g_utf8_strlen (t->cells->pdata[i], -1));
  for (guint row = 0; row < t->cells->len / t->n_columns; row++)
    {
      g_string_truncate (line, 0);
      for (guint col = 0; col < t->n_columns; col++)
        {
          const char *cell = t->cells->pdata[row * t->n_columns + col];
          glong pad = widths[col] - g_utf8_strlen (cell, -1);

          if (col > 0)
            g_string_append (line, "  ");
          if (t->right & (1u << col))
            for (glong i = 0; i < pad; i++)
              g_string_append_c (line, ' ');
          g_string_append (line, cell);
          if (!(t->right & (1u << col)) && col + 1 < t->n_columns)
            for (glong i = 0; i < pad; i++)
              g_string_append_c (line, ' ');
        }
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      g_print ("%s\n", line->str);
    }
}

/* --- properties, driven by the interface description --- */

typedef struct
{
  const char *name;
  const char *label;
} Label;

static const Label labels[] = {
  /* org.moipgw.Gateway1 */
  { "Version", N_("Version") },
  { "StartTime", N_("Started") },
  { "ListenAddresses", N_("Listening on") },
  { "DefaultServer", N_("Default server") },
  { "CommandChannel", N_("Command channel") },
  { "CommandChannelConnected", N_("Command channel connected") },
  { "ActiveSessions", N_("Active sessions") },
  { "ActiveTelnetSessions", N_("Active Telnet sessions") },
  { "ActiveWebSocketSessions", N_("Active WebSocket sessions") },
  { "TelnetRegistrations", N_("Telnet sessions since start") },
  { "WebSocketRegistrations", N_("WebSocket sessions since start") },
  { "Redirections", N_("Redirections") },
  { "Bans", N_("Bans") },
  { "Unbans", N_("Unbans") },
  { "BanListSize", N_("Addresses banned now") },
  { "RefusedBanned", N_("Refused, address banned") },
  { "RefusedFull", N_("Refused, gateway full") },
  { "ProxyRefused", N_("Refused, bad PROXY header") },
  { "TimeoutsUserInactivity", N_("Timeouts, user inactivity") },
  { "TimeoutsSessionMax", N_("Timeouts, session maximum") },
  { "TimeoutsServerInactivity", N_("Timeouts, server inactivity") },
  { "TimeoutsRedirectInactivity", N_("Timeouts, redirection inactivity") },
  { "TimeoutsRedirectMax", N_("Timeouts, redirection maximum") },
  { "BadInput", N_("Bad input") },
  { "BadCommands", N_("Bad commands") },
  { "CommandMessagesDropped", N_("Command messages dropped") },
  /* org.moipgw.Gateway1.Session (Redirections and StartTime above) */
  { "Id", N_("Id") },
  { "Access", N_("Access") },
  { "PeerAddress", N_("Peer address") },
  { "PeerPort", N_("Peer port") },
  { "State", N_("State") },
  { "BytesFromUser", N_("Bytes from user") },
  { "BytesToUser", N_("Bytes to user") },
  { "RedirectBytesFromUser", N_("Redirection bytes from user") },
  { "RedirectBytesToUser", N_("Redirection bytes to user") },
  { "Target", N_("Target") },
  /* org.moipgw.Gateway1.Teletel */
  { "Backend", N_("Backend") },
  { "Pid", N_("Process id") },
};

static const char *
property_label (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_str_equal (labels[i].name, name))
      return _(labels[i].label);
  return name;
}

/* One property value for people. */
static char *
format_value (const char *name,
              GVariant   *value)
{
  if (value == NULL)
    return g_strdup (_("(unavailable)"));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return format_time (g_variant_get_int64 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? _("yes") : _("no"));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      const char *s = g_variant_get_string (value, NULL);

      if (*s != '\0')
        return g_strdup (s);
      return g_strdup (g_str_equal (name, "CommandChannel") ? _("(disabled)") : "-");
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **list = g_variant_get_strv (value, NULL);

      return list[0] != NULL ? g_strjoinv (", ", (char **) list) : g_strdup ("-");
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_strdup_printf ("%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    {
      if (g_str_equal (name, "Pid") && g_variant_get_uint32 (value) == 0)
        return g_strdup ("-");
      return g_strdup_printf ("%u", g_variant_get_uint32 (value));
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    return g_strdup_printf ("%u", g_variant_get_uint16 (value));
  return g_variant_print (value, FALSE);
}

/* One property value for programs, as member `name`. */
static void
json_add_value (JsonBuilder *b,
                const char  *name,
                GVariant    *value)
{
  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    {
      json_add_time (b, name, g_variant_get_int64 (value));
      return;
    }
  json_builder_set_member_name (b, name);
  if (value == NULL)
    json_builder_add_null_value (b);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    json_builder_add_boolean_value (b, g_variant_get_boolean (value));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    json_builder_add_string_value (b, g_variant_get_string (value, NULL));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **list = g_variant_get_strv (value, NULL);

      json_builder_begin_array (b);
      for (guint i = 0; list[i] != NULL; i++)
        json_builder_add_string_value (b, list[i]);
      json_builder_end_array (b);
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    json_builder_add_int_value (b, (gint64) MIN (g_variant_get_uint64 (value), (guint64) G_MAXINT64));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    json_builder_add_int_value (b, g_variant_get_uint32 (value));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    json_builder_add_int_value (b, g_variant_get_uint16 (value));
  else
    {
      g_autofree char *text = g_variant_print (value, FALSE);
      json_builder_add_string_value (b, text);
    }
}

/* Every property of `proxy` its interface description lists, in its
 * order: as members of the open JSON object, or as rows of `table`. */
static void
add_properties (gpointer     proxy,
                JsonBuilder *b,
                Table       *table)
{
  GDBusInterfaceInfo *info = g_dbus_proxy_get_interface_info (G_DBUS_PROXY (proxy));

  for (guint i = 0; info->properties != NULL && info->properties[i] != NULL; i++)
    {
      const char *name = info->properties[i]->name;
      g_autoptr(GVariant) value = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (proxy), name);

      if (b != NULL)
        json_add_value (b, name, value);
      if (table != NULL)
        {
          table_take (table, g_strdup_printf ("%s:", property_label (name)));
          table_take (table, format_value (name, value));
        }
    }
}

static int
print_properties (Ctl      *ctl,
                  gpointer  proxy)
{
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      add_properties (proxy, b, NULL);
      json_builder_end_object (b);
      print_json (b, TRUE);
    }
  else
    {
      g_autoptr(Table) table = table_new (2, 0);

      add_properties (proxy, NULL, table);
      table_print (table);
    }
  return EXIT_SUCCESS;
}

/* What an action did, for --json: {"Command": ..., "Ok": true, ...}. */
static JsonBuilder *
action_begin (const char *command)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Command");
  json_builder_add_string_value (b, command);
  json_builder_set_member_name (b, "Ok");
  json_builder_add_boolean_value (b, TRUE);
  return b;
}

static void
action_end (JsonBuilder *b)
{
  json_builder_end_object (b);
  print_json (b, TRUE);
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
        print_error (_("cannot connect to the session bus: %s"), error->message);
      else
        print_error (_("cannot connect to the system bus: %s"), error->message);
      *status = EXIT_FAILURE;
      return FALSE;
    }
  return TRUE;
}

#define PROXY_FLAGS G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START

/* The gateway's main object, or NULL with the error reported. */
static MgwDBusGateway *
get_gateway_full (Ctl      *ctl,
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
      *status = report_error (ctl, error, _("cannot reach the gateway"));
      return NULL;
    }
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (gateway));
  if (owner == NULL && !absent_ok)
    {
      *status = not_running (ctl);
      return NULL;
    }
  return g_steal_pointer (&gateway);
}

/* The gateway's proxy; NULL, the error reported, when moipgwd is not
 * running. */
static MgwDBusGateway *
get_gateway (Ctl *ctl,
             int *status)
{
  return get_gateway_full (ctl, status, FALSE);
}

static GDBusObjectManager *
get_manager_full (Ctl      *ctl,
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
      *status = report_error (ctl, error, _("cannot list the sessions"));
      return NULL;
    }
  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (manager));
  if (owner == NULL && !absent_ok)
    {
      *status = not_running (ctl);
      return NULL;
    }
  return g_steal_pointer (&manager);
}

static GDBusObjectManager *
get_manager (Ctl *ctl,
             int *status)
{
  return get_manager_full (ctl, status, FALSE);
}

/* One session by id, NULL with the error reported when it is not there. */
static MgwDBusSession *
get_session (Ctl     *ctl,
             guint32  id,
             int     *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autofree char *path = g_strdup_printf (SESSIONS_PATH "%u", id);
  g_autoptr(MgwDBusGateway) gateway = get_gateway (ctl, status);

  /* The gateway first: "not running" rather than "no session". */
  if (gateway == NULL)
    return NULL;
  session = mgw_dbus_session_proxy_new_sync (ctl->connection, PROXY_FLAGS, BUS_NAME, path,
                                             NULL, &error);
  if (session == NULL)
    {
      g_autofree char *what = g_strdup_printf (_("cannot reach session %u"), id);
      *status = report_error (ctl, error, what);
      return NULL;
    }
  if (!proxy_has_properties (session))
    {
      print_error (_("no session %u"), id);
      *status = EXIT_FAILURE;
      return NULL;
    }
  return g_steal_pointer (&session);
}

/* --- commands --- */

static int
cmd_status (Ctl   *ctl,
            char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = get_gateway (ctl, &status);

  if (gateway == NULL)
    return status;
  if (!proxy_has_properties (gateway))
    {
      print_error (_("cannot read the state of the gateway"));
      return EXIT_FAILURE;
    }
  return print_properties (ctl, gateway);
}

static char *
format_peer (MgwDBusSession *session)
{
  const char *address = mgw_dbus_session_get_peer_address (session);

  if (address == NULL)
    address = "?";
  if (strchr (address, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", address, mgw_dbus_session_get_peer_port (session));
  return g_strdup_printf ("%s:%u", address, mgw_dbus_session_get_peer_port (session));
}

static gint
compare_sessions (gconstpointer a,
                  gconstpointer b)
{
  guint ia = mgw_dbus_session_get_id (*(MgwDBusSession **) a);
  guint ib = mgw_dbus_session_get_id (*(MgwDBusSession **) b);

  return ia < ib ? -1 : ia > ib;
}

static char *
format_count (guint64 n)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, n);
}

static const char *
or_dash (const char *s)
{
  return s != NULL && *s != '\0' ? s : "-";
}

static int
cmd_sessions (Ctl   *ctl,
              char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(GDBusObjectManager) manager = get_manager (ctl, &status);
  g_autolist(GDBusObject) objects = NULL;
  g_autoptr(GPtrArray) sessions = g_ptr_array_new ();

  if (manager == NULL)
    return status;
  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (l->data));

      if (session != NULL)
        g_ptr_array_add (sessions, session);
    }
  g_ptr_array_sort (sessions, compare_sessions);

  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < sessions->len; i++)
        {
          json_builder_begin_object (b);
          add_properties (sessions->pdata[i], b, NULL);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      print_json (b, TRUE);
    }
  else if (sessions->len == 0)
    g_print ("%s\n", _("No sessions."));
  else
    {
      /* Right-aligned: id, bytes, redirections. */
      g_autoptr(Table) table = table_new (11, 1u << 0 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 8 | 1u << 9);

      table_add (table, _("ID"));
      table_add (table, _("ACCESS"));
      table_add (table, _("PEER"));
      table_add (table, _("STARTED"));
      table_add (table, _("STATE"));
      table_add (table, _("FROM USER"));
      table_add (table, _("TO USER"));
      table_add (table, _("REDIR"));
      table_add (table, _("R.FROM USER"));
      table_add (table, _("R.TO USER"));
      table_add (table, _("TARGET"));
      for (guint i = 0; i < sessions->len; i++)
        {
          MgwDBusSession *s = sessions->pdata[i];

          table_take (table, g_strdup_printf ("%u", mgw_dbus_session_get_id (s)));
          table_add (table, or_dash (mgw_dbus_session_get_access (s)));
          table_take (table, format_peer (s));
          table_take (table, format_time (mgw_dbus_session_get_start_time (s)));
          table_add (table, or_dash (mgw_dbus_session_get_state (s)));
          table_take (table, format_count (mgw_dbus_session_get_bytes_from_user (s)));
          table_take (table, format_count (mgw_dbus_session_get_bytes_to_user (s)));
          table_take (table, format_count (mgw_dbus_session_get_redirections (s)));
          table_take (table, format_count (mgw_dbus_session_get_redirect_bytes_from_user (s)));
          table_take (table, format_count (mgw_dbus_session_get_redirect_bytes_to_user (s)));
          table_add (table, or_dash (mgw_dbus_session_get_target (s)));
        }
      table_print (table);
    }
  return EXIT_SUCCESS;
}

static gboolean
parse_id (const char *text,
          guint32    *id)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &value, NULL))
    {
      print_error (_("'%s' is not a session id (a number, as `moipgwctl sessions` shows)"), text);
      return FALSE;
    }
  *id = (guint32) value;
  return TRUE;
}

static int
cmd_session (Ctl   *ctl,
             char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusSession) session = NULL;
  guint32 id;

  if (!parse_id (args[0], &id))
    return EXIT_USAGE;
  session = get_session (ctl, id, &status);
  if (session == NULL)
    return status;
  return print_properties (ctl, session);
}

static int
cmd_disconnect (Ctl   *ctl,
                char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusSession) session = NULL;
  g_autoptr(GError) error = NULL;
  guint32 id;

  if (!parse_id (args[0], &id))
    return EXIT_USAGE;
  session = get_session (ctl, id, &status);
  if (session == NULL)
    return status;
  if (!mgw_dbus_session_call_disconnect_sync (session, NULL, &error))
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);
      g_autofree char *what = g_strdup_printf (_("cannot disconnect session %u"), id);

      /* Gone in the meantime. */
      if (g_strcmp0 (remote, DBUS_ERROR_PREFIX "UnknownMethod") == 0 ||
          g_strcmp0 (remote, DBUS_ERROR_PREFIX "UnknownObject") == 0)
        {
          print_error (_("no session %u"), id);
          return EXIT_FAILURE;
        }
      return report_error (ctl, error, what);
    }
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = action_begin ("disconnect");

      json_builder_set_member_name (b, "Id");
      json_builder_add_int_value (b, id);
      action_end (b);
    }
  else
    g_print (_("Session %u disconnected.\n"), id);
  return EXIT_SUCCESS;
}

static int
cmd_bans (Ctl   *ctl,
          char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = get_gateway (ctl, &status);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) bans = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(Table) table = NULL;
  GVariantIter iter;
  const char *address, *reason;
  gint64 since, expires;

  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_list_bans_sync (gateway, &bans, NULL, &error))
    return report_error (ctl, error, _("cannot list the bans"));

  if (ctl->json)
    {
      b = json_builder_new ();
      json_builder_begin_array (b);
    }
  else
    {
      table = table_new (4, 0);
      table_add (table, _("ADDRESS"));
      table_add (table, _("SINCE"));
      table_add (table, _("EXPIRES"));
      table_add (table, _("REASON"));
    }
  g_variant_iter_init (&iter, bans);
  while (g_variant_iter_next (&iter, "(&sxx&s)", &address, &since, &expires, &reason))
    {
      if (b != NULL)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "Address");
          json_builder_add_string_value (b, address);
          json_add_time (b, "Since", since);
          json_add_time (b, "Expires", expires);
          json_builder_set_member_name (b, "Reason");
          json_builder_add_string_value (b, reason);
          json_builder_end_object (b);
        }
      else
        {
          table_add (table, address);
          table_take (table, format_time (since));
          table_take (table, format_time (expires));
          table_add (table, or_dash (reason));
        }
    }
  if (b != NULL)
    {
      json_builder_end_array (b);
      print_json (b, TRUE);
    }
  else if (g_variant_n_children (bans) == 0)
    g_print ("%s\n", _("No bans."));
  else
    table_print (table);
  return EXIT_SUCCESS;
}

static int
cmd_ban (Ctl   *ctl,
         char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (args[0]);
  guint64 days = 0;
  guint32 duration;

  if (address == NULL)
    {
      print_error (_("'%s' is not an IP address"), args[0]);
      return EXIT_USAGE;
    }
  if (ctl->days != NULL &&
      !g_ascii_string_to_unsigned (ctl->days, 10, 1, MAX_BAN_DAYS, &days, NULL))
    {
      print_error (_("--days: '%s' is not a number of days from 1 to %u"), ctl->days,
                   (guint) MAX_BAN_DAYS);
      return EXIT_USAGE;
    }
  duration = (guint32) (days * 86400);

  gateway = get_gateway (ctl, &status);
  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_ban_sync (gateway, args[0], duration, NULL, &error))
    {
      g_autofree char *what = g_strdup_printf (_("cannot ban %s"), args[0]);
      return report_error (ctl, error, what);
    }
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = action_begin ("ban");

      json_builder_set_member_name (b, "Address");
      json_builder_add_string_value (b, args[0]);
      json_builder_set_member_name (b, "Duration");
      json_builder_add_int_value (b, duration);
      action_end (b);
    }
  else if (duration == 0)
    g_print (_("%s banned for the configured duration.\n"), args[0]);
  else
    g_print (ngettext ("%s banned for %u day.\n", "%s banned for %u days.\n",
                          (gulong) days),
             args[0], (guint) days);
  return EXIT_SUCCESS;
}

static int
cmd_unban (Ctl   *ctl,
           char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (args[0]);

  if (address == NULL)
    {
      print_error (_("'%s' is not an IP address"), args[0]);
      return EXIT_USAGE;
    }
  gateway = get_gateway (ctl, &status);
  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_unban_sync (gateway, args[0], NULL, &error))
    {
      g_autofree char *what = g_strdup_printf (_("cannot unban %s"), args[0]);
      return report_error (ctl, error, what);
    }
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = action_begin ("unban");

      json_builder_set_member_name (b, "Address");
      json_builder_add_string_value (b, args[0]);
      action_end (b);
    }
  else
    g_print (_("%s unbanned.\n"), args[0]);
  return EXIT_SUCCESS;
}

static int
cmd_reload (Ctl   *ctl,
            char **args)
{
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = get_gateway (ctl, &status);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree const char **pending = NULL;

  if (gateway == NULL)
    return status;
  if (!mgw_dbus_gateway_call_reload_sync (gateway, NULL, &error))
    return report_error (ctl, error, _("reload refused, the configuration in force is kept"));
  /* Asked afresh: the cached value may predate the reload. */
  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (gateway), "org.freedesktop.DBus.Properties.Get",
                                  g_variant_new ("(ss)", "org.moipgw.Gateway1", "RestartPending"),
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    {
      g_variant_get (reply, "(v)", &value);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
        pending = g_variant_get_strv (value, NULL);
    }
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = action_begin ("reload");
      json_builder_set_member_name (b, "RestartPending");
      json_builder_begin_array (b);
      for (guint i = 0; pending != NULL && pending[i] != NULL; i++)
        json_builder_add_string_value (b, pending[i]);
      json_builder_end_array (b);
      action_end (b);
    }
  else
    {
      g_print ("%s\n", _("Configuration reloaded."));
      if (pending != NULL && pending[0] != NULL)
        {
          g_autofree char *names = g_strjoinv (", ", (char **) pending);
          /* TRANSLATORS: %s: settings, e.g. "[listen] telnet-port, [console] port". */
          g_print (_("Waiting for a restart of moipgwd: %s.\n"), names);
        }
    }
  return EXIT_SUCCESS;
}

static int
cmd_teletel (Ctl   *ctl,
             char **args)
{
  static const char *actions[] = { "status", "stop", "start", "restart" };
  int status = EXIT_FAILURE;
  g_autoptr(MgwDBusGateway) gateway = NULL;
  g_autoptr(MgwDBusTeletel) teletel = NULL;
  g_autoptr(GError) error = NULL;
  const char *action = args[0];
  gboolean ok;

  if (!g_strv_contains (actions, action))
    {
      print_error (_("teletel: unknown action '%s' (status, stop, start or restart)"), action);
      return EXIT_USAGE;
    }
  gateway = get_gateway (ctl, &status);
  if (gateway == NULL)
    return status;
  teletel = mgw_dbus_teletel_proxy_new_sync (ctl->connection, PROXY_FLAGS, BUS_NAME,
                                             GATEWAY_PATH, NULL, &error);
  if (teletel == NULL)
    return report_error (ctl, error, _("cannot reach the Teletel control"));
  /* A start waits for the server to listen, a stop for its grace. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (teletel), TELETEL_TIMEOUT_MS);

  if (g_str_equal (action, "status"))
    {
      if (!proxy_has_properties (teletel))
        {
          print_error (_("cannot read the Teletel state (is moipgwd older than moipgwctl?)"));
          return EXIT_FAILURE;
        }
      return print_properties (ctl, teletel);
    }

  if (g_str_equal (action, "stop"))
    ok = mgw_dbus_teletel_call_stop_sync (teletel, NULL, &error);
  else if (g_str_equal (action, "start"))
    ok = mgw_dbus_teletel_call_start_sync (teletel, NULL, &error);
  else
    ok = mgw_dbus_teletel_call_restart_sync (teletel, NULL, &error);
  if (!ok)
    {
      const char *what = g_str_equal (action, "stop") ? _("cannot stop the Teletel server")
                       : g_str_equal (action, "start") ? _("cannot start the Teletel server")
                       : _("cannot restart the Teletel server");
      return report_error (ctl, error, what);
    }
  if (ctl->json)
    {
      g_autofree char *command = g_strconcat ("teletel ", action, NULL);
      g_autoptr(JsonBuilder) b = action_begin (command);
      action_end (b);
    }
  else if (g_str_equal (action, "stop"))
    g_print ("%s\n", _("Teletel server stopped."));
  else if (g_str_equal (action, "start"))
    g_print ("%s\n", _("Teletel server started."));
  else
    g_print ("%s\n", _("Teletel server restarted."));
  return EXIT_SUCCESS;
}

/* --- monitor --- */

typedef struct
{
  Ctl                *ctl;
  GMainLoop          *loop;
  GDBusObjectManager *manager;
  MgwDBusGateway     *gateway;
  gboolean            command_channel_connected;
  gboolean            running;
} Monitor;

#define STATE_KEY "moipgwctl-state"

/* An event: {"Time", "TimeUsec", "Event", ...}; the caller adds its
 * fields, event_end prints the line. */
static JsonBuilder *
event_begin (const char *event,
             gint64      now)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_add_time (b, "Time", now);
  json_builder_set_member_name (b, "Event");
  json_builder_add_string_value (b, event);
  return b;
}

static void
event_end (Monitor     *m,
           JsonBuilder *b,
           gint64       now,
           const char  *text)
{
  json_builder_end_object (b);
  if (m->ctl->json)
    print_json (b, FALSE);
  else
    {
      g_autofree char *time = format_time (now);

      g_print ("%s %s\n", time, text);
      fflush (stdout);
    }
  g_object_unref (b);
}

static void
json_add_session_id (JsonBuilder    *b,
                     MgwDBusSession *session)
{
  json_builder_set_member_name (b, "Id");
  json_builder_add_int_value (b, mgw_dbus_session_get_id (session));
}

static void
session_state_cb (MgwDBusSession *session,
                  GParamSpec     *pspec,
                  Monitor        *m)
{
  const char *state = or_dash (mgw_dbus_session_get_state (session));
  const char *last = g_object_get_data (G_OBJECT (session), STATE_KEY);
  gint64 now = g_get_real_time ();
  g_autofree char *text = NULL;
  JsonBuilder *b;

  if (g_strcmp0 (state, last) == 0)
    return;
  g_object_set_data_full (G_OBJECT (session), STATE_KEY, g_strdup (state), g_free);
  b = event_begin ("session-state", now);
  json_add_session_id (b, session);
  json_builder_set_member_name (b, "State");
  json_builder_add_string_value (b, state);
  text = g_strdup_printf (_("session %u: %s"), mgw_dbus_session_get_id (session), state);
  event_end (m, b, now, text);
}

static void
watch_session (Monitor        *m,
               MgwDBusSession *session)
{
  g_object_set_data_full (G_OBJECT (session), STATE_KEY,
                          g_strdup (or_dash (mgw_dbus_session_get_state (session))), g_free);
  g_signal_connect (session, "notify::state", G_CALLBACK (session_state_cb), m);
}

static void
object_added_cb (GDBusObjectManager *manager,
                 GDBusObject        *object,
                 Monitor            *m)
{
  MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (object));
  gint64 now = g_get_real_time ();
  g_autofree char *peer = NULL;
  g_autofree char *text = NULL;
  JsonBuilder *b;

  if (session == NULL)
    return;
  watch_session (m, session);
  b = event_begin ("session-added", now);
  json_add_session_id (b, session);
  json_builder_set_member_name (b, "Access");
  json_builder_add_string_value (b, or_dash (mgw_dbus_session_get_access (session)));
  json_builder_set_member_name (b, "PeerAddress");
  json_builder_add_string_value (b, or_dash (mgw_dbus_session_get_peer_address (session)));
  json_builder_set_member_name (b, "PeerPort");
  json_builder_add_int_value (b, mgw_dbus_session_get_peer_port (session));
  json_builder_set_member_name (b, "State");
  json_builder_add_string_value (b, or_dash (mgw_dbus_session_get_state (session)));
  peer = format_peer (session);
  text = g_strdup_printf (_("session %u added: %s from %s, %s"), mgw_dbus_session_get_id (session),
                          or_dash (mgw_dbus_session_get_access (session)), peer,
                          or_dash (mgw_dbus_session_get_state (session)));
  event_end (m, b, now, text);
}

static void
object_removed_cb (GDBusObjectManager *manager,
                   GDBusObject        *object,
                   Monitor            *m)
{
  MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (object));
  gint64 now = g_get_real_time ();
  g_autofree char *text = NULL;
  JsonBuilder *b;

  if (session == NULL)
    return;
  g_signal_handlers_disconnect_by_data (session, m);
  b = event_begin ("session-removed", now);
  json_add_session_id (b, session);
  text = g_strdup_printf (_("session %u removed"), mgw_dbus_session_get_id (session));
  event_end (m, b, now, text);
}

static void
ban_event (Monitor    *m,
           const char *event,
           const char *address,
           const char *reason,
           const char *text)
{
  gint64 now = g_get_real_time ();
  JsonBuilder *b = event_begin (event, now);

  json_builder_set_member_name (b, "Address");
  json_builder_add_string_value (b, address);
  json_builder_set_member_name (b, "Reason");
  json_builder_add_string_value (b, reason);
  event_end (m, b, now, text);
}

static void
banned_cb (MgwDBusGateway *gateway,
           const char     *address,
           const char     *reason,
           Monitor        *m)
{
  g_autofree char *text = g_strdup_printf (_("%s banned (%s)"), address, reason);

  ban_event (m, "banned", address, reason, text);
}

static void
unbanned_cb (MgwDBusGateway *gateway,
             const char     *address,
             const char     *reason,
             Monitor        *m)
{
  g_autofree char *text = g_strdup_printf (_("%s unbanned (%s)"), address, reason);

  ban_event (m, "unbanned", address, reason, text);
}

static void
command_channel_cb (MgwDBusGateway *gateway,
                    GParamSpec     *pspec,
                    Monitor        *m)
{
  gboolean connected = mgw_dbus_gateway_get_command_channel_connected (gateway);
  gint64 now = g_get_real_time ();
  JsonBuilder *b;

  if (connected == m->command_channel_connected)
    return;
  m->command_channel_connected = connected;
  b = event_begin ("command-channel", now);
  json_builder_set_member_name (b, "Connected");
  json_builder_add_boolean_value (b, connected);
  event_end (m, b, now, connected ? _("command channel connected")
                                  : _("command channel disconnected"));
}

static void
name_owner_cb (GObject    *manager,
               GParamSpec *pspec,
               Monitor    *m)
{
  g_autofree char *owner =
    g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (manager));
  gint64 now = g_get_real_time ();
  JsonBuilder *b;

  /* The client goes through "no owner" while it reloads for a new one. */
  if ((owner != NULL) == m->running)
    return;
  m->running = owner != NULL;
  b = event_begin (owner != NULL ? "gateway-started" : "gateway-stopped", now);
  event_end (m, b, now, owner != NULL ? _("moipgwd started") : _("moipgwd stopped"));
}

static gint
compare_ids (gconstpointer a,
             gconstpointer b)
{
  guint ia = *(const guint *) a;
  guint ib = *(const guint *) b;

  return ia < ib ? -1 : ia > ib;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static int
cmd_monitor (Ctl   *ctl,
             char **args)
{
  int status = EXIT_FAILURE;
  /* moipgwd not running yet: wait for it, as for a restart later. */
  g_autoptr(MgwDBusGateway) gateway = get_gateway_full (ctl, &status, TRUE);
  g_autoptr(GDBusObjectManager) manager = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autolist(GDBusObject) objects = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  Monitor m = { 0 };
  guint sigint, sigterm;
  gint64 now;
  JsonBuilder *b;

  if (gateway == NULL)
    return status;
  manager = get_manager_full (ctl, &status, TRUE);
  if (manager == NULL)
    return status;

  loop = g_main_loop_new (NULL, FALSE);
  m.ctl = ctl;
  m.loop = loop;
  m.manager = manager;
  m.gateway = gateway;
  m.command_channel_connected = mgw_dbus_gateway_get_command_channel_connected (gateway);
  {
    g_autofree char *owner =
      g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (manager));
    m.running = owner != NULL;
  }

  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (l->data));

      if (session != NULL)
        {
          guint id = mgw_dbus_session_get_id (session);

          watch_session (&m, session);
          g_array_append_val (ids, id);
        }
    }
  g_array_sort (ids, compare_ids);
  g_signal_connect (manager, "object-added", G_CALLBACK (object_added_cb), &m);
  g_signal_connect (manager, "object-removed", G_CALLBACK (object_removed_cb), &m);
  g_signal_connect (manager, "notify::name-owner", G_CALLBACK (name_owner_cb), &m);
  g_signal_connect (gateway, "banned", G_CALLBACK (banned_cb), &m);
  g_signal_connect (gateway, "unbanned", G_CALLBACK (unbanned_cb), &m);
  g_signal_connect (gateway, "notify::command-channel-connected",
                    G_CALLBACK (command_channel_cb), &m);
  sigint = g_unix_signal_add (SIGINT, quit_cb, loop);
  sigterm = g_unix_signal_add (SIGTERM, quit_cb, loop);

  /* The first line says the monitor listens, and what is there now. */
  now = g_get_real_time ();
  b = event_begin ("monitor-started", now);
  json_builder_set_member_name (b, "Sessions");
  json_builder_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    json_builder_add_int_value (b, g_array_index (ids, guint, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "Running");
  json_builder_add_boolean_value (b, m.running);
  if (m.running)
    {
      g_autofree char *text =
        g_strdup_printf (ngettext (
                                      "monitoring moipgwd, %u session open; Ctrl-C to stop",
                                      "monitoring moipgwd, %u sessions open; Ctrl-C to stop",
                                      ids->len), ids->len);
      event_end (&m, b, now, text);
    }
  else
    event_end (&m, b, now, _("moipgwd is not running: waiting for it; Ctrl-C to stop"));

  g_main_loop_run (loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handlers_disconnect_by_data (manager, &m);
  g_signal_handlers_disconnect_by_data (gateway, &m);
  g_list_free_full (g_steal_pointer (&objects), g_object_unref);
  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      MgwDBusSession *session = mgw_dbus_object_peek_session (MGW_DBUS_OBJECT (l->data));

      if (session != NULL)
        g_signal_handlers_disconnect_by_data (session, &m);
    }
  return EXIT_SUCCESS;
}

/* --- command line --- */

typedef struct
{
  const char *name;
  const char *params;    /* shown after the name in the usage line */
  const char *summary;
  guint       min_args;
  guint       max_args;
  int       (*run) (Ctl *ctl, char **args);
} Command;

static const Command commands[] = {
  { "status", "", N_("Show the gateway: version, listeners, command channel, counters"),
    0, 0, cmd_status },
  { "sessions", "", N_("List the user sessions"), 0, 0, cmd_sessions },
  { "session", N_("ID"), N_("Show one user session"), 1, 1, cmd_session },
  { "disconnect", N_("ID"), N_("End a user session (the user is told on the status line)"),
    1, 1, cmd_disconnect },
  { "bans", "", N_("List the banned addresses"), 0, 0, cmd_bans },
  { "ban", N_("ADDR"), N_("Ban an address and disconnect its sessions"), 1, 1, cmd_ban },
  { "unban", N_("ADDR"), N_("Remove the ban of an address"), 1, 1, cmd_unban },
  { "reload", "", N_("Read moipgw.conf, neverbanned.json and profiles.json again"),
    0, 0, cmd_reload },
  { "teletel", "status|stop|start|restart", N_("Show or control the Teletel server"),
    1, 1, cmd_teletel },
  { "monitor", "", N_("Show events (sessions, states, bans, command channel) until Ctrl-C"),
    0, 0, cmd_monitor },
};

static const Command *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static char *
commands_description (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GPtrArray) left = g_ptr_array_new_with_free_func (g_free);
  glong width = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const char *params = commands[i].params;
      char *usage = g_strdup_printf ("%s%s%s%s", commands[i].name,
                                     *params != '\0' ? " " : "",
                                     *params != '\0' ? _(params) : "",
                                     g_str_equal (commands[i].name, "ban") ? " [--days N]" : "");

      width = MAX (width, g_utf8_strlen (usage, -1));
      g_ptr_array_add (left, usage);
    }
  g_string_append_printf (text, "%s\n", _("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const char *usage = left->pdata[i];

      g_string_append_printf (text, "  %s", usage);
      for (glong pad = width - g_utf8_strlen (usage, -1) + 2; pad > 0; pad--)
        g_string_append_c (text, ' ');
      g_string_append_printf (text, "%s\n", _(commands[i].summary));
    }
  g_string_append_c (text, '\n');
  g_string_append (text, _("\"moipgwctl COMMAND --help\" describes a command.\n"
                           "Exit status: 0 success, 1 failure, 2 usage error."));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* --session-bus and --json, before or after the command; --version
 * only before (`version` NULL after). */
static void
add_global_entries (GOptionContext *context,
                    Ctl            *ctl,
                    gboolean       *version)
{
  GOptionEntry entries[] = {
    { "session-bus", 0, 0, G_OPTION_ARG_NONE, &ctl->session_bus,
      N_("Talk to moipgwd on the session bus instead of the system bus"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json,
      N_("Machine-readable output (JSON; one object per line with monitor)"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, version,
      N_("Print the version and exit"), NULL },
    { NULL }
  };

  if (version == NULL)
    memset (&entries[2], 0, sizeof entries[2]);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

static GOptionContext *
command_context (const Command *command,
                 Ctl           *ctl)
{
  const GOptionEntry ban_entries[] = {
    { "days", 'd', 0, G_OPTION_ARG_STRING, &ctl->days,
      N_("Ban for N days (default: the configured duration)"), N_("N") },
    { NULL }
  };
  g_autofree char *params = g_strdup_printf ("%s%s%s", command->name,
                                             *command->params != '\0' ? " " : "",
                                             *command->params != '\0' ? _(command->params) : "");
  GOptionContext *context = g_option_context_new (params);

  g_option_context_set_summary (context, _(command->summary));
  add_global_entries (context, ctl, NULL);
  if (g_str_equal (command->name, "ban"))
    g_option_context_add_main_entries (context, ban_entries, GETTEXT_PACKAGE);
  return context;
}

static int
run_command (const Command  *command,
             Ctl            *ctl,
             int             argc,
             char          **argv)
{
  g_autoptr(GOptionContext) context = command_context (command, ctl);
  g_autoptr(GError) error = NULL;
  guint n_args;

  /* argv[0] is the command's name, taken as the program's by GOption. */
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      print_error ("%s: %s", command->name, error->message);
      return EXIT_USAGE;
    }
  n_args = (guint) argc - 1;
  if (n_args < command->min_args)
    {
      print_error (_("%s: missing argument %s (see moipgwctl %s --help)"), command->name,
                   _(command->params), command->name);
      return EXIT_USAGE;
    }
  if (n_args > command->max_args)
    {
      print_error (_("%s: unexpected argument '%s'"), command->name,
                   argv[1 + command->max_args]);
      return EXIT_USAGE;
    }
  return command->run (ctl, argv + 1);
}

int
main (int    argc,
      char **argv)
{
  g_auto(Ctl) ctl = { 0 };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;
  gboolean version = FALSE;
  const Command *command;

  mgw_i18n_init ();
  g_set_prgname ("moipgwctl");

  context = g_option_context_new (_("COMMAND [ARGS…]"));
  g_option_context_set_summary (context, _("Administer moipgwd, the Minitel over IP gateway, over D-Bus."));
  description = commands_description ();
  g_option_context_set_description (context, description);
  /* Options before the command are moipgwctl's, the rest the command's. */
  g_option_context_set_strict_posix (context, TRUE);
  add_global_entries (context, &ctl, &version);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      print_error ("%s", error->message);
      return EXIT_USAGE;
    }
  if (version)
    {
      g_print ("moipgwctl %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (argc < 2)
    {
      print_error (_("no command given (see moipgwctl --help)"));
      return EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "help"))
    {
      g_autofree char *help = NULL;

      if (argc > 3)
        {
          print_error (_("help: unexpected argument '%s'"), argv[3]);
          return EXIT_USAGE;
        }
      if (argc == 3)
        {
          g_autoptr(GOptionContext) sub = NULL;

          command = find_command (argv[2]);
          if (command == NULL)
            {
              print_error (_("unknown command '%s' (see moipgwctl --help)"), argv[2]);
              return EXIT_USAGE;
            }
          sub = command_context (command, &ctl);
          help = g_option_context_get_help (sub, TRUE, NULL);
        }
      else
        help = g_option_context_get_help (context, TRUE, NULL);
      g_print ("%s", help);
      return EXIT_SUCCESS;
    }
  command = find_command (argv[1]);
  if (command == NULL)
    {
      print_error (_("unknown command '%s' (see moipgwctl --help)"), argv[1]);
      return EXIT_USAGE;
    }
  return run_command (command, &ctl, argc - 1, argv + 1);
}
