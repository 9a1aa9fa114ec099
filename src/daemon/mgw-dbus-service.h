/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-dbus-service.h: the gateway on D-Bus (org.moipgw.Gateway1). */
#pragma once

#include <gio/gio.h>

#include "mgw-gateway.h"
#include "mgw-teletel.h"

G_BEGIN_DECLS

/* Re-reads the configuration (SIGHUP and the Reload method). */
typedef gboolean (*MgwReloadFunc) (gpointer   user_data,
                                   GError   **error);

#define MGW_TYPE_DBUS_SERVICE (mgw_dbus_service_get_type ())
G_DECLARE_FINAL_TYPE (MgwDbusService, mgw_dbus_service, MGW, DBUS_SERVICE, GObject)

MgwDbusService *mgw_dbus_service_new      (MgwGateway     *gateway,
                                           GBusType        bus_type,
                                           MgwReloadFunc   reload,
                                           gpointer        reload_data);
/* Connects to the bus and asks for the name, again whenever the bus
 * went away; returns at once. */
void            mgw_dbus_service_start    (MgwDbusService *self);
gboolean        mgw_dbus_service_get_owned (MgwDbusService *self);
void            mgw_dbus_service_set_teletel (MgwDbusService *self,
                                              MgwTeletel     *teletel);

G_END_DECLS
