#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test-install.sh: `meson install` puts every file where Debian expects it.
#
# Builds the project as debian/rules does (prefix /usr, /etc, /var; no
# tests, no sanitizers) in a temporary directory, installs it into a
# DESTDIR and compares the list of installed files with the expected one,
# exactly: a file missing, misplaced or unexpected fails the test. Then
# checks that the files agree with each other (unit, activation file,
# tmpfiles, man pages, translations).
#
# Usage: test-install.sh SRCDIR
set -euo pipefail

srcdir=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build=$tmp/build
root=$tmp/root
status=0

fail() {
    echo "not ok: $*"
    status=1
}

# The test's own ASan/UBSan settings are not for this build.
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS MALLOC_CHECK_ MALLOC_PERTURB_
meson setup "$build" "$srcdir" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
    -Dbuildtype=plain -Dtests=false -Db_sanitize=none >"$tmp/setup.log" 2>&1 ||
    { cat "$tmp/setup.log"; exit 1; }
meson compile -C "$build" >"$tmp/compile.log" 2>&1 || { cat "$tmp/compile.log"; exit 1; }
meson install -C "$build" --no-rebuild --destdir "$root" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; exit 1; }

# Where systemd wants units, sysusers.d and tmpfiles.d files: on Debian 12
# /lib/systemd/system and /usr/lib/{sysusers,tmpfiles}.d (systemd.pc).
pc() { pkg-config --variable="$1" systemd 2>/dev/null || true; }
unitdir=$(pc systemdsystemunitdir); unitdir=${unitdir:-/usr/lib/systemd/system}
sysusersdir=$(pc sysusersdir); sysusersdir=${sysusersdir:-/usr/lib/sysusers.d}
tmpfilesdir=$(pc tmpfilesdir); tmpfilesdir=${tmpfilesdir:-/usr/lib/tmpfiles.d}

expected=(
    /usr/sbin/moipgwd
    /usr/bin/moipgwctl
    /etc/moipgw/moipgw.conf
    "$unitdir/moipgwd.service"
    "$sysusersdir/moipgw.conf"
    "$tmpfilesdir/moipgw.conf"
    /usr/share/dbus-1/system.d/org.moipgw.Gateway1.conf
    /usr/share/dbus-1/system-services/org.moipgw.Gateway1.service
    /usr/share/dbus-1/interfaces/org.moipgw.Gateway1.xml
    /usr/share/bash-completion/completions/moipgwctl
    /usr/share/man/man8/moipgwd.8
    /usr/share/man/man1/moipgwctl.1
    /usr/share/man/man5/moipgw.conf.5
    /usr/share/doc/moipgw/README.md
    /usr/share/doc/moipgw/architecture.md
    /usr/share/doc/moipgw/deployment.md
    /usr/share/doc/moipgw/migrating-from-pymoip.md
    /usr/share/doc/moipgw/protocol.md
    /usr/share/doc/moipgw/security.md
    /usr/share/doc/moipgw/web.md
    /usr/share/doc/moipgw/images/demo-page.png
    /usr/share/doc/moipgw/dbus/moipgw-org.moipgw.Gateway1.rst
    /usr/share/doc/moipgw/dbus/moipgw-org.moipgw.Gateway1.Session.rst
    /usr/share/doc/moipgw/dbus/moipgw-org.moipgw.Gateway1.Teletel.rst
    /usr/share/doc/moipgw/examples/fail2ban/filter.d/moipgw.conf
    /usr/share/doc/moipgw/examples/fail2ban/jail.d/moipgw.conf
)
# Every language of po/LINGUAS, compiled.
languages=$(sed 's/#.*//' "$srcdir/po/LINGUAS" | tr -s ' \n' '\n' | sed '/^$/d')
for lang in $languages; do
    expected+=("/usr/share/locale/$lang/LC_MESSAGES/moipgw.mo")
done

