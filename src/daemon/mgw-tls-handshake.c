/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-tls-handshake.c: wss:// connections from accept to their first
 * decrypted byte.
 *
 * g_tls_connection_handshake_async(): glib-networking runs GnuTLS's
 * handshake in a worker thread of GIO's pool and completes it on the
 * main context, so no client blocks the loop. But a worker waits as long
 * as its client: a few dozen silent connections would hold every worker
 * and starve real users (measured: 30 of them delayed a handshake by
 * 2.8 s, 100 made it time out). So a connection waits in the poller,
 * costing nothing, until its whole ClientHello (the first TLS record) is
 * in the socket — what is not TLS is refused there — then for one of
 * max_running slots in GIO; one address has at most max_per_address
 * handshakes under way. The one timer is the poller's (MgwTimer): a
 * handshake not ended by then, at any step, is cancelled and counted as
 * timed out. */
#include "config.h"

#include "mgw-tls-handshake.h"
#include "mgw-poller.h"

#include <errno.h>
#include <sys/socket.h>

/* TLS record header: content type 22 (handshake), version 3.x, length. */
#define RECORD_HEADER 5
#define RECORD_HANDSHAKE 0x16
#define RECORD_MAX (16384 + 2048)

struct _MgwTlsHandshakes
{
  GHashTable *pending;     /* Handshake set */
  GHashTable *per_address; /* address -> handshakes under way */
  GQueue      waiting;     /* Handshakes with their ClientHello, for a slot */
  guint       running;     /* handshakes in GIO now */
  guint       max_running;
  guint       max_per_address;
  MgwAddressSet *never_ban;  /* exempt from the cap (borrowed) */
  MgwAddressSet *trusted;
  MgwTlsHandshakeCount count;  /* NULL: none */
  gpointer    count_data;
  guint64     done;
  guint64     failed;
  guint64     timed_out;
};

typedef enum {
  STEP_HELLO,      /* in the poller until the whole ClientHello is in */
  STEP_WAITING,    /* for one of the slots */
  STEP_RUNNING,    /* in GIO */
} Step;

typedef struct
{
  MgwTlsHandshakes    *owner_set;   /* NULL once the set is gone */
  GObject             *owner;
  MgwTlsHandshakeDone  done;
  MgwTlsIdentity      *identity;
  GSocketConnection   *connection;
  GIOStream           *tls;
  GCancellable        *cancellable;
  MgwWatch            *watch;
  MgwTimer             timer;
  char                *address;
  guint16              port;
  Step                 step;
  gboolean             timed_out;
} Handshake;

static void start_next (MgwTlsHandshakes *self);

static void
handshake_free (Handshake *h)
{
  mgw_timer_stop (&h->timer);
  g_clear_pointer (&h->watch, mgw_watch_free);
  g_clear_object (&h->tls);
  g_clear_object (&h->connection);
  g_clear_object (&h->cancellable);
  g_clear_pointer (&h->identity, mgw_tls_identity_unref);
  g_clear_object (&h->owner);
  g_free (h->address);
  g_free (h);
}

/* h leaves the set: its address's count and, in GIO, its slot. */
static void
forget (MgwTlsHandshakes *self,
        Handshake        *h)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, h->address));

  g_hash_table_remove (self->pending, h);
  if (self->count != NULL)
    self->count (self->count_data, h->address, -1);
  if (n <= 1)
    g_hash_table_remove (self->per_address, h->address);
  else
    g_hash_table_insert (self->per_address, g_strdup (h->address), GUINT_TO_POINTER (n - 1));
  if (h->step == STEP_WAITING)
    g_queue_remove (&self->waiting, h);
  else if (h->step == STEP_RUNNING)
    self->running--;
}

/* A handshake that ends before GIO had it: closed here. */
static void
fail_early (Handshake  *h,
            gboolean    timed_out,
            const char *why)
{
  MgwTlsHandshakes *self = h->owner_set;

  forget (self, h);
  if (timed_out)
    {
      self->timed_out++;
      g_info ("TLS handshake with %s timed out (%s)", h->address, why);
    }
  else
    {
      self->failed++;
      g_info ("TLS handshake with %s failed: %s", h->address, why);
    }
  /* Out of the poller before the socket closes. */
  g_clear_pointer (&h->watch, mgw_watch_free);
  g_io_stream_close (G_IO_STREAM (h->connection), NULL, NULL);
  handshake_free (h);
  start_next (self);
}

static void
timeout_cb (gpointer user_data)
{
  Handshake *h = user_data;

  if (h->step != STEP_RUNNING)
    {
      fail_early (h, TRUE, h->step == STEP_HELLO ? "no ClientHello" : "no free slot");
      return;
    }
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
    forget (self, h);
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
  if (self != NULL)
    start_next (self);
}

/* GIO takes it from here: glib-networking runs GnuTLS in a worker of its
 * own, which is why only a bounded number run at once. */
static void
run (MgwTlsHandshakes *self,
     Handshake        *h)
{
  g_autoptr(GError) error = NULL;

  h->tls = mgw_tls_identity_new_server_connection (h->identity, G_IO_STREAM (h->connection),
                                                   &error);
  if (h->tls == NULL)
    {
      fail_early (h, FALSE, error->message);
      return;
    }
  h->step = STEP_RUNNING;
  self->running++;
  g_tls_connection_handshake_async (G_TLS_CONNECTION (h->tls), G_PRIORITY_DEFAULT,
                                    h->cancellable, handshake_cb, h);
}

static void
start_next (MgwTlsHandshakes *self)
{
  while (self->running < self->max_running && !g_queue_is_empty (&self->waiting))
    run (self, g_queue_pop_head (&self->waiting));
}

