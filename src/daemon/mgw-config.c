/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-config.c: defaults, moipgw.conf (GKeyFile) and value parsing.
 *
 * One table lists every key of the file with its type and where it goes,
 * so an unknown key or group is found, and every value goes through the
 * same parsers as the command-line options. */
#include "config.h"

#include "mgw-config.h"
#include "mgw-ban-list.h"
#include "mgw-error.h"
#include "mgw-redirect-policy.h"
#include "mgw-uri.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

const char *
mgw_access_to_string (MgwAccess access)
{
  switch (access)
    {
    case MGW_ACCESS_TELNET:
      return "Telnet";
    case MGW_ACCESS_WS:
      return "WS";
    case MGW_ACCESS_RAW:
      return "raw";
    case MGW_N_ACCESS:
    default:
      return "unknown";
    }
}

const char *
mgw_access_to_compat_string (MgwAccess access)
{
  return access == MGW_ACCESS_WS ? "WS" : "Telnet";
}

MgwAccess
mgw_access_settings (MgwAccess access)
{
  return access == MGW_ACCESS_RAW ? MGW_ACCESS_TELNET : access;
}

MgwConfig *
mgw_config_new_default (void)
{
  MgwConfig *config = g_rc_box_new0 (MgwConfig);
  const char *state_dir = g_getenv ("STATE_DIRECTORY");

  config->telnet_port = MGW_PORT_OFF;
  config->ws_port = MGW_PORT_OFF;
  config->ws_tls_port = MGW_PORT_OFF;
  config->tls_max_handshakes = 32;
  config->tls_max_handshakes_per_address = 8;
  config->raw_port = MGW_PORT_OFF;
  config->telnet_start = MGW_TELNET_START_WILL_ECHO;
  config->telnet_welcome = g_strdup ("Welcome to PyMoIP [telnet]/WS gateway\n\r");
  config->ws_welcome = g_strdup ("Welcome to PyMoIP telnet/[WS] gateway\n\r");
  config->ws_frame_type = MGW_FRAME_TEXT;
  config->ws_ping_interval = 20;
  config->ws_ping_timeout = 15;
  config->ws_max_message = 64 * 1024;
  config->server_uri = g_strdup ("ws://localhost:8765");
  config->server_ping = 0;
  config->server_subprotocols = g_new0 (char *, 1);
  config->server_frame_type = MGW_FRAME_TEXT;
  config->connect_timeout = 10;
  config->queue_limit = 64 * 1024;
  config->stall_timeout = 30;
  config->sep_hold_ms = 100;
  for (int a = 0; a < MGW_N_ACCESS_SETTINGS; a++)
    {
      config->user_inactivity[a] = 600;
      config->session_max[a] = 7200;
      config->server_inactivity[a] = 3600;
    }
  config->redirect_inactivity[MGW_ACCESS_TELNET] = 120;
  config->redirect_inactivity[MGW_ACCESS_WS] = 3600;
  config->redirect_max[MGW_ACCESS_TELNET] = 7200;
  config->redirect_max[MGW_ACCESS_WS] = 3600;
  config->command_retry_ms = 5000;
  config->command_queue_max = 1024;
  config->garbage_bytes = 144;
  config->garbage_window_ms = 1000;
  config->typing_rate = 10;
  config->typing_excess = 5;
  config->scanner_wait_ms = 300;
  config->max_sessions = 0;
  config->max_sessions_per_address = 32;
  config->max_pending_per_address = 8;
  config->min_session_ms = 1000;
  config->connection_rate = 5;
  config->connection_burst = 20;
  config->ban_duration = 100 * 86400 + 20;
  config->ban_escalate = FALSE;
  config->ban_max_duration = 1000 * 86400;
  config->ban_sweep_interval = 3600;
  config->ban_ipv6_prefix = MGW_BAN_DEFAULT_IPV6_PREFIX;
  config->ban_max_entries = MGW_BAN_DEFAULT_MAX_ENTRIES;
  config->proxy_timeout_ms = 1000;
  /* $STATE_DIRECTORY may list several; the first is ours. */
  if (state_dir != NULL && *state_dir != '\0')
    {
      g_auto(GStrv) dirs = g_strsplit (state_dir, ":", 2);
      config->state_dir = g_strdup (dirs[0]);
    }
  else
    config->state_dir = g_strdup (MGW_STATEDIR);
  config->config_path = g_strdup (MGW_SYSCONFDIR);
  config->command_uri = g_strdup ("ws://localhost:8764");
  config->redirect_allow = g_strdup (MGW_REDIRECT_ALLOW_DEFAULT);
  config->display_port = 8999;
  config->teletel_backend = g_strdup ("none");
  config->teletel_grace_ms = 5000;
  config->console_addresses = g_strsplit ("127.0.0.1", ";", -1);
  config->recording_input = MGW_RECORDING_INPUT_MASK;
  config->recording_max_size = 1024 * 1024;
  config->recording_keep_count = 1000;
  config->recording_keep_days = 30;
  config->recording_keep_size = G_GUINT64_CONSTANT (1024) * 1024 * 1024;
  config->web_max_file_size = 16 * 1024 * 1024;
  return config;
}

