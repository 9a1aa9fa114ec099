/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-link.h: a byte pipe to one peer (user, default server or redirect
 * target), Telnet or WebSocket, server or client side. */
#pragma once

#include <gio/gio.h>

#include "mgw-pacer.h"

G_BEGIN_DECLS

typedef enum {
  MGW_LINK_CONNECTING,
  MGW_LINK_OPEN,
  MGW_LINK_CLOSING,
  MGW_LINK_CLOSED,
} MgwLinkState;

#define MGW_LINK_DEFAULT_QUEUE_LIMIT (64 * 1024)

#define MGW_TYPE_LINK (mgw_link_get_type ())
G_DECLARE_DERIVABLE_TYPE (MgwLink, mgw_link, MGW, LINK, GObject)

struct _MgwLinkClass
{
  GObjectClass parent_class;

  /* Bytes read from the transport (required with a transport). */
  void (*input)      (MgwLink      *self,
                      const guint8 *data,
                      gsize         len);
  /* Optional: the peer closed its side; default: closed, no error. */
  void (*eof)        (MgwLink      *self);
  /* Optional: frame queued bytes into `wire` as they are written (the
   * pace applies to the data, each paced batch its own frame). */
  void (*frame)      (MgwLink      *self,
                      const guint8 *data,
                      gsize         len,
                      GByteArray   *wire);
  /* Optional: everything written, nothing waits (a moment to send what
   * had to wait, such as a pong). */
  void (*drained)    (MgwLink      *self);
  /* Close the transport; the implementation calls mgw_link_emit_closed()
   * once it is closed. The queue is already flushed or dropped. */
  void (*close)      (MgwLink  *self);
  /* Optional: turn data into transport bytes before queuing. */
  GBytes *(*encode)  (MgwLink  *self,
                      GBytes   *data);
};

void          mgw_link_send             (MgwLink      *self,
                                         GBytes       *bytes);
void          mgw_link_send_data        (MgwLink      *self,
                                         const guint8 *data,
                                         gsize         len);
void          mgw_link_close            (MgwLink      *self,
                                         gboolean      flush);
void          mgw_link_set_paused       (MgwLink      *self,
                                         gboolean      paused);
void          mgw_link_drop_queue       (MgwLink      *self);

MgwLinkState  mgw_link_get_state        (MgwLink      *self);
gboolean      mgw_link_get_congested    (MgwLink      *self);
guint64       mgw_link_get_bytes_in     (MgwLink      *self);
guint64       mgw_link_get_bytes_out    (MgwLink      *self);
gsize         mgw_link_get_queued       (MgwLink      *self);
void          mgw_link_set_queue_limit  (MgwLink      *self,
                                         gsize         limit);
const char   *mgw_link_get_description  (MgwLink      *self);
/* For client implementations: a TCP connection to host:port (TLS when
 * tls, trusting tls_database, NULL: the system's), no proxy,
 * TCP_NODELAY. done gets the connection, or the error ("connection timed
 * out" after mgw_link_cancel_connect ()); the link is kept alive until
 * then. One attempt at a time. */
typedef void (*MgwLinkConnected) (MgwLink           *self,
                                  GSocketConnection *connection,
                                  GError            *error);
void          mgw_link_connect          (MgwLink          *self,
                                         const char       *host,
                                         guint16           port,
                                         gboolean          tls,
                                         GTlsDatabase     *tls_database,
                                         MgwLinkConnected  done);
/* TRUE when an attempt was under way: done follows, with the error. */
gboolean      mgw_link_cancel_connect   (MgwLink          *self);
/* The session the link belongs to, for the journal: its log lines carry
 * MGW_SESSION_ID and MGW_PEER as the session's do. */
void          mgw_link_set_session      (MgwLink      *self,
                                         guint         session_id,
                                         const char   *peer_address);
/* A log line "DESCRIPTION: text", with the session's fields if set. */
void          mgw_link_log              (MgwLink        *self,
                                         GLogLevelFlags  level,
                                         const char     *format,
                                         ...) G_GNUC_PRINTF (3, 4);
void          mgw_link_set_description  (MgwLink      *self,
                                         const char   *description);

void          mgw_link_abort            (MgwLink      *self,
                                         GError       *error);
void          mgw_link_set_rate         (MgwLink      *self,
                                         double        bytes_per_second,
                                         MgwPacer     *pacer);
void          mgw_link_pace             (gpointer      link);

void          mgw_link_set_stall_timeout (MgwLink     *self,
                                          guint        seconds);

/* For implementations. */
void          mgw_link_attach_stream    (MgwLink      *self,
                                         GIOStream    *stream);
GIOStream    *mgw_link_get_stream       (MgwLink      *self);
void          mgw_link_feed             (MgwLink      *self,
                                         const guint8 *data,
                                         gsize         len);
gboolean      mgw_link_send_wire        (MgwLink      *self,
                                         const guint8 *data,
                                         gsize         len);
void          mgw_link_close_transport  (MgwLink      *self,
                                         const GError *error);
void          mgw_link_send_raw         (MgwLink      *self,
                                         const guint8 *data,
                                         gsize         len);
gboolean      mgw_link_queue_head       (MgwLink       *self,
                                         const guint8 **data,
                                         gsize         *len);
void          mgw_link_queue_consume    (MgwLink      *self,
                                         gsize         n);
void          mgw_link_emit_opened      (MgwLink      *self);
void          mgw_link_emit_received    (MgwLink      *self,
                                         const guint8 *data,
                                         gsize         len);
void          mgw_link_emit_closed      (MgwLink      *self,
                                         const GError *error);
void          mgw_link_count_bad_input  (MgwLink      *self);
guint64       mgw_link_get_bad_input    (MgwLink      *self);

G_END_DECLS
