/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-redirect-policy.c: the allow-list of redirect targets
 * ([redirect] allow), a pure unit. */
#include "config.h"

#include "mgw-error.h"
#include "mgw-redirect-policy.h"
#include "mgw-uri.h"

#include <string.h>

static gboolean
allows (const char *allow, const char *uri)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = mgw_redirect_policy_allows (allow, uri, &error);

  g_assert_true (ok == (error == NULL));
  return ok;
}

/* The default: ws, wss and telnet anywhere; nothing else. */
static void
test_default (void)
{
  g_assert_true (mgw_redirect_policy_validate (NULL, NULL));
  g_assert_true (mgw_redirect_policy_validate (MGW_REDIRECT_ALLOW_DEFAULT, NULL));
  g_assert_true (allows (NULL, "ws://example.org/"));
  g_assert_true (allows (NULL, "WSS://Example.org:8443/x?y"));
  g_assert_true (allows (NULL, "telnet://192.0.2.1:2323"));
  g_assert_true (allows (NULL, "ws://[2001:db8::1]:8080/"));
  g_assert_false (allows (NULL, "http://example.org/"));
  g_assert_false (allows (NULL, "gopher://example.org/"));
  g_assert_false (allows (NULL, "file:///etc/passwd"));
  g_assert_false (allows (NULL, "telnet://"));
  g_assert_false (allows (NULL, "not a uri"));
}

/* Loopback, link-local and unspecified hosts: never by a wildcard,
 * only by an entry that names them. */
static void
test_guarded (void)
{
  static const char *const guarded[] = {
    "127.0.0.1", "127.8.9.1", "localhost", "LocalHost.", "admin.localhost", "[::1]", "::1",
    "0.0.0.0", "[::]", "169.254.1.2", "[fe80::1]", "[::ffff:127.0.0.1]", "[::ffff:169.254.0.9]",
    "[fe80::1%lo]", "fe80::1%eth0", "[::1%lo]",
  };
  static const char *const open[] = {
    "192.0.2.1", "[2001:db8::1]", "example.org", "localhost.example.org", "mylocalhost",
    "[::ffff:192.0.2.1]", "10.0.0.1",
  };
  const char *named = "ws:127.0.0.1:8000, telnet:localhost, ws:[::1]:*, ws:*";

  for (gsize i = 0; i < G_N_ELEMENTS (guarded); i++)
    g_assert_true (mgw_redirect_policy_is_guarded_host (guarded[i]));
  for (gsize i = 0; i < G_N_ELEMENTS (open); i++)
    g_assert_false (mgw_redirect_policy_is_guarded_host (open[i]));

  g_assert_false (allows (NULL, "ws://127.0.0.1:8000/"));
  g_assert_false (allows (NULL, "telnet://127.0.0.1:8999"));
  g_assert_false (allows (NULL, "ws://localhost/"));
  g_assert_false (allows (NULL, "ws://[::1]:8000/"));
  g_assert_false (allows (NULL, "ws://[::ffff:127.0.0.1]:8000/"));
  g_assert_false (allows (NULL, "ws://169.254.169.254/"));
  g_assert_false (allows (NULL, "ws://0.0.0.0:8000/"));
  g_assert_false (allows (NULL, "ws://[fe80::1%25lo]/"));
  g_assert_false (allows ("*:*", "ws://127.0.0.1:8000/"));
  g_assert_false (allows ("ws:127.0.0.*:*", "ws://127.0.0.1:8000/"));

  g_assert_true (allows (named, "ws://127.0.0.1:8000/"));
  g_assert_false (allows (named, "ws://127.0.0.1:8001/"));
  g_assert_true (allows (named, "telnet://localhost"));
  g_assert_true (allows (named, "telnet://localhost:2323"));   /* no port: any */
  g_assert_false (allows (named, "ws://localhost/"));           /* not by ws:* */
  g_assert_true (allows (named, "ws://[::1]:1234/"));
  g_assert_true (allows (named, "ws://example.org/"));

  {
    g_autoptr(GError) error = NULL;
    g_assert_false (mgw_redirect_policy_allows (NULL, "telnet://127.0.0.1:8999", &error));
    g_assert_nonnull (strstr (error->message, "loopback"));
  }
}