static void
config_clear (MgwConfig *config)
{
  g_strfreev (config->listen_addresses);
  g_free (config->telnet_welcome);
  g_free (config->ws_welcome);
  g_free (config->server_uri);
  g_strfreev (config->server_subprotocols);
  g_free (config->state_dir);
  g_free (config->config_path);
  g_free (config->command_uri);
  g_free (config->profiles_file);
  g_free (config->redirect_allow);
  g_free (config->tls_ca_file);
  g_free (config->tls_certificate);
  g_free (config->tls_key);
  g_strfreev (config->trusted_proxies);
  g_strfreev (config->console_addresses);
  g_strfreev (config->recording_replay_from);
  g_free (config->metrics_listen);
  g_free (config->web_root);
  g_free (config->teletel_backend);
  g_free (config->teletel_command);
  g_free (config->teletel_unit);
}

MgwConfig *
mgw_config_ref (MgwConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);

  return g_rc_box_acquire (config);
}

void
mgw_config_unref (MgwConfig *config)
{
  g_rc_box_release_full (config, (GDestroyNotify) config_clear);
}

static gboolean
parse_telnet_start (const char      *text,
                    MgwTelnetStart  *start,
                    GError         **error)
{
  if (g_ascii_strcasecmp (text, "will-echo") == 0)
    *start = MGW_TELNET_START_WILL_ECHO;
  else if (g_ascii_strcasecmp (text, "do-echo") == 0)
    *start = MGW_TELNET_START_DO_ECHO;
  else if (g_ascii_strcasecmp (text, "none") == 0)
    *start = MGW_TELNET_START_NONE;
  else
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("negotiation '%s' is not 'will-echo', 'do-echo' or 'none'"), text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_bool (const char  *text,
            gboolean    *value,
            GError     **error)
{
  static const char * const yes[] = { "true", "on", "yes", "1" };
  static const char * const no[] = { "false", "off", "no", "0" };

  for (gsize i = 0; i < G_N_ELEMENTS (yes); i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0 || g_ascii_strcasecmp (text, no[i]) == 0)
      {
        *value = g_ascii_strcasecmp (text, yes[i]) == 0;
        return TRUE;
      }
  g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
               _("'%s' is neither true nor false"), text);
  return FALSE;
}

typedef enum {
  KEY_PORT,
  KEY_STRING,     /* may be empty */
  KEY_PATH,
  KEY_ADDRESSES,
  KEY_SECONDS,
  KEY_SIZE,
  KEY_MS,
  KEY_BOOL,
  KEY_FRAME,
  KEY_PING,
  KEY_SUBPROTOCOLS,
  KEY_TELNET_START,
  KEY_SECONDS_MS,   /* seconds in the file, milliseconds in the struct */
  KEY_COUNT,
  KEY_NOT,          /* a boolean stored negated */
  KEY_FRACTION_MS,  /* seconds, fractions allowed, stored in milliseconds */
  KEY_PREFIXES,     /* addresses or CIDR prefixes */
  KEY_UINT,
  KEY_HTTP_HEADER,  /* x-forwarded-for or forwarded */
  KEY_RETURN_KEYS,  /* a list of return sequences */
  KEY_BYTES,        /* bytes, K, M, G or T (powers of 1024) allowed; guint64 */
  KEY_RECORDING_INPUT,
} KeyType;

typedef struct
{
  const char *group;
  const char *key;
  KeyType     type;
  gsize       offset;
  gboolean    restart;   /* read at start only: a reload keeps the running value */
} KeyDef;

#define F(field) offsetof (MgwConfig, field)

