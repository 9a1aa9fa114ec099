/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-redirect-policy.c: the allow-list of redirect targets.
 *
 * `allow` is a comma-separated list of entries `scheme:host` or
 * `scheme:host:port`: the scheme is ws, wss, telnet, tcp or *, the host a
 * glob (`*`, `?`) matched without regard to case against the target's
 * host name or address as written in the URI (an IPv6 address in
 * brackets, `[2001:db8::1]`), the port a number or *. A target without
 * a port has its scheme's (80, 443, 23; tcp has none: such a target is
 * refused). A target is allowed when an
 * entry matches it. A guarded host (loopback, link-local, unspecified:
 * services of this machine or its link, never meant for users) matches
 * only an entry that names it without a wildcard. Pure: no I/O, nothing kept between calls (a CONNECT
 * is rare, the list short). */
#include "config.h"

#include "mgw-redirect-policy.h"
#include "mgw-error.h"
#include "mgw-address-set.h"
#include "mgw-uri.h"

#include <string.h>

typedef struct
{
  char *scheme;   /* lower case, or "*" */
  char *host;     /* a glob, lower case */
  int   port;     /* -1: any */
} Entry;

static void
entry_clear (Entry *e)
{
  g_clear_pointer (&e->scheme, g_free);
  g_clear_pointer (&e->host, g_free);
}

static gboolean
parse_entry (const char  *text,
             Entry       *e,
             GError     **error)
{
  const char *colon = strchr (text, ':');
  const char *rest;
  const char *port = NULL;

  if (colon == NULL || colon == text)
    goto bad;
  e->scheme = g_ascii_strdown (text, colon - text);
  if (!g_str_equal (e->scheme, "ws") && !g_str_equal (e->scheme, "wss") &&
      !g_str_equal (e->scheme, "telnet") && !g_str_equal (e->scheme, "tcp") &&
      !g_str_equal (e->scheme, "*"))
    goto bad;
  rest = colon + 1;
  if (*rest == '[')
    {
      const char *close = strchr (rest, ']');
      if (close == NULL)
        goto bad;
      e->host = g_ascii_strdown (rest, close + 1 - rest);
      if (close[1] == ':')
        port = close + 2;
      else if (close[1] != '\0')
        goto bad;
    }
  else
    {
      const char *last = strrchr (rest, ':');
      e->host = g_ascii_strdown (rest, last ? last - rest : -1);
      if (last != NULL)
        port = last + 1;
    }
  if (*e->host == '\0')
    goto bad;
  e->port = -1;
  if (port != NULL && !g_str_equal (port, "*"))
    {
      guint64 n;
      if (!g_ascii_string_to_unsigned (port, 10, 1, 65535, &n, NULL))
        goto bad;
      e->port = (int) n;
    }
  return TRUE;

bad:
  entry_clear (e);
  g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
               "'%s' is not scheme:host or scheme:host:port (scheme ws, wss, telnet, tcp or *)",
               text);
  return FALSE;
}

typedef gboolean (*EntryMatchFunc) (const Entry *e,
                                    gpointer     data);

/* Calls `match` on each entry until it returns TRUE; FALSE on a bad
 * entry (error set) or when none matched. */
static gboolean
each_entry (const char      *allow,
            EntryMatchFunc   match,
            gpointer         data,
            GError         **error)
{
  g_auto(GStrv) items = g_strsplit (allow ? allow : MGW_REDIRECT_ALLOW_DEFAULT, ",", -1);
  guint n = 0;

  for (guint i = 0; items[i] != NULL; i++)
    {
      Entry e = { 0 };
      gboolean matched;

      g_strstrip (items[i]);
      if (*items[i] == '\0')
        continue;
      if (!parse_entry (items[i], &e, error))
        return FALSE;
      n++;
      matched = match != NULL && match (&e, data);
      entry_clear (&e);
      if (matched)
        return TRUE;
    }
  if (match == NULL && n == 0)
    {
      g_set_error_literal (error, MGW_ERROR, MGW_ERROR_CONFIG,
                           "the list is empty: no redirection could ever be made");
      return FALSE;
    }
  return match == NULL;
}

gboolean
mgw_redirect_policy_validate (const char  *allow,
                              GError     **error)
{
  return each_entry (allow, NULL, NULL, error);
}

gboolean
mgw_redirect_policy_is_guarded_host (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autofree char *bare = NULL;
  gsize len;

  g_return_val_if_fail (host != NULL, FALSE);

  len = strlen (host);
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
    host = bare = g_strndup (host + 1, len - 2);
  /* A zone ("fe80::1%lo") as the resolver reads it: ignored. */
  address = mgw_address_parse (host);
  if (address == NULL)
    {
      gsize n = strlen (host);
      /* RFC 6761: localhost and its subdomains are this machine. */
      if (n > 0 && host[n - 1] == '.')
        n--;
      return (n == 9 && g_ascii_strncasecmp (host, "localhost", 9) == 0) ||
             (n > 10 && g_ascii_strncasecmp (host + n - 10, ".localhost", 10) == 0);
    }
  return g_inet_address_get_is_loopback (address) ||
         g_inet_address_get_is_link_local (address) ||
         g_inet_address_get_is_any (address);
}

typedef struct
{
  const char *scheme;
  char       *host;
  int         port;
  gboolean    guarded;
} Target;

static gboolean
target_matches (const Entry *e,
                gpointer     data)
{
  Target *t = data;

  if (t->guarded && strpbrk (e->host, "*?") != NULL)
    return FALSE;
  return (g_str_equal (e->scheme, "*") || g_str_equal (e->scheme, t->scheme)) &&
         (e->port < 0 || e->port == t->port) &&
         g_pattern_match_simple (e->host, t->host);
}

/* TRUE when `uri` may be a redirect target; FALSE with `error` saying
 * why otherwise (a bad list too: refused, never allowed by mistake). */
gboolean
mgw_redirect_policy_allows (const char  *allow,
                            const char  *uri,
                            GError     **error)
{
  g_autoptr(GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  g_autofree char *scheme = NULL;
  g_autoptr(GError) local = NULL;
  Target t = { 0 };
  const char *host;
  gboolean allowed;

  /* A list with a bad entry allows nothing, even what an earlier entry
   * would. */
  if (!mgw_redirect_policy_validate (allow, error))
    return FALSE;
  if (parsed == NULL || g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT, "'%s' names no host", uri);
      return FALSE;
    }
  scheme = g_ascii_strdown (g_uri_get_scheme (parsed), -1);
  host = g_uri_get_host (parsed);
  t.scheme = scheme;
  /* An IPv6 address as written in URIs and in the list: in brackets. */
  t.host = strchr (host, ':') != NULL ? g_strdup_printf ("[%s]", host) : g_strdup (host);
  {
    char *lower = g_ascii_strdown (t.host, -1);
    g_free (t.host);
    t.host = lower;
  }
  t.guarded = mgw_redirect_policy_is_guarded_host (host);
  t.port = mgw_uri_get_port (parsed);
  if (t.port == 0)
    {
      g_free (t.host);
      g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                   "'%s' names no port, and its scheme has none of its own", uri);
      return FALSE;
    }
  allowed = each_entry (allow, target_matches, &t, &local);
  g_free (t.host);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!allowed && t.guarded)
    g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                 "'%s' is a loopback, link-local or unspecified address: only a "
                 "[redirect] allow entry naming its host without a wildcard allows it", uri);
  else if (!allowed)
    g_set_error (error, MGW_ERROR, MGW_ERROR_BAD_INPUT,
                 "'%s' is not in the redirect allow-list ([redirect] allow)", uri);
  return allowed;
}
