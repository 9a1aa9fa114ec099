/* mgw-error.h: the project's GError domain. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MGW_ERROR (mgw_error_quark ())

typedef enum {
  MGW_ERROR_FAILED,
  MGW_ERROR_CONFIG,       /* bad value, unknown key, port clash */
  MGW_ERROR_BAD_INPUT,    /* a frame or byte sequence we refuse */
  MGW_ERROR_OVERFLOW,     /* an output queue exceeded its bound */
  MGW_ERROR_CLOSED,       /* the peer went away */
  MGW_ERROR_TIMED_OUT,
  MGW_ERROR_FULL,         /* too many sessions or file descriptors */
} MgwError;

GQuark mgw_error_quark (void);

G_END_DECLS