static const KeyDef keys[] = {
  { "listen", "address", KEY_ADDRESSES, F (listen_addresses), TRUE },
  { "listen", "telnet-port", KEY_PORT, F (telnet_port), TRUE },
  { "listen", "websocket-port", KEY_PORT, F (ws_port), TRUE },
  { "listen", "websocket-tls-port", KEY_PORT, F (ws_tls_port), TRUE },
  { "telnet", "negotiation", KEY_TELNET_START, F (telnet_start) },
  { "telnet", "welcome", KEY_STRING, F (telnet_welcome) },
  { "telnet", "garbage-bytes", KEY_UINT, F (garbage_bytes) },
  { "telnet", "garbage-window", KEY_FRACTION_MS, F (garbage_window_ms) },
  { "telnet", "typing-rate", KEY_UINT, F (typing_rate) },
  { "telnet", "typing-excess", KEY_UINT, F (typing_excess) },
  { "telnet", "scanner-wait", KEY_FRACTION_MS, F (scanner_wait_ms) },
  { "telnet", "baud", KEY_UINT, F (baud[MGW_ACCESS_TELNET]) },
  { "websocket", "baud", KEY_UINT, F (baud[MGW_ACCESS_WS]) },
  { "websocket", "welcome", KEY_STRING, F (ws_welcome) },
  { "websocket", "frame-type", KEY_FRAME, F (ws_frame_type) },
  { "websocket", "ping-interval", KEY_SECONDS, F (ws_ping_interval) },
  { "websocket", "ping-timeout", KEY_SECONDS, F (ws_ping_timeout) },
  { "websocket", "max-message-size", KEY_SIZE, F (ws_max_message) },
  { "server", "uri", KEY_STRING, F (server_uri) },
  { "server", "ping-interval", KEY_PING, F (server_ping) },
  { "server", "subprotocols", KEY_SUBPROTOCOLS, F (server_subprotocols) },
  { "server", "frame-type", KEY_FRAME, F (server_frame_type) },
  { "server", "connect-timeout", KEY_SECONDS, F (connect_timeout) },
  { "session", "queue-limit", KEY_SIZE, F (queue_limit) },
  { "session", "sep-hold", KEY_MS, F (sep_hold_ms) },
  { "session", "stall-timeout", KEY_SECONDS, F (stall_timeout) },
  { "session", "max-sessions", KEY_UINT, F (max_sessions) },
  { "session", "max-sessions-per-address", KEY_UINT, F (max_sessions_per_address) },
  { "session", "max-pending-per-address", KEY_UINT, F (max_pending_per_address) },
  { "bans", "min-session", KEY_FRACTION_MS, F (min_session_ms) },
  { "bans", "connection-rate", KEY_UINT, F (connection_rate) },
  { "bans", "connection-burst", KEY_UINT, F (connection_burst) },
  { "bans", "duration", KEY_SECONDS, F (ban_duration) },
  { "bans", "escalate", KEY_BOOL, F (ban_escalate) },
  { "bans", "max-duration", KEY_SECONDS, F (ban_max_duration) },
  { "bans", "sweep-interval", KEY_SECONDS, F (ban_sweep_interval) },
  { "bans", "ipv6-prefix", KEY_UINT, F (ban_ipv6_prefix) },
  { "bans", "max-entries", KEY_UINT, F (ban_max_entries) },
  { "proxy", "trusted", KEY_PREFIXES, F (trusted_proxies) },
  { "console", "port", KEY_PORT, F (display_port), TRUE },
  { "console", "address", KEY_ADDRESSES, F (console_addresses), TRUE },
  { "proxy", "header-timeout", KEY_FRACTION_MS, F (proxy_timeout_ms) },
  { "proxy", "http-header", KEY_HTTP_HEADER, F (proxy_forwarded) },
  { "timeouts", "user-inactivity-telnet", KEY_SECONDS, F (user_inactivity[MGW_ACCESS_TELNET]) },
  { "timeouts", "user-inactivity-websocket", KEY_SECONDS, F (user_inactivity[MGW_ACCESS_WS]) },
  { "timeouts", "session-max-telnet", KEY_SECONDS, F (session_max[MGW_ACCESS_TELNET]) },
  { "timeouts", "session-max-websocket", KEY_SECONDS, F (session_max[MGW_ACCESS_WS]) },
  { "timeouts", "server-inactivity-telnet", KEY_SECONDS, F (server_inactivity[MGW_ACCESS_TELNET]) },
  { "timeouts", "server-inactivity-websocket", KEY_SECONDS, F (server_inactivity[MGW_ACCESS_WS]) },
  { "timeouts", "redirect-inactivity-telnet", KEY_SECONDS, F (redirect_inactivity[MGW_ACCESS_TELNET]) },
  { "timeouts", "redirect-inactivity-websocket", KEY_SECONDS, F (redirect_inactivity[MGW_ACCESS_WS]) },
  { "timeouts", "redirect-max-telnet", KEY_SECONDS, F (redirect_max[MGW_ACCESS_TELNET]) },
  { "timeouts", "redirect-max-websocket", KEY_SECONDS, F (redirect_max[MGW_ACCESS_WS]) },
  { "command", "enabled", KEY_NOT, F (no_command_channel), TRUE },
  { "command", "uri", KEY_STRING, F (command_uri), TRUE },
  { "command", "retry-interval", KEY_SECONDS_MS, F (command_retry_ms), TRUE },
  { "command", "queue-max", KEY_COUNT, F (command_queue_max), TRUE },
  { "redirect", "profiles", KEY_PATH, F (profiles_file) },
  { "redirect", "allow", KEY_STRING, F (redirect_allow) },
  { "tls", "ca-file", KEY_PATH, F (tls_ca_file), TRUE },
  { "tls", "certificate", KEY_PATH, F (tls_certificate) },
  { "tls", "key", KEY_PATH, F (tls_key) },
  { "tls", "max-handshakes", KEY_COUNT, F (tls_max_handshakes), TRUE },
  { "tls", "max-handshakes-per-address", KEY_COUNT, F (tls_max_handshakes_per_address), TRUE },
  { "paths", "state-dir", KEY_PATH, F (state_dir), TRUE },
  { "paths", "config-path", KEY_PATH, F (config_path) },
  { "metrics", "listen", KEY_STRING, F (metrics_listen), TRUE },
  { "teletel", "backend", KEY_STRING, F (teletel_backend), TRUE },
  { "teletel", "command", KEY_STRING, F (teletel_command), TRUE },
  { "teletel", "grace", KEY_FRACTION_MS, F (teletel_grace_ms), TRUE },
  { "teletel", "unit", KEY_STRING, F (teletel_unit), TRUE },
  { "listen", "raw-port", KEY_PORT, F (raw_port), TRUE },
  { "redirect", "return-keys", KEY_RETURN_KEYS, F (return_keys) },
  { "recording", "enabled", KEY_BOOL, F (recording_enabled) },
  { "recording", "input", KEY_RECORDING_INPUT, F (recording_input) },
  { "recording", "max-size", KEY_BYTES, F (recording_max_size) },
  { "recording", "keep-count", KEY_UINT, F (recording_keep_count) },
  { "recording", "keep-days", KEY_UINT, F (recording_keep_days) },
  { "recording", "keep-size", KEY_BYTES, F (recording_keep_size) },
  { "recording", "replay-from", KEY_PREFIXES, F (recording_replay_from) },
  { "web", "emulator", KEY_BOOL, F (web_emulator) },
  { "web", "root", KEY_STRING, F (web_root) },
  { "web", "max-file-size", KEY_BYTES, F (web_max_file_size) },
};

