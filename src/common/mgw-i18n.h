/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-i18n.h: gettext set-up shared by moipgwd and moipgwctl. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* setlocale() from the environment and the message catalogue bound to
 * $MOIPGW_LOCALEDIR when set (the build tree's, for tests), else to the
 * installed LOCALEDIR. */
void mgw_i18n_init (void);

G_END_DECLS
