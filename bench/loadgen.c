/* SPDX-License-Identifier: GPL-3.0-or-later */
/* loadgen.c: the load generator of moipgw's benchmark.
 *
 * Opens N concurrent user sessions through moipgwd (Telnet, WebSocket or
 * a mix, or WebSocket over TLS: --wss), or straight to bench/echo-server
 * (--direct, the baseline), holds them, and measures:
 *
 *   - connection setup: from connect() to the gateway's CONNECT status
 *     line (1F 40 41 "CONNECT" 18 0A: the upstream is open), or to the
 *     101 response in direct mode; the rate of the whole ramp;
 *   - with --wss, the TLS handshake on its own: from connect() to the
 *     handshake done (and from the TCP connection up to it), handshakes
 *     a second, failures and timeouts of the handshake counted apart
 *     from those of the WebSocket upgrade that follows it;
 *   - keystroke round trip (user -> gateway -> echo server -> gateway ->
 *     user) at --key-rate keys a second per session: p50, p99, p99.9,
 *     max; keys that never come back;
 *   - bulk throughput: each session asks the echo server for pages
 *     ("PAGE n") and counts what arrives;
 *   - failures (connect, handshake, setup timeout) and drops (a session
 *     closed by the far end);
 *   - the gateway's RSS, CPU time and context switches from
 *     /proc/PID/status and /proc/PID/stat (--pid) at each step, its
 *     limit of open files (/proc/PID/limits); --idle S only watches an
 *     idle gateway for S seconds (wakeups a second);
 *   - --flood N: N connections from banned addresses (bound to --source
 *     and the --sources - 1 addresses after it, in turn), at most
 *     --inflight at once, each of which the gateway must close before
 *     sending a byte: refused connections a second, connect -> close
 *     times, any connection served (a loud failure), the gateway's RSS
 *     and CPU around it. Each socket has SO_LINGER 0: closed with a
 *     reset, it leaves no TIME_WAIT on either side.
 *
 * --churn R (bench/soak): while holding, R sessions a second, picked at
 * random, are closed by their user and replaced by a new connection (a
 * session that failed or was dropped is replaced too), so that about N
 * stay open while sessions come and go.
 *
 * Raw non-blocking sockets and one epoll loop, so that it is not the
 * bottleneck: one read buffer for all sessions, frames and telnet
 * commands parsed as a stream, keystrokes scheduled round-robin at even
 * spacing (epoll_pwait2, nanosecond timeouts). It raises its own limit
 * of open files to the hard limit. Every phase is bounded in time
 * (--setup-timeout, --hold, --drain, --bulk-time, --after, --max-time),
 * so a run always stops by itself.
 *
 * Keystrokes are the letters a..z in turn (each byte checked on its way
 * back); pages are letters A..Z in turn. The WebSocket client is a
 * minimal RFC 6455 one: handshake (Sec-WebSocket-Accept checked),
 * masked client frames, text/binary/continuation, ping answered with
 * pong, close. The Telnet client answers WILL ECHO/SGA with DO, refuses
 * everything else (WONT, DONT), and strips IAC sequences.
 *
 * The TLS client (--wss) is GnuTLS, one gnutls_session_t a connection on
 * the same non-blocking sockets and epoll loop: its pull function is
 * recv() on the socket (GNUTLS_E_AGAIN: wait for EPOLLIN), its push
 * function the session's own output buffer (what the kernel does not
 * take waits for EPOLLOUT, as for the other kinds), so gnutls_handshake()
 * only ever waits to read and is driven again by each EPOLLIN. The
 * gateway's certificate is verified against --ca for the address
 * connected to (its IP address SAN); without --ca it is not verified
 * (and the results say so). Every handshake is a full one: no session
 * resumption.
 *
 * Results go to standard output, and as key=value lines to --output for
 * bench/run. Exit status: 0 when every session was set up and no key or
 * page was lost, 1 when something failed, 2 on a usage or system error. */
#include <glib.h>

#include <gnutls/gnutls.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WS_GUID         "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define READ_BUF_SIZE   (64 * 1024)
#define MAX_EVENTS      1024
#define KEY_RING        32          /* keys in flight per session */
#define HTTP_MAX        2048        /* a handshake response */
#define TICK_NS         (100 * G_GINT64_CONSTANT (1000000))
#define CHECK_NS        (10 * G_GINT64_CONSTANT (1000000))
#define NS_PER_S        G_GINT64_CONSTANT (1000000000)
#define MAX_CHECKPOINTS 8
#define PATTERN_SIZE    (64 * 1024 + 32)

/* The gateway's status line saying the upstream is open. */
static const guint8 connect_line[] = {
  0x1f, 0x40, 0x41, 'C', 'O', 'N', 'N', 'E', 'C', 'T', 0x18, 0x0a
};

enum { KIND_TELNET, KIND_WS, KIND_WSS, N_KINDS };
static const char *const kind_names[N_KINDS] = { "telnet", "ws", "wss" };

/* WebSocket framing, over TLS or not. */
#define KIND_IS_WS(kind) ((kind) == KIND_WS || (kind) == KIND_WSS)

typedef enum
{
  ST_IDLE,        /* not started */
  ST_CONNECTING,  /* TCP connect in progress */
  ST_TLS,         /* wss: TLS handshake in progress */
  ST_HANDSHAKE,   /* WebSocket request sent, waiting for 101 */
  ST_PREAMBLE,    /* through the gateway: waiting for the CONNECT line */
  ST_READY,
  ST_FAILED,      /* never got ready */
  ST_DROPPED,     /* closed by the far end once ready */
  ST_CLOSED,      /* closed by us at the end */
} SessState;

/* Telnet parser states. */
enum { TN_DATA, TN_IAC, TN_OPTION, TN_SB, TN_SB_IAC };
#define IAC  255
#define DONT 254
#define DO   253
#define WONT 252
#define WILL 251
#define SB   250
#define SE   240
#define OPT_ECHO 1
#define OPT_SGA  3

typedef struct
{
  int       fd;
  guint8    kind;
  guint8    state;
  guint8    writing;      /* EPOLLOUT registered */
  guint8    tn_state;
  guint8    tn_cmd;
  guint8    match;        /* bytes of the CONNECT line matched */
  guint8    ws_hdr_len;   /* header bytes collected */
  guint8    ws_hdr_need;  /* header bytes needed */
  guint8    ws_op;        /* opcode of the frame being read */
  guint8    ctl_len;
  guint8    ring_head;    /* oldest key in flight */
  guint8    ring_count;
  guint8    ws_hdr[14];
  guint8    ctl[125];     /* payload of a control frame */
  guint64   ws_left;      /* payload bytes left in the frame */
  char     *http;         /* handshake response, while reading it */
  guint     http_len;
  char     *accept;       /* the Sec-WebSocket-Accept expected */
  gnutls_session_t tls;   /* wss; NULL otherwise */
  gint64    t_start;
  gint64    t_tcp;        /* wss: the TCP connection up */
  gint64    t_tls;        /* wss: the TLS handshake done */
  guint32   keys_sent;
  guint32   keys_echoed;
  guint32   pages_requested;
  guint32   pages_done;
  guint32   page_pos;     /* bytes of the current page received */
  guint8   *wbuf;         /* output the kernel did not take */
  guint32   wlen;
  guint32   wcap;
  gint64    ring[KEY_RING];  /* send times of the keys in flight */
} Session;

/* What /proc says about a process at one moment. */
typedef struct
{
  gboolean ok;
  gint64   rss_kb;
  gint64   rss_anon_kb;   /* the process's own memory */
  gint64   rss_file_kb;   /* mapped files: mostly shared libraries */
  gint64   hwm_kb;
  gint64   vcsw;          /* voluntary context switches, main thread */
  gint64   nvcsw;
  gint64   vcsw_all;      /* all threads */
  gint64   threads;
  double   cpu_s;         /* utime + stime */
  gint64   fds;
} ProcSample;

typedef enum
{
  PH_RAMP,
  PH_SETTLE,      /* at a checkpoint: waiting before reading RSS */
  PH_HOLD,
  PH_DRAIN,       /* waiting for the last echoes */
  PH_BULK,
  PH_AFTER,       /* sessions closed: waiting before the last sample */
  PH_DONE,
} Phase;

/* Options. */
static char *opt_host = NULL;
static int opt_telnet_port = 0;
static int opt_ws_port = 0;
static int opt_wss_port = 0;
static char *opt_ca = NULL;
static char *opt_tls_priority = NULL;
static gboolean opt_direct = FALSE;
static double opt_telnet_share = -1;
static int opt_sessions = 100;
static int opt_inflight = 256;
static double opt_connect_rate = 0;
static double opt_setup_timeout = 10;
static char *opt_rss_at = NULL;
static double opt_settle = 1;
static double opt_hold = 5;
static double opt_key_rate = 0;
static double opt_drain = 3;
static int opt_bulk_pages = 0;
static int opt_page_size = 4096;
static int opt_bulk_window = 2;
static double opt_bulk_time = 30;
static int opt_pid = 0;
static int opt_echo_pid = 0;
static double opt_after = 0;
static double opt_idle = 0;
static double opt_max_time = 900;
static double opt_churn = 0;
static char *opt_output = NULL;
static char *opt_label = NULL;
static gboolean opt_quiet = FALSE;

typedef struct
{
  int         epfd;
  Session    *sessions;
  int         n;
  struct sockaddr_in addr[N_KINDS];
  guint8     *read_buf;
  guint8      pattern[PATTERN_SIZE];   /* A..Z repeated: page bodies */
  guint32     rng;

  Phase       phase;
  gint64      t0;
  gint64      phase_end;      /* deadline of the current phase */
  gint64      next_tick;      /* setup timeouts, --max-time */
  gint64      next_check;     /* end of drain and bulk */

  /* Ramp. */
  int         started;
  int         inflight;
  int         ready_count;
  int         ramp_target;    /* sessions to start before the next pause */
  int         checkpoints[MAX_CHECKPOINTS];
  int         n_checkpoints;
  int         next_checkpoint;
  gint64      ramp_segment_start;
  gint64      ramp_active_ns;
  gint64      next_start;     /* --connect-rate pacing */
  gint64      last_ready;

  /* Keys. */
  gint64      hold_start;
  gint64      hold_end_actual;
  gint64      key_slot_ns;    /* spacing of keys over all sessions */
  guint64     key_slot;       /* next slot */

  /* Bulk. */
  gint64      bulk_start;
  gint64      bulk_last;      /* last page completed */
  gint64      bulk_kind_last[N_KINDS];
  guint64     bulk_kind_bytes[N_KINDS];
  gint64      bulk_deadline;  /* no new request after this */
  guint64     bulk_bytes;
  guint64     bulk_pages;

  /* Counters. */
  guint64     connect_errors;
  guint64     handshake_errors;
  guint64     setup_timeouts;
  guint64     preamble_closed;
  guint64     drops;
  guint64     unexpected_bytes;
  guint64     status_lines;
  guint64     keys_sent;
  guint64     keys_echoed;
  guint64     keys_skipped;
  guint64     keys_lost;
  guint64     pages_lost;
  gint64      next_churn;     /* --churn pacing */
  guint64     churn_started;  /* replacements opened while holding */
  guint64     churn_closed;   /* ready sessions closed by their user */
  guint64     churn_revived;  /* failed or dropped ones replaced */
  guint64     churn_ready;    /* replacements that got ready */

  /* TLS (--wss). */
  gnutls_certificate_credentials_t tls_cred;
  gnutls_priority_t tls_priority;
  guint64     tls_done;       /* handshakes completed */
  guint64     tls_done_ramp;  /* of which in the ramp (not --churn's) */
  guint64     tls_errors;     /* handshakes failed (verification included) */
  guint64     tls_verify_errors;
  guint64     tls_timeouts;   /* setup timeouts during the handshake */
  gint64      tls_active_ns;  /* ramp time up to the last handshake */
  gint64      last_tls_done;
  GArray     *tls_connect;    /* guint32 µs: connect() -> handshake done */
  GArray     *tls_handshake;  /* guint32 µs: TCP up -> handshake done */
  GArray     *tls_upgrade;    /* guint32 µs: handshake done -> ready */
  char       *tls_desc;       /* what the first handshake negotiated */
  int         ready_hold_end; /* sessions ready when the hold ended */
  gboolean    time_limit_hit;
  int         kind_count[N_KINDS];
  int         kind_ready[N_KINDS];

  /* Samples. */
  GArray     *lat[N_KINDS];   /* guint32 ns, saturated */
  GArray     *setup;          /* guint32 µs */
  GArray     *setup_kind[N_KINDS];

  /* /proc samples of the gateway (and of the echo server). */
  ProcSample  gw_before, gw_checkpoint[MAX_CHECKPOINTS], gw_hold_start, gw_hold_end;
  int         checkpoint_ready[MAX_CHECKPOINTS];   /* sessions ready at each */
  ProcSample  gw_bulk_start, gw_bulk_end, gw_closed, gw_after;
  ProcSample  echo_hold_start, echo_hold_end, echo_bulk_start, echo_bulk_end;
  double      self_cpu_start;
  double      self_cpu_hold_start, self_cpu_hold_end, self_cpu_bulk_start, self_cpu_bulk_end;
  gint64      gw_nofile_soft, gw_nofile_hard;
  gint64      overflows_before, overflows_after;
  gint64      self_nofile;
} Gen;

static Gen gen;

