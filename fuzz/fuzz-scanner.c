/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-scanner.c: the first-bytes classifier (mgw-scanner.c).
 *
 * Run on every prefix of the input: a name is one of the five; once a
 * prefix is named, every longer one gets the same name; once a prefix is
 * neither named nor a possible start (need_more FALSE), no longer prefix
 * is named; need_more is FALSE from MGW_SCANNER_PROBE_MAX bytes on; a
 * stream starting with IAC (telnet) or a 7-bit byte other than the
 * patterns' first bytes is never named. */
#include "fuzz-common.h"
#include "mgw-scanner.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static gboolean
known (const char *name)
{
  static const char *const names[] = { "http", "tls", "ssh", "rdp", "smb" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (name, names[i]) == 0)
      return TRUE;
  return FALSE;
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  const char *named = NULL;
  gboolean decided = FALSE;

  if (size > 4 * MGW_SCANNER_PROBE_MAX)
    return 0;
  for (gsize i = 0; i <= size; i++)
    {
      const char *found = mgw_scanner_classify (buf, i);
      gboolean more = mgw_scanner_need_more (buf, i);

      if (i >= MGW_SCANNER_PROBE_MAX)
        FUZZ_CHECK (!more);
      if (named != NULL)
        {
          FUZZ_CHECK (found != NULL && strcmp (found, named) == 0);
          continue;
        }
      if (found != NULL)
        {
          FUZZ_CHECK (known (found));
          FUZZ_CHECK (!decided);
          named = found;
        }
      else if (!more)
        decided = TRUE;
    }
  if (size > 0 && named != NULL)
    FUZZ_CHECK (buf[0] != 0xff && (buf[0] >= 0x80 || buf[0] == 0x00 || buf[0] == 0x03 ||
                                   buf[0] == 0x16 || g_ascii_isupper (buf[0])));
  return 0;
}
