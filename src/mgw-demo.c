/* mgw-demo.c: a small videotex service on a loopback port of its own.
 *
 * moipgwd --demo uses it as the default server, so a fresh install shows
 * a page at once; the tests use it as a known peer. On one SoupServer:
 *
 *   /         a demo Teletel: a welcome page in real Minitel codes (clear
 *             screen, double-height title, colours, accents through G2),
 *             ENQROM, keys echoed; typing METEO then Envoi (or Enter)
 *             redirects the user to the second service
 *   /command  its command channel (the gateway connects to it): it reads
 *             the user's PID from the identification line the gateway
 *             sends after ENQROM, sends CONNECT, and redraws its page on
 *             UserRedirectEnded
 *   /meteo    the second service, a weather page that echoes keys; the
 *             user comes back with Connexion/Fin, caught by the gateway */
#include "config.h"

#include "mgw-demo.h"
#include "mgw-minitel.h"

#include <libsoup/soup.h>
#include <string.h>

#define FIELD_MAX 16
#define IDENT_MAX 128

typedef enum {
  DEMO_TELETEL,
  DEMO_METEO,
} DemoKind;

struct _MgwDemo
{
  GObject                  parent_instance;

  SoupServer              *server;
  char                    *uri;
  char                    *command_uri;
  char                    *service_uri;
  GPtrArray               *clients;       /* of DemoClient */
  SoupWebsocketConnection *command;       /* the gateway's, when connected */
  guint                    next_server_session;
};

G_DEFINE_FINAL_TYPE (MgwDemo, mgw_demo, G_TYPE_OBJECT)

/* Per connection: where its reader is in the byte stream. */
typedef struct
{
  MgwDemo                 *demo;
  SoupWebsocketConnection *conn;
  DemoKind                 kind;
  gboolean                 in_sep;     /* last byte was SEP */
  gboolean                 in_soh;     /* inside SOH ... EOT */
  gboolean                 in_ident;   /* reading the PID=... line */
  GString                 *soh;
  GString                 *ident;
  GString                 *field;      /* what the user typed */
  gint64                   pid;        /* -1: not identified */
} DemoClient;

/* Minitel: FF clears, US r c moves (0x40 + row, 0x40 + column), ESC 0x4D
 * double height, ESC 0x4x colours, SS2 (0x19) + accent + letter for the
 * G2 set, CON (0x11) shows the cursor. */
static const char page[] =
  "\x0c"                                   /* clear screen, home */
  "\x14"                                   /* cursor off */
  "\x1f\x43\x43" "\x1b\x4d\x1b\x46"        /* row 3 col 3, double height, cyan */
  "moipgw : service de d\x19\x42" "emonstration"
  "\x1f\x45\x43" "\x1b\x47"                /* row 5, white */
  "Passerelle Minitel sur IP"
  "\x1f\x47\x43" "\x1b\x43"                /* row 7, yellow */
  "Bienvenue ! Tapez sur le clavier :"
  "\x1f\x48\x43" "\x1b\x43"
  "chaque touche revient en \x19\x42" "echo."
  "\x1f\x4a\x43" "\x1b\x42"                /* row 10, green */
  "METEO puis Envoi (Entr\x19\x42" "ee) :"
  "\x1f\x4b\x43" "\x1b\x42"
  "un autre service, par la passerelle."
  "\x1f\x4d\x43" "\x1b\x45"                /* row 13, magenta */
  "Connexion/Fin (Ctrl-S puis I) : retour."
  "\x1f\x50\x41"                           /* row 16 col 1 */
  "\x11";                                  /* cursor on */

static const char service_page[] =
  "\x0c\x14"
  "\x1f\x43\x43" "\x1b\x4d\x1b\x44" "\x1b\x57"   /* double height, blue on white */
  " METEO MINITEL "
  "\x1f\x46\x43" "\x1b\x47"
  "Paris : ensoleill\x19\x42" "e, 21\x19\x30" "C"
  "\x1f\x47\x43" "\x1b\x47"
  "Brest : averses, 15\x19\x30" "C"
  "\x1f\x49\x43" "\x1b\x43"
  "Vous \x19\x41" "etes sur un second service."
  "\x1f\x4a\x43" "\x1b\x43"
  "Connexion/Fin (Ctrl-S puis I) : retour."
  "\x1f\x4d\x41" "\x11";

