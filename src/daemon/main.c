/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: moipgwd, the Minitel over IP gateway daemon.
 *
 * Reads the configuration (moipgw.conf, then the command line), starts
 * the gateway (and the demo service with --demo) and runs the main loop
 * until SIGTERM or SIGINT. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <stdlib.h>

#include "mgw-config.h"
#include "mgw-console.h"
#include "mgw-dbus-service.h"
#include "mgw-demo.h"
#include "mgw-error.h"
#include "mgw-gateway.h"
#include "mgw-i18n.h"
#include "mgw-metrics.h"
#include "mgw-notify.h"
#include "mgw-redirect-policy.h"

#define EXIT_USAGE 2
#define DEFAULT_CONFIG_FILE MGW_SYSCONFDIR "/moipgw.conf"
/* How long SIGTERM waits for users to receive their last status line
 * (and recordings their last line): never longer, whatever the disk. */
#define STOP_GRACE_MS 1500
#define TELETEL_REFRESH_S 5

typedef struct
{
  char     *config_file;
  char     *tcp;
  char     *ws;
  char     *wss;
  char     *tls_certificate;
  char     *tls_key;
  char     *raw;
  char     *display;
  char    **ips;
  char     *command;
  char     *videotext;
  char     *interval;
  char     *subprotocols;
  gboolean  nocommandchannel;
  char     *configpath;
  char     *logpath;
  char     *state_dir;
  char    **trusted_proxies;
  gboolean  session_bus;
  gboolean  no_dbus;
  gboolean  require_bus;
  gboolean  demo;
  gboolean  version;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->config_file);
  g_free (o->tcp);
  g_free (o->ws);
  g_free (o->wss);
  g_free (o->tls_certificate);
  g_free (o->tls_key);
  g_free (o->raw);
  g_free (o->display);
  g_strfreev (o->ips);
  g_free (o->command);
  g_free (o->videotext);
  g_free (o->interval);
  g_free (o->subprotocols);
  g_free (o->configpath);
  g_free (o->logpath);
  g_free (o->state_dir);
  g_strfreev (o->trusted_proxies);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static void
