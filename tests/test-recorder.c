/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-recorder.c: a session's recording as it is written (mgw-recorder.c),
 * into real files in a temporary directory, through a real main loop:
 * every event parses back (mgw-recording.c), the user's input kept,
 * masked or dropped, max-size truncation, long chunks cut, the file's
 * mode, a name already taken, a directory that is not there, a disk
 * that is full, and a disk that does not keep up (a FIFO nobody reads):
 * the main loop runs on, the queue stays within its bound, what is lost
 * is counted and said once the disk takes again, and the other
 * recorders wait for a slot instead of holding more workers. */
#include "config.h"

#include "mgw-recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2026-12-03 16:42:25.123456 UTC */
#define START G_GINT64_CONSTANT (1796316145123456)
#define ID "20261203-164225-12"
#define S(lit) (const guint8 *) lit, sizeof lit - 1
#define WAIT_MS 10000

typedef struct
{
  char            *dir;
  MgwRecorderPool *pool;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-recorder-XXXXXX", &error);
  g_assert_no_error (error);
  f->pool = mgw_recorder_pool_new (MGW_RECORDER_IN_FLIGHT_MAX, MGW_RECORDER_QUEUED_MAX);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  g_assert_cmpuint (mgw_recorder_pool_get_counters (f->pool)->active, ==, 0);
  g_assert_cmpuint (mgw_recorder_pool_get_queued (f->pool), ==, 0);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  mgw_recorder_pool_unref (f->pool);
}

static MgwRecordingHeader
header (MgwRecordingInput input,
        guint64           max_size)
{
  MgwRecordingHeader h = {
    .session = 12, .peer = (char *) "192.0.2.7", .port = 40112, .access = (char *) "Telnet",
    .start = START, .offset = 0, .input = input, .max_size = max_size,
  };
  return h;
}

static gboolean
closed (gpointer data)
{
  return mgw_recorder_get_closed (data);
}

static gboolean
has_id (gpointer data)
{
  return mgw_recorder_get_id (data) != NULL;
}

static gboolean
timed_out (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main loop until `cond`, failing after WAIT_MS. */
static void
wait_until (gboolean (*cond)(gpointer), gpointer data, const char *what)
{
  gboolean late = FALSE;
  guint id = g_timeout_add (WAIT_MS, timed_out, &late);

  while (!cond (data) && !late)
    g_main_context_iteration (NULL, TRUE);
  if (late)
    g_error ("timed out waiting for %s", what);
  g_source_remove (id);
}

static void
finish_and_wait (MgwRecorder *rec,
                 gint64       time,
                 const char  *reason)
{
  mgw_recorder_finish (rec, time, reason);
  wait_until (closed, rec, "the recorder to close");
}

typedef struct
{
  MgwRecordingHeader header;
  GPtrArray         *events;   /* of MgwRecordingEvent */
  GString           *text;
} Recording;

static void
event_free (gpointer data)
{
  mgw_recording_event_clear (data);
  g_free (data);
}

static void
recording_free (Recording *r)
{
  mgw_recording_header_clear (&r->header);
  g_ptr_array_unref (r->events);
  g_string_free (r->text, TRUE);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Recording, recording_free)

/* Every line parses: the header, then events; the text ends with '\n'. */
static Recording *
parse_text (const char *text,
            gsize       len)
{
  Recording *r = g_new0 (Recording, 1);
  const char *p = text, *end = text + len;
  g_autoptr(GError) error = NULL;
  gboolean first = TRUE;

  r->events = g_ptr_array_new_with_free_func (event_free);
  r->text = g_string_new_len (text, (gssize) len);
  g_assert_cmpuint (len, >, 0);
  g_assert_cmpint (text[len - 1], ==, '\n');
  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));

      g_assert_nonnull (nl);
      if (first)
        g_assert_true (mgw_recording_parse_header (p, (gsize) (nl - p), &r->header, &error));
      else
        {
          MgwRecordingEvent *event = g_new0 (MgwRecordingEvent, 1);

          g_assert_true (mgw_recording_parse_event (p, (gsize) (nl - p), event, &error));
          g_ptr_array_add (r->events, event);
        }
      g_assert_no_error (error);
      first = FALSE;
      p = nl + 1;
    }
  return r;
}

static char *
path_of (Fixture    *f,
         const char *id)
{
  g_autofree char *name = g_strconcat (id, MGW_RECORDING_SUFFIX, NULL);
  return g_build_filename (f->dir, name, NULL);
}