printf '%s\n' "${expected[@]}" | sort >"$tmp/expected"
(cd "$root" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) >"$tmp/installed"
if ! diff -u "$tmp/expected" "$tmp/installed" >"$tmp/diff"; then
    fail "installed files differ from the expected ones (- missing, + unexpected):"
    sed -n '3,$p' "$tmp/diff" | grep '^[-+]' || true
fi

# Programs executable, data files not.
for f in /usr/sbin/moipgwd /usr/bin/moipgwctl; do
    [[ -x $root$f ]] || fail "$f is not executable"
done
for f in /etc/moipgw/moipgw.conf "$unitdir/moipgwd.service"; do
    [[ -e $root$f && ! -x $root$f ]] || fail "$f is executable"
done
"$root/usr/sbin/moipgwd" --version | grep -q '^moipgwd ' || fail "the installed moipgwd does not run"

# The files agree with each other and with Debian's paths.
unit=$root$unitdir/moipgwd.service
grep -qx 'ExecStart=/usr/sbin/moipgwd --require-bus' "$unit" || fail "unit: ExecStart is not /usr/sbin/moipgwd --require-bus"
grep -qx 'ExecReload=+/usr/bin/moipgwctl reload' "$unit" || fail "unit: ExecReload is not +/usr/bin/moipgwctl reload (as root)"
grep -qx 'User=moipgw' "$unit" || fail "unit: not User=moipgw"
grep -qx 'StateDirectory=moipgw' "$unit" || fail "unit: no StateDirectory=moipgw"
docs=$(sed -n 's|^Documentation=||p' "$unit")
[[ -n $docs ]] || fail "unit: no Documentation="
for doc in $docs; do
    case $doc in
        file://*) [[ -e $root${doc#file://} ]] || fail "unit: Documentation $doc is not installed" ;;
        man:*)
            page=${doc#man:}; name=${page%(*}; section=${page#*(}; section=${section%)}
            [[ -e $root/usr/share/man/man$section/$name.$section ]] ||
                fail "unit: Documentation $doc is not installed" ;;
        *) fail "unit: Documentation $doc is neither file:// nor man:" ;;
    esac
done
activation=$root/usr/share/dbus-1/system-services/org.moipgw.Gateway1.service
grep -qx 'SystemdService=moipgwd.service' "$activation" || fail "activation file: not moipgwd.service"
grep -qx 'User=moipgw' "$activation" || fail "activation file: not User=moipgw"
grep -q '^u moipgw ' "$root$sysusersdir/moipgw.conf" || fail "sysusers.d: no user moipgw"
grep -qx 'd /var/lib/moipgw 0750 moipgw moipgw -' "$root$tmpfilesdir/moipgw.conf" ||
    fail "tmpfiles.d: not /var/lib/moipgw for moipgw"
grep -q '<allow own="org.moipgw.Gateway1"/>' "$root/usr/share/dbus-1/system.d/org.moipgw.Gateway1.conf" ||
    fail "bus policy: nobody may own the name"
# (roff source: scdoc writes "\&" after each full stop)
sed 's/\\&//g' "$root/usr/share/man/man8/moipgwd.8" >"$tmp/moipgwd.8"
for path in /etc/moipgw/moipgw.conf /var/lib/moipgw/banned.json "$unitdir/moipgwd.service" \
    "$tmpfilesdir/moipgw.conf" /usr/share/doc/moipgw/deployment.md; do
    grep -qF "$path" "$tmp/moipgwd.8" || fail "moipgwd.8 does not name $path"
done
for lang in $languages; do
    msgunfmt "$root/usr/share/locale/$lang/LC_MESSAGES/moipgw.mo" >/dev/null ||
        fail "$lang: moipgw.mo is not a message catalogue"
done

if ((status == 0)); then
    echo "ok: $(wc -l <"$tmp/installed") files installed where Debian expects them" \
        "(units in $unitdir; languages: ${languages:-none})"
fi
exit $status
