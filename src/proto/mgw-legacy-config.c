/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-legacy-config.c: the original's GatewayConfig.json.
 *
 *   {"DumpData": false, "DumpDataPath": "/home/pi/PyMoIP_dir/Dumps/",
 *    "LimitTcpSpeed": 1.2, "LimitWsSpeed": 1.2, "GatewayExecCount": 0}
 *
 * DumpData (true/false) and DumpDataPath: session dumps (docs/protocol.md,
 * Session dumps);
 * LimitTcpSpeed and LimitWsSpeed: output speed in characters per 10 ms,
 * 0 for none; GatewayExecCount: incremented and saved at each start, it
 * names the dump files. The whole object is kept as read, so saving
 * changes GatewayExecCount only: keys we do not know stay, in their
 * order. The file is written as the original (Python's json.dump) writes
 * it, so an untouched file comes back byte for byte. */
#include "config.h"

#include "mgw-legacy-config.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#define KEY_DUMP_DATA       "DumpData"
#define KEY_DUMP_DATA_PATH  "DumpDataPath"
#define KEY_LIMIT_TCP_SPEED "LimitTcpSpeed"
#define KEY_LIMIT_WS_SPEED  "LimitWsSpeed"
#define KEY_EXEC_COUNT      "GatewayExecCount"

struct _MgwLegacyConfig
{
  JsonNode *root;        /* the object as read; NULL: no file yet */
  gboolean  dump_data;
  char     *dump_path;   /* NULL: unset */
  double    limit_tcp_speed;
  double    limit_ws_speed;
  guint64   exec_count;
};

MgwLegacyConfig *
mgw_legacy_config_new (void)
{
  return g_new0 (MgwLegacyConfig, 1);
}

void
mgw_legacy_config_free (MgwLegacyConfig *config)
{
  if (config == NULL)
    return;
  g_clear_pointer (&config->root, json_node_unref);
  g_free (config->dump_path);
  g_free (config);
}

static gboolean
bad_key (GError    **error,
         const char *path,
         const char *key,
         const char *what)
{
  g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s: \"%s\" %s", path, key, what);
  return FALSE;
}

static gboolean
is_value_of_type (JsonNode *node,
                  GType     type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

static gboolean
get_speed (JsonObject  *object,
           const char  *path,
           const char  *key,
           double      *speed,
           GError     **error)
{
  JsonNode *node = json_object_get_member (object, key);
  double value;

  *speed = 0;
  if (node == NULL)
    return TRUE;
  if (!is_value_of_type (node, G_TYPE_INT64) && !is_value_of_type (node, G_TYPE_DOUBLE))
    return bad_key (error, path, key, _("is not a number (characters per 10 ms)"));
  value = json_node_get_double (node);
  if (!(value >= 0) || value > 1e9)
    return bad_key (error, path, key, _("is not a speed of 0 or more characters per 10 ms"));
  *speed = value;
  return TRUE;
}

/* What load keeps must write back as JSON that loads again (found by
 * fuzzing): no number beyond a double (1e999 parses as infinity, which
 * JSON cannot say), no string or key that is not UTF-8 (json-glib takes
 * the invalid escape \200 as a raw byte). */
static gboolean
can_write_back (JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;

        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, &name, &member))
          if (!g_utf8_validate (name, -1, NULL) || !can_write_back (member))
            return FALSE;
        return TRUE;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        for (guint i = 0; i < json_array_get_length (array); i++)
          if (!can_write_back (json_array_get_element (array, i)))
            return FALSE;
        return TRUE;
      }
    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
        return isfinite (json_node_get_double (node));
      if (json_node_get_value_type (node) == G_TYPE_STRING)
        return g_utf8_validate (json_node_get_string (node), -1, NULL);
      return TRUE;
    case JSON_NODE_NULL:
    default:
      return TRUE;
    }
}

gboolean
mgw_legacy_config_load (MgwLegacyConfig  *config,
                        const char       *path,
                        MgwFileFlags      flags,
                        GError          **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *dump_path = NULL;
  JsonObject *object;
  JsonNode *root;
  JsonNode *node;
  gboolean dump_data = FALSE;
  double limit_tcp_speed, limit_ws_speed;
  guint64 exec_count = 0;
  gsize len;

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!mgw_file_get_contents_max (path, MGW_JSON_FILE_MAX, flags, &data, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_clear_pointer (&config->root, json_node_unref);
          config->dump_data = FALSE;
          g_clear_pointer (&config->dump_path, g_free);
          config->limit_tcp_speed = 0;
          config->limit_ws_speed = 0;
          config->exec_count = 0;
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
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("%s: not a JSON object"), path);
      return FALSE;
    }
  if (!can_write_back (root))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("%s: a number too large or a string that is not UTF-8"), path);
      return FALSE;
    }
  object = json_node_get_object (root);

  node = json_object_get_member (object, KEY_DUMP_DATA);
  if (node != NULL)
    {
      if (!is_value_of_type (node, G_TYPE_BOOLEAN))
        return bad_key (error, path, KEY_DUMP_DATA, _("is neither true nor false"));
      dump_data = json_node_get_boolean (node);
    }

  node = json_object_get_member (object, KEY_DUMP_DATA_PATH);
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      if (!is_value_of_type (node, G_TYPE_STRING))
        return bad_key (error, path, KEY_DUMP_DATA_PATH, _("is not a string"));
      if (*json_node_get_string (node) != '\0')
        dump_path = g_strdup (json_node_get_string (node));
    }

  if (!get_speed (object, path, KEY_LIMIT_TCP_SPEED, &limit_tcp_speed, error) ||
      !get_speed (object, path, KEY_LIMIT_WS_SPEED, &limit_ws_speed, error))
    return FALSE;

  node = json_object_get_member (object, KEY_EXEC_COUNT);
  if (node != NULL)
    {
      if (!is_value_of_type (node, G_TYPE_INT64) || json_node_get_int (node) < 0)
        return bad_key (error, path, KEY_EXEC_COUNT, _("is not an integer of 0 or more"));
      exec_count = (guint64) json_node_get_int (node);
    }

  g_clear_pointer (&config->root, json_node_unref);
  config->root = json_node_ref (root);
  config->dump_data = dump_data;
  g_free (config->dump_path);
  config->dump_path = g_steal_pointer (&dump_path);
  config->limit_tcp_speed = limit_tcp_speed;
  config->limit_ws_speed = limit_ws_speed;
  config->exec_count = exec_count;
  return TRUE;
}

