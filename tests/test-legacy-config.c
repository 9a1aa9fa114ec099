/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-legacy-config.c: the original's GatewayConfig.json: reading it,
 * the start counter, and writing it back as the original would. */
#include "config.h"

#include "mgw-error.h"
#include "mgw-legacy-config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-legacy-config-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "GatewayConfig.json", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_free (f->dir);
  g_free (f->path);
}

static char *
fixture_path (void)
{
  return g_test_build_filename (G_TEST_DIST, "data", "pymoip", "GatewayConfig.json", NULL);
}

static char *
read_text (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  return text;
}

static void
write_text (const char *path,
            const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

static void
assert_fixture_values (MgwLegacyConfig *config,
                       guint64          count)
{
  g_assert_false (mgw_legacy_config_get_dump_data (config));
  g_assert_cmpstr (mgw_legacy_config_get_dump_path (config), ==, "/home/pi/PyMoIP_dir/Dumps/");
  g_assert_cmpfloat (mgw_legacy_config_get_limit_tcp_speed (config), ==, 1.2);
  g_assert_cmpfloat (mgw_legacy_config_get_limit_ws_speed (config), ==, 1.2);
  g_assert_cmpuint (mgw_legacy_config_get_exec_count (config), ==, count);
}

static void
test_fixture (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *original = fixture_path ();
  g_autofree char *text = read_text (original);
  g_autofree char *saved = NULL;
  g_autoptr(MgwLegacyConfig) config = mgw_legacy_config_new ();
  g_autoptr(MgwLegacyConfig) again = mgw_legacy_config_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_legacy_config_load (config, original, MGW_FILE_DEFAULT, &error));
  g_assert_no_error (error);
  assert_fixture_values (config, 0);

  /* Untouched, it comes back byte for byte, as the original writes it. */
  g_assert_true (mgw_legacy_config_save (config, f->path, &error));
  g_assert_no_error (error);
  saved = read_text (f->path);
  g_assert_cmpstr (saved, ==, text);

  /* The start counter. */
  mgw_legacy_config_set_exec_count (config, mgw_legacy_config_get_exec_count (config) + 1);
  g_assert_true (mgw_legacy_config_save (config, f->path, &error));
  g_assert_no_error (error);
  g_free (saved);
  saved = read_text (f->path);
  g_assert_cmpstr (saved, ==,
                   "{\"DumpData\": false, \"DumpDataPath\": \"/home/pi/PyMoIP_dir/Dumps/\", "
                   "\"LimitTcpSpeed\": 1.2, \"LimitWsSpeed\": 1.2, \"GatewayExecCount\": 1}");
  g_assert_true (mgw_legacy_config_load (again, f->path, MGW_FILE_DEFAULT, &error));
  g_assert_no_error (error);
  assert_fixture_values (again, 1);
}

/* Keys we do not know, of any type, are written back as they were, in
 * their place. */
static void
test_unknown_keys (Fixture       *f,
                   gconstpointer  data)
{
  static const char *input =
    "{\"Comment\": \"h\\u00e9 \\\"quoted\\\"\\n\",\n"
    "  \"DumpData\": true, \"DumpDataPath\": \"/var/dumps/\",\n"
    "  \"LimitTcpSpeed\": 2, \"Nested\": {\"a\": [1, 2.5, null, false, 1e+20, 3.0]},\n"
    "  \"LimitWsSpeed\": 0.1, \"GatewayExecCount\": 41, \"Zeta\": -7}";
  static const char *expected =
    "{\"Comment\": \"h\\u00e9 \\\"quoted\\\"\\n\", "
    "\"DumpData\": true, \"DumpDataPath\": \"/var/dumps/\", "
    "\"LimitTcpSpeed\": 2, \"Nested\": {\"a\": [1, 2.5, null, false, 1e+20, 3.0]}, "
    "\"LimitWsSpeed\": 0.1, \"GatewayExecCount\": 42, \"Zeta\": -7}";
  g_autoptr(MgwLegacyConfig) config = mgw_legacy_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = NULL;

  write_text (f->path, input);
  g_assert_true (mgw_legacy_config_load (config, f->path, MGW_FILE_DEFAULT, &error));
  g_assert_no_error (error);
  g_assert_true (mgw_legacy_config_get_dump_data (config));
  g_assert_cmpstr (mgw_legacy_config_get_dump_path (config), ==, "/var/dumps/");
  g_assert_cmpfloat (mgw_legacy_config_get_limit_tcp_speed (config), ==, 2.0);
  g_assert_cmpfloat (mgw_legacy_config_get_limit_ws_speed (config), ==, 0.1);
  g_assert_cmpuint (mgw_legacy_config_get_exec_count (config), ==, 41);

  mgw_legacy_config_set_exec_count (config, 42);
  g_assert_true (mgw_legacy_config_save (config, f->path, &error));
  g_assert_no_error (error);
  saved = read_text (f->path);
  g_assert_cmpstr (saved, ==, expected);
}

