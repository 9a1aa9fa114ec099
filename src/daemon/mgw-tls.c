/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-tls.c: the wss:// listener's certificate and key, checked whole.
 *
 * GIO builds the GTlsCertificate the server connections use (its chain
 * from the certificate file) and tells its subject and dates; it does
 * not check that the key is the certificate's (a mismatched pair loads,
 * then every handshake fails). GnuTLS, glib-networking's own library,
 * does: gnutls_certificate_set_x509_key_mem2() refuses a key that does
 * not match. The library is opened (GModule) the first time a pair is
 * checked, not linked. The files are read once, bounded, and both checks read the
 * same bytes. */
#include "config.h"

#include "mgw-tls.h"
#include "mgw-error.h"

#include <glib/gi18n.h>
#include <gmodule.h>
#include <gnutls/gnutls.h>
#include <string.h>

struct _MgwTlsIdentity
{
  GTlsCertificate *certificate;
  char            *subject;
  gint64           not_after;    /* µs since the epoch */
  guint            chain_length;
};

static char *
format_date (gint64 usec)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  return when != NULL ? g_date_time_format (when, "%Y-%m-%d %H:%M:%S UTC") : g_strdup ("?");
}

/* GnuTLS's calls, from the library opened when a pair is first checked:
 * linked, its libraries (GnuTLS, p11-kit, nettle, gmp...) would take
 * about 2 MiB of every gateway's memory, with or without a wss://
 * listener (glib-networking opens it itself for the connections). */
typedef int          (*AllocateFunc) (gnutls_certificate_credentials_t *res);
typedef int          (*SetKeyFunc)   (gnutls_certificate_credentials_t  res,
                                      const gnutls_datum_t             *cert,
                                      const gnutls_datum_t             *key,
                                      gnutls_x509_crt_fmt_t             type,
                                      const char                       *pass,
                                      unsigned int                      flags);
typedef void         (*ReleaseFunc)  (gnutls_certificate_credentials_t  sc);
typedef const char * (*DescribeFunc) (int                               error);

typedef struct
{
  AllocateFunc allocate;
  SetKeyFunc   set_key;
  ReleaseFunc  release;
  DescribeFunc describe;
} GnutlsCalls;

/* GnuTLS 3's soname since 3.4, 2015 (Debian's libgnutls30). */
#define GNUTLS_SONAME "libgnutls.so.30"

static const GnutlsCalls *
gnutls_calls (GError **error)
{
  static GnutlsCalls calls;
  static gboolean loaded;
  GModule *module;

  if (loaded)
    return &calls;
  module = g_module_open (GNUTLS_SONAME, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL ||
      !g_module_symbol (module, "gnutls_certificate_allocate_credentials",
                        (gpointer *) &calls.allocate) ||
      !g_module_symbol (module, "gnutls_certificate_set_x509_key_mem2",
                        (gpointer *) &calls.set_key) ||
      !g_module_symbol (module, "gnutls_certificate_free_credentials",
                        (gpointer *) &calls.release) ||
      !g_module_symbol (module, "gnutls_strerror", (gpointer *) &calls.describe))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, _("cannot load GnuTLS (%s): %s"),
                   GNUTLS_SONAME, g_module_error ());
      if (module != NULL)
        g_module_close (module);
      return NULL;
    }
  g_module_make_resident (module);
  loaded = TRUE;
  return &calls;
}

/* The key is the certificate's: GnuTLS loads the pair only then. */
static gboolean
check_pair (const char  *certificate_pem,
            gsize        certificate_len,
            const char  *key_pem,
            gsize        key_len,
            const char  *key_path,
            GError     **error)
{
  const GnutlsCalls *gnutls = gnutls_calls (error);
  gnutls_certificate_credentials_t credentials;
  gnutls_datum_t cert = { (unsigned char *) certificate_pem, (unsigned int) certificate_len };
  gnutls_datum_t key = { (unsigned char *) key_pem, (unsigned int) key_len };
  int status;

  if (gnutls == NULL)
    return FALSE;
  if (gnutls->allocate (&credentials) < 0)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_FAILED, "%s", _("out of memory"));
      return FALSE;
    }
  status = gnutls->set_key (credentials, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
  gnutls->release (credentials);
  if (status >= 0)
    return TRUE;
  if (status == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
    g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                 _("%s: the key is not the certificate's (they do not match)"), key_path);
  else if (status == GNUTLS_E_DECRYPTION_FAILED)
    g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                 _("%s: the key is encrypted; give it unencrypted (mode 0600)"), key_path);
  else if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE || status == GNUTLS_E_BASE64_DECODING_ERROR)
    g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("%s: no PEM private key in it"), key_path);
  else
    g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("%s: cannot use the key: %s"),
                 key_path, gnutls->describe (status));
  return FALSE;
}