static void
test_hosts_and_ports (void)
{
  const char *allow = "wss:*.minitel.example, ws:127.0.0.1:8765, telnet:192.0.2.?:*, "
                      "ws:[2001:db8::1], *:teletel.example:9000";

  g_assert_true (mgw_redirect_policy_validate (allow, NULL));
  g_assert_true (allows (allow, "wss://3615.minitel.example/"));
  g_assert_true (allows (allow, "wss://3615.MINITEL.example:444/"));
  g_assert_false (allows (allow, "ws://3615.minitel.example/"));       /* scheme */
  g_assert_false (allows (allow, "wss://minitel.example.evil.org/"));   /* glob is whole */
  g_assert_true (allows (allow, "ws://127.0.0.1:8765/"));
  g_assert_false (allows (allow, "ws://127.0.0.1:8766/"));              /* port */
  g_assert_false (allows (allow, "ws://127.0.0.1/"));                   /* port 80 */
  g_assert_true (allows (allow, "telnet://192.0.2.7"));
  g_assert_true (allows (allow, "telnet://192.0.2.7:23"));
  g_assert_false (allows (allow, "telnet://192.0.2.77"));
  g_assert_true (allows (allow, "ws://[2001:db8::1]/"));
  g_assert_true (allows (allow, "ws://[2001:DB8::1]:9/"));
  g_assert_false (allows (allow, "ws://[2001:db8::2]/"));
  g_assert_true (allows (allow, "ws://teletel.example:9000/"));
  g_assert_true (allows (allow, "telnet://teletel.example:9000"));
  g_assert_false (allows (allow, "telnet://teletel.example"));
  /* A userinfo part does not smuggle a host in. */
  g_assert_false (allows (allow, "ws://127.0.0.1:8765@evil.example:8765/"));
}

/* Each bad list is refused whole, with an error naming the entry. */
static void
test_bad_lists (void)
{
  static const char *bad[] = {
    "", " , ", "ws", "http:*", "ws:", "ws::80", "ws:*:0", "ws:*:65536", "ws:*:x",
    "ws:[2001:db8::1", "ws:[::1]x", "ws:*, gopher:*", ":*",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", bad[i]);
      g_assert_false (mgw_redirect_policy_validate (bad[i], &error));
      g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
      /* And it allows nothing. */
      g_clear_error (&error);
      g_assert_false (mgw_redirect_policy_allows (bad[i], "ws://example.org/", &error));
      g_assert_nonnull (error);
    }
}

/* A server URI's port: written, or its scheme's. */
static void
test_uri_ports (void)
{
  static const struct { const char *uri; guint16 port; } cases[] = {
    { "ws://example.org/", 80 }, { "WSS://example.org/x", 443 }, { "telnet://example.org", 23 },
    { "ws://example.org:8080/", 8080 }, { "telnet://[2001:db8::1]:2323", 2323 },
    { "http://example.org/", 0 }, { "wss://example.org:443/", 443 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GUri) uri = g_uri_parse (cases[i].uri, G_URI_FLAGS_NONE, NULL);
      g_assert_nonnull (uri);
      g_assert_cmpuint (mgw_uri_get_port (uri), ==, cases[i].port);
    }
  g_assert_cmpuint (mgw_uri_scheme_port ("Telnet"), ==, 23);
  g_assert_cmpuint (mgw_uri_scheme_port ("gopher"), ==, 0);
}

/* tcp:// targets (raw TCP, no telnet): a scheme of the list like the
 * others, always with a port of their own (tcp has none), and the
 * guarded hosts as for every scheme. */
static void
test_tcp (void)
{
  const char *allow = "tcp:192.0.2.1:3615, telnet:*, tcp:127.0.0.1:4000";

  g_assert_true (mgw_redirect_policy_validate ("tcp:*", NULL));
  g_assert_true (mgw_redirect_policy_validate (allow, NULL));
  g_assert_true (allows (NULL, "tcp://192.0.2.1:3615"));
  g_assert_true (allows (NULL, "TCP://[2001:db8::1]:3615"));
  g_assert_false (allows (NULL, "tcp://127.0.0.1:4000"));     /* guarded */
  g_assert_false (allows (NULL, "tcp://192.0.2.1"));          /* no port */
  g_assert_true (allows (allow, "tcp://192.0.2.1:3615"));
  g_assert_false (allows (allow, "tcp://192.0.2.1:3616"));
  g_assert_false (allows (allow, "tcp://192.0.2.2:3615"));    /* not by telnet:* */
  g_assert_true (allows (allow, "tcp://127.0.0.1:4000"));     /* named */
  g_assert_false (allows ("ws:*, wss:*, telnet:*", "tcp://192.0.2.1:3615"));
  g_assert_false (allows ("*:*", "tcp://192.0.2.1"));
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (mgw_redirect_policy_allows ("*:*", "tcp://192.0.2.1", &error));
    g_assert_nonnull (strstr (error->message, "names no port"));
  }
  {
    g_autoptr(GUri) uri = g_uri_parse ("tcp://192.0.2.1", G_URI_FLAGS_NONE, NULL);
    g_assert_cmpuint (mgw_uri_get_port (uri), ==, 0);
    g_assert_cmpuint (mgw_uri_scheme_port ("tcp"), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/redirect-policy/default", test_default);
  g_test_add_func ("/redirect-policy/hosts-and-ports", test_hosts_and_ports);
  g_test_add_func ("/redirect-policy/guarded", test_guarded);
  g_test_add_func ("/redirect-policy/uri-ports", test_uri_ports);
  g_test_add_func ("/redirect-policy/bad-lists", test_bad_lists);
  g_test_add_func ("/redirect-policy/tcp", test_tcp);
  return g_test_run ();
}
