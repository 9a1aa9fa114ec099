/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-values.c: the value parsers of the configuration file, the command
 * line and the command channel (ports, ping intervals, subprotocol lists,
 * durations, addresses, frame types). Pure: text in, value or error out. */
#include "config.h"

#include "mgw-values.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <string.h>

gboolean
mgw_value_parse_uint (const char  *text,
                      guint64      max,
                      guint64     *value,
                      GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *copy = g_strstrip (g_strdup (text));

  if (!g_ascii_string_to_unsigned (copy, 10, 0, max, value, &local))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("'%s' is not a whole number between 0 and %llu"),
                   text, (unsigned long long) max);
      return FALSE;
    }
  return TRUE;
}

/* A size: a whole number of bytes, or of K, M, G or T (powers of 1024). */
gboolean
mgw_value_parse_bytes (const char  *text,
                       guint64     *value,
                       GError     **error)
{
  static const char units[] = "KMGT";
  g_autofree char *copy = g_strstrip (g_strdup (text));
  gsize len = strlen (copy);
  const char *unit = len > 0 ? strchr (units, g_ascii_toupper (copy[len - 1])) : NULL;
  guint64 number, scale = 1;

  if (unit != NULL && *unit != '\0')
    {
      copy[len - 1] = '\0';
      scale = G_GUINT64_CONSTANT (1) << (10 * (unit - units + 1));
    }
  if (!g_ascii_string_to_unsigned (copy, 10, 0, MGW_VALUE_BYTES_MAX / scale, &number, NULL))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("'%s' is not a size (bytes, or a number followed by K, M, G or T) of at most 1T"),
                   text);
      return FALSE;
    }
  *value = number * scale;
  return TRUE;
}

gboolean
mgw_value_parse_port (const char  *text,
                      int         *port,
                      GError     **error)
{
  guint64 value;

  if (g_ascii_strcasecmp (text, "off") == 0 || *text == '\0')
    {
      *port = MGW_PORT_OFF;
      return TRUE;
    }
  if (!mgw_value_parse_uint (text, 65535, &value, error))
    return FALSE;
  *port = (int) value;
  return TRUE;
}

/* `None` (as in the original's -p) or a whole number of seconds. */
gboolean
mgw_value_parse_ping (const char  *text,
                      guint       *seconds,
                      GError     **error)
{
  guint64 value;

  if (g_ascii_strcasecmp (text, "None") == 0)
    {
      *seconds = 0;
      return TRUE;
    }
  if (!mgw_value_parse_uint (text, 86400, &value, error))
    return FALSE;
  *seconds = (guint) value;
  return TRUE;
}

static gboolean
valid_token (const char *s)
{
  /* RFC 6455: a subprotocol is an HTTP token. */
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if (*s <= 0x20 || *s >= 0x7f || strchr ("()<>@,;:\\\"/[]?={}", *s))
      return FALSE;
  return TRUE;
}

/* A Python list literal as the original's -b takes (`["binary","tty"]`,
 * `['tty']`, `[]`) or a plain comma-separated list. */
gboolean
mgw_value_parse_subprotocols (const char   *text,
                              char       ***protocols,
                              GError      **error)
{
  g_autofree char *body = g_strstrip (g_strdup (text));
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
  gsize len = strlen (body);

  if (len > 0 && body[0] == '[')
    {
      if (body[len - 1] != ']')
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("subprotocol list '%s' does not end with ']'"), text);
          return FALSE;
        }
      body[len - 1] = '\0';
      memmove (body, body + 1, len - 1);
    }

  g_auto(GStrv) items = g_strsplit (body, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      char *item = g_strstrip (items[i]);
      gsize n = strlen (item);

      if (n == 0 && items[1] == NULL)
        break;  /* empty list */
      if (n >= 2 && (item[0] == '"' || item[0] == '\'') && item[n - 1] == item[0])
        {
          item[n - 1] = '\0';
          item++;
        }
      if (!valid_token (item))
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("'%s' in subprotocol list '%s' is not a valid subprotocol name"),
                       item, text);
          return FALSE;
        }
      g_ptr_array_add (list, g_strdup (item));
    }
  g_ptr_array_add (list, NULL);
  *protocols = (char **) g_ptr_array_steal (list, NULL);
  return TRUE;
}

/* Seconds, fractions allowed ("1", "0.5"), into milliseconds. */
gboolean
mgw_value_parse_seconds_ms (const char  *text,
                            guint       *ms,
                            GError     **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  char *end = NULL;
  double value = g_ascii_strtod (copy, &end);

  if (*copy == '\0' || end == NULL || *end != '\0' || !(value >= 0) || value > 86400)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("'%s' is not a number of seconds between 0 and 86400"), text);
      return FALSE;
    }
  *ms = (guint) (value * 1000 + 0.5);
  return TRUE;
}

/* An IP address or a CIDR prefix ("192.0.2.0/24", "2001:db8::/32"). */
gboolean
mgw_value_check_prefix (const char  *text,
                        GError     **error)
{
  g_autoptr(GInetAddressMask) mask = g_inet_address_mask_new_from_string (text, NULL);

  if (mask == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("'%s' is not an IP address or prefix"), text);
      return FALSE;
    }
  return TRUE;
}

gboolean
mgw_value_parse_frame_type (const char    *text,
                            MgwFrameType  *type,
                            GError       **error)
{
  if (g_ascii_strcasecmp (text, "text") == 0)
    *type = MGW_FRAME_TEXT;
  else if (g_ascii_strcasecmp (text, "binary") == 0)
    *type = MGW_FRAME_BINARY;
  else
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("frame type '%s' is neither 'text' nor 'binary'"), text);
      return FALSE;
    }
  return TRUE;
}

gboolean
mgw_value_check_addresses (char   **list,
                           GError **error)
{
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    {
      g_autoptr(GInetAddress) addr = g_inet_address_new_from_string (list[i]);
      if (addr == NULL)
        {
          g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                       _("'%s' is not an IP address"), list[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* "ADDRESS:PORT" or "[IPV6]:PORT", the address an IP literal, the port
 * 1 to 65535: where a TCP server listens. */
gboolean
mgw_value_parse_listen (const char  *text,
                        char       **address,
                        guint16     *port,
                        GError     **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  g_autoptr(GInetAddress) inet = NULL;
  const char *host = copy;
  char *colon;
  guint64 number;

  if (copy[0] == '[')
    {
      char *close = strchr (copy, ']');

      if (close == NULL || close[1] != ':')
        goto bad;
      *close = '\0';
      host = copy + 1;
      colon = close + 1;
    }
  else
    {
      colon = strrchr (copy, ':');
      /* Several colons: an IPv6 address, which needs its brackets. */
      if (colon == NULL || strchr (copy, ':') != colon)
        goto bad;
      *colon = '\0';
    }
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL ||
      (copy[0] == '[') != (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6) ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &number, NULL))
    goto bad;
  if (address != NULL)
    *address = g_strdup (host);
  if (port != NULL)
    *port = (guint16) number;
  return TRUE;

bad:
  g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
               _("'%s' is not ADDRESS:PORT (an IP address and a port from 1 to 65535, "
                 "e.g. 127.0.0.1:9002 or [::1]:9002)"), text);
  return FALSE;
}