/* --- time, randomness, /proc --- */

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static guint32
rng_next (void)
{
  /* xorshift32: masks and handshake keys need no more. */
  gen.rng ^= gen.rng << 13;
  gen.rng ^= gen.rng >> 17;
  gen.rng ^= gen.rng << 5;
  return gen.rng;
}

static double
self_cpu (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
         ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static gint64
status_field (const char *status,
              const char *name)
{
  const char *p = strstr (status, name);

  if (p == NULL)
    return -1;
  p += strlen (name);
  while (*p == ' ' || *p == '\t')
    p++;
  return g_ascii_strtoll (p, NULL, 10);
}

/* Voluntary context switches of every thread of pid. */
static gint64
all_threads_vcsw (int pid)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%d/task", pid);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  gint64 total = 0;

  if (dir == NULL)
    return -1;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s/status", dir_path, name);
      g_autofree char *text = NULL;

      if (g_file_get_contents (path, &text, NULL, NULL))
        total += MAX (0, status_field (text, "\nvoluntary_ctxt_switches:"));
    }
  return total;
}

static gint64
count_fds (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", pid);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  gint64 n = 0;

  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static ProcSample
proc_sample (int pid)
{
  ProcSample s = { 0 };
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const char *p;

  if (pid <= 0)
    return s;
  path = g_strdup_printf ("/proc/%d/status", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return s;
  s.rss_kb = status_field (text, "\nVmRSS:");
  s.rss_anon_kb = status_field (text, "\nRssAnon:");
  s.rss_file_kb = status_field (text, "\nRssFile:");
  s.hwm_kb = status_field (text, "\nVmHWM:");
  s.vcsw = status_field (text, "\nvoluntary_ctxt_switches:");
  s.nvcsw = status_field (text, "\nnonvoluntary_ctxt_switches:");
  s.threads = status_field (text, "\nThreads:");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&path, g_free);

  /* utime and stime: fields 14 and 15, counted after the command name. */
  path = g_strdup_printf ("/proc/%d/stat", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return s;
  p = strrchr (text, ')');
  if (p != NULL)
    {
      g_auto(GStrv) fields = g_strsplit (p + 2, " ", 16);

      if (g_strv_length (fields) >= 14)
        s.cpu_s = (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) /
                  (double) sysconf (_SC_CLK_TCK);
    }
  s.vcsw_all = all_threads_vcsw (pid);
  s.fds = count_fds (pid);
  s.ok = TRUE;
  return s;
}

/* TcpExt ListenOverflows of a network namespace: connections a full
 * accept queue made wait (path: /proc/PID/net/netstat, the namespace of
 * PID; NULL: /proc/net/netstat, ours). */
static gint64
listen_overflows_in (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path ? path : "/proc/net/netstat", &text, NULL, NULL))
    return -1;
  lines = g_strsplit (text, "\n", -1);
  /* Pairs of lines: names, then values. */
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i += 2)
    {
      g_auto(GStrv) names = g_strsplit (lines[i], " ", -1);
      g_auto(GStrv) values = g_strsplit (lines[i + 1], " ", -1);

      if (g_strcmp0 (names[0], "TcpExt:") != 0)
        continue;
      for (guint j = 1; names[j] != NULL && values[j] != NULL; j++)
        if (strcmp (names[j], "ListenOverflows") == 0)
          return g_ascii_strtoll (values[j], NULL, 10);
    }
  return -1;
}

static gint64
listen_overflows (void)
{
  return listen_overflows_in (NULL);
}

/* "Max open files" of pid. */
static void
proc_nofile (int     pid,
             gint64 *soft,
             gint64 *hard)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/limits", pid);
  g_autofree char *text = NULL;
  const char *p;

  *soft = *hard = -1;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  p = strstr (text, "Max open files");
  if (p == NULL)
    return;
  p += strlen ("Max open files");
  *soft = g_ascii_strtoll (p, (char **) &p, 10);
  *hard = g_ascii_strtoll (p, NULL, 10);
}

static gint64
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
    return -1;
  if (rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
        fprintf (stderr, "loadgen: setrlimit: %s\n", g_strerror (errno));
      getrlimit (RLIMIT_NOFILE, &rl);
    }
  return (gint64) rl.rlim_cur;
}

/* --- sessions: output --- */

