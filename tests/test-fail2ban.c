/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-fail2ban.c: the fail2ban filter (data/fail2ban/filter.d/moipgw.conf)
 * against what moipgwd really logs. A real moipgwd (--demo, a trusted
 * "proxy" on 127.0.0.1 naming public addresses from the documentation
 * ranges) sees short sessions over Telnet (PROXY v1, IPv4 and IPv6), raw
 * TCP (PROXY v1) and WebSocket (X-Forwarded-For), bans them, and turns away a second
 * session from an address at its cap; its log, as written on standard
 * error and as a syslog file would hold the same messages, goes through
 * Debian's fail2ban-regex in both modes of the filter, which must find
 * exactly the expected addresses. */
#include "config.h"

#include "mgw-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define S(lit) lit, sizeof lit - 1

typedef struct
{
  char          *dir;
  char          *filter;   /* <dir>/filter.d/moipgw.conf */
  MgwTestDaemon *daemon;
  guint16        telnet_port;
  guint16        ws_port;
  guint16        raw_port;
} Fixture;

static void
wait_output (MgwTestDaemon *d,
             const char    *needle)
{
  MgwTestOutputWait w = { d, needle };

  mgw_test_wait_until (mgw_test_daemon_output_has, &w, MGW_TEST_TIMEOUT_MS, needle);
  if (strstr (d->err->str, needle) == NULL)
    g_error ("moipgwd exited before logging '%s':\n%s", needle, d->err->str);
}

static MgwTestTcp *
proxied (Fixture    *f,
         const char *address,
         guint16     port)
{
  MgwTestTcp *tcp = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  gboolean v6 = strchr (address, ':') != NULL;
  g_autofree char *header = g_strdup_printf ("PROXY %s %s %s %u 9000\r\n",
                                             v6 ? "TCP6" : "TCP4", address,
                                             v6 ? "2001:db8::1" : "192.0.2.1", port);
  /* IPv6 in brackets, as logged. */
  g_autofree char *started = g_strdup_printf (strchr (address, ':') ? "(Telnet [%s]:%u): started"
                                              : "(Telnet %s:%u): started", address, port);

  mgw_test_tcp_send (tcp, header, strlen (header));
  wait_output (f->daemon, started);
  return tcp;
}

/* A scanner behind the proxy: connects and leaves at once. */
static void
short_telnet_session (Fixture    *f,
                      const char *address,
                      guint16     port)
{
  g_autoptr(MgwTestTcp) tcp = proxied (f, address, port);
  /* An IPv6 address bans its /64. */
  g_autofree char *banned = g_strdup_printf ("Banned %s for ", strchr (address, ':') ? "2001:db8::/64"
                                                                                     : address);

  g_socket_close (tcp->socket, NULL);
  wait_output (f->daemon, banned);
}

/* The same on the raw TCP port: its session lines say "raw". */
static void
short_raw_session (Fixture    *f,
                   const char *address,
                   guint16     port)
{
  g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1", f->raw_port);
  g_autofree char *header = g_strdup_printf ("PROXY TCP4 %s 192.0.2.1 %u 9000\r\n", address, port);
  g_autofree char *started = g_strdup_printf ("(raw %s:%u): started", address, port);
  g_autofree char *banned = g_strdup_printf ("Banned %s for ", address);

  mgw_test_tcp_send (tcp, header, strlen (header));
  wait_output (f->daemon, started);
  g_socket_close (tcp->socket, NULL);
  wait_output (f->daemon, banned);
}

