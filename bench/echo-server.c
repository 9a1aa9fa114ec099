/* SPDX-License-Identifier: GPL-3.0-or-later */
/* echo-server.c: the videotex server stand-in of moipgw's benchmark.
 *
 * A WebSocket server (RFC 6455, no extensions) on raw non-blocking
 * sockets and epoll. It answers any handshake (any path; the first
 * subprotocol offered, if any), echoes every data frame back as a text
 * frame with the same payload, answers pings with pongs and close frames
 * with close frames. moipgwd runs with it as its default server
 * (-v ws://127.0.0.1:PORT/), and bench/loadgen --direct talks to it
 * straight, for the baseline.
 *
 * Bulk mode: a data frame whose payload starts with 'P' is a control
 * message of bench/loadgen; each line "PAGE n\n" in it makes the server
 * send n bytes of letters back, in one text frame. A line cut across
 * frames is put back together (keystrokes, which are echoed, are
 * lowercase letters and never start a frame with 'P').
 *
 * It must never be the bottleneck: frames are parsed where they were
 * read, an echo or a page goes out in one writev() (pages from one
 * shared buffer), and only what the kernel does not take is copied.
 * --threads N runs N loops on N SO_REUSEPORT listeners.
 *
 * Usage: echo-server [--address 127.0.0.1] [--port 0] [--threads 1]
 * It prints "listening on port N" on standard output once it accepts
 * connections, and runs until killed. On SIGUSR1 it prints "accepted N
 * connections, M open" (since it started: bench/run checks that a
 * flood of banned users opens no upstream connection). */
#include <glib.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define WS_GUID          "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define READ_BUF_SIZE    (64 * 1024)
#define MAX_REQUEST      8192               /* handshake request */
#define MAX_FRAME        (16 * 1024 * 1024) /* larger: the peer is dropped */
#define MAX_PAGE         (1024 * 1024)
#define PAGE_BUF_SIZE    (64 * 1024)
#define OUT_HIGH_WATER   (4 * 1024 * 1024)  /* stop reading a peer past this */
#define CTL_MAX          64
#define MAX_EVENTS       512

typedef enum
{
  CONN_HTTP,      /* reading the handshake request */
  CONN_OPEN,
  CONN_CLOSING,   /* close frame sent: close once the output is out */
} ConnState;

typedef struct
{
  int        fd;
  ConnState  state;
  gboolean   reading;     /* EPOLLIN registered */
  gboolean   writing;     /* EPOLLOUT registered */
  /* Bytes read but not yet parsed (a partial request or frame). */
  guint8    *in;
  gsize      in_len;
  gsize      in_cap;
  /* Bytes the kernel did not take yet. */
  guint8    *out;
  gsize      out_off;
  gsize      out_len;
  gsize      out_cap;
  /* A bulk-mode control line cut across frames. */
  char       ctl[CTL_MAX];
  guint      ctl_len;
  gboolean   in_ctl;
} Conn;

typedef struct
{
  int      epfd;
  int      listen_fd;
  int      signal_fd;   /* SIGUSR1, first loop only; else -1 */
  guint8  *read_buf;
} Loop;

/* Counted by every loop. */
static gint n_accepted;
static gint n_open;

/* The listener is NULL in the epoll data; SIGUSR1's signalfd this. */
static int signal_marker;

static char *opt_address = NULL;
static int opt_port = 0;
static int opt_threads = 1;

/* Letters, the body of every page. */
static guint8 page_buf[PAGE_BUF_SIZE];

static void
die (const char *what)
{
  fprintf (stderr, "echo-server: %s: %s\n", what, g_strerror (errno));
  exit (EXIT_FAILURE);
}

