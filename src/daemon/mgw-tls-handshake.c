/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-tls-handshake.c: wss:// connections from accept to their first
 * decrypted byte.
 *
 * g_tls_connection_handshake_async(): glib-networking runs GnuTLS's
 * handshake in its own worker and completes it on the main context, so a
 * slow or hostile client never blocks the loop. The only timer is the
 * poller's (MgwTimer): a handshake that has not ended by then is
 * cancelled and counted as timed out. */
#include "config.h"

#include "mgw-tls-handshake.h"
#include "mgw-poller.h"

struct _MgwTlsHandshakes
{
  GHashTable *pending;     /* Handshake set */
  guint64     done;
  guint64     failed;
  guint64     timed_out;
};

typedef struct
{
  MgwTlsHandshakes    *owner_set;   /* NULL once the set is gone */
  GObject             *owner;
  MgwTlsHandshakeDone  done;
  GIOStream           *tls;
  GCancellable        *cancellable;
  MgwTimer             timer;
  char                *address;
  guint16              port;
  gboolean             timed_out;
} Handshake;

static void
handshake_free (Handshake *h)
{
  mgw_timer_stop (&h->timer);
  g_clear_object (&h->tls);
  g_clear_object (&h->cancellable);
  g_clear_object (&h->owner);
  g_free (h->address);
  g_free (h);
}

static void
timeout_cb (gpointer user_data)
{
  Handshake *h = user_data;

  h->timed_out = TRUE;
  g_cancellable_cancel (h->cancellable);
}

static void
handshake_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Handshake *h = user_data;
  MgwTlsHandshakes *self = h->owner_set;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error);

  mgw_timer_stop (&h->timer);
  if (self != NULL)
    g_hash_table_remove (self->pending, h);
  if (ok && self != NULL)
    {
      self->done++;
      h->done (h->owner, h->tls, h->address, h->port);
    }
  else if (self != NULL)
    {
      if (h->timed_out)
        {
          self->timed_out++;
          g_info ("TLS handshake with %s timed out", h->address);
        }
      else
        {
          self->failed++;
          g_info ("TLS handshake with %s failed: %s", h->address,
                  error != NULL ? error->message : "cancelled");
        }
    }
  if (!ok)
    g_io_stream_close (h->tls, NULL, NULL);
  handshake_free (h);
}

MgwTlsHandshakes *
mgw_tls_handshakes_new (void)
{
  MgwTlsHandshakes *self = g_new0 (MgwTlsHandshakes, 1);

  self->pending = g_hash_table_new (NULL, NULL);
  return self;
}

void
mgw_tls_handshakes_cancel_all (MgwTlsHandshakes *self)
{
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (self != NULL);

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_cancellable_cancel (((Handshake *) key)->cancellable);
}

void
mgw_tls_handshakes_free (MgwTlsHandshakes *self)
{
  GHashTableIter iter;
  gpointer key;

  if (self == NULL)
    return;
  /* Their callbacks come later: they find no set and only clean up. */
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Handshake *h = key;

      h->owner_set = NULL;
      mgw_timer_stop (&h->timer);
      g_cancellable_cancel (h->cancellable);
    }
  g_hash_table_unref (self->pending);
  g_free (self);
}

void
mgw_tls_handshakes_start (MgwTlsHandshakes    *self,
                          MgwTlsIdentity      *identity,
                          GSocketConnection   *connection,
                          const char          *address,
                          guint16              port,
                          guint                timeout_ms,
                          GObject             *owner,
                          MgwTlsHandshakeDone  done)
{
  g_autoptr(GError) error = NULL;
  GIOStream *tls;
  Handshake *h;

  g_return_if_fail (self != NULL && identity != NULL);
  g_return_if_fail (G_IS_SOCKET_CONNECTION (connection) && address != NULL);
  g_return_if_fail (G_IS_OBJECT (owner) && done != NULL);

  tls = g_tls_server_connection_new (G_IO_STREAM (connection),
                                     mgw_tls_identity_get_certificate (identity), &error);
  if (tls == NULL)
    {
      self->failed++;
      g_warning ("cannot start TLS with %s: %s", address, error->message);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return;
    }
  h = g_new0 (Handshake, 1);
  h->owner_set = self;
  h->owner = g_object_ref (owner);
  h->done = done;
  h->tls = tls;
  h->cancellable = g_cancellable_new ();
  h->address = g_strdup (address);
  h->port = port;
  mgw_timer_init (&h->timer, timeout_cb, h);
  if (timeout_ms > 0)
    mgw_timer_start (&h->timer, timeout_ms);
  g_hash_table_add (self->pending, h);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, h->cancellable,
                                    handshake_cb, h);
}

guint
mgw_tls_handshakes_get_pending (MgwTlsHandshakes *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return g_hash_table_size (self->pending);
}

guint64
mgw_tls_handshakes_get_done (MgwTlsHandshakes *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->done;
}

guint64
mgw_tls_handshakes_get_failed (MgwTlsHandshakes *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->failed;
}

guint64
mgw_tls_handshakes_get_timed_out (MgwTlsHandshakes *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->timed_out;
}
