/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-address-set.c: neverbanned.json loading (from a temp file) and the
 * address set on strings from the input: each line of the input is added;
 * an address that was added must then be contained. */
#include "fuzz-common.h"
#include "mgw-address-set.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  static char *path;
  GError *error = NULL;

  if (path == NULL)
    path = g_build_filename (fuzz_scratch_dir (), "neverbanned.json", NULL);
  fuzz_write_file (path, buf, size);

  MgwAddressSet *set = mgw_address_set_new ();
  if (mgw_address_set_load_never_ban (set, path, &error))
    FUZZ_CHECK (error == NULL);
  else
    {
      FUZZ_CHECK (error != NULL);
      g_clear_error (&error);
    }
  (void) mgw_address_set_get_size (set);

  char *text = g_strndup ((const char *) buf, size);
  char **lines = g_strsplit_set (text, "\n\"", 64);

  for (char **l = lines; *l; l++)
    {
      (void) mgw_address_set_contains (set, *l);
      char *norm = mgw_address_normalize (*l);
      MgwAddressSet *one = mgw_address_set_new ();

      if (mgw_address_set_add (one, *l, &error))
        {
          FUZZ_CHECK (error == NULL);
          FUZZ_CHECK (mgw_address_set_get_size (one) >= 1);
          /* A plain address (not a prefix) that was added is contained. */
          if (norm != NULL && strchr (*l, '/') == NULL)
            {
              FUZZ_CHECK (mgw_address_set_contains (one, *l));
              FUZZ_CHECK (mgw_address_set_contains (one, norm));
            }
        }
      else
        {
          FUZZ_CHECK (error != NULL);
          g_clear_error (&error);
        }
      if (norm != NULL)
        {
          char *again = mgw_address_normalize (norm);
          FUZZ_CHECK (again != NULL && strcmp (again, norm) == 0);
          g_free (again);
        }
      (void) mgw_address_set_add (set, *l, NULL);
      (void) mgw_address_set_contains (set, *l);
      g_free (norm);
      mgw_address_set_free (one);
    }
  g_strfreev (lines);
  g_free (text);

  mgw_address_set_clear (set);
  FUZZ_CHECK (mgw_address_set_get_size (set) == 0);
  mgw_address_set_free (set);
  return 0;
}
