/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-proxy.c: the client's real address behind a load balancer or a
 * reverse proxy.
 *
 * Pure functions over bytes and strings, no I/O:
 *  - HAProxy's PROXY protocol ("proxy-protocol.txt"), v1 text line and
 *    v2 binary block, parsed incrementally: the caller feeds what it has
 *    read so far and is told to read more, that there is no header, that
 *    the header is complete, or that it is refused;
 *  - the HTTP headers a reverse proxy adds to a WebSocket upgrade:
 *    RFC 7239 Forwarded, then X-Forwarded-For. */
#include "config.h"

#include "mgw-proxy.h"
#include "mgw-error.h"

#include <gio/gio.h>
#include <string.h>

#define V1_SIGNATURE      "PROXY "
#define V1_SIGNATURE_LEN  6
#define V2_SIGNATURE      "\r\n\r\n\0\r\nQUIT\n"
#define V2_SIGNATURE_LEN  12
#define V2_HEADER_LEN     16
#define V2_MAX_BLOCK      (MGW_PROXY_V2_MAX - V2_HEADER_LEN)

/* The longest textual address we look at: an IPv6 address with an IPv4
 * tail ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"). */
#define ADDRESS_TEXT_MAX  45
#define IPV4_TEXT_MAX     15

/* v2 ver_cmd low nibble */
#define V2_CMD_LOCAL      0x0
#define V2_CMD_PROXY      0x1

/* v2 fam byte: address family (high nibble), transport (low nibble) */
#define V2_FAM_UNSPEC     0x00
#define V2_FAM_TCP4       0x11
#define V2_FAM_UDP4       0x12
#define V2_FAM_TCP6       0x21
#define V2_FAM_UDP6       0x22
#define V2_FAM_UNIX       0x31
#define V2_FAM_UNIX_DGRAM 0x32

static gboolean
proxy_error (GError    **error,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

static gboolean
proxy_error (GError    **error,
             const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, message);
  return FALSE;
}

/* TRUE when the first MIN (len, signature_len) bytes of data match. */
static gboolean
prefix_matches (const guint8 *data,
                gsize         len,
                const char   *signature,
                gsize         signature_len)
{
  return len == 0 || memcmp (data, signature, MIN (len, signature_len)) == 0;
}

/* Addresses */

/* The text form of address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * comes out as the IPv4 address it stands for. */
static char *
address_to_string (GInetAddress *address)
{
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    {
      const guint8 *bytes = g_inet_address_to_bytes (address);

      if (memcmp (bytes, v4_mapped, sizeof v4_mapped) == 0)
        {
          g_autoptr(GInetAddress) v4 =
            g_inet_address_new_from_bytes (bytes + sizeof v4_mapped,
                                           G_SOCKET_FAMILY_IPV4);

          return g_inet_address_to_string (v4);
        }
    }
  return g_inet_address_to_string (address);
}

/* Only hex digits, dots and colons: no scope id, no host name. */
static gboolean
address_chars_valid (const char *text,
                     gsize       len)
{
  gsize i;

  if (len == 0 || len > ADDRESS_TEXT_MAX)
    return FALSE;
  for (i = 0; i < len; i++)
    if (!g_ascii_isxdigit (text[i]) && text[i] != '.' && text[i] != ':')
      return FALSE;
  return TRUE;
}

/* Parses a numeric address of the given family (G_SOCKET_FAMILY_INVALID:
 * either); returns its normalised text, or NULL. */
static char *
address_parse (const char    *text,
               gsize          len,
               GSocketFamily  family)
{
  g_autofree char *copy = NULL;
  g_autoptr(GInetAddress) address = NULL;

  if (!address_chars_valid (text, len))
    return NULL;
  copy = g_strndup (text, len);
  address = g_inet_address_new_from_string (copy);
  if (address == NULL)
    return NULL;
  if (family != G_SOCKET_FAMILY_INVALID
      && g_inet_address_get_family (address) != family)
    return NULL;
  return address_to_string (address);
}

/* Decimal 0..65535, digits only (no sign, no blank). PROXY v1 also
 * forbids leading zeros. */
