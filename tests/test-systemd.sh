#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test-systemd.sh: checks the files that install moipgwd as a system
# service: the systemd unit (systemd-analyze verify, and an exposure of
# at most 2.0 by systemd-analyze security), the bus policy (well-formed,
# and the default context allowed only the read-only calls), the bus
# activation file (names the unit and the bus name) and the sysusers.d
# entry (the user the unit and the policy name).
#
# Usage: test-systemd.sh UNIT POLICY ACTIVATION SYSUSERS MOIPGWD MOIPGWCTL
# Exit status: 0 passed, 1 failed, 77 skipped (no systemd-analyze).
set -u

MAX_EXPOSURE=2.0
BUS_NAME=org.moipgw.Gateway1

if [ $# -ne 6 ]; then
  echo "usage: $0 UNIT POLICY ACTIVATION SYSUSERS MOIPGWD MOIPGWCTL" >&2
  exit 2
fi
unit=$1 policy=$2 activation=$3 sysusers=$4 moipgwd=$5 moipgwctl=$6
failures=0

pass () { echo "ok: $*"; }
fail () { echo "FAILED: $*"; failures=$((failures + 1)); }
# check DESCRIPTION FILE REGEX: FILE has a line matching REGEX.
check_line () {
  if grep -Eq -- "$3" "$2"; then pass "$1"; else fail "$1 ($(basename "$2") has no line matching '$3')"; fi
}

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not found"
  exit 77
fi
for f in "$unit" "$policy" "$activation" "$sysusers" "$moipgwd" "$moipgwctl"; do
  [ -e "$f" ] || { echo "FAILED: $f does not exist"; exit 1; }
done
# systemd wants absolute paths.
moipgwd=$(realpath "$moipgwd")
moipgwctl=$(realpath "$moipgwctl")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- the unit -------------------------------------------------------------

echo "# unit: $unit"
check_line "unit is Type=notify (a bus restart must not stop it)" "$unit" '^Type=notify$'
check_line "unit names BusName=$BUS_NAME (activation)" "$unit" "^BusName=$BUS_NAME\$"
check_line "unit orders itself after dbus.service" "$unit" '^After=.*dbus\.service'
if grep -Eq '^(Requires|BindsTo|PartOf)=.*dbus' "$unit"; then
  fail "unit must not stop with dbus (Requires/BindsTo/PartOf)"
else
  pass "dbus restarts do not stop the unit"
fi
check_line "unit runs as the static user moipgw" "$unit" '^User=moipgw$'
check_line "unit runs as the group moipgw" "$unit" '^Group=moipgw$'
check_line "unit starts moipgwd (system bus, the name required)" "$unit" '^ExecStart=/[^ ]*/moipgwd --require-bus$'
check_line "unit reloads through moipgwctl, as root (a refusal fails; the daemon's user is no administrator)" "$unit" '^ExecReload=\+/[^ ]*/moipgwctl reload$'
if grep -Eq '^DynamicUser=(yes|true|1|on)$' "$unit"; then
  fail "unit must not use DynamicUser= (the bus policy names the user)"
else
  pass "no DynamicUser="
fi

# The installed unit names the installed binary; the copy names the one
# just built, so that verify finds it.
mkdir "$tmp/units"
copy="$tmp/units/moipgwd.service"
sed -E -e "s|^ExecStart=[^ ]*/moipgwd|ExecStart=$moipgwd|" \
      -e "s|^ExecReload=\+[^ ]*/moipgwctl|ExecReload=+$moipgwctl|" "$unit" > "$copy"
check_line "copy of the unit starts the built moipgwd" "$copy" "^ExecStart=$moipgwd --require-bus\$"

echo "# systemd-analyze verify (ExecStart=$moipgwd)"
verify_out=$(systemd-analyze verify --man=no "$copy" 2>&1)
verify_rc=$?
[ -n "$verify_out" ] && printf '%s\n' "$verify_out" | sed 's/^/#   /'
# Units of the machine itself may draw warnings; only ours counts.
if [ $verify_rc -ne 0 ]; then
  fail "systemd-analyze verify exited with $verify_rc"
elif printf '%s\n' "$verify_out" | grep -q 'moipgwd'; then
  fail "systemd-analyze verify complains about moipgwd.service"
else
  pass "systemd-analyze verify is clean"
fi

echo "# systemd-analyze security --offline=true"
security_out=$(systemd-analyze security --no-pager --offline=true "$copy" 2>&1)
security_rc=$?
printf '%s\n' "$security_out" | grep -E '✗|Overall' | sed 's/^/#   /'
exposure=$(printf '%s\n' "$security_out" |
           sed -nE 's/.*Overall exposure level for moipgwd\.service: ([0-9]+\.[0-9]+).*/\1/p')
if [ $security_rc -ne 0 ] || [ -z "$exposure" ]; then
  fail "systemd-analyze security gave no exposure level (exit status $security_rc)"
elif awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
  pass "exposure $exposure <= $MAX_EXPOSURE"
else
  fail "exposure $exposure > $MAX_EXPOSURE"
fi

# --- the bus activation file ------------------------------------------------

echo "# activation file: $activation"
check_line "activation file is a [D-BUS Service]" "$activation" '^\[D-BUS Service\]$'
check_line "activation file names $BUS_NAME" "$activation" "^Name=$BUS_NAME\$"
check_line "activation file names the unit $(basename "$unit")" "$activation" \
  "^SystemdService=$(basename "$unit")\$"
check_line "activation file runs as moipgw" "$activation" '^User=moipgw$'
check_line "activation file never execs the daemon itself" "$activation" '^Exec=/bin/false$'

# --- the sysusers.d entry -------------------------------------------------------

echo "# sysusers.d: $sysusers"
check_line "sysusers.d creates the user moipgw, home /var/lib/moipgw" "$sysusers" \
  '^u moipgw - "[^"]+" /var/lib/moipgw$'
if command -v systemd-sysusers >/dev/null && [ "$(id -u)" = 0 ]; then
  # Parsed for real, against an empty root: nothing is written.
  mkdir "$tmp/root"
  sysusers_out=$(systemd-sysusers --root="$tmp/root" --dry-run "$(realpath "$sysusers")" 2>&1)
  sysusers_rc=$?
  printf '%s\n' "$sysusers_out" | sed 's/^/#   /'
  if [ $sysusers_rc -eq 0 ] && printf '%s\n' "$sysusers_out" | grep -q "Creating user 'moipgw'"; then
    pass "systemd-sysusers --dry-run creates moipgw"
  else
    fail "systemd-sysusers --dry-run (exit status $sysusers_rc)"
  fi
else
  echo "# systemd-sysusers --dry-run skipped (needs root)"
fi

# --- the bus policy -----------------------------------------------------------

echo "# bus policy: $policy"
if command -v xmllint >/dev/null; then
  if xmllint --noout --nonet "$policy"; then
    pass "bus policy is well-formed XML"
  else
    fail "xmllint: bus policy is not well-formed"
  fi
  # xpath: the attribute values of the matching nodes, one a line.
  xpath () { xmllint --nonet --xpath "$1" "$policy" 2>/dev/null |
             sed -E 's/^ *[a-z_]+="([^"]*)"$/\1/' | sort; }
  owners=$(xpath "//policy/allow[@own='$BUS_NAME']/../@user" | tr '\n' ' ')
  if [ "$owners" = "moipgw root " ]; then
    pass "only moipgw and root may own $BUS_NAME"
  else
    fail "owners of $BUS_NAME: '$owners', expected 'moipgw root '"
  fi
  if [ -n "$(xpath "//policy[@user='root']/allow[@send_destination='$BUS_NAME' and not(@send_interface) and not(@send_member)]/@send_destination")" ] &&
     [ -n "$(xpath "//policy[@group='moipgw']/allow[@send_destination='$BUS_NAME' and not(@send_interface) and not(@send_member)]/@send_destination")" ]; then
    pass "root and the group moipgw may call every method"
  else
    fail "root and the group moipgw must be allowed every method"
  fi
  # What everyone may call: interface.member, '*' for a whole interface.
  calls=$(xmllint --nonet --xpath \
              "//policy[@context='default']/allow[@send_destination='$BUS_NAME']" "$policy" 2>/dev/null |
          tr '\n' ' ' | sed 's|/>|/>\n|g' |
          while read -r rule; do
            [ -z "$rule" ] && continue
            iface=$(printf '%s' "$rule" | sed -nE 's/.*send_interface="([^"]*)".*/\1/p')
            member=$(printf '%s' "$rule" | sed -nE 's/.*send_member="([^"]*)".*/\1/p')
            echo "${iface:-ANY}.${member:-*}"
          done | sort | tr '\n' ' ')
  expected="org.freedesktop.DBus.Introspectable.Introspect org.freedesktop.DBus.ObjectManager.GetManagedObjects org.freedesktop.DBus.Peer.* org.freedesktop.DBus.Properties.Get org.freedesktop.DBus.Properties.GetAll "
  echo "#   everyone may call: $calls"
  if [ "$calls" = "$expected" ]; then
    pass "everyone may call the read-only methods, and only them (no ListBans, no ListPeers)"
  else
    fail "default context allows '$calls', expected '$expected'"
  fi
  if [ -n "$(xpath "//policy[@context='default']/deny[@send_destination='$BUS_NAME' and not(@send_interface)]/@send_destination")" ]; then
    pass "default context denies everything else explicitly"
  else
    fail "default context has no catch-all deny for $BUS_NAME"
  fi
  if [ -n "$(xpath "//policy[@context='default']/allow[@receive_sender='$BUS_NAME']/@receive_sender")" ]; then
    pass "everyone may receive the signals of $BUS_NAME"
  else
    fail "default context does not allow receiving from $BUS_NAME"
  fi
  denied=$(xpath "//policy[@context='default']/deny[@receive_sender='$BUS_NAME' and @receive_interface='$BUS_NAME']/@receive_member" |
           tr '\n' ' ')
  if [ "$denied" = "Banned Unbanned " ]; then
    pass "but not Banned and Unbanned: they name users' addresses"
  else
    fail "default context denies receiving '$denied', expected 'Banned Unbanned '"
  fi
  if [ -n "$(xpath "//policy[@context='default']/deny[@receive_sender='$BUS_NAME' and @receive_interface='$BUS_NAME.Session' and @receive_member='ScreenOutput']/@receive_member")" ]; then
    pass "nor Session.ScreenOutput: it shows what a user reads"
  else
    fail "default context does not deny receiving Session.ScreenOutput"
  fi
  if [ -n "$(xpath "//policy[@user='root']/allow[@receive_sender='$BUS_NAME' and not(@receive_member)]/@receive_sender")" ] &&
     [ -n "$(xpath "//policy[@group='moipgw']/allow[@receive_sender='$BUS_NAME' and not(@receive_member)]/@receive_sender")" ]; then
    pass "root and the group moipgw receive every signal"
  else
    fail "root and the group moipgw must receive every signal"
  fi
  if [ -n "$(xpath "//policy[@user='moipgw']/allow[@send_destination]/@send_destination")" ]; then
    fail "the daemon's user may call the gateway: it is no administrator"
  else
    pass "the daemon's user has no call rule of its own"
  fi
else
  echo "# xmllint not found: bus policy checks skipped"
fi

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
exit 0
