/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mgw-telnet-codec.c: Telnet codec for the Telnet listeners (users, admin
 * console) and the telnet:// redirect client.
 *
 * Strips Telnet commands from the peer's byte stream, answers option
 * negotiation with the RFC 1143 "Q method" and escapes 0xFF on output.
 * Pure code, no I/O: every sequence may be split at any byte boundary.
 *
 * Choices beyond RFC 854/1143, all meant to keep a hostile or broken peer
 * from looping the negotiation or swallowing the session:
 *
 * - A refusal (WONT x / DONT x answering DO x / WILL x) is sent once per
 *   option and side; later requests for a refused option are ignored, so a
 *   peer that keeps asking cannot make us keep answering.
 * - The peer may switch an option we accept on at most
 *   TELNET_ENABLE_MAX times per side; past that it is refused like any
 *   other option (disabling is always honoured, as RFC 1143 requires).
 *   With both rules each option/side produces a bounded number of replies
 *   for the whole life of the codec.
 * - Subnegotiation content (option byte included) is capped at
 *   MGW_TELNET_SB_MAX bytes. The byte after that, if it is not IAC, makes
 *   the codec abandon SB mode (counted in sb_truncated) and is data again,
 *   as is everything after it.
 * - Inside SB, IAC IAC is one content byte and IAC SE ends SB. IAC followed
 *   by any other byte ends SB too, and that byte is then handled as the
 *   command following IAC (IAC WILL x inside SB is a real negotiation).
 * - IAC followed by a byte below 0xF0 (no such command) drops both bytes.
 * - Data bytes are never altered (no CR NUL handling: videotex is binary).
 */

#include "mgw-telnet-codec.h"

#include <string.h>

enum {
  TELNET_SE = 240,
  TELNET_SB = 250,
  TELNET_WILL = 251,
  TELNET_WONT = 252,
  TELNET_DO = 253,
  TELNET_DONT = 254,
  TELNET_IAC = 255,
};

enum {
  TELNET_OPT_ECHO = 1,
  TELNET_OPT_SGA = 3,
};

/* How many times the peer may switch on an option we accept, per side. */
#define TELNET_ENABLE_MAX 8

/* RFC 1143 option states and queue bit. */
typedef enum {
  Q_NO,
  Q_YES,
  Q_WANTNO,
  Q_WANTYES,
} QState;

typedef enum {
  Q_EMPTY,
  Q_OPPOSITE,
} QQueue;

typedef struct {
  guint8 state;     /* QState */
  guint8 queue;     /* QQueue */
  guint8 refused;   /* a refusal was already sent for this option */
  guint8 enables;   /* times the peer switched the option on */
} QOption;

/* One side of the negotiation: "us" answers DO/DONT with WILL/WONT, "him"
 * answers WILL/WONT with DO/DONT. */
typedef struct {
  QOption opt[256];
  guint8 yes_verb;  /* what we send to agree or ask for the option */
  guint8 no_verb;   /* what we send to refuse or drop it */
} QSide;

typedef enum {
  PARSE_DATA,
  PARSE_IAC,
  PARSE_NEG,        /* IAC WILL/WONT/DO/DONT seen, option byte next */
  PARSE_SB,
  PARSE_SB_IAC,
} ParseState;

struct _MgwTelnetCodec {
  MgwTelnetRole role;
  MgwTelnetStart start;
  gboolean started;

  ParseState parse;
  guint8 verb;
  gsize sb_len;

  QSide us;
  QSide him;

  guint64 refused;
  guint64 sb_truncated;
};

MgwTelnetCodec *
mgw_telnet_codec_new (MgwTelnetRole role,
                      MgwTelnetStart start)
{
  MgwTelnetCodec *codec = g_new0 (MgwTelnetCodec, 1);

  codec->role = role;
  codec->start = start;
  codec->parse = PARSE_DATA;
  codec->us.yes_verb = TELNET_WILL;
  codec->us.no_verb = TELNET_WONT;
  codec->him.yes_verb = TELNET_DO;
  codec->him.no_verb = TELNET_DONT;

  return codec;
}

void
mgw_telnet_codec_free (MgwTelnetCodec *codec)
{
  g_free (codec);
}

static void
send_cmd (GByteArray *reply,
          guint8      verb,
          guint8      option)
{
  const guint8 cmd[3] = { TELNET_IAC, verb, option };

  g_byte_array_append (reply, cmd, sizeof cmd);
}

/* Policy: may this option be enabled on our side / the peer's side? */
static gboolean
policy_us (MgwTelnetCodec *codec,
           guint8          option)
{
  if (option == TELNET_OPT_SGA)
    return TRUE;
  if (option == TELNET_OPT_ECHO)
    return codec->role == MGW_TELNET_ROLE_SERVER;
  return FALSE;
}