set_str (char       **field,
         const char  *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

/* The demo as the default server, its METEO service a redirect target:
 * on loopback, so the allow-list must name it. Unless the file names its
 * own return sequences, '***' then Sommaire brings the user back too.
 * The browser emulator is served: http://localhost:9001/ shows the demo. */
static void
use_demo (MgwConfig *config,
          MgwDemo   *demo)
{
  g_autoptr(GUri) service = g_uri_parse (mgw_demo_get_service_uri (demo), G_URI_FLAGS_NONE, NULL);
  g_autofree char *allow =
    g_strdup_printf ("%s, ws:127.0.0.1:%d",
                     config->redirect_allow ? config->redirect_allow : MGW_REDIRECT_ALLOW_DEFAULT,
                     g_uri_get_port (service));

  set_str (&config->server_uri, mgw_demo_get_uri (demo));
  set_str (&config->command_uri, mgw_demo_get_command_uri (demo));
  set_str (&config->redirect_allow, allow);
  config->web_emulator = TRUE;
  if (!config->has_return_keys)
    {
      if (!mgw_return_keys_parse (&config->return_keys, MGW_DEMO_RETURN_KEYS, NULL))
        g_assert_not_reached ();
      config->has_return_keys = TRUE;
    }
}

static gboolean
apply_options (MgwConfig  *config,
               Options    *o,
               GError    **error)
{
  g_autoptr(GError) local = NULL;

#define CHECK(what, call) \
  if (!(call)) \
    { \
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s: %s", what, local->message); \
      return FALSE; \
    }

  if (o->tcp != NULL)
    CHECK ("--tcp", mgw_value_parse_port (o->tcp, &config->telnet_port, &local));
  if (o->ws != NULL)
    CHECK ("--ws", mgw_value_parse_port (o->ws, &config->ws_port, &local));
  if (o->wss != NULL)
    CHECK ("--wss", mgw_value_parse_port (o->wss, &config->ws_tls_port, &local));
  if (o->raw != NULL)
    CHECK ("--raw", mgw_value_parse_port (o->raw, &config->raw_port, &local));
  if (o->display != NULL)
    CHECK ("--display", mgw_value_parse_port (o->display, &config->display_port, &local));
  if (o->interval != NULL)
    CHECK ("--interval", mgw_value_parse_ping (o->interval, &config->server_ping, &local));
  if (o->subprotocols != NULL)
    {
      char **list = NULL;
      CHECK ("--subprotocols", mgw_value_parse_subprotocols (o->subprotocols, &list, &local));
      g_strfreev (config->server_subprotocols);
      config->server_subprotocols = list;
    }
  if (o->ips != NULL)
    {
      CHECK ("--ip", mgw_value_check_addresses (o->ips, &local));
      g_strfreev (config->listen_addresses);
      config->listen_addresses = g_strdupv (o->ips);
    }
#undef CHECK
  if (o->videotext != NULL)
    set_str (&config->server_uri, o->videotext);
  if (o->command != NULL)
    set_str (&config->command_uri, o->command);
  if (o->nocommandchannel)
    config->no_command_channel = TRUE;
  if (o->configpath != NULL)
    set_str (&config->config_path, o->configpath);
  if (o->tls_certificate != NULL)
    set_str (&config->tls_certificate, o->tls_certificate);
  if (o->tls_key != NULL)
    set_str (&config->tls_key, o->tls_key);
  if (o->state_dir != NULL)
    set_str (&config->state_dir, o->state_dir);
  if (o->trusted_proxies != NULL)
    {
      for (guint i = 0; o->trusted_proxies[i] != NULL; i++)
        if (!mgw_value_check_prefix (o->trusted_proxies[i], &local))
          {
            g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "--trusted-proxy: %s",
                         local->message);
            return FALSE;
          }
      g_strfreev (config->trusted_proxies);
      config->trusted_proxies = g_strdupv (o->trusted_proxies);
    }
  if (o->demo)
    config->demo = TRUE;
  return TRUE;
}

/* Defaults, then the configuration file, then the command line. */
static MgwConfig *
build_config (Options  *o,
              GError  **error)
{
  g_autoptr(MgwConfig) config = mgw_config_new_default ();

  if (!mgw_config_load_file (config, o->config_file ? o->config_file : DEFAULT_CONFIG_FILE,
                             o->config_file != NULL, error) ||
      !apply_options (config, o, error))
    return NULL;
  if (config->demo)
    {
      /* With --demo and no listener chosen, serve both usual ports. */
      if (config->telnet_port == MGW_PORT_OFF && config->ws_port == MGW_PORT_OFF &&
          config->ws_tls_port == MGW_PORT_OFF && config->raw_port == MGW_PORT_OFF)
        {
          config->telnet_port = 9000;
          config->ws_port = 9001;
        }
    }
  if (!mgw_config_validate (config, error))
    return NULL;
  return g_steal_pointer (&config);
}

typedef struct
{
  GMainLoop  *loop;
  MgwGateway *gateway;
  MgwDemo    *demo;
  Options    *options;
  gboolean    stopping;
  gboolean    ready;          /* told systemd READY=1 */
  gboolean    require_bus;
  int         status;         /* the exit status */
  gboolean    web_told;       /* the emulator's address said */
  guint       web_timeout;
} Daemon;

/* Where a browser finds the pages of [web]: the last line at start (once
 * the command channel is up, or has had a second to be). */
static void
tell_web_address (Daemon *daemon)
{
  MgwGateway *gateway = daemon->gateway;
  const MgwConfig *config = mgw_gateway_get_config (gateway);
  const char *host = "localhost";
  g_autofree char *bracketed = NULL;
  guint16 port;

  if (daemon->web_told)
    return;
  daemon->web_told = TRUE;
  g_clear_handle_id (&daemon->web_timeout, g_source_remove);
  if (!config->web_emulator && (config->web_root == NULL || *config->web_root == '\0'))
    return;
  if (config->listen_addresses != NULL && config->listen_addresses[0] != NULL &&
      strcmp (config->listen_addresses[0], "0.0.0.0") != 0 &&
      strcmp (config->listen_addresses[0], "::") != 0)
    host = config->listen_addresses[0];
  if (strchr (host, ':') != NULL)
    host = bracketed = g_strdup_printf ("[%s]", host);
  port = mgw_gateway_get_ws_tls_port (gateway);
  if (port != 0)
    g_message (config->web_emulator ? "browser emulator: open https://%s:%u/" :
               "web pages: https://%s:%u/", host, port);
  port = mgw_gateway_get_ws_port (gateway);
  if (port != 0)
    g_message (config->web_emulator ? "browser emulator: open http://%s:%u/" :
               "web pages: http://%s:%u/", host, port);
}

static void
web_command_connected_cb (GObject    *link,
                          GParamSpec *pspec,
                          Daemon     *daemon)
{
  if (mgw_command_link_get_connected (MGW_COMMAND_LINK (link)))
    tell_web_address (daemon);
}

static gboolean
web_timeout_cb (gpointer data)
{
  Daemon *daemon = data;

  daemon->web_timeout = 0;
  tell_web_address (daemon);
  return G_SOURCE_REMOVE;
}

static void
tell_web_address_soon (Daemon *daemon)
{
  MgwCommandLink *link = mgw_gateway_get_command_link (daemon->gateway);

  if (link == NULL || mgw_command_link_get_connected (link))
    {
      tell_web_address (daemon);
      return;
    }
  g_signal_connect (link, "notify::connected", G_CALLBACK (web_command_connected_cb), daemon);
  daemon->web_timeout = g_timeout_add_seconds (1, web_timeout_cb, daemon);
}

/* systemd (Type=notify) learns the daemon is up: once its listeners are
 * open, and with --require-bus once its bus name is owned. */
static void
tell_ready (Daemon *daemon)
{
  if (daemon->ready)
    return;
  daemon->ready = TRUE;
  mgw_notify ("READY=1\nSTATUS=serving");
}

static void
bus_owned_cb (MgwDbusService *dbus,
              GParamSpec     *pspec,
              Daemon         *daemon)
{
  if (mgw_dbus_service_get_owned (dbus) && daemon->ready)
    mgw_notify ("STATUS=serving");
  else if (mgw_dbus_service_get_owned (dbus))
    tell_ready (daemon);
  else if (daemon->ready)
    mgw_notify ("STATUS=serving, without D-Bus for now (reconnecting)");
}

/* --require-bus: a start that cannot reach the bus or own the name
 * fails, saying why, instead of running unseen (later losses of the bus
 * are survived: the service reconnects). */
static void
bus_unavailable_cb (MgwDbusService *dbus,
                    const char     *why,
                    Daemon         *daemon)
{
  if (daemon->ready || !daemon->require_bus || daemon->stopping)
    return;
  g_printerr (_("moipgwd: cannot serve D-Bus (--require-bus): %s\n"), why);
  daemon->status = EXIT_FAILURE;
  daemon->stopping = TRUE;
  mgw_notify ("STOPPING=1");
  mgw_gateway_stop (daemon->gateway, NULL);
  g_main_loop_quit (daemon->loop);
}

static gboolean
stop_now_cb (gpointer user_data)
{
  Daemon *daemon = user_data;

  g_main_loop_quit (daemon->loop);
  return G_SOURCE_REMOVE;
}

/* Every session ended and every recording closed. */
static gboolean
all_done (MgwGateway *gateway)
{
  return mgw_gateway_get_n_sessions (gateway) == 0 && mgw_gateway_get_n_recordings (gateway) == 0;
}

static void
n_sessions_cb (MgwGateway *gateway,
               MgwSession *session,
               Daemon     *daemon)
{
  if (daemon->stopping && all_done (gateway))
    g_main_loop_quit (daemon->loop);
}

static void
recording_closed_cb (MgwGateway *gateway,
                     const char *id,
                     Daemon     *daemon)
{
  if (daemon->stopping && all_done (gateway))
    g_main_loop_quit (daemon->loop);
}

static gboolean
signal_cb (gpointer user_data)
{
  Daemon *daemon = user_data;

  if (daemon->stopping)
    {
      g_main_loop_quit (daemon->loop);
      return G_SOURCE_CONTINUE;
    }
  /* Logs stay in English (searches, fail2ban). */
  g_message (mgw_gateway_get_n_sessions (daemon->gateway) == 1 ? "stopping: %u session to end"
                                                               : "stopping: %u sessions to end",
             mgw_gateway_get_n_sessions (daemon->gateway));
  daemon->stopping = TRUE;
  mgw_notify ("STOPPING=1");
  /* TRANSLATORS: a Minitel status line, 39 places at most. */
  mgw_gateway_stop (daemon->gateway, N_("GATEWAY STOPPED, SORRY"));
  /* A recording whose disk hangs does not hold the exit past the grace:
   * its worker thread ends with the process. */
  if (all_done (daemon->gateway))
    g_main_loop_quit (daemon->loop);
  else
    g_timeout_add (STOP_GRACE_MS, stop_now_cb, daemon);
  return G_SOURCE_CONTINUE;
}

/* moipgw.conf (with the same command line on top), never-ban list and
 * profiles read again; anything wrong keeps what is in force. */
static gboolean
reload (gpointer   user_data,
        GError   **error)
{
  Daemon *daemon = user_data;
  g_autoptr(MgwConfig) config = build_config (daemon->options, error);

  if (config == NULL)
    return FALSE;
  if (daemon->demo != NULL)
    use_demo (config, daemon->demo);
  return mgw_gateway_reload (daemon->gateway, config, error);
}

static gboolean
reload_cb (gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!reload (user_data, &error))
    g_warning ("reload refused: %s; the configuration in force is kept", error->message);
  return G_SOURCE_CONTINUE;
}

