/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-profiles.h: per-target settings for redirections (profiles.json). */
#pragma once

#include <glib-object.h>

#include "mgw-return-keys.h"
#include "mgw-ws-codec.h"

G_BEGIN_DECLS

typedef enum {
  MGW_FIN_GATEWAY,   /* the gateway ends the redirection on Connexion/Fin */
  MGW_FIN_FORWARD,   /* the key goes to the target, which hangs up */
} MgwFinHandling;

typedef struct
{
  gboolean        has_ping;
  guint           ping;            /* seconds, 0: no ping */
  char          **subprotocols;    /* NULL: not set */
  gboolean        has_frame_type;
  MgwFrameType    frame_type;
  MgwFinHandling  fin;
  gboolean        has_return_keys; /* FALSE: [redirect] return-keys applies */
  MgwReturnKeys   return_keys;     /* the target's own; none: turned off */
} MgwProfile;

typedef struct _MgwProfiles MgwProfiles;

MgwProfiles      *mgw_profiles_new        (void);
void              mgw_profiles_free       (MgwProfiles  *profiles);
gboolean          mgw_profiles_load_data  (MgwProfiles  *profiles,
                                           const char   *data,
                                           gssize        len,
                                           GError      **error);
gboolean          mgw_profiles_load_file  (MgwProfiles  *profiles,
                                           const char   *path,
                                           GError      **error);
/* The profile of a target URI: the exact URI, else host:port, else host;
 * NULL when none matches. */
const MgwProfile *mgw_profiles_lookup     (MgwProfiles  *profiles,
                                           const char   *uri);
guint             mgw_profiles_get_size   (MgwProfiles  *profiles);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwProfiles, mgw_profiles_free)

G_END_DECLS
