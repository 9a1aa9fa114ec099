/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-telnet-codec.h: Telnet codec (RFC 854 commands, RFC 1143 option
 * negotiation) shared by the Telnet listeners and the telnet:// client.
 *
 * Pure code, no I/O: the caller feeds the bytes read from the peer and sends
 * back what the codec puts in `reply`. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MGW_TELNET_ROLE_SERVER,   /* user/console side: we agree to WILL ECHO, WILL SGA; peer may WILL SGA */
  MGW_TELNET_ROLE_CLIENT,   /* we connect to a telnet:// videotex server: peer may WILL ECHO / WILL SGA; we agree to DO SGA (i.e. we WILL SGA); no initial requests */
} MgwTelnetRole;

typedef enum {
  MGW_TELNET_START_NONE = 0,      /* send nothing at start (client role default) */
  MGW_TELNET_START_WILL_ECHO,     /* server default: IAC WILL ECHO IAC WILL SGA (FF FB 01 FF FB 03) */
  MGW_TELNET_START_DO_ECHO,       /* legacy PyMoIP: IAC DO ECHO (FF FD 01) only; in this mode peer WILL ECHO is accepted */
} MgwTelnetStart;

typedef struct _MgwTelnetCodec MgwTelnetCodec;

/* Longest subnegotiation content (option byte included) kept out of the data
 * stream; past it the codec gives up waiting for IAC SE. */
#define MGW_TELNET_SB_MAX 64

MgwTelnetCodec *mgw_telnet_codec_new (MgwTelnetRole role, MgwTelnetStart start);
void            mgw_telnet_codec_free (MgwTelnetCodec *codec);
/* Appends the initial negotiation bytes (per `start`) to `reply` and records the pending requests (RFC 1143 WANTYES). Call once. */
void            mgw_telnet_codec_start (MgwTelnetCodec *codec, GByteArray *reply);
/* Decodes `len` bytes from the peer: data bytes (telnet commands stripped, IAC IAC -> one 0xFF) are appended to `data`; negotiation answers to send back are appended to `reply`. Keeps state across calls: every sequence may be split at any byte boundary. */
void            mgw_telnet_codec_decode (MgwTelnetCodec *codec, const guint8 *in, gsize len, GByteArray *data, GByteArray *reply);
/* Appends `len` data bytes to `out`, doubling every 0xFF. Stateless. */
void            mgw_telnet_encode (const guint8 *in, gsize len, GByteArray *out);
/* Option state queries, for tests and diagnostics: TRUE when the option is enabled on our side (us) or the peer's side (him). */
gboolean        mgw_telnet_codec_us_enabled (MgwTelnetCodec *codec, guint8 option);
gboolean        mgw_telnet_codec_him_enabled (MgwTelnetCodec *codec, guint8 option);
/* Counters */
guint64         mgw_telnet_codec_get_refused (MgwTelnetCodec *codec);      /* number of WONT/DONT refusals sent */
guint64         mgw_telnet_codec_get_sb_truncated (MgwTelnetCodec *codec); /* subnegotiations abandoned at MGW_TELNET_SB_MAX */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwTelnetCodec, mgw_telnet_codec_free)

G_END_DECLS