static Recording *
read_recording (Fixture    *f,
                const char *id)
{
  g_autofree char *path = path_of (f, id);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  g_assert_no_error (error);
  return parse_text (text, len);
}

static MgwRecordingEvent *
event_at (Recording *r,
          guint      i)
{
  g_assert_cmpuint (i, <, r->events->len);
  return r->events->pdata[i];
}

static void
assert_chunk (MgwRecordingEvent *e,
              gint64             time,
              MgwRecordingKind   kind,
              guint              redirection,
              const guint8      *data,
              gsize              len)
{
  g_assert_cmpint (e->time, ==, time);
  g_assert_cmpint (e->kind, ==, kind);
  g_assert_cmpuint (e->redirection, ==, redirection);
  g_assert_nonnull (e->data);
  g_assert_cmpmem (e->data->data, e->data->len, data, len);
}

static void
assert_mark (MgwRecordingEvent *e,
             const char        *event,
             const char        *detail)
{
  g_assert_cmpint (e->kind, ==, MGW_RECORDING_MARK);
  g_assert_cmpstr (e->event, ==, event);
  if (detail != NULL)
    g_assert_cmpstr (e->detail, ==, detail);
}

static void
count_cb (MgwRecorder *rec,
          gpointer     data)
{
  (*(guint *) data)++;
}

static void
failed_cb (MgwRecorder  *rec,
           const GError *error,
           gpointer      data)
{
  (*(guint *) data)++;
}

/* Both ways, every kind and mark, in order, read back from the file. */
static void
test_events (Fixture *f, gconstpointer data)
{
  MgwRecordingHeader h = header (MGW_RECORDING_INPUT_KEEP, 0);
  g_autoptr(MgwRecorder) rec = mgw_recorder_new (f->pool, f->dir, &h);
  g_autoptr(Recording) r = NULL;
  g_autofree char *path = path_of (f, ID);
  const MgwRecorderCounters *c = mgw_recorder_pool_get_counters (f->pool);
  static const guint8 every[] = { 0x00, 0x0c, 0x1b, 'A', 0x7f, 0x80, 0xe9, 0xff, '"', '\\' };
  guint ready = 0;
  struct stat st;

  g_signal_connect (rec, "ready", G_CALLBACK (count_cb), &ready);
  /* Before the file exists: the events wait. */
  g_assert_null (mgw_recorder_get_id (rec));
  g_assert_cmpuint (c->active, ==, 1);
  mgw_recorder_chunk (rec, 10, MGW_RECORDING_GATEWAY, 0, S ("Welcome\r\n"));
  mgw_recorder_chunk (rec, 20, MGW_RECORDING_SERVER, 0, every, sizeof every);
  mgw_recorder_chunk (rec, 30, MGW_RECORDING_USER, 0, S ("abc"));
  mgw_recorder_chunk (rec, 35, MGW_RECORDING_USER, 0, NULL, 0);   /* no event */
  mgw_recorder_mark_redirect (rec, 40, "ws://127.0.0.1:8080/", 1);
  mgw_recorder_chunk (rec, 50, MGW_RECORDING_TARGET, 1, S ("TARGET"));
  mgw_recorder_chunk (rec, 60, MGW_RECORDING_USER, 1, S ("\x13I"));
  mgw_recorder_mark_return (rec, 70, 1, "Connexion/Fin pressed");
  wait_until (has_id, rec, "the file");
  g_assert_cmpuint (ready, ==, 1);
  g_assert_cmpstr (mgw_recorder_get_id (rec), ==, ID);
  mgw_recorder_chunk (rec, 2000000, MGW_RECORDING_GATEWAY, 0, S ("END"));
  finish_and_wait (rec, 2000001, "user disconnected");
  g_assert_null (mgw_recorder_get_error (rec));

  /* 0640 whatever the umask. */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);

  r = read_recording (f, ID);
  g_assert_cmpstr (r->header.id, ==, ID);
  g_assert_cmpuint (r->header.session, ==, 12);
  g_assert_cmpstr (r->header.peer, ==, "192.0.2.7");
  g_assert_cmpuint (r->header.port, ==, 40112);
  g_assert_cmpstr (r->header.access, ==, "Telnet");
  g_assert_cmpint (r->header.start, ==, START);
  g_assert_cmpint (r->header.offset, ==, 0);
  g_assert_cmpstr (r->header.gateway, ==, "moipgw " PACKAGE_VERSION);
  g_assert_cmpint (r->header.input, ==, MGW_RECORDING_INPUT_KEEP);
  g_assert_cmpuint (r->header.max_size, ==, 0);

  assert_chunk (event_at (r, 0), 10, MGW_RECORDING_GATEWAY, 0, S ("Welcome\r\n"));
  assert_chunk (event_at (r, 1), 20, MGW_RECORDING_SERVER, 0, every, sizeof every);
  assert_chunk (event_at (r, 2), 30, MGW_RECORDING_USER, 0, S ("abc"));
  assert_mark (event_at (r, 3), "redirect",
               "{\"event\":\"redirect\",\"target\":\"ws://127.0.0.1:8080/\",\"redirection\":1}");
  assert_chunk (event_at (r, 4), 50, MGW_RECORDING_TARGET, 1, S ("TARGET"));
  assert_chunk (event_at (r, 5), 60, MGW_RECORDING_USER, 1, S ("\x13I"));
  assert_mark (event_at (r, 6), "return",
               "{\"event\":\"return\",\"redirection\":1,\"reason\":\"Connexion/Fin pressed\"}");
  assert_chunk (event_at (r, 7), 2000000, MGW_RECORDING_GATEWAY, 0, S ("END"));
  assert_mark (event_at (r, 8), "end", "{\"event\":\"end\",\"reason\":\"user disconnected\"}");
  g_assert_cmpint (event_at (r, 8)->time, ==, 2000001);
  g_assert_cmpuint (r->events->len, ==, 9);

  g_assert_cmpuint (c->started, ==, 1);
  g_assert_cmpuint (c->active, ==, 0);
  g_assert_cmpuint (c->bytes, ==, r->text->len);
  g_assert_cmpuint (mgw_recorder_get_size (rec), ==, r->text->len);
  g_assert_cmpuint (c->failures, ==, 0);
  g_assert_cmpuint (c->dropped_events, ==, 0);
}

