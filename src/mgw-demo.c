/* mgw-demo.c: a small videotex service on a loopback port of its own.
 *
 * moipgwd --demo uses it as the default server, so a fresh install shows
 * a page at once; the tests use it as a known peer. It sends a welcome
 * page in real Minitel codes (clear screen, double-height title, colours,
 * accents through G2), asks the terminal for its ROM id (ENQROM) and
 * echoes the keys typed. Connexion/Fin says goodbye and closes. */
#include "config.h"

#include "mgw-demo.h"
#include "mgw-minitel.h"

#include <libsoup/soup.h>
#include <string.h>

struct _MgwDemo
{
  GObject     parent_instance;

  SoupServer *server;
  char       *uri;
  GPtrArray  *connections;
};

G_DEFINE_FINAL_TYPE (MgwDemo, mgw_demo, G_TYPE_OBJECT)

/* Per connection: where its reader is in the byte stream. */
typedef struct
{
  MgwDemo                 *demo;
  SoupWebsocketConnection *conn;
  gboolean                 in_sep;   /* last byte was SEP */
  gboolean                 in_rom;   /* inside a SOH ... EOT ROM answer */
} DemoClient;


/* Bytes of the welcome page. Minitel: FF clears, US r c moves (0x40 +
 * row, 0x40 + column), ESC 0x4D double height, ESC 0x4x colours, SS2
 * (0x19) + accent + letter for the G2 set, CON (0x11) shows the cursor. */
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
  "Connexion/Fin pour terminer."
  "\x1f\x4c\x41"                           /* row 12 col 1 */
  "\x11";                                  /* cursor on */

static const guint8 enqrom[] = { 0x1b, 0x39, 0x7b };

GBytes *
mgw_demo_get_page (void)
{
  return g_bytes_new_static (page, sizeof page - 1);
}

static void
send_bytes (DemoClient   *client,
            const guint8 *data,
            gsize         len)
{
  g_autoptr(GBytes) text = NULL;

  if (len == 0 ||
      soup_websocket_connection_get_state (client->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  text = mgw_latin1_to_utf8 (data, len);
  soup_websocket_connection_send_message (client->conn, SOUP_WEBSOCKET_DATA_TEXT, text);
}

static const char *
key_name (guint8 code)
{
  switch (code)
    {
    case 0x41: return "Envoi";
    case 0x42: return "Retour";
    case 0x43: return "R\x19\x42" "ep\x19\x41" "etition";
    case 0x44: return "Guide";
    case 0x45: return "Annulation";
    case 0x46: return "Sommaire";
    case 0x47: return "Correction";
    case 0x48: return "Suite";
    default:   return NULL;
    }
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

      if (client->in_rom)
        {
          client->in_rom = (b != 0x04);
          continue;
        }
      if (client->in_sep)
        {
          const char *name = key_name (b);

          client->in_sep = FALSE;
          if (b == 0x49 || b == 0x59)  /* Connexion/Fin */
            {
              static const char bye[] = "\x0c\x1f\x43\x43" "Au revoir !";
              send_bytes (client, (const guint8 *) bye, sizeof bye - 1);
              soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
              return;
            }
          if (b == 0x41)
            g_byte_array_append (out, (const guint8 *) "\r\n", 2);
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
      else if (b == 0x01)
        client->in_rom = TRUE;
      else if (b == '\r')
        g_byte_array_append (out, (const guint8 *) "\r\n", 2);
      else if (b >= 0x20 || b == 0x1b || b == 0x08 || b == 0x0a)
        g_byte_array_append (out, &b, 1);
    }
  send_bytes (client, out->data, out->len);
}

static void
demo_client_free (DemoClient *client)
{
  g_signal_handlers_disconnect_by_data (client->conn, client);
  g_object_unref (client->conn);
  g_free (client);
}

static void
closed_cb (SoupWebsocketConnection *conn,
           DemoClient              *client)
{
  g_ptr_array_remove_fast (client->demo->connections, client);
}

static void
websocket_cb (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *conn,
              MgwDemo                 *self)
{
  DemoClient *client = g_new0 (DemoClient, 1);
  g_autoptr(GBytes) welcome = mgw_demo_get_page ();
  gsize len;
  const guint8 *data = g_bytes_get_data (welcome, &len);

  client->demo = self;
  client->conn = g_object_ref (conn);
  g_ptr_array_add (self->connections, client);
  g_signal_connect (conn, "message", G_CALLBACK (message_cb), client);
  g_signal_connect (conn, "closed", G_CALLBACK (closed_cb), client);
  send_bytes (client, data, len);
  send_bytes (client, enqrom, sizeof enqrom);
}

gboolean
mgw_demo_start (MgwDemo  *self,
                GError  **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSList *listeners;

  self->server = soup_server_new ("server-header", NULL, NULL);
  soup_server_add_websocket_handler (self->server, NULL, NULL, NULL,
                                     (SoupServerWebsocketCallback) websocket_cb,
                                     self, NULL);
  if (!soup_server_listen (self->server, address, 0, error))
    return FALSE;
  listeners = soup_server_get_listeners (self->server);
  bound = g_socket_get_local_address (listeners->data, error);
  g_slist_free (listeners);
  if (bound == NULL)
    return FALSE;
  self->uri = g_strdup_printf ("ws://127.0.0.1:%u/",
                               g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_message ("demo videotex service on %s", self->uri);
  return TRUE;
}

const char *
mgw_demo_get_uri (MgwDemo *self)
{
  return self->uri;
}

static void
mgw_demo_dispose (GObject *object)
{
  MgwDemo *self = MGW_DEMO (object);

  g_clear_pointer (&self->connections, g_ptr_array_unref);
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
  self->connections = g_ptr_array_new_with_free_func ((GDestroyNotify) demo_client_free);
}

MgwDemo *
mgw_demo_new (void)
{
  return g_object_new (MGW_TYPE_DEMO, NULL);
}
