/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl-output.c: the one place for the output of moipgwctl:
 * aligned tables and "Label: value" rows for people, JSON for programs
 * (--json), the properties of a proxy in the order its interface
 * description lists them, times, and the JSON records of an action
 * ({"Command", "Ok", ...}) and of a monitor event ({"Time", "Event",
 * ...}). */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "moipgwctl.h"

/* --- errors --- */

/* "moipgwctl: " and the message, on stderr. */
void
mgw_ctl_print_error (const char *format,
                     ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("moipgwctl: %s\n", message);
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
char *
mgw_ctl_format_time (gint64 usec)
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
void
mgw_ctl_json_add_time (JsonBuilder *b,
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

/* --- values --- */

char *
mgw_ctl_format_peer (const MgwCtlPeer *peer)
{
  if (peer == NULL)
    return g_strdup ("-");
  if (strchr (peer->address, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", peer->address, peer->port);
  return g_strdup_printf ("%s:%u", peer->address, peer->port);
}

void
mgw_ctl_add_peer (const MgwCtlPeer *peer,
                  JsonBuilder      *b,
                  MgwCtlTable      *table)
{
  if (b != NULL && peer != NULL)
    {
      json_builder_set_member_name (b, "PeerAddress");
      json_builder_add_string_value (b, peer->address);
      json_builder_set_member_name (b, "PeerPort");
      json_builder_add_int_value (b, peer->port);
    }
  if (table == NULL)
    return;
  mgw_ctl_table_take (table, g_strdup_printf ("%s:", _("Peer address")));
  if (peer == NULL)
    {
      mgw_ctl_table_add (table, _("(shown to root and the moipgw group only)"));
      return;
    }
  mgw_ctl_table_add (table, peer->address);
  mgw_ctl_table_take (table, g_strdup_printf ("%s:", _("Peer port")));
  mgw_ctl_table_take (table, g_strdup_printf ("%u", peer->port));
}

/* "-" for an unset or empty string. */
const char *
mgw_ctl_or_dash (const char *s)
{
  return s != NULL && *s != '\0' ? s : "-";
}

/* --- output --- */

void
mgw_ctl_print_json (JsonBuilder *b,
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
struct _MgwCtlTable
{
  guint      n_columns;
  guint32    right;
  GPtrArray *cells;
};

MgwCtlTable *
mgw_ctl_table_new (guint   n_columns,
                   guint32 right)
{
  MgwCtlTable *t = g_new0 (MgwCtlTable, 1);

  t->n_columns = n_columns;
  t->right = right;
  t->cells = g_ptr_array_new_with_free_func (g_free);
  return t;
}

void
mgw_ctl_table_free (MgwCtlTable *t)
{
  g_ptr_array_unref (t->cells);
  g_free (t);
}

void
mgw_ctl_table_take (MgwCtlTable *t,
                    char        *cell)
{
  g_ptr_array_add (t->cells, cell);
}

void
mgw_ctl_table_add (MgwCtlTable *t,
                   const char  *cell)
{
  mgw_ctl_table_take (t, g_strdup (cell));
}

void
mgw_ctl_table_print (MgwCtlTable *t)
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
  { "ActiveRawSessions", N_("Active raw TCP sessions") },
  { "RawRegistrations", N_("Raw TCP sessions since start") },
  { "Redirections", N_("Redirections") },
  { "Bans", N_("Bans") },
  { "Unbans", N_("Unbans") },
  { "BanListSize", N_("Addresses banned now") },
  { "RefusedBanned", N_("Refused, address banned") },
  { "RefusedFull", N_("Refused, gateway full") },
  { "ProxyRefused", N_("Refused, bad PROXY header") },
  { "Scanners", N_("Port scanners caught") },
  { "RefusedRate", N_("Refused, too many connections a second") },
  { "RefusedPending", N_("Refused, too many unfinished connections") },
  { "TimeoutsUserInactivity", N_("Timeouts, user inactivity") },
  { "TimeoutsSessionMax", N_("Timeouts, session maximum") },
  { "TimeoutsServerInactivity", N_("Timeouts, server inactivity") },
  { "TimeoutsRedirectInactivity", N_("Timeouts, redirection inactivity") },
  { "TimeoutsRedirectMax", N_("Timeouts, redirection maximum") },
  { "BadInput", N_("Bad input") },
  { "BadCommands", N_("Bad commands") },
  { "CommandMessagesDropped", N_("Command messages dropped") },
  { "TlsCertificateSubject", N_("TLS certificate") },
  { "TlsCertificateNotAfter", N_("TLS certificate valid until") },
  { "TlsCertificateProblem", N_("TLS certificate not reloaded") },
  { "TlsHandshakes", N_("TLS handshakes") },
  { "TlsHandshakeFailures", N_("TLS handshakes failed") },
  { "TlsHandshakeTimeouts", N_("TLS handshakes timed out") },
  { "Draining", N_("Draining") },
  { "DrainDeadline", N_("Sessions end at") },
  { "RefusedDraining", N_("Refused, draining") },
  /* org.moipgw.Gateway1.Session (Redirections and StartTime above) */
  { "Id", N_("Id") },
  { "Access", N_("Access") },
  { "State", N_("State") },
  { "BytesFromUser", N_("Bytes from user") },
  { "BytesToUser", N_("Bytes to user") },
  { "RedirectBytesFromUser", N_("Redirection bytes from user") },
  { "RedirectBytesToUser", N_("Redirection bytes to user") },
  { "Target", N_("Target") },
  { "Watched", N_("Watched") },
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
    return mgw_ctl_format_time (g_variant_get_int64 (value));
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
      mgw_ctl_json_add_time (b, name, g_variant_get_int64 (value));
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
void
mgw_ctl_add_properties (gpointer     proxy,
                        JsonBuilder *b,
                        MgwCtlTable *table)
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
          mgw_ctl_table_take (table, g_strdup_printf ("%s:", property_label (name)));
          mgw_ctl_table_take (table, format_value (name, value));
        }
    }
}

static int
print_properties (Ctl              *ctl,
                  gpointer          proxy,
                  gboolean          with_peer,
                  const MgwCtlPeer *peer)
{
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      mgw_ctl_add_properties (proxy, b, NULL);
      if (with_peer)
        mgw_ctl_add_peer (peer, b, NULL);
      json_builder_end_object (b);
      mgw_ctl_print_json (b, TRUE);
    }
  else
    {
      g_autoptr(MgwCtlTable) table = mgw_ctl_table_new (2, 0);

      mgw_ctl_add_properties (proxy, NULL, table);
      if (with_peer)
        mgw_ctl_add_peer (peer, NULL, table);
      mgw_ctl_table_print (table);
    }
  return EXIT_SUCCESS;
}

int
mgw_ctl_print_properties (Ctl      *ctl,
                          gpointer  proxy)
{
  return print_properties (ctl, proxy, FALSE, NULL);
}

int
mgw_ctl_print_session (Ctl              *ctl,
                       MgwDBusSession   *session,
                       const MgwCtlPeer *peer)
{
  return print_properties (ctl, session, TRUE, peer);
}

/* What an action did, for --json: {"Command": ..., "Ok": true, ...}. */
JsonBuilder *
mgw_ctl_action_begin (const char *command)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Command");
  json_builder_add_string_value (b, command);
  json_builder_set_member_name (b, "Ok");
  json_builder_add_boolean_value (b, TRUE);
  return b;
}

