/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-telnet-codec.c: unit tests for the Telnet codec (mgw-telnet-codec.c):
 * start bytes, RFC 1143 negotiation in both roles, loop safety, command
 * stripping, split input, floods, bounded subnegotiation, 0xFF escaping. */

#include <glib.h>
#include <string.h>

#include "mgw-telnet-codec.h"

#define SE    240
#define NOP   241
#define DM    242
#define BRK   243
#define IP    244
#define AO    245
#define AYT   246
#define EC    247
#define EL    248
#define GA    249
#define SB    250
#define WILL  251
#define WONT  252
#define DO    253
#define DONT  254
#define IAC   255

#define ECHO      1
#define SGA       3
#define TTYPE     24
#define NAWS      31
#define LINEMODE  34

/* Placeholder option in the negotiation table: expanded to each refused
 * option (TTYPE, NAWS, LINEMODE). */
#define REFUSED_OPT 0

/* Upper bound on rounds for the loop tests: the codec lets the peer switch
 * an accepted option on 8 times per side, then refuses it once, then stays
 * silent. */
#define MAX_ROUNDS 24

#define assert_bytes(array, ...)                                        \
  G_STMT_START {                                                        \
    static const guint8 want_[] = { __VA_ARGS__ };                      \
    g_assert_cmpmem ((array)->data, (array)->len, want_, sizeof want_); \
  } G_STMT_END

#define assert_empty(array) g_assert_cmpuint ((array)->len, ==, 0)

static void
decode (MgwTelnetCodec *codec,
        const guint8   *in,
        gsize           len,
        GByteArray     *data,
        GByteArray     *reply)
{
  mgw_telnet_codec_decode (codec, in, len, data, reply);
}

/* ---- start ---------------------------------------------------------- */

static void
test_start_server_will_echo (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_WILL_ECHO);
  g_autoptr(GByteArray) reply = g_byte_array_new ();

  mgw_telnet_codec_start (codec, reply);
  assert_bytes (reply, 0xFF, 0xFB, 0x01, 0xFF, 0xFB, 0x03);
  /* Pending requests are not "enabled" yet. */
  g_assert_false (mgw_telnet_codec_us_enabled (codec, ECHO));
  g_assert_false (mgw_telnet_codec_us_enabled (codec, SGA));
}

static void
test_start_server_do_echo (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_DO_ECHO);
  g_autoptr(GByteArray) reply = g_byte_array_new ();

  mgw_telnet_codec_start (codec, reply);
  assert_bytes (reply, 0xFF, 0xFD, 0x01);
  g_assert_false (mgw_telnet_codec_him_enabled (codec, ECHO));
}

static void
test_start_server_none (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) reply = g_byte_array_new ();

  mgw_telnet_codec_start (codec, reply);
  assert_empty (reply);
}

static void
test_start_client (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_CLIENT,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) reply = g_byte_array_new ();

  mgw_telnet_codec_start (codec, reply);
  assert_empty (reply);
}

static void
test_start_appends (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_DO_ECHO);
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  static const guint8 before[] = { 'x' };

  g_byte_array_append (reply, before, sizeof before);
  mgw_telnet_codec_start (codec, reply);
  assert_bytes (reply, 'x', 0xFF, 0xFD, 0x01);
}

/* ---- negotiation table ---------------------------------------------- */

typedef struct {
  guint8 verb;
  guint8 opt;
} Cmd;

typedef struct {
  const char *group;
  MgwTelnetRole role;
  MgwTelnetStart start;
  Cmd pre[6];         /* fed first (after start); verb 0 ends the list */
  Cmd in;             /* the command under test */
  guint8 answer;      /* verb of the expected reply (option in.opt), 0 = none */
  gboolean us;        /* expected state of in.opt afterwards */
  gboolean him;
} NegCase;

#define S_WE  MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_WILL_ECHO
#define S_DE  MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_DO_ECHO
#define S_NO  MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_NONE
#define C_NO  MGW_TELNET_ROLE_CLIENT, MGW_TELNET_START_NONE
#define X     REFUSED_OPT
#define T     TRUE
#define F     FALSE