static gboolean
port_parse (const char *text,
            gsize       len,
            gboolean    leading_zeros,
            guint16    *port)
{
  guint value = 0;
  gsize i;

  if (len == 0 || len > 5)
    return FALSE;
  if (!leading_zeros && len > 1 && text[0] == '0')
    return FALSE;
  for (i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      value = value * 10 + (guint) (text[i] - '0');
    }
  if (value > G_MAXUINT16)
    return FALSE;
  *port = (guint16) value;
  return TRUE;
}

/* PROXY v1 */

/* Can text (cut short) still grow into a v1 address of family? */
static gboolean
v1_address_prefix_valid (const char    *text,
                         gsize          len,
                         GSocketFamily  family)
{
  gsize i;

  if (len > (family == G_SOCKET_FAMILY_IPV4 ? IPV4_TEXT_MAX : ADDRESS_TEXT_MAX))
    return FALSE;
  for (i = 0; i < len; i++)
    {
      if (g_ascii_isdigit (text[i]) || text[i] == '.')
        continue;
      if (family == G_SOCKET_FAMILY_IPV6
          && (g_ascii_isxdigit (text[i]) || text[i] == ':'))
        continue;
      return FALSE;
    }
  return TRUE;
}

/* Can text (cut short) still grow into a v1 port? */
static gboolean
v1_port_prefix_valid (const char *text,
                      gsize       len)
{
  guint16 ignored;

  return len == 0 || port_parse (text, len, FALSE, &ignored);
}

static gboolean
v1_family_prefix_valid (const char *text,
                        gsize       len)
{
  static const char *const words[] = { "TCP4", "TCP6", "UNKNOWN" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (words); i++)
    if (len <= strlen (words[i]) && memcmp (text, words[i], len) == 0)
      return TRUE;
  return FALSE;
}

/* Checks the text between "PROXY " and the CRLF: "TCP4 <src> <dst>
 * <srcport> <dstport>", "TCP6 ..." or "UNKNOWN[ anything]", fields split
 * by single spaces. When !complete the line is still arriving: every
 * field but the last must be whole and valid, the last must be able to
 * grow into a valid one. When complete, fills info. */
static gboolean
v1_check_line (const char    *line,
               gsize          len,
               gboolean       complete,
               MgwProxyInfo  *info,
               GError       **error)
{
  GSocketFamily family = G_SOCKET_FAMILY_INVALID;
  g_autofree char *source = NULL;
  guint16 source_port = 0;
  gsize start = 0;
  guint field;

  for (field = 0; ; field++)
    {
      const char *text = line + start;
      const char *space = memchr (text, ' ', len - start);
      gsize field_len = space != NULL ? (gsize) (space - text) : len - start;
      gboolean whole = space != NULL || complete;
      g_autofree char *shown = mgw_error_escape (text, field_len);

      if (field == 0)
        {
          if (!whole)
            {
              if (!v1_family_prefix_valid (text, field_len))
                return proxy_error (error, "PROXY v1 header: unknown protocol '%s'", shown);
              return TRUE;
            }
          if (field_len == 7 && memcmp (text, "UNKNOWN", 7) == 0)
            {
              /* The spec has the receiver ignore whatever follows. */
              if (complete)
                {
                  info->local = TRUE;
                  info->address[0] = '\0';
                  info->port = 0;
                }
              return TRUE;
            }
          else if (field_len == 4 && memcmp (text, "TCP4", 4) == 0)
            family = G_SOCKET_FAMILY_IPV4;
          else if (field_len == 4 && memcmp (text, "TCP6", 4) == 0)
            family = G_SOCKET_FAMILY_IPV6;
          else
            return proxy_error (error, "PROXY v1 header: unknown protocol '%s'", shown);
        }
      else if (field > 4)
        return proxy_error (error, "PROXY v1 header: more than five fields");
      else if (whole && field_len == 0)
        return proxy_error (error, "PROXY v1 header: empty field %u (two spaces?)", field);
      else if (field <= 2)
        {
          if (whole)
            {
              g_autofree char *address = address_parse (text, field_len, family);

              if (address == NULL)
                return proxy_error (error, "PROXY v1 header: '%s' is not an %s address",
                                    shown, family == G_SOCKET_FAMILY_IPV4 ? "IPv4" : "IPv6");
              if (field == 1)
                source = g_steal_pointer (&address);
            }
          else if (!v1_address_prefix_valid (text, field_len, family))
            return proxy_error (error, "PROXY v1 header: '%s' is not an %s address",
                                shown, family == G_SOCKET_FAMILY_IPV4 ? "IPv4" : "IPv6");
        }
      else
        {
          guint16 port = 0;

          if (whole ? !port_parse (text, field_len, FALSE, &port)
                    : !v1_port_prefix_valid (text, field_len))
            return proxy_error (error, "PROXY v1 header: bad port '%s'", shown);
          if (whole && field == 3)
            source_port = port;
        }

      if (space == NULL)
        break;
      start += field_len + 1;
    }

  if (!complete)
    return TRUE;
  if (field != 4)
    return proxy_error (error, "PROXY v1 header: %u fields instead of five", field + 1);

  info->local = FALSE;
  g_strlcpy (info->address, source, sizeof info->address);
  info->port = source_port;
  return TRUE;
}

