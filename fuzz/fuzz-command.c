/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-command.c: mgw_command_parse on a Teletel command line; a parsed
 * command's fields must be usable to format every gateway -> Teletel
 * message. */
#include "fuzz-common.h"
#include "mgw-command.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  GError *error = NULL;
  MgwCommand *cmd = mgw_command_parse ((const char *) buf, size, &error);

  if (cmd == NULL)
    {
      FUZZ_CHECK (error != NULL);
      FUZZ_CHECK (error->message != NULL);
      g_error_free (error);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (cmd->subprotocols != NULL);
  FUZZ_CHECK (cmd->raw != NULL);

  gsize n = 0;
  for (char **p = cmd->subprotocols; *p; p++)
    n += strlen (*p);
  (void) n;

  const char *detail = cmd->uri ? cmd->uri : "";
  const char *ip = cmd->server_session ? cmd->server_session : "192.0.2.1";
  char *s;

  s = mgw_command_new_user (TRUE, ip, cmd->ping, cmd->id);
  FUZZ_CHECK (s != NULL);
  g_free (s);
  s = mgw_command_new_user (FALSE, ip, 65535, cmd->id);
  g_free (s);
  s = mgw_command_user_event (cmd->command ? cmd->command : "CONNECT", cmd->id, detail);
  FUZZ_CHECK (s != NULL);
  g_free (s);
  s = mgw_command_user_event ("FAILED", cmd->id, cmd->raw);
  g_free (s);
  s = mgw_command_user_gone (cmd->id);
  g_free (s);
  s = mgw_command_identification (cmd->id, ip, cmd->ping, cmd->has_ping);
  FUZZ_CHECK (s != NULL);
  g_free (s);

  mgw_command_free (cmd);
  return 0;
}