/* The fixture with one more key, as the brief of the test asks. */
static void
test_fixture_extra_key (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *original = fixture_path ();
  g_autofree char *text = read_text (original);
  g_autofree char *copy = NULL;
  g_autofree char *saved = NULL;
  g_autoptr(MgwLegacyConfig) config = mgw_legacy_config_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_str_has_suffix (text, "}"));
  copy = g_strdup_printf ("%.*s, \"MyOwnKey\": [\"kept\", 1]}", (int) strlen (text) - 1, text);
  write_text (f->path, copy);
  g_assert_true (mgw_legacy_config_load (config, f->path, MGW_FILE_DEFAULT, &error));
  g_assert_no_error (error);
  assert_fixture_values (config, 0);
  mgw_legacy_config_set_exec_count (config, 1);
  g_assert_true (mgw_legacy_config_save (config, f->path, &error));
  g_assert_no_error (error);
  saved = read_text (f->path);
  g_assert_cmpstr (saved, ==,
                   "{\"DumpData\": false, \"DumpDataPath\": \"/home/pi/PyMoIP_dir/Dumps/\", "
                   "\"LimitTcpSpeed\": 1.2, \"LimitWsSpeed\": 1.2, \"GatewayExecCount\": 1, "
                   "\"MyOwnKey\": [\"kept\", 1]}");
}

static void
test_missing (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(MgwLegacyConfig) config = mgw_legacy_config_new ();
  g_autoptr(MgwLegacyConfig) again = mgw_legacy_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *original = fixture_path ();
  GStatBuf st;

  /* Values of a previous file are forgotten too. */
  g_assert_true (mgw_legacy_config_load (config, original, MGW_FILE_DEFAULT, &error));
  g_assert_true (mgw_legacy_config_load (config, f->path, MGW_FILE_DEFAULT, &error));
  g_assert_no_error (error);
  g_assert_false (mgw_legacy_config_get_dump_data (config));
  g_assert_null (mgw_legacy_config_get_dump_path (config));
  g_assert_cmpfloat (mgw_legacy_config_get_limit_tcp_speed (config), ==, 0);
  g_assert_cmpfloat (mgw_legacy_config_get_limit_ws_speed (config), ==, 0);
  g_assert_cmpuint (mgw_legacy_config_get_exec_count (config), ==, 0);

  /* Created with every key the original expects. */
  mgw_legacy_config_set_exec_count (config, 1);
  g_assert_true (mgw_legacy_config_save (config, f->path, &error));
  g_assert_no_error (error);
  saved = read_text (f->path);
  g_assert_cmpstr (saved, ==,
                   "{\"DumpData\": false, \"DumpDataPath\": \"\", \"LimitTcpSpeed\": 0, "
                   "\"LimitWsSpeed\": 0, \"GatewayExecCount\": 1}");
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);
  g_assert_true (mgw_legacy_config_load (again, f->path, MGW_FILE_DEFAULT, &error));
  g_assert_no_error (error);
  g_assert_null (mgw_legacy_config_get_dump_path (again));
  g_assert_cmpuint (mgw_legacy_config_get_exec_count (again), ==, 1);

  /* Saving keeps the file's permissions. */
  g_assert_cmpint (g_chmod (f->path, 0640), ==, 0);
  mgw_legacy_config_set_exec_count (again, 2);
  g_assert_true (mgw_legacy_config_save (again, f->path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0640);
}

