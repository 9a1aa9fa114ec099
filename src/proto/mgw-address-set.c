/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-address-set.c: a set of IP addresses and CIDR prefixes.
 *
 * Exact addresses live in a hash table keyed by their canonical text
 * (g_inet_address_to_string, an IPv4-mapped IPv6 address as its IPv4 form),
 * so a lookup costs one parse and one hash; prefixes are few and are
 * checked one by one with g_inet_address_mask_matches. A prefix as long as
 * the address (/32, /128) is an exact address. Used for neverbanned.json
 * (whose keys may be prefixes, beyond the original) and for the addresses
 * of the machine itself, which are never banned either. */
#include "config.h"

#include "mgw-address-set.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

struct _MgwAddressSet
{
  GHashTable *exact;   /* canonical text -> itself */
  GPtrArray  *masks;   /* of GInetAddressMask */
};

static GHashTable *
exact_table_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static GPtrArray *
mask_array_new (void)
{
  return g_ptr_array_new_with_free_func (g_object_unref);
}

MgwAddressSet *
mgw_address_set_new (void)
{
  MgwAddressSet *set = g_new0 (MgwAddressSet, 1);

  set->exact = exact_table_new ();
  set->masks = mask_array_new ();
  return set;
}

void
mgw_address_set_free (MgwAddressSet *set)
{
  if (set == NULL)
    return;
  g_hash_table_unref (set->exact);
  g_ptr_array_unref (set->masks);
  g_free (set);
}

void
mgw_address_set_clear (MgwAddressSet *set)
{
  g_return_if_fail (set != NULL);

  g_hash_table_remove_all (set->exact);
  g_ptr_array_set_size (set->masks, 0);
}

guint
mgw_address_set_get_size (MgwAddressSet *set)
{
  g_return_val_if_fail (set != NULL, 0);

  return g_hash_table_size (set->exact) + set->masks->len;
}

static gboolean
is_v4_mapped (GInetAddress *address)
{
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  return g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 &&
         memcmp (g_inet_address_to_bytes (address), prefix, sizeof prefix) == 0;
}

/* The address as written, without its zone ("fe80::1%eth0"). */
static GInetAddress *
parse_raw (const char *text)
{
  const char *zone;
  g_autofree char *bare = NULL;

  if (text == NULL || *text == '\0')
    return NULL;
  zone = strchr (text, '%');
  if (zone != NULL)
    {
      if (zone == text || zone[1] == '\0')
        return NULL;
      bare = g_strndup (text, zone - text);
      text = bare;
    }
  return g_inet_address_new_from_string (text);
}

/* A new reference: the IPv4 form of an IPv4-mapped address, else the
 * address itself. */
static GInetAddress *
unmap (GInetAddress *address)
{
  if (is_v4_mapped (address))
    return g_inet_address_new_from_bytes (g_inet_address_to_bytes (address) + 12,
                                          G_SOCKET_FAMILY_IPV4);
  return g_object_ref (address);
}

gboolean
mgw_address_is_peer (const char *address)
{
  g_autoptr(GInetAddress) inet = mgw_address_parse (address);
  static const guint8 broadcast[4] = { 255, 255, 255, 255 };

  if (inet == NULL)
    return FALSE;
  if (g_inet_address_get_is_any (inet) || g_inet_address_get_is_multicast (inet))
    return FALSE;
  return !(g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV4 &&
           memcmp (g_inet_address_to_bytes (inet), broadcast, 4) == 0);
}

char *
mgw_address_with_port (const char *address,
                       guint       port)
{
  g_return_val_if_fail (address != NULL, NULL);

  return g_strdup_printf (strchr (address, ':') != NULL ? "[%s]:%u" : "%s:%u", address, port);
}

GInetAddress *
mgw_address_parse (const char *address)
{
  g_autoptr(GInetAddress) raw = parse_raw (address);

  return raw != NULL ? unmap (raw) : NULL;
}

char *
mgw_address_normalize (const char *address)
{
  g_autoptr(GInetAddress) canonical = mgw_address_parse (address);

  return canonical != NULL ? g_inet_address_to_string (canonical) : NULL;
}

