/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-ws-codec.h: WebSocket (RFC 6455) framing and opening handshakes,
 * for both ends of a link: users connecting to the gateway (server role)
 * and the gateway connecting to ws:// videotex servers (client role).
 *
 * The HTTP heads themselves are mgw-http.h's.
 *
 * Pure code, no I/O: the caller feeds the bytes read from the peer, takes
 * events out, and sends what the encoders append. No extensions (no
 * permessage-deflate) are ever negotiated. */
#pragma once

#include <glib.h>

#include "mgw-http.h"

G_BEGIN_DECLS

/* How a link carries videotex bytes in WebSocket messages. */
typedef enum {
  MGW_FRAME_TEXT,    /* one code point per byte, latin-1 style (compat) */
  MGW_FRAME_BINARY,
} MgwFrameType;

typedef enum {
  MGW_WS_ROLE_SERVER,   /* receives masked frames, sends unmasked ones */
  MGW_WS_ROLE_CLIENT,   /* receives unmasked frames, sends masked ones */
} MgwWsRole;

typedef enum {
  MGW_WS_OP_CONTINUATION = 0x0,
  MGW_WS_OP_TEXT = 0x1,
  MGW_WS_OP_BINARY = 0x2,
  MGW_WS_OP_CLOSE = 0x8,
  MGW_WS_OP_PING = 0x9,
  MGW_WS_OP_PONG = 0xA,
} MgwWsOpcode;

typedef enum {
  MGW_WS_EVENT_MESSAGE,
  MGW_WS_EVENT_PING,
  MGW_WS_EVENT_PONG,
  MGW_WS_EVENT_CLOSE,
  MGW_WS_EVENT_ERROR,
} MgwWsEventType;

/* Close codes (RFC 6455 section 7.4.1) the codec itself uses. */
#define MGW_WS_CLOSE_NORMAL         1000
#define MGW_WS_CLOSE_GOING_AWAY     1001
#define MGW_WS_CLOSE_PROTOCOL_ERROR 1002
#define MGW_WS_CLOSE_NO_STATUS      1005
#define MGW_WS_CLOSE_BAD_DATA       1007
#define MGW_WS_CLOSE_TOO_BIG        1009

/* Longest frame header: 2 + 8 (64-bit length) + 4 (masking key). */
#define MGW_WS_HEADER_MAX 14
/* Longest control frame payload. */
#define MGW_WS_CONTROL_MAX 125

typedef struct {
  MgwWsEventType type;
  MgwWsOpcode    opcode;     /* MESSAGE: TEXT or BINARY (of the first fragment); otherwise the frame's opcode (ERROR: 0) */
  const guint8  *payload;    /* unmasked; MESSAGE: the whole reassembled message; PING/PONG: the payload;
                                CLOSE: the reason bytes (after the code). Valid until the next call on the decoder. */
  gsize          len;
  guint16        close_code; /* CLOSE: the code received (1005 when the frame had no payload);
                                ERROR: the code WE must close with (1002 protocol, 1007 bad UTF-8 in a
                                close reason, 1009 message too big) */
  const char    *error;      /* ERROR: a short English description for the log (static) */
} MgwWsEvent;

typedef struct _MgwWsDecoder MgwWsDecoder;

/* max_message bounds a data message (the sum of its fragments) and, as
 * they share the budget, a control frame's payload plus the fragments
 * already held: get_buffered() never exceeds max_message + MGW_WS_HEADER_MAX. */
MgwWsDecoder *mgw_ws_decoder_new  (MgwWsRole role,
                                   gsize     max_message);
void          mgw_ws_decoder_free (MgwWsDecoder *self);
/* Takes effect from the next frame header. */
void          mgw_ws_decoder_set_max_message (MgwWsDecoder *self,
                                              gsize         max_message);
MgwWsRole     mgw_ws_decoder_get_role (MgwWsDecoder *self);
/* Hands bytes read from the peer to the decoder. Zero-copy contract: `data`
 * must stay valid until mgw_ws_decoder_next() has returned FALSE; at that
 * point the decoder has copied the unparsed tail (a partial frame) into its
 * own buffers. Call it only when next() has returned FALSE (or before the
 * first next()). */
void          mgw_ws_decoder_push (MgwWsDecoder *self,
                                   const guint8 *data,
                                   gsize         len);
/* The next event, or FALSE when more bytes are needed. After an ERROR
 * event, or after a CLOSE event, it returns FALSE for ever (and push()
 * ignores data). */
gboolean      mgw_ws_decoder_next (MgwWsDecoder *self,
                                   MgwWsEvent   *event);
