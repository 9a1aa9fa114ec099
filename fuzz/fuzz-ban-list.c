/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-ban-list.c: banned.json loading. The input is written to
 * banned.json in a per-process scratch directory (recreated each run: a
 * corrupt file is renamed aside by the load), loaded with a fixed clock,
 * an IPv6 prefix length (16 + size % 113) and a cap (1 + last byte % 32)
 * of the input's own; listed, checked, banned again, written and read
 * back (what is written must load, with the same bans), swept. */
#include "fuzz-common.h"
#include "mgw-ban-list.h"

#include <string.h>

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

  guint prefix = 16 + (guint) (size % 113);
  guint max_entries = 1 + (size > 0 ? buf[size - 1] % 32 : 0);
  MgwBanList *list = mgw_ban_list_new (path, fixed_clock, &now);
  mgw_ban_list_set_ipv6_prefix (list, prefix);
  mgw_ban_list_set_max_entries (list, max_entries);
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
  FUZZ_CHECK (mgw_ban_list_get_size (list) <= max_entries);

  /* A new ban of an IPv6 address covers its prefix, within the cap. */
  {
    char *banned = NULL;

    FUZZ_CHECK (mgw_ban_list_ban_for (list, "2001:db8:1:2:3:4:5:6", "fuzz", "fuzz",
                                      (gint64) 3600 * G_USEC_PER_SEC, &banned, &error));
    FUZZ_CHECK (error == NULL && banned != NULL);
    FUZZ_CHECK (prefix == 128 ? strchr (banned, '/') == NULL : strchr (banned, '/') != NULL);
    FUZZ_CHECK (mgw_ban_list_check (list, "2001:db8:1:2:3:4:5:6"));
    FUZZ_CHECK (mgw_ban_list_get_size (list) <= max_entries);
    g_free (banned);
  }

  /* Written, read back: the same bans. */
  {
    MgwBanList *again;
    GPtrArray *before;
    GPtrArray *after;

    FUZZ_CHECK (mgw_ban_list_flush (list, &error));
    FUZZ_CHECK (error == NULL);
    FUZZ_CHECK (!mgw_ban_list_get_saving (list));
    again = mgw_ban_list_new (path, fixed_clock, &now);
    mgw_ban_list_set_ipv6_prefix (again, prefix);
    mgw_ban_list_set_max_entries (again, max_entries);
    FUZZ_CHECK (mgw_ban_list_load (again, &error));
    FUZZ_CHECK (error == NULL);
    before = mgw_ban_list_list (list);
    after = mgw_ban_list_list (again);
    FUZZ_CHECK (before->len == after->len);
    for (guint i = 0; i < before->len; i++)
      FUZZ_CHECK (g_str_equal (((MgwBan *) before->pdata[i])->address,
                               ((MgwBan *) after->pdata[i])->address));
    g_ptr_array_unref (before);
    g_ptr_array_unref (after);
    g_object_unref (again);
  }

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