static const NegCase neg_cases[] = {
  /* Server, default start (WILL ECHO, WILL SGA pending). */
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { DO, ECHO },     0,    T, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { DONT, ECHO },   0,    F, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { WILL, ECHO },   DONT, F, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { WONT, ECHO },   0,    F, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { DO, SGA },      0,    T, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { DONT, SGA },    0,    F, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { WILL, SGA },    DO,   F, T },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { WONT, SGA },    0,    F, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { DO, X },        WONT, F, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { DONT, X },      0,    F, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { WILL, X },      DONT, F, F },
  { "server-will-echo/before-ack", S_WE, { { 0 } }, { WONT, X },      0,    F, F },

  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA } }, { DO, ECHO },   0,    T, F },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA } }, { DONT, ECHO }, WONT, F, F },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA } }, { WILL, ECHO }, DONT, T, F },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA } }, { WONT, ECHO }, 0,    T, F },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA } }, { DO, SGA },    0,    T, F },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA } }, { DONT, SGA },  WONT, F, F },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA } }, { WILL, SGA },  DO,   T, T },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA } }, { WONT, SGA },  0,    T, F },
  /* For refused options, "after" is after our refusal was sent. */
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA }, { DO, X } },   { DO, X },   0, F, F },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA }, { DO, X } },   { DONT, X }, 0, F, F },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA }, { WILL, X } }, { WILL, X }, 0, F, F },
  { "server-will-echo/after-ack", S_WE, { { DO, ECHO }, { DO, SGA }, { WILL, X } }, { WONT, X }, 0, F, F },

  /* Server, legacy start (DO ECHO pending; peer WILL ECHO accepted). */
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { DO, ECHO },     WILL, T, F },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { DONT, ECHO },   0,    F, F },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { WILL, ECHO },   0,    F, T },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { WONT, ECHO },   0,    F, F },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { DO, SGA },      WILL, T, F },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { DONT, SGA },    0,    F, F },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { WILL, SGA },    DO,   F, T },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { WONT, SGA },    0,    F, F },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { DO, X },        WONT, F, F },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { DONT, X },      0,    F, F },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { WILL, X },      DONT, F, F },
  { "server-do-echo/before-ack", S_DE, { { 0 } }, { WONT, X },      0,    F, F },

  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO } },              { DO, ECHO },   WILL, T, T },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO } },              { DONT, ECHO }, 0,    F, T },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO } },              { WILL, ECHO }, 0,    F, T },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO } },              { WONT, ECHO }, DONT, F, F },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO }, { WILL, SGA } }, { DO, SGA },   WILL, T, T },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO }, { WILL, SGA } }, { DONT, SGA }, 0,    F, T },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO }, { WILL, SGA } }, { WILL, SGA }, 0,    F, T },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO }, { WILL, SGA } }, { WONT, SGA }, DONT, F, F },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO }, { DO, X } },   { DO, X },   0, F, F },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO }, { DO, X } },   { DONT, X }, 0, F, F },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO }, { WILL, X } }, { WILL, X }, 0, F, F },
  { "server-do-echo/after-ack", S_DE, { { WILL, ECHO }, { WILL, X } }, { WONT, X }, 0, F, F },

  /* Server with no initial request: the peer asks. */
  { "server-none/before", S_NO, { { 0 } }, { DO, ECHO },     WILL, T, F },
  { "server-none/before", S_NO, { { 0 } }, { DONT, ECHO },   0,    F, F },
  { "server-none/before", S_NO, { { 0 } }, { WILL, ECHO },   DONT, F, F },
  { "server-none/before", S_NO, { { 0 } }, { WONT, ECHO },   0,    F, F },
  { "server-none/before", S_NO, { { 0 } }, { DO, SGA },      WILL, T, F },
  { "server-none/before", S_NO, { { 0 } }, { DONT, SGA },    0,    F, F },
  { "server-none/before", S_NO, { { 0 } }, { WILL, SGA },    DO,   F, T },
  { "server-none/before", S_NO, { { 0 } }, { WONT, SGA },    0,    F, F },
  { "server-none/before", S_NO, { { 0 } }, { DO, X },        WONT, F, F },
  { "server-none/before", S_NO, { { 0 } }, { DONT, X },      0,    F, F },
  { "server-none/before", S_NO, { { 0 } }, { WILL, X },      DONT, F, F },
  { "server-none/before", S_NO, { { 0 } }, { WONT, X },      0,    F, F },

  { "server-none/after", S_NO, { { DO, ECHO }, { DO, SGA }, { WILL, SGA } }, { DO, ECHO },   0,    T, F },
  { "server-none/after", S_NO, { { DO, ECHO }, { DO, SGA }, { WILL, SGA } }, { DONT, ECHO }, WONT, F, F },
  { "server-none/after", S_NO, { { DO, ECHO }, { DO, SGA }, { WILL, SGA } }, { WILL, ECHO }, DONT, T, F },
  { "server-none/after", S_NO, { { DO, ECHO }, { DO, SGA }, { WILL, SGA } }, { WONT, ECHO }, 0,    T, F },
  { "server-none/after", S_NO, { { DO, ECHO }, { DO, SGA }, { WILL, SGA } }, { DO, SGA },    0,    T, T },
  { "server-none/after", S_NO, { { DO, ECHO }, { DO, SGA }, { WILL, SGA } }, { DONT, SGA },  WONT, F, T },
  { "server-none/after", S_NO, { { DO, ECHO }, { DO, SGA }, { WILL, SGA } }, { WILL, SGA },  0,    T, T },
  { "server-none/after", S_NO, { { DO, ECHO }, { DO, SGA }, { WILL, SGA } }, { WONT, SGA },  DONT, T, F },
  { "server-none/after", S_NO, { { DO, X } },   { DO, X },   0, F, F },
  { "server-none/after", S_NO, { { DO, X } },   { DONT, X }, 0, F, F },
  { "server-none/after", S_NO, { { WILL, X } }, { WILL, X }, 0, F, F },
  { "server-none/after", S_NO, { { WILL, X } }, { WONT, X }, 0, F, F },

  /* Client (telnet:// target): no initial request. */
  { "client/before", C_NO, { { 0 } }, { DO, ECHO },     WONT, F, F },
  { "client/before", C_NO, { { 0 } }, { DONT, ECHO },   0,    F, F },
  { "client/before", C_NO, { { 0 } }, { WILL, ECHO },   DO,   F, T },
  { "client/before", C_NO, { { 0 } }, { WONT, ECHO },   0,    F, F },
  { "client/before", C_NO, { { 0 } }, { DO, SGA },      WILL, T, F },
  { "client/before", C_NO, { { 0 } }, { DONT, SGA },    0,    F, F },
  { "client/before", C_NO, { { 0 } }, { WILL, SGA },    DO,   F, T },
  { "client/before", C_NO, { { 0 } }, { WONT, SGA },    0,    F, F },
  { "client/before", C_NO, { { 0 } }, { DO, X },        WONT, F, F },
  { "client/before", C_NO, { { 0 } }, { DONT, X },      0,    F, F },
  { "client/before", C_NO, { { 0 } }, { WILL, X },      DONT, F, F },
  { "client/before", C_NO, { { 0 } }, { WONT, X },      0,    F, F },

  { "client/after", C_NO, { { WILL, ECHO }, { WILL, SGA }, { DO, SGA }, { DO, ECHO } }, { DO, ECHO },   0,    F, T },
  { "client/after", C_NO, { { WILL, ECHO }, { WILL, SGA }, { DO, SGA }, { DO, ECHO } }, { DONT, ECHO }, 0,    F, T },
  { "client/after", C_NO, { { WILL, ECHO }, { WILL, SGA }, { DO, SGA }, { DO, ECHO } }, { WILL, ECHO }, 0,    F, T },
  { "client/after", C_NO, { { WILL, ECHO }, { WILL, SGA }, { DO, SGA }, { DO, ECHO } }, { WONT, ECHO }, DONT, F, F },
  { "client/after", C_NO, { { WILL, ECHO }, { WILL, SGA }, { DO, SGA }, { DO, ECHO } }, { DO, SGA },    0,    T, T },
  { "client/after", C_NO, { { WILL, ECHO }, { WILL, SGA }, { DO, SGA }, { DO, ECHO } }, { DONT, SGA },  WONT, F, T },
  { "client/after", C_NO, { { WILL, ECHO }, { WILL, SGA }, { DO, SGA }, { DO, ECHO } }, { WILL, SGA },  0,    T, T },
  { "client/after", C_NO, { { WILL, ECHO }, { WILL, SGA }, { DO, SGA }, { DO, ECHO } }, { WONT, SGA },  DONT, T, F },
  { "client/after", C_NO, { { DO, X } },   { DO, X },   0, F, F },
  { "client/after", C_NO, { { DO, X } },   { DONT, X }, 0, F, F },
  { "client/after", C_NO, { { WILL, X } }, { WILL, X }, 0, F, F },
  { "client/after", C_NO, { { WILL, X } }, { WONT, X }, 0, F, F },
};

