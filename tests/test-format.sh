#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test-format.sh SRCDIR [--fix]: every C source and header (src/, tests/,
# fuzz/, bench/) is as uncrustify formats it with SRCDIR/uncrustify.cfg,
# the code's style written down. TAP output; a file that drifted is named
# with its diff. --fix rewrites the drifted files in place instead.
# The configuration is tuned on Debian 12's uncrustify (0.72): another
# version may format differently, which the output says.
set -u
src=$1
fix=${2:-}
cd "$src" || exit 1

if ! command -v uncrustify >/dev/null; then
  echo "1..1"
  echo "not ok 1 uncrustify is not installed (apt-get install uncrustify)"
  exit 1
fi
version=$(uncrustify --version)

if [ -d .git ] && command -v git >/dev/null; then
  files=$(git ls-files -- 'src/*.[ch]' 'tests/*.[ch]' 'fuzz/*.[ch]' 'bench/*.[ch]')
else
  files=$(find src tests fuzz bench -name '*.[ch]' | sort)
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
drifted=
count=0
for f in $files; do
  [ -f "$f" ] || continue
  count=$((count + 1))
  if ! uncrustify -q -c uncrustify.cfg -f "$f" -o "$out" 2>/dev/null; then
    drifted="$drifted $f"
    echo "# uncrustify cannot parse $f"
    continue
  fi
  cmp -s "$f" "$out" && continue
  if [ "$fix" = --fix ]; then
    cp "$out" "$f"
    echo "# reformatted $f"
  else
    drifted="$drifted $f"
    diff -u "$f" "$out" | sed 's/^/# /'
  fi
done

echo "1..1"
if [ -z "$drifted" ]; then
  echo "ok 1 all $count C files format as uncrustify.cfg says ($version)"
else
  echo "not ok 1 formatting drifted ($version) in:$drifted"
  echo "# run: tests/test-format.sh . --fix"
  exit 1
fi
