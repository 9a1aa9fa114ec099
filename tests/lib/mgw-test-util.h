/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-test-util.h: helpers for the end-to-end tests: main-loop waits,
 * a raw TCP client, a libsoup WebSocket client, a scripted upstream
 * WebSocket server, and a gateway on loopback with ephemeral ports. */
#pragma once

#include <libsoup/soup.h>

#include "mgw-config.h"
#include "mgw-gateway.h"

G_BEGIN_DECLS

/* How long a wait may last: 5 s, times $MOIPGW_TEST_TIMEOUT_FACTOR when
 * set (the valgrind test setup sets it: everything runs ~20x slower). */
guint    mgw_test_timeout_ms   (void);
#define MGW_TEST_TIMEOUT_MS (mgw_test_timeout_ms ())

typedef gboolean (*MgwTestCondition) (gpointer data);

/* g_test_init() for end-to-end tests: warnings the gateway logs on
 * purpose (a server down...) are not fatal, criticals are; debug output
 * only with G_MESSAGES_DEBUG. */
void     mgw_test_init         (int             *argc,
                                char          ***argv);

/* Iterates the default main context until `cond` holds; fails the test
 * after `timeout_ms`. */
void     mgw_test_wait_until   (MgwTestCondition cond,
                                gpointer         data,
                                guint            timeout_ms,
                                const char      *what);
/* Iterates the main context for `ms` milliseconds. */
void     mgw_test_run_for      (guint            ms);
/* Iterates the main context until haystack holds needle; fails the test
 * with what it holds after MGW_TEST_TIMEOUT_MS. where: for the message. */
void     mgw_test_bytes_wait   (GByteArray      *haystack,
                                const void      *needle,
                                gsize            len,
                                const char      *where);
gboolean mgw_test_bytes_contain (GByteArray     *haystack,
                                 const void     *needle,
                                 gsize           len);

/* --- raw TCP client --- */
typedef struct
{
  GSocket    *socket;
  GSource    *source;
  GByteArray *received;
  gboolean    closed;
} MgwTestTcp;

MgwTestTcp *mgw_test_tcp_connect    (const char   *address,
                                     guint16       port);
void        mgw_test_tcp_send       (MgwTestTcp   *tcp,
                                     const void   *data,
                                     gsize         len);
void        mgw_test_tcp_wait_for   (MgwTestTcp   *tcp,
                                     const void   *needle,
                                     gsize         len);
void        mgw_test_tcp_wait_closed (MgwTestTcp  *tcp);
void        mgw_test_tcp_pause      (MgwTestTcp   *tcp,
                                     gboolean      paused);
void        mgw_test_tcp_free       (MgwTestTcp   *tcp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwTestTcp, mgw_test_tcp_free)

/* --- libsoup WebSocket client --- */
typedef struct
{
  SoupSession             *session;
  SoupWebsocketConnection *conn;
  GError                  *error;
  gboolean                 done;       /* connect finished */
  gboolean                 closed;
  GByteArray              *received;   /* every message, as bytes */
  guint                    n_text;
  guint                    n_binary;
} MgwTestWs;

MgwTestWs  *mgw_test_ws_connect     (const char          *uri,
                                     const char * const  *protocols);
void        mgw_test_ws_send        (MgwTestWs           *ws,
                                     SoupWebsocketDataType type,
                                     const void          *data,
                                     gsize                len);
void        mgw_test_ws_wait_for    (MgwTestWs           *ws,
                                     const void          *needle,
                                     gsize                len);
void        mgw_test_ws_wait_closed (MgwTestWs           *ws);
void        mgw_test_ws_free        (MgwTestWs           *ws);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwTestWs, mgw_test_ws_free)

/* --- upstream WebSocket server, scripted by the test --- */
typedef struct
{
  SoupWebsocketConnection *conn;
  GByteArray              *received;   /* bytes, frames concatenated */
  GPtrArray               *frames;     /* of GBytes, one per frame */
  char                    *protocol;
  gint64                   closed_at;  /* monotonic µs, 0 while open */
} MgwTestPeer;

typedef struct
{
  SoupServer *server;
  char       *uri;
  GPtrArray  *peers;        /* of MgwTestPeer */
  guint16     port;
  gboolean    tls;
  gboolean    echo;
  GBytes     *greeting;     /* sent to every new peer, may be NULL */
  char      **protocols;    /* accepted subprotocols, NULL: any */
} MgwTestServer;

MgwTestServer *mgw_test_server_new        (gboolean        echo,
                                           const char     *greeting);
MgwTestServer *mgw_test_server_new_tls    (gboolean        echo,
                                           const char     *greeting,
                                           GTlsCertificate *certificate);
