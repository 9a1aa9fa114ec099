/* SPDX-License-Identifier: GPL-3.0-or-later */
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
} MgwError;

GQuark mgw_error_quark (void);

/* The largest JSON file the gateway reads (neverbanned.json,
 * GatewayConfig.json; banned.json has the same bound). */
#define MGW_JSON_FILE_MAX (16 * 1024 * 1024)
/* moipgw.conf: a few kilobytes, written by hand. */
#define MGW_CONFIG_FILE_MAX (1024 * 1024)

typedef enum {
  MGW_FILE_DEFAULT    = 0,
  MGW_FILE_NO_SYMLINK = 1 << 0,   /* state files: a symbolic link is refused (O_NOFOLLOW) */
} MgwFileFlags;

gboolean mgw_file_get_contents_max (const char    *path,
                                    gsize          max,
                                    MgwFileFlags   flags,
                                    char         **contents,
                                    gsize         *length,
                                    GError       **error);

/* cause->message, but a JSON parser error in our words ("line 3,
 * column 7: a comma is missing"), never quoting the text it read. */
char    *mgw_error_describe        (const GError  *cause);
/* error (MGW_ERROR_CONFIG): "PATH: what cause says", the path once even
 * when cause names it already, and a JSON parser error in our words,
 * with its line and column but never the file's text. */
void     mgw_error_set_in_file     (GError       **error,
                                    const char    *path,
                                    const GError  *cause);

/* Replaces path with data atomically and durably: a temporary
 * "PATH.tmp-XXXXXX" (mode 0600) written and fsync()ed, renamed over path,
 * the directory fsync()ed. A crash leaves path whole, old or new, and at
 * worst a temporary that mgw_file_remove_temporaries() removes. */
gboolean mgw_file_replace          (const char    *path,
                                    const void    *data,
                                    gsize          len,
                                    GError       **error);
/* Removes the temporaries of mgw_file_replace (path) a crash left behind
 * (regular files only); returns how many. */
guint    mgw_file_remove_temporaries (const char  *path);

/* Untrusted bytes, printable in an error message (64 at most). */
char    *mgw_error_escape (const char *text,
                           gsize       len);

G_END_DECLS
