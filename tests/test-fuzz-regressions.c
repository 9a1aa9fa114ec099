/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-fuzz-regressions.c: inputs found by the fuzz targets (fuzz/),
 * minimised and saved under fuzz/crashes/<target>/, replayed through the
 * same code path as the target that found them. */
#include "config.h"

#include "mgw-legacy-config.h"
#include "mgw-ws-codec.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
read_crash (const char *target,
            const char *name,
            gsize      *len)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "fuzz", "crashes",
                                                 target, name, NULL);
  g_autoptr(GError) error = NULL;
  char *data = NULL;

  g_file_get_contents (path, &data, len, &error);
  g_assert_no_error (error);
  return data;
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* The path of fuzz-legacy-config: load the input, save it to another
 * file, load that again: it must load, with the same values. */
static void
legacy_config_round_trip (const char *crash)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-fuzz-regressions-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *in_path = g_build_filename (dir, "GatewayConfig.json", NULL);
  g_autofree char *out_path = g_build_filename (dir, "saved.json", NULL);
  gsize len;
  g_autofree char *data = read_crash ("legacy-config", crash, &len);
  g_autoptr(MgwLegacyConfig) config = mgw_legacy_config_new ();
  g_autoptr(MgwLegacyConfig) again = mgw_legacy_config_new ();

  g_file_set_contents (in_path, data, (gssize) len, &error);
  g_assert_no_error (error);

  if (mgw_legacy_config_load (config, in_path, MGW_FILE_DEFAULT, &error))
    {
      mgw_legacy_config_save (config, out_path, &error);
      g_assert_no_error (error);
      mgw_legacy_config_load (again, out_path, MGW_FILE_DEFAULT, &error);
      g_assert_no_error (error);
      g_assert_cmpint (mgw_legacy_config_get_dump_data (config), ==,
                       mgw_legacy_config_get_dump_data (again));
      g_assert_cmpstr (mgw_legacy_config_get_dump_path (config), ==,
                       mgw_legacy_config_get_dump_path (again));
      g_assert_cmpfloat (mgw_legacy_config_get_limit_tcp_speed (config), ==,
                         mgw_legacy_config_get_limit_tcp_speed (again));
      g_assert_cmpfloat (mgw_legacy_config_get_limit_ws_speed (config), ==,
                         mgw_legacy_config_get_limit_ws_speed (again));
      g_assert_cmpuint (mgw_legacy_config_get_exec_count (config), ==,
                        mgw_legacy_config_get_exec_count (again));
    }
  else
    {
      /* Refusing the file at load is also a fix. */
      g_test_message ("load refused the input: %s", error->message);
      g_clear_error (&error);
    }

  remove_dir (dir);
}

/* Found by fuzz-legacy-config (fuzz/crashes/legacy-config/inf-unknown-key.json,
 * {"":4E689}): an unknown key whose number overflows a double is parsed as
 * infinity, kept "as it was", and written back by mgw_legacy_config_save()
 * as the bare word inf, which is not JSON: the saved GatewayConfig.json no
 * longer loads (the next start fails on its own file). */
static void
test_legacy_config_inf_unknown_key (void)
{
  legacy_config_round_trip ("inf-unknown-key.json");
}

/* Found by fuzz-legacy-config (fuzz/crashes/legacy-config/octal-escape-key.json,
 * {"\200":[]}): json-glib's parser takes the (invalid JSON) escape \200 as
 * the byte 0x80, so an unknown key is not UTF-8; saving writes it back as
 * "\u40d7bf\udfff" (garbage, a lone surrogate), which load refuses. */
static void
test_legacy_config_octal_escape_key (void)
{
  legacy_config_round_trip ("octal-escape-key.json");
}

/* Found by fuzz-ws-codec (fuzz/crashes/ws-codec/bare-cr-at-limit.bin): a
 * CR as the last byte within the head limit, followed by something else,
 * was answered 431 when the head arrived cut at the limit and 400 (bare
 * CR) when the next byte came with it. The same bytes must get the same
 * answer however they arrive: the limit, 431. */
static void
test_ws_codec_bare_cr_at_limit (void)
{
  guint8 head[130];
  const gsize limit = 65;

  memset (head, 's', sizeof head);
  head[limit - 1] = '\r';
  for (gsize len = limit; len <= sizeof head; len++)
    {
      g_autoptr(GError) error = NULL;
      MgwHttpHead *parsed = NULL;
      gsize head_len = 0;
      guint status = 0;

      g_assert_cmpint (mgw_ws_parse_request (head, len, limit, &head_len, &parsed,
                                             &status, &error), ==, MGW_HTTP_INVALID);
      g_assert_cmpuint (status, ==, 431);
      g_assert_null (parsed);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz-regressions/legacy-config/inf-unknown-key",
                   test_legacy_config_inf_unknown_key);
  g_test_add_func ("/fuzz-regressions/legacy-config/octal-escape-key",
                   test_legacy_config_octal_escape_key);
  g_test_add_func ("/fuzz-regressions/ws-codec/bare-cr-at-limit",
                   test_ws_codec_bare_cr_at_limit);
  return g_test_run ();
}