static const guint8 enqrom[] = { 0x1b, 0x39, 0x7b };

GBytes *
mgw_demo_get_page (void)
{
  return g_bytes_new_static (page, sizeof page - 1);
}

GBytes *
mgw_demo_get_service_page (void)
{
  return g_bytes_new_static (service_page, sizeof service_page - 1);
}

static void
send_bytes (SoupWebsocketConnection *conn,
            const void              *data,
            gsize                    len)
{
  g_autoptr(GBytes) text = NULL;

  if (len == 0 || conn == NULL ||
      soup_websocket_connection_get_state (conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  text = mgw_latin1_to_utf8 (data, len);
  soup_websocket_connection_send_message (conn, SOUP_WEBSOCKET_DATA_TEXT, text);
}

static void
send_string (DemoClient *client,
             const char *text)
{
  send_bytes (client->conn, text, strlen (text));
}

static void
send_page (DemoClient *client)
{
  if (client->kind == DEMO_TELETEL)
    {
      send_bytes (client->conn, page, sizeof page - 1);
      send_bytes (client->conn, enqrom, sizeof enqrom);
    }
  else
    send_bytes (client->conn, service_page, sizeof service_page - 1);
  g_string_truncate (client->field, 0);
}

static const char *
key_name (guint8 code)
{
  switch (code)
    {
    case 0x42: return "Retour";
    case 0x43: return "R\x19\x42" "ep\x19\x41" "etition";
    case 0x44: return "Guide";
    case 0x46: return "Sommaire";
    case 0x48: return "Suite";
    default:   return NULL;
    }
}

/* Envoi on the demo Teletel: METEO redirects, anything else is unknown. */
static void
envoi (DemoClient *client)
{
  MgwDemo *demo = client->demo;
  g_autofree char *name = g_ascii_strup (client->field->str, -1);

  g_strstrip (name);
  g_string_truncate (client->field, 0);
  if (client->kind != DEMO_TELETEL || *name == '\0')
    {
      send_string (client, "\r\n");
      return;
    }
  if (strcmp (name, "METEO") != 0)
    {
      g_autofree char *reply = g_strdup_printf ("\r\nService inconnu : %s\r\n", name);
      send_string (client, reply);
      return;
    }
  if (client->pid < 0 || demo->command == NULL)
    {
      send_string (client, "\r\nRedirection impossible : la passerelle ne s'est pas "
                   "identifi\x19\x42" "ee.\r\n");
      return;
    }
  {
    g_autofree char *command =
      g_strdup_printf ("PID=%" G_GINT64_FORMAT ",%u,CONNECT,%s,None,[]", client->pid,
                       ++demo->next_server_session, demo->service_uri);
    send_string (client, "\r\nConnexion \x19\x41" "a METEO...\r\n");
    send_bytes (demo->command, command, strlen (command));
  }
}

/* The gateway's identification after ENQROM: 01 7F 7F 7F 04, then
 * PID=<id>,IP=...,Access=...\n. A terminal's ROM answer is SOH x y z EOT. */
static gboolean
read_identification (DemoClient *client,
                     guint8      b)
{
  if (client->in_ident)
    {
      if (b == '\n' || client->ident->len >= IDENT_MAX)
        {
          guint64 pid;
          const char *p = client->ident->str;
          g_autofree char *number = NULL;

          client->in_ident = FALSE;
          if (g_str_has_prefix (p, "PID="))
            number = g_strndup (p + 4, strcspn (p + 4, ","));
          if (number != NULL &&
              g_ascii_string_to_unsigned (number, 10, 0, G_MAXUINT, &pid, NULL))
            client->pid = (gint64) pid;
          g_string_truncate (client->ident, 0);
        }
      else
        g_string_append_c (client->ident, (char) b);
      return TRUE;
    }
  if (client->in_soh)
    {
      if (b == 0x04 || client->soh->len >= 8)
        {
          client->in_soh = FALSE;
          client->in_ident = strcmp (client->soh->str, "\x7f\x7f\x7f") == 0;
          g_string_truncate (client->soh, 0);
        }
      else
        g_string_append_c (client->soh, (char) b);
      return TRUE;
    }
  if (b == 0x01)
    {
      client->in_soh = TRUE;
      return TRUE;
    }
  return FALSE;
}

static void
message_cb (SoupWebsocketConnection *conn,
            SoupWebsocketDataType    type,
            GBytes                  *message,
            DemoClient              *client)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GByteArray) out = g_byte_array_new ();

  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    {
      if (!mgw_utf8_to_latin1 ((const char *) data, len, in, NULL))
        return;
    }
  else
    g_byte_array_append (in, data, len);

  for (guint i = 0; i < in->len; i++)
    {
      guint8 b = in->data[i];

      if (read_identification (client, b))
        continue;
      if (client->in_sep)
        {
          const char *name = key_name (b);

          client->in_sep = FALSE;
          if (b == MGW_MINITEL_KEY_CONNEXION_FIN ||
              b == MGW_MINITEL_KEY_CONNEXION_FIN_MODEM)
            {
              static const char bye[] = "\x0c\x1f\x43\x43" "Au revoir !";
              send_bytes (conn, out->data, out->len);
              send_bytes (conn, bye, sizeof bye - 1);
              soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
              return;
            }
          if (b == 0x41)            /* Envoi */
            {
              send_bytes (conn, out->data, out->len);
              g_byte_array_set_size (out, 0);
              envoi (client);
            }
          else if (b == 0x45)       /* Annulation */
            g_string_truncate (client->field, 0);
          else if (b == 0x47 && client->field->len > 0)   /* Correction */
            {
              g_string_truncate (client->field, client->field->len - 1);
              g_byte_array_append (out, (const guint8 *) "\x08 \x08", 3);
            }
          else if (name != NULL)
            {
              g_byte_array_append (out, (const guint8 *) "[", 1);
              g_byte_array_append (out, (const guint8 *) name, strlen (name));
              g_byte_array_append (out, (const guint8 *) "]", 1);
            }
          continue;
        }
      if (b == MGW_MINITEL_SEP)
        client->in_sep = TRUE;
      else if (b == '\r')
        {
          send_bytes (conn, out->data, out->len);
          g_byte_array_set_size (out, 0);
          envoi (client);
        }
      else if (b >= 0x20 && b < 0x7f)
        {
          g_byte_array_append (out, &b, 1);
          if (client->field->len < FIELD_MAX)
            g_string_append_c (client->field, (char) b);
        }
    }
  send_bytes (conn, out->data, out->len);
}

