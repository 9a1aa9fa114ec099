/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-admission.c: the rules a new user meets before any session. */
#include "config.h"

#include "mgw-admission.h"
#include "mgw-minitel.h"
#include "mgw-poller.h"
#include "mgw-proxy.h"
#include "mgw-rate-table.h"

#include <glib/gi18n.h>
#include <sys/resource.h>

/* Descriptors kept free for redirections, consoles, files, the bus. */
#define FD_RESERVE 64

/* Connections of an address not yet sessions, and how many were
 * refused for it since it had none. */
typedef struct
{
  guint n;
  guint refused;
} Pending;

struct _MgwAdmission
{
  MgwBanList      *bans;
  MgwAddressSet   *trusted;
  MgwAddressSet   *never_ban;
  MgwAddressSet   *local;
  const MgwConfig *config;
  guint64         *refused_banned;
  guint64         *refused_full;
  guint64         *refused_rate;
  guint64         *refused_pending;
  guint64         *refused_draining;
  gboolean         draining;
  /* Per-address tables, bounded (docs/security.md, Per-address tables):
   * the two counts lose an address as its count falls to zero, so they
   * hold at most one entry per connection open; the rates are capped. */
  GHashTable      *per_address;    /* address -> number of sessions */
  GHashTable      *pending;        /* address -> Pending */
  MgwRateTable    *rates;
  guint            fd_limit;       /* RLIMIT_NOFILE, raised to its maximum; 0: unknown */
  guint            fd_base;        /* descriptors open before any user */
  gboolean         fd_warned;
};

MgwAdmission *
mgw_admission_new (guint64 *refused_banned,
                   guint64 *refused_full,
                   guint64 *refused_rate,
                   guint64 *refused_pending,
                   guint64 *refused_draining)
{
  MgwAdmission *self;

  g_return_val_if_fail (refused_banned != NULL && refused_full != NULL, NULL);
  g_return_val_if_fail (refused_rate != NULL && refused_pending != NULL, NULL);
  g_return_val_if_fail (refused_draining != NULL, NULL);

  self = g_new0 (MgwAdmission, 1);
  self->refused_banned = refused_banned;
  self->refused_full = refused_full;
  self->refused_rate = refused_rate;
  self->refused_pending = refused_pending;
  self->refused_draining = refused_draining;
  self->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->rates = mgw_rate_table_new (MGW_RATE_TABLE_MAX);
  return self;
}

void
mgw_admission_free (MgwAdmission *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->per_address);
  g_hash_table_unref (self->pending);
  mgw_rate_table_free (self->rates);
  g_free (self);
}

void
mgw_admission_set_ban_list (MgwAdmission *self,
                            MgwBanList   *bans)
{
  g_return_if_fail (self != NULL);

  self->bans = bans;
}

void
mgw_admission_set_exempt (MgwAdmission  *self,
                          MgwAddressSet *never_ban,
                          MgwAddressSet *local)
{
  g_return_if_fail (self != NULL);

  self->never_ban = never_ban;
  self->local = local;
}

void
mgw_admission_set_trusted (MgwAdmission  *self,
                           MgwAddressSet *trusted)
{
  g_return_if_fail (self != NULL);

  self->trusted = trusted;
}

void
mgw_admission_set_config (MgwAdmission    *self,
                          const MgwConfig *config)
{
  g_return_if_fail (self != NULL && config != NULL);

  self->config = config;
  mgw_rate_table_set_rate (self->rates, config->connection_rate, config->connection_burst);
}

void
mgw_admission_set_draining (MgwAdmission *self,
                            gboolean      draining)
{
  g_return_if_fail (self != NULL);

  self->draining = draining;
}

void
mgw_admission_setup_files (MgwAdmission *self)
{
  struct rlimit limit;
  g_autoptr(GDir) dir = NULL;

  g_return_if_fail (self != NULL);

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
    {
      if (limit.rlim_cur < limit.rlim_max)
        {
          limit.rlim_cur = limit.rlim_max;
          if (setrlimit (RLIMIT_NOFILE, &limit) < 0)
            getrlimit (RLIMIT_NOFILE, &limit);
        }
      self->fd_limit = limit.rlim_cur == RLIM_INFINITY ? G_MAXUINT : (guint) MIN (limit.rlim_cur, G_MAXUINT);
    }
  dir = g_dir_open ("/proc/self/fd", 0, NULL);
  while (dir != NULL && g_dir_read_name (dir) != NULL)
    self->fd_base++;
  /* Listeners, command channel, bus and ban list are opened next. */
  self->fd_base += 16;
  g_message ("limit on open files: %u, room for about %u users", self->fd_limit,
             self->fd_limit > self->fd_base + FD_RESERVE ?
             (self->fd_limit - self->fd_base - FD_RESERVE) / 2 : 0);
}

