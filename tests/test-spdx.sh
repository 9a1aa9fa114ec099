#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# test-spdx.sh SRCDIR: every source, test, script and build file carries
# its SPDX-License-Identifier line, COPYING holds the GPL's text and
# meson.build and debian/copyright name the same licence. Data files that
# cannot carry a comment (JSON, PEM keys and certificates, PNG images,
# fuzz corpora, debian/changelog and source/format) and the Markdown
# documents are covered by debian/copyright's "Files: *". TAP output.
set -u
src=$1
id='SPDX-License-Identifier: GPL-3.0-or-later'
exempt='^(fuzz/(corpus|crashes)/|debian/changelog$|debian/source/format$|debian/copyright$|COPYING$|.*\.(json|pem|key|md|png)$)'
n=0
failed=0

ok () {
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}

cd "$src" || exit 1
if [ -d .git ] && command -v git >/dev/null; then
  files=$(git ls-files)
else
  files=$(find . -path ./.git -prune -o -path './build*' -prune -o -type f -print | sed 's|^\./||')
fi

missing=
count=0
for f in $files; do
  [[ $f =~ $exempt ]] && continue
  [ -f "$f" ] || continue
  count=$((count + 1))
  # Within the first three lines: after a shebang, an XML declaration or
  # a man page's title line.
  head -n 3 "$f" | grep -qF "$id" || missing="$missing $f"
done
[ -z "$missing" ]; ok $? "all $count files carry '$id'"
[ -n "$missing" ] && echo "# missing in:$missing"

grep -q 'GNU GENERAL PUBLIC LICENSE' COPYING 2>/dev/null && grep -q 'Version 3, 29 June 2007' COPYING
ok $? "COPYING is the GPL, version 3"
grep -q "license: 'GPL-3.0-or-later'" meson.build
ok $? "meson.build's project() names GPL-3.0-or-later"
grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' debian/copyright &&
  grep -q '^License: GPL-3.0+$' debian/copyright
ok $? "debian/copyright is DEP-5 and names GPL-3.0+"
echo "1..$n"
exit $failed
