#!/bin/bash
# SPDX-License-Identifier: ISC
#
# manpages.sh: the man pages in man/, linted and held to the programs.
#
# mandoc -Tlint finds nothing in any man/*.[1-8] (only "referenced manual
# not found" and the host's out-of-date mandoc.db are set aside: they are
# about this machine's manual database, not the page).  Then the pages
# against the binaries, so that neither can drift:
#   aiguardd.conf(5): its keys, section by section, are exactly those that
#     `aiguardd --check-config` prints, with the same defaults;
#   aiguardd(8): its options are exactly those of `aiguardd --help`;
#   aiguard(1): every command of `aiguard --help` has an item, and every
#     option of `aiguard COMMAND --help` is in that command's item.
# The pages follow a fixed form for this (see the comment at the top of
# each).
#
# Environment (from tests/run-tests): AG_TOP, AG_BUILD.
# Exit codes: 0 pass, 1 fail, 99 hard error (also: no mandoc).
set -u
: "${AG_TOP:?}" "${AG_BUILD:?}"
. "$AG_TOP/tests/lib.sh"
plan 8
command -v mandoc >/dev/null ||
    { echo "FAIL mandoc missing (scripts/install-deps)"; exit 99; }
man=$AG_TOP/man
d=$AG_BUILD/bin/aiguardd c=$AG_BUILD/bin/aiguard

