/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-config.h: the gateway's settings, from moipgw.conf and the command
 * line. */
#pragma once

#include <glib.h>

#include "mgw-recording.h"
#include "mgw-return-keys.h"
#include "mgw-telnet-codec.h"
#include "mgw-values.h"

G_BEGIN_DECLS

/* How a user came: Telnet, WebSocket, or raw TCP (no telnet at all:
 * `[listen] raw-port`, or the Telnet port with `[telnet]
 * negotiation=none`). Raw users have the Telnet settings and rules
 * (mgw_access_settings ()); Teletel hears of them as Telnet users. */
typedef enum {
  MGW_ACCESS_TELNET,
  MGW_ACCESS_WS,
  MGW_ACCESS_RAW,
  MGW_N_ACCESS
} MgwAccess;

/* The settings that go by access (baud, [timeouts] *-telnet and
 * *-websocket) are Telnet's and WebSocket's: arrays of this size,
 * indexed by mgw_access_settings (). */
#define MGW_N_ACCESS_SETTINGS 2

/* For operators (console, D-Bus, moipgwctl, logs): "Telnet", "WS", "raw". */
const char *mgw_access_to_string        (MgwAccess access);
/* As the original knows them (command channel, identification line,
 * session dumps): "Telnet" (raw users too) or "WS". */
const char *mgw_access_to_compat_string (MgwAccess access);
/* Whose settings and rules an access has: raw users Telnet's. */
MgwAccess   mgw_access_settings         (MgwAccess access);