/* The socket is readable: is a whole first record there, and is it a
 * TLS handshake? Peeked only: GnuTLS reads it later. */
static void
hello_cb (gpointer     user_data,
          GIOCondition condition)
{
  static guint8 buf[RECORD_HEADER + RECORD_MAX];
  Handshake *h = user_data;
  MgwTlsHandshakes *self = h->owner_set;
  int fd = g_socket_get_fd (g_socket_connection_get_socket (h->connection));
  gssize n;
  gsize want;

  do
    n = recv (fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n <= 0)
    {
      fail_early (h, FALSE, n == 0 ? "closed before its ClientHello" : g_strerror (errno));
      return;
    }
  if (buf[0] != RECORD_HANDSHAKE || (n >= 2 && buf[1] != 3))
    {
      fail_early (h, FALSE, "not a TLS ClientHello");
      return;
    }
  if (n < RECORD_HEADER)
    return;
  want = RECORD_HEADER + ((gsize) buf[3] << 8 | buf[4]);
  if (want > sizeof buf)
    {
      fail_early (h, FALSE, "oversized TLS record");
      return;
    }
  if ((gsize) n < want)
    return;
  g_clear_pointer (&h->watch, mgw_watch_free);
  h->step = STEP_WAITING;
  g_queue_push_tail (&self->waiting, h);
  start_next (self);
}

MgwTlsHandshakes *
mgw_tls_handshakes_new (guint max_running,
                        guint max_per_address)
{
  MgwTlsHandshakes *self;

  g_return_val_if_fail (max_running > 0 && max_per_address > 0, NULL);

  self = g_new0 (MgwTlsHandshakes, 1);
  self->pending = g_hash_table_new (NULL, NULL);
  self->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->waiting);
  self->max_running = max_running;
  self->max_per_address = max_per_address;
  return self;
}

void
mgw_tls_handshakes_set_exempt (MgwTlsHandshakes *self,
                               MgwAddressSet    *never_ban,
                               MgwAddressSet    *trusted)
{
  g_return_if_fail (self != NULL);

  self->never_ban = never_ban;
  self->trusted = trusted;
}

static gboolean
exempt (MgwTlsHandshakes *self,
        const char       *address)
{
  return (self->never_ban != NULL && mgw_address_set_get_size (self->never_ban) > 0 &&
          mgw_address_set_contains (self->never_ban, address)) ||
         (self->trusted != NULL && mgw_address_set_get_size (self->trusted) > 0 &&
          mgw_address_set_contains (self->trusted, address));
}

void
mgw_tls_handshakes_set_count_func (MgwTlsHandshakes    *self,
                                   MgwTlsHandshakeCount func,
                                   gpointer             user_data)
{
  g_return_if_fail (self != NULL);

  self->count = func;
  self->count_data = user_data;
}

void
mgw_tls_handshakes_cancel_all (MgwTlsHandshakes *self)
{
  g_autoptr(GList) all = NULL;

  g_return_if_fail (self != NULL);

  all = g_hash_table_get_keys (self->pending);
  for (GList *l = all; l != NULL; l = l->next)
    {
      Handshake *h = l->data;

      if (h->step == STEP_RUNNING)
        g_cancellable_cancel (h->cancellable);
      else
        fail_early (h, FALSE, "the gateway is stopping");
    }
}

void
mgw_tls_handshakes_free (MgwTlsHandshakes *self)
{
  g_autoptr(GList) all = NULL;

  if (self == NULL)
    return;
  /* Those in GIO finish later: their callbacks find no set and only
   * clean up. */
  all = g_hash_table_get_keys (self->pending);
  for (GList *l = all; l != NULL; l = l->next)
    {
      Handshake *h = l->data;

      if (h->step == STEP_RUNNING)
        {
          h->owner_set = NULL;
          mgw_timer_stop (&h->timer);
          g_cancellable_cancel (h->cancellable);
        }
      else
        {
          g_clear_pointer (&h->watch, mgw_watch_free);
          g_io_stream_close (G_IO_STREAM (h->connection), NULL, NULL);
          handshake_free (h);
        }
    }
  g_queue_clear (&self->waiting);
  g_hash_table_unref (self->pending);
  g_hash_table_unref (self->per_address);
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
  guint n;
  Handshake *h;

  g_return_if_fail (self != NULL && identity != NULL);
  g_return_if_fail (G_IS_SOCKET_CONNECTION (connection) && address != NULL);
  g_return_if_fail (G_IS_OBJECT (owner) && done != NULL);

  n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, address));
  if (n >= self->max_per_address && !exempt (self, address))
    {
      self->failed++;
      g_info ("TLS handshake with %s refused: %u under way from that address already",
              address, n);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return;
    }
  h = g_new0 (Handshake, 1);
  h->owner_set = self;
  h->owner = g_object_ref (owner);
  h->done = done;
  h->identity = mgw_tls_identity_ref (identity);
  h->connection = g_object_ref (connection);
  h->cancellable = g_cancellable_new ();
  h->address = g_strdup (address);
  h->port = port;
  h->step = STEP_HELLO;
  mgw_timer_init (&h->timer, timeout_cb, h);
  if (timeout_ms > 0)
    mgw_timer_start (&h->timer, timeout_ms);
  g_hash_table_add (self->pending, h);
  g_hash_table_insert (self->per_address, g_strdup (address), GUINT_TO_POINTER (n + 1));
  if (self->count != NULL)
    self->count (self->count_data, address, +1);
  h->watch = mgw_watch_new (g_socket_get_fd (g_socket_connection_get_socket (connection)),
                            G_IO_IN, hello_cb, h);
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