#undef S_WE
#undef S_DE
#undef S_NO
#undef C_NO
#undef X
#undef T
#undef F

static const char *
verb_name (guint8 verb)
{
  switch (verb)
    {
    case WILL: return "WILL";
    case WONT: return "WONT";
    case DO: return "DO";
    case DONT: return "DONT";
    default: g_assert_not_reached ();
    }
}

static const char *
opt_name (guint8 opt)
{
  switch (opt)
    {
    case ECHO: return "ECHO";
    case SGA: return "SGA";
    case TTYPE: return "TTYPE";
    case NAWS: return "NAWS";
    case LINEMODE: return "LINEMODE";
    default: g_assert_not_reached ();
    }
}

static void
test_negotiation (gconstpointer user_data)
{
  const NegCase *c = user_data;
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (c->role, c->start);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  guint8 in[3] = { IAC, c->in.verb, c->in.opt };

  mgw_telnet_codec_start (codec, reply);
  for (gsize i = 0; i < G_N_ELEMENTS (c->pre) && c->pre[i].verb != 0; i++)
    {
      guint8 pre[3] = { IAC, c->pre[i].verb, c->pre[i].opt };

      decode (codec, pre, sizeof pre, data, reply);
    }
  g_byte_array_set_size (reply, 0);

  decode (codec, in, sizeof in, data, reply);

  assert_empty (data);
  if (c->answer == 0)
    {
      assert_empty (reply);
    }
  else
    {
      guint8 want[3] = { IAC, c->answer, c->in.opt };

      g_assert_cmpmem (reply->data, reply->len, want, sizeof want);
    }
  g_assert_cmpint (mgw_telnet_codec_us_enabled (codec, c->in.opt), ==, c->us);
  g_assert_cmpint (mgw_telnet_codec_him_enabled (codec, c->in.opt), ==, c->him);

  /* Sending the same command again never gets a second answer. */
  g_byte_array_set_size (reply, 0);
  decode (codec, in, sizeof in, data, reply);
  assert_empty (reply);
  assert_empty (data);
  g_assert_cmpint (mgw_telnet_codec_us_enabled (codec, c->in.opt), ==, c->us);
  g_assert_cmpint (mgw_telnet_codec_him_enabled (codec, c->in.opt), ==, c->him);
}

static void
add_negotiation_tests (void)
{
  static const guint8 refused_opts[] = { TTYPE, NAWS, LINEMODE };

  for (gsize i = 0; i < G_N_ELEMENTS (neg_cases); i++)
    {
      const NegCase *c = &neg_cases[i];
      gsize n = c->in.opt == REFUSED_OPT ? G_N_ELEMENTS (refused_opts) : 1;

      for (gsize k = 0; k < n; k++)
        {
          NegCase *copy = g_memdup2 (c, sizeof *c);
          g_autofree char *path = NULL;

          if (c->in.opt == REFUSED_OPT)
            {
              copy->in.opt = refused_opts[k];
              for (gsize j = 0; j < G_N_ELEMENTS (copy->pre); j++)
                if (copy->pre[j].verb != 0 && copy->pre[j].opt == REFUSED_OPT)
                  copy->pre[j].opt = refused_opts[k];
            }
          path = g_strdup_printf ("/telnet-codec/negotiation/%s/%s-%s",
                                  copy->group, verb_name (copy->in.verb),
                                  opt_name (copy->in.opt));
          g_test_add_data_func_full (path, copy, test_negotiation, g_free);
        }
    }
}

/* ---- acknowledgements and repeats ----------------------------------- */

static void
test_ack_not_answered (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_WILL_ECHO);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  static const guint8 ack[] = { IAC, DO, ECHO, IAC, DO, SGA };

  mgw_telnet_codec_start (codec, reply);
  g_byte_array_set_size (reply, 0);
  decode (codec, ack, sizeof ack, data, reply);
  assert_empty (reply);
  assert_empty (data);
  g_assert_true (mgw_telnet_codec_us_enabled (codec, ECHO));
  g_assert_true (mgw_telnet_codec_us_enabled (codec, SGA));
  g_assert_cmpuint (mgw_telnet_codec_get_refused (codec), ==, 0);
}

static void
test_ack_refusal_not_answered (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_WILL_ECHO);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  /* netkit telnet style: refuses our ECHO, accepts SGA. */
  static const guint8 ans[] = { IAC, DONT, ECHO, IAC, DO, SGA };

  mgw_telnet_codec_start (codec, reply);
  g_byte_array_set_size (reply, 0);
  decode (codec, ans, sizeof ans, data, reply);
  assert_empty (reply);
  assert_empty (data);
  g_assert_false (mgw_telnet_codec_us_enabled (codec, ECHO));
  g_assert_true (mgw_telnet_codec_us_enabled (codec, SGA));
  g_assert_cmpuint (mgw_telnet_codec_get_refused (codec), ==, 0);
}

static void
test_ack_do_echo_refused (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_DO_ECHO);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  static const guint8 ans[] = { IAC, WONT, ECHO };

  mgw_telnet_codec_start (codec, reply);
  g_byte_array_set_size (reply, 0);
  decode (codec, ans, sizeof ans, data, reply);
  assert_empty (reply);
  g_assert_false (mgw_telnet_codec_him_enabled (codec, ECHO));
}