typedef struct
{
  /* [listen] */
  char          **listen_addresses;   /* NULL: every address, IPv4 and IPv6 */
  int             telnet_port;        /* MGW_PORT_OFF or 0..65535 */
  int             ws_port;
  int             ws_tls_port;        /* wss:// users; MGW_PORT_OFF: none */
  int             raw_port;           /* raw TCP users, no telnet */
  /* [telnet] */
  MgwTelnetStart  telnet_start;       /* MGW_TELNET_START_NONE ("none"): the
                                       * Telnet port is raw, no codec at all */
  char           *telnet_welcome;
  guint           garbage_bytes;      /* anti-garbage filter: first N bytes... */
  guint           garbage_window_ms;  /* ...within this long are dropped */
  guint           typing_rate;        /* bytes a second a Telnet user may type; 0: off */
  guint           typing_excess;      /* bytes beyond it before the ban */
  guint           scanner_wait_ms;    /* Telnet, raw: upstream held this long for a first
                                       * chunk in another protocol; 0: rule off */
  guint           baud[MGW_N_ACCESS_SETTINGS]; /* output pace to users; 0: GatewayConfig.json's */
  /* [websocket] */
  char           *ws_welcome;
  MgwFrameType    ws_frame_type;
  guint           ws_ping_interval;   /* s, 0: off */
  guint           ws_ping_timeout;    /* s */
  guint64         ws_max_message;     /* bytes */
  /* [server] */
  char           *server_uri;
  guint           server_ping;        /* s, 0: None */
  char          **server_subprotocols;
  MgwFrameType    server_frame_type;
  guint           connect_timeout;    /* s */
  /* [session] */
  gsize           queue_limit;        /* bytes per link */
  guint           sep_hold_ms;
  guint           stall_timeout;      /* s a peer may take nothing while output waits; 0: off */
  guint           max_sessions;       /* 0: no limit */
  guint           max_sessions_per_address;
  guint           max_pending_per_address; /* connections before their session; 0: no cap */
  /* [bans] */
  guint           min_session_ms;     /* shorter sessions ban their address; 0: off */
  guint           connection_rate;    /* new connections a second per address; 0: off */
  guint           connection_burst;   /* ...beyond a burst of this many */
  guint           ban_duration;       /* s */
  gboolean        ban_escalate;
  guint           ban_max_duration;   /* s */
  guint           ban_sweep_interval; /* s */
  guint           ban_ipv6_prefix;    /* bits: an IPv6 ban covers this prefix */
  guint           ban_max_entries;    /* bans kept at most */
  /* [proxy] */
  char          **trusted_proxies;    /* addresses or prefixes; NULL: none */
  guint           proxy_timeout_ms;   /* wait for a PROXY header from a trusted peer */
  gboolean        proxy_forwarded;    /* read Forwarded, not X-Forwarded-For */
  /* [timeouts], seconds, 0: off */
  guint           user_inactivity[MGW_N_ACCESS_SETTINGS];
  guint           session_max[MGW_N_ACCESS_SETTINGS];
  guint           server_inactivity[MGW_N_ACCESS_SETTINGS];
  guint           redirect_inactivity[MGW_N_ACCESS_SETTINGS];
  guint           redirect_max[MGW_N_ACCESS_SETTINGS];
  /* paths and later parts */
  char           *state_dir;
  char           *config_path;        /* directory of the JSON files */
  /* [command] */
  char           *command_uri;
  gboolean        no_command_channel;
  guint           command_retry_ms;
  guint           command_queue_max;
  char           *profiles_file;      /* NULL: <config_path>/profiles.json */
  char           *redirect_allow;     /* allowed redirect targets (mgw-redirect-policy.c) */
  char           *tls_ca_file;        /* NULL: the system's trusted CAs */
  char           *tls_certificate;    /* the wss:// listener's PEM chain; read again at reload */
  char           *tls_key;            /* and its PEM key */
  guint           tls_max_handshakes; /* wss:// handshakes in GIO at once */
  guint           tls_max_handshakes_per_address; /* under way from one address */
  int             display_port;       /* the console; MGW_PORT_OFF: none */
  char          **console_addresses;  /* default loopback only */
  gboolean        demo;
  /* [recording]: session recordings (mgw-recorder.c, mgw-recordings.c) */
  gboolean        recording_enabled;  /* every session from its start */
  MgwRecordingInput recording_input;  /* what users type: keep, mask, drop */
  guint64         recording_max_size; /* bytes a recording, then truncated */
  guint           recording_keep_count; /* recordings kept at most; 0: no limit */
  guint           recording_keep_days;  /* days; 0: no limit */
  guint64         recording_keep_size;  /* bytes of all recordings; 0: no limit */
  char          **recording_replay_from; /* who may replay over the WebSocket port; NULL: off */
  /* [web]: plain HTTP on the WebSocket port (mgw-web.c) */
  gboolean        web_emulator;       /* the built-in Minitel emulator; --demo: on */
  char           *web_root;           /* an operator's directory; NULL or "": none */
  guint64         web_max_file_size;  /* bytes a file of the root, at most */
  /* [metrics] */
  char           *metrics_listen;     /* "ADDRESS:PORT", "[V6]:PORT"; NULL: off */
  /* [teletel]: control of the Teletel server (mgw-teletel.c) */
  char           *teletel_backend;    /* "none", "process" or "systemd" */
  char           *teletel_command;    /* process: a command line; NULL or "": the remembered one */
  guint           teletel_grace_ms;   /* process: SIGTERM to SIGKILL */
  char           *teletel_unit;       /* systemd: the unit, required */
  /* [redirect] return-keys: sequences that end a redirection as
   * Connexion/Fin does (mgw-return-keys.c) */
  gboolean        has_return_keys;    /* FALSE: not set, none (--demo sets its own) */
  MgwReturnKeys   return_keys;
} MgwConfig;

MgwConfig *mgw_config_new_default  (void);
MgwConfig *mgw_config_ref          (MgwConfig   *config);
void       mgw_config_unref        (MgwConfig   *config);
gboolean   mgw_config_load_file    (MgwConfig   *config,
                                    const char  *path,
                                    gboolean     must_exist,
                                    GError     **error);
gboolean   mgw_config_load_keyfile (MgwConfig   *config,
                                    GKeyFile    *keyfile,
                                    GError     **error);
/* For a reload: the keys read at start only whose value differs in
 * config from the running configuration, as "[group] key" (empty when
 * none); config gets the running values of those keys. */
char     **mgw_config_keep_restart_keys (MgwConfig       *config,
                                         const MgwConfig *running);
gboolean   mgw_config_validate     (MgwConfig   *config,
                                    GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwConfig, mgw_config_unref)

G_END_DECLS