MgwTestPeer   *mgw_test_server_wait_peer  (MgwTestServer  *server,
                                           guint           index);
void           mgw_test_peer_send         (MgwTestPeer    *peer,
                                           SoupWebsocketDataType type,
                                           const void     *data,
                                           gsize           len);
void           mgw_test_peer_wait_for     (MgwTestPeer    *peer,
                                           const void     *needle,
                                           gsize           len);
void           mgw_test_peer_wait_closed  (MgwTestPeer    *peer);
/* Waits for a frame equal to `text` from any peer, ever. */
void           mgw_test_server_wait_frame (MgwTestServer  *server,
                                           const char     *text);
gboolean       mgw_test_server_has_frame  (MgwTestServer  *server,
                                           const char     *text);
/* Every frame of every peer, in arrival order per peer, as one string
 * of lines (for assertions on sequences). */
char          *mgw_test_server_frames     (MgwTestServer  *server);
/* Drops every connection and stops listening; start listens again on
 * the same port. */
void           mgw_test_server_stop       (MgwTestServer  *server);
void           mgw_test_server_start      (MgwTestServer  *server);
/* The peer whose connection is open, the last one when several. */
MgwTestPeer   *mgw_test_server_open_peer  (MgwTestServer  *server);
void           mgw_test_server_free       (MgwTestServer  *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwTestServer, mgw_test_server_free)

/* --- a gateway on 127.0.0.1, ports chosen by the kernel --- */
MgwConfig  *mgw_test_config_new     (const char  *server_uri);
MgwGateway *mgw_test_gateway_new    (MgwConfig   *config);
char       *mgw_test_ws_uri         (MgwGateway  *gateway);
/* Until session `id` of gateway exists and is in `state`; fails the test
 * after timeout_ms. */
void        mgw_test_wait_session_state (MgwGateway      *gateway,
                                         guint            id,
                                         MgwSessionState  state,
                                         guint            timeout_ms);

/* --- moipgwd as a process: $MOIPGWD with --config=<an empty file>
 * and the arguments given; its standard output and error collected. */
typedef struct
{
  GSubprocess *process;
  GString     *err;
  gboolean     exited;
  char        *config_file;
} MgwTestDaemon;

typedef struct
{
  MgwTestDaemon *d;
  const char    *needle;
} MgwTestOutputWait;

char          *mgw_test_empty_config      (void);
/* Appends to `argv` (of g_strdup()ed strings) the words of
 * $MOIPGW_TEST_WRAPPER, a command line (e.g. "valgrind --log-file=...")
 * to put before moipgwd; nothing when it is unset. */
void           mgw_test_add_wrapper       (GPtrArray     *argv);
/* $MOIPGWD with the given arguments, through $MOIPGW_TEST_WRAPPER when
 * set. */
MgwTestDaemon *mgw_test_daemon_spawn      (const char    *first,
                                           ...) G_GNUC_NULL_TERMINATED;
MgwTestDaemon *mgw_test_daemon_spawn_wrapped (const char * const *prefix,
                                              const char         *first,
                                              ...) G_GNUC_NULL_TERMINATED;
gboolean       mgw_test_daemon_exited     (gpointer       data);
void           mgw_test_daemon_wait_exit  (MgwTestDaemon *d,
                                           guint          timeout_ms);
/* TRUE when the output holds w->needle (or the daemon exited). */
gboolean       mgw_test_daemon_output_has (gpointer       data);
/* The port of "listening for <what> users on port N". */
guint16        mgw_test_daemon_port       (MgwTestDaemon *d,
                                           const char    *what);
void           mgw_test_daemon_free       (MgwTestDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwTestDaemon, mgw_test_daemon_free)

/* --- a WebSocket client written by hand over a raw TCP socket, to send
 * any frame at all (bad opcodes, unmasked, oversized...) and read every
 * frame the gateway answers, close codes included. */
typedef struct
{
  MgwTestTcp *tcp;
  gsize       offset;      /* bytes of tcp->received already parsed */
} MgwTestRawWs;

/* The first byte of a frame: FIN and the opcode. */
#define MGW_WS_FIN          0x80
#define MGW_WS_OP_CONT      0x0
#define MGW_WS_OP_TEXT      0x1
#define MGW_WS_OP_BINARY    0x2
#define MGW_WS_OP_CLOSE     0x8
#define MGW_WS_OP_PING      0x9
#define MGW_WS_OP_PONG      0xa

/* Appends one frame to `out`: `first` (FIN, RSV bits, opcode), the
 * length, and when `masked` a mask key and the payload masked with it. */
