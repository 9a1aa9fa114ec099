#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-po.py: the translations are complete and current.

POTFILES names every source file with translatable strings; each po/ file
of LINGUAS passes msgfmt --check with every message translated (no fuzzy),
holds every message of the sources as they are now, and keeps the Minitel
status lines within the 39 places of line zero. TAP output."""
import os
import re
import subprocess
import sys
import tempfile

SRC = sys.argv[1]
results = []


def check(name, ok, detail=''):
    results.append((name, ok, detail))


def potfiles():
    listed = [l.strip() for l in open(os.path.join(SRC, 'po', 'POTFILES'))
              if l.strip() and not l.startswith('#')]
    marked = re.compile(r'\b(?:N?_|C_|NC_|g_dngettext|ngettext|g_dpgettext2?)\s*\(')
    wanted = []
    for top, dirs, names in sorted(os.walk(os.path.join(SRC, 'src'))):
        for name in sorted(names):
            path = os.path.join(top, name)
            if name.endswith('.c') and marked.search(open(path).read()):
                wanted.append(os.path.relpath(path, SRC))
    missing = [f for f in wanted if f not in listed]
    gone = [f for f in listed if not os.path.exists(os.path.join(SRC, f))]
    check('POTFILES lists every file with translatable strings', not missing,
          'missing: ' + ' '.join(missing))
    check('POTFILES lists only files that exist', not gone, 'gone: ' + ' '.join(gone))
    return listed


def fresh_pot(listed, directory):
    pot = os.path.join(directory, 'moipgw.pot')
    # The keywords of meson's i18n "glib" preset.
    subprocess.run(['xgettext', '--from-code=UTF-8', '--add-comments', '-o', pot,
                    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
                    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3',
                    '--keyword=g_dpgettext2:2c,3', '--flag=N_:1:pass-c-format',
                    '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
                    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
                    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
                    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
                    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
                    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format',
                    '--flag=g_printf:1:c-format', '--flag=g_fprintf:2:c-format',
                    '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format']
                   + listed, cwd=SRC, check=True, capture_output=True)
    return pot


def status_lines(po):
    """msgstrs of entries whose translator comment says status line."""
    out = subprocess.run(['msgattrib', '--no-wrap', '--translated', po],
                         check=True, capture_output=True, text=True).stdout
    for block in out.split('\n\n'):
        if 'a Minitel status line' in block:
            m = re.search(r'^msgstr "(.*)"$', block, re.M)
            if m:
                yield m.group(1).encode().decode('unicode_escape').encode('latin-1').decode()


def languages(listed):
    linguas = [w for l in open(os.path.join(SRC, 'po', 'LINGUAS'))
               if not l.startswith('#') for w in l.split()]
    check('LINGUAS names at least one language', bool(linguas))
    with tempfile.TemporaryDirectory() as tmp:
        pot = fresh_pot(listed, tmp)
        for lang in linguas:
            po = os.path.join(SRC, 'po', lang + '.po')
            r = subprocess.run(['msgfmt', '--check', '--statistics', '-o', os.devnull, po],
                               capture_output=True, text=True)
            stats = r.stderr.strip()
            check(f'{lang}.po: msgfmt --check', r.returncode == 0, stats)
            check(f'{lang}.po: every message translated, none fuzzy',
                  re.fullmatch(r'\d+ translated messages?\.', stats) is not None, stats)
            r = subprocess.run(['msgcmp', '--use-untranslated', po, pot],
                               capture_output=True, text=True)
            check(f'{lang}.po: holds every message of the sources', r.returncode == 0,
                  r.stderr.strip()[:2000])
            lines = list(status_lines(po))
            too_long = [l for l in lines if len(l) > 39]
            check(f'{lang}.po: {len(lines)} status lines within 39 places',
                  bool(lines) and not too_long, ' | '.join(too_long))


languages(potfiles())
print(f'1..{len(results)}')
for i, (name, ok, detail) in enumerate(results, 1):
    print(f'{"ok" if ok else "not ok"} {i} {name}')
    if not ok and detail:
        for line in detail.splitlines():
            print('# ' + line)
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
