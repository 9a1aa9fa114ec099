/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-recording.c: the recording reader (mgw-recording.c), on every
 * line of the input as moipgwctl replay and the console read a file.
 *
 * A line is a header, an event or an error, never a crash; an event
 * that parses is written again and parses back to the same kind,
 * redirection and bytes (a chunk) or length (masked); a mark keeps its
 * event's name; a header that parses has a valid id. */
#include "fuzz-common.h"
#include "mgw-recording.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

static void
round_trip (const MgwRecordingEvent *event)
{
  g_autoptr(GString) out = g_string_new (NULL);
  MgwRecordingEvent back;

  if (event->kind == MGW_RECORDING_MARK)
    return;
  if (event->data != NULL)
    mgw_recording_append_chunk (out, event->time, event->kind, event->redirection,
                                event->data->data, event->data->len);
  else
    mgw_recording_append_masked (out, event->time, event->redirection, event->masked);
  FUZZ_CHECK (out->len > 0 && out->str[out->len - 1] == '\n');
  FUZZ_CHECK (mgw_recording_parse_event (out->str, out->len - 1, &back, NULL));
  FUZZ_CHECK (back.kind == event->kind);
  FUZZ_CHECK (back.redirection == event->redirection);
  if (event->data != NULL)
    FUZZ_CHECK (back.data != NULL && back.data->len == event->data->len &&
                memcmp (back.data->data, event->data->data, event->data->len) == 0);
  else
    FUZZ_CHECK (back.data == NULL && back.masked == event->masked);
  mgw_recording_event_clear (&back);
}

int
LLVMFuzzerTestOneInput (const guint8 *buf, size_t size)
{
  const char *p = (const char *) buf;
  const char *end = p + size;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (size_t) (end - p));
      gsize len = (gsize) ((nl != NULL ? nl : end) - p);
      MgwRecordingHeader header;
      MgwRecordingEvent event;

      if (mgw_recording_parse_header (p, len, &header, NULL))
        {
          FUZZ_CHECK (mgw_recording_id_is_valid (header.id));
          mgw_recording_header_clear (&header);
        }
      else
        FUZZ_CHECK (header.id == NULL);
      if (mgw_recording_parse_event (p, len, &event, NULL))
        {
          FUZZ_CHECK (event.kind <= MGW_RECORDING_MARK);
          FUZZ_CHECK (event.kind != MGW_RECORDING_MARK || event.event != NULL);
          round_trip (&event);
          mgw_recording_event_clear (&event);
        }
      else
        FUZZ_CHECK (event.data == NULL && event.event == NULL);
      p += len + 1;
    }
  return 0;
}