#undef F

/* Whether a key's value is the same in a and b; with copy, b's value
 * becomes a's too. */
static gboolean
same_value (const KeyDef    *def,
            MgwConfig       *a,
            const MgwConfig *b,
            gboolean         copy)
{
  gpointer fa = G_STRUCT_MEMBER_P (a, def->offset);
  gconstpointer fb = G_STRUCT_MEMBER_P (b, def->offset);

  switch (def->type)
    {
    case KEY_STRING:
    case KEY_PATH:
      if (g_strcmp0 (*(char **) fa, *(char * const *) fb) == 0)
        return TRUE;
      if (copy)
        {
          g_free (*(char **) fa);
          *(char **) fa = g_strdup (*(char * const *) fb);
        }
      return FALSE;
    case KEY_ADDRESSES:
    case KEY_PREFIXES:
      {
        const char * const *va = *(const char * const **) fa;
        const char * const *vb = *(const char * const * const *) fb;
        static const char *const none[] = { NULL };

        if (g_strv_equal (va ? va : none, vb ? vb : none))
          return TRUE;
        if (copy)
          {
            g_strfreev (*(char ***) fa);
            *(char ***) fa = g_strdupv ((char **) vb);
          }
        return FALSE;
      }
    case KEY_PORT:
      if (*(int *) fa == *(const int *) fb)
        return TRUE;
      if (copy)
        *(int *) fa = *(const int *) fb;
      return FALSE;
    case KEY_BOOL:
    case KEY_NOT:
      if (!*(gboolean *) fa == !*(const gboolean *) fb)
        return TRUE;
      if (copy)
        *(gboolean *) fa = *(const gboolean *) fb;
      return FALSE;
    case KEY_SECONDS:
    case KEY_MS:
    case KEY_SECONDS_MS:
    case KEY_COUNT:
    case KEY_FRACTION_MS:
    case KEY_UINT:
      if (*(guint *) fa == *(const guint *) fb)
        return TRUE;
      if (copy)
        *(guint *) fa = *(const guint *) fb;
      return FALSE;
    case KEY_SIZE:
    case KEY_FRAME:
    case KEY_PING:
    case KEY_SUBPROTOCOLS:
    case KEY_TELNET_START:
    case KEY_HTTP_HEADER:
    case KEY_RETURN_KEYS:
    case KEY_BYTES:
    case KEY_RECORDING_INPUT:
    default:
      g_assert_not_reached ();   /* no such key is read at start only */
    }
}

