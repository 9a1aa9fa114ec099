/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-profiles.c: per-target profiles for redirections.
 *
 * Servers differ: one needs subprotocol tty and a 10 s ping, another
 * rejects pings, another ignores Connexion/Fin. profiles.json (in the
 * configuration directory) maps a target URI, "host:port" ("[v6]:port")
 * or "host" to its settings:
 *
 *   { "ws://example.org:8080/": { "ping": 10, "subprotocols": ["tty"],
 *                                 "frame-type": "binary",
 *                                 "connexion-fin": "forward",
 *                                 "return-keys": ["'***' Sommaire"] },
 *     "example.net": { "ping": null, "return-keys": [] } }
 *
 * Loading is all or nothing: a bad file leaves the previous profiles. */
#include "config.h"

#include "mgw-profiles.h"
#include "mgw-values.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

struct _MgwProfiles
{
  GHashTable *table;   /* key -> MgwProfile */
};

static void
profile_free (MgwProfile *profile)
{
  g_strfreev (profile->subprotocols);
  g_free (profile);
}

MgwProfiles *
mgw_profiles_new (void)
{
  MgwProfiles *profiles = g_new0 (MgwProfiles, 1);

  profiles->table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) profile_free);
  return profiles;
}

void
mgw_profiles_free (MgwProfiles *profiles)
{
  if (profiles == NULL)
    return;
  g_hash_table_unref (profiles->table);
  g_free (profiles);
}

static gboolean
bad (GError    **error,
     const char *key,
     const char *what)
{
  g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("profile '%s': %s"), key, what);
  return FALSE;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwProfile, profile_free)

static MgwProfile *
parse_profile (const char  *key,
               JsonNode    *node,
               GError     **error)
{
  g_autoptr(MgwProfile) profile = g_new0 (MgwProfile, 1);
  JsonObject *object;
  g_autoptr(GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      bad (error, key, _("not a JSON object"));
      return NULL;
    }
  object = json_node_get_object (node);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *value = json_object_get_member (object, name);

      if (strcmp (name, "ping") == 0)
        {
          if (JSON_NODE_HOLDS_NULL (value))
            {
              profile->has_ping = TRUE;
              profile->ping = 0;
            }
          else if (json_node_get_value_type (value) == G_TYPE_INT64 &&
                   json_node_get_int (value) >= 0 && json_node_get_int (value) <= 86400)
            {
              profile->has_ping = TRUE;
              profile->ping = (guint) json_node_get_int (value);
            }
          else
            return bad (error, key, _("\"ping\" is neither null nor a number of seconds")), NULL;
        }
      else if (strcmp (name, "subprotocols") == 0)
        {
          JsonArray *array;
          g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (g_free);

          if (!JSON_NODE_HOLDS_ARRAY (value))
            return bad (error, key, _("\"subprotocols\" is not a list")), NULL;
          array = json_node_get_array (value);
          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *item = json_array_get_element (array, i);
              g_auto(GStrv) check = NULL;
              if (json_node_get_value_type (item) != G_TYPE_STRING ||
                  !mgw_value_parse_subprotocols (json_node_get_string (item), &check, NULL) ||
                  g_strv_length (check) != 1)
                return bad (error, key, _("\"subprotocols\" holds something that is not a subprotocol name")), NULL;
              g_ptr_array_add (list, g_strdup (check[0]));
            }
          g_ptr_array_add (list, NULL);
          profile->subprotocols = (char **) g_ptr_array_steal (list, NULL);
        }
      else if (strcmp (name, "frame-type") == 0)
        {
          if (json_node_get_value_type (value) != G_TYPE_STRING ||
              !mgw_value_parse_frame_type (json_node_get_string (value),
                                           &profile->frame_type, NULL))
            return bad (error, key, _("\"frame-type\" is neither \"text\" nor \"binary\"")), NULL;
          profile->has_frame_type = TRUE;
        }
      else if (strcmp (name, "connexion-fin") == 0)
        {
          const char *text = json_node_get_value_type (value) == G_TYPE_STRING ?
                             json_node_get_string (value) : "";
          if (strcmp (text, "gateway") == 0)
            profile->fin = MGW_FIN_GATEWAY;
          else if (strcmp (text, "forward") == 0)
            profile->fin = MGW_FIN_FORWARD;
          else
            return bad (error, key, _("\"connexion-fin\" is neither \"gateway\" nor \"forward\"")), NULL;
        }
      else if (strcmp (name, "return-keys") == 0)
        {
          JsonArray *array;

          if (!JSON_NODE_HOLDS_ARRAY (value))
            return bad (error, key, _("\"return-keys\" is not a list of sequences")), NULL;
          array = json_node_get_array (value);
          memset (&profile->return_keys, 0, sizeof profile->return_keys);
          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *item = json_array_get_element (array, i);
              g_autoptr(GError) local = NULL;
              g_autofree char *what = NULL;

              if (json_node_get_value_type (item) != G_TYPE_STRING)
                return bad (error, key, _("\"return-keys\" holds something that is not a string")), NULL;
              if (!mgw_return_keys_add_text (&profile->return_keys, json_node_get_string (item),
                                             &local))
                {
                  what = g_strdup_printf (_("\"return-keys\": %s"), local->message);
                  return bad (error, key, what), NULL;
                }
            }
          profile->has_return_keys = TRUE;
        }
      else
        {
          g_autofree char *what = g_strdup_printf (_("unknown setting \"%s\""), name);
          return bad (error, key, what), NULL;
        }
    }
  return g_steal_pointer (&profile);
}

