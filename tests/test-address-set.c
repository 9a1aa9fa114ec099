/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-address-set.c: sets of addresses and prefixes (neverbanned.json,
 * the machine's own addresses). */
#include "config.h"

#include "mgw-address-set.h"
#include "mgw-error.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

static void
add_ok (MgwAddressSet *set,
        const char    *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mgw_address_set_add (set, text, &error));
  g_assert_no_error (error);
}

static void
test_exact (void)
{
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();

  add_ok (set, "192.0.2.7");
  add_ok (set, "2001:DB8::1");
  add_ok (set, "192.0.2.7");   /* once only */
  g_assert_cmpuint (mgw_address_set_get_size (set), ==, 2);

  g_assert_true (mgw_address_set_contains (set, "192.0.2.7"));
  g_assert_false (mgw_address_set_contains (set, "192.0.2.8"));
  /* Another spelling of the same IPv6 address. */
  g_assert_true (mgw_address_set_contains (set, "2001:db8::1"));
  g_assert_true (mgw_address_set_contains (set, "2001:0db8:0:0:0:0:0:1"));
  g_assert_true (mgw_address_set_contains (set, "2001:db8::1%eth0"));
  g_assert_false (mgw_address_set_contains (set, "2001:db8::2"));
  /* Not addresses. */
  g_assert_false (mgw_address_set_contains (set, NULL));
  g_assert_false (mgw_address_set_contains (set, ""));
  g_assert_false (mgw_address_set_contains (set, "example.org"));
  g_assert_false (mgw_address_set_contains (set, "192.0.2.7/32x"));

  mgw_address_set_clear (set);
  g_assert_cmpuint (mgw_address_set_get_size (set), ==, 0);
  g_assert_false (mgw_address_set_contains (set, "192.0.2.7"));
}

/* ::ffff:a.b.c.d is the IPv4 address a.b.c.d, whichever way round. */
static void
test_v4_mapped (void)
{
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();

  add_ok (set, "192.0.2.7");
  add_ok (set, "::ffff:198.51.100.1");
  add_ok (set, "10.0.0.0/8");
  add_ok (set, "::ffff:172.16.0.0/108");   /* 172.16.0.0/12 */

  g_assert_true (mgw_address_set_contains (set, "::ffff:192.0.2.7"));
  g_assert_true (mgw_address_set_contains (set, "::FFFF:c000:0207"));
  g_assert_true (mgw_address_set_contains (set, "198.51.100.1"));
  g_assert_true (mgw_address_set_contains (set, "::ffff:198.51.100.1"));
  g_assert_true (mgw_address_set_contains (set, "::ffff:10.200.1.1"));
  g_assert_true (mgw_address_set_contains (set, "172.31.255.255"));
  g_assert_true (mgw_address_set_contains (set, "::ffff:172.16.0.1"));
  g_assert_false (mgw_address_set_contains (set, "172.32.0.1"));
  /* Not mapped: a different address. */
  g_assert_false (mgw_address_set_contains (set, "::192.0.2.7"));
  g_assert_false (mgw_address_set_contains (set, "64:ff9b::192.0.2.7"));
}