static void
test_repeat_requests (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_WILL_ECHO);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  static const guint8 reqs[] = {
    IAC, DO, TTYPE, IAC, WILL, NAWS, IAC, WILL, SGA, IAC, DO, ECHO,
    IAC, DO, LINEMODE, IAC, WILL, ECHO,
  };

  mgw_telnet_codec_start (codec, reply);
  g_byte_array_set_size (reply, 0);
  decode (codec, reqs, sizeof reqs, data, reply);
  assert_bytes (reply,
                IAC, WONT, TTYPE, IAC, DONT, NAWS, IAC, DO, SGA,
                IAC, WONT, LINEMODE, IAC, DONT, ECHO);
  g_assert_cmpuint (mgw_telnet_codec_get_refused (codec), ==, 4);

  for (int i = 0; i < 100; i++)
    {
      g_byte_array_set_size (reply, 0);
      decode (codec, reqs, sizeof reqs, data, reply);
      assert_empty (reply);
    }
  assert_empty (data);
  g_assert_cmpuint (mgw_telnet_codec_get_refused (codec), ==, 4);
  g_assert_true (mgw_telnet_codec_us_enabled (codec, ECHO));
  g_assert_true (mgw_telnet_codec_him_enabled (codec, SGA));
}

static void
test_refused_counter (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_CLIENT,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  static const guint8 in[] = {
    IAC, DO, ECHO,         /* refused */
    IAC, WILL, ECHO,       /* accepted */
    IAC, WONT, ECHO,       /* disable acknowledged: not a refusal */
    IAC, DO, TTYPE,        /* refused */
    IAC, WILL, TTYPE,      /* refused */
    IAC, DONT, NAWS,       /* nothing */
  };

  mgw_telnet_codec_start (codec, reply);
  decode (codec, in, sizeof in, data, reply);
  assert_bytes (reply,
                IAC, WONT, ECHO, IAC, DO, ECHO, IAC, DONT, ECHO,
                IAC, WONT, TTYPE, IAC, DONT, TTYPE);
  g_assert_cmpuint (mgw_telnet_codec_get_refused (codec), ==, 3);
}

/* ---- loops ---------------------------------------------------------- */

/* Runs two codecs back to back until neither has anything to say; returns
 * the number of rounds. */
static guint
run_back_to_back (MgwTelnetCodec *a,
                  MgwTelnetCodec *b)
{
  g_autoptr(GByteArray) a_out = g_byte_array_new ();
  g_autoptr(GByteArray) b_out = g_byte_array_new ();
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint rounds = 0;

  mgw_telnet_codec_start (a, a_out);
  mgw_telnet_codec_start (b, b_out);

  while (a_out->len > 0 || b_out->len > 0)
    {
      g_autoptr(GByteArray) a_next = g_byte_array_new ();
      g_autoptr(GByteArray) b_next = g_byte_array_new ();

      g_assert_cmpuint (++rounds, <=, MAX_ROUNDS);
      decode (b, a_out->data, a_out->len, data, b_next);
      decode (a, b_out->data, b_out->len, data, a_next);
      assert_empty (data);
      g_byte_array_set_size (a_out, 0);
      g_byte_array_set_size (b_out, 0);
      g_byte_array_append (a_out, a_next->data, a_next->len);
      g_byte_array_append (b_out, b_next->data, b_next->len);
    }

  return rounds;
}

static void
test_loop_back_to_back (void)
{
  {
    g_autoptr(MgwTelnetCodec) s = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                        MGW_TELNET_START_WILL_ECHO);
    g_autoptr(MgwTelnetCodec) c = mgw_telnet_codec_new (MGW_TELNET_ROLE_CLIENT,
                                                        MGW_TELNET_START_NONE);

    g_assert_cmpuint (run_back_to_back (s, c), <=, 2);
    g_assert_true (mgw_telnet_codec_us_enabled (s, ECHO));
    g_assert_true (mgw_telnet_codec_us_enabled (s, SGA));
    g_assert_true (mgw_telnet_codec_him_enabled (c, ECHO));
    g_assert_true (mgw_telnet_codec_him_enabled (c, SGA));
  }
  {
    g_autoptr(MgwTelnetCodec) s = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                        MGW_TELNET_START_DO_ECHO);
    g_autoptr(MgwTelnetCodec) c = mgw_telnet_codec_new (MGW_TELNET_ROLE_CLIENT,
                                                        MGW_TELNET_START_NONE);

    g_assert_cmpuint (run_back_to_back (s, c), <=, 2);
    g_assert_false (mgw_telnet_codec_him_enabled (s, ECHO));
    g_assert_false (mgw_telnet_codec_us_enabled (c, ECHO));
  }
  {
    g_autoptr(MgwTelnetCodec) s1 = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                         MGW_TELNET_START_WILL_ECHO);
    g_autoptr(MgwTelnetCodec) s2 = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                         MGW_TELNET_START_WILL_ECHO);

    /* Both want to echo and refuse the other's echo. */
    g_assert_cmpuint (run_back_to_back (s1, s2), <=, 3);
    g_assert_false (mgw_telnet_codec_us_enabled (s1, ECHO));
    g_assert_false (mgw_telnet_codec_him_enabled (s1, ECHO));
    g_assert_true (mgw_telnet_codec_us_enabled (s1, SGA));
    g_assert_true (mgw_telnet_codec_him_enabled (s1, SGA));
  }
  {
    g_autoptr(MgwTelnetCodec) s1 = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                         MGW_TELNET_START_DO_ECHO);
    g_autoptr(MgwTelnetCodec) s2 = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                         MGW_TELNET_START_WILL_ECHO);

    g_assert_cmpuint (run_back_to_back (s1, s2), <=, 3);
  }
  {
    g_autoptr(MgwTelnetCodec) c1 = mgw_telnet_codec_new (MGW_TELNET_ROLE_CLIENT,
                                                         MGW_TELNET_START_NONE);
    g_autoptr(MgwTelnetCodec) c2 = mgw_telnet_codec_new (MGW_TELNET_ROLE_CLIENT,
                                                         MGW_TELNET_START_NONE);

    g_assert_cmpuint (run_back_to_back (c1, c2), ==, 0);
  }
}

/* A hostile peer: answers each of our commands with its opposite
 * (WILL -> DONT, WONT -> DO, DO -> WONT, DONT -> WILL). */
static void
invert (GByteArray *ours,
        GByteArray *theirs)
{
  g_assert_cmpuint (ours->len % 3, ==, 0);
  for (guint i = 0; i < ours->len; i += 3)
    {
      guint8 cmd[3] = { IAC, 0, ours->data[i + 2] };

      g_assert_cmpuint (ours->data[i], ==, IAC);
      switch (ours->data[i + 1])
        {
        case WILL: cmd[1] = DONT; break;
        case WONT: cmd[1] = DO; break;
        case DO: cmd[1] = WONT; break;
        case DONT: cmd[1] = WILL; break;
        default: g_assert_not_reached ();
        }
      g_byte_array_append (theirs, cmd, sizeof cmd);
    }
}

