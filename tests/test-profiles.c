/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-profiles.c: profiles.json, the per-target settings of redirections:
 * loading (all or nothing), the settings' values, and the lookup order. */
#include "config.h"

#include "mgw-error.h"
#include "mgw-profiles.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static const char *known =
  "{ \"ws://known.example:8080/\": { \"ping\": 5 } }";

static MgwProfiles *
load (const char *json)
{
  g_autoptr(MgwProfiles) profiles = mgw_profiles_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_profiles_load_data (profiles, json, -1, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&profiles);
}

/* The profiles from `known` are (still) the ones in force. */
static void
assert_known (MgwProfiles *profiles)
{
  const MgwProfile *profile;

  g_assert_cmpuint (mgw_profiles_get_size (profiles), ==, 1);
  profile = mgw_profiles_lookup (profiles, "ws://known.example:8080/");
  g_assert_nonnull (profile);
  g_assert_true (profile->has_ping);
  g_assert_cmpuint (profile->ping, ==, 5);
}

static void
test_full_profile (void)
{
  g_autoptr(MgwProfiles) profiles = load (
    "{ \"ws://example.org:8080/\": { \"ping\": 10, \"subprotocols\": [\"tty\"],\n"
    "                              \"frame-type\": \"binary\",\n"
    "                              \"connexion-fin\": \"forward\" } }");
  const MgwProfile *profile = mgw_profiles_lookup (profiles, "ws://example.org:8080/");

  g_assert_cmpuint (mgw_profiles_get_size (profiles), ==, 1);
  g_assert_nonnull (profile);
  g_assert_true (profile->has_ping);
  g_assert_cmpuint (profile->ping, ==, 10);
  g_assert_cmpstrv (profile->subprotocols, ((const char *[]) { "tty", NULL }));
  g_assert_true (profile->has_frame_type);
  g_assert_cmpint (profile->frame_type, ==, MGW_FRAME_BINARY);
  g_assert_cmpint (profile->fin, ==, MGW_FIN_FORWARD);
}

/* What a profile leaves unset stays unset, so the command's own values
 * (or the defaults) apply. */
static void
test_partial_profiles (void)
{
  g_autoptr(MgwProfiles) profiles = load (
    "{ \"a.example\": {},\n"
    "  \"b.example\": { \"ping\": null },\n"
    "  \"c.example\": { \"ping\": 0, \"subprotocols\": [],\n"
    "                   \"frame-type\": \"text\", \"connexion-fin\": \"gateway\" },\n"
    "  \"d.example\": { \"ping\": 86400, \"subprotocols\": [\"binary\", \"tty\"] } }");
  const MgwProfile *a = mgw_profiles_lookup (profiles, "ws://a.example/");
  const MgwProfile *b = mgw_profiles_lookup (profiles, "ws://b.example/");
  const MgwProfile *c = mgw_profiles_lookup (profiles, "ws://c.example/");
  const MgwProfile *d = mgw_profiles_lookup (profiles, "ws://d.example/");

  g_assert_cmpuint (mgw_profiles_get_size (profiles), ==, 4);
  g_assert_nonnull (a);
  g_assert_false (a->has_ping);
  g_assert_null (a->subprotocols);
  g_assert_false (a->has_frame_type);
  g_assert_cmpint (a->fin, ==, MGW_FIN_GATEWAY);

  /* `"ping": null` means: no ping, overriding the command's. */
  g_assert_nonnull (b);
  g_assert_true (b->has_ping);
  g_assert_cmpuint (b->ping, ==, 0);

  g_assert_nonnull (c);
  g_assert_true (c->has_ping);
  g_assert_cmpuint (c->ping, ==, 0);
  g_assert_nonnull (c->subprotocols);
  g_assert_cmpstrv (c->subprotocols, ((const char *[]) { NULL }));
  g_assert_true (c->has_frame_type);
  g_assert_cmpint (c->frame_type, ==, MGW_FRAME_TEXT);
  g_assert_cmpint (c->fin, ==, MGW_FIN_GATEWAY);

  g_assert_nonnull (d);
  g_assert_cmpuint (d->ping, ==, 86400);
  g_assert_cmpstrv (d->subprotocols, ((const char *[]) { "binary", "tty", NULL }));
}