static void
add_exact (GHashTable   *exact,
           GInetAddress *address)
{
  g_hash_table_add (exact, g_inet_address_to_string (address));
}

static void
add_mask (GPtrArray        *masks,
          GInetAddressMask *mask)
{
  for (guint i = 0; i < masks->len; i++)
    if (g_inet_address_mask_equal (masks->pdata[i], mask))
      return;
  g_ptr_array_add (masks, g_object_ref (mask));
}

static gboolean
bad_entry (GError    **error,
           const char *text,
           const char *what)
{
  g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "\"%s\": %s", text, what);
  return FALSE;
}

static gboolean
add_to (GHashTable  *exact,
        GPtrArray   *masks,
        const char  *text,
        GError     **error)
{
  const char *slash;
  g_autofree char *address_text = NULL;
  g_autoptr(GInetAddress) raw = NULL;
  g_autoptr(GInetAddress) network = NULL;
  g_autoptr(GInetAddressMask) mask = NULL;
  guint8 bytes[16];
  gsize size;
  guint length = 0;

  g_return_val_if_fail (text != NULL, FALSE);

  slash = strchr (text, '/');
  if (slash == NULL)
    {
      raw = parse_raw (text);
      if (raw == NULL)
        return bad_entry (error, text, _("not an IP address"));
      network = unmap (raw);
      add_exact (exact, network);
      return TRUE;
    }

  address_text = g_strndup (text, slash - text);
  raw = g_inet_address_new_from_string (address_text);
  if (raw == NULL)
    return bad_entry (error, text, _("not an IP address prefix"));
  size = g_inet_address_get_native_size (raw);
  if (slash[1] == '\0' || strlen (slash + 1) > 3)
    return bad_entry (error, text, _("bad prefix length"));
  for (const char *p = slash + 1; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return bad_entry (error, text, _("bad prefix length"));
      length = length * 10 + (guint) (*p - '0');
    }
  if (length > size * 8)
    return bad_entry (error, text, _("bad prefix length"));

  memcpy (bytes, g_inet_address_to_bytes (raw), size);
  if (is_v4_mapped (raw) && length >= 96)
    {
      /* ::ffff:192.168.0.0/112 is 192.168.0.0/16. */
      memmove (bytes, bytes + 12, 4);
      size = 4;
      length -= 96;
    }
  /* Host bits beyond the prefix are ignored. */
  for (guint bit = length; bit < size * 8; bit++)
    bytes[bit / 8] &= (guint8) ~(0x80u >> (bit % 8));
  network = g_inet_address_new_from_bytes (bytes, size == 4 ? G_SOCKET_FAMILY_IPV4
                                                             : G_SOCKET_FAMILY_IPV6);
  if (length == size * 8)
    {
      add_exact (exact, network);
      return TRUE;
    }
  mask = g_inet_address_mask_new (network, length, error);
  if (mask == NULL)
    return FALSE;
  add_mask (masks, mask);
  return TRUE;
}

gboolean
mgw_address_set_add (MgwAddressSet  *set,
                     const char     *address_or_prefix,
                     GError        **error)
{
  g_return_val_if_fail (set != NULL, FALSE);
  g_return_val_if_fail (address_or_prefix != NULL, FALSE);

  return add_to (set->exact, set->masks, address_or_prefix, error);
}

gboolean
mgw_address_set_contains (MgwAddressSet *set,
                          const char    *address)
{
  g_autoptr(GInetAddress) raw = NULL;
  g_autoptr(GInetAddress) canonical = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail (set != NULL, FALSE);

  if (address == NULL)
    return FALSE;
  /* Usually the text is already canonical. */
  if (g_hash_table_contains (set->exact, address))
    return TRUE;
  raw = parse_raw (address);
  if (raw == NULL)
    return FALSE;
  canonical = unmap (raw);
  text = g_inet_address_to_string (canonical);
  if (g_hash_table_contains (set->exact, text))
    return TRUE;
  for (guint i = 0; i < set->masks->len; i++)
    {
      GInetAddressMask *mask = set->masks->pdata[i];

      /* Both forms of a mapped address: its IPv4 prefixes and
       * ::ffff:0:0/96-style IPv6 ones. */
      if (g_inet_address_mask_matches (mask, canonical) ||
          (canonical != raw && g_inet_address_mask_matches (mask, raw)))
        return TRUE;
    }
  return FALSE;
}

