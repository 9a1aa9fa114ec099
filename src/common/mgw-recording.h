/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-recording.h: the session recording format (docs/protocol.md,
 * Session recordings): JSON lines, a header then one event a line, each
 * byte of a chunk one code point U+0000 to U+00FF of a JSON string.
 * Encoder for the daemon, parser and replay pacing for the daemon and
 * moipgwctl. Pure: text in, values out, no I/O, no clock. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MGW_RECORDING_VERSION   1
#define MGW_RECORDING_SUFFIX    ".mgwrec"
/* No line the gateway writes is longer: a chunk is at most 64 KiB, six
 * characters a byte at worst. */
#define MGW_RECORDING_LINE_MAX  (400 * 1024)
/* [recording] max-size at least: a header and a few lines. */
#define MGW_RECORDING_MIN_SIZE  4096

typedef enum {
  MGW_RECORDING_USER,      /* "u": user → gateway (to the default server or the target) */
  MGW_RECORDING_SERVER,    /* "s": default server → user */
  MGW_RECORDING_TARGET,    /* "t": redirect target → user */
  MGW_RECORDING_GATEWAY,   /* "g": the gateway's own bytes → user (status lines) */
  MGW_RECORDING_MARK,      /* "m": what happened (a redirection, its end, a loss...) */
} MgwRecordingKind;

/* What users typed, as [recording] input says. */
typedef enum {
  MGW_RECORDING_INPUT_KEEP,
  MGW_RECORDING_INPUT_MASK,   /* the time and the byte count, not the bytes */
  MGW_RECORDING_INPUT_DROP,   /* nothing */
} MgwRecordingInput;

const char *mgw_recording_input_to_string   (MgwRecordingInput  input);
gboolean    mgw_recording_input_from_string (const char        *text,
                                             MgwRecordingInput *input);

typedef struct {
  char              *id;
  guint              session;
  char              *peer;          /* the user's address */
  guint16            port;
  char              *access;        /* "Telnet", "WS", "raw" */
  gint64             start;         /* the session's start, µs since the epoch */
  gint64             offset;        /* the session's age when recording began, µs */
  char              *gateway;       /* "moipgw 1.2" */
  MgwRecordingInput  input;
  guint64            max_size;      /* bytes; 0: none */
} MgwRecordingHeader;

void     mgw_recording_header_clear (MgwRecordingHeader *header);
/* The header line, '\n' included. */
void     mgw_recording_append_header (GString                  *out,
                                      const MgwRecordingHeader *header);
gboolean mgw_recording_parse_header  (const char               *line,
                                      gsize                     len,
                                      MgwRecordingHeader       *header,
                                      GError                  **error);

/* An event line, '\n' included. `time`: µs since the session's start;
 * `redirection`: the redirection the chunk belongs to (1 the first),
 * 0 outside one. */
void     mgw_recording_append_chunk  (GString          *out,
                                      gint64            time,
                                      MgwRecordingKind  kind,
                                      guint             redirection,
                                      const guint8     *data,
                                      gsize             len);
/* A user chunk under input=mask: its time and length only. */
void     mgw_recording_append_masked (GString          *out,
                                      gint64            time,
                                      guint             redirection,
                                      gsize             len);
/* A mark: {"event": event, name: value...}, the pairs a NULL-ended
 * list of (const char *name, const char *string value) or, for a name
 * starting with '#', (name without the '#', guint64 value). */
void     mgw_recording_append_mark   (GString          *out,
                                      gint64            time,
                                      const char       *event,
                                      ...) G_GNUC_NULL_TERMINATED;

typedef struct {
  gint64            time;          /* µs since the session's start */
  MgwRecordingKind  kind;
  guint             redirection;
  GByteArray       *data;          /* chunks, unless masked */
  gsize             masked;        /* a masked user chunk's length */
  char             *event;         /* marks: the event's name */
  char             *detail;        /* marks: the whole object, as JSON */
} MgwRecordingEvent;

void     mgw_recording_event_clear   (MgwRecordingEvent *event);
/* One line (its '\n' not included). A line that is not an event of
 * this format is an error (MGW_ERROR_BAD_INPUT) that names what is
 * wrong, never quoting the line. */
gboolean mgw_recording_parse_event   (const char        *line,
                                      gsize              len,
                                      MgwRecordingEvent *event,
                                      GError           **error);
/* The bytes the user's screen received: server, target and gateway
 * chunks. */
gboolean mgw_recording_kind_is_screen (MgwRecordingKind kind);

/* A recording's id: its file's name without MGW_RECORDING_SUFFIX,
 * "YYYYMMDD-HHMMSS-SESSION" (UTC) and, when that exists, "-N". */
char    *mgw_recording_make_id       (gint64            start,
                                      guint             session,
                                      guint             attempt);
/* Only digits and dashes, 1 to 64 characters: never a path. */
gboolean mgw_recording_id_is_valid   (const char       *id);

/* Replay pacing: when each piece of output is due, in µs from the
 * replay's start. speed: 2 twice as fast, 0 at once; baud: at most
 * baud / 10 bytes a second (a Minitel's serial line), 0: no limit;
 * idle_max: longer pauses are cut to it, 0: kept. */
typedef struct {
  double   speed;
  guint    baud;
  gint64   idle_max;
  /* state */
  gboolean started;
  gint64   last_time;      /* the previous event's recorded time */
  gint64   due;            /* when the previous output was due */
  gint64   line_free;      /* when the serial line is done with it (baud) */
} MgwReplayPace;

void     mgw_replay_pace_init        (MgwReplayPace    *pace,
                                      double            speed,
                                      guint             baud,
                                      gint64            idle_max);
/* When the first byte of an event recorded at `time` with `len` screen
 * bytes is due; also books the line for them under baud. */
gint64   mgw_replay_pace_next        (MgwReplayPace    *pace,
                                      gint64            time,
                                      gsize             len);
/* How many of an event's `len` bytes, due at `due`, are due by `now`
 * (µs from the start): under baud, one every 10 / baud s; all of them
 * otherwise. */
gsize    mgw_replay_pace_allowed     (const MgwReplayPace *pace,
                                      gint64               due,
                                      gint64               now,
                                      gsize                len);

G_END_DECLS
