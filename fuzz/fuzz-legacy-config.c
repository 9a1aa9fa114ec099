/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-legacy-config.c: GatewayConfig.json: load the input, save it to
 * another file, load that again: every value must survive. */
#include "fuzz-common.h"
#include "mgw-legacy-config.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  static char *in_path, *out_path;
  GError *error = NULL;

  if (in_path == NULL)
    {
      in_path = g_build_filename (fuzz_scratch_dir (), "GatewayConfig.json", NULL);
      out_path = g_build_filename (fuzz_scratch_dir (), "saved.json", NULL);
    }
  fuzz_scratch_clean ();
  fuzz_write_file (in_path, buf, size);

  MgwLegacyConfig *config = mgw_legacy_config_new ();
  if (!mgw_legacy_config_load (config, in_path, MGW_FILE_DEFAULT, &error))
    {
      FUZZ_CHECK (error != NULL);
      g_clear_error (&error);
      mgw_legacy_config_free (config);
      return 0;
    }
  FUZZ_CHECK (error == NULL);

  if (!mgw_legacy_config_save (config, out_path, &error))
    {
      fprintf (stderr, "fuzz: save failed: %s\n", error->message);
      abort ();
    }

  MgwLegacyConfig *again = mgw_legacy_config_new ();
  if (!mgw_legacy_config_load (again, out_path, MGW_FILE_DEFAULT, &error))
    {
      fprintf (stderr, "fuzz: reload of the saved file failed: %s\n", error->message);
      abort ();
    }

  FUZZ_CHECK (mgw_legacy_config_get_dump_data (config) == mgw_legacy_config_get_dump_data (again));
  FUZZ_CHECK (g_strcmp0 (mgw_legacy_config_get_dump_path (config),
                         mgw_legacy_config_get_dump_path (again)) == 0);
  FUZZ_CHECK (mgw_legacy_config_get_limit_tcp_speed (config) == mgw_legacy_config_get_limit_tcp_speed (again));
  FUZZ_CHECK (mgw_legacy_config_get_limit_ws_speed (config) == mgw_legacy_config_get_limit_ws_speed (again));
  FUZZ_CHECK (mgw_legacy_config_get_exec_count (config) == mgw_legacy_config_get_exec_count (again));

  /* The counter survives a change too. */
  mgw_legacy_config_set_exec_count (again, mgw_legacy_config_get_exec_count (config) + 1);
  if (mgw_legacy_config_save (again, out_path, &error))
    {
      MgwLegacyConfig *third = mgw_legacy_config_new ();
      FUZZ_CHECK (mgw_legacy_config_load (third, out_path, MGW_FILE_DEFAULT, NULL));
      FUZZ_CHECK (mgw_legacy_config_get_exec_count (third) == mgw_legacy_config_get_exec_count (again));
      mgw_legacy_config_free (third);
    }
  else
    g_clear_error (&error);

  mgw_legacy_config_free (again);
  mgw_legacy_config_free (config);
  return 0;
}