static void
set_writing (Session  *s,
             gboolean  writing)
{
  struct epoll_event ev = { 0 };

  if (s->writing == writing)
    return;
  s->writing = writing;
  ev.events = EPOLLIN | (writing ? EPOLLOUT : 0);
  ev.data.ptr = s;
  epoll_ctl (gen.epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static void session_error (Session *s);

/* Bytes on the socket, keeping what the kernel does not take. FALSE:
 * the connection is dead (errno says why); the caller ends it. */
static gboolean
raw_send (Session      *s,
          const guint8 *data,
          gsize         len)
{
  gsize done = 0;

  if (s->wlen == 0)
    {
      ssize_t n;

      do
        n = send (s->fd, data, len, MSG_NOSIGNAL);
      while (n < 0 && errno == EINTR);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return FALSE;
      done = n < 0 ? 0 : (gsize) n;
      if (done == len)
        return TRUE;
    }
  if (s->wlen + (len - done) > s->wcap)
    {
      s->wcap = MAX (s->wlen + (len - done), MAX (s->wcap * 2, 256));
      s->wbuf = g_realloc (s->wbuf, s->wcap);
    }
  memcpy (s->wbuf + s->wlen, data + done, len - done);
  s->wlen += len - done;
  set_writing (s, TRUE);
  return TRUE;
}

/* GnuTLS's push function: the same buffering, so that a record is
 * never refused (no GNUTLS_E_AGAIN on writing). It must not end the
 * session (GnuTLS is still using it): a dead connection is -1 and
 * errno, and gnutls_*() fails. */
static ssize_t
tls_push (gnutls_transport_ptr_t  ptr,
          const void             *data,
          size_t                  len)
{
  Session *s = ptr;

  if (!raw_send (s, data, len))
    return -1;
  return (ssize_t) len;
}

/* Sends, through TLS on wss. */
static void
sess_send (Session      *s,
           const guint8 *data,
           gsize         len)
{
  if (s->tls == NULL)
    {
      if (!raw_send (s, data, len))
        session_error (s);
      return;
    }
  while (len > 0)
    {
      /* At most a record's worth each time. */
      ssize_t n = gnutls_record_send (s->tls, data, len);

      if (n == GNUTLS_E_INTERRUPTED)
        continue;
      if (n <= 0)
        {
          session_error (s);
          return;
        }
      data += n;
      len -= n;
    }
}

static void
sess_flush (Session *s)
{
  guint32 off = 0;

  while (off < s->wlen)
    {
      ssize_t n = send (s->fd, s->wbuf + off, s->wlen - off, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n < 0)
        {
          session_error (s);
          return;
        }
      off += n;
    }
  memmove (s->wbuf, s->wbuf + off, s->wlen - off);
  s->wlen -= off;
  if (s->wlen == 0)
    {
      g_clear_pointer (&s->wbuf, g_free);
      s->wcap = 0;
      set_writing (s, FALSE);
    }
}

/* A masked client frame (payload up to 64 KiB). */
static void
ws_send (Session      *s,
         guint8        opcode,
         const guint8 *payload,
         gsize         len)
{
  guint8 stack[256];
  guint8 *frame = len + 8 <= sizeof stack ? stack : g_malloc (len + 8);
  guint32 mask = rng_next ();
  gsize h = 0;

  g_assert (len < 65536);
  frame[h++] = 0x80 | opcode;
  if (len < 126)
    frame[h++] = 0x80 | (guint8) len;
  else
    {
      frame[h++] = 0x80 | 126;
      frame[h++] = (guint8) (len >> 8);
      frame[h++] = (guint8) len;
    }
  memcpy (frame + h, &mask, 4);
  for (gsize i = 0; i < len; i++)
    frame[h + 4 + i] = payload[i] ^ frame[h + (i & 3)];
  sess_send (s, frame, h + 4 + len);
  if (frame != stack)
    g_free (frame);
}

/* Bytes for the far end, in the session's framing. */
static void
send_data (Session      *s,
           const guint8 *data,
           gsize         len)
{
  if (KIND_IS_WS (s->kind))
    ws_send (s, 0x1, data, len);
  else
    sess_send (s, data, len);
}

/* --- sessions: life cycle --- */

static gboolean
in_setup (const Session *s)
{
  return s->state == ST_CONNECTING || s->state == ST_TLS || s->state == ST_HANDSHAKE ||
         s->state == ST_PREAMBLE;
}

static void
release (Session *s)
{
  if (s->fd >= 0)
    close (s->fd);
  s->fd = -1;
  g_clear_pointer (&s->wbuf, g_free);
  s->wlen = s->wcap = 0;
  g_clear_pointer (&s->http, g_free);
  g_clear_pointer (&s->accept, g_free);
  g_clear_pointer (&s->tls, gnutls_deinit);
}

static void
set_failed (Session *s)
{
  if (in_setup (s))
    gen.inflight--;
  s->state = ST_FAILED;
  release (s);
}

/* The connection is dead, or the far end closed it. */
static void
session_error (Session *s)
{
  switch (s->state)
    {
    case ST_CONNECTING:
      gen.connect_errors++;
      set_failed (s);
      break;
    case ST_TLS:
      gen.tls_errors++;
      set_failed (s);
      break;
    case ST_HANDSHAKE:
      gen.handshake_errors++;
      set_failed (s);
      break;
    case ST_PREAMBLE:
      gen.preamble_closed++;
      set_failed (s);
      break;
    case ST_READY:
      gen.drops++;
      gen.ready_count--;
      gen.kind_ready[s->kind]--;
      s->state = ST_DROPPED;
      release (s);
      break;
    default:
      release (s);
      break;
    }
}

static void
set_ready (Session *s,
           gint64   now)
{
  guint32 us = (guint32) MIN ((now - s->t_start) / 1000, (gint64) G_MAXUINT32);

  s->state = ST_READY;
  gen.inflight--;
  gen.ready_count++;
  if (gen.phase >= PH_HOLD)
    gen.churn_ready++;
  gen.kind_ready[s->kind]++;
  gen.last_ready = now;
  g_array_append_val (gen.setup, us);
  g_array_append_val (gen.setup_kind[s->kind], us);
  if (s->kind == KIND_WSS)
    {
      guint32 up = (guint32) MIN ((now - s->t_tls) / 1000, (gint64) G_MAXUINT32);

      g_array_append_val (gen.tls_upgrade, up);
    }
}

/* Telnet sessions spread evenly among the others. */
static int
kind_of (int i)
{
  double share = opt_telnet_share;

  if (opt_wss_port > 0)
    return KIND_WSS;
  if (opt_direct || share <= 0)
    return KIND_WS;
  if (share >= 1)
    return KIND_TELNET;
  return (int) ((i + 1) * share) > (int) (i * share) ? KIND_TELNET : KIND_WS;
}

static void
ws_request (Session *s)
{
  guint8 raw[16];
  g_autofree char *key = NULL;
  g_autofree char *keyed = NULL;
  char request[512];
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  GChecksum *sha1;
  int n;

  for (int i = 0; i < 16; i += 4)
    {
      guint32 r = rng_next ();
      memcpy (raw + i, &r, 4);
    }
  key = g_base64_encode (raw, sizeof raw);
  keyed = g_strconcat (key, WS_GUID, NULL);
  sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha1, (const guchar *) keyed, strlen (keyed));
  g_checksum_get_digest (sha1, digest, &digest_len);
  g_checksum_free (sha1);
  s->accept = g_base64_encode (digest, digest_len);

  n = g_snprintf (request, sizeof request,
                  "GET / HTTP/1.1\r\n"
                  "Host: %s:%u\r\n"
                  "Upgrade: websocket\r\n"
                  "Connection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\n"
                  "Sec-WebSocket-Version: 13\r\n"
                  "\r\n",
                  opt_host, ntohs (gen.addr[s->kind].sin_port), key);
  s->state = ST_HANDSHAKE;
  s->http = g_malloc (HTTP_MAX + 1);
  s->http_len = 0;
  sess_send (s, (const guint8 *) request, n);
}

/* --- sessions: TLS (wss) --- */

static void
append_us (GArray *a,
           gint64  ns)
{
  guint32 us = (guint32) MIN (ns / 1000, (gint64) G_MAXUINT32);

  g_array_append_val (a, us);
}

static ssize_t
tls_pull (gnutls_transport_ptr_t  ptr,
          void                   *data,
          size_t                  len)
{
  return recv (GPOINTER_TO_INT (ptr), data, len, 0);
}

static void
tls_failed (Session *s,
            int      code)
{
  static int told = 0;

  if (code == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
    {
      gnutls_datum_t text = { NULL, 0 };

      gen.tls_verify_errors++;
      if (told++ < 3 &&
          gnutls_certificate_verification_status_print (gnutls_session_get_verify_cert_status (s->tls),
                                                        gnutls_certificate_type_get (s->tls),
                                                        &text, 0) == 0)
        fprintf (stderr, "loadgen: TLS: the gateway's certificate: %s\n", text.data);
      gnutls_free (text.data);
    }
  else if (told++ < 3)
    fprintf (stderr, "loadgen: TLS handshake: %s\n", gnutls_strerror (code));
  session_error (s);   /* counted as a TLS failure */
}

/* The handshake, again at each EPOLLIN until it is done. It only ever
 * waits to read: GNUTLS_E_AGAIN with gnutls_record_get_direction () 0,
 * since tls_push takes every byte. */
static void
tls_step (Session *s)
{
  gint64 now;
  int r;

  do
    r = gnutls_handshake (s->tls);
  while (r < 0 && r != GNUTLS_E_AGAIN && !gnutls_error_is_fatal (r));
  if (r == GNUTLS_E_AGAIN)
    return;
  if (r < 0)
    {
      tls_failed (s, r);
      return;
    }
  now = now_ns ();
  s->t_tls = now;
  gen.tls_done++;
  if (gen.phase < PH_HOLD)
    gen.tls_done_ramp++;
  gen.last_tls_done = now;
  append_us (gen.tls_connect, now - s->t_start);
  append_us (gen.tls_handshake, now - s->t_tcp);
  if (gen.tls_desc == NULL)
    {
      char *desc = gnutls_session_get_desc (s->tls);

      gen.tls_desc = g_strdup (desc);
      gnutls_free (desc);
    }
  ws_request (s);
}

static void
tls_start (Session *s)
{
  int r;

  s->state = ST_TLS;
  s->t_tcp = now_ns ();
  r = gnutls_init (&s->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
  if (r == GNUTLS_E_SUCCESS)
    r = gnutls_priority_set (s->tls, gen.tls_priority);
  if (r == GNUTLS_E_SUCCESS)
    r = gnutls_credentials_set (s->tls, GNUTLS_CRD_CERTIFICATE, gen.tls_cred);
  if (r != GNUTLS_E_SUCCESS)
    {
      tls_failed (s, r);
      return;
    }
  /* The address is what the certificate must name (an IP address SAN);
   * no SNI: it is never an IP address. */
  if (opt_ca != NULL)
    gnutls_session_set_verify_cert (s->tls, opt_host, 0);
  gnutls_transport_set_ptr2 (s->tls, GINT_TO_POINTER (s->fd), s);
  gnutls_transport_set_pull_function (s->tls, tls_pull);
  gnutls_transport_set_push_function (s->tls, tls_push);
  gnutls_handshake_set_timeout (s->tls, 0);   /* --setup-timeout bounds it */
  tls_step (s);
}

/* The TCP connection is up. */
static void
connected (Session *s)
{
  struct epoll_event ev = { 0 };

  ev.events = EPOLLIN;
  ev.data.ptr = s;
  epoll_ctl (gen.epfd, EPOLL_CTL_MOD, s->fd, &ev);
  s->writing = FALSE;
  if (s->kind == KIND_WSS)
    tls_start (s);
  else if (s->kind == KIND_WS)
    ws_request (s);
  else
    s->state = ST_PREAMBLE;   /* the gateway speaks first */
}

static void
start_session (int    i,
               gint64 now)
{
  Session *s = &gen.sessions[i];
  struct epoll_event ev = { 0 };
  int one = 1;
  int fd;

  s->kind = kind_of (i);
  s->t_start = now;
  s->ws_hdr_need = 2;
  if (gen.phase == PH_HOLD)
    gen.churn_started++;
  else
    {
      gen.started++;
      gen.kind_count[s->kind]++;
    }
  gen.inflight++;
  s->state = ST_CONNECTING;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      fprintf (stderr, "loadgen: socket: %s\n", g_strerror (errno));
      gen.connect_errors++;
      set_failed (s);
      return;
    }
  s->fd = fd;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect (fd, (struct sockaddr *) &gen.addr[s->kind], sizeof gen.addr[s->kind]) < 0 &&
      errno != EINPROGRESS)
    {
      static gboolean told = FALSE;

      if (!told)
        fprintf (stderr, "loadgen: connect: %s\n", g_strerror (errno));
      told = TRUE;
      gen.connect_errors++;
      set_failed (s);
      return;
    }
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = s;
  s->writing = TRUE;
  if (epoll_ctl (gen.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      gen.connect_errors++;
      set_failed (s);
    }
}

/* --- sessions: input --- */

static void
record_latency (Session *s,
                gint64   now)
{
  gint64 sent = s->ring[s->ring_head];
  guint32 ns = (guint32) MIN (now - sent, (gint64) G_MAXUINT32);

  g_array_append_val (gen.lat[s->kind], ns);
  s->ring_head = (s->ring_head + 1) % KEY_RING;
  s->ring_count--;
  s->keys_echoed++;
  gen.keys_echoed++;
}

static void request_pages (Session *s, guint n);

/* Page bytes: checked against the pattern, pages counted. */
static void
page_data (Session      *s,
           const guint8 *data,
           gsize         len,
           gint64        now)
{
  while (len > 0 && s->pages_requested > s->pages_done)
    {
      gsize chunk = MIN (len, (gsize) opt_page_size - s->page_pos);

      while (chunk > 0)
        {
          gsize piece = MIN (chunk, (gsize) (64 * 1024));

          if (memcmp (data, gen.pattern + s->page_pos % 26, piece) != 0)
            gen.unexpected_bytes++;
          data += piece;
          len -= piece;
          chunk -= piece;
          s->page_pos += piece;
          gen.bulk_bytes += piece;
          gen.bulk_kind_bytes[s->kind] += piece;
        }
      if (s->page_pos == (guint32) opt_page_size)
        {
          s->page_pos = 0;
          s->pages_done++;
          gen.bulk_pages++;
          gen.bulk_last = now;
          gen.bulk_kind_last[s->kind] = now;
          if (s->pages_requested < (guint32) opt_bulk_pages && now < gen.bulk_deadline)
            request_pages (s, 1);
        }
    }
  if (len > 0)
    gen.unexpected_bytes += len;
}

/* Bytes from the far end, framing removed. */
static void
on_data (Session      *s,
         const guint8 *data,
         gsize         len,
         gint64        now)
{
  gsize i = 0;

  if (s->state == ST_PREAMBLE)
    {
      /* Everything up to the CONNECT line is the gateway's. The line's
       * first byte (US) appears nowhere else in it. */
      for (; i < len && s->match < sizeof connect_line; i++)
        {
          if (data[i] == connect_line[s->match])
            s->match++;
          else
            s->match = data[i] == connect_line[0] ? 1 : 0;
        }
      if (s->match < sizeof connect_line)
        return;
      set_ready (s, now);
    }
  if (s->state != ST_READY || i == len)
    return;
  data += i;
  len -= i;

  if (s->pages_requested > s->pages_done)
    {
      page_data (s, data, len, now);
      return;
    }
  for (i = 0; i < len; i++)
    {
      if (s->ring_count > 0 && data[i] == 'a' + s->keys_echoed % 26)
        record_latency (s, now);
      else
        {
          gen.unexpected_bytes++;
          if (data[i] == connect_line[0])
            gen.status_lines++;   /* the gateway telling something */
        }
    }
}

/* A complete control frame. */
static void
ws_control (Session *s)
{
  switch (s->ws_op)
    {
    case 0x9:
      ws_send (s, 0xA, s->ctl, s->ctl_len);
      break;
    case 0x8:
      session_error (s);
      break;
    default:
      break;
    }
}

/* WebSocket frames from the server, as a stream. */
static void
ws_input (Session      *s,
          const guint8 *data,
          gsize         len,
          gint64        now)
{
  while (len > 0 && s->fd >= 0)
    {
      if (s->ws_hdr_len < s->ws_hdr_need)
        {
          s->ws_hdr[s->ws_hdr_len++] = *data++;
          len--;
          if (s->ws_hdr_len == 2)
            {
              guint8 l7 = s->ws_hdr[1] & 0x7f;

              if (s->ws_hdr[1] & 0x80)
                {
                  /* A server never masks. */
                  gen.unexpected_bytes++;
                  session_error (s);
                  return;
                }
              s->ws_hdr_need = l7 == 126 ? 4 : l7 == 127 ? 10 : 2;
            }
          if (s->ws_hdr_len < s->ws_hdr_need)
            continue;
          s->ws_op = s->ws_hdr[0] & 0x0f;
          if (s->ws_hdr_need == 2)
            s->ws_left = s->ws_hdr[1] & 0x7f;
          else if (s->ws_hdr_need == 4)
            s->ws_left = ((guint64) s->ws_hdr[2] << 8) | s->ws_hdr[3];
          else
            {
              s->ws_left = 0;
              for (int i = 0; i < 8; i++)
                s->ws_left = (s->ws_left << 8) | s->ws_hdr[2 + i];
            }
          s->ctl_len = 0;
          if (s->ws_op >= 0x8 && s->ws_left > sizeof s->ctl)
            {
              session_error (s);
              return;
            }
        }
      else
        {
          gsize n = (gsize) MIN ((guint64) len, s->ws_left);

          if (s->ws_op < 0x8)
            on_data (s, data, n, now);
          else
            {
              memcpy (s->ctl + s->ctl_len, data, n);
              s->ctl_len += n;
            }
          data += n;
          len -= n;
          s->ws_left -= n;
        }
      if (s->ws_hdr_len == s->ws_hdr_need && s->ws_left == 0)
        {
          /* The frame is complete. */
          s->ws_hdr_len = 0;
          s->ws_hdr_need = 2;
          if (s->ws_op >= 0x8)
            ws_control (s);
        }
    }
}

/* The 101 response; what follows it is frames. */
static void
http_input (Session      *s,
            const guint8 *data,
            gsize         len,
            gint64        now)
{
  gsize take = MIN (len, (gsize) HTTP_MAX - s->http_len);
  char *end, *accept;

  memcpy (s->http + s->http_len, data, take);
  s->http_len += take;
  s->http[s->http_len] = '\0';
  end = strstr (s->http, "\r\n\r\n");
  if (end == NULL)
    {
      if (s->http_len == HTTP_MAX)
        session_error (s);
      return;
    }
  *end = '\0';
  accept = strcasestr (s->http, "\r\nSec-WebSocket-Accept:");
  if (strncmp (s->http, "HTTP/1.1 101", 12) != 0 || accept == NULL)
    {
      session_error (s);
      return;
    }
  accept += strlen ("\r\nSec-WebSocket-Accept:");
  while (*accept == ' ')
    accept++;
  if (strncmp (accept, s->accept, strlen (s->accept)) != 0)
    {
      session_error (s);
      return;
    }
  {
    /* Bytes of this read past the response. */
    gsize used = (end + 4 - s->http) - (s->http_len - take);

    g_clear_pointer (&s->http, g_free);
    g_clear_pointer (&s->accept, g_free);
    if (opt_direct)
      set_ready (s, now);
    else
      s->state = ST_PREAMBLE;
    ws_input (s, data + used, len - used, now);
  }
}

static void
telnet_reply (Session *s,
              guint8   verb,
              guint8   option)
{
  guint8 reply[3] = { IAC, 0, option };

  if (verb == WILL)
    reply[1] = option == OPT_ECHO || option == OPT_SGA ? DO : DONT;
  else if (verb == DO)
    reply[1] = WONT;
  else
    return;   /* WONT, DONT: nothing to say */
  sess_send (s, reply, sizeof reply);
}

/* Telnet from the gateway: commands out, data on. */
static void
telnet_input (Session      *s,
              const guint8 *data,
              gsize         len,
              gint64        now)
{
  gsize run = 0;   /* start of the current run of data bytes */

  for (gsize i = 0; i < len && s->fd >= 0; i++)
    {
      guint8 b = data[i];

      switch (s->tn_state)
        {
        case TN_DATA:
          if (b != IAC)
            continue;
          if (i > run)
            on_data (s, data + run, i - run, now);
          s->tn_state = TN_IAC;
          break;
        case TN_IAC:
          if (b == IAC)
            {
              on_data (s, &b, 1, now);   /* a doubled 0xFF */
              s->tn_state = TN_DATA;
            }
          else if (b >= WILL)
            {
              s->tn_cmd = b;
              s->tn_state = TN_OPTION;
            }
          else if (b == SB)
            s->tn_state = TN_SB;
          else
            s->tn_state = TN_DATA;
          break;
        case TN_OPTION:
          telnet_reply (s, s->tn_cmd, b);
          s->tn_state = TN_DATA;
          break;
        case TN_SB:
          if (b == IAC)
            s->tn_state = TN_SB_IAC;
          break;
        case TN_SB_IAC:
          s->tn_state = b == SE ? TN_DATA : TN_SB;
          break;
        default:
          break;
        }
      run = i + 1;
    }
  if (s->tn_state == TN_DATA && run < len && s->fd >= 0)
    on_data (s, data + run, len - run, now);
}

/* One read: bytes, 0 when the socket (or GnuTLS) has nothing now, -1
 * when the connection is over (closed, reset, a TLS error) and -2 to
 * try again at once. */
static ssize_t
sess_recv (Session *s)
{
  ssize_t n;

  if (s->tls == NULL)
    {
      n = recv (s->fd, gen.read_buf, READ_BUF_SIZE, 0);
      if (n < 0 && errno == EINTR)
        return -2;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
      return n > 0 ? n : -1;
    }
  /* A record at most (16 KiB). */
  n = gnutls_record_recv (s->tls, gen.read_buf, READ_BUF_SIZE);
  if (n == GNUTLS_E_AGAIN)
    return 0;
  if (n < 0 && !gnutls_error_is_fatal (n))
    return -2;   /* interrupted, a warning alert, a session ticket... */
  return n > 0 ? n : -1;   /* 0: close_notify */
}

static void
sess_read (Session *s)
{
  for (int round = 0; s->fd >= 0; round++)
    {
      ssize_t n;
      gint64 now;

      /* What GnuTLS holds decrypted already is read whatever the round:
       * epoll would not say it is there. */
      if (round >= 4 && (s->tls == NULL || gnutls_record_check_pending (s->tls) == 0))
        return;
      n = sess_recv (s);
      if (n == -2)
        continue;
      if (n == 0)
        return;
      if (n < 0)
        {
          session_error (s);
          return;
        }
      now = now_ns ();
      if (s->state == ST_HANDSHAKE)
        http_input (s, gen.read_buf, n, now);
      else if (KIND_IS_WS (s->kind))
        ws_input (s, gen.read_buf, n, now);
      else
        telnet_input (s, gen.read_buf, n, now);
      if (s->fd >= 0 && (s->tls == NULL ? n < READ_BUF_SIZE :
                         gnutls_record_check_pending (s->tls) == 0))
        return;
    }
}

static void
sess_event (Session  *s,
            guint32   events)
{
  if (s->state == ST_CONNECTING)
    {
      int err = 0;
      socklen_t err_len = sizeof err;

      if (getsockopt (s->fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0 || err != 0)
        {
          static gboolean told = FALSE;

          if (!told && err != 0)
            fprintf (stderr, "loadgen: connect: %s\n", g_strerror (err));
          told = TRUE;
          session_error (s);
          return;
        }
      if (!(events & (EPOLLOUT | EPOLLIN)))
        return;
      connected (s);
    }
  if (s->fd >= 0 && (events & EPOLLOUT) && s->wlen > 0)
    sess_flush (s);
  if (s->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    {
      if (s->state == ST_TLS)
        tls_step (s);
      else
        sess_read (s);
    }
}

/* --- phases --- */

static void
send_key (Session *s,
          gint64   now)
{
  guint8 key;

  if (s->ring_count == KEY_RING)
    {
      gen.keys_skipped++;   /* too many in flight: the far end is stuck */
      return;
    }
  key = 'a' + s->keys_sent % 26;
  s->ring[(s->ring_head + s->ring_count) % KEY_RING] = now;
  s->ring_count++;
  s->keys_sent++;
  gen.keys_sent++;
  send_data (s, &key, 1);
}

static void
request_pages (Session *s,
               guint    n)
{
  char line[32];
  GString *lines = g_string_new (NULL);
  int len = g_snprintf (line, sizeof line, "PAGE %d\n", opt_page_size);

  for (guint i = 0; i < n && s->pages_requested < (guint32) opt_bulk_pages; i++)
    {
      g_string_append_len (lines, line, len);
      s->pages_requested++;
    }
  if (lines->len > 0)
    send_data (s, (const guint8 *) lines->str, lines->len);
  g_string_free (lines, TRUE);
}

/* The user leaves: a close frame on WebSocket, then the socket closed. */
static void
close_session (Session *s)
{
  static const guint8 normal[] = { 0x03, 0xe8 };   /* 1000 */

  if (s->fd < 0)
    return;
  if (s->state == ST_READY && KIND_IS_WS (s->kind) && s->wlen == 0)
    ws_send (s, 0x8, normal, sizeof normal);
  if (s->state == ST_READY && s->tls != NULL && s->wlen == 0)
    gnutls_bye (s->tls, GNUTLS_SHUT_WR);   /* close_notify; nothing to wait for */
  if (in_setup (s))
    gen.inflight--;
  if (s->state == ST_READY)
    {
      gen.ready_count--;
      gen.kind_ready[s->kind]--;
    }
  if (s->fd >= 0)
    {
      s->state = ST_CLOSED;
      release (s);
    }
}

static void
close_all (void)
{
  for (int i = 0; i < gen.n; i++)
    close_session (&gen.sessions[i]);
}

/* --churn: one session, picked at random, leaves and a new one takes its
 * place. Sessions being set up or with keys in flight are not picked
 * (a few tries, then this turn is skipped). */
static void
churn_one (gint64 now)
{
  for (int tries = 0; tries < 8; tries++)
    {
      int i = (int) (rng_next () % (guint32) gen.n);
      Session *s = &gen.sessions[i];

      if (in_setup (s) || (s->state == ST_READY && s->ring_count > 0))
        continue;
      if (s->state == ST_READY)
        gen.churn_closed++;
      else
        gen.churn_revived++;
      close_session (s);
      release (s);
      memset (s, 0, sizeof *s);
      s->fd = -1;
      start_session (i, now);
      return;
    }
}

static void
start_hold (gint64 now)
{
  gen.phase = PH_HOLD;
  gen.hold_start = now;
  gen.phase_end = now + (gint64) (opt_hold * NS_PER_S);
  gen.key_slot = 0;
  gen.next_churn = now + (opt_churn > 0 ? (gint64) (NS_PER_S / opt_churn) : 0);
  if (opt_key_rate > 0 && gen.n > 0)
    gen.key_slot_ns = MAX (1, (gint64) (NS_PER_S / opt_key_rate / gen.n));
  gen.gw_hold_start = proc_sample (opt_pid);
  gen.echo_hold_start = proc_sample (opt_echo_pid);
  gen.self_cpu_hold_start = self_cpu ();
  if (!opt_quiet)
    printf ("holding %d sessions for %.0f s (%.2f keys/s each)\n",
            gen.ready_count, opt_hold, opt_key_rate);
}

static void
start_bulk (gint64 now)
{
  gen.phase = PH_BULK;
  gen.bulk_start = gen.bulk_last = now;
  gen.bulk_deadline = now + (gint64) (opt_bulk_time * NS_PER_S);
  gen.phase_end = gen.bulk_deadline + (gint64) (opt_drain * NS_PER_S);
  gen.gw_bulk_start = proc_sample (opt_pid);
  gen.echo_bulk_start = proc_sample (opt_echo_pid);
  gen.self_cpu_bulk_start = self_cpu ();
  for (int i = 0; i < gen.n; i++)
    if (gen.sessions[i].state == ST_READY)
      request_pages (&gen.sessions[i], opt_bulk_window);
}

static gboolean
bulk_done (gint64 now)
{
  for (int i = 0; i < gen.n; i++)
    {
      const Session *s = &gen.sessions[i];

      if (s->state == ST_READY && s->pages_done < s->pages_requested)
        return FALSE;
      if (s->state == ST_READY && s->pages_requested < (guint32) opt_bulk_pages &&
          now < gen.bulk_deadline)
        return FALSE;
    }
  return TRUE;
}

static gboolean
keys_drained (void)
{
  for (int i = 0; i < gen.n; i++)
    if (gen.sessions[i].state == ST_READY && gen.sessions[i].ring_count > 0)
      return FALSE;
  return TRUE;
}

static void
finish_sessions (gint64 now)
{
  for (int i = 0; i < gen.n; i++)
    {
      Session *s = &gen.sessions[i];

      gen.keys_lost += s->ring_count;
      gen.pages_lost += s->pages_requested - s->pages_done;
    }
  if (gen.bulk_start != 0)
    {
      gen.gw_bulk_end = proc_sample (opt_pid);
      gen.echo_bulk_end = proc_sample (opt_echo_pid);
      gen.self_cpu_bulk_end = self_cpu ();
    }
  gen.overflows_after = listen_overflows ();
  close_all ();
  gen.gw_closed = proc_sample (opt_pid);
  gen.phase = PH_AFTER;
  gen.phase_end = now + (gint64) (opt_after * NS_PER_S);
}

/* Ramp: start sessions up to the next checkpoint, within the limits. */
static void
ramp (gint64 now)
{
  while (gen.started < gen.ramp_target && gen.inflight < opt_inflight)
    {
      if (opt_connect_rate > 0)
        {
          if (now < gen.next_start)
            break;
          gen.next_start = MAX (gen.next_start, now - NS_PER_S / 100) +
                           (gint64) (NS_PER_S / opt_connect_rate);
        }
      start_session (gen.started, now);
    }
  if (gen.started < gen.ramp_target || gen.inflight > 0)
    return;

  /* Every session of this segment is ready or failed. */
  gen.ramp_active_ns += (gen.last_ready > gen.ramp_segment_start ? gen.last_ready : now) -
                        gen.ramp_segment_start;
  if (gen.last_tls_done > gen.ramp_segment_start)
    gen.tls_active_ns += gen.last_tls_done - gen.ramp_segment_start;
  if (gen.next_checkpoint < gen.n_checkpoints &&
      gen.checkpoints[gen.next_checkpoint] == gen.started)
    {
      gen.phase = PH_SETTLE;
      gen.phase_end = now + (gint64) (opt_settle * NS_PER_S);
      return;
    }
  if (!opt_quiet)
    printf ("%d of %d sessions ready (%d telnet, %d ws, %d wss)\n", gen.ready_count, gen.n,
            gen.kind_ready[KIND_TELNET], gen.kind_ready[KIND_WS], gen.kind_ready[KIND_WSS]);
  start_hold (now);
}

static void
settle_done (gint64 now)
{
  int cp = gen.next_checkpoint++;

  gen.gw_checkpoint[cp] = proc_sample (opt_pid);
  gen.checkpoint_ready[cp] = gen.ready_count;
  if (!opt_quiet && gen.gw_checkpoint[cp].ok)
    printf ("checkpoint: %d sessions ready, gateway RSS %" G_GINT64_FORMAT " KiB\n",
            gen.ready_count, gen.gw_checkpoint[cp].rss_kb);
  gen.phase = PH_RAMP;
  gen.ramp_target = gen.next_checkpoint < gen.n_checkpoints ?
                    gen.checkpoints[gen.next_checkpoint] : gen.n;
  gen.ramp_segment_start = now;
  gen.last_ready = 0;
  ramp (now);
}

static void
setup_timeouts (gint64 now)
{
  gint64 limit = (gint64) (opt_setup_timeout * NS_PER_S);

  for (int i = 0; i < gen.started; i++)
    {
      Session *s = &gen.sessions[i];

      if (in_setup (s) && now - s->t_start > limit)
        {
          gen.setup_timeouts++;
          if (s->state == ST_TLS)
            gen.tls_timeouts++;
          set_failed (s);
        }
    }
}

/* Moves the phases along; returns the next moment something is due. */
static gint64
advance (gint64 now)
{
  gint64 due = gen.next_tick;
  Phase phase = gen.phase;

  if (now >= gen.next_tick)
    {
      setup_timeouts (now);
      gen.next_tick = now + TICK_NS;
      due = gen.next_tick;
      if (now - gen.t0 > (gint64) (opt_max_time * NS_PER_S) && gen.phase < PH_AFTER)
        {
          fprintf (stderr, "loadgen: --max-time reached, stopping\n");
          gen.time_limit_hit = TRUE;
          finish_sessions (now);
        }
    }

  switch (gen.phase)
    {
    case PH_RAMP:
      ramp (now);
      if (gen.phase == PH_RAMP && opt_connect_rate > 0 && gen.started < gen.ramp_target)
        due = MIN (due, gen.next_start);
      break;
    case PH_SETTLE:
      if (now >= gen.phase_end)
        settle_done (now);
      else
        due = MIN (due, gen.phase_end);
      break;
    case PH_HOLD:
      if (gen.key_slot_ns > 0)
        {
          gint64 slot_time;

          while ((slot_time = gen.hold_start + (gint64) gen.key_slot * gen.key_slot_ns) <= now &&
                 slot_time < gen.phase_end)
            {
              Session *s = &gen.sessions[gen.key_slot % gen.n];

              if (s->state == ST_READY)
                send_key (s, now);
              gen.key_slot++;
            }
          due = MIN (due, slot_time);
        }
      if (opt_churn > 0 && gen.n > 0)
        {
          while (gen.next_churn <= now && gen.next_churn < gen.phase_end)
            {
              churn_one (now);
              gen.next_churn += (gint64) (NS_PER_S / opt_churn);
            }
          due = MIN (due, gen.next_churn);
        }
      if (now >= gen.phase_end)
        {
          gen.hold_end_actual = now;
          gen.ready_hold_end = gen.ready_count;
          gen.gw_hold_end = proc_sample (opt_pid);
          gen.echo_hold_end = proc_sample (opt_echo_pid);
          gen.self_cpu_hold_end = self_cpu ();
          gen.phase = PH_DRAIN;
          gen.phase_end = now + (gint64) (opt_drain * NS_PER_S);
        }
      else
        due = MIN (due, gen.phase_end);
      break;
    case PH_DRAIN:
      /* The scans cost O(sessions): every CHECK_NS, not every wakeup. */
      if (now < gen.next_check && now < gen.phase_end)
        {
          due = MIN (due, gen.next_check);
          break;
        }
      gen.next_check = now + CHECK_NS;
      if (keys_drained () || now >= gen.phase_end)
        {
          if (opt_bulk_pages > 0 && gen.ready_count > 0)
            start_bulk (now);
          else
            finish_sessions (now);
        }
      due = MIN (due, gen.next_check);
      break;
    case PH_BULK:
      if (now < gen.next_check && now < gen.phase_end)
        {
          due = MIN (due, gen.next_check);
          break;
        }
      gen.next_check = now + CHECK_NS;
      if (bulk_done (now) || now >= gen.phase_end)
        finish_sessions (now);
      due = MIN (due, MIN (gen.next_check, gen.phase_end));
      break;
    case PH_AFTER:
      if (now >= gen.phase_end)
        {
          gen.gw_after = proc_sample (opt_pid);
          gen.phase = PH_DONE;
        }
      else
        due = MIN (due, gen.phase_end);
      break;
    case PH_DONE:
    default:
      break;
    }
  /* A new phase may have something due at once (its first keys). */
  if (gen.phase != phase && gen.phase != PH_DONE)
    return advance (now);
  return due;
}

/* --- results --- */

static int
cmp_u32 (const void *a,
         const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double
percentile (GArray *sorted,
            double  p)
{
  gsize rank;

  if (sorted->len == 0)
    return -1;
  rank = (gsize) MAX (1.0, (double) sorted->len * p / 100.0 + 0.9999999);
  rank = MIN (rank, (gsize) sorted->len);
  return g_array_index (sorted, guint32, rank - 1);
}

static double
mean (GArray *a)
{
  double sum = 0;

  for (guint i = 0; i < a->len; i++)
    sum += g_array_index (a, guint32, i);
  return a->len ? sum / a->len : -1;
}

static FILE *out_file;

static void out_kv (const char *key, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* One key=value line for bench/run. */
static void
out_kv (const char *key,
        const char *format,
        ...)
{
  va_list args;

  if (out_file == NULL)
    return;
  fprintf (out_file, "%s=", key);
  va_start (args, format);
  vfprintf (out_file, format, args);
  va_end (args);
  fputc ('\n', out_file);
}

static void
out_sample (const char       *prefix,
            const ProcSample *s)
{
  char key[96];

  if (!s->ok)
    return;
  g_snprintf (key, sizeof key, "%s_rss_kb", prefix);
  out_kv (key, "%" G_GINT64_FORMAT, s->rss_kb);
  g_snprintf (key, sizeof key, "%s_rss_anon_kb", prefix);
  out_kv (key, "%" G_GINT64_FORMAT, s->rss_anon_kb);
  g_snprintf (key, sizeof key, "%s_rss_file_kb", prefix);
  out_kv (key, "%" G_GINT64_FORMAT, s->rss_file_kb);
  g_snprintf (key, sizeof key, "%s_hwm_kb", prefix);
  out_kv (key, "%" G_GINT64_FORMAT, s->hwm_kb);
  g_snprintf (key, sizeof key, "%s_cpu_s", prefix);
  out_kv (key, "%.2f", s->cpu_s);
  g_snprintf (key, sizeof key, "%s_vcsw", prefix);
  out_kv (key, "%" G_GINT64_FORMAT, s->vcsw);
  g_snprintf (key, sizeof key, "%s_vcsw_all", prefix);
  out_kv (key, "%" G_GINT64_FORMAT, s->vcsw_all);
  g_snprintf (key, sizeof key, "%s_fds", prefix);
  out_kv (key, "%" G_GINT64_FORMAT, s->fds);
  g_snprintf (key, sizeof key, "%s_threads", prefix);
  out_kv (key, "%" G_GINT64_FORMAT, s->threads);
}

static void
report_latency (const char *name,
                GArray     *a)
{
  char key[64];

  g_array_sort (a, cmp_u32);
  if (!opt_quiet && a->len > 0)
    printf ("  %-7s %8u keys  p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  max %9.1f us  mean %8.1f us\n",
            name, a->len, percentile (a, 50) / 1e3, percentile (a, 99) / 1e3,
            percentile (a, 99.9) / 1e3, percentile (a, 100) / 1e3, mean (a) / 1e3);
  g_snprintf (key, sizeof key, "lat_%s_n", name);
  out_kv (key, "%u", a->len);
  if (a->len == 0)
    return;
  g_snprintf (key, sizeof key, "lat_%s_p50_us", name);
  out_kv (key, "%.1f", percentile (a, 50) / 1e3);
  g_snprintf (key, sizeof key, "lat_%s_p99_us", name);
  out_kv (key, "%.1f", percentile (a, 99) / 1e3);
  g_snprintf (key, sizeof key, "lat_%s_p999_us", name);
  out_kv (key, "%.1f", percentile (a, 99.9) / 1e3);
  g_snprintf (key, sizeof key, "lat_%s_max_us", name);
  out_kv (key, "%.1f", percentile (a, 100) / 1e3);
  g_snprintf (key, sizeof key, "lat_%s_mean_us", name);
  out_kv (key, "%.1f", mean (a) / 1e3);
}

/* p50, p99 and max of a sorted array of µs, in ms, as NAME_p50_ms... */
static void
out_ms (const char *name,
        GArray     *a)
{
  char key[64];

  if (a->len == 0)
    return;
  g_snprintf (key, sizeof key, "%s_p50_ms", name);
  out_kv (key, "%.2f", percentile (a, 50) / 1e3);
  g_snprintf (key, sizeof key, "%s_p99_ms", name);
  out_kv (key, "%.2f", percentile (a, 99) / 1e3);
  g_snprintf (key, sizeof key, "%s_max_ms", name);
  out_kv (key, "%.2f", percentile (a, 100) / 1e3);
}

static void
report_tls (void)
{
  double tls_s = gen.tls_active_ns / 1e9;
  double rate = tls_s > 0 ? gen.tls_done_ramp / tls_s : 0;

  g_array_sort (gen.tls_connect, cmp_u32);
  g_array_sort (gen.tls_handshake, cmp_u32);
  g_array_sort (gen.tls_upgrade, cmp_u32);
  out_kv ("tls_verified", "%d", opt_ca != NULL);
  out_kv ("tls_desc", "%s", gen.tls_desc != NULL ? gen.tls_desc : "");
  out_kv ("tls_handshakes", "%" G_GUINT64_FORMAT, gen.tls_done);
  out_kv ("tls_errors", "%" G_GUINT64_FORMAT, gen.tls_errors);
  out_kv ("tls_verify_errors", "%" G_GUINT64_FORMAT, gen.tls_verify_errors);
  out_kv ("tls_timeouts", "%" G_GUINT64_FORMAT, gen.tls_timeouts);
  out_kv ("tls_elapsed_s", "%.3f", tls_s);
  out_kv ("tls_rate", "%.0f", rate);
  out_ms ("tls_connect", gen.tls_connect);
  out_ms ("tls_handshake", gen.tls_handshake);
  out_ms ("tls_upgrade", gen.tls_upgrade);
  if (opt_quiet)
    return;
  printf ("  TLS: %" G_GUINT64_FORMAT " handshakes (%s), %.0f/s over %.3f s; %" G_GUINT64_FORMAT
          " failed (%" G_GUINT64_FORMAT " certificate verifications), %" G_GUINT64_FORMAT
          " timed out; certificate %s\n", gen.tls_done,
          gen.tls_desc != NULL ? gen.tls_desc : "none", rate, tls_s, gen.tls_errors,
          gen.tls_verify_errors, gen.tls_timeouts,
          opt_ca != NULL ? "verified against --ca" : "NOT verified (no --ca)");
  if (gen.tls_connect->len > 0)
    printf ("  TLS: connect -> handshake done p50 %.2f ms, p99 %.2f ms; TCP up -> done p50 "
            "%.2f ms, p99 %.2f ms; done -> CONNECT line p50 %.2f ms, p99 %.2f ms\n",
            percentile (gen.tls_connect, 50) / 1e3, percentile (gen.tls_connect, 99) / 1e3,
            percentile (gen.tls_handshake, 50) / 1e3, percentile (gen.tls_handshake, 99) / 1e3,
            percentile (gen.tls_upgrade, 50) / 1e3, percentile (gen.tls_upgrade, 99) / 1e3);
}

static void
report (void)
{
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint64 failed = gen.connect_errors + gen.tls_errors + gen.handshake_errors +
                   gen.setup_timeouts + gen.preamble_closed;
  double ramp_s = gen.ramp_active_ns / 1e9;
  double hold_s = gen.hold_end_actual > 0 ? (gen.hold_end_actual - gen.hold_start) / 1e9 : 0;
  double bulk_s = gen.bulk_last > gen.bulk_start ? (gen.bulk_last - gen.bulk_start) / 1e9 : 0;
  double setup_rate = ramp_s > 0 ? (gen.started - (gint64) failed) / ramp_s : 0;

  if (opt_output != NULL)
    {
      out_file = fopen (opt_output, "w");
      if (out_file == NULL)
        fprintf (stderr, "loadgen: %s: %s\n", opt_output, g_strerror (errno));
    }

  out_kv ("label", "%s", opt_label ? opt_label : "");
  out_kv ("mode", "%s", opt_direct ? "direct" : "gateway");
  out_kv ("sessions", "%d", gen.n);
  out_kv ("sessions_telnet", "%d", gen.kind_count[KIND_TELNET]);
  out_kv ("sessions_ws", "%d", gen.kind_count[KIND_WS]);
  out_kv ("sessions_wss", "%d", gen.kind_count[KIND_WSS]);
  out_kv ("established", "%" G_GINT64_FORMAT,
          gen.started + (gint64) gen.churn_started - (gint64) failed);
  out_kv ("failed", "%" G_GUINT64_FORMAT, failed);
  out_kv ("connect_errors", "%" G_GUINT64_FORMAT, gen.connect_errors);
  out_kv ("handshake_errors", "%" G_GUINT64_FORMAT, gen.handshake_errors);
  out_kv ("setup_timeouts", "%" G_GUINT64_FORMAT, gen.setup_timeouts);
  out_kv ("closed_before_connect", "%" G_GUINT64_FORMAT, gen.preamble_closed);
  out_kv ("drops", "%" G_GUINT64_FORMAT, gen.drops);
  out_kv ("unexpected_bytes", "%" G_GUINT64_FORMAT, gen.unexpected_bytes);
  out_kv ("status_lines", "%" G_GUINT64_FORMAT, gen.status_lines);
  out_kv ("time_limit_hit", "%d", gen.time_limit_hit);
  if (gen.overflows_before >= 0 && gen.overflows_after >= 0)
    out_kv ("listen_overflows", "%" G_GINT64_FORMAT, gen.overflows_after - gen.overflows_before);
  out_kv ("setup_elapsed_s", "%.3f", ramp_s);
  out_kv ("setup_rate", "%.0f", setup_rate);

  g_array_sort (gen.setup, cmp_u32);
  if (gen.setup->len > 0)
    {
      out_kv ("setup_p50_ms", "%.2f", percentile (gen.setup, 50) / 1e3);
      out_kv ("setup_p99_ms", "%.2f", percentile (gen.setup, 99) / 1e3);
      out_kv ("setup_max_ms", "%.2f", percentile (gen.setup, 100) / 1e3);
    }
  for (int k = 0; k < N_KINDS; k++)
    {
      GArray *a = gen.setup_kind[k];
      char key[64];

      if (a->len == 0 || gen.kind_count[k] == gen.n)
        continue;
      g_array_sort (a, cmp_u32);
      g_snprintf (key, sizeof key, "setup_%s_p50_ms", kind_names[k]);
      out_kv (key, "%.2f", percentile (a, 50) / 1e3);
      g_snprintf (key, sizeof key, "setup_%s_p99_ms", kind_names[k]);
      out_kv (key, "%.2f", percentile (a, 99) / 1e3);
    }

  out_kv ("hold_s", "%.2f", hold_s);
  out_kv ("key_rate", "%.3f", opt_key_rate);
  out_kv ("keys_sent", "%" G_GUINT64_FORMAT, gen.keys_sent);
  out_kv ("keys_echoed", "%" G_GUINT64_FORMAT, gen.keys_echoed);
  out_kv ("keys_lost", "%" G_GUINT64_FORMAT, gen.keys_lost);
  out_kv ("keys_skipped", "%" G_GUINT64_FORMAT, gen.keys_skipped);
  if (opt_churn > 0)
    {
      out_kv ("churn_rate", "%.3f", opt_churn);
      out_kv ("churn_started", "%" G_GUINT64_FORMAT, gen.churn_started);
      out_kv ("churn_ready", "%" G_GUINT64_FORMAT, gen.churn_ready);
      out_kv ("churn_closed", "%" G_GUINT64_FORMAT, gen.churn_closed);
      out_kv ("churn_revived", "%" G_GUINT64_FORMAT, gen.churn_revived);
      out_kv ("ready_at_hold_end", "%d", gen.ready_hold_end);
    }

  if (!opt_quiet)
    {
      printf ("%s%s: %d sessions (%d telnet, %d ws, %d wss): %d established, %"
              G_GUINT64_FORMAT " failed (connect %" G_GUINT64_FORMAT ", TLS %" G_GUINT64_FORMAT
              ", handshake %" G_GUINT64_FORMAT ", timeout %" G_GUINT64_FORMAT
              ", closed before CONNECT %" G_GUINT64_FORMAT "), %" G_GUINT64_FORMAT
              " dropped\n",
              opt_label ? opt_label : "", opt_direct ? " (direct)" : "", gen.n,
              gen.kind_count[KIND_TELNET], gen.kind_count[KIND_WS], gen.kind_count[KIND_WSS],
              (int) (gen.started + gen.churn_started - failed), failed, gen.connect_errors,
              gen.tls_errors, gen.handshake_errors,
              gen.setup_timeouts, gen.preamble_closed, gen.drops);
      if (opt_churn > 0)
        printf ("  churn: %" G_GUINT64_FORMAT " replacements opened (%" G_GUINT64_FORMAT
                " got ready) for %" G_GUINT64_FORMAT " sessions closed by their user and %"
                G_GUINT64_FORMAT " failed or dropped; %d ready when the hold ended\n",
                gen.churn_started, gen.churn_ready, gen.churn_closed, gen.churn_revived,
                gen.ready_hold_end);
      if (gen.setup->len > 0)
        printf ("  setup: %.0f sessions/s over %.3f s; p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                setup_rate, ramp_s, percentile (gen.setup, 50) / 1e3,
                percentile (gen.setup, 99) / 1e3, percentile (gen.setup, 100) / 1e3);
      if (gen.overflows_after > gen.overflows_before && gen.overflows_before >= 0)
        printf ("  the machine's TcpExt ListenOverflows went up by %" G_GINT64_FORMAT
                ": a full accept queue made connections wait\n",
                gen.overflows_after - gen.overflows_before);
      if (gen.keys_sent > 0)
        printf ("  keys: %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " echoed, %"
                G_GUINT64_FORMAT " lost, %" G_GUINT64_FORMAT " skipped, %" G_GUINT64_FORMAT
                " unexpected bytes\n", gen.keys_sent, gen.keys_echoed, gen.keys_lost,
                gen.keys_skipped, gen.unexpected_bytes);
    }
  if (opt_wss_port > 0)
    report_tls ();
  for (int k = 0; k < N_KINDS; k++)
    g_array_append_vals (all, gen.lat[k]->data, gen.lat[k]->len);
  report_latency ("all", all);
  for (int k = 0; k < N_KINDS; k++)
    if (gen.kind_count[k] > 0)
      report_latency (kind_names[k], gen.lat[k]);

  if (opt_bulk_pages > 0)
    {
      double mbps = bulk_s > 0 ? gen.bulk_bytes / bulk_s / 1e6 : 0;

      out_kv ("bulk_bytes", "%" G_GUINT64_FORMAT, gen.bulk_bytes);
      out_kv ("bulk_pages", "%" G_GUINT64_FORMAT, gen.bulk_pages);
      out_kv ("bulk_pages_lost", "%" G_GUINT64_FORMAT, gen.pages_lost);
      out_kv ("bulk_s", "%.3f", bulk_s);
      out_kv ("bulk_mb_per_s", "%.2f", mbps);
      out_kv ("bulk_pages_per_s", "%.0f", bulk_s > 0 ? gen.bulk_pages / bulk_s : 0);
      for (int k = 0; k < N_KINDS; k++)
        {
          double kind_s = (gen.bulk_kind_last[k] - gen.bulk_start) / 1e9;
          char key[64];

          if (gen.kind_count[k] == 0 || gen.kind_count[k] == gen.n || kind_s <= 0)
            continue;
          g_snprintf (key, sizeof key, "bulk_%s_mb_per_s", kind_names[k]);
          out_kv (key, "%.2f", gen.bulk_kind_bytes[k] / kind_s / 1e6);
        }
      if (!opt_quiet)
        printf ("  bulk: %" G_GUINT64_FORMAT " pages of %d bytes in %.3f s: %.2f MB/s, "
                "%.0f pages/s, %" G_GUINT64_FORMAT " pages lost\n",
                gen.bulk_pages, opt_page_size, bulk_s, mbps,
                bulk_s > 0 ? gen.bulk_pages / bulk_s : 0, gen.pages_lost);
    }

  out_kv ("loadgen_nofile", "%" G_GINT64_FORMAT, gen.self_nofile);
  if (gen.self_cpu_hold_start > 0)
    out_kv ("loadgen_cpu_setup_s", "%.2f", gen.self_cpu_hold_start - gen.self_cpu_start);
  if (hold_s > 0)
    out_kv ("loadgen_cpu_hold_s", "%.2f", gen.self_cpu_hold_end - gen.self_cpu_hold_start);
  if (bulk_s > 0)
    out_kv ("loadgen_cpu_bulk_s", "%.2f", gen.self_cpu_bulk_end - gen.self_cpu_bulk_start);
  if (opt_echo_pid > 0 && gen.echo_hold_end.ok)
    out_kv ("echo_cpu_hold_s", "%.2f", gen.echo_hold_end.cpu_s - gen.echo_hold_start.cpu_s);
  if (opt_echo_pid > 0 && gen.echo_bulk_end.ok)
    out_kv ("echo_cpu_bulk_s", "%.2f", gen.echo_bulk_end.cpu_s - gen.echo_bulk_start.cpu_s);

  if (opt_pid > 0)
    {
      out_kv ("gw_nofile_soft", "%" G_GINT64_FORMAT, gen.gw_nofile_soft);
      out_kv ("gw_nofile_hard", "%" G_GINT64_FORMAT, gen.gw_nofile_hard);
      out_sample ("gw_before", &gen.gw_before);
      for (int i = 0; i < gen.n_checkpoints; i++)
        {
          char prefix[32];

          char key[48];

          g_snprintf (prefix, sizeof prefix, "gw_at_%d", gen.checkpoints[i]);
          out_sample (prefix, &gen.gw_checkpoint[i]);
          g_snprintf (key, sizeof key, "gw_at_%d_ready", gen.checkpoints[i]);
          out_kv (key, "%d", gen.checkpoint_ready[i]);
        }
      out_sample ("gw_hold_start", &gen.gw_hold_start);
      out_sample ("gw_hold_end", &gen.gw_hold_end);
      out_sample ("gw_bulk_start", &gen.gw_bulk_start);
      out_sample ("gw_bulk_end", &gen.gw_bulk_end);
      out_sample ("gw_closed", &gen.gw_closed);
      out_sample ("gw_after", &gen.gw_after);
      if (gen.gw_hold_start.ok)
        out_kv ("gw_cpu_setup_s", "%.2f", gen.gw_hold_start.cpu_s - gen.gw_before.cpu_s);
      if (gen.gw_hold_end.ok && hold_s > 0)
        out_kv ("gw_cpu_hold_s", "%.2f", gen.gw_hold_end.cpu_s - gen.gw_hold_start.cpu_s);
      if (gen.gw_bulk_end.ok && bulk_s > 0)
        out_kv ("gw_cpu_bulk_s", "%.2f", gen.gw_bulk_end.cpu_s - gen.gw_bulk_start.cpu_s);
      if (!opt_quiet)
        {
          printf ("  gateway: open files limit %" G_GINT64_FORMAT " (hard %" G_GINT64_FORMAT
                  "); RSS %" G_GINT64_FORMAT " KiB before", gen.gw_nofile_soft,
                  gen.gw_nofile_hard, gen.gw_before.rss_kb);
          for (int i = 0; i < gen.n_checkpoints; i++)
            printf (", %" G_GINT64_FORMAT " KiB at %d", gen.gw_checkpoint[i].rss_kb,
                    gen.checkpoints[i]);
          if (gen.gw_hold_end.ok)
            printf (", %" G_GINT64_FORMAT " KiB held (%" G_GINT64_FORMAT " fds)",
                    gen.gw_hold_end.rss_kb, gen.gw_hold_end.fds);
          if (gen.gw_after.ok)
            printf (", %" G_GINT64_FORMAT " KiB %.0f s after closing",
                    gen.gw_after.rss_kb, opt_after);
          printf ("\n");
          if (gen.gw_hold_end.ok && hold_s > 0)
            printf ("  gateway CPU while holding: %.2f s in %.2f s (%.0f%%)\n",
                    gen.gw_hold_end.cpu_s - gen.gw_hold_start.cpu_s, hold_s,
                    100 * (gen.gw_hold_end.cpu_s - gen.gw_hold_start.cpu_s) / hold_s);
          if (gen.gw_bulk_end.ok && bulk_s > 0)
            printf ("  gateway CPU in bulk: %.2f s in %.2f s\n",
                    gen.gw_bulk_end.cpu_s - gen.gw_bulk_start.cpu_s, bulk_s);
        }
    }
  if (!opt_quiet && hold_s > 0)
    printf ("  loadgen CPU while holding: %.2f s; open files limit %" G_GINT64_FORMAT "\n",
            gen.self_cpu_hold_end - gen.self_cpu_hold_start, gen.self_nofile);
  if (out_file != NULL)
    fclose (out_file);
}

/* --idle: only watch the gateway. */
static int
run_idle (void)
{
  ProcSample a, b;
  double seconds;
  gint64 t0, t1;

  if (opt_pid <= 0)
    {
      fprintf (stderr, "loadgen: --idle needs --pid\n");
      return 2;
    }
  a = proc_sample (opt_pid);
  t0 = now_ns ();
  g_usleep ((gulong) (opt_idle * G_USEC_PER_SEC));
  b = proc_sample (opt_pid);
  t1 = now_ns ();
  if (!a.ok || !b.ok)
    {
      fprintf (stderr, "loadgen: cannot read /proc/%d\n", opt_pid);
      return 2;
    }
  seconds = (t1 - t0) / 1e9;
  if (opt_output != NULL)
    out_file = fopen (opt_output, "w");
  out_kv ("label", "%s", opt_label ? opt_label : "");
  out_kv ("idle_s", "%.2f", seconds);
  out_kv ("idle_wakeups_per_s", "%.2f", (b.vcsw - a.vcsw) / seconds);
  out_kv ("idle_wakeups_all_per_s", "%.2f", (b.vcsw_all - a.vcsw_all) / seconds);
  out_kv ("idle_nvcsw_per_s", "%.2f", (b.nvcsw - a.nvcsw) / seconds);
  out_kv ("idle_cpu_s", "%.3f", b.cpu_s - a.cpu_s);
  out_kv ("idle_rss_kb", "%" G_GINT64_FORMAT, b.rss_kb);
  out_kv ("idle_rss_anon_kb", "%" G_GINT64_FORMAT, b.rss_anon_kb);
  out_kv ("idle_rss_file_kb", "%" G_GINT64_FORMAT, b.rss_file_kb);
  out_kv ("idle_threads", "%" G_GINT64_FORMAT, b.threads);
  if (out_file != NULL)
    fclose (out_file);
  if (!opt_quiet)
    printf ("idle for %.1f s: %" G_GINT64_FORMAT " voluntary context switches (main thread; %"
            G_GINT64_FORMAT " in all %" G_GINT64_FORMAT " threads), %.2f/s; CPU %.3f s; RSS %"
            G_GINT64_FORMAT " KiB (%" G_GINT64_FORMAT " anonymous, %" G_GINT64_FORMAT
            " mapped files)\n", seconds, b.vcsw - a.vcsw, b.vcsw_all - a.vcsw_all,
            b.threads, (b.vcsw - a.vcsw) / seconds, b.cpu_s - a.cpu_s, b.rss_kb,
            b.rss_anon_kb, b.rss_file_kb);
  return 0;
}

/* --- --flood: connections from banned addresses --- */

/* One connection of the flood. */
typedef struct
{
  int     fd;       /* -1: free slot */
  guint8  kind;
  gint64  t_start;
} FloodConn;

/* What became of the connections of one batch. */
typedef struct
{
  guint64 started;
  guint64 refused;          /* closed by the gateway before any byte */
  guint64 refused_rst;      /* of which by a reset */
  guint64 refused_kind[N_KINDS];
  guint64 served;           /* got bytes: the gateway let them in */
  guint64 served_bytes;
  guint64 connect_errors;   /* never connected (refused port, no route...) */
  guint64 local_errors;     /* socket, bind, connect here */
  guint64 timeouts;         /* still open at --flood-timeout */
  gboolean time_limit_hit;
  gint64  t_first;
  gint64  t_last;           /* last outcome */
  GArray *latency;          /* guint32 µs, connect -> closed */
} FloodStats;

static int opt_flood = 0;
static int opt_flood_warmup = 0;
static char *opt_source = NULL;
static int opt_sources = 1;
static double opt_flood_timeout = 3;

static guint32 flood_source_base;   /* host order */

/* Starts connection number index in slot c. FALSE: a local error. */
static gboolean
flood_start (FloodConn  *c,
             guint64     index,
             FloodStats *st)
{
  struct sockaddr_in src = { 0 };
  struct linger lg = { 1, 0 };
  struct epoll_event ev = { 0 };
  int one = 1;
  int fd;

  c->kind = opt_telnet_port > 0 && opt_ws_port > 0 ? index % 2 :
            opt_telnet_port > 0 ? KIND_TELNET : KIND_WS;
  fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto error;
  /* Closed with a reset: no TIME_WAIT here, and none left at the
   * gateway (its half-closed socket goes on the reset). */
  setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  /* The port is chosen at connect(), for the whole 4-tuple. */
  setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl (flood_source_base + (guint32) (index % (guint64) opt_sources));
  if (bind (fd, (struct sockaddr *) &src, sizeof src) < 0)
    goto error;
  if (connect (fd, (struct sockaddr *) &gen.addr[c->kind], sizeof gen.addr[c->kind]) < 0 &&
      errno != EINPROGRESS)
    goto error;
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = c;
  if (epoll_ctl (gen.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    goto error;
  c->fd = fd;
  c->t_start = now_ns ();
  st->started++;
  return TRUE;

error:
  if (st->local_errors++ < 5)
    fprintf (stderr, "loadgen: flood: connection %" G_GUINT64_FORMAT ": %s\n", index,
             g_strerror (errno));
  if (fd >= 0)
    close (fd);
  return FALSE;
}

static void
flood_end (FloodConn *c)
{
  close (c->fd);
  c->fd = -1;
}

static void
flood_event (FloodConn  *c,
             FloodStats *st)
{
  gint64 now = now_ns ();
  ssize_t n;

  do
    n = recv (c->fd, gen.read_buf, READ_BUF_SIZE, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n > 0)
    {
      if (st->served++ < 5)
        fprintf (stderr, "loadgen: FLOOD SERVED: the gateway sent %zd bytes on a %s "
                 "connection from a banned address (it must close it unserved)\n",
                 n, kind_names[c->kind]);
      st->served_bytes += n;
    }
  else if (n == 0 || errno == ECONNRESET || errno == EPIPE)
    {
      guint32 us = (guint32) MIN ((now - c->t_start) / 1000, G_MAXUINT32);

      st->refused++;
      st->refused_kind[c->kind]++;
      if (n < 0)
        st->refused_rst++;
      g_array_append_val (st->latency, us);
    }
  else
    {
      if (st->connect_errors++ < 5)
        fprintf (stderr, "loadgen: flood: %s connection failed: %s\n",
                 kind_names[c->kind], g_strerror (errno));
    }
  st->t_last = now;
  flood_end (c);
}

/* count connections, at most --inflight at once, each until the gateway
 * closes it, it gets a byte, or --flood-timeout. */
static void
flood_batch (int         count,
             FloodStats *st,
             gint64      deadline)
{
  FloodConn *conns = g_new (FloodConn, opt_inflight);
  struct epoll_event events[MAX_EVENTS];
  gint64 timeout_ns = (gint64) (opt_flood_timeout * NS_PER_S);
  gint64 next_scan;
  guint64 next = 0;
  int open = 0;

  for (int i = 0; i < opt_inflight; i++)
    conns[i].fd = -1;
  st->t_first = st->t_last = now_ns ();
  next_scan = st->t_first + CHECK_NS;
  while (next < (guint64) count || open > 0)
    {
      gint64 now = now_ns ();
      int n;

      if (now >= deadline)
        {
          st->time_limit_hit = TRUE;
          break;
        }
      /* Refill the free slots. */
      open = 0;
      for (int i = 0; i < opt_inflight; i++)
        {
          if (conns[i].fd < 0 && next < (guint64) count)
            flood_start (&conns[i], next++, st);
          open += conns[i].fd >= 0;
        }
      if (open == 0)
        continue;
      if (now >= next_scan)
        {
          next_scan = now + CHECK_NS;
          for (int i = 0; i < opt_inflight; i++)
            if (conns[i].fd >= 0 && now - conns[i].t_start >= timeout_ns)
              {
                if (st->timeouts++ < 5)
                  fprintf (stderr, "loadgen: flood: a %s connection from a banned address "
                           "still open after %.1f s\n", kind_names[conns[i].kind],
                           opt_flood_timeout);
                st->t_last = now;
                flood_end (&conns[i]);
              }
        }
      n = epoll_wait (gen.epfd, events, MAX_EVENTS, 10);
      if (n < 0 && errno != EINTR)
        {
          fprintf (stderr, "loadgen: epoll_wait: %s\n", g_strerror (errno));
          break;
        }
      for (int i = 0; i < n; i++)
        {
          FloodConn *c = events[i].data.ptr;

          if (c->fd >= 0)
            flood_event (c, st);
        }
    }
  for (int i = 0; i < opt_inflight; i++)
    if (conns[i].fd >= 0)
      flood_end (&conns[i]);
  g_free (conns);
}

/* Seconds pid has spent waiting on a run queue (runnable, not running:
 * a busy machine), from /proc/PID/schedstat; -1 when unknown. */
static double
runq_wait_s (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/schedstat", pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  fields = g_strsplit (text, " ", 3);
  if (g_strv_length (fields) < 2)
    return -1;
  return g_ascii_strtod (fields[1], NULL) / 1e9;
}

static int
run_flood (void)
{
  FloodStats warm = { 0 }, st = { 0 };
  ProcSample start, before, end, after;
  gint64 deadline, t_end;
  double elapsed, rate, gw_cpu = -1, self_before, self_end, wait_before, wait_end;
  gint64 of_before, of_after;
  gboolean failed;
  g_autofree char *netstat = opt_pid > 0 ? g_strdup_printf ("/proc/%d/net/netstat", opt_pid) :
                             NULL;

  gen.self_nofile = raise_fd_limit ();
  gen.read_buf = g_malloc (READ_BUF_SIZE);
  gen.epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (gen.epfd < 0)
    {
      fprintf (stderr, "loadgen: epoll_create1: %s\n", g_strerror (errno));
      return 2;
    }
  warm.latency = g_array_new (FALSE, FALSE, sizeof (guint32));
  st.latency = g_array_sized_new (FALSE, FALSE, sizeof (guint32), opt_flood);
  deadline = now_ns () + (gint64) (opt_max_time * NS_PER_S);

  start = proc_sample (opt_pid);
  if (opt_flood_warmup > 0)
    {
      /* First use of the refusal path (classes, caches, arenas): not
       * growth. */
      flood_batch (opt_flood_warmup, &warm, deadline);
      g_usleep ((gulong) (opt_after * G_USEC_PER_SEC));
    }
  before = proc_sample (opt_pid);
  of_before = listen_overflows_in (netstat);
  self_before = self_cpu ();
  wait_before = runq_wait_s (opt_pid);
  if (!opt_quiet)
    printf ("%s%sflood: %d connections from %d banned addresses (%s), at most %d at once\n",
            opt_label ? opt_label : "", opt_label ? ": " : "", opt_flood, opt_sources,
            opt_telnet_port > 0 && opt_ws_port > 0 ? "Telnet and WebSocket" :
            opt_telnet_port > 0 ? "Telnet" : "WebSocket", opt_inflight);
  flood_batch (opt_flood, &st, deadline);
  t_end = now_ns ();
  self_end = self_cpu ();
  wait_end = runq_wait_s (opt_pid);
  end = proc_sample (opt_pid);
  of_after = listen_overflows_in (netstat);
  g_usleep ((gulong) (opt_after * G_USEC_PER_SEC));
  after = proc_sample (opt_pid);

  elapsed = (st.t_last - st.t_first) / 1e9;
  rate = elapsed > 0 ? st.refused / elapsed : 0;
  if (before.ok && end.ok)
    gw_cpu = end.cpu_s - before.cpu_s;
  g_array_sort (st.latency, cmp_u32);

  if (opt_output != NULL)
    out_file = fopen (opt_output, "w");
  out_kv ("label", "%s", opt_label ? opt_label : "");
  out_kv ("flood_n", "%d", opt_flood);
  out_kv ("flood_sources", "%d", opt_sources);
  out_kv ("flood_inflight", "%d", opt_inflight);
  out_kv ("flood_warmup", "%d", opt_flood_warmup);
  out_kv ("flood_started", "%" G_GUINT64_FORMAT, st.started);
  out_kv ("flood_refused", "%" G_GUINT64_FORMAT, st.refused);
  out_kv ("flood_refused_rst", "%" G_GUINT64_FORMAT, st.refused_rst);
  out_kv ("flood_refused_telnet", "%" G_GUINT64_FORMAT, st.refused_kind[KIND_TELNET]);
  out_kv ("flood_refused_ws", "%" G_GUINT64_FORMAT, st.refused_kind[KIND_WS]);
  out_kv ("flood_served", "%" G_GUINT64_FORMAT, st.served + warm.served);
  out_kv ("flood_served_bytes", "%" G_GUINT64_FORMAT, st.served_bytes + warm.served_bytes);
  out_kv ("flood_connect_errors", "%" G_GUINT64_FORMAT, st.connect_errors + warm.connect_errors);
  out_kv ("flood_local_errors", "%" G_GUINT64_FORMAT, st.local_errors + warm.local_errors);
  out_kv ("flood_timeouts", "%" G_GUINT64_FORMAT, st.timeouts + warm.timeouts);
  out_kv ("flood_time_limit_hit", "%d", st.time_limit_hit || warm.time_limit_hit);
  out_kv ("flood_s", "%.3f", elapsed);
  out_kv ("flood_refused_per_s", "%.0f", rate);
  out_kv ("flood_close_p50_ms", "%.2f", percentile (st.latency, 50) / 1e3);
  out_kv ("flood_close_p99_ms", "%.2f", percentile (st.latency, 99) / 1e3);
  out_kv ("flood_close_max_ms", "%.2f", percentile (st.latency, 100) / 1e3);
  if (of_before >= 0 && of_after >= 0)
    out_kv ("flood_listen_overflows", "%" G_GINT64_FORMAT, of_after - of_before);
  out_sample ("gw_start", &start);
  out_sample ("gw_before", &before);
  out_sample ("gw_flood_end", &end);
  out_sample ("gw_after", &after);
  if (gw_cpu >= 0)
    {
      out_kv ("gw_cpu_flood_s", "%.2f", gw_cpu);
      out_kv ("gw_cpu_flood_pct", "%.0f", elapsed > 0 ? 100 * gw_cpu / elapsed : 0);
      if (st.refused > 0)
        out_kv ("gw_cpu_per_refusal_us", "%.1f", gw_cpu * 1e6 / st.refused);
    }
  if (wait_before >= 0 && wait_end >= 0)
    out_kv ("gw_runq_wait_flood_s", "%.2f", wait_end - wait_before);
  out_kv ("loadgen_cpu_flood_s", "%.2f", self_end - self_before);
  out_kv ("loadgen_nofile", "%" G_GINT64_FORMAT, gen.self_nofile);
  if (out_file != NULL)
    fclose (out_file);

  if (!opt_quiet)
    {
      printf ("  %" G_GUINT64_FORMAT "/%d refused (%" G_GUINT64_FORMAT " by a reset; %"
              G_GUINT64_FORMAT " Telnet, %" G_GUINT64_FORMAT " WebSocket) in %.3f s: "
              "%.0f refused/s; connect -> closed p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              st.refused, opt_flood, st.refused_rst, st.refused_kind[KIND_TELNET],
              st.refused_kind[KIND_WS], elapsed, rate, percentile (st.latency, 50) / 1e3,
              percentile (st.latency, 99) / 1e3, percentile (st.latency, 100) / 1e3);
      printf ("  served %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " bytes), connect errors %"
              G_GUINT64_FORMAT ", local errors %" G_GUINT64_FORMAT ", still open at %.1f s %"
              G_GUINT64_FORMAT "%s\n", st.served + warm.served,
              st.served_bytes + warm.served_bytes, st.connect_errors + warm.connect_errors,
              st.local_errors + warm.local_errors, opt_flood_timeout,
              st.timeouts + warm.timeouts,
              st.time_limit_hit || warm.time_limit_hit ? "; --max-time reached" : "");
      if (before.ok && after.ok)
        printf ("  gateway: RSS %" G_GINT64_FORMAT " KiB at start, %" G_GINT64_FORMAT
                " KiB after %d warm-up connections, %" G_GINT64_FORMAT " KiB at the end, %"
                G_GINT64_FORMAT " KiB %.1f s later; CPU %.2f s in %.2f s (%.0f%%), %.1f µs a "
                "refusal\n", start.rss_kb, before.rss_kb, opt_flood_warmup, end.rss_kb,
                after.rss_kb, opt_after, gw_cpu, elapsed,
                elapsed > 0 ? 100 * gw_cpu / elapsed : 0,
                st.refused > 0 ? gw_cpu * 1e6 / st.refused : 0);
      if (wait_before >= 0 && wait_end >= 0)
        printf ("  gateway runnable but waiting for a CPU: %.2f s of the %.2f s\n",
                wait_end - wait_before, elapsed);
      printf ("  loadgen CPU %.2f s\n", self_end - self_before);
    }
  (void) t_end;
  failed = st.refused != (guint64) opt_flood || st.served + warm.served > 0 ||
           st.connect_errors + warm.connect_errors + st.local_errors + warm.local_errors +
           st.timeouts + warm.timeouts > 0 || st.time_limit_hit || warm.time_limit_hit;
  if (st.served + warm.served > 0)
    fprintf (stderr, "loadgen: FAILED: %" G_GUINT64_FORMAT " connections from banned "
             "addresses were served\n", st.served + warm.served);
  return failed ? 1 : 0;
}

static gboolean
parse_checkpoints (GError **error)
{
  g_auto(GStrv) parts = NULL;

  if (opt_rss_at == NULL || *opt_rss_at == '\0')
    return TRUE;
  parts = g_strsplit (opt_rss_at, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 v;

      if (gen.n_checkpoints == MAX_CHECKPOINTS ||
          !g_ascii_string_to_unsigned (parts[i], 10, 1, (guint64) opt_sessions, &v, NULL) ||
          (gen.n_checkpoints > 0 && (int) v <= gen.checkpoints[gen.n_checkpoints - 1]))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--rss-at: '%s': increasing session counts up to --sessions, at most %d",
                       opt_rss_at, MAX_CHECKPOINTS);
          return FALSE;
        }
      gen.checkpoints[gen.n_checkpoints++] = (int) v;
    }
  return TRUE;
}

static gboolean
set_address (struct sockaddr_in *addr,
             int                 port,
             GError            **error)
{
  addr->sin_family = AF_INET;
  addr->sin_port = htons (port);
  if (inet_pton (AF_INET, opt_host, &addr->sin_addr) != 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--host: '%s' is not an IPv4 address", opt_host);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_options (GError **error)
{
  if (opt_host == NULL)
    opt_host = g_strdup ("127.0.0.1");
  if (opt_idle > 0)
    return TRUE;
  if (opt_flood > 0)
    {
      struct in_addr src;

      if (opt_telnet_port <= 0 && opt_ws_port <= 0)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--flood needs --telnet or --ws (or both)");
          return FALSE;
        }
      if (opt_source == NULL || inet_pton (AF_INET, opt_source, &src) != 1 ||
          opt_sources < 1 || opt_sources > 65536 || opt_inflight < 1 ||
          opt_flood_warmup < 0 || opt_flood_timeout <= 0 || opt_after < 0)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--flood needs --source ADDR (IPv4) and sane --sources, --inflight, "
                       "--flood-warmup, --flood-timeout");
          return FALSE;
        }
      if (opt_wss_port > 0)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--flood uses --telnet and --ws, not --wss");
          return FALSE;
        }
      flood_source_base = ntohl (src.s_addr);
      return set_address (&gen.addr[KIND_TELNET], opt_telnet_port, error) &&
             set_address (&gen.addr[KIND_WS], opt_ws_port, error);
    }
  if (opt_wss_port > 0 && (opt_telnet_port > 0 || opt_ws_port > 0 || opt_direct))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--wss opens WebSocket sessions over TLS only: not with --telnet, --ws "
                   "or --direct");
      return FALSE;
    }
  if ((opt_ca != NULL || opt_tls_priority != NULL) && opt_wss_port <= 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--ca and --tls-priority are for --wss");
      return FALSE;
    }
  if (opt_wss_port > 0)
    opt_telnet_share = 0;
  if (opt_direct && opt_ws_port <= 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--direct needs --ws (the echo server's port)");
      return FALSE;
    }
  if (opt_telnet_port <= 0 && opt_ws_port <= 0 && opt_wss_port <= 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--telnet or --ws (or both), or --wss, is needed");
      return FALSE;
    }
  if (opt_direct || opt_wss_port > 0)
    opt_telnet_share = 0;
  else if (opt_telnet_share < 0)
    opt_telnet_share = opt_telnet_port <= 0 ? 0 : opt_ws_port <= 0 ? 1 : 0.5;
  if ((opt_telnet_share > 0 && opt_telnet_port <= 0) ||
      (opt_telnet_share < 1 && opt_ws_port <= 0 && opt_wss_port <= 0) || opt_telnet_share > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--telnet-share needs the ports of the kinds it asks for");
      return FALSE;
    }
  if (opt_sessions < 0 || opt_inflight < 1 || opt_hold < 0 || opt_key_rate < 0 ||
      opt_page_size < 1 || opt_page_size > 1024 * 1024 || opt_bulk_window < 1 ||
      opt_bulk_pages < 0 || opt_setup_timeout <= 0 || opt_drain < 0 || opt_after < 0 ||
      opt_churn < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "a value is out of range");
      return FALSE;
    }
  return set_address (&gen.addr[KIND_TELNET], opt_telnet_port, error) &&
         set_address (&gen.addr[KIND_WS], opt_ws_port, error) &&
         set_address (&gen.addr[KIND_WSS], opt_wss_port, error) &&
         parse_checkpoints (error);
}

/* --wss: the credentials (the CA to verify against) and the priorities
 * every session shares. */
static gboolean
tls_init (GError **error)
{
  const char *where = NULL;
  int r;

  r = gnutls_certificate_allocate_credentials (&gen.tls_cred);
  if (r == GNUTLS_E_SUCCESS && opt_ca != NULL)
    {
      r = gnutls_certificate_set_x509_trust_file (gen.tls_cred, opt_ca, GNUTLS_X509_FMT_PEM);
      if (r <= 0)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--ca: %s: %s", opt_ca,
                       r == 0 ? "no certificate in it" : gnutls_strerror (r));
          return FALSE;
        }
      r = GNUTLS_E_SUCCESS;
    }
  if (r == GNUTLS_E_SUCCESS)
    r = gnutls_priority_init (&gen.tls_priority, opt_tls_priority, &where);
  if (r != GNUTLS_E_SUCCESS)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "TLS: %s%s%s",
                   gnutls_strerror (r), where != NULL ? " at " : "", where != NULL ? where : "");
      return FALSE;
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &opt_host,
      "IPv4 address of the gateway (or echo server) (default 127.0.0.1)", "ADDR" },
    { "telnet", 't', 0, G_OPTION_ARG_INT, &opt_telnet_port,
      "The gateway's Telnet port", "PORT" },
    { "ws", 'w', 0, G_OPTION_ARG_INT, &opt_ws_port,
      "The gateway's WebSocket port (with --direct: the echo server's)", "PORT" },
    { "wss", 'W', 0, G_OPTION_ARG_INT, &opt_wss_port,
      "The gateway's WebSocket-over-TLS (wss://) port: every session is wss", "PORT" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca,
      "With --wss: verify the gateway's certificate against the CA certificates of FILE "
      "(PEM) for --host (default: not verified)", "FILE" },
    { "tls-priority", 0, 0, G_OPTION_ARG_STRING, &opt_tls_priority,
      "With --wss: a GnuTLS priority string (default: GnuTLS's default)", "PRIORITIES" },
    { "direct", 'd', 0, G_OPTION_ARG_NONE, &opt_direct,
      "WebSocket sessions straight to the echo server (the baseline)", NULL },
    { "telnet-share", 0, 0, G_OPTION_ARG_DOUBLE, &opt_telnet_share,
      "Share of Telnet sessions, 0 to 1 (default 0.5 with both ports)", "F" },
    { "sessions", 'n', 0, G_OPTION_ARG_INT, &opt_sessions,
      "Concurrent sessions (default 100)", "N" },
    { "inflight", 0, 0, G_OPTION_ARG_INT, &opt_inflight,
      "Sessions being set up at once, at most (default 256)", "N" },
    { "connect-rate", 0, 0, G_OPTION_ARG_DOUBLE, &opt_connect_rate,
      "New connections a second, at most (default 0: no limit)", "R" },
    { "setup-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opt_setup_timeout,
      "Seconds a session may take to get ready (default 10)", "S" },
    { "rss-at", 0, 0, G_OPTION_ARG_STRING, &opt_rss_at,
      "Pause the ramp at these session counts and read the gateway's RSS", "N1,N2,..." },
    { "settle", 0, 0, G_OPTION_ARG_DOUBLE, &opt_settle,
      "Seconds to wait at a checkpoint before reading (default 1)", "S" },
    { "hold", 'H', 0, G_OPTION_ARG_DOUBLE, &opt_hold,
      "Seconds to hold the sessions (default 5)", "S" },
    { "key-rate", 'k', 0, G_OPTION_ARG_DOUBLE, &opt_key_rate,
      "Keystrokes a second per session while holding (default 0)", "K" },
    { "drain", 0, 0, G_OPTION_ARG_DOUBLE, &opt_drain,
      "Seconds to wait for the last echoes and pages (default 3)", "S" },
    { "bulk-pages", 0, 0, G_OPTION_ARG_INT, &opt_bulk_pages,
      "Pages to ask for per session after the hold (default 0: no bulk)", "P" },
    { "page-size", 0, 0, G_OPTION_ARG_INT, &opt_page_size,
      "Bytes a page (default 4096)", "B" },
    { "bulk-window", 0, 0, G_OPTION_ARG_INT, &opt_bulk_window,
      "Pages in flight per session (default 2)", "W" },
    { "bulk-time", 0, 0, G_OPTION_ARG_DOUBLE, &opt_bulk_time,
      "Seconds of bulk at most (default 30)", "S" },
    { "pid", 'p', 0, G_OPTION_ARG_INT, &opt_pid,
      "The gateway's PID, to read its /proc figures", "PID" },
    { "echo-pid", 0, 0, G_OPTION_ARG_INT, &opt_echo_pid,
      "The echo server's PID, to read its CPU time", "PID" },
    { "after", 0, 0, G_OPTION_ARG_DOUBLE, &opt_after,
      "Seconds after closing before the last /proc reading (default 0)", "S" },
    { "flood", 0, 0, G_OPTION_ARG_INT, &opt_flood,
      "Open N connections from banned addresses, each to be closed unserved", "N" },
    { "flood-warmup", 0, 0, G_OPTION_ARG_INT, &opt_flood_warmup,
      "With --flood: W connections first, before the gateway's RSS is read (default 0)", "W" },
    { "source", 0, 0, G_OPTION_ARG_STRING, &opt_source,
      "With --flood: the first source address (IPv4) the connections bind to", "ADDR" },
    { "sources", 0, 0, G_OPTION_ARG_INT, &opt_sources,
      "With --flood: source addresses, from --source up, in turn (default 1)", "K" },
    { "flood-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opt_flood_timeout,
      "With --flood: seconds a connection may stay open unrefused (default 3)", "S" },
    { "idle", 0, 0, G_OPTION_ARG_DOUBLE, &opt_idle,
      "Open nothing: watch the gateway idle for S seconds", "S" },
    { "churn", 0, 0, G_OPTION_ARG_DOUBLE, &opt_churn,
      "While holding, sessions a second closed and replaced by new ones (default 0)", "R" },
    { "max-time", 0, 0, G_OPTION_ARG_DOUBLE, &opt_max_time,
      "Seconds the whole run may take, at most (default 900)", "S" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
      "Write the results as key=value lines to FILE", "FILE" },
    { "label", 'l', 0, G_OPTION_ARG_STRING, &opt_label,
      "Name of the run in the results", "TEXT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
      "Print nothing but errors", NULL },
    { NULL }
  };
  struct epoll_event events[MAX_EVENTS];
  gboolean failed;

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "Load generator of moipgw's benchmark: N user sessions through "
                                "moipgwd (or straight to bench/echo-server), keystroke round "
                                "trips, bulk pages, the gateway's RSS and CPU.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || !check_options (&error) ||
      (opt_wss_port > 0 && opt_idle <= 0 && !tls_init (&error)))
    {
      fprintf (stderr, "loadgen: %s\n", error->message);
      return 2;
    }
  setvbuf (stdout, NULL, _IOLBF, 0);
  signal (SIGPIPE, SIG_IGN);

  if (opt_idle > 0)
    return run_idle ();
  if (opt_flood > 0)
    return run_flood ();

  gen.self_nofile = raise_fd_limit ();
  if (opt_pid > 0)
    proc_nofile (opt_pid, &gen.gw_nofile_soft, &gen.gw_nofile_hard);
  if (gen.self_nofile > 0 && opt_sessions + 16 > gen.self_nofile)
    fprintf (stderr, "loadgen: warning: %d sessions and a limit of %" G_GINT64_FORMAT
             " open files\n", opt_sessions, gen.self_nofile);
  if (opt_pid > 0 && !opt_direct && gen.gw_nofile_soft > 0 &&
      2 * (gint64) opt_sessions + 32 > gen.gw_nofile_soft)
    fprintf (stderr, "loadgen: warning: the gateway may open %" G_GINT64_FORMAT
             " files at most, %d sessions need about %d\n",
             gen.gw_nofile_soft, opt_sessions, 2 * opt_sessions + 32);

  gen.n = opt_sessions;
  gen.sessions = g_new0 (Session, MAX (1, gen.n));
  for (int i = 0; i < gen.n; i++)
    gen.sessions[i].fd = -1;
  gen.read_buf = g_malloc (READ_BUF_SIZE);
  for (int i = 0; i < PATTERN_SIZE; i++)
    gen.pattern[i] = 'A' + i % 26;
  gen.rng = (guint32) g_random_int () | 1;
  for (int k = 0; k < N_KINDS; k++)
    gen.lat[k] = g_array_sized_new (FALSE, FALSE, sizeof (guint32),
                                    (guint) MIN (1e7, gen.n * opt_key_rate * opt_hold / 2 + 16));
  gen.setup = g_array_sized_new (FALSE, FALSE, sizeof (guint32), MAX (1, gen.n));
  gen.tls_connect = g_array_new (FALSE, FALSE, sizeof (guint32));
  gen.tls_handshake = g_array_new (FALSE, FALSE, sizeof (guint32));
  gen.tls_upgrade = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (int k = 0; k < N_KINDS; k++)
    gen.setup_kind[k] = g_array_new (FALSE, FALSE, sizeof (guint32));
  gen.epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (gen.epfd < 0)
    {
      fprintf (stderr, "loadgen: epoll_create1: %s\n", g_strerror (errno));
      return 2;
    }

  gen.gw_before = proc_sample (opt_pid);
  gen.overflows_before = listen_overflows ();
  gen.t0 = now_ns ();
  gen.self_cpu_start = self_cpu ();
  gen.next_tick = gen.t0 + TICK_NS;
  gen.phase = PH_RAMP;
  gen.ramp_target = gen.n_checkpoints > 0 ? gen.checkpoints[0] : gen.n;
  gen.ramp_segment_start = gen.t0;
  gen.next_start = gen.t0;
  if (!opt_quiet)
    printf ("%s%sopening %d sessions (%s)\n", opt_label ? opt_label : "",
            opt_label ? ": " : "", gen.n,
            opt_direct ? "WebSocket, straight to the echo server" :
            opt_wss_port > 0 ? "WebSocket over TLS" : opt_telnet_share >= 1 ? "Telnet" : opt_telnet_share <= 0 ? "WebSocket" :
            "Telnet and WebSocket");

  while (gen.phase != PH_DONE)
    {
      gint64 now = now_ns ();
      gint64 due = advance (now);
      struct timespec timeout;
      gint64 wait;
      int n;

      if (gen.phase == PH_DONE)
        break;
      wait = due - now_ns ();   /* not inside MAX (): it would read the clock twice */
      wait = MAX (0, wait);
      timeout.tv_sec = wait / NS_PER_S;
      timeout.tv_nsec = wait % NS_PER_S;
      n = epoll_pwait2 (gen.epfd, events, MAX_EVENTS, &timeout, NULL);
      if (n < 0 && errno != EINTR)
        {
          fprintf (stderr, "loadgen: epoll_pwait2: %s\n", g_strerror (errno));
          return 2;
        }
      for (int i = 0; i < n; i++)
        {
          Session *s = events[i].data.ptr;

          if (s->fd >= 0)
            sess_event (s, events[i].events);
        }
    }

  report ();
  failed = gen.connect_errors + gen.tls_errors + gen.handshake_errors + gen.setup_timeouts +
           gen.preamble_closed + gen.drops + gen.keys_lost + gen.pages_lost +
           gen.unexpected_bytes > 0 || gen.time_limit_hit;
  return failed ? 1 : 0;
}
