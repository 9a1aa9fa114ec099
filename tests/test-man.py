#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-man.py: the man pages render without a single groff warning, and
say what the code does: every key of mgw-config.c's table is in
moipgw.conf(5) under its group, every option of `moipgwd --help` in
moipgwd(8), every command and option of `moipgwctl --help` in
moipgwctl(1), no placeholder is left unfilled.

Usage: test-man.py SRCDIR MOIPGWD MOIPGWCTL PAGE..."""

import os
import re
import subprocess
import sys

failures = []


def fail(message):
    failures.append(message)
    print("not ok:", message)


def render(page):
    """groff -ww (every warning) to plain text; warnings are failures."""
    result = subprocess.run(
        ["groff", "-ww", "-t", "-man", "-Tutf8", "-P-c", "-P-b", "-P-o", "-P-u", page],
        capture_output=True, text=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
    if result.returncode != 0 or result.stderr:
        fail(f"{os.path.basename(page)}: groff: {result.stderr.strip() or result.returncode}")
    # Words hyphenated at the end of a line, and line breaks, undone.
    text = re.sub(r"(\w)‐\n\s*", r"\1", result.stdout)
    text = re.sub(r"(\w)-\n\s*(?=[a-z])", r"\1-", text)
    return text


def long_options(program):
    out = subprocess.run([program, "--help"],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, LANGUAGE="C", LC_ALL="C.UTF-8")).stdout
    return out, sorted(set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", out, re.M)))


def config_keys(srcdir):
    source = open(os.path.join(srcdir, "src", "daemon", "mgw-config.c"), encoding="utf-8").read()
    table = source[source.index("static const KeyDef keys[]"):]
    table = table[:table.index("};")]
    return re.findall(r'\{ "([\w-]+)", "([\w-]+)",', table)


def main():
    srcdir, moipgwd, moipgwctl, *pages = sys.argv[1:]
    texts = {}
    for page in pages:
        name = os.path.basename(page)
        raw = open(page, encoding="utf-8").read()
        if "@" in re.sub(r"[\w.+-]+@[\w.-]+", "", raw):
            fail(f"{name}: an unfilled @PLACEHOLDER@")
        texts[name] = render(page)
        if len(texts[name].splitlines()) < 40:
            fail(f"{name}: rendered to almost nothing")

    # moipgw.conf(5): each group a section, each key in its section.
    conf = texts["moipgw.conf.5"]
    keys = config_keys(srcdir)
    if len(keys) < 50:
        fail(f"only {len(keys)} keys found in mgw-config.c: has its table moved?")
    for group, key in keys:
        section = re.search(r"^\[" + re.escape(group) + r"\]\n(.*?)(?=^\S|\Z)", conf, re.M | re.S)
        if section is None:
            fail(f"moipgw.conf.5: no section [{group}]")
        elif not re.search(r"(^|\s|, )" + re.escape(key) + "=", section.group(1)):
            fail(f"moipgw.conf.5: [{group}] {key} is not documented")

    # moipgwd(8): every option.
    help_text, options = long_options(moipgwd)
    for option in options + ["--help"]:
        if not re.search(re.escape(option) + r"\b", texts["moipgwd.8"]):
            fail(f"moipgwd.8: option {option} is not documented")
    for short in re.findall(r"^\s+(-\w), --", help_text, re.M):
        if short + "," not in texts["moipgwd.8"]:
            fail(f"moipgwd.8: short option {short} is not documented")

    # moipgwctl(1): every option and command.
    help_text, options = long_options(moipgwctl)
    for option in options + ["--days"]:
        if option not in texts["moipgwctl.1"]:
            fail(f"moipgwctl.1: option {option} is not documented")
    commands = re.findall(r"^  ([a-z]+)(?: |$)", help_text.split("Commands:")[1], re.M)
    if len(commands) < 10:
        fail(f"moipgwctl --help lists only {commands}")
    for command in commands + ["help"]:
        if not re.search(r"^       " + command + r"\b", texts["moipgwctl.1"], re.M):
            fail(f"moipgwctl.1: command {command} is not documented")

    for name, text in texts.items():
        for heading in ["NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "SEE ALSO"]:
            if not re.search(r"^" + heading + r"$", text, re.M):
                fail(f"{name}: no {heading} section")
    for name in ["moipgwd.8", "moipgwctl.1"]:
        for heading in ["EXIT STATUS", "ENVIRONMENT"]:
            if not re.search(r"^" + heading + r"$", texts[name], re.M):
                fail(f"{name}: no {heading} section")

    print(f"{len(pages)} pages, {len(keys)} keys checked")
    return 1 if failures else 0


sys.exit(main())
