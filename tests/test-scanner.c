/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-scanner.c: other protocols' first bytes (mgw-scanner.c): what
 * scanners send is named, however it is cut; what a Minitel, iTimtel
 * and a telnet client send never is. */
#include "config.h"

#include "mgw-scanner.h"

#include <string.h>

typedef struct
{
  const char *protocol;
  const char *data;
  gsize       len;
} Sample;

#define SAMPLE(proto, lit) { proto, lit, sizeof lit - 1 }

static const Sample foreign[] = {
  SAMPLE ("http", "GET / HTTP/1.1\r\nHost: 192.0.2.1:9000\r\nUser-Agent: Mozilla/5.0\r\n\r\n"),
  SAMPLE ("http", "GET /favicon.ico HTTP/1.0\r\n\r\n"),
  SAMPLE ("http", "GET /" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
  SAMPLE ("http", "POST /cgi-bin/luci HTTP/1.1\r\n"),
  SAMPLE ("http", "HEAD / HTTP/1.0\r\n\r\n"),
  SAMPLE ("http", "CONNECT example.com:443 HTTP/1.1\r\n"),
  SAMPLE ("http", "OPTIONS * HTTP/1.1\r\n"),
  SAMPLE ("http", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
  SAMPLE ("http", "PROPFIND /webdav HTTP/1.1\r\n"),
  /* A ClientHello (TLS 1.0 record, as curl and nmap send it). */
  SAMPLE ("tls", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x5e\x8a"),
  SAMPLE ("tls", "\x16\x03\x03\x00\xdc\x01\x00\x00\xd8\x03\x03"),
  SAMPLE ("tls", "\x16\x03\x00\x00\x2f\x01\x00\x00\x2b\x03\x00"),
  SAMPLE ("ssh", "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n"),
  SAMPLE ("ssh", "SSH-1.99-Cisco-1.25\r\n"),
  SAMPLE ("ssh", "SSH-2.0-Go\r\n"),
  /* nmap's RDP probe, then a client's with its mstshash cookie. */
  SAMPLE ("rdp", "\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00"),
  SAMPLE ("rdp", "\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00" "Cookie: mstshash=admin\r\n"),
  /* SMB1 and SMB2 negotiations over port 445. */
  SAMPLE ("smb", "\x00\x00\x00\x85\xff" "SMBr\x00\x00\x00\x00\x18\x53\xc8"),
  SAMPLE ("smb", "\x00\x00\x00\xa4\xfe" "SMB@\x00\x01\x00\x00\x00\x00\x00"),
};

/* What users send: Minitel keys and text, a ROM id, telnet negotiation
 * (IAC is 0xFF), iTimtel's junk, people typing. */
static const Sample users[] = {
  SAMPLE (NULL, "\x13\x41"),                          /* Envoi */
  SAMPLE (NULL, "\x13\x49"),                          /* Connexion/Fin */
  SAMPLE (NULL, "3615 ULLA\x13\x41"),
  SAMPLE (NULL, "\x01\x43\x76\x3a\x04"),              /* a ROM id */
  SAMPLE (NULL, "\x1b\x5b\x41\x1b\x5b\x42"),          /* cursor keys */
  SAMPLE (NULL, "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x01\xff\xfd\x03"),
  SAMPLE (NULL, "\xff\xfd\x03\xff\xfb\x18\xff\xfb\x1f\xff\xfb\x20\xff\xfb\x21\xff\xfb\x22"
          "\xff\xfb\x27\xff\xfd\x05"),                /* netkit telnet */
  SAMPLE (NULL, "\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"),
  SAMPLE (NULL, "\xff\xfe" "junk"),                   /* iTimtel */
  SAMPLE (NULL, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
  SAMPLE (NULL, "\x00\xff\x00\xff\x13\x13\x13\x00\x7f\x7f"),
  SAMPLE (NULL, "\x16\x16\x16\x16"),                  /* SYN SYN: not a TLS record */
  SAMPLE (NULL, "\x03\x03\x03\x03\x03\x03"),
  SAMPLE (NULL, "GET LOST\r"),
  SAMPLE (NULL, "HELLO WORLD\r\n"),
  SAMPLE (NULL, "Hello\r\n"),
  SAMPLE (NULL, "SSH-\r"),
  SAMPLE (NULL, "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n"),
  SAMPLE (NULL, "ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1\r\n"),
};

/* Every sample, and each way of cutting it: no prefix is named anything
 * else; a prefix not named but no longer possible is final. */
static void
check (const Sample *s)
{
  gboolean decided = FALSE;

  for (gsize i = 0; i <= s->len; i++)
    {
      const char *found = mgw_scanner_classify ((const guint8 *) s->data, i);

      if (found != NULL)
        {
          g_assert_cmpstr (found, ==, s->protocol);
          g_assert_false (decided);
        }
      else if (!mgw_scanner_need_more ((const guint8 *) s->data, i))
        decided = TRUE;
    }
  g_assert_cmpstr (mgw_scanner_classify ((const guint8 *) s->data, s->len), ==, s->protocol);
}

static void
test_foreign (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (foreign); i++)
    check (&foreign[i]);
}

static void
test_users (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (users); i++)
    check (&users[i]);
}

/* A scanner's request split: the start is not enough, and waiting for
 * more is right; a Minitel key decides at once. */
static void
test_need_more (void)
{
  g_assert_null (mgw_scanner_classify ((const guint8 *) "GET", 3));
  g_assert_true (mgw_scanner_need_more ((const guint8 *) "GET", 3));
  g_assert_true (mgw_scanner_need_more ((const guint8 *) "\x16\x03", 2));
  g_assert_true (mgw_scanner_need_more ((const guint8 *) "\x00\x00\x00\x85\xff" "SM", 7));
  g_assert_false (mgw_scanner_need_more ((const guint8 *) "\x13\x41", 2));
  g_assert_false (mgw_scanner_need_more ((const guint8 *) "\xff\xfb\x01", 3));
  g_assert_false (mgw_scanner_need_more ((const guint8 *) "3615", 4));
  /* No decision waits past the probe. */
  {
    guint8 upper[MGW_SCANNER_PROBE_MAX + 8];

    memcpy (upper, "OPTIONX /", 9);
    memset (upper + 9, 'a', sizeof upper - 9);
    g_assert_true (mgw_scanner_need_more (upper, MGW_SCANNER_PROBE_MAX - 1));
    g_assert_false (mgw_scanner_need_more (upper, MGW_SCANNER_PROBE_MAX));
    g_assert_null (mgw_scanner_classify (upper, sizeof upper));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scanner/foreign", test_foreign);
  g_test_add_func ("/scanner/users", test_users);
  g_test_add_func ("/scanner/need-more", test_need_more);
  return g_test_run ();
}