MgwTlsIdentity *
mgw_tls_identity_load (const char  *certificate_path,
                       const char  *key_path,
                       gint64       now,
                       GError     **error)
{
  g_autofree char *certificate_pem = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *both = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GDateTime) not_before = NULL;
  g_autoptr(GDateTime) not_after = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *subject = NULL;
  MgwTlsIdentity *self;
  gsize certificate_len, key_len;
  gint64 before, after;

  g_return_val_if_fail (certificate_path != NULL && key_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mgw_file_get_contents_max (certificate_path, MGW_TLS_FILE_MAX, MGW_FILE_DEFAULT,
                                  &certificate_pem, &certificate_len, &local) ||
      !mgw_file_get_contents_max (key_path, MGW_TLS_FILE_MAX, MGW_FILE_DEFAULT,
                                  &key_pem, &key_len, &local))
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s", local->message);
      return NULL;
    }

  /* The certificate file alone first, so that its faults name it. */
  certificate = g_tls_certificate_new_from_pem (certificate_pem, -1, &local);
  if (certificate == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, "%s: %s", certificate_path,
                   local->message);
      return NULL;
    }
  g_clear_object (&certificate);
  if (!check_pair (certificate_pem, certificate_len, key_pem, key_len, key_path, error))
    return NULL;
  /* The certificates (the server's, then its chain) and the key, as the
   * server connections take them. */
  both = g_strconcat (certificate_pem, "\n", key_pem, NULL);
  certificate = g_tls_certificate_new_from_pem (both, -1, &local);
  if (certificate == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("%s and %s: %s"), certificate_path,
                   key_path, local->message);
      return NULL;
    }

  g_object_get (certificate, "not-valid-before", &not_before, "not-valid-after", &not_after,
                "subject-name", &subject, NULL);
  if (not_before == NULL || not_after == NULL)
    {
      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("%s: the certificate's validity dates cannot be read"), certificate_path);
      return NULL;
    }
  before = g_date_time_to_unix (not_before) * G_USEC_PER_SEC;
  after = g_date_time_to_unix (not_after) * G_USEC_PER_SEC;
  if (now > after)
    {
      g_autofree char *date = format_date (after);

      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG, _("%s: the certificate expired on %s"),
                   certificate_path, date);
      return NULL;
    }
  if (now < before)
    {
      g_autofree char *date = format_date (before);

      g_set_error (error, MGW_ERROR, MGW_ERROR_CONFIG,
                   _("%s: the certificate is not valid before %s"), certificate_path, date);
      return NULL;
    }

  self = g_rc_box_new0 (MgwTlsIdentity);
  self->certificate = g_steal_pointer (&certificate);
  self->subject = subject != NULL ? g_steal_pointer (&subject) : g_strdup ("");
  self->not_after = after;
  for (GTlsCertificate *c = self->certificate; c != NULL; c = g_tls_certificate_get_issuer (c))
    self->chain_length++;
  return self;
}

static void
identity_clear (MgwTlsIdentity *self)
{
  g_clear_object (&self->certificate);
  g_free (self->subject);
}

MgwTlsIdentity *
mgw_tls_identity_ref (MgwTlsIdentity *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_rc_box_acquire (self);
}

void
mgw_tls_identity_unref (MgwTlsIdentity *self)
{
  if (self != NULL)
    g_rc_box_release_full (self, (GDestroyNotify) identity_clear);
}

GTlsCertificate *
mgw_tls_identity_get_certificate (MgwTlsIdentity *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->certificate;
}

/* g_tls_server_connection_new() leaves the database unset, and
 * glib-networking 2.74 then takes the default one, reading and parsing
 * the system's CA bundle (/etc/ssl/certs/ca-certificates.crt) into the
 * new connection's own credentials: about 3.8 MiB kept a connection and
 * 20 ms of CPU a handshake (bench/RESULTS.md, target 7). A server that
 * requests no client certificate needs no database at all. */
GIOStream *
mgw_tls_identity_new_server_connection (MgwTlsIdentity  *self,
                                        GIOStream       *base,
                                        GError         **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (G_IS_IO_STREAM (base), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (g_tls_backend_get_server_connection_type (g_tls_backend_get_default ()),
                         NULL, error,
                         "base-io-stream", base,
                         "certificate", self->certificate,
                         "database", NULL,
                         NULL);
}

const char *
mgw_tls_identity_get_subject (MgwTlsIdentity *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->subject;
}

gint64
mgw_tls_identity_get_not_after (MgwTlsIdentity *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->not_after;
}

guint
mgw_tls_identity_get_chain_length (MgwTlsIdentity *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->chain_length;
}
