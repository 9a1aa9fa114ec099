/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-pacer.c: one coarse tick for every paced link.
 *
 * Links paced at a Minitel's speed that have output waiting for credit
 * register here; a single timer, running only while some link waits,
 * wakes them all every MGW_THROTTLE_TICK_US. A thousand users at 1200
 * baud cost ten wake-ups a second, not ten thousand. */
#include "config.h"

#include "mgw-pacer.h"
#include "mgw-throttle.h"

struct _MgwPacer
{
  MgwPacerFunc  func;
  GHashTable   *waiting;   /* set of links */
  GPtrArray    *due;       /* during a tick: the links being woken */
  guint         tick_id;
};

static gboolean
tick_cb (gpointer user_data)
{
  MgwPacer *pacer = user_data;
  GHashTableIter iter;
  gpointer link;

  /* Links still short of credit register again from func; a link that
   * goes away meanwhile is cleared from `due` by mgw_pacer_forget(). */
  g_hash_table_iter_init (&iter, pacer->waiting);
  while (g_hash_table_iter_next (&iter, &link, NULL))
    g_ptr_array_add (pacer->due, link);
  g_hash_table_remove_all (pacer->waiting);
  for (guint i = 0; i < pacer->due->len; i++)
    if (pacer->due->pdata[i] != NULL)
      pacer->func (pacer->due->pdata[i]);
  g_ptr_array_set_size (pacer->due, 0);
  if (g_hash_table_size (pacer->waiting) > 0)
    return G_SOURCE_CONTINUE;
  pacer->tick_id = 0;
  return G_SOURCE_REMOVE;
}

MgwPacer *
mgw_pacer_new (MgwPacerFunc func)
{
  MgwPacer *pacer;

  g_return_val_if_fail (func != NULL, NULL);

  pacer = g_new0 (MgwPacer, 1);
  pacer->func = func;
  pacer->waiting = g_hash_table_new (NULL, NULL);
  pacer->due = g_ptr_array_new ();
  return pacer;
}

void
mgw_pacer_free (MgwPacer *pacer)
{
  if (pacer == NULL)
    return;
  g_clear_handle_id (&pacer->tick_id, g_source_remove);
  g_hash_table_unref (pacer->waiting);
  g_ptr_array_unref (pacer->due);
  g_free (pacer);
}

void
mgw_pacer_wait (MgwPacer *pacer,
                gpointer  link)
{
  g_return_if_fail (pacer != NULL && link != NULL);

  g_hash_table_add (pacer->waiting, link);
  if (pacer->tick_id == 0)
    pacer->tick_id = g_timeout_add (MGW_THROTTLE_TICK_US / 1000, tick_cb, pacer);
}

/* A link that closes or goes away leaves the set. */
void
mgw_pacer_forget (MgwPacer *pacer,
                  gpointer  link)
{
  g_return_if_fail (pacer != NULL);

  g_hash_table_remove (pacer->waiting, link);
  for (guint i = 0; i < pacer->due->len; i++)
    if (pacer->due->pdata[i] == link)
      pacer->due->pdata[i] = NULL;
}

guint
mgw_pacer_get_waiting (MgwPacer *pacer)
{
  g_return_val_if_fail (pacer != NULL, 0);

  return g_hash_table_size (pacer->waiting);
}
