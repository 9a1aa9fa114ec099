/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-legacy-config.h: the original's GatewayConfig.json (session dumps,
 * output speed limits, start counter). */
#pragma once

#include <glib.h>

#include "mgw-error.h"

G_BEGIN_DECLS

typedef struct _MgwLegacyConfig MgwLegacyConfig;

MgwLegacyConfig *mgw_legacy_config_new             (void);
void             mgw_legacy_config_free            (MgwLegacyConfig  *config);
/* A missing file gives the defaults; a corrupt one or a known key of the
 * wrong type fails (naming the key) and leaves the config as it was.
 * flags: MGW_FILE_NO_SYMLINK for the copy in the state directory. */
gboolean         mgw_legacy_config_load            (MgwLegacyConfig  *config,
                                                    const char       *path,
                                                    MgwFileFlags      flags,
                                                    GError          **error);
/* Atomic. Keys we do not know are written back as they were, in order. */
gboolean         mgw_legacy_config_save            (MgwLegacyConfig  *config,
                                                    const char       *path,
                                                    GError          **error);
gboolean         mgw_legacy_config_get_dump_data   (MgwLegacyConfig  *config);
/* NULL when unset or empty. */
const char      *mgw_legacy_config_get_dump_path   (MgwLegacyConfig  *config);
/* Characters per 10 ms; 0: no limit. */
double           mgw_legacy_config_get_limit_tcp_speed (MgwLegacyConfig *config);
double           mgw_legacy_config_get_limit_ws_speed  (MgwLegacyConfig *config);
guint64          mgw_legacy_config_get_exec_count  (MgwLegacyConfig  *config);
void             mgw_legacy_config_set_exec_count  (MgwLegacyConfig  *config,
                                                    guint64           count);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwLegacyConfig, mgw_legacy_config_free)

G_END_DECLS