/* Raises the soft limit of open files to the hard limit. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
        fprintf (stderr, "echo-server: setrlimit: %s\n", g_strerror (errno));
    }
}

static void
update_events (Loop *loop,
               Conn *c)
{
  struct epoll_event ev = { 0 };

  ev.events = (c->reading ? EPOLLIN : 0) | (c->writing ? EPOLLOUT : 0);
  ev.data.ptr = c;
  epoll_ctl (loop->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
conn_free (Conn *c)
{
  g_atomic_int_add (&n_open, -1);
  close (c->fd);
  g_free (c->in);
  g_free (c->out);
  g_free (c);
}

static void
buf_append (guint8       **buf,
            gsize         *len,
            gsize         *cap,
            const guint8  *data,
            gsize          n)
{
  if (*len + n > *cap)
    {
      *cap = MAX (*len + n, MAX (*cap * 2, 256));
      *buf = g_realloc (*buf, *cap);
    }
  memcpy (*buf + *len, data, n);
  *len += n;
}

/* Writes what is pending. FALSE: the connection is dead. */
static gboolean
conn_flush (Loop *loop,
            Conn *c)
{
  while (c->out_len > c->out_off)
    {
      ssize_t n = send (c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n < 0)
        return FALSE;
      c->out_off += n;
    }
  if (c->out_off == c->out_len)
    {
      c->out_off = c->out_len = 0;
      if (c->out_cap > 64 * 1024)
        {
          /* Do not keep a large buffer per idle connection. */
          g_clear_pointer (&c->out, g_free);
          c->out_cap = 0;
        }
    }
  {
    gboolean want_write = c->out_len > 0;
    gboolean want_read = c->state != CONN_CLOSING && c->out_len < OUT_HIGH_WATER;

    if (want_write != c->writing || want_read != c->reading)
      {
        c->writing = want_write;
        c->reading = want_read;
        update_events (loop, c);
      }
  }
  return TRUE;
}

/* Sends the vector, straight when nothing is pending; keeps what the
 * kernel does not take. FALSE: the connection is dead. */
static gboolean
conn_sendv (Loop         *loop,
            Conn         *c,
            struct iovec *iov,
            int           iovcnt)
{
  gsize total = 0, done = 0;
  int i;

  for (i = 0; i < iovcnt; i++)
    total += iov[i].iov_len;

  if (c->out_len == 0)
    {
      struct msghdr msg = { 0 };
      ssize_t n;

      msg.msg_iov = iov;
      msg.msg_iovlen = iovcnt;
      do
        n = sendmsg (c->fd, &msg, MSG_NOSIGNAL);
      while (n < 0 && errno == EINTR);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return FALSE;
      done = n < 0 ? 0 : (gsize) n;
      if (done == total)
        return TRUE;
    }

  /* Keep the rest. */
  for (i = 0; i < iovcnt; i++)
    {
      if (done >= iov[i].iov_len)
        {
          done -= iov[i].iov_len;
          continue;
        }
      buf_append (&c->out, &c->out_len, &c->out_cap,
                  (const guint8 *) iov[i].iov_base + done, iov[i].iov_len - done);
      done = 0;
    }
  return conn_flush (loop, c);
}

/* A server frame header (never masked). Returns its length. */
static gsize
frame_header (guint8  *hdr,
              guint8   opcode,
              guint64  len)
{
  hdr[0] = 0x80 | opcode;
  if (len < 126)
    {
      hdr[1] = (guint8) len;
      return 2;
    }
  if (len < 65536)
    {
      hdr[1] = 126;
      hdr[2] = (guint8) (len >> 8);
      hdr[3] = (guint8) len;
      return 4;
    }
  hdr[1] = 127;
  for (int i = 0; i < 8; i++)
    hdr[2 + i] = (guint8) (len >> (56 - 8 * i));
  return 10;
}

static gboolean
send_frame (Loop         *loop,
            Conn         *c,
            guint8        opcode,
            const guint8 *payload,
            gsize         len)
{
  guint8 hdr[10];
  struct iovec iov[2];

  iov[0].iov_base = hdr;
  iov[0].iov_len = frame_header (hdr, opcode, len);
  iov[1].iov_base = (void *) payload;
  iov[1].iov_len = len;
  return conn_sendv (loop, c, iov, len > 0 ? 2 : 1);
}

/* n bytes of letters in one text frame. */
static gboolean
send_page (Loop  *loop,
           Conn  *c,
           gsize  n)
{
  guint8 hdr[10];
  struct iovec iov[1 + MAX_PAGE / PAGE_BUF_SIZE + 1];
  int iovcnt = 1;
  gsize left = n;

  iov[0].iov_base = hdr;
  iov[0].iov_len = frame_header (hdr, 0x1, n);
  while (left > 0)
    {
      gsize chunk = MIN (left, (gsize) PAGE_BUF_SIZE);

      iov[iovcnt].iov_base = page_buf;
      iov[iovcnt].iov_len = chunk;
      iovcnt++;
      left -= chunk;
    }
  return conn_sendv (loop, c, iov, iovcnt);
}

/* Bulk-mode control bytes: lines "PAGE n". */
static gboolean
control (Loop         *loop,
         Conn         *c,
         const guint8 *data,
         gsize         len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] != '\n')
        {
          if (c->ctl_len < CTL_MAX - 1)
            c->ctl[c->ctl_len++] = (char) data[i];
          continue;
        }
      c->ctl[c->ctl_len] = '\0';
      if (strncmp (c->ctl, "PAGE ", 5) == 0)
        {
          guint64 n = g_ascii_strtoull (c->ctl + 5, NULL, 10);

          if (n > 0 && n <= MAX_PAGE && !send_page (loop, c, n))
            return FALSE;
        }
      c->ctl_len = 0;
      c->in_ctl = FALSE;
    }
  return TRUE;
}

