/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-metrics.h: the gateway's counters for Prometheus, served as
 * OpenMetrics text on GET /metrics ([metrics] listen). */
#pragma once

#include <gio/gio.h>

#include "mgw-gateway.h"

G_BEGIN_DECLS

#define MGW_METRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
/* For scrapers that do not ask for OpenMetrics (curl, promtool). */
#define MGW_METRICS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#define MGW_TYPE_METRICS (mgw_metrics_get_type ())
G_DECLARE_FINAL_TYPE (MgwMetrics, mgw_metrics, MGW, METRICS, GObject)

/* Create it before users arrive (right after mgw_gateway_start): the
 * session duration histogram counts the sessions that end after. */
MgwMetrics *mgw_metrics_new      (MgwGateway  *gateway);
/* address: an IP literal, NULL for 127.0.0.1; port 0: one from the
 * kernel (see mgw_metrics_get_port). */
gboolean    mgw_metrics_listen   (MgwMetrics  *self,
                                  const char  *address,
                                  guint16      port,
                                  GError     **error);
guint16     mgw_metrics_get_port (MgwMetrics  *self);
/* The page served on /metrics, ending with "# EOF\n". */
char       *mgw_metrics_render   (MgwMetrics  *self);
/* The same page in the Prometheus text format 0.0.4: counter families
 * named NAME_total, no UNIT lines, no "# EOF". */
char       *mgw_metrics_to_text_format (const char *openmetrics);

G_END_DECLS
