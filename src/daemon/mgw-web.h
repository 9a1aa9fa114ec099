/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-web.h: plain HTTP on the WebSocket port. What a GET or HEAD that
 * asks for no upgrade is answered: the built-in Minitel emulator
 * ([web] emulator, data/web/ compiled into the binary), an operator's
 * directory ([web] root), or an error. The link writes the answer
 * (mgw_link_ws_reply()); the gateway asks and logs. */
#pragma once

#include <gio/gio.h>

#include "mgw-http.h"
#include "mgw-link-ws.h"

G_BEGIN_DECLS

typedef struct _MgwWeb MgwWeb;

MgwWeb     *mgw_web_new       (void);
void        mgw_web_free      (MgwWeb      *self);
/* What [web] says. `root` (NULL or "": none) must be a directory; it is
 * served first, then the emulator's files if `emulator`. On error the
 * settings in force stay. */
gboolean    mgw_web_configure (MgwWeb      *self,
                               gboolean     emulator,
                               const char  *root,
                               guint64      max_file_size,
                               GError     **error);
/* TRUE when plain requests are served at all. */
gboolean    mgw_web_is_serving (MgwWeb     *self);
/* Answers `request` on `link` (from its serve callback); returns the
 * status answered and sets *length to the body's size, and *why (for
 * the log, may be NULL) to why an error was answered. */
guint       mgw_web_answer    (MgwWeb      *self,
                               MgwLinkWs   *link,
                               MgwHttpHead *request,
                               goffset     *length,
                               char       **why);
/* Answers `request` with the error `status` (a refused client). */
guint       mgw_web_refuse    (MgwLinkWs   *link,
                               MgwHttpHead *request,
                               guint        status,
                               goffset     *length);
/* The HTTP date (RFC 9110 §5.6.7) of `unix_time`: English names
 * whatever the locale. */
char       *mgw_web_http_date (gint64       unix_time);
/* The Content-Type served for a file name (by its extension). */
const char *mgw_web_content_type (const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwWeb, mgw_web_free)

G_END_DECLS