char **
mgw_config_keep_restart_keys (MgwConfig       *config,
                              const MgwConfig *running)
{
  GPtrArray *names = g_ptr_array_new ();

  g_return_val_if_fail (config != NULL && running != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].restart && !same_value (&keys[i], config, running, TRUE))
      g_ptr_array_add (names, g_strdup_printf ("[%s] %s", keys[i].group, keys[i].key));
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

static const KeyDef *
find_key (const char *group,
          const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0 && strcmp (keys[i].key, key) == 0)
      return &keys[i];
  return NULL;
}

static gboolean
known_group (const char *group)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
apply_key (MgwConfig     *config,
           const KeyDef  *def,
           GKeyFile      *keyfile,
           GError       **error)
{
  gpointer field = (guint8 *) config + def->offset;
  g_autofree char *value = NULL;
  guint64 number;

  if (def->type == KEY_STRING)
    {
      /* Keeps leading and trailing spaces; \n \r escapes are understood. */
      value = g_key_file_get_string (keyfile, def->group, def->key, error);
      if (value == NULL)
        return FALSE;
      g_free (*(char **) field);
      *(char **) field = g_steal_pointer (&value);
      return TRUE;
    }

  value = g_key_file_get_value (keyfile, def->group, def->key, error);
  if (value == NULL)
    return FALSE;
  g_strstrip (value);

  switch (def->type)
    {
    case KEY_PORT:
      return mgw_value_parse_port (value, field, error);
    case KEY_PATH:
      if (*value == '\0')
        {
          g_set_error_literal (error, MGW_ERROR, MGW_ERROR_CONFIG,
                               _("empty path"));
          return FALSE;
        }
      g_free (*(char **) field);
      *(char **) field = g_steal_pointer (&value);
      return TRUE;
    case KEY_ADDRESSES:
      {
        g_auto(GStrv) list = g_key_file_get_string_list (keyfile, def->group,
                                                         def->key, NULL, error);
        if (list == NULL)
          return FALSE;
        for (guint i = 0; list[i] != NULL; i++)
          g_strstrip (list[i]);
        if (!mgw_value_check_addresses (list, error))
          return FALSE;
        g_strfreev (*(char ***) field);
        *(char ***) field = list[0] ? g_steal_pointer (&list) : NULL;
        return TRUE;
      }
    case KEY_SECONDS:
      if (!mgw_value_parse_uint (value, G_MAXUINT32 / 1000, &number, error))
        return FALSE;
      *(guint *) field = (guint) number;
      return TRUE;
    case KEY_MS:
      if (!mgw_value_parse_uint (value, 60000, &number, error))
        return FALSE;
      *(guint *) field = (guint) number;
      return TRUE;
    case KEY_SIZE:
      if (!mgw_value_parse_uint (value, 1024 * 1024 * 1024, &number, error))
        return FALSE;
      if (number < 1024)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("%llu is below the minimum of 1024 bytes"),
                       (unsigned long long) number);
          return FALSE;
        }
      if (def->offset == offsetof (MgwConfig, queue_limit))
        *(gsize *) field = (gsize) number;
      else
        *(guint64 *) field = number;
      return TRUE;
    case KEY_BOOL:
      return parse_bool (value, field, error);
    case KEY_NOT:
      if (!parse_bool (value, field, error))
        return FALSE;
      *(gboolean *) field = !*(gboolean *) field;
      return TRUE;
    case KEY_SECONDS_MS:
      if (!mgw_value_parse_uint (value, 3600, &number, error))
        return FALSE;
      if (number == 0)
        {
          g_set_error_literal (error, MGW_ERROR, MGW_ERROR_CONFIG,
                               _("must be at least 1 second"));
          return FALSE;
        }
      *(guint *) field = (guint) number * 1000;
      return TRUE;
    case KEY_UINT:
      if (!mgw_value_parse_uint (value, 1000000, &number, error))
        return FALSE;
      *(guint *) field = (guint) number;
      return TRUE;
    case KEY_HTTP_HEADER:
      if (g_ascii_strcasecmp (value, "x-forwarded-for") == 0)
        *(gboolean *) field = FALSE;
      else if (g_ascii_strcasecmp (value, "forwarded") == 0)
        *(gboolean *) field = TRUE;
      else
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("'%s' is neither 'x-forwarded-for' nor 'forwarded'"), value);
          return FALSE;
        }
      return TRUE;
    case KEY_FRACTION_MS:
      return mgw_value_parse_seconds_ms (value, field, error);
    case KEY_PREFIXES:
      {
        g_auto(GStrv) list = g_key_file_get_string_list (keyfile, def->group,
                                                         def->key, NULL, error);
        if (list == NULL)
          return FALSE;
        for (guint i = 0; list[i] != NULL; i++)
          if (!mgw_value_check_prefix (g_strstrip (list[i]), error))
            return FALSE;
        g_strfreev (*(char ***) field);
        *(char ***) field = list[0] ? g_steal_pointer (&list) : NULL;
        return TRUE;
      }
    case KEY_COUNT:
      if (!mgw_value_parse_uint (value, 1000000, &number, error))
        return FALSE;
      if (number == 0)
        {
          g_set_error_literal (error, MGW_ERROR, MGW_ERROR_CONFIG, _("must be at least 1"));
          return FALSE;
        }
      *(guint *) field = (guint) number;
      return TRUE;
    case KEY_FRAME:
      return mgw_value_parse_frame_type (value, field, error);
    case KEY_PING:
      return mgw_value_parse_ping (value, field, error);
    case KEY_SUBPROTOCOLS:
      {
        char **list = NULL;
        if (!mgw_value_parse_subprotocols (value, &list, error))
          return FALSE;
        g_strfreev (*(char ***) field);
        *(char ***) field = list;
        return TRUE;
      }
    case KEY_TELNET_START:
      return parse_telnet_start (value, field, error);
    case KEY_RETURN_KEYS:
      {
        MgwReturnKeys list;

        if (!mgw_return_keys_parse (&list, value, error))
          return FALSE;
        *(MgwReturnKeys *) field = list;
        config->has_return_keys = TRUE;
        return TRUE;
      }
    case KEY_BYTES:
      return mgw_value_parse_bytes (value, field, error);
    case KEY_RECORDING_INPUT:
      if (!mgw_recording_input_from_string (value, field))
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("'%s' is not 'keep', 'mask' or 'drop'"), value);
          return FALSE;
        }
      return TRUE;
    case KEY_STRING:
    default:
      g_assert_not_reached ();
    }
}