static gboolean
data_frame (Loop         *loop,
            Conn         *c,
            const guint8 *payload,
            gsize         len)
{
  if (len == 0)
    return TRUE;
  if (c->in_ctl || payload[0] == 'P')
    {
      c->in_ctl = TRUE;
      return control (loop, c, payload, len);
    }
  return send_frame (loop, c, 0x1, payload, len);
}

/* Parses and handles every complete frame in data. Returns how many
 * bytes were used, or -1 when the connection must go. */
static gssize
handle_frames (Loop   *loop,
               Conn   *c,
               guint8 *data,
               gsize   len)
{
  gsize pos = 0;

  while (c->state == CONN_OPEN && len - pos >= 2)
    {
      guint8 *p = data + pos;
      gsize avail = len - pos;
      guint8 opcode = p[0] & 0x0f;
      gboolean masked = (p[1] & 0x80) != 0;
      guint64 plen = p[1] & 0x7f;
      gsize hlen = 2;
      guint8 *payload;

      if (plen == 126)
        {
          if (avail < 4)
            break;
          plen = ((guint64) p[2] << 8) | p[3];
          hlen = 4;
        }
      else if (plen == 127)
        {
          if (avail < 10)
            break;
          plen = 0;
          for (int i = 0; i < 8; i++)
            plen = (plen << 8) | p[2 + i];
          hlen = 10;
        }
      if (plen > MAX_FRAME)
        return -1;
      if (masked)
        hlen += 4;
      if (avail < hlen + plen)
        break;

      payload = p + hlen;
      if (masked)
        {
          const guint8 *mask = p + hlen - 4;
          for (gsize i = 0; i < plen; i++)
            payload[i] ^= mask[i & 3];
        }
      pos += hlen + plen;

      switch (opcode)
        {
        case 0x0:   /* continuation: echoed as it comes */
        case 0x1:   /* text */
        case 0x2:   /* binary */
          if (!data_frame (loop, c, payload, plen))
            return -1;
          break;
        case 0x8:   /* close: answer with its status code */
          if (!send_frame (loop, c, 0x8, payload, MIN (plen, 2)))
            return -1;
          c->state = CONN_CLOSING;
          break;
        case 0x9:   /* ping */
          if (!send_frame (loop, c, 0xA, payload, plen))
            return -1;
          break;
        case 0xA:   /* pong */
          break;
        default:
          return -1;
        }
    }
  return pos;
}

/* Finds a header's value in a request; NULL when absent. The value is
 * copied into out (cut at out_size). */
static const char *
find_header (const char *request,
             const char *name,
             char       *out,
             gsize       out_size)
{
  gsize name_len = strlen (name);
  const char *line = strstr (request, "\r\n");

  while (line != NULL && line[2] != '\r' && line[2] != '\0')
    {
      const char *start = line + 2;
      const char *end = strstr (start, "\r\n");

      if (end == NULL)
        break;
      if ((gsize) (end - start) > name_len && start[name_len] == ':' &&
          g_ascii_strncasecmp (start, name, name_len) == 0)
        {
          const char *v = start + name_len + 1;
          gsize n;

          while (*v == ' ' || *v == '\t')
            v++;
          n = MIN ((gsize) (end - v), out_size - 1);
          memcpy (out, v, n);
          out[n] = '\0';
          g_strchomp (out);
          return out;
        }
      line = end;
    }
  return NULL;
}

/* Answers the handshake in request (NUL-terminated). FALSE: refused. */
static gboolean
handshake (Loop       *loop,
           Conn       *c,
           const char *request)
{
  char key[128], protocols[256], response[512];
  g_autofree char *accept = NULL;
  g_autofree char *keyed = NULL;
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  GChecksum *sha1;
  int n;

  if (find_header (request, "Sec-WebSocket-Key", key, sizeof key) == NULL)
    {
      static const char bad[] =
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void) send (c->fd, bad, sizeof bad - 1, MSG_NOSIGNAL);
      return FALSE;
    }
  keyed = g_strconcat (key, WS_GUID, NULL);
  sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha1, (const guchar *) keyed, strlen (keyed));
  g_checksum_get_digest (sha1, digest, &digest_len);
  g_checksum_free (sha1);
  accept = g_base64_encode (digest, digest_len);

  n = g_snprintf (response, sizeof response,
                  "HTTP/1.1 101 Switching Protocols\r\n"
                  "Upgrade: websocket\r\n"
                  "Connection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: %s\r\n", accept);
  if (find_header (request, "Sec-WebSocket-Protocol", protocols, sizeof protocols) != NULL)
    {
      char *comma = strchr (protocols, ',');

      if (comma != NULL)
        *comma = '\0';
      g_strstrip (protocols);
      if (*protocols != '\0')
        n += g_snprintf (response + n, sizeof response - n,
                         "Sec-WebSocket-Protocol: %s\r\n", protocols);
    }
  n += g_snprintf (response + n, sizeof response - n, "\r\n");
  {
    struct iovec iov = { response, (gsize) n };
    return conn_sendv (loop, c, &iov, 1);
  }
}