/* The Teletel server's state and PID, kept current for D-Bus and the
 * console. */
static gboolean
refresh_teletel_cb (gpointer user_data)
{
  mgw_teletel_refresh (user_data);
  return G_SOURCE_CONTINUE;
}

static void
warn_ignored (const Options *o)
{
  /* Accepted for compatibility with the original's command line. */
  if (o->logpath != NULL)
    g_warning ("-l/--logpath has no effect: moipgwd logs to the journal (or standard error)");
}

int
main (int    argc,
      char **argv)
{
  g_auto(Options) o = { 0 };
  g_autoptr(MgwConfig) config = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MgwDemo) demo = NULL;
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(MgwMetrics) metrics = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(MgwDbusService) dbus = NULL;
  g_autoptr(MgwTeletel) teletel = NULL;
  g_autoptr(MgwConsole) console = NULL;
  Daemon daemon = { 0 };
  g_autofree char *config_help = NULL;
  g_autofree char *state_dir_help = NULL;
  GOptionEntry entries[] = {
    { "config", 'f', 0, G_OPTION_ARG_FILENAME, &o.config_file,
      NULL /* config_help */, N_("FILE") },
    { "tcp", 0, 0, G_OPTION_ARG_STRING, &o.tcp,
      N_("Listen for Telnet users on PORT"), N_("PORT") },
    { "ws", 0, 0, G_OPTION_ARG_STRING, &o.ws,
      N_("Listen for WebSocket users on PORT (default 9001 when none of --tcp, --ws, --wss and --raw is given)"), N_("PORT") },
    { "wss", 0, 0, G_OPTION_ARG_STRING, &o.wss,
      N_("Listen for WebSocket users over TLS (wss://) on PORT; needs --tls-certificate and --tls-key"),
      N_("PORT") },
    { "tls-certificate", 0, 0, G_OPTION_ARG_FILENAME, &o.tls_certificate,
      N_("PEM certificate of the wss:// listener, its chain after it"), N_("FILE") },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o.tls_key,
      N_("PEM private key of the wss:// listener"), N_("FILE") },
    { "raw", 0, 0, G_OPTION_ARG_STRING, &o.raw,
      N_("Listen for raw TCP users (no telnet negotiation) on PORT"), N_("PORT") },
    { "display", 0, 0, G_OPTION_ARG_STRING, &o.display,
      N_("Admin console port, loopback only unless [console] address says otherwise (default 8999; off: no console)"), N_("PORT") },
    { "ip", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &o.ips,
      N_("Listen on this address only (repeatable; default every address, IPv4 and IPv6)"), N_("ADDR") },
    { "command", 'c', 0, G_OPTION_ARG_STRING, &o.command,
      N_("Teletel command channel URI (default ws://localhost:8764)"), N_("URI") },
    { "videotext", 'v', 0, G_OPTION_ARG_STRING, &o.videotext,
      N_("Default videotex server (default ws://localhost:8765)"), N_("URI") },
    { "interval", 'p', 0, G_OPTION_ARG_STRING, &o.interval,
      N_("Ping interval to the default server in seconds, or None"), N_("PING") },
    { "subprotocols", 'b', 0, G_OPTION_ARG_STRING, &o.subprotocols,
      N_("Subprotocols offered to the default server, e.g. [\"binary\",\"tty\"]"), N_("PROTO") },
    { "nocommandchannel", 'n', 0, G_OPTION_ARG_NONE, &o.nocommandchannel,
      N_("Do not open the Teletel command channel"), NULL },
    { "configpath", 'g', 0, G_OPTION_ARG_FILENAME, &o.configpath,
      N_("Directory of the JSON files (neverbanned.json, GatewayConfig.json)"), N_("DIR") },
    { "logpath", 'l', 0, G_OPTION_ARG_FILENAME, &o.logpath,
      N_("Accepted for compatibility; logs go to the journal"), N_("DIR") },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.state_dir,
      NULL /* state_dir_help */, N_("DIR") },
    { "trusted-proxy", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.trusted_proxies,
      N_("A proxy allowed to name the client (PROXY protocol, Forwarded, X-Forwarded-For); repeatable"),
      N_("ADDR[/PREFIX]") },
    { "session-bus", 0, 0, G_OPTION_ARG_NONE, &o.session_bus,
      N_("Serve D-Bus on the session bus instead of the system bus"), NULL },
    { "no-dbus", 0, 0, G_OPTION_ARG_NONE, &o.no_dbus,
      N_("Do not serve D-Bus at all"), NULL },
    { "require-bus", 0, 0, G_OPTION_ARG_NONE, &o.require_bus,
      N_("Fail to start when the bus cannot be reached or the name owned (as systemd starts it)"),
      NULL },
    { "demo", 0, 0, G_OPTION_ARG_NONE, &o.demo,
      N_("Run the embedded demo videotex service and use it as the default server"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o.version,
      N_("Print the version and exit"), NULL },
    { NULL }
  };

  mgw_i18n_init ();
  g_set_prgname ("moipgwd");
  /* Translated here, with the paths of this build in them (GOption's
   * own look-up of an already translated text finds nothing and keeps it). */
  config_help = g_strdup_printf (_("Configuration file (default %s)"), DEFAULT_CONFIG_FILE);
  state_dir_help = g_strdup_printf (_("State directory (default $STATE_DIRECTORY, else %s)"),
                                    MGW_STATEDIR);
  entries[0].description = config_help;
  for (GOptionEntry *e = entries; e->long_name != NULL; e++)
    if (g_str_equal (e->long_name, "state-dir"))
      e->description = state_dir_help;

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _("Minitel over IP gateway: Telnet and WebSocket users to videotex servers."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("moipgwd: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_printerr (_("moipgwd: unexpected argument '%s'\n"), argv[1]);
      return EXIT_USAGE;
    }
  if (o.version)
    {
      g_print ("moipgwd %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  config = build_config (&o, &error);
  if (config == NULL)
    {
      g_printerr ("moipgwd: %s\n", error->message);
      return EXIT_USAGE;
    }
  warn_ignored (&o);

  /* The signal handlers first: a SIGTERM or SIGHUP that comes once the
   * ports are open (a supervisor, a test reading the "listening" line)
   * waits for the main loop instead of killing the process. */
  loop = g_main_loop_new (NULL, FALSE);
  daemon.loop = loop;
  daemon.options = &o;
  g_unix_signal_add (SIGTERM, signal_cb, &daemon);
  g_unix_signal_add (SIGINT, signal_cb, &daemon);
  g_unix_signal_add (SIGHUP, reload_cb, &daemon);

  if (config->demo)
    {
      demo = mgw_demo_new ();
      if (!mgw_demo_start (demo, &error))
        {
          g_printerr (_("moipgwd: cannot start the demo service: %s\n"), error->message);
          return EXIT_FAILURE;
        }
      /* The demo's command channel, unless -n turned it off. */
      use_demo (config, demo);
    }

  gateway = mgw_gateway_new (config);
  if (!mgw_gateway_start (gateway, &error))
    {
      g_printerr ("moipgwd: %s\n", error->message);
      return g_error_matches (error, MGW_ERROR, MGW_ERROR_CONFIG) ? EXIT_USAGE : EXIT_FAILURE;
    }
  if (config->metrics_listen != NULL)
    {
      g_autofree char *address = NULL;
      guint16 port = 0;

      metrics = mgw_metrics_new (gateway);
      if (!mgw_value_parse_listen (config->metrics_listen, &address, &port, &error) ||
          !mgw_metrics_listen (metrics, address, port, &error))
        {
          g_printerr (_("moipgwd: cannot serve the metrics ([metrics] listen=%s): %s\n"),
                      config->metrics_listen, error->message);
          return EXIT_FAILURE;
        }
      mgw_gateway_add_own_port (gateway, mgw_metrics_get_port (metrics));
    }

  teletel = mgw_teletel_new_from_config (config, &error);
  if (error != NULL)
    {
      g_printerr ("moipgwd: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (teletel != NULL)
    g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, TELETEL_REFRESH_S, refresh_teletel_cb,
                                g_object_ref (teletel), g_object_unref);
  console = mgw_console_new (gateway, teletel);
  if (!mgw_console_start (console, &error))
    {
      g_printerr ("moipgwd: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (mgw_console_get_port (console) != 0)
    mgw_gateway_add_own_port (gateway, mgw_console_get_port (console));

  daemon.gateway = gateway;
  daemon.demo = demo;
  daemon.require_bus = o.require_bus && !o.no_dbus;
  daemon.status = EXIT_SUCCESS;
  g_signal_connect (gateway, "session-removed", G_CALLBACK (n_sessions_cb), &daemon);
  g_signal_connect (gateway, "recording-closed", G_CALLBACK (recording_closed_cb), &daemon);
  if (!o.no_dbus)
    {
      dbus = mgw_dbus_service_new (gateway, o.session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
                                   reload, &daemon);
      mgw_dbus_service_set_teletel (dbus, teletel);
      g_signal_connect (dbus, "notify::owned", G_CALLBACK (bus_owned_cb), &daemon);
      g_signal_connect (dbus, "unavailable", G_CALLBACK (bus_unavailable_cb), &daemon);
      mgw_dbus_service_start (dbus);
    }
  if (!daemon.require_bus)
    tell_ready (&daemon);
  g_message ("moipgwd %s ready", PACKAGE_VERSION);
  tell_web_address_soon (&daemon);
  /* (A --require-bus failure may already have come.) */
  if (daemon.status == EXIT_SUCCESS)
    g_main_loop_run (loop);
  g_signal_handlers_disconnect_by_data (gateway, &daemon);
  if (mgw_gateway_get_command_link (gateway) != NULL)
    g_signal_handlers_disconnect_by_data (mgw_gateway_get_command_link (gateway), &daemon);
  g_clear_handle_id (&daemon.web_timeout, g_source_remove);
  if (dbus != NULL)
    g_signal_handlers_disconnect_by_data (dbus, &daemon);
  g_message ("stopped");
  return daemon.status;
}
