/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-replay.h: a recording replayed into a link (a console watching
 * it, a browser emulator at /replay/ID): its screen bytes at the
 * recorded pace, read as they are needed. */
#pragma once

#include <gio/gio.h>

#include "mgw-link.h"

G_BEGIN_DECLS

#define MGW_TYPE_REPLAY (mgw_replay_get_type ())
G_DECLARE_FINAL_TYPE (MgwReplay, mgw_replay, MGW, REPLAY, GObject)

/* Takes fd (a recording, open for reading); `link` is borrowed for as
 * long as the replay runs. speed: as moipgwctl's --speed; idle_max:
 * pauses cut to it (µs), 0: kept. */
MgwReplay *mgw_replay_new    (int       fd,
                              MgwLink  *link,
                              double    speed,
                              gint64    idle_max);
/* "finished" (GError or NULL at the end of the recording) is emitted
 * once, never from within start or stop. */
void       mgw_replay_start  (MgwReplay *self);
/* No more output, no "finished". */
void       mgw_replay_stop   (MgwReplay *self);
guint64    mgw_replay_get_bytes (MgwReplay *self);

G_END_DECLS
