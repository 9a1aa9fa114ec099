/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-teletel-process.h: Teletel server control by process: the one
 * listening on the command channel's port, stopped with signals and
 * started again as it was started. */
#pragma once

#include "mgw-teletel.h"

G_BEGIN_DECLS

#define MGW_TYPE_TELETEL_PROCESS (mgw_teletel_process_get_type ())
G_DECLARE_FINAL_TYPE (MgwTeletelProcess, mgw_teletel_process, MGW, TELETEL_PROCESS, MgwTeletel)

/* `command`: the argv to start (copied); NULL: the remembered one of
 * the last process this object stopped. `grace_ms`: from SIGTERM to
 * SIGKILL. */
MgwTeletel *mgw_teletel_process_new (guint16   port,
                                     char    **command,
                                     guint     grace_ms);

G_END_DECLS