/* data starts with "PROXY " and len >= 6. */
static MgwProxyResult
v1_parse (const guint8  *data,
          gsize          len,
          MgwProxyInfo  *info,
          GError       **error)
{
  gsize limit = MIN (len, MGW_PROXY_V1_MAX);
  gsize line_end = limit;      /* index of the CR, or of the first byte not read yet */
  gboolean complete = FALSE;   /* whether a CRLF (or a CR at the very end of data) ends the line */
  gsize i;

  for (i = V1_SIGNATURE_LEN; i < limit; i++)
    {
      if (data[i] == '\0')
        {
          proxy_error (error, "PROXY v1 header: NUL byte");
          return MGW_PROXY_ERROR;
        }
      if (data[i] == '\n')
        {
          proxy_error (error, "PROXY v1 header: LF without CR");
          return MGW_PROXY_ERROR;
        }
      if (data[i] == '\r')
        {
          if (i + 1 >= MGW_PROXY_V1_MAX)
            break;
          if (i + 1 < len && data[i + 1] != '\n')
            {
              proxy_error (error, "PROXY v1 header: CR not followed by LF");
              return MGW_PROXY_ERROR;
            }
          /* A CR can only be followed by the LF ending the line: check
           * the line as whole even when the LF is still to come. */
          line_end = i;
          complete = TRUE;
          break;
        }
    }

  if (!complete && len >= MGW_PROXY_V1_MAX)
    {
      proxy_error (error, "PROXY v1 header: no CRLF within %d bytes",
                   MGW_PROXY_V1_MAX);
      return MGW_PROXY_ERROR;
    }

  {
    MgwProxyInfo result = { 0 };

    if (!v1_check_line ((const char *) data + V1_SIGNATURE_LEN,
                        line_end - V1_SIGNATURE_LEN, complete, &result, error))
      return MGW_PROXY_ERROR;
    if (!complete || line_end + 1 >= len)
      return MGW_PROXY_NEED_MORE;
    result.header_len = line_end + 2;
    *info = result;
    return MGW_PROXY_DONE;
  }
}

/* PROXY v2 */