static void
test_prefixes (void)
{
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();

  add_ok (set, "192.168.0.0/16");
  add_ok (set, "fd00::/8");
  add_ok (set, "203.0.113.9/32");   /* an exact address */
  add_ok (set, "2001:db8:1::/48");
  add_ok (set, "198.51.100.77/24"); /* host bits ignored */
  add_ok (set, "192.168.0.0/16");   /* once only */
  g_assert_cmpuint (mgw_address_set_get_size (set), ==, 5);

  g_assert_true (mgw_address_set_contains (set, "192.168.0.0"));
  g_assert_true (mgw_address_set_contains (set, "192.168.168.1"));
  g_assert_true (mgw_address_set_contains (set, "192.168.255.255"));
  g_assert_false (mgw_address_set_contains (set, "192.169.0.1"));
  g_assert_false (mgw_address_set_contains (set, "192.167.255.255"));
  g_assert_true (mgw_address_set_contains (set, "fd00::1"));
  g_assert_true (mgw_address_set_contains (set, "fdff:ffff::1"));
  g_assert_false (mgw_address_set_contains (set, "fe00::1"));
  g_assert_false (mgw_address_set_contains (set, "fc00::1"));
  g_assert_true (mgw_address_set_contains (set, "203.0.113.9"));
  g_assert_false (mgw_address_set_contains (set, "203.0.113.10"));
  g_assert_true (mgw_address_set_contains (set, "2001:db8:1:ffff::1"));
  g_assert_false (mgw_address_set_contains (set, "2001:db8:2::1"));
  g_assert_true (mgw_address_set_contains (set, "198.51.100.1"));
  g_assert_false (mgw_address_set_contains (set, "198.51.101.1"));

  /* Everything. */
  add_ok (set, "0.0.0.0/0");
  g_assert_true (mgw_address_set_contains (set, "8.8.8.8"));
  g_assert_false (mgw_address_set_contains (set, "2001:4860::8888"));
  add_ok (set, "::/0");
  g_assert_true (mgw_address_set_contains (set, "2001:4860::8888"));
}

static void
test_bad (void)
{
  static const char *bad[] = {
    "", "example.org", "256.1.1.1", "1.2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/",
    "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/8x", "1.2.3.4/0008",
    "::/129", "fd00::/", "/8", "fd00::/8/8", "192.168.0.0/16 ", "1.2.3.4%",
    "%eth0",
  };
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", bad[i]);
      g_assert_false (mgw_address_set_add (set, bad[i], &error));
      g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
      g_assert_nonnull (strstr (error->message, bad[i]));
    }
  g_assert_cmpuint (mgw_address_set_get_size (set), ==, 0);
}

static char *
write_temp (const char *dir,
            const char *name,
            const char *content)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, content, -1, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_never_ban_fixture (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "pymoip",
                                                 "neverbanned.json", NULL);
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();
  g_autoptr(GError) error = NULL;

  add_ok (set, "192.0.2.1");   /* replaced by the file */
  g_assert_true (mgw_address_set_load_never_ban (set, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_address_set_get_size (set), ==, 2);
  g_assert_true (mgw_address_set_contains (set, "192.168.168.1"));
  g_assert_true (mgw_address_set_contains (set, "199.199.199.199"));
  g_assert_true (mgw_address_set_contains (set, "::ffff:199.199.199.199"));
  g_assert_false (mgw_address_set_contains (set, "192.0.2.1"));
  g_assert_false (mgw_address_set_contains (set, "192.168.168.2"));
}

/* A never-ban file beyond MGW_JSON_FILE_MAX is refused unread (sparse
 * here), the set in force kept. */
static void
test_never_ban_too_big (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-address-set-XXXXXX", &error);
  g_autofree char *path = write_temp (dir, "neverbanned.json", "{}");
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();

  add_ok (set, "192.0.2.1");
  g_assert_cmpint (truncate (path, MGW_JSON_FILE_MAX + 1), ==, 0);
  g_assert_false (mgw_address_set_load_never_ban (set, path, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "bigger than 16 MiB"));
  g_assert_true (mgw_address_set_contains (set, "192.0.2.1"));
  g_unlink (path);
  g_rmdir (dir);
}

/* neverbanned.json replaced by something that is not a regular file,
 * made by `make` at the path: the load fails, the set is kept as it was,
 * and the error is returned for the caller to judge. */
typedef gboolean (*MakeFunc) (const char *path);

static GError *
load_not_a_file (MakeFunc make)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-address-set-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "neverbanned.json", NULL);
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();

  add_ok (set, "192.0.2.1");
  g_assert_true (make (path));
  g_assert_false (mgw_address_set_load_never_ban (set, path, &error));
  g_assert_nonnull (error);
  g_assert_true (mgw_address_set_contains (set, "192.0.2.1"));
  g_unlink (path);
  g_rmdir (dir);
  return g_steal_pointer (&error);
}

/* Addresses no connection comes from; addresses with ports as logs
 * write them. */