/* "return-keys": the target's own sequences, an empty list turning them
 * off; not set, the gateway's apply. */
static void
test_return_keys (void)
{
  g_autoptr(MgwProfiles) profiles = load (
    "{ \"own.example\": { \"return-keys\": [\"'***' Sommaire\", \"Guide \\\\x2a\"] },\n"
    "  \"off.example\": { \"return-keys\": [] },\n"
    "  \"plain.example\": { \"ping\": 1 } }");
  const MgwProfile *own = mgw_profiles_lookup (profiles, "ws://own.example/");
  const MgwProfile *off = mgw_profiles_lookup (profiles, "ws://off.example/");
  const MgwProfile *plain = mgw_profiles_lookup (profiles, "ws://plain.example/");

  g_assert_nonnull (own);
  g_assert_true (own->has_return_keys);
  g_assert_cmpuint (own->return_keys.n, ==, 2);
  g_assert_cmpmem (own->return_keys.bytes[0], own->return_keys.len[0], "***\x13\x46", 5);
  g_assert_cmpmem (own->return_keys.bytes[1], own->return_keys.len[1], "\x13\x44*", 3);
  g_assert_nonnull (off);
  g_assert_true (off->has_return_keys);
  g_assert_cmpuint (off->return_keys.n, ==, 0);
  g_assert_nonnull (plain);
  g_assert_false (plain->has_return_keys);
}

/* The exact URI wins over host:port, which wins over host; host names
 * are matched without regard to case. */
static void
test_lookup_order (void)
{
  g_autoptr(MgwProfiles) profiles = load (
    "{ \"ws://example.org:8080/teletel\": { \"ping\": 1 },\n"
    "  \"example.org:8080\": { \"ping\": 2 },\n"
    "  \"example.org\": { \"ping\": 3 },\n"
    "  \"Mixed.Example\": { \"ping\": 4 } }");
  static const struct { const char *uri; guint ping; } cases[] = {
    { "ws://example.org:8080/teletel", 1 },
    { "WS://EXAMPLE.ORG:8080/teletel", 1 },
    { "ws://example.org:8080/other", 2 },
    { "wss://example.org:8080/", 2 },
    { "ws://Example.Org:8080/other", 2 },
    { "ws://example.org/", 3 },
    { "ws://example.org:9000/teletel", 3 },
    { "wss://EXAMPLE.org/x?y=1", 3 },
    { "telnet://example.org:23", 3 },
    { "ws://mixed.example/", 4 },
    { "ws://MIXED.EXAMPLE:1/", 4 },
  };
  static const char *none[] = {
    "ws://other.org/",
    "ws://example.org.evil/",
    "ws://sub.example.org:8080/",
    "ws://org/",
    "not a uri",
    "",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const MgwProfile *profile = mgw_profiles_lookup (profiles, cases[i].uri);

      if (profile == NULL)
        g_error ("'%s' matched no profile", cases[i].uri);
      if (profile->ping != cases[i].ping)
        g_error ("'%s' matched profile %u, expected %u", cases[i].uri,
                 profile->ping, cases[i].ping);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (none); i++)
    if (mgw_profiles_lookup (profiles, none[i]) != NULL)
      g_error ("'%s' matched a profile", none[i]);
}

/* IPv6 targets: the host key is the bare address, host:port has the
 * address in brackets as in a URI. */
static void
test_lookup_ipv6 (void)
{
  g_autoptr(MgwProfiles) profiles = load (
    "{ \"::1\": { \"ping\": 1 }, \"[2001:db8::1]:8080\": { \"ping\": 2 } }");
  const MgwProfile *profile;

  profile = mgw_profiles_lookup (profiles, "ws://[::1]:8080/");
  g_assert_nonnull (profile);
  g_assert_cmpuint (profile->ping, ==, 1);
  profile = mgw_profiles_lookup (profiles, "ws://[2001:db8::1]:8080/");
  g_assert_nonnull (profile);
  g_assert_cmpuint (profile->ping, ==, 2);
  /* Neither another port of that host nor a longer address match. */
  g_assert_null (mgw_profiles_lookup (profiles, "ws://[2001:db8::1]:9/"));
  g_assert_null (mgw_profiles_lookup (profiles, "ws://[2001:db8::1:8080]:9/"));
}