/* data starts with the 12-byte signature. */
static MgwProxyResult
v2_parse (const guint8  *data,
          gsize          len,
          MgwProxyInfo  *info,
          GError       **error)
{
  MgwProxyInfo result = { 0 };
  guint version, command, family = V2_FAM_UNSPEC;
  gsize needed = 0;   /* address block bytes the family needs */
  gsize block_len;

  if (len <= 12)
    return MGW_PROXY_NEED_MORE;
  version = data[12] >> 4;
  command = data[12] & 0x0f;
  if (version != 2)
    {
      proxy_error (error, "PROXY v2 header: version %u", version);
      return MGW_PROXY_ERROR;
    }
  if (command != V2_CMD_LOCAL && command != V2_CMD_PROXY)
    {
      proxy_error (error, "PROXY v2 header: unknown command %u", command);
      return MGW_PROXY_ERROR;
    }

  if (len <= 13)
    return MGW_PROXY_NEED_MORE;
  /* With LOCAL the receiver must discard the whole block, family
   * included: only a PROXY command has its family looked at. */
  if (command == V2_CMD_PROXY)
    {
      family = data[13];
      switch (family)
        {
        case V2_FAM_TCP4:
          needed = 12;
          break;
        case V2_FAM_TCP6:
          needed = 36;
          break;
        case V2_FAM_UNSPEC:
        case V2_FAM_UNIX:
        case V2_FAM_UNIX_DGRAM:
          break;
        case V2_FAM_UDP4:
        case V2_FAM_UDP6:
          proxy_error (error, "PROXY v2 header: UDP is not supported");
          return MGW_PROXY_ERROR;
        default:
          proxy_error (error, "PROXY v2 header: unknown address family 0x%02x", family);
          return MGW_PROXY_ERROR;
        }
    }

  if (len < V2_HEADER_LEN)
    return MGW_PROXY_NEED_MORE;
  block_len = ((gsize) data[14] << 8) | data[15];
  if (block_len > V2_MAX_BLOCK)
    {
      proxy_error (error, "PROXY v2 header: address block of %" G_GSIZE_FORMAT
                   " bytes, more than %d", block_len, V2_MAX_BLOCK);
      return MGW_PROXY_ERROR;
    }
  if (block_len < needed)
    {
      proxy_error (error, "PROXY v2 header: address block of %" G_GSIZE_FORMAT
                   " bytes, %s needs %" G_GSIZE_FORMAT, block_len,
                   family == V2_FAM_TCP4 ? "TCP/IPv4" : "TCP/IPv6", needed);
      return MGW_PROXY_ERROR;
    }
  if (len < V2_HEADER_LEN + block_len)
    return MGW_PROXY_NEED_MORE;

  result.header_len = V2_HEADER_LEN + block_len;
  if (command == V2_CMD_PROXY && (family == V2_FAM_TCP4 || family == V2_FAM_TCP6))
    {
      const guint8 *block = data + V2_HEADER_LEN;
      gboolean v4 = family == V2_FAM_TCP4;
      gsize address_size = v4 ? 4 : 16;
      g_autoptr(GInetAddress) address =
        g_inet_address_new_from_bytes (block, v4 ? G_SOCKET_FAMILY_IPV4
                                                 : G_SOCKET_FAMILY_IPV6);
      g_autofree char *text = address_to_string (address);
      const guint8 *port = block + 2 * address_size;   /* source port, then destination port */

      g_strlcpy (result.address, text, sizeof result.address);
      result.port = (guint16) ((port[0] << 8) | port[1]);
    }
  else
    result.local = TRUE;

  /* TLVs past the addresses are skipped. */
  *info = result;
  return MGW_PROXY_DONE;
}

MgwProxyResult
mgw_proxy_parse (const guint8  *data,
                 gsize          len,
                 MgwProxyInfo  *info,
                 GError       **error)
{
  g_return_val_if_fail (data != NULL || len == 0, MGW_PROXY_ERROR);
  g_return_val_if_fail (info != NULL, MGW_PROXY_ERROR);
  g_return_val_if_fail (error == NULL || *error == NULL, MGW_PROXY_ERROR);

  if (len == 0)
    return MGW_PROXY_NEED_MORE;
  if (prefix_matches (data, len, V1_SIGNATURE, V1_SIGNATURE_LEN))
    {
      if (len < V1_SIGNATURE_LEN)
        return MGW_PROXY_NEED_MORE;
      return v1_parse (data, len, info, error);
    }
  if (prefix_matches (data, len, V2_SIGNATURE, V2_SIGNATURE_LEN))
    {
      if (len < V2_SIGNATURE_LEN)
        return MGW_PROXY_NEED_MORE;
      return v2_parse (data, len, info, error);
    }
  return MGW_PROXY_ABSENT;
}

/* What starts a header for mgw_proxy_detect(): the v1 signature with
 * its protocol word, or the whole v2 signature. */
static const struct {
  const char *text;
  gsize       len;
} header_starts[] = {
  { V1_SIGNATURE "TCP4 ", V1_SIGNATURE_LEN + 5 },
  { V1_SIGNATURE "TCP6 ", V1_SIGNATURE_LEN + 5 },
  { V1_SIGNATURE "UNKNOWN", V1_SIGNATURE_LEN + 7 },
  { V2_SIGNATURE, V2_SIGNATURE_LEN },
};

MgwProxyResult
mgw_proxy_detect (const guint8 *data,
                  gsize         len)
{
  MgwProxyResult result = MGW_PROXY_ABSENT;

  g_return_val_if_fail (data != NULL || len == 0, MGW_PROXY_ABSENT);

  for (gsize i = 0; i < G_N_ELEMENTS (header_starts); i++)
    {
      if (!prefix_matches (data, len, header_starts[i].text, header_starts[i].len))
        continue;
      if (len >= header_starts[i].len)
        return MGW_PROXY_DONE;
      result = MGW_PROXY_NEED_MORE;
    }
  return result;
}

