/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-log-fields.c: a link's log lines carry its session's journal
 * fields (MGW_SESSION_ID, MGW_PEER) as the session's own lines do, so
 * that `journalctl MGW_SESSION_ID=12` shows the WebSocket errors too. */
#include "config.h"

#include "mgw-gateway.h"
#include "mgw-test-util.h"

#include <string.h>

#define S(lit) lit, sizeof lit - 1

typedef struct
{
  char *message;
  char *session_id;
  char *peer;
} Line;

static GPtrArray *lines;   /* of Line, every structured line logged */

static void
line_free (Line *line)
{
  g_free (line->message);
  g_free (line->session_id);
  g_free (line->peer);
  g_free (line);
}

static GLogWriterOutput
capture_writer (GLogLevelFlags   level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         data)
{
  Line *line = g_new0 (Line, 1);

  for (gsize i = 0; i < n_fields; i++)
    {
      char **slot = g_str_equal (fields[i].key, "MESSAGE") ? &line->message :
                    g_str_equal (fields[i].key, "MGW_SESSION_ID") ? &line->session_id :
                    g_str_equal (fields[i].key, "MGW_PEER") ? &line->peer : NULL;
      if (slot != NULL)
        *slot = fields[i].length < 0 ? g_strdup (fields[i].value)
                                     : g_strndup (fields[i].value, fields[i].length);
    }
  g_ptr_array_add (lines, line);
  return g_log_writer_default (level, fields, n_fields, data);
}

static const Line *
find_line (const char *needle)
{
  for (guint i = 0; i < lines->len; i++)
    {
      const Line *line = lines->pdata[i];
      if (line->message != NULL && strstr (line->message, needle) != NULL)
        return line;
    }
  return NULL;
}

static gboolean
line_logged (gpointer needle)
{
  return find_line (needle) != NULL;
}

/* A WebSocket user sends a text frame that is not UTF-8: the link's
 * "dropped a text frame" line names session 0 and 127.0.0.1. */
static void
test_link_line (void)
{
  g_autoptr(MgwTestServer) server = mgw_test_server_new (TRUE, NULL);
  g_autoptr(MgwConfig) config = mgw_test_config_new (server->uri);
  g_autoptr(MgwGateway) gateway = NULL;
  g_autoptr(MgwTestRawWs) ws = NULL;
  const Line *line;

  gateway = mgw_test_gateway_new (config);
  ws = mgw_test_raw_ws_connect (mgw_gateway_get_ws_port (gateway), NULL);
  mgw_test_tcp_wait_for (ws->tcp, S ("CONNECT"));
  mgw_test_raw_ws_send (ws, MGW_WS_FIN | MGW_WS_OP_TEXT, S ("abc\xff"), TRUE);
  mgw_test_wait_until (line_logged, (gpointer) "dropped a text frame", MGW_TEST_TIMEOUT_MS,
                       "the link's log line");
  line = find_line ("dropped a text frame");
  g_assert_nonnull (strstr (line->message, "session 0 user 127.0.0.1:"));
  g_assert_cmpstr (line->session_id, ==, "0");
  g_assert_cmpstr (line->peer, ==, "127.0.0.1");
  /* The session's own lines, for comparison. */
  line = find_line ("session 0 (WS 127.0.0.1:");
  g_assert_nonnull (line);
  g_assert_cmpstr (line->session_id, ==, "0");
  mgw_gateway_stop (gateway, NULL);
  mgw_test_run_for (50);
}

int
main (int argc, char **argv)
{
  int status;

  lines = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  mgw_test_init (&argc, &argv);
  g_test_add_func ("/log-fields/link-line", test_link_line);
  status = g_test_run ();
  g_ptr_array_unref (lines);
  return status;
}