void
mgw_ctl_action_end (JsonBuilder *b)
{
  json_builder_end_object (b);
  mgw_ctl_print_json (b, TRUE);
}

/* An event: {"Time", "TimeUsec", "Event", ...}; the caller adds its
 * fields, mgw_ctl_event_end prints the line. */
JsonBuilder *
mgw_ctl_event_begin (const char *event,
                     gint64      now)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  mgw_ctl_json_add_time (b, "Time", now);
  json_builder_set_member_name (b, "Event");
  json_builder_add_string_value (b, event);
  return b;
}

void
mgw_ctl_event_end (Ctl         *ctl,
                   JsonBuilder *b,
                   gint64       now,
                   const char  *text)
{
  json_builder_end_object (b);
  if (ctl->json)
    mgw_ctl_print_json (b, FALSE);
  else
    {
      g_autofree char *time = mgw_ctl_format_time (now);

      g_print ("%s %s\n", time, text);
      fflush (stdout);
    }
  g_object_unref (b);
}

/* Bytes as they are to standard output (a user's screen: replay,
 * watch), all of them; FALSE, errno set, when it is closed or fails. */
gboolean
mgw_ctl_write_stdout (const guint8 *data,
                      gsize         len)
{
  while (len > 0)
    {
      ssize_t n = write (STDOUT_FILENO, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}