gboolean
mgw_config_load_keyfile (MgwConfig  *config,
                         GKeyFile   *keyfile,
                         GError    **error)
{
  g_auto(GStrv) groups = NULL;

  g_return_val_if_fail (config != NULL && keyfile != NULL, FALSE);

  groups = g_key_file_get_groups (keyfile, NULL);
  for (guint g = 0; groups[g] != NULL; g++)
    {
      g_auto(GStrv) names = NULL;

      if (!known_group (groups[g]))
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("unknown group [%s]"), groups[g]);
          return FALSE;
        }
      names = g_key_file_get_keys (keyfile, groups[g], NULL, NULL);
      for (guint k = 0; names[k] != NULL; k++)
        {
          const KeyDef *def = find_key (groups[g], names[k]);
          g_autoptr(GError) local = NULL;

          if (def == NULL)
            {
              g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                           _("unknown key '%s' in [%s]"), names[k], groups[g]);
              return FALSE;
            }
          if (!apply_key (config, def, keyfile, &local))
            {
              g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                           "[%s] %s: %s", groups[g], names[k], local->message);
              return FALSE;
            }
        }
    }
  return TRUE;
}

gboolean
mgw_config_load_file (MgwConfig   *config,
                      const char  *path,
                      gboolean     must_exist,
                      GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  g_autofree char *data = NULL;
  gsize len;

  g_return_val_if_fail (config != NULL && path != NULL, FALSE);

  if (!mgw_file_get_contents_max (path, MGW_CONFIG_FILE_MAX, MGW_FILE_DEFAULT, &data, &len, &local))
    {
      if (!must_exist && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      mgw_error_set_in_file (error, path, local);
      return FALSE;
    }
  if (!g_key_file_load_from_data (keyfile, data, len, G_KEY_FILE_NONE, &local) ||
      !mgw_config_load_keyfile (config, keyfile, &local))
    {
      mgw_error_set_in_file (error, path, local);
      return FALSE;
    }
  return TRUE;
}

/* [teletel]: a known backend and what it needs. */
static gboolean
validate_teletel (MgwConfig  *config,
                  GError    **error)
{
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) argv = NULL;

  if (config->teletel_backend == NULL || *g_strstrip (config->teletel_backend) == '\0')
    {
      g_free (config->teletel_backend);
      config->teletel_backend = g_strdup ("none");
    }
  if (strcmp (config->teletel_backend, "none") != 0 &&
      strcmp (config->teletel_backend, "process") != 0 &&
      strcmp (config->teletel_backend, "systemd") != 0)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("[teletel] backend: '%s' is not none, process or systemd"),
                   config->teletel_backend);
      return FALSE;
    }
  if (config->teletel_command != NULL && *g_strstrip (config->teletel_command) != '\0' &&
      !g_shell_parse_argv (config->teletel_command, NULL, &argv, &local))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "[teletel] command: %s",
                   local->message);
      return FALSE;
    }
  if (config->teletel_unit != NULL)
    g_strstrip (config->teletel_unit);
  if (strcmp (config->teletel_backend, "systemd") == 0 &&
      (config->teletel_unit == NULL || *config->teletel_unit == '\0'))
    {
      g_set_error_literal (error, MGW_ERROR, MGW_ERROR_CONFIG,
                           _("[teletel] backend=systemd needs unit=, the Teletel server's "
                             "systemd unit (e.g. unit=teletel.service)"));
      return FALSE;
    }
  return TRUE;
}

