/* mgw-demo.h: the embedded demo videotex service (moipgwd --demo). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MGW_TYPE_DEMO (mgw_demo_get_type ())
G_DECLARE_FINAL_TYPE (MgwDemo, mgw_demo, MGW, DEMO, GObject)

MgwDemo    *mgw_demo_new       (void);
gboolean    mgw_demo_start     (MgwDemo  *self,
                                GError  **error);
const char *mgw_demo_get_uri   (MgwDemo  *self);
GBytes     *mgw_demo_get_page  (void);

G_END_DECLS
