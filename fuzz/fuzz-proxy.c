/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-proxy.c: the PROXY protocol parser and the Forwarded /
 * X-Forwarded-For parser.
 *
 * mgw_proxy_parse is run on every prefix of the input: once a prefix gives
 * DONE, ERROR or ABSENT, every longer prefix (and the full input) must give
 * the same result (and for DONE the same header); NEED_MORE is never
 * returned past the maximum header length; what mgw_proxy_detect() calls
 * a header or its start is never ABSENT to the parser.
 * mgw_proxy_parse_forwarded gets the input split at its first NUL into the
 * two header values. */
#include "fuzz-common.h"
#include "mgw-proxy.h"

#include <gio/gio.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static MgwProxyResult
parse (const guint8 *d, gsize len, MgwProxyInfo *info)
{
  GError *error = NULL;
  MgwProxyResult r;

  memset (info, 0xa5, sizeof *info);
  r = mgw_proxy_parse (d, len, info, &error);
  FUZZ_CHECK ((r == MGW_PROXY_ERROR) == (error != NULL));
  g_clear_error (&error);
  if (r == MGW_PROXY_DONE)
    {
      FUZZ_CHECK (info->header_len > 0 && info->header_len <= len);
      FUZZ_CHECK (memchr (info->address, '\0', sizeof info->address) != NULL);
      if (info->local)
        FUZZ_CHECK (info->address[0] == '\0' && info->port == 0);
      else
        {
          GInetAddress *a = g_inet_address_new_from_string (info->address);
          FUZZ_CHECK (a != NULL);
          g_object_unref (a);
        }
    }
  /* What the untrusted-peer check calls a header, or the start of one,
   * the parser does too. */
  if (r == MGW_PROXY_ABSENT)
    FUZZ_CHECK (mgw_proxy_detect (d, len) == MGW_PROXY_ABSENT);
  return r;
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  if (size > 2048)
    return 0;

  MgwProxyInfo full_info, info;
  MgwProxyResult full = parse (buf, size, &full_info);
  gboolean settled = FALSE;
  MgwProxyResult first = MGW_PROXY_NEED_MORE;
  MgwProxyInfo first_info;

  if (size >= MGW_PROXY_V2_MAX)
    FUZZ_CHECK (full != MGW_PROXY_NEED_MORE);

  for (gsize i = 0; i <= size; i++)
    {
      MgwProxyResult r = parse (buf, i, &info);

      if (settled)
        {
          FUZZ_CHECK (r == first);
          if (r == MGW_PROXY_DONE)
            {
              FUZZ_CHECK (info.header_len == first_info.header_len);
              FUZZ_CHECK (info.local == first_info.local);
              FUZZ_CHECK (info.port == first_info.port);
              FUZZ_CHECK (strcmp (info.address, first_info.address) == 0);
            }
        }
      else if (r != MGW_PROXY_NEED_MORE)
        {
          settled = TRUE;
          first = r;
          first_info = info;
          FUZZ_CHECK (full == r);
          if (r == MGW_PROXY_DONE)
            {
              FUZZ_CHECK (full_info.header_len == info.header_len);
              FUZZ_CHECK (strcmp (full_info.address, info.address) == 0);
              FUZZ_CHECK (full_info.port == info.port);
            }
        }
    }

  /* Forwarded / X-Forwarded-For. */
  {
    const char *s = (const char *) buf;
    const guint8 *nul = memchr (buf, '\0', size);
    char *fwd = g_strndup (s, nul ? (gsize) (nul - buf) : size);
    char *xff = nul ? g_strndup ((const char *) nul + 1, size - (gsize) (nul - buf) - 1) : NULL;
    const char *variants[3][2] = { { fwd, xff }, { NULL, fwd }, { fwd, NULL } };

    for (guint v = 0; v < 3; v++)
      {
        char *address = NULL;
        guint16 port = 12345;

        if (mgw_proxy_parse_forwarded (variants[v][0], variants[v][1], &address, &port))
          {
            FUZZ_CHECK (address != NULL);
            GInetAddress *a = g_inet_address_new_from_string (address);
            FUZZ_CHECK (a != NULL);
            g_object_unref (a);
            g_free (address);
          }
        else
          FUZZ_CHECK (address == NULL);
        address = NULL;
        if (mgw_proxy_parse_forwarded (variants[v][0], variants[v][1], &address, NULL))
          g_free (address);
      }
    g_free (fwd);
    g_free (xff);
  }
  return 0;
}