/* Two listeners on one port: refused before anything is bound, naming
 * both (addresses are not compared: the console's loopback is inside the
 * users' "every address"). Port 0 (the kernel's choice) never clashes. */
static gboolean
check_listener_clash (const MgwConfig  *config,
                      int               metrics_port,
                      GError          **error)
{
  struct { const char *name; int port; } listeners[] = {
    /* TRANSLATORS: listener names in "the %s and %s listeners cannot share port %d". */
    { N_("Telnet"), config->telnet_port },
    { N_("WebSocket"), config->ws_port },
    { N_("WebSocket TLS"), config->ws_tls_port },
    { N_("console"), config->display_port },
    { N_("metrics"), metrics_port },
    { N_("raw TCP"), config->raw_port },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (listeners); i++)
    for (gsize j = i + 1; j < G_N_ELEMENTS (listeners); j++)
      if (listeners[i].port > 0 && listeners[i].port == listeners[j].port)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("the %s and %s listeners cannot share port %d"),
                       _(listeners[i].name), _(listeners[j].name), listeners[i].port);
          return FALSE;
        }
  return TRUE;
}

/* What is wrong with text as the URI of a server (translated, to follow
 * "is not a ... URI: "), or NULL when it is one: ws or wss (with
 * `streams`, also telnet or tcp), a host, a port 1..65535 if one is
 * written; tcp has no port of its own, so it must write one. */