static void
test_peer_addresses (void)
{
  static const char *const nobody[] = {
    "0.0.0.0", "255.255.255.255", "224.0.0.1", "239.1.2.3", "::", "ff02::1", "ff05::2",
    "::ffff:0.0.0.0", "::ffff:224.0.0.9", "not an address", "",
  };
  static const char *const peers[] = {
    "192.0.2.1", "127.0.0.1", "10.255.255.255", "223.255.255.255", "240.0.0.1", "2001:db8::1",
    "::1", "::ffff:192.0.2.1", "fe80::1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (nobody); i++)
    g_assert_false (mgw_address_is_peer (nobody[i]));
  for (gsize i = 0; i < G_N_ELEMENTS (peers); i++)
    g_assert_true (mgw_address_is_peer (peers[i]));

  {
    g_autofree char *v4 = mgw_address_with_port ("192.0.2.1", 80);
    g_autofree char *v6 = mgw_address_with_port ("2001:db8::5", 80);
    g_assert_cmpstr (v4, ==, "192.0.2.1:80");
    g_assert_cmpstr (v6, ==, "[2001:db8::5]:80");
  }
}

static gboolean
make_dev_zero_link (const char *path)
{
  return symlink ("/dev/zero", path) == 0;
}

static gboolean
make_fifo (const char *path)
{
  return mkfifo (path, 0600) == 0;
}

/* Not a regular file (a device, a pipe): refused before a byte is read,
 * never read without end. */
static void
test_never_ban_endless (void)
{
  g_autoptr(GError) error = load_not_a_file (make_dev_zero_link);

  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "is not a regular file"));
}

/* A file that is not JSON: the path once, where and what in our words,
 * never its text. */
static void
test_never_ban_not_quoted (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-address-set-XXXXXX", NULL);
  g_autofree char *path = write_temp (dir, "neverbanned.json",
                                      "{\"192.0.2.1\": \"a\",\n root:x:0:0:SECRET}");
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();
  g_autofree char *expected = g_strdup_printf ("%s: line ", path);

  g_assert_false (mgw_address_set_load_never_ban (set, path, &error));
  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, expected));
  g_assert_null (strstr (error->message + strlen (path), path));
  g_assert_null (strstr (error->message, "SECRET"));
  g_assert_null (strstr (error->message, "root"));
  g_unlink (path);
  g_rmdir (dir);
}

/* A FIFO where the file should be: refused (nothing to parse), without
 * waiting for a writer (a blocking open() would hang the daemon, at start
 * or at every SIGHUP). */
static void
test_never_ban_fifo (void)
{
  g_autoptr(GError) error = load_not_a_file (make_fifo);

  g_assert_error (error, MGW_ERROR, MGW_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "is not a regular file"));
}