gboolean
mgw_address_set_load_never_ban (MgwAddressSet  *set,
                                const char     *path,
                                GError        **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GList) members = NULL;
  JsonNode *root;
  JsonObject *object;
  gsize len;

  g_return_val_if_fail (set != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!mgw_file_get_contents_max (path, MGW_JSON_FILE_MAX, MGW_FILE_DEFAULT, &data, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          mgw_address_set_clear (set);
          return TRUE;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local))
    {
      mgw_error_set_in_file (error, path, local);
      return FALSE;
    }
  /* An empty file parses to no root at all. */
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("%s: not a JSON object {\"address or prefix\": \"label\", ...}"), path);
      return FALSE;
    }

  mgw_address_set_clear (set);
  object = json_node_get_object (root);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      g_autoptr(GError) entry_error = NULL;

      if (!mgw_address_set_add (set, l->data, &entry_error))
        g_warning ("%s: %s, ignored", path, entry_error->message);
    }
  return TRUE;
}

/* The machine's addresses, every interface, IPv4 and IPv6, from
 * getifaddrs(): an array of (interface, address) string pairs, flat. */
GPtrArray *
mgw_local_addresses (GError **error)
{
  struct ifaddrs *list = NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  if (getifaddrs (&list) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED,
                   _("Cannot list the addresses of this machine: %s"),
                   g_strerror (saved_errno));
      return NULL;
    }
  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      g_autoptr(GInetAddress) address = NULL;
      g_autoptr(GInetAddress) canonical = NULL;

      if (ifa->ifa_addr == NULL)
        continue;
      if (ifa->ifa_addr->sa_family == AF_INET)
        {
          const struct sockaddr_in *sin = (const struct sockaddr_in *) (gpointer) ifa->ifa_addr;
          address = g_inet_address_new_from_bytes ((const guint8 *) &sin->sin_addr,
                                                   G_SOCKET_FAMILY_IPV4);
        }
      else if (ifa->ifa_addr->sa_family == AF_INET6)
        {
          const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) (gpointer) ifa->ifa_addr;
          address = g_inet_address_new_from_bytes ((const guint8 *) &sin6->sin6_addr,
                                                   G_SOCKET_FAMILY_IPV6);
        }
      else
        continue;
      canonical = unmap (address);
      g_ptr_array_add (out, g_strdup (ifa->ifa_name));
      g_ptr_array_add (out, g_inet_address_to_string (canonical));
    }
  freeifaddrs (list);
  return g_steal_pointer (&out);
}

gboolean
mgw_address_set_load_local (MgwAddressSet  *set,
                            GError        **error)
{
  g_autoptr(GPtrArray) local = NULL;
  g_autoptr(GHashTable) exact = NULL;
  g_autoptr(GPtrArray) masks = NULL;

  g_return_val_if_fail (set != NULL, FALSE);

  local = mgw_local_addresses (error);
  if (local == NULL)
    return FALSE;
  exact = exact_table_new ();
  masks = mask_array_new ();
  for (guint i = 1; i < local->len; i += 2)
    add_to (exact, masks, local->pdata[i], NULL);

  /* The whole of 127/8 reaches this machine, as does ::1 even where the
   * loopback interface has no IPv6 address. */
  add_to (exact, masks, "127.0.0.0/8", NULL);
  add_to (exact, masks, "::1", NULL);

  g_hash_table_unref (set->exact);
  set->exact = g_steal_pointer (&exact);
  g_ptr_array_unref (set->masks);
  set->masks = g_steal_pointer (&masks);
  return TRUE;
}
