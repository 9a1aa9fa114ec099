/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-notify.h: telling systemd how the daemon is (sd_notify(3)'s
 * protocol, without libsystemd). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sends state ("READY=1", "STATUS=...", "STOPPING=1", newline-separated
 * assignments) to $NOTIFY_SOCKET; FALSE when there is none (not started
 * by systemd as Type=notify) or it cannot be reached. Never blocks. */
gboolean mgw_notify (const char *state);

G_END_DECLS
