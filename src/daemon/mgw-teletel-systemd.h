/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-teletel-systemd.h: Teletel server control through systemd: a unit
 * stopped and started with org.freedesktop.systemd1 on the system bus. */
#pragma once

#include "mgw-teletel.h"

G_BEGIN_DECLS

#define MGW_TYPE_TELETEL_SYSTEMD (mgw_teletel_systemd_get_type ())
G_DECLARE_FINAL_TYPE (MgwTeletelSystemd, mgw_teletel_systemd, MGW, TELETEL_SYSTEMD, MgwTeletel)

/* `unit`: "teletel.service"; without a unit type suffix, ".service" is
 * added as systemctl does. */
MgwTeletel *mgw_teletel_systemd_new (const char *unit);

G_END_DECLS
