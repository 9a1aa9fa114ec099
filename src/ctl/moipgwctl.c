/* SPDX-License-Identifier: GPL-3.0-or-later */
/* moipgwctl.c: moipgwctl, the command-line admin client of moipgwd:
 * main(), the options, the help and the table of commands that
 * dispatches to them.
 *
 * Talks to the gateway over D-Bus (org.moipgw.Gateway1 on the system
 * bus, or the session bus with --session-bus) through the proxies
 * generated from data/dbus/org.moipgw.Gateway1.xml: status, sessions,
 * recording a session, bans, reload, Teletel control, a live event
 * monitor, messages to users, drain and resume, a user's screen (watch),
 * the recordings and their replay, as aligned
 * tables for people or JSON for programs (--json). Each command is a
 * file, moipgwctl-VERB.c; what they share is in moipgwctl.h.
 *
 * Exit status: 0 success, 1 failure (gateway not running, access
 * denied, refused by the gateway, unknown session), 2 usage error. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mgw-i18n.h"
#include "moipgwctl.h"

static void
ctl_clear (Ctl *ctl)
{
  g_free (ctl->days);
  g_free (ctl->speed);
  g_free (ctl->baud);
  g_free (ctl->idle_limit);
  g_free (ctl->target);
  g_free (ctl->grace);
  g_clear_object (&ctl->connection);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Ctl, ctl_clear)

/* --- command line --- */

static const MgwCtlCommand commands[] = {
  { "status", "", N_("Show the gateway: version, listeners, command channel, counters"),
    0, 0, mgw_ctl_cmd_status },
  { "sessions", "", N_("List the user sessions"), 0, 0, mgw_ctl_cmd_sessions },
  { "session", N_("ID"), N_("Show one user session"), 1, 1, mgw_ctl_cmd_session },
  { "disconnect", N_("ID"), N_("End a user session (the user is told on the status line)"),
    1, 1, mgw_ctl_cmd_disconnect },
  { "record", N_("ID"), N_("Record a user session and print its recording's id (--stop: stop it)"),
    1, 1, mgw_ctl_cmd_record },
  { "bans", "", N_("List the banned addresses"), 0, 0, mgw_ctl_cmd_bans },
  { "ban", N_("ADDR"), N_("Ban an address and disconnect its sessions"), 1, 1, mgw_ctl_cmd_ban },
  { "unban", N_("ADDR"), N_("Remove the ban of an address"), 1, 1, mgw_ctl_cmd_unban },
  { "reload", "", N_("Read moipgw.conf, neverbanned.json and profiles.json again"),
    0, 0, mgw_ctl_cmd_reload },
  { "teletel", "status|stop|start|restart", N_("Show or control the Teletel server"),
    1, 1, mgw_ctl_cmd_teletel },
  { "monitor", "", N_("Show events (sessions, states, bans, command channel) until Ctrl-C"),
    0, 0, mgw_ctl_cmd_monitor },
  { "message", N_("ID|--all|--target URI TEXT"),
    N_("Show TEXT on the status line of a session, of all, or of those redirected to URI"),
    1, 2, mgw_ctl_cmd_message },
  { "drain", N_("[--grace MIN] [TEXT]"),
    N_("Refuse new users, tell the open sessions, end them after the grace (default 5 min)"),
    0, 1, mgw_ctl_cmd_drain },
  { "resume", "", N_("Admit users again after a drain"), 0, 0, mgw_ctl_cmd_resume },
  { "watch", N_("ID"), N_("Write what a user's Minitel is sent to standard output until Ctrl-C"),
    1, 1, mgw_ctl_cmd_watch },
  { "recordings", N_("[delete ID|expire]"),
    N_("List the session recordings, delete one, or apply the retention now"),
    0, 2, mgw_ctl_cmd_recordings },
  { "replay", N_("ID"), N_("Write a recorded user's screen to standard output, at its pace"),
    1, 1, mgw_ctl_cmd_replay },
};

