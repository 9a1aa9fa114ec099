/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-tls.h: the identity the wss:// listener shows: a certificate (its
 * chain after it) and its private key, read from PEM files and checked
 * whole before the gateway uses them: both readable, the key the
 * certificate's, the certificate valid now. A reload reads the files
 * again and swaps identities only when the new one passes. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* PEM files larger than this are refused: a chain is a few KiB. */
#define MGW_TLS_FILE_MAX (1024 * 1024)

typedef struct _MgwTlsIdentity MgwTlsIdentity;

/* Reads and checks the pair; now: µs since the epoch, what "valid now"
 * is judged against. NULL with error (MGW_ERROR_CONFIG, the reason in
 * one line, the file named) when the pair cannot serve. */
MgwTlsIdentity  *mgw_tls_identity_load            (const char      *certificate_path,
                                                   const char      *key_path,
                                                   gint64           now,
                                                   GError         **error);
MgwTlsIdentity  *mgw_tls_identity_ref             (MgwTlsIdentity  *self);
void             mgw_tls_identity_unref           (MgwTlsIdentity  *self);
GTlsCertificate *mgw_tls_identity_get_certificate (MgwTlsIdentity  *self);
/* The certificate's subject, as GnuTLS writes it ("CN=example.org"). */
const char      *mgw_tls_identity_get_subject     (MgwTlsIdentity  *self);
/* When the certificate expires, µs since the epoch. */
gint64           mgw_tls_identity_get_not_after   (MgwTlsIdentity  *self);
/* Certificates in the chain read, the server's own included. */
guint            mgw_tls_identity_get_chain_length (MgwTlsIdentity *self);
/* A TLS server connection over base showing the identity, with no trust
 * database (the gateway asks for no client certificate): given one,
 * glib-networking 2.74 loads the whole system store into every
 * connection. NULL with error when GIO cannot make one. */
GIOStream       *mgw_tls_identity_new_server_connection (MgwTlsIdentity  *self,
                                                         GIOStream       *base,
                                                         GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwTlsIdentity, mgw_tls_identity_unref)

G_END_DECLS