static void
run_hostile (MgwTelnetRole  role,
             MgwTelnetStart start)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (role, start);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) ours = g_byte_array_new ();
  g_autoptr(GByteArray) theirs = g_byte_array_new ();
  static const guint8 opts[] = { ECHO, SGA, TTYPE, NAWS };
  static const guint8 verbs[] = { DO, WILL, DONT, WONT };
  gsize total = 0;
  guint rounds = 0;

  /* The peer opens with every request it can think of. */
  for (gsize v = 0; v < G_N_ELEMENTS (verbs); v++)
    for (gsize o = 0; o < G_N_ELEMENTS (opts); o++)
      {
        guint8 cmd[3] = { IAC, verbs[v], opts[o] };

        g_byte_array_append (theirs, cmd, sizeof cmd);
      }

  mgw_telnet_codec_start (codec, ours);
  invert (ours, theirs);

  while (theirs->len > 0)
    {
      g_assert_cmpuint (++rounds, <=, MAX_ROUNDS);
      g_byte_array_set_size (ours, 0);
      decode (codec, theirs->data, theirs->len, data, ours);
      total += ours->len;
      g_byte_array_set_size (theirs, 0);
      invert (ours, theirs);
    }

  assert_empty (data);
  g_assert_cmpuint (total, <=, 3 * 2 * MAX_ROUNDS * G_N_ELEMENTS (opts));
}

static void
test_loop_hostile_opposite (void)
{
  run_hostile (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_WILL_ECHO);
  run_hostile (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_DO_ECHO);
  run_hostile (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_NONE);
  run_hostile (MGW_TELNET_ROLE_CLIENT, MGW_TELNET_START_NONE);
}

static void
flip (MgwTelnetRole  role,
      MgwTelnetStart start,
      guint8         on,
      guint8         off,
      guint8         opt,
      gboolean       one_buffer)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (role, start);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  g_autoptr(GByteArray) all = g_byte_array_new ();
  guint8 pair[6] = { IAC, on, opt, IAC, off, opt };
  gsize total;

  mgw_telnet_codec_start (codec, reply);
  g_byte_array_set_size (reply, 0);

  for (int i = 0; i < 1000; i++)
    g_byte_array_append (all, pair, sizeof pair);

  if (one_buffer)
    {
      decode (codec, all->data, all->len, data, reply);
    }
  else
    {
      for (guint i = 0; i < all->len; i += 3)
        decode (codec, all->data + i, 3, data, reply);
    }
  total = reply->len;

  assert_empty (data);
  /* At most: switching off what start() negotiated, then 8 switches on
   * and 8 off by the peer, then one refusal. */
  g_assert_cmpuint (total, <=, 3 * (1 + 2 * 8 + 1));

  /* And it has gone quiet for good. */
  g_byte_array_set_size (reply, 0);
  decode (codec, all->data, all->len, data, reply);
  assert_empty (reply);
}

static void
test_loop_flip_1000 (void)
{
  for (int one = 0; one <= 1; one++)
    {
      flip (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_WILL_ECHO, DO, DONT, ECHO, one);
      flip (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_WILL_ECHO, DONT, DO, ECHO, one);
      flip (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_WILL_ECHO, DO, DONT, SGA, one);
      flip (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_WILL_ECHO, WILL, WONT, SGA, one);
      flip (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_DO_ECHO, WILL, WONT, ECHO, one);
      flip (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_NONE, DO, DONT, TTYPE, one);
      flip (MGW_TELNET_ROLE_SERVER, MGW_TELNET_START_NONE, WILL, WONT, NAWS, one);
      flip (MGW_TELNET_ROLE_CLIENT, MGW_TELNET_START_NONE, WILL, WONT, ECHO, one);
      flip (MGW_TELNET_ROLE_CLIENT, MGW_TELNET_START_NONE, DO, DONT, ECHO, one);
      flip (MGW_TELNET_ROLE_CLIENT, MGW_TELNET_START_NONE, DO, DONT, SGA, one);
    }
}

/* ---- stripping ------------------------------------------------------ */

static void
test_strip_iac_iac (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  static const guint8 in[] = { IAC, IAC, 'a', IAC, IAC, IAC, IAC, 'b', IAC, IAC };

  decode (codec, in, sizeof in, data, reply);
  assert_bytes (data, 0xFF, 'a', 0xFF, 0xFF, 'b', 0xFF);
  assert_empty (reply);
}

static void
test_strip_commands (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  static const guint8 cmds[] = { SE, NOP, DM, BRK, IP, AO, AYT, EC, EL, GA };

  for (gsize i = 0; i < G_N_ELEMENTS (cmds); i++)
    {
      guint8 in[4] = { 'a', IAC, cmds[i], 'b' };

      g_byte_array_set_size (data, 0);
      decode (codec, in, sizeof in, data, reply);
      assert_bytes (data, 'a', 'b');
      assert_empty (reply);
    }
}

static void
test_strip_invalid (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();

  for (guint b = 0; b < 0xF0; b++)
    {
      guint8 in[4] = { 'a', IAC, (guint8) b, 'b' };

      g_byte_array_set_size (data, 0);
      decode (codec, in, sizeof in, data, reply);
      assert_bytes (data, 'a', 'b');
    }
  assert_empty (reply);
}

static void
test_data_untouched (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  guint8 in[255 + 4];

  for (guint i = 0; i < 255; i++)
    in[i] = (guint8) i;
  in[255] = '\r';
  in[256] = '\0';
  in[257] = '\r';
  in[258] = '\n';

  decode (codec, in, sizeof in, data, reply);
  g_assert_cmpmem (data->data, data->len, in, sizeof in);
  assert_empty (reply);
}

/* ---- split input ---------------------------------------------------- */