/* Bytes held (partial header, partial frame, fragments, the last event's
 * payload when the decoder had to copy it); 0 once finished. */
gsize         mgw_ws_decoder_get_buffered (MgwWsDecoder *self);
/* TRUE once an ERROR or a CLOSE event has been returned. */
gboolean      mgw_ws_decoder_is_finished (MgwWsDecoder *self);

/* Appends one complete frame with FIN set. CLIENT role masks with a fresh
 * random key, SERVER role never masks. Control frames: len <= 125. */
void  mgw_ws_encode_frame (MgwWsRole     role,
                           MgwWsOpcode   opcode,
                           const guint8 *payload,
                           gsize         len,
                           GByteArray   *out);
/* A close frame: code (0: no payload at all), reason (NULL or UTF-8, cut to
 * fit 125 bytes at a character boundary, and before any invalid byte). */
void  mgw_ws_encode_close (MgwWsRole   role,
                           guint16     code,
                           const char *reason,
                           GByteArray *out);
/* 2 + len (+8 for >65535, +2 for >125) + 4 when masked: how many bytes the
 * header adds. */
gsize mgw_ws_frame_overhead (MgwWsRole role,
                             gsize     len);
/* TRUE for a code a peer may send in a close frame: 1000-1003, 1007-1014,
 * 3000-4999. */
gboolean mgw_ws_close_code_is_valid (guint code);

/* --- handshakes (HTTP/1.1 upgrade, RFC 6455 section 4) --- */

/* Server side: parses a request head at the start of buf. INCOMPLETE when
 * no "\r\n\r\n" yet (and the head is under max_head bytes); COMPLETE sets
 * *head_len (bytes of the head including the blank line) and *head;
 * INVALID sets *status to the HTTP status to answer (400 bad request, 405
 * method not GET, 426 no/unsupported upgrade or Sec-WebSocket-Version not
 * 13, 431 head over max_head) and error. A COMPLETE head is a valid
 * WebSocket upgrade: GET, HTTP/1.1 (or later 1.x), one Host, Upgrade has the
 * token "websocket", Connection the token "upgrade" (case-insensitive,
 * comma lists), Sec-WebSocket-Version 13, Sec-WebSocket-Key base64 of
 * exactly 16 bytes, no body. Lines end with CRLF; bare CR or LF, control
 * characters (NUL included), obs-fold, blank before the colon: 400, found
 * as soon as the bytes are there (INVALID before the head is complete). */
MgwHttpParse mgw_ws_parse_request (const guint8  *buf,
                                   gsize          len,
                                   gsize          max_head,
                                   gsize         *head_len,
                                   MgwHttpHead  **head,
                                   guint         *status,
                                   GError       **error);
/* What mgw_ws_parse_request() asks of a head already parsed by
 * mgw_http_parse_request(): COMPLETE or INVALID, as it says. */
MgwHttpParse mgw_ws_check_upgrade_request (MgwHttpHead  *head,
                                           guint        *status,
                                           GError      **error);
/* Client side: parses the server's response to our request; COMPLETE only
 * if it is a valid 101 for `key` (Sec-WebSocket-Accept checked,
 * Upgrade/Connection tokens, no extension) and the Sec-WebSocket-Protocol
 * it picked (if any) is one of `offered` (NULL-terminated, may be NULL);
 * *protocol gets it (or NULL). INVALID sets error. */
MgwHttpParse mgw_ws_parse_response (const guint8       *buf,
                                    gsize               len,
                                    gsize               max_head,
                                    const char         *key,
                                    const char * const *offered,
                                    gsize              *head_len,
                                    char              **protocol,
                                    GError            **error);
/* The server's 101 answer (the Sec-WebSocket-Accept for client_key;
 * protocol NULL: no Sec-WebSocket-Protocol header). */
char        *mgw_ws_server_response (const char *client_key,
                                     const char *protocol);
char        *mgw_ws_client_key_new (void);      /* base64 of 16 random bytes */
/* The client request: GET target HTTP/1.1, Host, Upgrade, Connection,
 * Sec-WebSocket-Key, Sec-WebSocket-Version: 13, Sec-WebSocket-Protocol
 * (comma list, omitted if none), User-Agent moipgw/VERSION. */
char        *mgw_ws_client_request (const char         *host_header,
                                    const char         *target,
                                    const char         *key,
                                    const char * const *protocols);
char        *mgw_ws_accept_key (const char *client_key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwWsDecoder, mgw_ws_decoder_free)

G_END_DECLS
