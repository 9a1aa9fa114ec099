/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-i18n.c: gettext set-up shared by moipgwd and moipgwctl.
 *
 * What people read is translated: Minitel status lines, the console,
 * moipgwctl, --help, errors printed at start. Log messages (g_message,
 * g_warning... to the journal) stay in English: they are what operators
 * search for, paste in bug reports and match with fail2ban. */
#include "config.h"

#include "mgw-i18n.h"

#include <glib/gi18n.h>
#include <locale.h>

void
mgw_i18n_init (void)
{
  const char *dir = g_getenv ("MOIPGW_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL && *dir != '\0' ? dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