static void
demo_client_free (DemoClient *client)
{
  g_signal_handlers_disconnect_by_data (client->conn, client);
  g_object_unref (client->conn);
  g_string_free (client->soh, TRUE);
  g_string_free (client->ident, TRUE);
  g_string_free (client->field, TRUE);
  g_free (client);
}

static void
closed_cb (SoupWebsocketConnection *conn,
           DemoClient              *client)
{
  g_ptr_array_remove_fast (client->demo->clients, client);
}

static void
add_client (MgwDemo                 *self,
            SoupWebsocketConnection *conn,
            DemoKind                 kind)
{
  DemoClient *client = g_new0 (DemoClient, 1);

  client->demo = self;
  client->conn = g_object_ref (conn);
  client->kind = kind;
  client->pid = -1;
  client->soh = g_string_new (NULL);
  client->ident = g_string_new (NULL);
  client->field = g_string_new (NULL);
  g_ptr_array_add (self->clients, client);
  g_signal_connect (conn, "message", G_CALLBACK (message_cb), client);
  g_signal_connect (conn, "closed", G_CALLBACK (closed_cb), client);
  send_page (client);
}

static void
teletel_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
            SoupWebsocketConnection *conn, MgwDemo *self)
{
  add_client (self, conn, DEMO_TELETEL);
}

static void
service_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
            SoupWebsocketConnection *conn, MgwDemo *self)
{
  add_client (self, conn, DEMO_METEO);
}

