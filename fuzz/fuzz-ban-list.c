/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-ban-list.c: banned.json loading. The input is written to
 * banned.json in a per-process scratch directory (recreated each run: a
 * corrupt file is renamed aside by the load), loaded with a fixed clock,
 * listed, checked, swept. */
#include "fuzz-common.h"
#include "mgw-ban-list.h"

/* 2026-01-01T00:00:00Z */
#define FUZZ_NOW ((gint64) 1767225600 * G_USEC_PER_SEC)

static gint64
fixed_clock (gpointer user_data)
{
  return *(gint64 *) user_data;
}

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
  gint64 now = FUZZ_NOW;
  GError *error = NULL;

  if (path == NULL)
    path = g_build_filename (fuzz_scratch_dir (), "banned.json", NULL);
  fuzz_scratch_clean ();
  fuzz_write_file (path, buf, size);

  MgwBanList *list = mgw_ban_list_new (path, fixed_clock, &now);
  if (mgw_ban_list_load (list, &error))
    FUZZ_CHECK (error == NULL);
  else
    {
      FUZZ_CHECK (error != NULL);
      g_clear_error (&error);
    }

  GPtrArray *bans = mgw_ban_list_list (list);
  FUZZ_CHECK (bans != NULL);
  FUZZ_CHECK (bans->len == mgw_ban_list_get_size (list));
  for (guint i = 0; i < bans->len; i++)
    {
      MgwBan *ban = g_ptr_array_index (bans, i);

      FUZZ_CHECK (ban->address != NULL);
      FUZZ_CHECK (ban->reason != NULL);
      /* (sorted by the address's bytes, not its text: not checked) */
    }
  /* Checking restarts a ban: do it on a copy of the addresses. */
  for (guint i = 0; i < bans->len && i < 16; i++)
    {
      char *address = g_strdup (((MgwBan *) g_ptr_array_index (bans, i))->address);
      (void) mgw_ban_list_check (list, address);
      g_free (address);
    }
  g_ptr_array_unref (bans);

  /* Far in the future every ban has expired. */
  now = FUZZ_NOW + (gint64) 10 * 365 * 86400 * G_USEC_PER_SEC;
  (void) mgw_ban_list_sweep (list);
  now = G_MAXINT64 / 2;
  (void) mgw_ban_list_sweep (list);
  (void) mgw_ban_list_get_bans (list);
  (void) mgw_ban_list_get_unbans (list);

  g_object_unref (list);
  return 0;
}