static void
test_empty (void)
{
  g_autoptr(MgwProfiles) fresh = mgw_profiles_new ();
  g_autoptr(MgwProfiles) profiles = load (known);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (mgw_profiles_get_size (fresh), ==, 0);
  g_assert_null (mgw_profiles_lookup (fresh, "ws://known.example:8080/"));

  /* An empty object is a valid file: it replaces what was loaded. */
  assert_known (profiles);
  g_assert_true (mgw_profiles_load_data (profiles, " { } \n", -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_profiles_get_size (profiles), ==, 0);
  g_assert_null (mgw_profiles_lookup (profiles, "ws://known.example:8080/"));
}

/* A new file replaces the old profiles entirely. */
static void
test_reload (void)
{
  g_autoptr(MgwProfiles) profiles = load (known);
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_profiles_load_data (profiles, "{ \"other.example\": {} }", -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_profiles_get_size (profiles), ==, 1);
  g_assert_null (mgw_profiles_lookup (profiles, "ws://known.example:8080/"));
  g_assert_nonnull (mgw_profiles_lookup (profiles, "ws://other.example/"));

  /* The length argument bounds the data read. */
  g_assert_true (mgw_profiles_load_data (profiles, "{}garbage", 2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_profiles_get_size (profiles), ==, 0);
}

/* Each bad file is refused as a whole: the profiles loaded before stay in
 * force. */
static void
test_errors (void)
{
  static const struct { const char *json; const char *needle; } cases[] = {
    /* Not JSON (reported in JSON-GLib's own domain). */
    { "{", NULL },
    { "nope", NULL },
    { "{ \"a\": { \"ping\": 1 }, }", NULL },
    /* Not an object at the root. */
    { "[]", "not a JSON object" },
    { "[ { \"ping\": 1 } ]", "not a JSON object" },
    { "\"example.org\"", "not a JSON object" },
    { "42", "not a JSON object" },
    { "null", "not a JSON object" },
    /* A profile that is not an object. */
    { "{ \"h\": 1 }", "profile 'h': not a JSON object" },
    { "{ \"h\": [] }", "profile 'h': not a JSON object" },
    { "{ \"h\": null }", "profile 'h': not a JSON object" },
    { "{ \"h\": \"tty\" }", "profile 'h': not a JSON object" },
    /* Settings. */
    { "{ \"h\": { \"pong\": 10 } }", "unknown setting \"pong\"" },
    { "{ \"h\": { \"Ping\": 10 } }", "unknown setting \"Ping\"" },
    { "{ \"h\": { \"ping\": \"10\" } }", "\"ping\"" },
    { "{ \"h\": { \"ping\": -1 } }", "\"ping\"" },
    { "{ \"h\": { \"ping\": 86401 } }", "\"ping\"" },
    { "{ \"h\": { \"ping\": 4294967306 } }", "\"ping\"" },
    { "{ \"h\": { \"ping\": 1.5 } }", "\"ping\"" },
    { "{ \"h\": { \"ping\": true } }", "\"ping\"" },
    { "{ \"h\": { \"ping\": [10] } }", "\"ping\"" },
    { "{ \"h\": { \"subprotocols\": \"tty\" } }", "\"subprotocols\" is not a list" },
    { "{ \"h\": { \"subprotocols\": null } }", "\"subprotocols\" is not a list" },
    { "{ \"h\": { \"subprotocols\": [1] } }", "\"subprotocols\" holds" },
    { "{ \"h\": { \"subprotocols\": [\"tty\", 1] } }", "\"subprotocols\" holds" },
    { "{ \"h\": { \"subprotocols\": [null] } }", "\"subprotocols\" holds" },
    { "{ \"h\": { \"subprotocols\": [[\"tty\"]] } }", "\"subprotocols\" holds" },
    { "{ \"h\": { \"subprotocols\": [\"a b\"] } }", "\"subprotocols\" holds" },
    { "{ \"h\": { \"subprotocols\": [\"\"] } }", "\"subprotocols\" holds" },
    { "{ \"h\": { \"subprotocols\": [\"a,b\"] } }", "\"subprotocols\" holds" },
    { "{ \"h\": { \"subprotocols\": [\"t\\u00e9l\"] } }", "\"subprotocols\" holds" },
    { "{ \"h\": { \"frame-type\": \"utf8\" } }", "\"frame-type\"" },
    { "{ \"h\": { \"frame-type\": 1 } }", "\"frame-type\"" },
    { "{ \"h\": { \"frame-type\": null } }", "\"frame-type\"" },
    { "{ \"h\": { \"connexion-fin\": \"maybe\" } }", "\"connexion-fin\"" },
    { "{ \"h\": { \"connexion-fin\": true } }", "\"connexion-fin\"" },
    { "{ \"h\": { \"connexion-fin\": null } }", "\"connexion-fin\"" },
    { "{ \"h\": { \"return-keys\": \"Sommaire\" } }", "\"return-keys\" is not a list" },
    { "{ \"h\": { \"return-keys\": null } }", "\"return-keys\" is not a list" },
    { "{ \"h\": { \"return-keys\": [1] } }", "\"return-keys\" holds something" },
    { "{ \"h\": { \"return-keys\": [\"Sommaire\", [\"Envoi\"]] } }", "\"return-keys\" holds" },
    { "{ \"h\": { \"return-keys\": [\"*** Sommaire\"] } }",
      "profile 'h': \"return-keys\": \"*** Sommaire\": \"***\" is not a key name" },
    { "{ \"h\": { \"return-keys\": [\"Sommaire; Envoi\"] } }", "';' only separates" },
    { "{ \"h\": { \"return-keys\": [\"\"] } }", "an empty sequence" },
    /* One bad profile after good ones spoils the whole file. */
    { "{ \"good.example\": { \"ping\": 1 }, \"bad\": { \"ping\": -1 } }", "profile 'bad'" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MgwProfiles) profiles = load (known);
      g_autoptr(GError) error = NULL;

      if (mgw_profiles_load_data (profiles, cases[i].json, -1, &error))
        g_error ("case %" G_GSIZE_FORMAT " '%s' was accepted", i, cases[i].json);
      g_assert_nonnull (error);
      if (cases[i].needle != NULL)
        {
          g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
          if (strstr (error->message, cases[i].needle) == NULL)
            g_error ("case %" G_GSIZE_FORMAT ": '%s' does not name '%s'", i,
                     error->message, cases[i].needle);
        }
      assert_known (profiles);
      g_assert_null (mgw_profiles_lookup (profiles, "ws://good.example/"));
    }
}

static char *
write_tmp (const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("test-profiles-XXXXXX.json", &path, &error);

  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, contents, strlen (contents)), ==, (gssize) strlen (contents));
  g_assert_cmpint (close (fd), ==, 0);
  return path;
}