/* input=mask: the user's bytes are counted, not kept; input=drop: no
 * user event at all. The screen's bytes are kept either way. */
static void
test_input (Fixture *f, gconstpointer data)
{
  MgwRecordingInput input = GPOINTER_TO_INT (data);
  MgwRecordingHeader h = header (input, 0);
  g_autoptr(MgwRecorder) rec = mgw_recorder_new (f->pool, f->dir, &h);
  g_autoptr(Recording) r = NULL;
  guint i = 0;

  mgw_recorder_chunk (rec, 10, MGW_RECORDING_SERVER, 0, S ("Password:"));
  mgw_recorder_chunk (rec, 20, MGW_RECORDING_USER, 0, S ("secret"));
  mgw_recorder_chunk (rec, 30, MGW_RECORDING_USER, 2, S ("hidden!"));
  mgw_recorder_chunk (rec, 40, MGW_RECORDING_TARGET, 2, S ("OK"));
  finish_and_wait (rec, 50, "closed");

  r = read_recording (f, ID);
  g_assert_cmpint (r->header.input, ==, input);
  g_assert_null (strstr (r->text->str, "secret"));
  g_assert_null (strstr (r->text->str, "hidden"));
  assert_chunk (event_at (r, i++), 10, MGW_RECORDING_SERVER, 0, S ("Password:"));
  if (input == MGW_RECORDING_INPUT_MASK)
    {
      MgwRecordingEvent *e = event_at (r, i++);

      g_assert_cmpint (e->kind, ==, MGW_RECORDING_USER);
      g_assert_null (e->data);
      g_assert_cmpuint (e->masked, ==, 6);
      g_assert_cmpuint (e->redirection, ==, 0);
      e = event_at (r, i++);
      g_assert_cmpint (e->time, ==, 30);
      g_assert_null (e->data);
      g_assert_cmpuint (e->masked, ==, 7);
      g_assert_cmpuint (e->redirection, ==, 2);
    }
  assert_chunk (event_at (r, i++), 40, MGW_RECORDING_TARGET, 2, S ("OK"));
  assert_mark (event_at (r, i++), "end", NULL);
  g_assert_cmpuint (r->events->len, ==, i);
}

/* max-size: the file never passes it; the last line is `truncated`, no
 * `end` after it, nothing recorded past it. */
