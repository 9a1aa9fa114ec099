/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-command.c: parser and formatter of the Teletel command channel.
 *
 * Pure functions over strings (compat with PyMoIP; docs/protocol.md,
 * Command channel):
 *   Teletel -> gateway: PID=<id>,<server session>,CONNECT,<uri>,<ping>,<subprotocols>
 *   gateway -> Teletel: NewTelnetUser,<ip>,<port>,<id> ... UserGone,,,<id>
 * Frames may be text or binary; the caller hands bytes as latin-1. */
#include "config.h"

#include "mgw-command.h"
#include "mgw-values.h"
#include "mgw-error.h"

#include <string.h>

void
mgw_command_free (MgwCommand *command)
{
  if (command == NULL)
    return;
  g_free (command->server_session);
  g_free (command->command);
  g_free (command->uri);
  g_strfreev (command->subprotocols);
  g_free (command->raw);
  g_free (command);
}

static gboolean
parse_error (GError    **error,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

static gboolean
parse_error (GError    **error,
             const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, message);
  return FALSE;
}

/* `PID=<id>,<server session>,CONNECT,<uri>,<ping>,<subprotocols>`: the
 * first comma splits off PID=<id>; the rest splits into at most five
 * fields, the last keeping its commas (a list literal). Trailing CR/LF
 * are ignored. */
MgwCommand *
mgw_command_parse (const char  *line,
                   gsize        len,
                   GError     **error)
{
  g_autoptr(MgwCommand) cmd = g_new0 (MgwCommand, 1);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  g_autoptr(GError) local = NULL;
  const char *comma;
  guint64 id;

  if (len > MGW_COMMAND_MAX_LINE)
    {
      parse_error (error, "command of %" G_GSIZE_FORMAT " bytes, longer than %d",
                   len, MGW_COMMAND_MAX_LINE);
      return NULL;
    }
  if (memchr (line, '\0', len) != NULL)
    {
      parse_error (error, "command holds a NUL byte");
      return NULL;
    }
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    len--;
  text = g_strndup (line, len);
  cmd->raw = g_strdup (text);

  if (!g_str_has_prefix (text, "PID="))
    {
      parse_error (error, "command does not start with 'PID='");
      return NULL;
    }
  comma = strchr (text, ',');
  if (comma == NULL)
    {
      parse_error (error, "command has nothing after its PID");
      return NULL;
    }
  {
    g_autofree char *pid = g_strndup (text + 4, comma - (text + 4));
    if (!g_ascii_string_to_unsigned (pid, 10, 0, G_MAXUINT, &id, NULL))
      {
        parse_error (error, "PID '%s' is not a session number", pid);
        return NULL;
      }
    cmd->id = (guint) id;
  }

  fields = g_strsplit (comma + 1, ",", 5);
  if (g_strv_length (fields) < 2)
    {
      parse_error (error, "command for PID %u has no command name", cmd->id);
      return NULL;
    }
  cmd->server_session = g_strdup (fields[0]);
  cmd->command = g_strdup (fields[1]);
  if (strcmp (cmd->command, "CONNECT") != 0)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   "unknown command '%s' for PID %u", cmd->command, cmd->id);
      return NULL;
    }
  if (g_strv_length (fields) < 5)
    {
      parse_error (error, "CONNECT for PID %u lacks %s", cmd->id,
                   fields[2] == NULL ? "the URI" :
                   fields[3] == NULL ? "the ping interval" : "the subprotocols");
      return NULL;
    }
  cmd->uri = g_strdup (g_strstrip (fields[2]));
  if (*cmd->uri == '\0')
    {
      parse_error (error, "CONNECT for PID %u has an empty URI", cmd->id);
      return NULL;
    }
  if (!mgw_value_parse_ping (g_strstrip (fields[3]), &cmd->ping, &local))
    {
      parse_error (error, "CONNECT for PID %u: ping: %s", cmd->id, local->message);
      return NULL;
    }
  cmd->has_ping = g_ascii_strcasecmp (fields[3], "None") != 0;
  if (!mgw_value_parse_subprotocols (fields[4], &cmd->subprotocols, &local))
    {
      parse_error (error, "CONNECT for PID %u: %s", cmd->id, local->message);
      return NULL;
    }
  return g_steal_pointer (&cmd);
}

char *
mgw_command_new_user (gboolean    telnet,
                      const char *ip,
                      guint       port,
                      guint       id)
{
  return g_strdup_printf ("%s,%s,%u,%u", telnet ? "NewTelnetUser" : "NewWsUser",
                          ip, port, id);
}

/* UserGotCommand, UserRedirecting, UserRedirected, UserRequestedClose,
 * UserRedirectEnded: `<event>,,,<id>,<detail>`. */
char *
mgw_command_user_event (const char *event,
                        guint       id,
                        const char *detail)
{
  return g_strdup_printf ("%s,,,%u,%s", event, id, detail);
}

char *
mgw_command_user_gone (guint id)
{
  return g_strdup_printf ("UserGone,,,%u", id);
}

char *
mgw_command_identification (guint       id,
                            const char *ip,
                            guint       port,
                            gboolean    telnet)
{
  return g_strdup_printf ("PID=%u,IP=%s,PORT=%u,Access=%s\n", id, ip, port,
                          telnet ? "Telnet" : "WS");
}
