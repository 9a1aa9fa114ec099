#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test-recording-full.sh MOIPGWD: a session recorded onto a full disk.
# In a private mount namespace, moipgwd's state directory is a tmpfs of
# 256 KiB, [recording] enabled; its default server (a raw tcp:// one,
# python3) sends each user 400 KiB. The user receives all of it (the
# session does not notice), the daemon says once that it cannot write
# that recording, and a new user is served the same. Needs root
# (unshare -m, mount): exit 77 (skipped) otherwise. Nothing is mounted
# outside the namespace.
set -u
moipgwd=$1
python=/usr/bin/python3

skip ()
{
  echo "1..0 # SKIP $*"
  exit 77
}
if [ -z "${MGW_RECORDING_FULL_NS:-}" ]; then
  [ "$(id -u)" = 0 ] || skip "not root: cannot make a mount namespace"
  command -v unshare >/dev/null || skip "no unshare(1)"
  unshare -m --propagation private true 2>/dev/null || skip "unshare -m is not permitted here"
  MGW_RECORDING_FULL_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

tmp=$(mktemp -d)
gw_pid=
server_pid=
cleanup ()
{
  [ -n "$gw_pid" ] && kill -KILL "$gw_pid" 2>/dev/null
  if [ -n "$server_pid" ]; then
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  umount "$tmp/state" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/state" "$tmp/etc"
mount -t tmpfs -o size=256k,mode=0755 tmpfs "$tmp/state" 2> "$tmp/mount.err" ||
  skip "cannot mount a tmpfs: $(head -1 "$tmp/mount.err")"
echo "1..4"

# The default server: 400 KiB to each connection, then it waits.
cat > "$tmp/server.py" <<'EOF'
import socket, sys, threading
payload = bytes(0x41 + i % 26 for i in range(400 * 1024)) + b"END-OF-PAGE"
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % s.getsockname()[1])
def serve(c):
    c.sendall(payload)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
"$python" "$tmp/server.py" "$tmp/server.port" > "$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/server.port" ] && break
  sleep 0.1
done
[ -s "$tmp/server.port" ] || { echo "not ok 1 the test server did not start"; exit 1; }
server_port=$(cat "$tmp/server.port")

cat > "$tmp/moipgw.conf" <<EOF
[listen]
raw-port=0
[server]
uri=tcp://127.0.0.1:$server_port
[telnet]
garbage-bytes=0
typing-rate=0
scanner-wait=0
[recording]
enabled=true
EOF
"$moipgwd" --config="$tmp/moipgw.conf" --no-dbus --nocommandchannel --display=off \
  --tcp off --ws off -i 127.0.0.1 -g "$tmp/etc" --state-dir "$tmp/state" \
  > "$tmp/gw.log" 2>&1 &
gw_pid=$!
raw_port=
for _ in $(seq 100); do
  raw_port=$(sed -n 's/.*listening for raw TCP users on port \([0-9]*\).*/\1/p' "$tmp/gw.log")
  [ -n "$raw_port" ] && break
  sleep 0.1
done
[ -n "$raw_port" ] || { echo "not ok 1 moipgwd did not listen"; sed 's/^/# /' "$tmp/gw.log"; exit 1; }

# A user: everything the server sent arrives, in order.
cat > "$tmp/user.py" <<'EOF'
import socket, sys
payload = bytes(0x41 + i % 26 for i in range(400 * 1024)) + b"END-OF-PAGE"
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
data = b""
while not data.endswith(b"END-OF-PAGE"):
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("closed after %d bytes" % len(data))
    data += chunk
if payload not in data:
    sys.exit("%d bytes, not the server's" % len(data))
print("%d bytes received" % len(data))
s.close()
EOF
if "$python" "$tmp/user.py" "$raw_port" > "$tmp/user1.out" 2>&1; then
  echo "ok 1 a recorded user received all of 400 KiB on a 256 KiB disk ($(cat "$tmp/user1.out"))"
else
  echo "not ok 1 the first user: $(tail -1 "$tmp/user1.out")"
fi

# Its recording stopped with one warning (its session ends meanwhile).
for _ in $(seq 50); do
  grep -q "session 0 (raw .*): ended" "$tmp/gw.log" && break
  sleep 0.1
done
failures=$(grep -c "recording [0-9-]* of session 0: cannot write: .*No space left on device" "$tmp/gw.log")
if [ "$failures" = 1 ]; then
  echo "ok 2 the write failure logged once"
else
  echo "not ok 2 the write failure logged $failures times"
  sed 's/^/# /' "$tmp/gw.log"
fi

if "$python" "$tmp/user.py" "$raw_port" > "$tmp/user2.out" 2>&1; then
  echo "ok 3 a new user served the same ($(cat "$tmp/user2.out"))"
else
  echo "not ok 3 the second user: $(tail -1 "$tmp/user2.out")"
fi

kill -TERM "$gw_pid"
wait "$gw_pid"
status=$?
gw_pid=
if [ "$status" = 0 ]; then
  echo "ok 4 moipgwd exits 0 on SIGTERM"
else
  echo "not ok 4 moipgwd exited $status"
  tail -20 "$tmp/gw.log" | sed 's/^/# /'
fi
grep -i "recording" "$tmp/gw.log" | sed 's/^/# /'
df -k "$tmp/state" | sed 's/^/# /'