static void
test_truncated (Fixture *f, gconstpointer data)
{
  gboolean taken = GPOINTER_TO_INT (data);
  MgwRecordingHeader h = header (MGW_RECORDING_INPUT_KEEP, MGW_RECORDING_MIN_SIZE);
  g_autofree char *old = path_of (f, ID);
  g_autoptr(MgwRecorder) rec = NULL;
  g_autoptr(Recording) r = NULL;
  g_autofree char *detail = NULL;
  MgwRecordingEvent *last;
  guint8 line[100];
  gsize before_mark;

  /* The name taken: the mark, queued before the file is named, says the
   * size with the name it gets. */
  if (taken)
    g_assert_true (g_file_set_contents (old, "earlier\n", -1, NULL));
  rec = mgw_recorder_new (f->pool, f->dir, &h);
  memset (line, 'x', sizeof line);
  for (guint i = 0; i < 100; i++)
    mgw_recorder_chunk (rec, 1000 * i, MGW_RECORDING_SERVER, 0, line, sizeof line);
  g_assert_true (mgw_recorder_get_truncated (rec));
  mgw_recorder_mark_return (rec, 200000, 1, "nothing more");
  finish_and_wait (rec, 300000, "user disconnected");

  r = read_recording (f, taken ? ID "-2" : ID);
  g_assert_cmpuint (r->text->len, <=, MGW_RECORDING_MIN_SIZE);
  g_assert_cmpuint (r->text->len, >, MGW_RECORDING_MIN_SIZE - 300);
  last = event_at (r, r->events->len - 1);
  /* The mark's size: the bytes before it. */
  before_mark = r->text->len - 1;
  while (before_mark > 0 && r->text->str[before_mark - 1] != '\n')
    before_mark--;
  detail = g_strdup_printf ("{\"event\":\"truncated\",\"size\":%" G_GSIZE_FORMAT "}", before_mark);
  assert_mark (last, "truncated", detail);
  for (guint i = 0; i + 1 < r->events->len; i++)
    assert_chunk (event_at (r, i), 1000 * i, MGW_RECORDING_SERVER, 0, line, sizeof line);
  g_assert_cmpuint (mgw_recorder_pool_get_counters (f->pool)->truncated, ==, 1);
}

/* A chunk longer than 64 KiB is cut: each event within the format's
 * bound, together the chunk, all at its time. */
static void
test_long_chunk (Fixture *f, gconstpointer data)
{
  MgwRecordingHeader h = header (MGW_RECORDING_INPUT_KEEP, 0);
  g_autoptr(MgwRecorder) rec = mgw_recorder_new (f->pool, f->dir, &h);
  g_autoptr(Recording) r = NULL;
  g_autoptr(GByteArray) joined = g_byte_array_new ();
  gsize len = 200 * 1024 + 17;
  g_autofree guint8 *chunk = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    chunk[i] = (guint8) (0x20 + i % 95);
  mgw_recorder_chunk (rec, 777, MGW_RECORDING_SERVER, 0, chunk, len);
  finish_and_wait (rec, 778, "closed");

  r = read_recording (f, ID);
  g_assert_cmpuint (r->events->len, ==, 5);
  for (guint i = 0; i < 4; i++)
    {
      MgwRecordingEvent *e = event_at (r, i);

      g_assert_cmpint (e->kind, ==, MGW_RECORDING_SERVER);
      g_assert_cmpint (e->time, ==, 777);
      g_assert_cmpuint (e->data->len, <=, 64 * 1024);
      g_byte_array_append (joined, e->data->data, e->data->len);
    }
  g_assert_cmpmem (joined->data, joined->len, chunk, len);
  g_assert_cmpuint (mgw_recorder_pool_get_counters (f->pool)->dropped_events, ==, 0);
}

/* A name taken (a recording of an earlier run): the next one, the old
 * file untouched. */
