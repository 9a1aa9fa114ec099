/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-profiles.c: profiles.json loading (mgw_profiles_load_data) and
 * lookups, with fixed URIs and with text from the input. */
#include "fuzz-common.h"
#include "mgw-profiles.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static void
check_profile (const MgwProfile *p)
{
  if (p == NULL)
    return;
  FUZZ_CHECK (p->fin == MGW_FIN_GATEWAY || p->fin == MGW_FIN_FORWARD);
  if (p->subprotocols)
    for (char **s = p->subprotocols; *s; s++)
      FUZZ_CHECK (strlen (*s) < G_MAXSIZE);
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  static const char *uris[] = {
    "ws://example.org:8080/", "ws://example.org:8080", "ws://example.org/",
    "wss://example.net/x", "telnet://example.net:23", "example.net",
    "ws://[::1]:8080/", "telnet://[2001:db8::1]:23", "", "ws://", "x:y",
    "ws://a:99999999999/", "ws://user@host:1/", "ws://[::1/",
  };
  MgwProfiles *profiles = mgw_profiles_new ();
  GError *error = NULL;
  gssize len = (gssize) size;

  if (mgw_profiles_load_data (profiles, (const char *) buf, len, &error))
    FUZZ_CHECK (error == NULL);
  else
    {
      FUZZ_CHECK (error != NULL);
      g_clear_error (&error);
    }
  (void) mgw_profiles_get_size (profiles);

  for (gsize i = 0; i < G_N_ELEMENTS (uris); i++)
    check_profile (mgw_profiles_lookup (profiles, uris[i]));

  /* The input's own strings as URIs (each NUL-separated piece). */
  char *copy = g_strndup ((const char *) buf, size);
  check_profile (mgw_profiles_lookup (profiles, copy));
  /* JSON keys are likely URIs: try every quoted string. */
  char **parts = g_strsplit (copy, "\"", 64);
  for (char **p = parts; *p; p++)
    check_profile (mgw_profiles_lookup (profiles, *p));
  g_strfreev (parts);
  g_free (copy);

  /* A second load over a loaded set (reload keeps or replaces). */
  if (mgw_profiles_load_data (profiles, (const char *) buf, len, &error) == FALSE)
    g_clear_error (&error);

  mgw_profiles_free (profiles);
  return 0;
}