/* Forwarded / X-Forwarded-For */

static gboolean
is_ows (char c)
{
  return c == ' ' || c == '\t';
}

/* Narrows [*start, *start + *len) to leave out blanks at both ends. */
static void
trim (const char **start,
      gsize       *len)
{
  while (*len > 0 && is_ows ((*start)[0]))
    {
      (*start)++;
      (*len)--;
    }
  while (*len > 0 && is_ows ((*start)[*len - 1]))
    (*len)--;
}

/* A node: IPv4, bare IPv6, [IPv6], [IPv6]:port or IPv4:port. With
 * obfuscated_port, a port may also be an RFC 7239 "_xyz" identifier,
 * which yields port 0. */
static gboolean
node_parse (const char  *text,
            gsize        len,
            gboolean     obfuscated_port,
            char       **address,
            guint16     *port)
{
  g_autofree char *parsed = NULL;
  const char *port_text = NULL;
  gsize port_len = 0;
  guint16 value = 0;

  if (len > 0 && text[0] == '[')
    {
      const char *close = memchr (text, ']', len);
      gsize rest;

      if (close == NULL)
        return FALSE;
      parsed = address_parse (text + 1, (gsize) (close - text) - 1,
                              G_SOCKET_FAMILY_IPV6);
      if (parsed == NULL)
        return FALSE;
      rest = len - (gsize) (close + 1 - text);
      if (rest > 0)
        {
          if (close[1] != ':')
            return FALSE;
          port_text = close + 2;
          port_len = rest - 1;
        }
    }
  else
    {
      parsed = address_parse (text, len, G_SOCKET_FAMILY_INVALID);
      if (parsed == NULL)
        {
          const char *colon = memchr (text, ':', len);

          /* IPv4:port has a single colon. */
          if (colon == NULL)
            return FALSE;
          port_text = colon + 1;
          port_len = len - (gsize) (port_text - text);
          if (memchr (port_text, ':', port_len) != NULL)
            return FALSE;
          parsed = address_parse (text, (gsize) (colon - text), G_SOCKET_FAMILY_IPV4);
          if (parsed == NULL)
            return FALSE;
        }
    }

  if (port_text != NULL)
    {
      if (obfuscated_port && port_len > 1 && port_text[0] == '_')
        {
          gsize i;

          for (i = 1; i < port_len; i++)
            if (!g_ascii_isalnum (port_text[i]) && strchr ("._-", port_text[i]) == NULL)
              return FALSE;
        }
      else if (!port_parse (port_text, port_len, TRUE, &value))
        return FALSE;
    }

  *address = g_steal_pointer (&parsed);
  *port = value;
  return TRUE;
}

/* The next part of [text, text + len) up to sep or the end, starting at
 * *pos, with sep inside quoted strings left alone. Returns FALSE past the
 * end. Quoting must have been checked already. */
static gboolean
next_part (const char  *text,
           gsize        len,
           char         sep,
           gsize       *pos,
           const char **part,
           gsize       *part_len)
{
  gboolean quoted = FALSE;
  gsize i;

  if (*pos > len)
    return FALSE;
  for (i = *pos; i < len; i++)
    {
      if (quoted)
        {
          if (text[i] == '\\')
            i++;
          else if (text[i] == '"')
            quoted = FALSE;
        }
      else if (text[i] == '"')
        quoted = TRUE;
      else if (text[i] == sep)
        break;
    }
  i = MIN (i, len);
  *part = text + *pos;
  *part_len = i - *pos;
  *pos = i + 1;
  return TRUE;
}

/* TRUE when every quoted string is closed and no backslash ends one. */
static gboolean
quotes_balanced (const char *text)
{
  gboolean quoted = FALSE;

  for (; *text != '\0'; text++)
    {
      if (!quoted)
        quoted = *text == '"';
      else if (*text == '\\')
        {
          if (text[1] == '\0')
            return FALSE;
          text++;
        }
      else if (*text == '"')
        quoted = FALSE;
    }
  return !quoted;
}

/* A parameter value: a token, or a quoted string that takes the whole
 * value; returns it unquoted, or NULL. */
