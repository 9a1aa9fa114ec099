/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-demo.c: a small videotex service on a loopback port of its own.
 *
 * moipgwd --demo uses it as the default server, so a fresh install shows
 * a page at once; the tests use it as a known peer. One listener, each
 * connection an MgwLinkWs (server side) routed by its request path:
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
 *             user comes back with Connexion/Fin, or *** then Sommaire
 *             (MGW_DEMO_RETURN_KEYS, which moipgwd --demo sets), caught by
 *             the gateway
 *
 * Any other path is refused with 404. */
#include "config.h"

#include "mgw-demo.h"
#include "mgw-link-ws.h"
#include "mgw-minitel.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#define FIELD_MAX 16
#define IDENT_MAX 128
/* A connection that sends no upgrade request within this: closed. */
#define UPGRADE_TIMEOUT_S 10
/* As libsoup's defaults were: 128 KiB messages in, no output limit to
 * speak of (a demo page is 600 bytes). */
#define MAX_INCOMING (128 * 1024)
#define QUEUE_LIMIT  (1024 * 1024)

typedef enum {
  DEMO_UPGRADING,   /* the request not read yet */
  DEMO_TELETEL,
  DEMO_METEO,
  DEMO_COMMAND,
} DemoKind;

/* Per connection: where its reader is in the byte stream. */
typedef struct
{
  MgwDemo  *demo;
  MgwLink  *link;
  DemoKind  kind;
  gboolean  closed;     /* removed at the next sweep */
  gboolean  in_sep;     /* last byte was SEP */
  gboolean  in_soh;     /* inside SOH ... EOT */
  gboolean  in_ident;   /* reading the PID=... line */
  GString  *soh;
  GString  *ident;
  GString  *field;      /* what the user typed */
  gint64    pid;        /* -1: not identified */
} DemoClient;

struct _MgwDemo
{
  GObject         parent_instance;

  GSocketService *service;
  char           *uri;
  char           *command_uri;
  char           *service_uri;
  GPtrArray      *clients;       /* of DemoClient, every connection */
  DemoClient     *command;       /* the gateway's, when connected */
  guint           sweep_id;      /* removes the closed clients */
  guint           next_server_session;
};

G_DEFINE_FINAL_TYPE (MgwDemo, mgw_demo, G_TYPE_OBJECT)

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
  "Connexion/Fin (Ctrl-S puis I) : retour"   /* 38 columns: fits */
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
  "Connexion/Fin (Ctrl-S puis I) : retour,"
  "\x1f\x4b\x43" "\x1b\x43"
  "ou *** puis Sommaire (Ctrl-S puis F)."
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

/* One text frame (latin-1 bytes as code points), if the link is open. */
static void
send_bytes (DemoClient *client,
            const void *data,
            gsize       len)
{
  if (len == 0 || client == NULL || client->closed ||
      mgw_link_get_state (client->link) != MGW_LINK_OPEN)
    return;
  mgw_link_send_data (client->link, data, len);
}

static void
send_string (DemoClient *client,
             const char *text)
{
  send_bytes (client, text, strlen (text));
}

