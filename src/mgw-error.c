/* mgw-error.c: the project's GError domain. */
#include "config.h"

#include "mgw-error.h"

G_DEFINE_QUARK (mgw-error-quark, mgw_error)