static const guint8 split_input[] = {
  'A', 'B', IAC, IAC, 'C',
  IAC, WILL, SGA, IAC, DO, ECHO,
  'D', IAC, SB, TTYPE, 1, IAC, SE,
  'E', IAC, NOP, 'F',
  IAC, DO, TTYPE,
  IAC, SB, NAWS, 0, 80, IAC, IAC, 0, 24, IAC, SE,
  IAC, AYT, '\r', '\0', '\n',
  IAC, WILL, NAWS, IAC, GA, IAC, IAC, IAC, IAC,
  'G', 0x13, 0x49, IAC, DM, IAC, 0x41, IAC, SE,
  IAC, SB, TTYPE, IAC, WILL, LINEMODE, 'H',
  IAC, SB, TTYPE,
  'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
  'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
  'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
  'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
  'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
  'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
  'x', 'x', 'x', 'y', 'y', 'y', 'y', 'y', 'y', 'y',
  'I', IAC, IAC, 'J',
};

static MgwTelnetCodec *
split_codec (void)
{
  MgwTelnetCodec *codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                MGW_TELNET_START_WILL_ECHO);
  g_autoptr(GByteArray) start = g_byte_array_new ();

  mgw_telnet_codec_start (codec, start);
  return codec;
}

static void
check_split_output (MgwTelnetCodec *codec,
                    GByteArray     *data,
                    GByteArray     *reply)
{
  assert_bytes (data,
                'A', 'B', 0xFF, 'C', 'D', 'E', 'F', '\r', '\0', '\n',
                0xFF, 0xFF, 'G', 0x13, 0x49, 'H',
                'y', 'y', 'y', 'y', 'y', 'y', 'y', 'I', 0xFF, 'J');
  assert_bytes (reply,
                IAC, DO, SGA, IAC, WONT, TTYPE, IAC, DONT, NAWS,
                IAC, DONT, LINEMODE);
  g_assert_true (mgw_telnet_codec_us_enabled (codec, ECHO));
  g_assert_true (mgw_telnet_codec_him_enabled (codec, SGA));
  g_assert_cmpuint (mgw_telnet_codec_get_sb_truncated (codec), ==, 1);
}

static void
test_split_whole (void)
{
  g_autoptr(MgwTelnetCodec) codec = split_codec ();
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();

  decode (codec, split_input, sizeof split_input, data, reply);
  check_split_output (codec, data, reply);
}

static void
test_split_every_boundary (void)
{
  gsize n = sizeof split_input;

  /* Two pieces, cut at every position (empty pieces included). */
  for (gsize i = 0; i <= n; i++)
    {
      g_autoptr(MgwTelnetCodec) codec = split_codec ();
      g_autoptr(GByteArray) data = g_byte_array_new ();
      g_autoptr(GByteArray) reply = g_byte_array_new ();

      decode (codec, split_input, i, data, reply);
      decode (codec, split_input + i, n - i, data, reply);
      check_split_output (codec, data, reply);
    }

  /* Three pieces, every pair of cuts. */
  for (gsize i = 0; i <= n; i++)
    for (gsize j = i; j <= n; j++)
      {
        g_autoptr(MgwTelnetCodec) codec = split_codec ();
        g_autoptr(GByteArray) data = g_byte_array_new ();
        g_autoptr(GByteArray) reply = g_byte_array_new ();

        decode (codec, split_input, i, data, reply);
        decode (codec, split_input + i, j - i, data, reply);
        decode (codec, split_input + j, n - j, data, reply);
        check_split_output (codec, data, reply);
      }
}

static void
test_split_byte_at_a_time (void)
{
  g_autoptr(MgwTelnetCodec) codec = split_codec ();
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();

  for (gsize i = 0; i < sizeof split_input; i++)
    decode (codec, split_input + i, 1, data, reply);
  check_split_output (codec, data, reply);
}

/* ---- floods --------------------------------------------------------- */

static void
test_flood_iac (void)
{
  gsize n = 100000;
  g_autofree guint8 *in = g_malloc (n);
  g_autofree guint8 *want = g_malloc (n / 2);
  gsize chunks[] = { 100000, 7, 1 };

  memset (in, 0xFF, n);
  memset (want, 0xFF, n / 2);

  for (gsize k = 0; k < G_N_ELEMENTS (chunks); k++)
    {
      g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                              MGW_TELNET_START_NONE);
      g_autoptr(GByteArray) data = g_byte_array_new ();
      g_autoptr(GByteArray) reply = g_byte_array_new ();

      for (gsize i = 0; i < n; i += chunks[k])
        decode (codec, in + i, MIN (chunks[k], n - i), data, reply);
      g_assert_cmpmem (data->data, data->len, want, n / 2);
      assert_empty (reply);
    }
}

static void
test_flood_nop (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  g_autoptr(GByteArray) in = g_byte_array_new ();
  static const guint8 nop[] = { IAC, NOP };

  for (int i = 0; i < 10000; i++)
    g_byte_array_append (in, nop, sizeof nop);

  decode (codec, in->data, in->len, data, reply);
  for (guint i = 0; i < in->len; i += 3)
    decode (codec, in->data + i, MIN (3, in->len - i), data, reply);

  assert_empty (data);
  assert_empty (reply);
}

/* ---- subnegotiation ------------------------------------------------- */

static void
test_sb_unterminated (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  g_autoptr(GByteArray) in = g_byte_array_new ();
  static const guint8 head[] = { IAC, SB, TTYPE };
  guint8 a[1000];
  /* The option byte and MGW_TELNET_SB_MAX - 1 'A' are SB content. */
  gsize swallowed = MGW_TELNET_SB_MAX - 1;

  memset (a, 'A', sizeof a);
  g_byte_array_append (in, head, sizeof head);
  g_byte_array_append (in, a, sizeof a);

  decode (codec, in->data, in->len, data, reply);
  g_assert_cmpmem (data->data, data->len, a, sizeof a - swallowed);
  assert_empty (reply);
  g_assert_cmpuint (mgw_telnet_codec_get_sb_truncated (codec), ==, 1);

  /* The session goes on normally afterwards. */
  {
    static const guint8 more[] = { IAC, DO, ECHO, 'z' };

    g_byte_array_set_size (data, 0);
    decode (codec, more, sizeof more, data, reply);
    assert_bytes (data, 'z');
    assert_bytes (reply, IAC, WILL, ECHO);
  }
}

static void
test_sb_terminated (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  static const guint8 in[] = {
    IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE,
    IAC, SB, TTYPE, 0, 'V', 'T', '1', '0', '0', IAC, SE,
    IAC, SB, IAC, SE,   /* empty */
  };

  decode (codec, in, sizeof in, data, reply);
  assert_empty (data);
  assert_empty (reply);
  g_assert_cmpuint (mgw_telnet_codec_get_sb_truncated (codec), ==, 0);
}