static char *
value_unquote (const char *text,
               gsize       len)
{
  g_autoptr(GString) value = NULL;
  gsize i;

  if (len == 0 || text[0] != '"')
    {
      for (i = 0; i < len; i++)
        if (is_ows (text[i]) || text[i] == '"' || g_ascii_iscntrl (text[i]))
          return NULL;
      return g_strndup (text, len);
    }

  value = g_string_new (NULL);
  for (i = 1; i < len; i++)
    {
      if (text[i] == '\\' && i + 1 < len)
        g_string_append_c (value, text[++i]);
      else if (text[i] == '"')
        break;
      else
        g_string_append_c (value, text[i]);
    }
  if (i != len - 1)   /* unclosed, or something after the closing quote */
    return NULL;
  return g_string_free (g_steal_pointer (&value), FALSE);
}

/* One Forwarded element: pairs name=value split by ';'. */
static gboolean
forwarded_element_parse (const char  *element,
                         gsize        len,
                         char       **address,
                         guint16     *port)
{
  g_autofree char *node = NULL;
  const char *pair;
  gsize pair_len;
  gsize pos = 0;

  while (next_part (element, len, ';', &pos, &pair, &pair_len))
    {
      const char *equals;
      gsize name_len;
      gsize i;

      trim (&pair, &pair_len);
      if (pair_len == 0)
        continue;
      equals = memchr (pair, '=', pair_len);
      if (equals == NULL || equals == pair)
        return FALSE;
      name_len = (gsize) (equals - pair);
      for (i = 0; i < name_len; i++)
        if (!g_ascii_isalnum (pair[i]) && strchr ("!#$%&'*+-.^_`|~", pair[i]) == NULL)
          return FALSE;
      if (name_len == 3 && g_ascii_strncasecmp (pair, "for", 3) == 0)
        {
          if (node != NULL)   /* at most once per element */
            return FALSE;
          node = value_unquote (equals + 1, pair_len - name_len - 1);
          if (node == NULL)
            return FALSE;
        }
    }

  if (node == NULL)
    return FALSE;
  /* "unknown" and "_obfuscated" identify no address. */
  if (g_ascii_strcasecmp (node, "unknown") == 0 || node[0] == '_')
    return FALSE;
  return node_parse (node, strlen (node), TRUE, address, port);
}

/* RFC 7239: the last element (the one the nearest proxy added). Empty
 * list elements are ignored. */
static gboolean
forwarded_parse (const char  *header,
                 char       **address,
                 guint16     *port)
{
  const char *last = NULL;
  gsize last_len = 0;
  const char *element;
  gsize element_len;
  gsize len = strlen (header);
  gsize pos = 0;

  if (!quotes_balanced (header))
    return FALSE;
  while (next_part (header, len, ',', &pos, &element, &element_len))
    {
      trim (&element, &element_len);
      if (element_len > 0)
        {
          last = element;
          last_len = element_len;
        }
    }
  if (last == NULL)
    return FALSE;
  return forwarded_element_parse (last, last_len, address, port);
}

/* X-Forwarded-For: the last entry (the one the nearest proxy added).
 * Empty entries are ignored. */
static gboolean
x_forwarded_for_parse (const char  *header,
                       char       **address,
                       guint16     *port)
{
  const char *last = NULL;
  gsize last_len = 0;
  const char *entry = header;

  for (;;)
    {
      const char *comma = strchr (entry, ',');
      gsize entry_len = comma != NULL ? (gsize) (comma - entry) : strlen (entry);
      const char *trimmed = entry;

      trim (&trimmed, &entry_len);
      if (entry_len > 0)
        {
          last = trimmed;
          last_len = entry_len;
        }
      if (comma == NULL)
        break;
      entry = comma + 1;
    }
  if (last == NULL)
    return FALSE;
  return node_parse (last, last_len, FALSE, address, port);
}

gboolean
mgw_proxy_parse_forwarded (const char  *forwarded,
                           const char  *x_forwarded_for,
                           char       **address,
                           guint16     *port)
{
  g_autofree char *found = NULL;
  guint16 found_port = 0;

  g_return_val_if_fail (address != NULL, FALSE);

  if ((forwarded == NULL || !forwarded_parse (forwarded, &found, &found_port))
      && (x_forwarded_for == NULL
          || !x_forwarded_for_parse (x_forwarded_for, &found, &found_port)))
    return FALSE;

  *address = g_steal_pointer (&found);
  if (port != NULL)
    *port = found_port;
  return TRUE;
}
