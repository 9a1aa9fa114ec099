#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test-ban-ns.sh MOIPGWD: IPv6 bans by prefix, with real connections.
# Two network namespaces joined by a veth pair: moipgwd in one, in the
# other 10,000 addresses of one /64 (a local route on lo and
# IP_FREEBIND, so that a socket can be bound to any of them). Each connects and leaves at once
# (a short session): the first bans 2001:db8:1:2::/64, the others are
# refused by that one entry. banned.json then holds that one key, and an
# address of the next /64 still gets in. Needs root (ip netns): exit 77
# (skipped) otherwise. Nothing is changed outside the two namespaces.
set -u
moipgwd=$1
python=/usr/bin/python3
count=${MGW_BAN_NS_COUNT:-10000}

echo "1..4"
skip ()
{
  echo "ok 1 # SKIP $*"
  exit 77
}
[ "$(id -u)" = 0 ] || skip "not root: ip netns is not possible"
command -v ip >/dev/null || skip "no ip(8)"

gw_ns=mgw-bans-gw-$$
users_ns=mgw-bans-users-$$
tmp=$(mktemp -d)
gw_pid=
cleanup ()
{
  [ -n "$gw_pid" ] && kill -KILL "$gw_pid" 2>/dev/null
  ip netns del "$gw_ns" 2>/dev/null
  ip netns del "$users_ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

if ! { ip netns add "$gw_ns" && ip netns add "$users_ns" &&
       ip -n "$gw_ns" link add mgwb0 type veth peer name mgwb1 netns "$users_ns" &&
       ip -n "$gw_ns" link set lo up && ip -n "$users_ns" link set lo up &&
       ip -n "$gw_ns" addr add 2001:db8:ff::1/64 dev mgwb0 nodad &&
       ip -n "$users_ns" addr add 2001:db8:ff::2/64 dev mgwb1 nodad &&
       ip -n "$gw_ns" link set mgwb0 up && ip -n "$users_ns" link set mgwb1 up &&
       ip -n "$users_ns" -6 route add local 2001:db8:1::/48 dev lo &&
       ip -n "$gw_ns" -6 route add 2001:db8:1::/48 via 2001:db8:ff::2; } 2> "$tmp/net.err"; then
  skip "cannot set up the network namespaces: $(head -1 "$tmp/net.err")"
fi

mkdir -p "$tmp/state" "$tmp/config"
cat > "$tmp/moipgw.conf" <<EOF
[bans]
min-session=1
ipv6-prefix=64
EOF
port=9023
ip netns exec "$gw_ns" "$moipgwd" -f "$tmp/moipgw.conf" --demo --no-dbus --nocommandchannel \
  --display=off --tcp "$port" -i 2001:db8:ff::1 -g "$tmp/config" --state-dir "$tmp/state" \
  > "$tmp/gw.log" 2>&1 &
gw_pid=$!

# The users: connect, leave at once. Then one of the next /64, which
# must be let in (it reads the welcome line, and stays long enough not to
# be banned itself).
cat > "$tmp/users.py" <<'EOF'
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
gw = ("2001:db8:ff::1", port)
for _ in range(100):
    try:
        socket.create_connection(gw, timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the gateway does not listen")
time.sleep(1.5)   # the probe above was a short session of ff::2: let it be
start = time.monotonic()
for i in range(count):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_IP, 15, 1)   # IP_FREEBIND
    s.bind(("2001:db8:1:2:%x:%x::%x" % (i >> 12, i & 0xfff, i + 1), 0))
    s.connect(gw)
    s.close()
print("connections: %d in %.1f s" % (count, time.monotonic() - start))
time.sleep(0.5)
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_IP, 15, 1)   # IP_FREEBIND
s.bind(("2001:db8:1:3::1", 0))
s.settimeout(5)
s.connect(gw)
data = b""
while b"Welcome" not in data:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("2001:db8:1:3::1 was refused")
    data += chunk
print("2001:db8:1:3::1 let in")
time.sleep(1.2)   # not a short session: not banned
s.close()
EOF
start=$(date +%s)
if ip netns exec "$users_ns" "$python" "$tmp/users.py" "$port" "$count" > "$tmp/users.out" 2>&1; then
  echo "ok 1 $count connections from one /64, then one from the next /64 let in"
else
  echo "not ok 1 users: $(tail -1 "$tmp/users.out")"
fi
sed 's/^/# /' "$tmp/users.out"

kill -TERM "$gw_pid"
wait "$gw_pid"
gw_pid=
keys=$("$python" -c 'import json, sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' \
         "$tmp/state/banned.json" 2>&1)
# The probe before the flood, from 2001:db8:ff::2, may be banned too.
keys=${keys/2001:db8:ff::\/64/}
keys=$(echo $keys)
if [ "$keys" = "2001:db8:1:2::/64" ]; then
  echo "ok 2 banned.json holds one entry: 2001:db8:1:2::/64"
else
  echo "not ok 2 banned.json holds: $keys"
fi
banned=$(grep -c 'Banned 2001:db8:1:2::/64' "$tmp/gw.log")
refused=$(grep -c 'refused\|banned, closed' "$tmp/gw.log")
if [ "$banned" -ge 1 ] && [ "$banned" -lt $((count / 10)) ]; then
  echo "ok 3 $banned bans of the prefix for $count connections: the others were refused"
else
  echo "not ok 3 $banned bans of the prefix for $count connections"
  tail -5 "$tmp/gw.log" | sed 's/^/# /'
fi
elapsed=$(( $(date +%s) - start ))
if [ "$elapsed" -lt 60 ]; then
  echo "ok 4 done in $elapsed s"
else
  echo "not ok 4 took $elapsed s"
fi
echo "# refused lines in the log: $refused"