static void
test_name_taken (Fixture *f, gconstpointer data)
{
  MgwRecordingHeader h = header (MGW_RECORDING_INPUT_KEEP, 0);
  g_autofree char *old = path_of (f, ID);
  g_autofree char *text = NULL;
  g_autoptr(MgwRecorder) rec = NULL;
  g_autoptr(Recording) r = NULL;

  g_assert_true (g_file_set_contents (old, "earlier\n", -1, NULL));
  rec = mgw_recorder_new (f->pool, f->dir, &h);
  mgw_recorder_chunk (rec, 1, MGW_RECORDING_SERVER, 0, S ("new"));
  finish_and_wait (rec, 2, "closed");
  g_assert_cmpstr (mgw_recorder_get_id (rec), ==, ID "-2");
  r = read_recording (f, ID "-2");
  g_assert_cmpstr (r->header.id, ==, ID "-2");
  g_assert_true (g_file_get_contents (old, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "earlier\n");
}

/* No directory: "failed", one warning, counted; nothing else. */
static void
test_no_directory (Fixture *f, gconstpointer data)
{
  MgwRecordingHeader h = header (MGW_RECORDING_INPUT_KEEP, 0);
  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);
  const MgwRecorderCounters *c = mgw_recorder_pool_get_counters (f->pool);
  g_autoptr(MgwRecorder) rec = NULL;
  guint failed = 0, ready = 0;

  g_test_expect_message ("moipgw", G_LOG_LEVEL_WARNING,
                         "recording " ID " of session 12: cannot create its file: *");
  rec = mgw_recorder_new (f->pool, missing, &h);
  g_signal_connect (rec, "failed", G_CALLBACK (failed_cb), &failed);
  g_signal_connect (rec, "ready", G_CALLBACK (count_cb), &ready);
  mgw_recorder_chunk (rec, 1, MGW_RECORDING_SERVER, 0, S ("lost"));
  wait_until (closed, rec, "the recorder to give up");
  g_test_assert_expected_messages ();
  g_assert_cmpuint (failed, ==, 1);
  g_assert_cmpuint (ready, ==, 0);
  g_assert_nonnull (mgw_recorder_get_error (rec));
  g_assert_null (mgw_recorder_get_id (rec));
  mgw_recorder_chunk (rec, 2, MGW_RECORDING_SERVER, 0, S ("ignored"));
  mgw_recorder_finish (rec, 3, "closed");
  g_assert_cmpuint (c->failures, ==, 1);
  g_assert_cmpuint (c->started, ==, 0);
  g_assert_cmpuint (c->active, ==, 0);
}

/* A full disk (/dev/full): the recording stops at the first write, one
 * warning; later events cost nothing. */