/* An empty (or blank) profiles.json is refused like any other file that
 * is not a JSON object: an error, the previous profiles kept, and no
 * CRITICAL on the way. Run in a subprocess since a CRITICAL aborts a test
 * program; registered last so a failure there does not hide the others. */
static void
test_load_file_empty (void)
{
  g_autofree char *path = NULL;

  if (g_test_subprocess ())
    {
      static const char *blank[] = { "", "   \n\t" };

      for (gsize i = 0; i < G_N_ELEMENTS (blank); i++)
        {
          g_autoptr(MgwProfiles) profiles = load (known);
          g_autoptr(GError) error = NULL;

          g_assert_false (mgw_profiles_load_data (profiles, blank[i], -1, &error));
          g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
          assert_known (profiles);
        }
      {
        g_autoptr(MgwProfiles) profiles = load (known);
        g_autoptr(GError) error = NULL;
        const char *file = g_getenv ("TEST_PROFILES_EMPTY_FILE");

        g_assert_nonnull (file);
        g_assert_false (mgw_profiles_load_file (profiles, file, &error));
        g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
        assert_known (profiles);
      }
      return;
    }

  /* The parent owns the empty file, so it is removed whatever the child
   * does. */
  path = write_tmp ("");
  g_setenv ("TEST_PROFILES_EMPTY_FILE", path, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("TEST_PROFILES_EMPTY_FILE");
  g_assert_cmpint (g_unlink (path), ==, 0);
  /* Regression (found by this test): on empty or blank data
   * json_parser_load_from_data() succeeds with a NULL root, and
   * JSON_NODE_HOLDS_OBJECT (NULL) emitted "Json-CRITICAL:
   * json_node_get_node_type: assertion 'JSON_NODE_IS_VALID (node)'
   * failed". A CRITICAL is fatal in the child, so its passing also means
   * there was none. */
  g_test_trap_assert_passed ();
}

static void
test_load_file (void)
{
  g_autofree char *path = write_tmp (
    "{ \"example.org\": { \"ping\": 10, \"subprotocols\": [\"tty\"] } }\n");
  g_autoptr(MgwProfiles) profiles = mgw_profiles_new ();
  g_autoptr(GError) error = NULL;
  const MgwProfile *profile;

  g_assert_true (mgw_profiles_load_file (profiles, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_profiles_get_size (profiles), ==, 1);
  profile = mgw_profiles_lookup (profiles, "ws://example.org/");
  g_assert_nonnull (profile);
  g_assert_cmpuint (profile->ping, ==, 10);
  g_assert_cmpstrv (profile->subprotocols, ((const char *[]) { "tty", NULL }));
  g_assert_cmpint (g_unlink (path), ==, 0);
}

/* No profiles.json: no profiles (also when some were loaded before). */
static void
test_load_file_missing (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-profiles-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(MgwProfiles) profiles = load (known);

  g_assert_no_error (error);
  path = g_build_filename (dir, "profiles.json", NULL);
  g_assert_true (mgw_profiles_load_file (profiles, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_profiles_get_size (profiles), ==, 0);
  g_assert_null (mgw_profiles_lookup (profiles, "ws://known.example:8080/"));
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_load_file_bad_content (void)
{
  g_autofree char *path = write_tmp ("{ \"h\": { \"frame-type\": \"utf8\" } }");
  g_autoptr(MgwProfiles) profiles = load (known);
  g_autoptr(GError) error = NULL;

  g_assert_false (mgw_profiles_load_file (profiles, path, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  /* The message names the file and the profile. */
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "profile 'h'"));
  assert_known (profiles);
  g_assert_cmpint (g_unlink (path), ==, 0);
}

/* A path that exists but cannot be read is an error, not "no profiles". */
static void
test_load_file_unreadable (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-profiles-XXXXXX", &error);
  g_autofree char *file = write_tmp ("{}");
  g_autofree char *under_file = g_build_filename (file, "profiles.json", NULL);
  g_autoptr(MgwProfiles) profiles = load (known);

  g_assert_no_error (error);

  /* A directory. */
  g_assert_false (mgw_profiles_load_file (profiles, dir, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  assert_known (profiles);

  /* A path through a regular file (ENOTDIR). */
  g_assert_false (mgw_profiles_load_file (profiles, under_file, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  assert_known (profiles);

  /* A file without read permission (meaningless as root, who reads it). */
  g_assert_cmpint (g_chmod (file, 0), ==, 0);
  if (access (file, R_OK) == 0)
    g_test_message ("running with the right to read a mode 000 file: skipped that part");
  else
    {
      g_assert_false (mgw_profiles_load_file (profiles, file, &error));
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
      g_clear_error (&error);
      assert_known (profiles);
    }

  g_assert_cmpint (g_unlink (file), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/profiles/full", test_full_profile);
  g_test_add_func ("/profiles/partial", test_partial_profiles);
  g_test_add_func ("/profiles/lookup/order", test_lookup_order);
  g_test_add_func ("/profiles/lookup/ipv6", test_lookup_ipv6);
  g_test_add_func ("/profiles/empty", test_empty);
  g_test_add_func ("/profiles/reload", test_reload);
  g_test_add_func ("/profiles/errors", test_errors);
  g_test_add_func ("/profiles/file/load", test_load_file);
  g_test_add_func ("/profiles/file/missing", test_load_file_missing);
  g_test_add_func ("/profiles/file/bad-content", test_load_file_bad_content);
  g_test_add_func ("/profiles/file/unreadable", test_load_file_unreadable);
  g_test_add_func ("/profiles/return-keys", test_return_keys);
  g_test_add_func ("/profiles/file/empty", test_load_file_empty);
  return g_test_run ();
}