/* UserRedirectEnded,,,<id>,<server session>: the user is back, redraw. */
static void
command_message_cb (SoupWebsocketConnection *conn,
                    SoupWebsocketDataType    type,
                    GBytes                  *message,
                    MgwDemo                 *self)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  g_autofree char *line = g_strndup (data, len);
  g_auto(GStrv) fields = g_strsplit (line, ",", 5);
  guint64 pid;

  if (g_strv_length (fields) < 4 || strcmp (fields[0], "UserRedirectEnded") != 0 ||
      !g_ascii_string_to_unsigned (fields[3], 10, 0, G_MAXUINT, &pid, NULL))
    return;
  for (guint i = 0; i < self->clients->len; i++)
    {
      DemoClient *client = self->clients->pdata[i];
      if (client->kind == DEMO_TELETEL && client->pid == (gint64) pid)
        send_page (client);
    }
}

static void
command_closed_cb (SoupWebsocketConnection *conn,
                   MgwDemo                 *self)
{
  if (self->command == conn)
    {
      g_signal_handlers_disconnect_by_data (conn, self);
      g_clear_object (&self->command);
    }
}

static void
command_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
            SoupWebsocketConnection *conn, MgwDemo *self)
{
  if (self->command != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->command, self);
      g_clear_object (&self->command);
    }
  self->command = g_object_ref (conn);
  g_signal_connect (conn, "message", G_CALLBACK (command_message_cb), self);
  g_signal_connect (conn, "closed", G_CALLBACK (command_closed_cb), self);
}

gboolean
mgw_demo_start (MgwDemo  *self,
                GError  **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSList *listeners;
  guint port;

  self->server = soup_server_new ("server-header", NULL, NULL);
  soup_server_add_websocket_handler (self->server, NULL, NULL, NULL,
                                     (SoupServerWebsocketCallback) teletel_cb, self, NULL);
  soup_server_add_websocket_handler (self->server, "/command", NULL, NULL,
                                     (SoupServerWebsocketCallback) command_cb, self, NULL);
  soup_server_add_websocket_handler (self->server, "/meteo", NULL, NULL,
                                     (SoupServerWebsocketCallback) service_cb, self, NULL);
  if (!soup_server_listen (self->server, address, 0, error))
    return FALSE;
  listeners = soup_server_get_listeners (self->server);
  bound = g_socket_get_local_address (listeners->data, error);
  g_slist_free (listeners);
  if (bound == NULL)
    return FALSE;
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  self->uri = g_strdup_printf ("ws://127.0.0.1:%u/", port);
  self->command_uri = g_strdup_printf ("ws://127.0.0.1:%u/command", port);
  self->service_uri = g_strdup_printf ("ws://127.0.0.1:%u/meteo", port);
  g_message ("demo videotex service on %s (command channel %s)", self->uri,
             self->command_uri);
  return TRUE;
}

const char *
mgw_demo_get_uri (MgwDemo *self)
{
  return self->uri;
}

const char *
mgw_demo_get_command_uri (MgwDemo *self)
{
  return self->command_uri;
}

const char *
mgw_demo_get_service_uri (MgwDemo *self)
{
  return self->service_uri;
}

static void
mgw_demo_dispose (GObject *object)
{
  MgwDemo *self = MGW_DEMO (object);

  g_clear_pointer (&self->clients, g_ptr_array_unref);
  if (self->command != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->command, self);
      g_clear_object (&self->command);
    }
  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  G_OBJECT_CLASS (mgw_demo_parent_class)->dispose (object);
}

static void
mgw_demo_finalize (GObject *object)
{
  MgwDemo *self = MGW_DEMO (object);

  g_free (self->uri);
  g_free (self->command_uri);
  g_free (self->service_uri);
  G_OBJECT_CLASS (mgw_demo_parent_class)->finalize (object);
}

static void
mgw_demo_class_init (MgwDemoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mgw_demo_dispose;
  object_class->finalize = mgw_demo_finalize;
}

static void
mgw_demo_init (MgwDemo *self)
{
  self->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) demo_client_free);
}

MgwDemo *
mgw_demo_new (void)
{
  return g_object_new (MGW_TYPE_DEMO, NULL);
}