missing=
for p in aiguardd.8 aiguard.1 aiguardd.conf.5; do
	[ -f "$man/$p" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
	pass "man/ has aiguardd.8, aiguard.1 and aiguardd.conf.5"
else
	fail "man/ lacks$missing"
fi

n=0
: >"$work/lint"
for p in "$man"/*.[1-8]; do
	n=$((n + 1))
	mandoc -Tlint "$p" 2>&1 | grep -v -e 'referenced manual not found' \
	    -e 'outdated mandoc.db' >>"$work/lint"
done
if [ "$n" -ge 3 ] && ! [ -s "$work/lint" ]; then
	pass "mandoc -Tlint: $n pages, nothing found"
else
	fail "mandoc -Tlint on $n pages:"
	head -n 30 "$work/lint"
fi

# The effective configuration at the defaults (stdout; the model check
# that follows it on stderr does not matter here).
"$d" --check-config >"$work/dump" 2>/dev/null </dev/null
"$d" --help >"$work/d.help" 2>&1
"$c" --help >"$work/c.help" 2>&1
for cmd in $(awk '/^commands:/ { on = 1; next } on && NF { print $1 }' \
    "$work/c.help"); do
	"$c" "$cmd" --help >"$work/c.$cmd.help" 2>&1
done

"$PYTHON" - "$man" "$work" <<'EOF' | tally
import glob, os, re, sys

man, work = sys.argv[1], sys.argv[2]

def lines(name):
    with open(os.path.join(man, name)) as f:
        return f.read().split("\n")

def report(ok, what, detail=""):
    print(("ok " if ok else "FAIL ") + what)
    if not ok and detail:
        print("    " + detail)

# aiguardd.conf(5): ".Ss Bq Cm SECTION", ".It Cm KEY", then "Default:"
# and ".Ql VALUE ." or "Default: empty.".
page, sec, key, want_val, err = {}, None, None, False, []
for ln in lines("aiguardd.conf.5"):
    if ln.startswith(".Sh "):
        sec = None
    m = re.fullmatch(r"\.Ss Bq Cm (\w+)", ln)
    if m:
        sec = m.group(1)
        continue
    m = re.fullmatch(r"\.It Cm (\w+)", ln)
    if m and sec:
        key = sec + "." + m.group(1)
        if key in page:
            err.append(key + " twice")
        page[key] = None
        continue
    if key is None:
        continue
    if ln == "Default: empty.":
        page[key], key = "", None
    elif ln == "Default:":
        want_val = True
    elif want_val:
        m = re.fullmatch(r"\.Ql (\S+) \.", ln)
        page[key] = m.group(1) if m else "?" + ln
        key, want_val = None, False

dump, sec = {}, None
with open(os.path.join(work, "dump")) as f:
    for ln in f:
        ln = ln.rstrip("\n")
        m = re.fullmatch(r"\[(\w+)\]", ln)
        if m:
            sec = m.group(1)
            continue
        m = re.fullmatch(r"(\w+) =(?: (.*))?", ln)
        if m and sec:
            dump[sec + "." + m.group(1)] = m.group(2) or ""

keys_ok = len(dump) > 0 and set(page) == set(dump) and not err
report(keys_ok, "aiguardd.conf(5): the %d keys of --check-config, no "
       "more, no fewer" % len(dump),
       "only in the page: %s; only in --check-config: %s; %s" % (
           sorted(set(page) - set(dump)), sorted(set(dump) - set(page)),
           err))
bad = ["%s: page %r, aiguardd %r" % (k, page[k], dump[k])
       for k in sorted(set(page) & set(dump)) if page[k] != dump[k]]
report(len(dump) > 0 and not bad,
       "aiguardd.conf(5): every default as --check-config prints it",
       "; ".join(bad))

# aiguardd(8): the ".It Fl -OPT" items, against --help.
with open(os.path.join(work, "d.help")) as f:
    helpopts = set(re.findall(r"(?<![\w-])--([a-z][a-z-]*)", f.read()))
pageopts = {m.group(1) for ln in lines("aiguardd.8")
            for m in [re.match(r"\.It Fl -([a-z][a-z-]*)", ln)] if m}
report(len(helpopts) > 5 and helpopts == pageopts,
       "aiguardd(8): the %d options of --help, no more, no fewer"
       % len(helpopts),
       "only in --help: %s; only in the page: %s" % (
           sorted(helpopts - pageopts), sorted(pageopts - helpopts)))

# aiguard(1): the outer list of DESCRIPTION holds one item per command
# (".It Cm NAME" or ".It Xo" then ".Cm NAME"); the options inside it are
# the ".It Fl -OPT" items of its nested list.
cmds, cur, depth, in_desc, xo = {}, None, 0, False, False
for ln in lines("aiguard.1"):
    if ln.startswith(".Sh "):
        in_desc = ln == ".Sh DESCRIPTION"
        continue
    if not in_desc:
        continue
    if ln.startswith(".Bl "):
        depth += 1
    elif ln == ".El":
        depth -= 1
    elif depth == 1 and ln == ".It Xo":
        xo = True
    elif depth == 1 and (ln.startswith(".It Cm ") or
                         (xo and ln.startswith(".Cm "))):
        cur = ln.split()[2 if ln.startswith(".It") else 1]
        cmds.setdefault(cur, set())
        xo = False
    elif depth == 2 and cur:
        m = re.match(r"\.It Fl -([a-z][a-z-]*)", ln)
        if m:
            cmds[cur].add(m.group(1))

with open(os.path.join(work, "c.help")) as f:
    txt = f.read()
helpcmds = re.findall(r"^  ([a-z]+) ", txt.split("commands:", 1)[-1], re.M)
report(len(helpcmds) >= 8 and set(helpcmds) <= set(cmds),
       "aiguard(1): each of the %d commands of --help has its item"
       % len(helpcmds),
       "missing: %s" % sorted(set(helpcmds) - set(cmds)))
miss = []
for c in helpcmds:
    try:
        with open(os.path.join(work, "c.%s.help" % c)) as f:
            opts = set(re.findall(r"(?<![\w-])--([a-z][a-z-]*)", f.read()))
    except OSError:
        opts = {"(no help)"}
    opts.discard("help")
    for o in sorted(opts - cmds.get(c, set())):
        miss.append("%s --%s" % (c, o))
report(len(helpcmds) >= 8 and not miss,
       "aiguard(1): every option of each command's --help in its item",
       "missing: " + ", ".join(miss))
EOF
finish