gboolean
mgw_admission_is_trusted (MgwAdmission *self,
                          const char   *address)
{
  g_return_val_if_fail (self != NULL && address != NULL, FALSE);

  return self->trusted != NULL && mgw_address_set_get_size (self->trusted) > 0 &&
         mgw_address_set_contains (self->trusted, address);
}

gboolean
mgw_admission_refuse_accept (MgwAdmission *self,
                             const char   *address,
                             MgwAccess     access,
                             guint         user_fds)
{
  g_return_val_if_fail (self != NULL && address != NULL, FALSE);

  if (mgw_admission_is_trusted (self, address))
    return FALSE;
  if (mgw_admission_is_banned (self, address, access) ||
      mgw_admission_refuse_rate (self, address, access))
    return TRUE;
  return access == MGW_ACCESS_WS &&
         (mgw_admission_files_short (self, user_fds) || mgw_admission_pending_full (self, address));
}

static gboolean
in_set (MgwAddressSet *set,
        const char    *address)
{
  return set != NULL && mgw_address_set_get_size (set) > 0 && mgw_address_set_contains (set, address);
}

/* A rule's ban; the ban list refuses never-ban and local addresses. */
static void
ban (MgwAdmission *self,
     const char   *address,
     const char   *rule,
     const char   *reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("%s: %s", rule, reason);

  if (self->bans != NULL && !mgw_ban_list_ban (self->bans, address, text, rule, &error))
    g_info ("not banning %s (%s): %s", address, text, error->message);
}

gboolean
mgw_admission_refuse_rate (MgwAdmission *self,
                           const char   *address,
                           MgwAccess     access)
{
  g_autofree char *key = NULL;
  MgwRateVerdict verdict;

  g_return_val_if_fail (self != NULL && address != NULL, FALSE);

  if (in_set (self->never_ban, address) || in_set (self->local, address))
    return FALSE;
  /* One bucket for what one ban covers: an IPv6 user's whole prefix,
   * or its many addresses would each get a burst. */
  if (self->bans != NULL)
    key = mgw_ban_list_key (self->bans, address);
  verdict = mgw_rate_table_hit (self->rates, key != NULL ? key : address, mgw_poller_now ());
  if (verdict == MGW_RATE_ADMIT)
    return FALSE;
  (*self->refused_rate)++;
  g_info ("refused %s user %s: more than %u connections a second (rule connection-rate)",
          mgw_access_to_string (access), address, self->config->connection_rate);
  if (verdict == MGW_RATE_BAN)
    {
      g_autofree char *reason =
        g_strdup_printf ("%u connections refused beyond %u a second", self->config->connection_burst,
                         self->config->connection_rate);
      ban (self, address, "connection-rate", reason);
    }
  return TRUE;
}

gboolean
mgw_admission_pending_full (MgwAdmission *self,
                            const char   *address)
{
  guint max;
  Pending *p;

  g_return_val_if_fail (self != NULL && self->config != NULL && address != NULL, FALSE);

  max = self->config->max_pending_per_address;
  p = g_hash_table_lookup (self->pending, address);
  if (max == 0 || p == NULL || p->n < max ||
      mgw_admission_is_trusted (self, address) || in_set (self->never_ban, address))
    return FALSE;
  (*self->refused_pending)++;
  g_info ("refused WebSocket user %s: %u connections already waiting for their upgrade "
          "(rule max-pending-per-address)", address, p->n);
  if (++p->refused >= max)
    {
      g_autofree char *reason =
        g_strdup_printf ("%u connections refused beyond %u waiting for their upgrade",
                         p->refused, max);
      p->refused = 0;
      ban (self, address, "max-pending-per-address", reason);
    }
  return TRUE;
}

void
mgw_admission_pending (MgwAdmission *self,
                       const char   *address,
                       int           delta)
{
  Pending *p;

  g_return_if_fail (self != NULL && address != NULL);

  p = g_hash_table_lookup (self->pending, address);
  if (p == NULL && delta > 0)
    {
      p = g_new0 (Pending, 1);
      g_hash_table_insert (self->pending, g_strdup (address), p);
    }
  if (p == NULL)
    return;
  p->n = delta < 0 && (guint) - delta >= p->n ? 0 : p->n + delta;
  if (p->n == 0)
    g_hash_table_remove (self->pending, address);
}

guint
mgw_admission_get_table_size (MgwAdmission *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return g_hash_table_size (self->per_address) + g_hash_table_size (self->pending) +
         mgw_rate_table_get_size (self->rates);
}

