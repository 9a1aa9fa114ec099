/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-admission.c: the rules a new user meets before any session. */
#include "config.h"

#include "mgw-admission.h"
#include "mgw-minitel.h"
#include "mgw-proxy.h"

#include <glib/gi18n.h>
#include <sys/resource.h>

/* Descriptors kept free for redirections, consoles, files, the bus. */
#define FD_RESERVE 64

struct _MgwAdmission
{
  MgwBanList      *bans;
  MgwAddressSet   *trusted;
  const MgwConfig *config;
  guint64         *refused_banned;
  guint64         *refused_full;
  GHashTable      *per_address;    /* address -> number of sessions */
  guint            fd_limit;       /* RLIMIT_NOFILE, raised to its maximum; 0: unknown */
  guint            fd_base;        /* descriptors open before any user */
  gboolean         fd_warned;
};

MgwAdmission *
mgw_admission_new (guint64 *refused_banned,
                   guint64 *refused_full)
{
  MgwAdmission *self;

  g_return_val_if_fail (refused_banned != NULL && refused_full != NULL, NULL);

  self = g_new0 (MgwAdmission, 1);
  self->refused_banned = refused_banned;
  self->refused_full = refused_full;
  self->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
mgw_admission_free (MgwAdmission *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->per_address);
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
  return mgw_admission_is_banned (self, address, access) ||
         (access == MGW_ACCESS_WS && mgw_admission_files_short (self, user_fds));
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
        }
    }
  return mgw_admission_is_banned (self, *address, MGW_ACCESS_WS) ? 403 : 101;
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
  /* TRANSLATORS: a Minitel status line, 39 places at most. */
  g_autoptr(GBytes) line = mgw_minitel_status_line (_("SERVICE FULL, RETRY LATER"));

  g_return_if_fail (self != NULL && MGW_IS_LINK (link));

  (*self->refused_full)++;
  g_message ("refused user %s: service full (rule %s)", address, rule);
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