static void
test_sb_iac_iac (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  static const guint8 in[] = { IAC, SB, NAWS, IAC, IAC, 1, IAC, IAC, IAC, SE, 'Z' };

  decode (codec, in, sizeof in, data, reply);
  assert_bytes (data, 'Z');
  assert_empty (reply);
  g_assert_cmpuint (mgw_telnet_codec_get_sb_truncated (codec), ==, 0);
}

static void
test_sb_iac_iac_counts (void)
{
  /* IAC IAC counts as one byte of content: MGW_TELNET_SB_MAX - 1 of them
   * after the option byte still fit... */
  {
    g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                            MGW_TELNET_START_NONE);
    g_autoptr(GByteArray) data = g_byte_array_new ();
    g_autoptr(GByteArray) reply = g_byte_array_new ();
    g_autoptr(GByteArray) in = g_byte_array_new ();
    static const guint8 head[] = { IAC, SB, TTYPE };
    static const guint8 iac_iac[] = { IAC, IAC };
    static const guint8 tail[] = { IAC, SE, 'Z' };

    g_byte_array_append (in, head, sizeof head);
    for (int i = 0; i < MGW_TELNET_SB_MAX - 1; i++)
      g_byte_array_append (in, iac_iac, sizeof iac_iac);
    g_byte_array_append (in, tail, sizeof tail);

    decode (codec, in->data, in->len, data, reply);
    assert_bytes (data, 'Z');
    g_assert_cmpuint (mgw_telnet_codec_get_sb_truncated (codec), ==, 0);
  }
  /* ... one more does not: it comes out as data, the stray IAC SE is
   * dropped. */
  {
    g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                            MGW_TELNET_START_NONE);
    g_autoptr(GByteArray) data = g_byte_array_new ();
    g_autoptr(GByteArray) reply = g_byte_array_new ();
    g_autoptr(GByteArray) in = g_byte_array_new ();
    static const guint8 head[] = { IAC, SB, TTYPE };
    static const guint8 iac_iac[] = { IAC, IAC };
    static const guint8 tail[] = { IAC, SE, 'Z' };

    g_byte_array_append (in, head, sizeof head);
    for (int i = 0; i < MGW_TELNET_SB_MAX; i++)
      g_byte_array_append (in, iac_iac, sizeof iac_iac);
    g_byte_array_append (in, tail, sizeof tail);

    decode (codec, in->data, in->len, data, reply);
    assert_bytes (data, 0xFF, 'Z');
    assert_empty (reply);
    g_assert_cmpuint (mgw_telnet_codec_get_sb_truncated (codec), ==, 1);
  }
}

static void
test_sb_exact_max (void)
{
  for (gsize extra = 0; extra <= 1; extra++)
    {
      g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                              MGW_TELNET_START_NONE);
      g_autoptr(GByteArray) data = g_byte_array_new ();
      g_autoptr(GByteArray) reply = g_byte_array_new ();
      g_autoptr(GByteArray) in = g_byte_array_new ();
      static const guint8 head[] = { IAC, SB, TTYPE };
      static const guint8 tail[] = { IAC, SE, 'Z' };
      guint8 content[MGW_TELNET_SB_MAX];

      memset (content, 'a', sizeof content);
      g_byte_array_append (in, head, sizeof head);
      g_byte_array_append (in, content, MGW_TELNET_SB_MAX - 1 + extra);
      g_byte_array_append (in, tail, sizeof tail);

      decode (codec, in->data, in->len, data, reply);
      if (extra == 0)
        assert_bytes (data, 'Z');
      else
        assert_bytes (data, 'a', 'Z');
      assert_empty (reply);
      g_assert_cmpuint (mgw_telnet_codec_get_sb_truncated (codec), ==, extra);
    }
}

static void
test_sb_command_inside (void)
{
  g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                          MGW_TELNET_START_NONE);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  /* IAC + command inside SB ends SB; the command is handled. */
  static const guint8 in[] = {
    IAC, SB, TTYPE, 'a', 'b', IAC, WILL, NAWS, 'Z',
    IAC, SB, TTYPE, 'a', IAC, NOP, 'Y',
    IAC, SB, TTYPE, 'a', IAC, 0x41, 'X',
    IAC, SB, TTYPE, 'a', IAC, SB, NAWS, 'b', IAC, SE, 'W',
  };

  decode (codec, in, sizeof in, data, reply);
  assert_bytes (data, 'Z', 'Y', 'X', 'W');
  assert_bytes (reply, IAC, DONT, NAWS);
  g_assert_cmpuint (mgw_telnet_codec_get_sb_truncated (codec), ==, 0);
}

/* ---- encode --------------------------------------------------------- */

static void
test_encode_empty (void)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  mgw_telnet_encode (NULL, 0, out);
  assert_empty (out);
  mgw_telnet_encode ((const guint8 *) "", 0, out);
  assert_empty (out);
}

static void
test_encode_positions (void)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  {
    static const guint8 in[] = { 'a', 'b', 'c' };

    mgw_telnet_encode (in, sizeof in, out);
    assert_bytes (out, 'a', 'b', 'c');
  }
  {
    static const guint8 in[] = { 0xFF, 'a', 'b' };

    g_byte_array_set_size (out, 0);
    mgw_telnet_encode (in, sizeof in, out);
    assert_bytes (out, 0xFF, 0xFF, 'a', 'b');
  }
  {
    static const guint8 in[] = { 'a', 0xFF, 'b' };

    g_byte_array_set_size (out, 0);
    mgw_telnet_encode (in, sizeof in, out);
    assert_bytes (out, 'a', 0xFF, 0xFF, 'b');
  }
  {
    static const guint8 in[] = { 'a', 'b', 0xFF };

    g_byte_array_set_size (out, 0);
    mgw_telnet_encode (in, sizeof in, out);
    assert_bytes (out, 'a', 'b', 0xFF, 0xFF);
  }
  {
    static const guint8 in[] = { 0xFF };

    g_byte_array_set_size (out, 0);
    mgw_telnet_encode (in, sizeof in, out);
    assert_bytes (out, 0xFF, 0xFF);
  }
  {
    static const guint8 in[] = { 0xFF, 0xFF, 0xFF, 0xFF };

    g_byte_array_set_size (out, 0);
    mgw_telnet_encode (in, sizeof in, out);
    assert_bytes (out, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);
  }
  {
    /* Appends, never clears. */
    static const guint8 in[] = { 0xFF, 0x00 };

    g_byte_array_set_size (out, 0);
    g_byte_array_append (out, (const guint8 *) "x", 1);
    mgw_telnet_encode (in, sizeof in, out);
    assert_bytes (out, 'x', 0xFF, 0xFF, 0x00);
  }
}