static char *
uri_problem (const char *text,
             gboolean    streams)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local = NULL;
  const char *scheme;
  const char *authority;
  gsize end;

  if (text == NULL || *text == '\0')
    return g_strdup (_("it is empty"));
  uri = g_uri_parse (text, G_URI_FLAGS_NONE, &local);
  if (uri == NULL)
    return g_strdup (local->message);
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "ws") != 0 && g_ascii_strcasecmp (scheme, "wss") != 0)
    {
      if (!streams)
        return g_strdup_printf (_("the scheme '%s' is not ws or wss"), scheme);
      if (g_ascii_strcasecmp (scheme, "telnet") != 0 && g_ascii_strcasecmp (scheme, "tcp") != 0)
        return g_strdup_printf (_("the scheme '%s' is not ws, wss, telnet or tcp"), scheme);
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    return g_strdup (_("it names no host"));
  /* GUri takes "host:" for no port; a user meant one. */
  authority = strstr (text, "://");
  if (authority != NULL)
    {
      authority += 3;
      end = strcspn (authority, "/?#");
      if (end > 0 && authority[end - 1] == ':')
        return g_strdup (_("the port after ':' is missing"));
    }
  if (g_uri_get_port (uri) == 0)
    return g_strdup (_("port 0 cannot be connected to"));
  if (mgw_uri_get_port (uri) == 0)
    return g_strdup (_("a tcp:// URI must name its port"));
  return NULL;
}

/* Settles what depends on several values; call after every source. */
gboolean
mgw_config_validate (MgwConfig  *config,
                     GError    **error)
{
  g_autoptr(GError) local = NULL;
  guint16 metrics_port = 0;

  g_return_val_if_fail (config != NULL, FALSE);

  if (config->telnet_port == MGW_PORT_OFF && config->ws_port == MGW_PORT_OFF &&
      config->ws_tls_port == MGW_PORT_OFF && config->raw_port == MGW_PORT_OFF)
    config->ws_port = 9001;  /* the original's default */
  if ((config->tls_certificate == NULL) != (config->tls_key == NULL))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s",
                   config->tls_key == NULL ? _("[tls] certificate is set but not [tls] key")
                                           : _("[tls] key is set but not [tls] certificate"));
      return FALSE;
    }
  if (config->ws_tls_port != MGW_PORT_OFF && config->tls_certificate == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s",
                   _("[listen] websocket-tls-port needs [tls] certificate and [tls] key"));
      return FALSE;
    }

  if (!config->demo)
    {
      g_autofree char *why = uri_problem (config->server_uri, TRUE);
      if (why != NULL)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("default server '%s' is not a ws://, wss://, telnet:// or tcp:// URI: %s"),
                       config->server_uri, why);
          return FALSE;
        }
    }

  if (!config->no_command_channel)
    {
      g_autofree char *why = uri_problem (config->command_uri, FALSE);
      if (why != NULL)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("command channel '%s' is not a ws:// or wss:// URI: %s"),
                       config->command_uri, why);
          return FALSE;
        }
    }
  if (config->sep_hold_ms < 10)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("sep-hold of %u ms is below the minimum of 10 ms"), config->sep_hold_ms);
      return FALSE;
    }

  if (config->ban_ipv6_prefix < MGW_BAN_MIN_IPV6_PREFIX || config->ban_ipv6_prefix > 128)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("[bans] ipv6-prefix of %u is not a prefix length from %u to 128"),
                   config->ban_ipv6_prefix, MGW_BAN_MIN_IPV6_PREFIX);
      return FALSE;
    }
  if (config->ban_max_entries == 0)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s",
                   _("[bans] max-entries must be 1 at least"));
      return FALSE;
    }
  if (config->recording_max_size < MGW_RECORDING_MIN_SIZE)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("[recording] max-size must be %u bytes at least"), MGW_RECORDING_MIN_SIZE);
      return FALSE;
    }

  if (!mgw_redirect_policy_validate (config->redirect_allow, &local))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "[redirect] allow: %s", local->message);
      return FALSE;
    }
  if (config->metrics_listen != NULL)
    {
      g_strstrip (config->metrics_listen);
      if (*config->metrics_listen == '\0')
        g_clear_pointer (&config->metrics_listen, g_free);  /* off */
      else if (!mgw_value_parse_listen (config->metrics_listen, NULL, &metrics_port, &local))
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "[metrics] listen: %s",
                       local->message);
          return FALSE;
        }
    }
  if (!check_listener_clash (config, config->metrics_listen != NULL ? metrics_port : MGW_PORT_OFF,
                             error))
    return FALSE;

  if (!validate_teletel (config, error))
    return FALSE;

  if (config->ws_ping_interval > 0 && config->ws_ping_timeout == 0)
    config->ws_ping_timeout = config->ws_ping_interval;
  return TRUE;
}