gboolean
mgw_profiles_load_data (MgwProfiles  *profiles,
                        const char   *data,
                        gssize        len,
                        GError      **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GHashTable) table = NULL;
  g_autoptr(GList) members = NULL;
  JsonObject *root;

  if (!json_parser_load_from_data (parser, data, len, error))
    return FALSE;
  /* An empty file parses to no root at all. */
  if (json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error_literal (error, MGW_ERROR, MGW_ERROR_CONFIG,
                           _("profiles: the file is not a JSON object"));
      return FALSE;
    }
  table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                 (GDestroyNotify) profile_free);
  root = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (root);
  for (GList *l = members; l != NULL; l = l->next)
    {
      MgwProfile *profile = parse_profile (l->data, json_object_get_member (root, l->data),
                                           error);
      if (profile == NULL)
        return FALSE;
      g_hash_table_replace (table, g_ascii_strdown (l->data, -1), profile);
    }
  g_hash_table_unref (profiles->table);
  profiles->table = g_steal_pointer (&table);
  return TRUE;
}

/* A missing file is an empty set of profiles. */
gboolean
mgw_profiles_load_file (MgwProfiles  *profiles,
                        const char   *path,
                        GError      **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  gsize len;

  if (!mgw_file_get_contents_max (path, MGW_JSON_FILE_MAX, MGW_FILE_DEFAULT, &data, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_hash_table_remove_all (profiles->table);
          return TRUE;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!mgw_profiles_load_data (profiles, data, len, &local))
    {
      mgw_error_set_in_file (error, path, local);
      return FALSE;
    }
  return TRUE;
}

const MgwProfile *
mgw_profiles_lookup (MgwProfiles *profiles,
                     const char  *uri)
{
  g_autoptr(GUri) parsed = NULL;
  g_autofree char *key = NULL;
  const MgwProfile *profile;

  if (g_hash_table_size (profiles->table) == 0)
    return NULL;
  key = g_ascii_strdown (uri, -1);
  profile = g_hash_table_lookup (profiles->table, key);
  if (profile != NULL)
    return profile;
  parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  if (parsed == NULL || g_uri_get_host (parsed) == NULL)
    return NULL;
  g_free (key);
  key = g_ascii_strdown (g_uri_get_host (parsed), -1);
  if (g_uri_get_port (parsed) > 0)
    {
      /* IPv6 hosts in brackets, as in a URI: "[2001:db8::1]:8080". */
      g_autofree char *host_port = g_strdup_printf (strchr (key, ':') ? "[%s]:%d" : "%s:%d",
                                                    key, g_uri_get_port (parsed));
      profile = g_hash_table_lookup (profiles->table, host_port);
      if (profile != NULL)
        return profile;
    }
  return g_hash_table_lookup (profiles->table, key);
}

guint
mgw_profiles_get_size (MgwProfiles *profiles)
{
  return g_hash_table_size (profiles->table);
}
