/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-scanner.c: other protocols' first bytes.
 *
 * Each pattern is strict enough that a videotex user cannot type it:
 * HTTP needs an upper-case method, a space and a target, then either a
 * method a scanner sends ("GET /", "POST ", ...) or " HTTP/x.y"; TLS,
 * RDP and SMB need bytes above 0x7F or a binary header no Minitel key
 * makes; SSH needs "SSH-" and a version. Telnet negotiation starts with
 * IAC (0xFF); SMB's 0xFF 'SMB' comes only after a 4-byte NetBIOS header
 * that starts with 0x00. */
#include "config.h"

#include "mgw-scanner.h"

#include <string.h>

typedef enum {
  NO,
  MORE,   /* a proper prefix of a match */
  YES,
} Verdict;

/* prefix against a fixed string: YES when data starts with it, MORE when
 * data is shorter and starts it. */
static Verdict
starts_with (const guint8 *data,
             gsize         len,
             const char   *prefix)
{
  gsize n = strlen (prefix);

  if (memcmp (data, prefix, MIN (len, n)) != 0)
    return NO;
  return len >= n ? YES : MORE;
}

/* Methods a scanner sends, with what must follow them. */
static const char *const http_starts[] = {
  "GET /", "POST ", "HEAD ", "CONNECT ", "OPTIONS ", "PUT /", "DELETE /", "TRACE /",
  "PATCH /", "PRI * HTTP/2",
};

/* Longer method tokens are not a request's. */
#define HTTP_TOKEN_MAX 16

/* A request line: METHOD SP target SP HTTP/d.d, the method upper-case
 * letters. */
static Verdict
http_line (const guint8 *data,
           gsize         len)
{
  static const char version[] = " HTTP/d.d";
  gsize i = 0, target;

  while (i < len && i < HTTP_TOKEN_MAX && g_ascii_isupper (data[i]))
    i++;
  if (i == HTTP_TOKEN_MAX)
    return NO;
  if (i == len)
    return MORE;
  if (i == 0 || data[i] != ' ')
    return NO;
  target = ++i;
  while (i < len && data[i] > ' ' && data[i] < 0x7f)
    i++;
  if (i == len)
    return MORE;
  if (i == target)
    return NO;
  for (gsize k = 0; k < sizeof version - 1; k++, i++)
    {
      gboolean ok;

      if (i == len)
        return MORE;
      ok = version[k] == 'd' ? g_ascii_isdigit (data[i]) : data[i] == (guint8) version[k];
      if (!ok)
        return NO;
    }
  return YES;
}

static Verdict
http (const guint8 *data,
      gsize         len)
{
  Verdict best = NO;

  for (gsize i = 0; i < G_N_ELEMENTS (http_starts); i++)
    {
      Verdict v = starts_with (data, len, http_starts[i]);

      if (v == YES)
        return YES;
      best = MAX (best, v);
    }
  return MAX (best, http_line (data, len));
}

/* A TLS record: handshake (0x16), version 3.0 to 3.4, a length, a
 * ClientHello (handshake type 1). */
static Verdict
tls (const guint8 *data,
     gsize         len)
{
  guint record;

  if (data[0] != 0x16 || (len > 1 && data[1] != 0x03) || (len > 2 && data[2] > 0x04))
    return NO;
  if (len < 5)
    return MORE;
  record = (guint) data[3] << 8 | data[4];
  if (record < 4 || record > 16384 + 2048)
    return NO;
  if (len < 6)
    return MORE;
  return data[5] == 0x01 ? YES : NO;
}

/* "SSH-" protoversion "-": SSH-2.0-, SSH-1.99-. */
static Verdict
ssh (const guint8 *data,
     gsize         len)
{
  Verdict v = starts_with (data, len, "SSH-");
  gsize i = 4;

  if (v != YES)
    return v;
  if (i == len)
    return MORE;
  if (!g_ascii_isdigit (data[i]))
    return NO;
  while (i < len && g_ascii_isdigit (data[i]))
    i++;
  if (i == len)
    return MORE;
  if (data[i++] != '.')
    return NO;
  if (i == len)
    return MORE;
  return g_ascii_isdigit (data[i]) ? YES : NO;
}

/* TPKT (version 3, reserved 0, a length of at least the X.224 header)
 * carrying an X.224 connection request (code 0xE0). */
static Verdict
rdp (const guint8 *data,
     gsize         len)
{
  guint tpkt;

  if (data[0] != 0x03 || (len > 1 && data[1] != 0x00))
    return NO;
  if (len < 4)
    return MORE;
  tpkt = (guint) data[2] << 8 | data[3];
  if (tpkt < 11)
    return NO;
  if (len < 6)
    return MORE;
  /* data[4]: the X.224 header's length, at least the 6 bytes after it. */
  if (data[4] < 6 || (data[5] & 0xf0) != 0xe0)
    return NO;
  return YES;
}

/* A NetBIOS session message (type 0, then a length: the direct-TCP
 * header of port 445 too) holding SMB1 (0xFF 'SMB') or SMB2/3 (0xFE
 * 'SMB'). */
static Verdict
smb (const guint8 *data,
     gsize         len)
{
  static const guint8 magic[] = { 'S', 'M', 'B' };
  guint length;

  if (data[0] != 0x00)
    return NO;
  if (len < 4)
    return MORE;
  length = (guint) data[1] << 16 | (guint) data[2] << 8 | data[3];
  if (length < 4)
    return NO;
  if (len < 5)
    return MORE;
  if (data[4] != 0xff && data[4] != 0xfe)
    return NO;
  if (memcmp (data + 5, magic, MIN (len - 5, sizeof magic)) != 0)
    return NO;
  return len >= 5 + sizeof magic ? YES : MORE;
}

typedef Verdict (*Pattern) (const guint8 *data,
                            gsize         len);

static const struct
{
  const char *name;
  Pattern     match;
} patterns[] = {
  { "http", http },
  { "tls", tls },
  { "ssh", ssh },
  { "rdp", rdp },
  { "smb", smb },
};

const char *
mgw_scanner_classify (const guint8 *data,
                      gsize         len)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0)
    return NULL;
  len = MIN (len, MGW_SCANNER_PROBE_MAX);
  for (gsize i = 0; i < G_N_ELEMENTS (patterns); i++)
    if (patterns[i].match (data, len) == YES)
      return patterns[i].name;
  return NULL;
}

gboolean
mgw_scanner_need_more (const guint8 *data,
                       gsize         len)
{
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (len == 0)
    return TRUE;
  if (len >= MGW_SCANNER_PROBE_MAX)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (patterns); i++)
    if (patterns[i].match (data, len) == MORE)
      return TRUE;
  return FALSE;
}
