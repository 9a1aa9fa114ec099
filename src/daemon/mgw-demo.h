/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-demo.h: the embedded demo videotex service (moipgwd --demo). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MGW_TYPE_DEMO (mgw_demo_get_type ())
G_DECLARE_FINAL_TYPE (MgwDemo, mgw_demo, MGW, DEMO, GObject)

MgwDemo    *mgw_demo_new              (void);
gboolean    mgw_demo_start            (MgwDemo  *self,
                                       GError  **error);
/* The demo Teletel (the default server). */
const char *mgw_demo_get_uri          (MgwDemo  *self);
/* Its command channel, for the gateway to connect to. */
const char *mgw_demo_get_command_uri  (MgwDemo  *self);
/* The second service, reached by redirection ("METEO"). */
const char *mgw_demo_get_service_uri  (MgwDemo  *self);
GBytes     *mgw_demo_get_page         (void);
/* What --demo sets as [redirect] return-keys when the file sets none:
 * MiniPavi's way back, '***' then Sommaire, besides Connexion/Fin. */
#define MGW_DEMO_RETURN_KEYS "'***' Sommaire"
GBytes     *mgw_demo_get_service_page (void);

G_END_DECLS