guint
mgw_admission_decide_upgrade (MgwAdmission  *self,
                              MgwHttpHead   *request,
                              char         **address,
                              guint16       *port)
{
  g_return_val_if_fail (self != NULL && self->config != NULL, 403);
  g_return_val_if_fail (request != NULL && address != NULL && *address != NULL, 403);
  g_return_val_if_fail (port != NULL, 403);

  gboolean named = FALSE;

  if (mgw_admission_is_trusted (self, *address))
    {
      gboolean forwarded = self->config->proxy_forwarded;
      g_autofree char *client = NULL;
      guint16 client_port = 0;

      /* Only the header the proxy is configured to write: the other one
       * may come from the client, passed through untouched. */
      if (mgw_proxy_parse_forwarded (forwarded ? mgw_http_head_get (request, "Forwarded") : NULL,
                                     forwarded ? NULL :
                                     mgw_http_head_get (request, "X-Forwarded-For"),
                                     &client, &client_port))
        {
          g_free (*address);
          *address = g_steal_pointer (&client);
          *port = client_port;
          named = TRUE;
        }
    }
  if (mgw_admission_is_banned (self, *address, MGW_ACCESS_WS))
    return 403;
  /* The client a proxy names: its rate now (a direct one's was at accept). */
  if (named && mgw_admission_refuse_rate (self, *address, MGW_ACCESS_WS))
    return 403;
  return 101;
}

gboolean
mgw_admission_is_banned (MgwAdmission *self,
                         const char   *address,
                         MgwAccess     access)
{
  g_return_val_if_fail (self != NULL && address != NULL, FALSE);

  if (self->bans == NULL || !mgw_ban_list_check (self->bans, address))
    return FALSE;
  (*self->refused_banned)++;
  g_info ("refused %s user %s: banned", mgw_access_to_string (access), address);
  return TRUE;
}

gboolean
mgw_admission_files_short (MgwAdmission *self,
                           guint         user_fds)
{
  guint used, room;

  g_return_val_if_fail (self != NULL, FALSE);

  used = self->fd_base + user_fds + 2;
  room = self->fd_limit > FD_RESERVE ? self->fd_limit - FD_RESERVE : 0;
  if (self->fd_limit == 0)
    return FALSE;
  if (!self->fd_warned && used >= room / 10 * 9)
    {
      self->fd_warned = TRUE;
      g_warning ("nearing the limit on open files: about %u of %u in use; new users are "
                 "refused beyond %u (raise LimitNOFILE=)", used, self->fd_limit, room);
    }
  else if (self->fd_warned && used < room / 10 * 8)
    self->fd_warned = FALSE;
  return used > room;
}

const char *
mgw_admission_refuse_full (MgwAdmission *self,
                           const char   *address,
                           guint         n_sessions,
                           guint         user_fds)
{
  const MgwConfig *c;

  g_return_val_if_fail (self != NULL && self->config != NULL && address != NULL, NULL);

  c = self->config;
  if (self->draining)
    return "draining";
  if (c->max_sessions > 0 && n_sessions >= c->max_sessions)
    return "max-sessions";
  if (c->max_sessions_per_address > 0 &&
      GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, address)) >=
      c->max_sessions_per_address)
    return "max-sessions-per-address";
  if (mgw_admission_files_short (self, user_fds))
    return "file-descriptors";
  return NULL;
}

void
mgw_admission_turn_away (MgwAdmission *self,
                         MgwLink      *link,
                         const char   *address,
                         const char   *rule)
{
  g_autoptr(GBytes) line = NULL;

  g_return_if_fail (self != NULL && MGW_IS_LINK (link) && rule != NULL);

  if (g_str_equal (rule, "draining"))
    {
      (*self->refused_draining)++;
      g_message ("refused user %s: the gateway is draining", address);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      line = mgw_minitel_status_line (_("SERVICE CLOSING, RETRY LATER"));
    }
  else
    {
      (*self->refused_full)++;
      g_message ("refused user %s: service full (rule %s)", address, rule);
      /* TRANSLATORS: a Minitel status line, 39 places at most. */
      line = mgw_minitel_status_line (_("SERVICE FULL, RETRY LATER"));
    }
  mgw_link_send (link, line);
  mgw_link_close (link, TRUE);
}

void
mgw_admission_count (MgwAdmission *self,
                     const char   *address,
                     int           delta)
{
  guint n;

  g_return_if_fail (self != NULL && address != NULL);

  n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, address)) + delta;
  if (n == 0)
    g_hash_table_remove (self->per_address, address);
  else
    g_hash_table_replace (self->per_address, g_strdup (address), GUINT_TO_POINTER (n));
}
