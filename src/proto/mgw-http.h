/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-http.h: HTTP/1.1 heads: the strict, incremental request and
 * response head parser and the error answers, for the WebSocket upgrade
 * (mgw-ws-codec.h) and the metrics endpoint. Pure code, no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MgwHttpHead MgwHttpHead;   /* a parsed request or response head */

typedef enum {
  MGW_HTTP_INCOMPLETE,
  MGW_HTTP_COMPLETE,
  MGW_HTTP_INVALID,
} MgwHttpParse;

/* Any request head, whatever its method: a plain HTTP server's parser
 * (the metrics endpoint). The same syntax rules and results as
 * mgw_ws_parse_request (400, 431), plus exactly one Host header in an
 * HTTP/1.1 request (400); nothing about the method, the target or the
 * upgrade headers is checked. A body, if any, follows the head. */
MgwHttpParse mgw_http_parse_request (const guint8  *buf,
                                     gsize          len,
                                     gsize          max_head,
                                     gsize         *head_len,
                                     MgwHttpHead  **head,
                                     guint         *status,
                                     GError       **error);
/* Any response head (the WebSocket client checks the 101 itself). The
 * syntax rules of the request parser; INVALID sets error. */
MgwHttpParse mgw_http_parse_response (const guint8  *buf,
                                      gsize          len,
                                      gsize          max_head,
                                      gsize         *head_len,
                                      MgwHttpHead  **head,
                                      GError       **error);

/* What a parser built on this one asks of a request head once its syntax
 * is right; INVALID with *status and error set (mgw_http_fail ()). */
typedef MgwHttpParse (*MgwHttpCheck) (MgwHttpHead  *head,
                                      guint        *status,
                                      GError      **error);
/* A request head, then what `check` asks of it. */
MgwHttpParse mgw_http_parse_request_checked (const guint8  *buf,
                                             gsize          len,
                                             gsize          max_head,
                                             gsize         *head_len,
                                             MgwHttpHead  **head,
                                             guint         *status,
                                             MgwHttpCheck   check,
                                             GError       **error);
/* INVALID, with *status = code (when status is not NULL) and error. */
MgwHttpParse mgw_http_fail (GError    **error,
                            guint      *status,
                            guint       code,
                            const char *format,
                            ...) G_GNUC_PRINTF (4, 5);

void         mgw_http_head_free (MgwHttpHead *head);
const char  *mgw_http_head_get_method (MgwHttpHead *head);
const char  *mgw_http_head_get_target (MgwHttpHead *head);   /* request-target as sent */
/* The target's path: no query or fragment, and for an absolute-form
 * target (http://host/path) what follows the authority ("/" if nothing
 * does). Not percent-decoded. */
char        *mgw_http_head_get_path   (MgwHttpHead *head);
/* All values of a header, case-insensitive name, joined with ", " (like
 * soup_message_headers_get_list); NULL if absent. */
const char  *mgw_http_head_get (MgwHttpHead *head,
                                const char  *name);
/* TRUE when the comma-separated header `name` has `token`
 * (case-insensitive), e.g. ("Connection", "upgrade"). */
gboolean     mgw_http_head_has_token (MgwHttpHead *head,
                                      const char  *name,
                                      const char  *token);
guint        mgw_http_head_get_minor  (MgwHttpHead *head);    /* HTTP/1.minor */
guint        mgw_http_head_get_status (MgwHttpHead *head);    /* a response's code */
const char  *mgw_http_head_get_reason (MgwHttpHead *head);    /* a response's phrase */
/* How many header lines carry `name` (case-insensitive). */
guint        mgw_http_head_count      (MgwHttpHead *head,
                                       const char  *name);
/* An error answer with "Connection: close", a short text/plain body, and
 * for 426 "Sec-WebSocket-Version: 13" / "Upgrade: websocket" (and then
 * "Connection: Upgrade, close", as RFC 9110 wants), for 405 "Allow: GET". */
char        *mgw_http_error_response (guint status);
/* The reason phrase of an error status (4xx, 5xx); "Error" if unknown. */
const char  *mgw_http_status_reason  (guint status);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwHttpHead, mgw_http_head_free)

G_END_DECLS