static gboolean
policy_him (MgwTelnetCodec *codec,
            guint8          option)
{
  if (option == TELNET_OPT_SGA)
    return TRUE;
  if (option == TELNET_OPT_ECHO)
    return codec->role == MGW_TELNET_ROLE_CLIENT ||
           codec->start == MGW_TELNET_START_DO_ECHO;
  return FALSE;
}

/* We want the option enabled on `side` (RFC 1143, "we decide to ask"). */
static void
q_ask_enable (QSide      *side,
              guint8      option,
              GByteArray *reply)
{
  QOption *q = &side->opt[option];

  switch (q->state)
    {
    case Q_NO:
      q->state = Q_WANTYES;
      send_cmd (reply, side->yes_verb, option);
      break;
    case Q_YES:
      break;
    case Q_WANTNO:
      q->queue = Q_OPPOSITE;
      break;
    case Q_WANTYES:
      q->queue = Q_EMPTY;
      break;
    default:
      g_assert_not_reached ();
    }
}

/* The peer sent WILL (him side) or DO (us side). */
static void
q_recv_enable (MgwTelnetCodec *codec,
               QSide          *side,
               gboolean        acceptable,
               guint8          option,
               GByteArray     *reply)
{
  QOption *q = &side->opt[option];

  switch (q->state)
    {
    case Q_NO:
      if (acceptable && q->enables < TELNET_ENABLE_MAX)
        {
          q->state = Q_YES;
          q->enables++;
          send_cmd (reply, side->yes_verb, option);
        }
      else if (!q->refused)
        {
          q->refused = TRUE;
          codec->refused++;
          send_cmd (reply, side->no_verb, option);
        }
      break;
    case Q_YES:
      break;
    case Q_WANTNO:
      /* EMPTY: "DONT answered by WILL", a peer error; OPPOSITE: we had
       * changed our mind back, so this is the answer we want. */
      q->state = q->queue == Q_EMPTY ? Q_NO : Q_YES;
      q->queue = Q_EMPTY;
      break;
    case Q_WANTYES:
      if (q->queue == Q_EMPTY)
        {
          q->state = Q_YES;
        }
      else
        {
          q->state = Q_WANTNO;
          q->queue = Q_EMPTY;
          send_cmd (reply, side->no_verb, option);
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* The peer sent WONT (him side) or DONT (us side). */
static void
q_recv_disable (QSide      *side,
                guint8      option,
                GByteArray *reply)
{
  QOption *q = &side->opt[option];

  switch (q->state)
    {
    case Q_NO:
      break;
    case Q_YES:
      q->state = Q_NO;
      send_cmd (reply, side->no_verb, option);
      break;
    case Q_WANTNO:
      if (q->queue == Q_EMPTY)
        {
          q->state = Q_NO;
        }
      else
        {
          q->state = Q_WANTYES;
          q->queue = Q_EMPTY;
          send_cmd (reply, side->yes_verb, option);
        }
      break;
    case Q_WANTYES:
      q->state = Q_NO;
      q->queue = Q_EMPTY;
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
negotiate (MgwTelnetCodec *codec,
           guint8          verb,
           guint8          option,
           GByteArray     *reply)
{
  switch (verb)
    {
    case TELNET_WILL:
      q_recv_enable (codec, &codec->him, policy_him (codec, option), option, reply);
      break;
    case TELNET_WONT:
      q_recv_disable (&codec->him, option, reply);
      break;
    case TELNET_DO:
      q_recv_enable (codec, &codec->us, policy_us (codec, option), option, reply);
      break;
    case TELNET_DONT:
      q_recv_disable (&codec->us, option, reply);
      break;
    default:
      g_assert_not_reached ();
    }
}

void
mgw_telnet_codec_start (MgwTelnetCodec *codec,
                        GByteArray     *reply)
{
  g_return_if_fail (codec != NULL);
  g_return_if_fail (reply != NULL);
  g_return_if_fail (!codec->started);

  codec->started = TRUE;

  switch (codec->start)
    {
    case MGW_TELNET_START_NONE:
      break;
    case MGW_TELNET_START_WILL_ECHO:
      q_ask_enable (&codec->us, TELNET_OPT_ECHO, reply);
      q_ask_enable (&codec->us, TELNET_OPT_SGA, reply);
      break;
    case MGW_TELNET_START_DO_ECHO:
      q_ask_enable (&codec->him, TELNET_OPT_ECHO, reply);
      break;
    default:
      g_return_if_reached ();
    }
}

/* Handles the byte following an IAC (outside SB, or ending SB). */
static void
command_byte (MgwTelnetCodec *codec,
              guint8          b,
              GByteArray     *data)
{
  switch (b)
    {
    case TELNET_IAC:
      g_byte_array_append (data, &b, 1);
      codec->parse = PARSE_DATA;
      break;
    case TELNET_WILL:
    case TELNET_WONT:
    case TELNET_DO:
    case TELNET_DONT:
      codec->verb = b;
      codec->parse = PARSE_NEG;
      break;
    case TELNET_SB:
      codec->sb_len = 0;
      codec->parse = PARSE_SB;
      break;
    default:
      /* NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, a stray SE, or no command at
       * all (below 0xF0): the two bytes are dropped. */
      codec->parse = PARSE_DATA;
      break;
    }
}

void
mgw_telnet_codec_decode (MgwTelnetCodec *codec,
                         const guint8   *in,
                         gsize           len,
                         GByteArray     *data,
                         GByteArray     *reply)
{
  gsize i = 0;

  g_return_if_fail (codec != NULL);
  g_return_if_fail (in != NULL || len == 0);
  g_return_if_fail (data != NULL);
  g_return_if_fail (reply != NULL);

  while (i < len)
    {
      guint8 b = in[i];

      switch (codec->parse)
        {
        case PARSE_DATA:
          {
            const guint8 *iac = memchr (in + i, TELNET_IAC, len - i);
            gsize run = iac != NULL ? (gsize) (iac - (in + i)) : len - i;

            if (run > 0)
              g_byte_array_append (data, in + i, run);
            i += run;
            if (iac != NULL)
              {
                codec->parse = PARSE_IAC;
                i++;
              }
          }
          break;

        case PARSE_IAC:
          i++;
          command_byte (codec, b, data);
          break;

        case PARSE_NEG:
          i++;
          codec->parse = PARSE_DATA;
          negotiate (codec, codec->verb, b, reply);
          break;

        case PARSE_SB:
          if (b == TELNET_IAC)
            {
              codec->parse = PARSE_SB_IAC;
              i++;
            }
          else if (codec->sb_len >= MGW_TELNET_SB_MAX)
            {
              /* No IAC SE in sight: give up, this byte is data again. */
              codec->sb_truncated++;
              codec->parse = PARSE_DATA;
            }
          else
            {
              codec->sb_len++;
              i++;
            }
          break;

        case PARSE_SB_IAC:
          i++;
          if (b == TELNET_SE)
            {
              codec->parse = PARSE_DATA;
            }
          else if (b == TELNET_IAC)
            {
              if (codec->sb_len >= MGW_TELNET_SB_MAX)
                {
                  codec->sb_truncated++;
                  codec->parse = PARSE_DATA;
                  g_byte_array_append (data, &b, 1);
                }
              else
                {
                  codec->sb_len++;
                  codec->parse = PARSE_SB;
                }
            }
          else
            {
              /* Unterminated SB followed by a command: end SB, handle the
               * command. */
              command_byte (codec, b, data);
            }
          break;

        default:
          g_assert_not_reached ();
        }
    }
}

void
mgw_telnet_encode (const guint8 *in,
                   gsize         len,
                   GByteArray   *out)
{
  static const guint8 iac_iac[2] = { TELNET_IAC, TELNET_IAC };
  gsize i = 0;

  g_return_if_fail (in != NULL || len == 0);
  g_return_if_fail (out != NULL);

  while (i < len)
    {
      const guint8 *iac = memchr (in + i, TELNET_IAC, len - i);
      gsize run = iac != NULL ? (gsize) (iac - (in + i)) : len - i;

      if (run > 0)
        g_byte_array_append (out, in + i, run);
      i += run;
      if (iac != NULL)
        {
          g_byte_array_append (out, iac_iac, sizeof iac_iac);
          i++;
        }
    }
}

gboolean
mgw_telnet_codec_us_enabled (MgwTelnetCodec *codec,
                             guint8          option)
{
  g_return_val_if_fail (codec != NULL, FALSE);

  return codec->us.opt[option].state == Q_YES;
}

gboolean
mgw_telnet_codec_him_enabled (MgwTelnetCodec *codec,
                              guint8          option)
{
  g_return_val_if_fail (codec != NULL, FALSE);

  return codec->him.opt[option].state == Q_YES;
}

guint64
mgw_telnet_codec_get_refused (MgwTelnetCodec *codec)
{
  g_return_val_if_fail (codec != NULL, 0);

  return codec->refused;
}

guint64
mgw_telnet_codec_get_sb_truncated (MgwTelnetCodec *codec)
{
  g_return_val_if_fail (codec != NULL, 0);

  return codec->sb_truncated;
}