static void
send_page (DemoClient *client)
{
  if (client->kind == DEMO_TELETEL)
    {
      send_bytes (client, page, sizeof page - 1);
      send_bytes (client, enqrom, sizeof enqrom);
    }
  else
    send_bytes (client, service_page, sizeof service_page - 1);
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

/* A message from a user of the demo Teletel or of METEO (text frames
 * already turned back into bytes by the link). */
static void
user_message (DemoClient   *client,
              const guint8 *data,
              gsize         len)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  for (gsize i = 0; i < len; i++)
    {
      guint8 b = data[i];

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
              send_bytes (client, out->data, out->len);
              send_bytes (client, bye, sizeof bye - 1);
              mgw_link_close (client->link, TRUE);   /* close frame 1000 after the page */
              return;
            }
          if (b == 0x41)            /* Envoi */
            {
              send_bytes (client, out->data, out->len);
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
          send_bytes (client, out->data, out->len);
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
  send_bytes (client, out->data, out->len);
}

/* UserRedirectEnded,,,<id>,<server session>: the user is back, redraw. */
static void
command_message (MgwDemo      *self,
                 const guint8 *data,
                 gsize         len)
{
  g_autofree char *line = g_strndup ((const char *) data, len);
  g_auto(GStrv) fields = g_strsplit (line, ",", 5);
  guint64 pid;

  if (g_strv_length (fields) < 4 || strcmp (fields[0], "UserRedirectEnded") != 0 ||
      !g_ascii_string_to_unsigned (fields[3], 10, 0, G_MAXUINT, &pid, NULL))
    return;
  /* A send may close a client: it stays in the array until the sweep. */
  for (guint i = 0; i < self->clients->len; i++)
    {
      DemoClient *client = self->clients->pdata[i];
      if (client->kind == DEMO_TELETEL && client->pid == (gint64) pid)
        send_page (client);
    }
}

static void
received_cb (MgwLink      *link,
             const guint8 *data,
             guint         len,
             DemoClient   *client)
{
  if (client->closed)
    return;
  if (client->kind == DEMO_COMMAND)
    {
      if (client->demo->command == client)
        command_message (client->demo, data, len);
    }
  else
    user_message (client, data, len);
}

static void
demo_client_free (DemoClient *client)
{
  g_signal_handlers_disconnect_by_data (client->link, client);
  /* The peer gets a close frame, if it still can. */
  mgw_link_close (client->link, FALSE);
  g_object_unref (client->link);
  g_string_free (client->soh, TRUE);
  g_string_free (client->ident, TRUE);
  g_string_free (client->field, TRUE);
  g_free (client);
}

static gboolean
sweep_cb (gpointer user_data)
{
  MgwDemo *self = user_data;

  self->sweep_id = 0;
  for (guint i = self->clients->len; i > 0; i--)
    {
      DemoClient *client = self->clients->pdata[i - 1];

      if (client->closed)
        g_ptr_array_remove_index_fast (self->clients, i - 1);
    }
  return G_SOURCE_REMOVE;
}

/* Closed (or refused, or no upgrade in time). Not freed here: the
 * client may be in the middle of a loop over the clients or its own
 * message; the sweep frees it. */
static void
closed_cb (MgwLink      *link,
           const GError *error,
           DemoClient   *client)
{
  MgwDemo *self = client->demo;

  client->closed = TRUE;
  if (self->command == client)
    self->command = NULL;
  if (self->sweep_id == 0)
    self->sweep_id = g_idle_add (sweep_cb, self);
}

static void
opened_cb (MgwLink    *link,
           DemoClient *client)
{
  MgwDemo *self = client->demo;

  if (client->kind != DEMO_COMMAND)
    {
      send_page (client);
      return;
    }
  /* The gateway reconnected: the newest channel is the one. */
  if (self->command != NULL)
    mgw_link_close (self->command->link, FALSE);
  self->command = client;
}

/* The upgrade request: which service, by path. */
static guint
decide_cb (MgwLinkWs   *link,
           MgwHttpHead *request,
           gpointer     user_data)
{
  DemoClient *client = user_data;
  g_autofree char *path = mgw_http_head_get_path (request);

  if (strcmp (path, "/") == 0)
    client->kind = DEMO_TELETEL;
  else if (strcmp (path, "/meteo") == 0)
    client->kind = DEMO_METEO;
  else if (strcmp (path, "/command") == 0)
    client->kind = DEMO_COMMAND;
  else
    return 404;
  return 101;
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *conn,
             GObject           *source,
             MgwDemo           *self)
{
  DemoClient *client = g_new0 (DemoClient, 1);

  /* Keys are echoed one by one: no Nagle delay. */
  g_socket_set_option (g_socket_connection_get_socket (conn), IPPROTO_TCP, TCP_NODELAY, TRUE,
                       NULL);
  client->demo = self;
  client->kind = DEMO_UPGRADING;
  client->pid = -1;
  client->soh = g_string_new (NULL);
  client->ident = g_string_new (NULL);
  client->field = g_string_new (NULL);
  client->link = mgw_link_ws_accept (G_IO_STREAM (conn), MGW_FRAME_TEXT, UPGRADE_TIMEOUT_S,
                                     decide_cb, client);
  mgw_link_set_description (client->link, "demo service connection");
  mgw_link_set_queue_limit (client->link, QUEUE_LIMIT);
  mgw_link_ws_set_max_incoming (MGW_LINK_WS (client->link), MAX_INCOMING);
  g_ptr_array_add (self->clients, client);
  g_signal_connect (client->link, "opened", G_CALLBACK (opened_cb), client);
  g_signal_connect (client->link, "received", G_CALLBACK (received_cb), client);
  g_signal_connect (client->link, "closed", G_CALLBACK (closed_cb), client);
  return TRUE;
}

gboolean
mgw_demo_start (MgwDemo  *self,
                GError  **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  guint port;

  g_return_val_if_fail (MGW_IS_DEMO (self), FALSE);

  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                      &bound, error))
    {
      g_clear_object (&self->service);
      return FALSE;
    }
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_socket_service_start (self->service);
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
  g_return_val_if_fail (MGW_IS_DEMO (self), NULL);

  return self->uri;
}

const char *
mgw_demo_get_command_uri (MgwDemo *self)
{
  g_return_val_if_fail (MGW_IS_DEMO (self), NULL);

  return self->command_uri;
}

const char *
mgw_demo_get_service_uri (MgwDemo *self)
{
  g_return_val_if_fail (MGW_IS_DEMO (self), NULL);

  return self->service_uri;
}

static void
mgw_demo_dispose (GObject *object)
{
  MgwDemo *self = MGW_DEMO (object);

  if (self->service != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->service, self);
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  self->command = NULL;
  g_clear_pointer (&self->clients, g_ptr_array_unref);
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