static void
test_never_ban_files (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-address-set-XXXXXX", &error);
  g_autofree char *missing = NULL;
  g_autofree char *mixed = NULL;
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();
  static const char *not_objects[] = {
    "", "{", "{\"192.0.2.1\": \"x\"", "[\"192.0.2.1\"]", "\"192.0.2.1\"", "null", "12",
    "not json",
  };

  g_assert_no_error (error);

  /* Missing: empty, fine. */
  missing = g_build_filename (dir, "missing.json", NULL);
  add_ok (set, "192.0.2.1");
  g_assert_true (mgw_address_set_load_never_ban (set, missing, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_address_set_get_size (set), ==, 0);

  /* Prefixes and bad keys: each bad key skipped with a warning. */
  mixed = write_temp (dir, "mixed.json",
                      "{\"192.168.0.0/16\": \"LAN\", \"fd00::/8\": \"ULA\",\n"
                      " \"router.lan\": \"name, not address\", \"10.0.0.1/40\": \"bad\",\n"
                      " \"2001:db8::7\": 12, \"198.51.100.1\": null}");
  g_test_expect_message ("moipgw", G_LOG_LEVEL_WARNING, "*router.lan*");
  g_test_expect_message ("moipgw", G_LOG_LEVEL_WARNING, "*10.0.0.1/40*");
  g_assert_true (mgw_address_set_load_never_ban (set, mixed, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (mgw_address_set_get_size (set), ==, 4);
  g_assert_true (mgw_address_set_contains (set, "192.168.1.1"));
  g_assert_true (mgw_address_set_contains (set, "fd12:3456::1"));
  g_assert_true (mgw_address_set_contains (set, "2001:db8::7"));
  g_assert_true (mgw_address_set_contains (set, "198.51.100.1"));

  /* Not an object: an error, the set as it was. */
  for (guint i = 0; i < G_N_ELEMENTS (not_objects); i++)
    {
      g_autofree char *path = write_temp (dir, "bad.json", not_objects[i]);
      g_autoptr(GError) load_error = NULL;

      g_test_message ("%s", not_objects[i]);
      g_assert_false (mgw_address_set_load_never_ban (set, path, &load_error));
      g_assert_error (load_error, MGW_ERROR, MGW_ERROR_CONFIG);
      g_assert_nonnull (strstr (load_error->message, path));
      g_assert_cmpuint (mgw_address_set_get_size (set), ==, 4);
      g_assert_true (mgw_address_set_contains (set, "192.168.1.1"));
      g_assert_cmpint (g_unlink (path), ==, 0);
    }

  /* Unreadable (a directory): an error too. */
  g_assert_false (mgw_address_set_load_never_ban (set, dir, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (mgw_address_set_get_size (set), ==, 4);

  g_assert_cmpint (g_unlink (mixed), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_local (void)
{
  g_autoptr(MgwAddressSet) set = mgw_address_set_new ();
  g_autoptr(GError) error = NULL;
  struct ifaddrs *list = NULL;
  guint seen = 0;

  add_ok (set, "192.0.2.1");   /* replaced */
  g_assert_true (mgw_address_set_load_local (set, &error));
  g_assert_no_error (error);
  g_assert_false (mgw_address_set_contains (set, "192.0.2.1"));
  g_assert_true (mgw_address_set_contains (set, "127.0.0.1"));
  g_assert_true (mgw_address_set_contains (set, "127.0.1.1"));
  g_assert_true (mgw_address_set_contains (set, "::ffff:127.0.0.1"));
  /* Always there, IPv6 loopback configured or not. */
  g_assert_true (mgw_address_set_contains (set, "::1"));
  g_assert_false (mgw_address_set_contains (set, "::2"));

  /* Every address of every interface. */
  g_assert_cmpint (getifaddrs (&list), ==, 0);
  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      g_autoptr(GSocketAddress) address = NULL;
      g_autofree char *text = NULL;
      gsize size;

      if (ifa->ifa_addr == NULL)
        continue;
      if (ifa->ifa_addr->sa_family == AF_INET)
        size = sizeof (struct sockaddr_in);
      else if (ifa->ifa_addr->sa_family == AF_INET6)
        size = sizeof (struct sockaddr_in6);
      else
        continue;
      address = g_socket_address_new_from_native (ifa->ifa_addr, size);
      text = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
      g_test_message ("%s: %s", ifa->ifa_name, text);
      g_assert_true (mgw_address_set_contains (set, text));
      seen++;
    }
  freeifaddrs (list);
  g_assert_cmpuint (seen, >=, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/address-set/exact", test_exact);
  g_test_add_func ("/address-set/v4-mapped", test_v4_mapped);
  g_test_add_func ("/address-set/prefixes", test_prefixes);
  g_test_add_func ("/address-set/bad", test_bad);
  g_test_add_func ("/address-set/never-ban/fixture", test_never_ban_fixture);
  g_test_add_func ("/address-set/never-ban/files", test_never_ban_files);
  g_test_add_func ("/address-set/never-ban/too-big", test_never_ban_too_big);
  g_test_add_func ("/address-set/never-ban/endless", test_never_ban_endless);
  g_test_add_func ("/address-set/never-ban/fifo", test_never_ban_fifo);
  g_test_add_func ("/address-set/never-ban/not-quoted", test_never_ban_not_quoted);
  g_test_add_func ("/address-set/local", test_local);
  g_test_add_func ("/address-set/peer-addresses", test_peer_addresses);

  return g_test_run ();
}