static void
test_encode_every_position (void)
{
  guint8 in[32];

  for (gsize pos = 0; pos < sizeof in; pos++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();

      for (gsize i = 0; i < sizeof in; i++)
        in[i] = (guint8) (0xE0 + i % 0x1F);   /* never 0xFF */
      in[pos] = 0xFF;

      mgw_telnet_encode (in, sizeof in, out);
      g_assert_cmpuint (out->len, ==, sizeof in + 1);
      g_assert_cmpmem (out->data, pos, in, pos);
      g_assert_cmpuint (out->data[pos], ==, 0xFF);
      g_assert_cmpuint (out->data[pos + 1], ==, 0xFF);
      g_assert_cmpmem (out->data + pos + 2, sizeof in - pos - 1,
                       in + pos + 1, sizeof in - pos - 1);
    }
}

/* ---- round trip ----------------------------------------------------- */

static void
roundtrip (const guint8 *in,
           gsize         len)
{
  g_autoptr(GByteArray) wire = g_byte_array_new ();

  mgw_telnet_encode (in, len, wire);

  /* Whole, then byte at a time. */
  for (int bytewise = 0; bytewise <= 1; bytewise++)
    {
      g_autoptr(MgwTelnetCodec) codec = mgw_telnet_codec_new (MGW_TELNET_ROLE_SERVER,
                                                              MGW_TELNET_START_NONE);
      g_autoptr(GByteArray) data = g_byte_array_new ();
      g_autoptr(GByteArray) reply = g_byte_array_new ();

      if (bytewise)
        for (guint i = 0; i < wire->len; i++)
          decode (codec, wire->data + i, 1, data, reply);
      else
        decode (codec, wire->data, wire->len, data, reply);

      g_assert_cmpmem (data->data, data->len, in, len);
      assert_empty (reply);
    }
}

static void
test_roundtrip_ff_every_position (void)
{
  guint8 in[40];

  for (gsize pos = 0; pos < sizeof in; pos++)
    {
      /* Bytes that look like commands once escaping is lost. */
      for (gsize i = 0; i < sizeof in; i++)
        in[i] = (guint8) (0xF0 + i % 0x0F);
      in[pos] = 0xFF;
      roundtrip (in, sizeof in);

      /* Two 0xFF in a row at every position. */
      if (pos + 1 < sizeof in)
        {
          in[pos + 1] = 0xFF;
          roundtrip (in, sizeof in);
        }
    }
}

static void
test_roundtrip_all_bytes (void)
{
  guint8 in[512];

  for (gsize i = 0; i < sizeof in; i++)
    in[i] = (guint8) (i * 7 + (i >> 8));
  roundtrip (in, sizeof in);

  memset (in, 0xFF, sizeof in);
  roundtrip (in, sizeof in);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/telnet-codec/start/server-will-echo", test_start_server_will_echo);
  g_test_add_func ("/telnet-codec/start/server-do-echo", test_start_server_do_echo);
  g_test_add_func ("/telnet-codec/start/server-none", test_start_server_none);
  g_test_add_func ("/telnet-codec/start/client", test_start_client);
  g_test_add_func ("/telnet-codec/start/appends", test_start_appends);

  add_negotiation_tests ();

  g_test_add_func ("/telnet-codec/ack/not-answered", test_ack_not_answered);
  g_test_add_func ("/telnet-codec/ack/refusal-not-answered", test_ack_refusal_not_answered);
  g_test_add_func ("/telnet-codec/ack/do-echo-refused", test_ack_do_echo_refused);
  g_test_add_func ("/telnet-codec/repeat/requests", test_repeat_requests);
  g_test_add_func ("/telnet-codec/counter/refused", test_refused_counter);

  g_test_add_func ("/telnet-codec/loop/back-to-back", test_loop_back_to_back);
  g_test_add_func ("/telnet-codec/loop/hostile-opposite", test_loop_hostile_opposite);
  g_test_add_func ("/telnet-codec/loop/flip-1000", test_loop_flip_1000);

  g_test_add_func ("/telnet-codec/strip/iac-iac", test_strip_iac_iac);
  g_test_add_func ("/telnet-codec/strip/commands", test_strip_commands);
  g_test_add_func ("/telnet-codec/strip/invalid", test_strip_invalid);
  g_test_add_func ("/telnet-codec/strip/data-untouched", test_data_untouched);

  g_test_add_func ("/telnet-codec/split/whole", test_split_whole);
  g_test_add_func ("/telnet-codec/split/every-boundary", test_split_every_boundary);
  g_test_add_func ("/telnet-codec/split/byte-at-a-time", test_split_byte_at_a_time);

  g_test_add_func ("/telnet-codec/flood/iac", test_flood_iac);
  g_test_add_func ("/telnet-codec/flood/nop", test_flood_nop);

  g_test_add_func ("/telnet-codec/sb/unterminated", test_sb_unterminated);
  g_test_add_func ("/telnet-codec/sb/terminated", test_sb_terminated);
  g_test_add_func ("/telnet-codec/sb/iac-iac", test_sb_iac_iac);
  g_test_add_func ("/telnet-codec/sb/iac-iac-counts", test_sb_iac_iac_counts);
  g_test_add_func ("/telnet-codec/sb/exact-max", test_sb_exact_max);
  g_test_add_func ("/telnet-codec/sb/command-inside", test_sb_command_inside);

  g_test_add_func ("/telnet-codec/encode/empty", test_encode_empty);
  g_test_add_func ("/telnet-codec/encode/positions", test_encode_positions);
  g_test_add_func ("/telnet-codec/encode/every-position", test_encode_every_position);

  g_test_add_func ("/telnet-codec/roundtrip/ff-every-position", test_roundtrip_ff_every_position);
  g_test_add_func ("/telnet-codec/roundtrip/all-bytes", test_roundtrip_all_bytes);

  return g_test_run ();
}