/* Handles newly read bytes: the request, then frames. FALSE: drop the
 * connection. */
static gboolean
conn_input (Loop   *loop,
            Conn   *c,
            guint8 *data,
            gsize   len)
{
  guint8 *buf = data;
  gsize buf_len = len;
  gssize used;

  if (c->in_len > 0)
    {
      buf_append (&c->in, &c->in_len, &c->in_cap, data, len);
      buf = c->in;
      buf_len = c->in_len;
    }

  if (c->state == CONN_HTTP)
    {
      const guint8 *end = NULL;

      for (gsize i = 3; i < buf_len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
          {
            end = buf + i + 1;
            break;
          }
      if (end == NULL)
        {
          if (buf_len > MAX_REQUEST)
            return FALSE;
          if (buf != c->in)
            buf_append (&c->in, &c->in_len, &c->in_cap, data, len);
          return TRUE;
        }
      {
        g_autofree char *request = g_strndup ((const char *) buf, end - buf);

        if (!handshake (loop, c, request))
          return FALSE;
      }
      c->state = CONN_OPEN;
      used = handle_frames (loop, c, (guint8 *) end, buf_len - (end - buf));
      if (used < 0)
        return FALSE;
      used += end - buf;
    }
  else
    {
      used = handle_frames (loop, c, buf, buf_len);
      if (used < 0)
        return FALSE;
    }

  /* Keep what is left of a partial frame. */
  if (buf == c->in)
    {
      memmove (c->in, c->in + used, c->in_len - used);
      c->in_len -= used;
      if (c->in_len == 0 && c->in_cap > 64 * 1024)
        {
          g_clear_pointer (&c->in, g_free);
          c->in_cap = 0;
        }
    }
  else if ((gsize) used < buf_len)
    buf_append (&c->in, &c->in_len, &c->in_cap, buf + used, buf_len - used);
  return TRUE;
}

/* Reads what is there. FALSE: the connection is closed or dead. */
static gboolean
conn_read (Loop *loop,
           Conn *c)
{
  for (int round = 0; round < 4; round++)
    {
      ssize_t n = recv (c->fd, loop->read_buf, READ_BUF_SIZE, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TRUE;
      if (n <= 0)
        return FALSE;
      if (!conn_input (loop, c, loop->read_buf, n))
        return FALSE;
      if (c->state == CONN_CLOSING)
        return conn_flush (loop, c);
      if (n < READ_BUF_SIZE)
        return TRUE;
    }
  return TRUE;
}

static void
accept_all (Loop *loop)
{
  for (;;)
    {
      int fd = accept4 (loop->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      struct epoll_event ev = { 0 };
      int one = 1;
      Conn *c;

      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          if (errno == EMFILE || errno == ENFILE)
            fprintf (stderr, "echo-server: accept: %s\n", g_strerror (errno));
          return;
        }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      g_atomic_int_inc (&n_accepted);
      g_atomic_int_inc (&n_open);
      c = g_new0 (Conn, 1);
      c->fd = fd;
      c->state = CONN_HTTP;
      c->reading = TRUE;
      ev.events = EPOLLIN;
      ev.data.ptr = c;
      if (epoll_ctl (loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        {
          conn_free (c);
          continue;
        }
    }
}

static int
make_listener (const struct sockaddr_in *addr)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;

  if (fd < 0)
    die ("socket");
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind (fd, (const struct sockaddr *) addr, sizeof *addr) < 0)
    die ("bind");
  if (listen (fd, SOMAXCONN) < 0)
    die ("listen");
  return fd;
}

static gpointer
run_loop (gpointer data)
{
  Loop *loop = data;
  struct epoll_event events[MAX_EVENTS];
  struct epoll_event ev = { 0 };

  loop->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (loop->epfd < 0)
    die ("epoll_create1");
  loop->read_buf = g_malloc (READ_BUF_SIZE);
  ev.events = EPOLLIN;
  ev.data.ptr = NULL;   /* NULL: the listener */
  if (epoll_ctl (loop->epfd, EPOLL_CTL_ADD, loop->listen_fd, &ev) < 0)
    die ("epoll_ctl");
  if (loop->signal_fd >= 0)
    {
      ev.events = EPOLLIN;
      ev.data.ptr = &signal_marker;
      if (epoll_ctl (loop->epfd, EPOLL_CTL_ADD, loop->signal_fd, &ev) < 0)
        die ("epoll_ctl");
    }

  for (;;)
    {
      int n = epoll_wait (loop->epfd, events, MAX_EVENTS, -1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        die ("epoll_wait");
      for (int i = 0; i < n; i++)
        {
          Conn *c = events[i].data.ptr;
          gboolean alive = TRUE;

          if (c == NULL)
            {
              accept_all (loop);
              continue;
            }
          if ((gpointer) c == &signal_marker)
            {
              struct signalfd_siginfo info;

              while (read (loop->signal_fd, &info, sizeof info) == sizeof info)
                ;
              printf ("accepted %d connections, %d open\n", g_atomic_int_get (&n_accepted),
                      g_atomic_int_get (&n_open));
              fflush (stdout);
              continue;
            }
          if (events[i].events & (EPOLLERR | EPOLLHUP))
            alive = FALSE;
          if (alive && (events[i].events & EPOLLOUT))
            {
              alive = conn_flush (loop, c);
              if (alive && c->state == CONN_CLOSING && c->out_len == 0)
                alive = FALSE;
            }
          if (alive && (events[i].events & EPOLLIN) && c->reading)
            alive = conn_read (loop, c);
          if (alive && c->state == CONN_CLOSING && c->out_len == 0)
            alive = FALSE;   /* close frame answered: the server closes first */
          if (!alive)
            conn_free (c);
        }
    }
  return NULL;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &opt_address,
      "IPv4 address to listen on (default 127.0.0.1)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port,
      "Port (default 0: the kernel chooses)", "PORT" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &opt_threads,
      "Event loops, one per thread (default 1)", "N" },
    { NULL }
  };
  struct sockaddr_in addr = { 0 };
  socklen_t addr_len = sizeof addr;
  Loop *loops;
  int signal_fd;
  int i;

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "WebSocket echo server of moipgw's benchmark: echoes every "
                                "data frame as a text frame; \"PAGE n\" sends n bytes back.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "echo-server: %s\n", error->message);
      return 2;
    }
  if (opt_threads < 1 || opt_threads > 64 || opt_port < 0 || opt_port > 65535)
    {
      fprintf (stderr, "echo-server: bad --threads or --port\n");
      return 2;
    }

  signal (SIGPIPE, SIG_IGN);
  raise_fd_limit ();
  /* SIGUSR1 is read from a signalfd by the first loop: blocked before
   * any other thread starts, so that none takes it. */
  {
    sigset_t mask;

    sigemptyset (&mask);
    sigaddset (&mask, SIGUSR1);
    if (pthread_sigmask (SIG_BLOCK, &mask, NULL) != 0)
      die ("pthread_sigmask");
    signal_fd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0)
      die ("signalfd");
  }
  for (i = 0; i < PAGE_BUF_SIZE; i++)
    page_buf[i] = 'A' + i % 26;

  addr.sin_family = AF_INET;
  addr.sin_port = htons (opt_port);
  if (inet_pton (AF_INET, opt_address ? opt_address : "127.0.0.1", &addr.sin_addr) != 1)
    {
      fprintf (stderr, "echo-server: '%s' is not an IPv4 address\n", opt_address);
      return 2;
    }

  loops = g_new0 (Loop, opt_threads);
  for (i = 0; i < opt_threads; i++)
    loops[i].signal_fd = -1;
  loops[0].signal_fd = signal_fd;
  loops[0].listen_fd = make_listener (&addr);
  if (getsockname (loops[0].listen_fd, (struct sockaddr *) &addr, &addr_len) < 0)
    die ("getsockname");
  /* The other loops share the port the first one got. */
  for (i = 1; i < opt_threads; i++)
    {
      loops[i].listen_fd = make_listener (&addr);
      g_thread_unref (g_thread_new ("echo-loop", run_loop, &loops[i]));
    }
  printf ("listening on port %u\n", ntohs (addr.sin_port));
  fflush (stdout);
  run_loop (&loops[0]);
  return 0;
}
