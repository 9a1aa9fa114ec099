/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-proxy.h: the client's real address when the gateway sits behind a
 * load balancer or reverse proxy -- HAProxy's PROXY protocol (v1 text,
 * v2 binary) in front of a raw TCP stream, and the Forwarded /
 * X-Forwarded-For headers of an HTTP upgrade. Pure functions, no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MGW_PROXY_V1_MAX 107          /* per the spec, CRLF included */
#define MGW_PROXY_V2_MAX (16 + 536)   /* header + the largest address block we accept */

typedef enum {
  MGW_PROXY_NEED_MORE,   /* a valid prefix of a header: read more bytes (never returned once len >= the max for the version) */
  MGW_PROXY_ABSENT,      /* the data does not start with a PROXY v1 ("PROXY ") or v2 signature: no header */
  MGW_PROXY_DONE,        /* header parsed; info filled */
  MGW_PROXY_ERROR,       /* malformed, oversized or unsupported; error set */
} MgwProxyResult;

typedef struct {
  gsize    header_len;   /* bytes the header takes at the start of data */
  gboolean local;        /* v1 "UNKNOWN" or v2 LOCAL command / AF_UNSPEC / AF_UNIX: keep the socket's own address */
  char     address[48];  /* source address, textual (IPv4 dotted or IPv6 as g_inet_address_to_string prints it) */
  guint16  port;         /* source port */
} MgwProxyInfo;

/* Parses the PROXY header at the start of data. info is written only on
 * MGW_PROXY_DONE; when info->local is TRUE, address is "" and port 0.
 * An IPv4-mapped IPv6 source (::ffff:a.b.c.d) is reported as IPv4. */
MgwProxyResult mgw_proxy_parse (const guint8  *data,
                                gsize          len,
                                MgwProxyInfo  *info,
                                GError       **error);

/* Whether data, the first bytes a peer sent, is a PROXY header, to
 * refuse one from a peer not trusted to send it: MGW_PROXY_DONE when it
 * starts with a whole v1 signature and protocol word ("PROXY TCP4 ",
 * "PROXY TCP6 ", "PROXY UNKNOWN") or the whole 12-byte v2 signature;
 * MGW_PROXY_NEED_MORE while it is a shorter prefix of one (a lone "P",
 * "\r\n": user data so far, look again with more bytes);
 * MGW_PROXY_ABSENT otherwise. Never more than MGW_PROXY_DETECT_MAX bytes
 * are needed to decide. */
#define MGW_PROXY_DETECT_MAX 13
MgwProxyResult mgw_proxy_detect (const guint8 *data,
                                 gsize         len);

/* The client address from HTTP headers set by a trusted reverse proxy:
 * RFC 7239 Forwarded (the `for=` of the LAST element; quoted, IPv6 in
 * brackets with optional port, "unknown"/obfuscated identifiers ignored
 * -> FALSE) takes precedence over X-Forwarded-For (the LAST
 * comma-separated entry, whitespace trimmed; may be IPv4, bare IPv6, or
 * [IPv6]:port / IPv4:port). Either header may be NULL. Returns FALSE
 * (address untouched) when neither yields a valid IP address. *address is
 * newly allocated, normalised through GInetAddress (an IPv4-mapped IPv6
 * address becomes IPv4).
 *
 * When Forwarded yields no address, X-Forwarded-For is tried. port may be
 * NULL; it is set to 0 when the winning entry carries no (numeric) port. */
gboolean       mgw_proxy_parse_forwarded (const char  *forwarded,
                                          const char  *x_forwarded_for,
                                          char       **address,
                                          guint16     *port);

G_END_DECLS