void          mgw_test_ws_frame_encode     (GByteArray   *out,
                                            guint8        first,
                                            const void   *payload,
                                            gsize         len,
                                            gboolean      masked);
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
char         *mgw_test_ws_accept_key       (const char   *key);
/* Sends an upgrade request (with `extra_headers`, each ending in CRLF,
 * may be NULL) and waits for the 101 answer; fails the test otherwise. */
MgwTestRawWs *mgw_test_raw_ws_connect      (guint16       port,
                                            const char   *extra_headers);
/* One frame from the client: masked as a client's must be, or not. */
void          mgw_test_raw_ws_send         (MgwTestRawWs *ws,
                                            guint8        first,
                                            const void   *payload,
                                            gsize         len,
                                            gboolean      masked);
/* The next frame from the gateway (a server: never masked), waiting for
 * it; FALSE when the connection closes first. `payload` may be NULL. */
gboolean      mgw_test_raw_ws_next_frame   (MgwTestRawWs *ws,
                                            guint8       *opcode,
                                            GByteArray   *payload);
/* Reads frames up to the gateway's close frame and then the end of the
 * TCP connection; returns the close code (1005 for a close frame without
 * one, 0 when the connection ended with no close frame). Data frames
 * meanwhile are appended to `data` when not NULL. */
guint         mgw_test_raw_ws_wait_close   (MgwTestRawWs *ws,
                                            GByteArray   *data);
void          mgw_test_raw_ws_free         (MgwTestRawWs *ws);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwTestRawWs, mgw_test_raw_ws_free)

/* A listening TCP socket on 127.0.0.1 that never accepts: connections
 * complete (the kernel's backlog) and then nothing is ever said. */
GSocket    *mgw_test_silent_listener (guint16 *port);

/* Open descriptors of a process (/proc/<pid>/fd). */
guint       mgw_test_count_fds       (GPid     pid);
GPid        mgw_test_daemon_pid      (MgwTestDaemon *d);
/* Waits until the output of `d` holds `needle`; fails the test if the
 * daemon exits or the time runs out first. */
void        mgw_test_daemon_wait_output (MgwTestDaemon *d,
                                         const char    *needle);

/* A fresh directory, removed with its content when the test ends. */
char       *mgw_test_tmp_dir        (void);

/* A loopback port nothing listens on. */
guint16     mgw_test_closed_port    (void);

/* --- a program on a pseudo-terminal, as a person runs it (the stock
 * telnet client): everything it writes on its terminal is kept. */
typedef struct
{
  GSubprocess *process;
  gboolean     exited;
  int          master;     /* write here to type */
  guint        source;
  GByteArray  *screen;
} MgwTestTerminal;

/* argv run with the pty as its controlling terminal, HOME and the
 * working directory `home`, TERM=dumb. */
MgwTestTerminal *mgw_test_terminal_spawn (const char         *home,
                                          const char * const *argv);
/* Kills the program if it still runs, waits for it. */
void             mgw_test_terminal_free  (MgwTestTerminal    *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MgwTestTerminal, mgw_test_terminal_free)

/* --- child processes --- */

/* A GSubprocessLauncher child setup: the child gets SIGKILL when the test
 * program dies (an aborted test skips its teardown). */
void         mgw_test_die_with_parent (gpointer     data);
/* Fails the test (not skip: CI installs them) when path is not an
 * executable, naming the Debian package to install. */
gboolean     mgw_test_require_program (const char  *path,
                                       const char  *package);
/* rm -rf; retried for a while: a browser's helpers may still be writing
 * in its profile just after it is killed. */
void         mgw_test_remove_tree     (const char  *dir);

#define MGW_TEST_CHROMIUM "/usr/bin/chromium"

/* A SoupServer handler serving user_data, a NUL-terminated HTML page in
 * static storage. */
void         mgw_test_page_cb         (SoupServer         *server,
                                       SoupServerMessage  *msg,
                                       const char         *path,
                                       GHashTable         *query,
                                       gpointer            user_data);

/* What a test page POSTs to /result: {"ok": bool, "detail": string}. */
typedef struct
{
  gboolean  posted;
  gboolean  ok;
  char     *detail;
} MgwTestPageResult;

/* A SoupServer handler for that POST; user_data: the MgwTestPageResult
 * to fill (detail freed by the caller). Other methods get 405. */
void         mgw_test_page_result_cb  (SoupServer         *server,
                                       SoupServerMessage  *msg,
                                       const char         *path,
                                       GHashTable         *query,
                                       gpointer            user_data);

/* Headless Chromium on url: its profile and its log (chromium.log) in
 * dir, the flags containers and CI need, then `extra` (NULL-terminated,
 * or NULL). */
GSubprocess *mgw_test_chromium_spawn  (const char          *dir,
                                       const char          *url,
                                       const char * const  *extra,
                                       GError             **error);

G_END_DECLS