/* The same over WebSocket, the client named by X-Forwarded-For. */
static void
short_ws_session (Fixture    *f,
                  const char *address)
{
  g_autoptr(MgwTestTcp) tcp = mgw_test_tcp_connect ("127.0.0.1", f->ws_port);
  g_autofree char *request = g_strdup_printf (
    "GET / HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "X-Forwarded-For: %s\r\n\r\n", address);
  g_autofree char *started = g_strdup_printf (strchr (address, ':') ? "(WS [%s]:" : "(WS %s:",
                                              address);
  g_autofree char *banned = g_strdup_printf ("Banned %s for ", address);

  mgw_test_tcp_send (tcp, request, strlen (request));
  mgw_test_tcp_wait_for (tcp, S ("HTTP/1.1 101"));
  wait_output (f->daemon, started);
  g_socket_close (tcp->socket, NULL);
  wait_output (f->daemon, banned);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *config = NULL;
  g_autofree char *config_arg = NULL;
  g_autofree char *state_arg = NULL;
  g_autofree char *configpath_arg = NULL;
  g_autofree char *filter_dir = NULL;
  g_autofree char *common = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  f->dir = mgw_test_tmp_dir ();

  /* fail2ban resolves the filter's "before = common.conf" in the
   * filter's own directory: Debian's common.conf beside ours. */
  filter_dir = g_build_filename (f->dir, "filter.d", NULL);
  g_assert_cmpint (g_mkdir (filter_dir, 0700), ==, 0);
  f->filter = g_build_filename (filter_dir, "moipgw.conf", NULL);
  g_assert_true (g_file_get_contents (g_test_get_filename (G_TEST_DIST, "..", "data", "fail2ban",
                                                           "filter.d", "moipgw.conf", NULL),
                                      &contents, &len, NULL));
  g_assert_true (g_file_set_contents (f->filter, contents, len, NULL));
  common = g_build_filename (filter_dir, "common.conf", NULL);
  g_assert_cmpint (symlink ("/etc/fail2ban/filter.d/common.conf", common), ==, 0);

  config = g_build_filename (f->dir, "moipgw.conf", NULL);
  g_assert_true (g_file_set_contents (config,
                                      "[listen]\naddress=127.0.0.1\n"
                                      "telnet-port=0\nwebsocket-port=0\nraw-port=0\n"
                                      "[session]\nmax-sessions-per-address=1\n"
                                      "[proxy]\ntrusted=127.0.0.1\n", -1, NULL));
  config_arg = g_strdup_printf ("--config=%s", config);
  state_arg = g_strdup_printf ("--state-dir=%s", f->dir);
  configpath_arg = g_strdup_printf ("--configpath=%s", f->dir);
  f->daemon = mgw_test_daemon_spawn (config_arg, "--demo", "--no-dbus", state_arg,
                                     configpath_arg, NULL);
  f->telnet_port = mgw_test_daemon_port (f->daemon, "Telnet");
  f->ws_port = mgw_test_daemon_port (f->daemon, "WebSocket");
  f->raw_port = mgw_test_daemon_port (f->daemon, "raw TCP");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->daemon, mgw_test_daemon_free);
  g_free (f->filter);
  g_free (f->dir);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* Runs fail2ban-regex on `log` with the filter (and its options, e.g.
 * "[mode=aggressive]"); returns the addresses it found, one a line,
 * sorted. */
static char *
fail2ban_regex (Fixture    *f,
                const char *log,
                const char *options)
{
  const char *program = g_getenv ("FAIL2BAN_REGEX");
  g_autofree char *log_file = g_build_filename (f->dir, "moipgwd.log", NULL);
  g_autofree char *filter = g_strconcat (f->filter, options, NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  int status = 0;

  if (program == NULL || *program == '\0')
    g_error ("fail2ban-regex was not found at configure time: apt-get install fail2ban");
  g_assert_true (g_file_set_contents (log_file, log, -1, NULL));
  const char *argv[] = { program, "--out", "<ip>", log_file, filter, NULL };
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("fail2ban-regex %s failed:\n%s%s", filter, out, err);

  lines = g_strsplit (g_strstrip (out), "\n", -1);
  qsort (lines, g_strv_length (lines), sizeof (char *), compare_strings);
  return g_strjoinv ("\n", lines);
}

static char *
sorted (const char *lines)
{
  g_auto(GStrv) v = g_strsplit (lines, "\n", -1);

  qsort (v, g_strv_length (v), sizeof (char *), compare_strings);
  return g_strjoinv ("\n", v);
}

/* The same messages as rsyslog writes them to a file on a collecting
 * host, on `day`: "Nov 25 18:23:06 gw1 moipgwd[4242]: MESSAGE", the
 * month in English whatever the locale and the day padded to two places
 * with an ASCII space ("Dec  2"), as rsyslog's traditional format has
 * it. (GLib's "%e" pads with U+2007 FIGURE SPACE and "%b" follows the
 * locale: neither is what a syslog file holds.) */
static char *
syslog_stamp (GDateTime *day)
{
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

  return g_strdup_printf ("%s %2d", months[g_date_time_get_month (day) - 1],
                          g_date_time_get_day_of_month (day));
}

static char *
as_syslog (const char *log,
           GDateTime  *day)
{
  g_auto(GStrv) lines = g_strsplit (log, "\n", -1);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *stamp = syslog_stamp (day);
  g_autoptr(GRegex) re = g_regex_new ("^moipgw-[A-Za-z]+: (\\d\\d:\\d\\d:\\d\\d)\\.\\d+: (.*)$",
                                      0, 0, NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(GMatchInfo) match = NULL;

      if (g_regex_match (re, lines[i], 0, &match))
        {
          g_autofree char *time = g_match_info_fetch (match, 1);
          g_autofree char *message = g_match_info_fetch (match, 2);

          g_string_append_printf (out, "%s %s gw1 moipgwd[4242]: %s\n", stamp, time, message);
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The stamp alone, for days of one and two digits. */
static void
test_syslog_stamp (void)
{
  static const struct { int month, day; const char *stamp; } cases[] = {
    { 12, 2, "Dec  2" }, { 1, 9, "Jan  9" }, { 11, 10, "Nov 10" }, { 2, 29, "Feb 29" },
    { 5, 31, "May 31" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GDateTime) day = g_date_time_new_utc (2028, cases[i].month, cases[i].day,
                                                      18, 23, 6);
      g_autofree char *stamp = syslog_stamp (day);

      g_assert_cmpstr (stamp, ==, cases[i].stamp);
    }
}

static const struct { int month, day; } syslog_days[] = { { 12, 2 }, { 11, 25 } };

static void
test_filter (Fixture *f, gconstpointer data)
{
  g_autoptr(MgwTestTcp) held = NULL;
  g_autoptr(MgwTestTcp) refused = NULL;
  g_autofree char *normal = NULL;
  g_autofree char *aggressive = NULL;
  g_autofree char *syslog = NULL;
  g_autofree char *syslog_normal = NULL;
  g_autofree char *syslog_aggressive = NULL;
  g_autofree char *expect_normal = NULL;
  g_autofree char *expect_aggressive = NULL;

  short_telnet_session (f, "203.0.113.7", 4444);
  short_telnet_session (f, "2001:db8::7", 4445);
  short_ws_session (f, "203.0.113.9");
  short_raw_session (f, "203.0.113.8", 4446);
  /* One session from 203.0.113.20 is allowed, a second one is not; the
   * first ends with the gateway (not the user): neither is banned. */
  held = proxied (f, "203.0.113.20", 5000);
  refused = mgw_test_tcp_connect ("127.0.0.1", f->telnet_port);
  mgw_test_tcp_send (refused, S ("PROXY TCP4 203.0.113.20 192.0.2.1 5001 9000\r\n"));
  wait_output (f->daemon, "refused user 203.0.113.20: service full");
  mgw_test_tcp_wait_closed (refused);
  g_subprocess_send_signal (f->daemon->process, SIGTERM);
  mgw_test_daemon_wait_exit (f->daemon, MGW_TEST_TIMEOUT_MS);
  g_assert_nonnull (strstr (f->daemon->err->str, "(Telnet 203.0.113.20:5000): ended after"));
  g_assert_null (strstr (f->daemon->err->str, "Banned 203.0.113.20"));
  g_test_message ("moipgwd's log:\n%s", f->daemon->err->str);

  expect_normal = sorted ("203.0.113.7\n2001:db8::/64\n203.0.113.9\n203.0.113.8");
  expect_aggressive = sorted ("203.0.113.7\n203.0.113.7\n2001:db8::/64\n2001:db8::7\n"
                              "203.0.113.9\n203.0.113.9\n203.0.113.8\n203.0.113.8\n"
                              "203.0.113.20");

  normal = fail2ban_regex (f, f->daemon->err->str, "");
  g_assert_cmpstr (normal, ==, expect_normal);
  aggressive = fail2ban_regex (f, f->daemon->err->str, "[mode=aggressive]");
  g_assert_cmpstr (aggressive, ==, expect_aggressive);

  /* Syslog files of a day of one digit and of a day of two, fixed
   * dates rather than today's, so that both forms are read every day. */
  for (gsize i = 0; i < G_N_ELEMENTS (syslog_days); i++)
    {
      g_autoptr(GDateTime) day = g_date_time_new_utc (2026, syslog_days[i].month,
                                                      syslog_days[i].day, 12, 0, 0);

      syslog = as_syslog (f->daemon->err->str, day);
      g_test_message ("as a syslog file:\n%s", syslog);
      syslog_normal = fail2ban_regex (f, syslog, "");
      g_assert_cmpstr (syslog_normal, ==, expect_normal);
      syslog_aggressive = fail2ban_regex (f, syslog, "[mode=aggressive]");
      g_assert_cmpstr (syslog_aggressive, ==, expect_aggressive);
      g_clear_pointer (&syslog, g_free);
      g_clear_pointer (&syslog_normal, g_free);
      g_clear_pointer (&syslog_aggressive, g_free);
    }
}

int
main (int argc, char **argv)
{
  mgw_test_init (&argc, &argv);
  g_test_add_func ("/fail2ban/syslog-stamp", test_syslog_stamp);
  g_test_add ("/fail2ban/filter", Fixture, NULL, setup, test_filter, teardown);
  return g_test_run ();
}