static void
test_disk_full (Fixture *f, gconstpointer data)
{
  MgwRecordingHeader h = header (MGW_RECORDING_INPUT_KEEP, 0);
  int fd = open ("/dev/full", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  g_autoptr(GOutputStream) stream = NULL;
  g_autoptr(MgwRecorder) rec = NULL;
  guint failed = 0;

  if (fd < 0)
    {
      g_test_skip ("no /dev/full");
      return;
    }
  stream = g_unix_output_stream_new (fd, TRUE);
  g_test_expect_message ("moipgw", G_LOG_LEVEL_WARNING,
                         "recording " ID " of session 12: cannot write: *");
  rec = mgw_recorder_new_for_stream (f->pool, stream, ID, &h);
  g_signal_connect (rec, "failed", G_CALLBACK (failed_cb), &failed);
  for (guint i = 0; i < 10; i++)
    {
      mgw_recorder_chunk (rec, i, MGW_RECORDING_SERVER, 0, S ("page"));
      g_main_context_iteration (NULL, FALSE);
    }
  finish_and_wait (rec, 20, "closed");
  g_test_assert_expected_messages ();
  g_assert_cmpuint (failed, ==, 1);
  g_assert_error (mgw_recorder_get_error (rec), G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_cmpuint (mgw_recorder_pool_get_counters (f->pool)->failures, ==, 1);
}

/* --- a disk that does not keep up: a FIFO nobody reads yet --- */

#define PUSH_TOTAL (10 * 1024 * 1024)
#define PUSH_CHUNK (64 * 1024)

typedef struct
{
  Fixture     *f;
  MgwRecorder *slow;      /* into the FIFO */
  MgwRecorder *other;     /* into a file, behind it for the one slot */
  guint8      *chunk;
  gsize        pushed;
  guint        pushes;
  guint        ticks;
  int          reader;    /* -1 until reading starts */
  GByteArray  *read;
  gboolean     eof;
} Slow;

static gboolean
tick_cb (gpointer data)
{
  ((Slow *) data)->ticks++;
  return G_SOURCE_CONTINUE;
}

/* 64 KiB each millisecond, 10 MiB in all: the queue never passes its
 * bound, nor does anyone hold more than the one slot. */
static gboolean
push_cb (gpointer data)
{
  Slow *s = data;

  mgw_recorder_chunk (s->slow, (gint64) s->pushes * 1000, MGW_RECORDING_SERVER, 0,
                      s->chunk, PUSH_CHUNK);
  s->pushed += PUSH_CHUNK;
  s->pushes++;
  g_assert_cmpuint (mgw_recorder_get_pending (s->slow), <=, MGW_RECORDER_PENDING_MAX);
  g_assert_cmpuint (mgw_recorder_pool_get_in_flight (s->f->pool), <=, 1);
  if (s->pushes % 16 == 0)
    mgw_recorder_chunk (s->other, (gint64) s->pushes * 1000, MGW_RECORDING_SERVER, 0,
                        S ("other"));
  return s->pushed < PUSH_TOTAL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* The header written, the first chunk's write waiting in the full FIFO. */
static gboolean
slow_stuck (gpointer data)
{
  Slow *s = data;

  return mgw_recorder_pool_get_counters (s->f->pool)->bytes > 0 &&
         mgw_recorder_get_pending (s->slow) == 0 &&
         mgw_recorder_pool_get_in_flight (s->f->pool) == 1;
}

static gboolean
pushed_all (gpointer data)
{
  return ((Slow *) data)->pushed >= PUSH_TOTAL;
}

static gboolean
read_cb (int          fd,
         GIOCondition condition,
         gpointer     data)
{
  Slow *s = data;
  guint8 buf[65536];
  ssize_t n;

  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_byte_array_append (s->read, buf, (guint) n);
  if (n == 0)
    {
      s->eof = TRUE;
      return G_SOURCE_REMOVE;
    }
  g_assert_cmpint (errno, ==, EAGAIN);
  return G_SOURCE_CONTINUE;
}

static gboolean
read_has_dropped (gpointer data)
{
  Slow *s = data;

  return s->read->len > 0 &&
         g_strstr_len ((const char *) s->read->data, s->read->len,
                       "\"m\",{\"event\":\"dropped\"") != NULL;
}

static gboolean
read_eof (gpointer data)
{
  return ((Slow *) data)->eof;
}

static void
test_slow_disk (Fixture *f, gconstpointer data)
{
  MgwRecordingHeader h = header (MGW_RECORDING_INPUT_KEEP, 0);
  MgwRecordingHeader h2 = header (MGW_RECORDING_INPUT_KEEP, 0);
  g_autofree char *fifo = g_build_filename (f->dir, "fifo", NULL);
  g_autofree char *other_path = NULL;
  g_autoptr(GOutputStream) stream = NULL;
  g_autoptr(MgwRecorder) slow = NULL;
  g_autoptr(MgwRecorder) other = NULL;
  g_autoptr(Recording) r = NULL;
  g_autoptr(Recording) r2 = NULL;
  const MgwRecorderCounters *c;
  guint64 screen = 0, dropped_bytes = 0, dropped_chunks = 0;
  Slow s = { f };
  guint tick_id, marks = 0;
  int fd;

  /* One slot for the whole pool: the second recorder waits behind the
   * stuck one rather than take another worker. */
  mgw_recorder_pool_unref (f->pool);
  f->pool = mgw_recorder_pool_new (1, MGW_RECORDER_QUEUED_MAX);
  c = mgw_recorder_pool_get_counters (f->pool);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  /* Read and write: opening does not wait for a reader. */
  fd = open (fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  stream = g_unix_output_stream_new (fd, TRUE);
  s.chunk = g_malloc (PUSH_CHUNK);
  for (gsize i = 0; i < PUSH_CHUNK; i++)
    s.chunk[i] = (guint8) ('a' + i % 26);
  s.read = g_byte_array_new ();
  s.reader = -1;

  slow = mgw_recorder_new_for_stream (f->pool, stream, ID, &h);
  s.slow = slow;
  /* Its first write fills the FIFO and waits there, holding the slot. */
  mgw_recorder_chunk (slow, 0, MGW_RECORDING_SERVER, 0, s.chunk, PUSH_CHUNK);
  s.pushed = PUSH_CHUNK;
  s.pushes = 1;
  wait_until (slow_stuck, &s, "the FIFO to fill");
  h2.session = 13;
  other = mgw_recorder_new (f->pool, f->dir, &h2);
  s.other = other;
  other_path = path_of (f, "20261203-164225-13");

  tick_id = g_timeout_add (1, tick_cb, &s);
  g_timeout_add (1, push_cb, &s);
  wait_until (pushed_all, &s, "10 MiB pushed");
  /* The main loop ran all along; the disk took almost nothing. */
  g_assert_cmpuint (s.ticks, >=, 10);
  g_assert_cmpuint (c->dropped_events, >, 0);
  g_assert_cmpuint (c->dropped_bytes, >=, PUSH_TOTAL - 2 * MGW_RECORDER_PENDING_MAX);
  g_assert_cmpuint (c->dropped_bytes, ==, c->dropped_events * PUSH_CHUNK);
  g_assert_cmpuint (mgw_recorder_get_pending (slow), <=, MGW_RECORDER_PENDING_MAX);
  g_assert_cmpuint (mgw_recorder_pool_get_in_flight (f->pool), ==, 1);
  /* The other one waited for the slot: not even its file yet. */
  g_assert_false (g_file_test (other_path, G_FILE_TEST_EXISTS));
  g_assert_null (mgw_recorder_get_id (other));

  /* The disk takes again: what was lost is said. */
  s.reader = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (s.reader, >=, 0);
  g_unix_fd_add (s.reader, G_IO_IN | G_IO_HUP, read_cb, &s);
  wait_until (read_has_dropped, &s, "the dropped mark");
  finish_and_wait (slow, 20000000, "user disconnected");
  finish_and_wait (other, 20000000, "user disconnected");
  wait_until (read_eof, &s, "the end of the FIFO");
  g_source_remove (tick_id);
  close (s.reader);

  /* Screen bytes written and bytes lost make up all that was pushed. */
  r = parse_text ((const char *) s.read->data, s.read->len);
  for (guint i = 0; i < r->events->len; i++)
    {
      MgwRecordingEvent *e = event_at (r, i);

      if (e->kind == MGW_RECORDING_SERVER)
        {
          g_assert_cmpmem (e->data->data, e->data->len, s.chunk, PUSH_CHUNK);
          screen += e->data->len;
        }
      else if (g_strcmp0 (e->event, "dropped") == 0)
        {
          guint64 bytes, chunks;

          g_assert_cmpint (sscanf (e->detail, "{\"event\":\"dropped\",\"bytes\":%" G_GUINT64_FORMAT
                                   ",\"chunks\":%" G_GUINT64_FORMAT "}", &bytes, &chunks), ==, 2);
          g_assert_cmpuint (i, >, 0);
          dropped_bytes += bytes;
          dropped_chunks += chunks;
          marks++;
        }
    }
  g_assert_cmpuint (marks, >=, 1);
  g_assert_cmpuint (dropped_bytes, ==, c->dropped_bytes);
  g_assert_cmpuint (dropped_chunks, ==, c->dropped_events);
  g_assert_cmpuint (screen + dropped_bytes, ==, PUSH_TOTAL);
  assert_mark (event_at (r, r->events->len - 1), "end", NULL);
  r2 = read_recording (f, "20261203-164225-13");
  g_assert_cmpuint (c->bytes, ==, s.read->len + r2->text->len);
  /* The other recorder lost nothing: its events waited in its queue. */
  g_assert_cmpuint (r2->events->len, ==, PUSH_TOTAL / PUSH_CHUNK / 16 + 1);
  g_byte_array_unref (s.read);
  g_free (s.chunk);
  g_unlink (fifo);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/recorder/events", Fixture, NULL, setup, test_events, teardown);
  g_test_add ("/recorder/input-mask", Fixture, GINT_TO_POINTER (MGW_RECORDING_INPUT_MASK),
              setup, test_input, teardown);
  g_test_add ("/recorder/input-drop", Fixture, GINT_TO_POINTER (MGW_RECORDING_INPUT_DROP),
              setup, test_input, teardown);
  g_test_add ("/recorder/truncated", Fixture, GINT_TO_POINTER (FALSE), setup, test_truncated,
              teardown);
  g_test_add ("/recorder/truncated-name-taken", Fixture, GINT_TO_POINTER (TRUE), setup,
              test_truncated, teardown);
  g_test_add ("/recorder/long-chunk", Fixture, NULL, setup, test_long_chunk, teardown);
  g_test_add ("/recorder/name-taken", Fixture, NULL, setup, test_name_taken, teardown);
  g_test_add ("/recorder/no-directory", Fixture, NULL, setup, test_no_directory, teardown);
  g_test_add ("/recorder/disk-full", Fixture, NULL, setup, test_disk_full, teardown);
  g_test_add ("/recorder/slow-disk", Fixture, NULL, setup, test_slow_disk, teardown);
  return g_test_run ();
}