/* Writing, as Python's json.dump does: ", " and ": " separators, ASCII
 * only, floats in their shortest form that reads back the same. */

static void
append_string (GString    *out,
               const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      switch (c)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default:
          if (c < 0x20 || (c >= 0x7f && c < 0x10000))
            g_string_append_printf (out, "\\u%04x", c);
          else if (c >= 0x10000)
            {
              gunichar v = c - 0x10000;
              g_string_append_printf (out, "\\u%04x\\u%04x",
                                      0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
            }
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static void
append_double (GString *out,
               double   value)
{
  static const char *formats[] = { "%.15g", "%.16g", "%.17g" };
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buffer, sizeof buffer, formats[i], value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }
  g_string_append (out, buffer);
  /* 2.0 stays a float: "2.0", not "2". */
  if (strpbrk (buffer, ".eEnN") == NULL)
    g_string_append (out, ".0");
}

static void
append_node (GString  *out,
             JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);
        g_autoptr(GList) members = json_object_get_members (object);

        g_string_append_c (out, '{');
        for (GList *l = members; l != NULL; l = l->next)
          {
            if (l != members)
              g_string_append (out, ", ");
            append_string (out, l->data);
            g_string_append (out, ": ");
            append_node (out, json_object_get_member (object, l->data));
          }
        g_string_append_c (out, '}');
      }
      break;
    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        g_string_append_c (out, '[');
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            if (i > 0)
              g_string_append (out, ", ");
            append_node (out, json_array_get_element (array, i));
          }
        g_string_append_c (out, ']');
      }
      break;
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      break;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          break;
        case G_TYPE_DOUBLE:
          append_double (out, json_node_get_double (node));
          break;
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          break;
        case G_TYPE_STRING:
          append_string (out, json_node_get_string (node));
          break;
        default:
          g_string_append (out, "null");
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* What the original writes when it creates the file. */
static JsonNode *
default_root (MgwLegacyConfig *config)
{
  JsonObject *object = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_object_set_boolean_member (object, KEY_DUMP_DATA, config->dump_data);
  json_object_set_string_member (object, KEY_DUMP_DATA_PATH,
                                 config->dump_path != NULL ? config->dump_path : "");
  json_object_set_int_member (object, KEY_LIMIT_TCP_SPEED, 0);
  json_object_set_int_member (object, KEY_LIMIT_WS_SPEED, 0);
  json_object_set_int_member (object, KEY_EXEC_COUNT, 0);
  json_node_take_object (root, object);
  return root;
}

gboolean
mgw_legacy_config_save (MgwLegacyConfig  *config,
                        const char       *path,
                        GError          **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  GStatBuf st;
  int mode = 0644;

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (config->root == NULL)
    config->root = default_root (config);
  json_object_set_int_member (json_node_get_object (config->root), KEY_EXEC_COUNT,
                              (gint64) MIN (config->exec_count, (guint64) G_MAXINT64));
  append_node (out, config->root);
  /* Keep the permissions the operator gave the file. */
  if (g_stat (path, &st) == 0)
    mode = st.st_mode & 0777;
  return g_file_set_contents_full (path, out->str, (gssize) out->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT |
                                   G_FILE_SET_CONTENTS_DURABLE, mode, error);
}

gboolean
mgw_legacy_config_get_dump_data (MgwLegacyConfig *config)
{
  g_return_val_if_fail (config != NULL, FALSE);

  return config->dump_data;
}

const char *
mgw_legacy_config_get_dump_path (MgwLegacyConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);

  return config->dump_path;
}

double
mgw_legacy_config_get_limit_tcp_speed (MgwLegacyConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);

  return config->limit_tcp_speed;
}

double
mgw_legacy_config_get_limit_ws_speed (MgwLegacyConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);

  return config->limit_ws_speed;
}

guint64
mgw_legacy_config_get_exec_count (MgwLegacyConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);

  return config->exec_count;
}

void
mgw_legacy_config_set_exec_count (MgwLegacyConfig *config,
                                  guint64          count)
{
  g_return_if_fail (config != NULL);

  config->exec_count = count;
}
