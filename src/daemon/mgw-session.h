/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-session.h: one user's session: the user link, the link to the
 * default server, and what happens between them. */
#pragma once

#include <gio/gio.h>

#include "mgw-command.h"
#include "mgw-command-link.h"
#include "mgw-config.h"
#include "mgw-link.h"
#include "mgw-link-factory.h"
#include "mgw-profiles.h"
#include "mgw-recorder.h"

G_BEGIN_DECLS

typedef enum {
  MGW_SESSION_CONNECTING,   /* waiting for the default server */
  MGW_SESSION_TELETEL,      /* on the default server */
  MGW_SESSION_REDIRECTING,  /* opening a redirect target */
  MGW_SESSION_REDIRECTED,
  MGW_SESSION_CLOSING,
  MGW_SESSION_CLOSED,
} MgwSessionState;

const char *mgw_session_state_to_string (MgwSessionState state);

typedef enum {
  MGW_TIMEOUT_USER_INACTIVITY,
  MGW_TIMEOUT_SESSION_MAX,
  MGW_TIMEOUT_SERVER_INACTIVITY,
  MGW_TIMEOUT_REDIRECT_INACTIVITY,
  MGW_TIMEOUT_REDIRECT_MAX,
  MGW_N_TIMEOUTS
} MgwTimeout;

const char *mgw_timeout_to_string (MgwTimeout timeout);

#define MGW_TYPE_SESSION (mgw_session_get_type ())
G_DECLARE_FINAL_TYPE (MgwSession, mgw_session, MGW, SESSION, GObject)

MgwSession      *mgw_session_new              (guint             id,
                                               MgwAccess         access,
                                               MgwLink          *user,
                                               const char       *peer_address,
                                               guint16           peer_port,
                                               MgwConfig        *config,
                                               GTlsDatabase     *tls_database,
                                               MgwCommandLink   *command_link);
/* Before start: how the session opens its default server and targets
 * (default: mgw_link_open ()); the unit tests give fakes. */
void             mgw_session_set_link_opener  (MgwSession       *self,
                                               MgwLinkOpener     opener,
                                               gpointer          data);
void             mgw_session_start            (MgwSession       *self);
/* to_gateway: the target is one of the gateway's own listeners (the
 * gateway knows them, the session does not): refused as a target the
 * allow-list does not allow. */
gboolean         mgw_session_redirect         (MgwSession       *self,
                                               const MgwCommand *command,
                                               const MgwProfile *profile,
                                               gboolean          to_gateway,
                                               GError          **error);
/* `status`: the English text marked N_(), translated for the user's
 * status line, kept in English as the end reason; NULL: none. */
void             mgw_session_end              (MgwSession       *self,
                                               const char       *status);
/* An operator's text (mgw_minitel_check_message ()) on the user's status
 * line, as it is (not translated), through what watchers see; FALSE,
 * nothing sent, once the session is closing or its user link is not
 * open. */
gboolean         mgw_session_message          (MgwSession       *self,
                                               const char       *text);

guint            mgw_session_get_id           (MgwSession       *self);
MgwAccess        mgw_session_get_access       (MgwSession       *self);
const char      *mgw_session_get_peer_address (MgwSession       *self);
guint16          mgw_session_get_peer_port    (MgwSession       *self);
MgwSessionState  mgw_session_get_state        (MgwSession       *self);
gint64           mgw_session_get_start_time   (MgwSession       *self);
guint64          mgw_session_get_bytes_from_user (MgwSession    *self);
guint64          mgw_session_get_bytes_to_user   (MgwSession    *self);
const char      *mgw_session_get_end_reason   (MgwSession       *self);
guint            mgw_session_get_redirections (MgwSession       *self);
guint64          mgw_session_get_bad_input    (MgwSession       *self);
gboolean         mgw_session_set_dump         (MgwSession       *self,
                                               const char       *path,
                                               GError          **error);
void             mgw_session_set_check_proxy  (MgwSession       *self,
                                               gboolean          check);
gboolean         mgw_session_get_user_left    (MgwSession       *self);
void             mgw_session_watch            (MgwSession       *self,
                                               gboolean          watch);
gboolean         mgw_session_get_watched      (MgwSession       *self);
gint64           mgw_session_get_duration     (MgwSession       *self);
const char      *mgw_session_get_target       (MgwSession       *self);
guint64          mgw_session_get_redirect_bytes_from_user (MgwSession *self);
guint64          mgw_session_get_redirect_bytes_to_user   (MgwSession *self);
/* Its recording (mgw-recorder.h): started from now on, or stopped by an
 * operator (a `stop` mark); "recording-changed" when its id is known,
 * when it stops or fails. Errors: already recorded, not recorded, the
 * session ending (MGW_ERROR_FAILED, a message for the operator). */
gboolean         mgw_session_start_recording  (MgwSession       *self,
                                               MgwRecorderPool  *pool,
                                               const char       *dir,
                                               MgwRecordingInput input,
                                               guint64           max_size,
                                               GError          **error);
gboolean         mgw_session_stop_recording   (MgwSession       *self,
                                               GError          **error);
/* The recording's id; NULL when not recorded or until its file exists. */
const char      *mgw_session_get_recording    (MgwSession       *self);
MgwRecorder     *mgw_session_get_recorder     (MgwSession       *self);

G_END_DECLS