static const MgwCtlCommand *
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
                                     g_str_equal (commands[i].name, "ban") ? " [--days N]" :
                                     g_str_equal (commands[i].name, "replay") ? " [--speed X|--baud N|--raw]" :
                                     g_str_equal (commands[i].name, "record") ? " [--stop]" : "");

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
command_context (const MgwCtlCommand *command,
                 Ctl                 *ctl)
{
  const GOptionEntry ban_entries[] = {
    { "days", 'd', 0, G_OPTION_ARG_STRING, &ctl->days,
      N_("Ban for N days (default: the configured duration)"), N_("N") },
    { NULL }
  };
  const GOptionEntry replay_entries[] = {
    { "speed", 's', 0, G_OPTION_ARG_STRING, &ctl->speed,
      N_("Replay X times as fast as recorded (default 1)"), N_("X") },
    { "baud", 'b', 0, G_OPTION_ARG_STRING, &ctl->baud,
      N_("At most N/10 bytes a second, as a Minitel's serial line at N baud (1200)"), N_("N") },
    { "idle-limit", 'i', 0, G_OPTION_ARG_STRING, &ctl->idle_limit,
      N_("Cut longer pauses to S seconds"), N_("S") },
    { "raw", 0, 0, G_OPTION_ARG_NONE, &ctl->raw,
      N_("Everything at once, no pauses"), NULL },
    { NULL }
  };
  const GOptionEntry message_entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &ctl->all, N_("Tell every session"), NULL },
    { "target", 0, 0, G_OPTION_ARG_STRING, &ctl->target,
      N_("Tell the sessions redirected to URI"), N_("URI") },
    { NULL }
  };
  const GOptionEntry drain_entries[] = {
    { "grace", 0, 0, G_OPTION_ARG_STRING, &ctl->grace,
      N_("End the open sessions after MIN minutes (default 5; 0: now)"), N_("MIN") },
    { NULL }
  };
  const GOptionEntry record_entries[] = {
    { "stop", 0, 0, G_OPTION_ARG_NONE, &ctl->stop,
      N_("Stop recording the session (a stop mark ends its recording)"), NULL },
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
  else if (g_str_equal (command->name, "replay"))
    g_option_context_add_main_entries (context, replay_entries, GETTEXT_PACKAGE);
  else if (g_str_equal (command->name, "message"))
    g_option_context_add_main_entries (context, message_entries, GETTEXT_PACKAGE);
  else if (g_str_equal (command->name, "drain"))
    g_option_context_add_main_entries (context, drain_entries, GETTEXT_PACKAGE);
  else if (g_str_equal (command->name, "record"))
    g_option_context_add_main_entries (context, record_entries, GETTEXT_PACKAGE);
  return context;
}

static int
run_command (const MgwCtlCommand  *command,
             Ctl                  *ctl,
             int                   argc,
             char                **argv)
{
  g_autoptr(GOptionContext) context = command_context (command, ctl);
  g_autoptr(GError) error = NULL;
  guint n_args;

  /* argv[0] is the command's name, taken as the program's by GOption. */
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      mgw_ctl_print_error ("%s: %s", command->name, error->message);
      return EXIT_USAGE;
    }
  n_args = (guint) argc - 1;
  if (n_args < command->min_args)
    {
      mgw_ctl_print_error (_("%s: missing argument %s (see moipgwctl %s --help)"),
                           command->name, _(command->params), command->name);
      return EXIT_USAGE;
    }
  if (n_args > command->max_args)
    {
      mgw_ctl_print_error (_("%s: unexpected argument '%s'"), command->name,
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
  const MgwCtlCommand *command;

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
      mgw_ctl_print_error ("%s", error->message);
      return EXIT_USAGE;
    }
  if (version)
    {
      g_print ("moipgwctl %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (argc < 2)
    {
      mgw_ctl_print_error (_("no command given (see moipgwctl --help)"));
      return EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "help"))
    {
      g_autofree char *help = NULL;

      if (argc > 3)
        {
          mgw_ctl_print_error (_("help: unexpected argument '%s'"), argv[3]);
          return EXIT_USAGE;
        }
      if (argc == 3)
        {
          g_autoptr(GOptionContext) sub = NULL;

          command = find_command (argv[2]);
          if (command == NULL)
            {
              mgw_ctl_print_error (_("unknown command '%s' (see moipgwctl --help)"), argv[2]);
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
      mgw_ctl_print_error (_("unknown command '%s' (see moipgwctl --help)"), argv[1]);
      return EXIT_USAGE;
    }
  return run_command (command, &ctl, argc - 1, argv + 1);
}
