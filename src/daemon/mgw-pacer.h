/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-pacer.h: one coarse tick for every paced link. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct _MgwPacer MgwPacer;

/* Called on each tick for each link that asked to wait. */
typedef void (*MgwPacerFunc) (gpointer link);

MgwPacer *mgw_pacer_new    (MgwPacerFunc  func);
void      mgw_pacer_free   (MgwPacer     *pacer);
void      mgw_pacer_wait   (MgwPacer     *pacer,
                            gpointer      link);
void      mgw_pacer_forget (MgwPacer     *pacer,
                            gpointer      link);
guint     mgw_pacer_get_waiting (MgwPacer *pacer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwPacer, mgw_pacer_free)

G_END_DECLS
