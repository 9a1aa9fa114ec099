/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-values.h: value parsers shared by the configuration file, the
 * command line and the command channel. */
#pragma once

#include <gio/gio.h>

#include "mgw-ws-codec.h"

G_BEGIN_DECLS

/* The values a port can take besides 0..65535: "off" or empty. */
#define MGW_PORT_OFF (-1)

/* A whole number from 0 to max (MGW_ERROR_CONFIG otherwise). */
gboolean   mgw_value_parse_uint          (const char  *text,
                                          guint64      max,
                                          guint64     *value,
                                          GError     **error);
/* Bytes, or a number and K, M, G or T (1024s); at most 1T. */
#define MGW_VALUE_BYTES_MAX (G_GUINT64_CONSTANT (1) << 40)
gboolean   mgw_value_parse_bytes         (const char  *text,
                                          guint64     *value,
                                          GError     **error);
gboolean   mgw_value_parse_port          (const char  *text,
                                          int         *port,
                                          GError     **error);
gboolean   mgw_value_parse_ping          (const char  *text,
                                          guint       *seconds,
                                          GError     **error);
gboolean   mgw_value_parse_subprotocols  (const char  *text,
                                          char      ***protocols,
                                          GError     **error);
gboolean   mgw_value_parse_seconds_ms    (const char  *text,
                                          guint       *ms,
                                          GError     **error);
gboolean   mgw_value_check_prefix        (const char  *text,
                                          GError     **error);
gboolean   mgw_value_parse_frame_type    (const char  *text,
                                          MgwFrameType *type,
                                          GError     **error);
/* Every entry an IP address (a listen or console address list). */
gboolean   mgw_value_check_addresses     (char       **list,
                                          GError     **error);
gboolean   mgw_value_parse_listen        (const char  *text,
                                          char       **address,
                                          guint16     *port,
                                          GError     **error);

G_END_DECLS