static void
test_bad (Fixture       *f,
          gconstpointer  data)
{
  static const struct {
    const char *text;
    const char *key;   /* named in the error; NULL: the file */
  } cases[] = {
    { "", NULL },
    { "{\"DumpData\": false", NULL },
    { "not json", NULL },
    { "[]", NULL },
    { "\"DumpData\"", NULL },
    { "null", NULL },
    { "{\"DumpData\": \"yes\"}", "DumpData" },
    { "{\"DumpData\": 1}", "DumpData" },
    { "{\"DumpDataPath\": 5}", "DumpDataPath" },
    { "{\"DumpDataPath\": [\"/tmp\"]}", "DumpDataPath" },
    { "{\"LimitTcpSpeed\": \"fast\"}", "LimitTcpSpeed" },
    { "{\"LimitTcpSpeed\": -1}", "LimitTcpSpeed" },
    { "{\"LimitWsSpeed\": -0.5}", "LimitWsSpeed" },
    { "{\"LimitWsSpeed\": null}", "LimitWsSpeed" },
    { "{\"LimitWsSpeed\": true}", "LimitWsSpeed" },
    { "{\"GatewayExecCount\": -1}", "GatewayExecCount" },
    { "{\"GatewayExecCount\": 1.5}", "GatewayExecCount" },
    { "{\"GatewayExecCount\": \"3\"}", "GatewayExecCount" },
    { "{\"GatewayExecCount\": {}}", "GatewayExecCount" },
  };
  g_autofree char *original = fixture_path ();
  g_autoptr(MgwLegacyConfig) config = mgw_legacy_config_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_legacy_config_load (config, original, MGW_FILE_DEFAULT, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) load_error = NULL;

      g_test_message ("%s", cases[i].text);
      write_text (f->path, cases[i].text);
      g_assert_false (mgw_legacy_config_load (config, f->path, MGW_FILE_DEFAULT, &load_error));
      g_assert_error (load_error, MGW_ERROR, MGW_ERROR_CONFIG);
      g_assert_nonnull (strstr (load_error->message, f->path));
      if (cases[i].key != NULL)
        {
          g_autofree char *quoted = g_strdup_printf ("\"%s\"", cases[i].key);
          g_assert_nonnull (strstr (load_error->message, quoted));
        }
      /* Unchanged. */
      assert_fixture_values (config, 0);
    }

  /* Unreadable. */
  g_assert_false (mgw_legacy_config_load (config, f->dir, MGW_FILE_DEFAULT, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  assert_fixture_values (config, 0);

  /* Fine: an empty path is no path, null too, integers as speeds. */
  write_text (f->path, "{\"DumpDataPath\": \"\", \"LimitTcpSpeed\": 0, \"LimitWsSpeed\": 3}");
  g_assert_true (mgw_legacy_config_load (config, f->path, MGW_FILE_DEFAULT, &error));
  g_assert_no_error (error);
  g_assert_null (mgw_legacy_config_get_dump_path (config));
  g_assert_cmpfloat (mgw_legacy_config_get_limit_tcp_speed (config), ==, 0);
  g_assert_cmpfloat (mgw_legacy_config_get_limit_ws_speed (config), ==, 3);
  g_assert_cmpuint (mgw_legacy_config_get_exec_count (config), ==, 0);
  write_text (f->path, "{\"DumpDataPath\": null}");
  g_assert_true (mgw_legacy_config_load (config, f->path, MGW_FILE_DEFAULT, &error));
  g_assert_no_error (error);
  g_assert_null (mgw_legacy_config_get_dump_path (config));
}

/* A file beyond MGW_JSON_FILE_MAX is refused without being read (the
 * file here is sparse: its size, not its content, is what counts). */
static void
test_too_big (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(MgwLegacyConfig) config = mgw_legacy_config_new ();
  g_autoptr(GError) error = NULL;
  FILE *out = fopen (f->path, "w");

  g_assert_nonnull (out);
  fputs ("{}", out);
  g_assert_cmpint (ftruncate (fileno (out), MGW_JSON_FILE_MAX + 1), ==, 0);
  fclose (out);
  g_assert_false (mgw_legacy_config_load (config, f->path, MGW_FILE_DEFAULT, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "bigger than 16 MiB"));

  /* One byte less is read (and is not JSON). */
  g_clear_error (&error);
  g_assert_cmpint (truncate (f->path, MGW_JSON_FILE_MAX), ==, 0);
  g_assert_false (mgw_legacy_config_load (config, f->path, MGW_FILE_DEFAULT, &error));
  g_assert_null (strstr (error->message, "bigger than"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/legacy-config/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("fixture", test_fixture);
  ADD ("fixture-extra-key", test_fixture_extra_key);
  ADD ("unknown-keys", test_unknown_keys);
  ADD ("missing", test_missing);
  ADD ("bad", test_bad);
  ADD ("too-big", test_too_big);
#undef ADD

  return g_test_run ();
}
