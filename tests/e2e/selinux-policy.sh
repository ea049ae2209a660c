#!/bin/bash
# SPDX-License-Identifier: ISC
#
# selinux-policy.sh: policy/selinux/, statically, on a scratch copy of the
# installed policy.
#
# The module is built from the sources with the distribution's SELinux
# devel Makefile, in a scratch directory (so `make policy` need not have
# run), and installed with `semodule -p` into a scratch copy of the
# installed policy store, never into the host's own store.  The kernel
# policy that semodule links there is then questioned with sesearch and
# seinfo, and its file_contexts with selabel_lookup:
#
#   - who may change the model store: exactly the allowlist below;
#   - an ordinary or staff user may not change it, nor enter a domain
#     that may;
#   - aiguardd (aiguard_t) and the CLI (aiguard_deploy_t) are entered only
#     from their own executables and execute nothing else without a
#     transition; aiguardd executes no shell or binary, has no execmem,
#     execstack or execheap, binds only aiguard_port_t, connects nowhere
#     while aiguard_can_network_connect is off, and reads no other
#     service's or user's data;
#   - the file contexts and the port label;
#   - the checks are not vacuous: a second build of the module with both
#     tunables on and one extra `allow aiguard_t aiguard_model_t:file
#     write;` must fail the same checks.
#
# Booleans: a rule counts when some setting of the policy's booleans
# makes it active, except that our own tunables (aiguard_*) stay at their
# defaults.  An administrator flipping an unrelated boolean (ftpd full
# access, NIS) must not open the model store or the network either.
#
# Environment (from tests/run-tests): AG_TOP.
# Exit codes: 0 pass, 1 fail, 77 skip (not root: the store cannot be read;
# CI runs as root), 99 hard error.  The SELinux tools, the devel Makefile
# and the policy store come from scripts/install-deps: missing, they fail.
set -u
: "${AG_TOP:?}"
. "$AG_TOP/tests/lib.sh"
plan 70
src=$AG_TOP/policy/selinux
devmk=/usr/share/selinux/devel/Makefile

# What install-deps installs is never a reason to skip.
hard() { echo "FAIL $* (scripts/install-deps installs it)"; exit 99; }
for f in aiguard.te aiguard.if aiguard.fc aiguard_port.cil; do
	[ -f "$src/$f" ] || { echo "missing $src/$f"; exit 99; }
done
for t in make m4 checkmodule semodule_package semodule sesearch seinfo \
    selabel_lookup; do
	command -v "$t" >/dev/null || hard "$t missing"
done
[ -f "$devmk" ] || hard "$devmk missing (selinux-policy-dev)"
store=$(sed -n 's/^SELINUXTYPE=[[:space:]]*//p' /etc/selinux/config \
    2>/dev/null | tail -n 1)
store=${store:-default}
[ -d "/var/lib/selinux/$store" ] ||
    hard "no installed policy store /var/lib/selinux/$store"
# The store is root-only on Debian: without read access there is no base
# policy to link against.
[ "$(id -u)" -eq 0 ] ||
    skip_all not-root "cannot read /var/lib/selinux/$store (run as root)"
[ -r "/var/lib/selinux/$store/active/policy.kern" ] ||
    hard "cannot read /var/lib/selinux/$store/active/policy.kern"

t_start=$SECONDS

# ==== Building and installing =============================================

# mod_build DIR [VAR=VALUE...]: build DIR/aiguard.pp from the sources
# already copied into DIR.
mod_build() {
	local d=$1
	shift
	(cd "$d" && make -f "$devmk" "$@" aiguard.pp) >"$d/build.log" 2>&1
}

# root_install ROOT DIR: copy the installed store into the scratch ROOT
# and install DIR's module and port CIL there, in one transaction.  -n:
# no reload (SELinux need not be on).  Prints the kernel policy's path.
root_install() {
	local root=$1 d=$2 f best=
	mkdir -p "$root/var/lib/selinux" "$root/etc/selinux" || return 1
	cp -a "/var/lib/selinux/$store" "$root/var/lib/selinux/" || return 1
	# The contexts directory too: its .subs files shape path lookups.
	if [ -d "/etc/selinux/$store" ]; then
		cp -a "/etc/selinux/$store" "$root/etc/selinux/" || return 1
	fi
	rm -f "$root/etc/selinux/$store"/policy/policy.*
	# Its warnings ("user sddm not in password file": seusers names a
	# user this host lacks) go to the log, shown only on failure.
	semodule -p "$root" -s "$store" -n -i "$d/aiguard.pp" \
	    -i "$d/aiguard_port.cil" >"$d/install.log" 2>&1 || return 1
	# policy.NN, NN the policy version: the newest if several.
	for f in "$root/etc/selinux/$store"/policy/policy.*; do
		[ -f "$f" ] || continue
		{ [ -z "$best" ] || [ "${f##*.}" -gt "${best##*.}" ]; } &&
		    best=$f
	done
	[ -n "$best" ] && printf '%s\n' "$best"
}

# ==== Querying ============================================================

# pol_index POLICY DIR: the per-policy tables the checks read.
#   DIR/attrs: "attribute" and "attribute member" lines
#   DIR/bools: "boolean default" lines (1 or 0)
pol_index() {
	seinfo "$1" -a -x | awk '
	    $1 == "attribute" { a = $2; sub(/;$/, "", a); print a; next }
	    a != "" && NF == 1 { print a, $1 }' >"$2/attrs"
	seinfo "$1" -b -x --flat | awk '$1 == "bool" {
	    v = $3; sub(/;$/, "", v); print $2, (v == "true") }' >"$2/bools"
}

# cond_possible DIR EXPR BRANCH: true when some setting of the booleans in
# EXPR, with aiguard_* held at their defaults, selects BRANCH (True or
# False).  sesearch writes expressions with spaced tokens, and its
# operators (! && || ^ == != and parentheses) are shell arithmetic.
cond_possible() {
	local dir=$1 expr=$2 branch=$3 tok free=() e v a i
	for tok in $expr; do
		case $tok in
		'(' | ')' | '!' | '&&' | '||' | '^' | '==' | '!=') ;;
		aiguard_*) ;;
		*[!a-zA-Z0-9_]*) return 0 ;;	# not understood: count it
		*) [[ " ${free[*]} " == *" $tok "* ]] || free+=("$tok") ;;
		esac
	done
	# Each a is one setting of the free booleans: bit i for free[i].
	for ((a = 0; a < 1 << ${#free[@]}; a++)); do
		e=
		for tok in $expr; do
			case $tok in
			'(' | ')' | '!' | '&&' | '||' | '^' | '==' | '!=')
				e+=" $tok" ;;
			aiguard_*)
				# An unknown tunable counts as on.
				v=$(awk -v b="$tok" '$1 == b { print $2 }' \
				    "$dir/bools")
				e+=" ${v:-1}" ;;
			*)
				for i in "${!free[@]}"; do
					[ "${free[$i]}" = "$tok" ] &&
					    e+=" $(((a >> i) & 1))"
				done ;;
			esac
		done
		v=$((e))
		if [ "$branch" = True ]; then
			[ "$v" -ne 0 ] && return 0
		else
			[ "$v" -eq 0 ] && return 0
		fi
	done
	return 1
}

# rules DIR POLICY SIDE SESEARCH-ARGS...: the allow rules sesearch finds
# (attributes of the queried types included), less the conditional ones
# no boolean setting can make active, as "TYPE<TAB>VIA<TAB>RULE" lines:
# VIA is the rule's source (SIDE=s) or target (SIDE=t) as written, TYPE
# each type it stands for (an attribute is expanded to its members).
rules() {
	local dir=$1 pol=$2 side=$3 line expr branch
	shift 3
	sesearch "$@" "$pol" | while IFS= read -r line; do
		case $line in
		allow\ *\]:True | allow\ *\]:False)
			expr=${line##*\[ }
			expr=${expr% \]:*}
			branch=${line##*\]:}
			cond_possible "$dir" "$expr" "$branch" &&
			    printf '%s\n' "$line" ;;
		allow\ *) printf '%s\n' "$line" ;;
		esac
	done | awk -v side="$side" '
	    NR == FNR { isattr[$1] = 1; if (NF == 2) mem[$1] = mem[$1] " " $2
		next }
	    { n = (side == "s") ? $2 : $3; sub(/:.*/, "", n)
	      if (n in isattr) {
		k = split(mem[n], m, " ")
		for (i = 1; i <= k; i++) print m[i] "\t" n "\t" $0
	      } else print n "\t" n "\t" $0 }' "$dir/attrs" -
}

# show FILE: the offending rules, indented, once each.
show() { cut -f3 "$1" | sort -u | sed 's/^/    /'; }

# show_diff FILE: the rules behind the "+type via" lines of $diff.
show_diff() {
	printf '%s\n' "$diff" | sed -n 's/^+//p' | tr ' ' '\t' |
	    awk -F '\t' 'NR == FNR { bad[$1 FS $2] = 1; next }
		($1 FS $2) in bad { print "    " $3 }' - "$1" | sort -u
}

# ==== Checks, each run on the real and on the broken module ===============

# The permissions that change a file, a symlink or a directory entry.
write_perms=write,append,create,rename,unlink,link,setattr,relabelfrom
write_perms=$write_perms,relabelto,mounton,add_name,remove_name,reparent,rmdir

# check_writers DIR POLICY TYPE ALLOWED: the domains that may change TYPE
# must be exactly ALLOWED ("type via" lines).  Sets $diff, lines
# "+type via" (unexpected) and "-type via" (allowed, but absent).
check_writers() {
	local dir=$1 pol=$2 type=$3 allowed=$4
	rules "$dir" "$pol" s -A -t "$type" -c file,dir,lnk_file \
	    -p "$write_perms" >"$dir/w.$type"
	cut -f1,2 "$dir/w.$type" | tr '\t' ' ' | sort -u >"$dir/w.$type.have"
	printf '%s\n' "$allowed" | sed 's/[[:space:]]*#.*//; /^$/d' |
	    sort -u >"$dir/w.$type.want"
	diff=$( (comm -23 "$dir/w.$type.have" "$dir/w.$type.want" |
	    sed 's/^/+/'
	    comm -13 "$dir/w.$type.have" "$dir/w.$type.want" |
	    sed 's/^/-/') )
	[ -z "$diff" ]
}

# check_connect DIR POLICY: aiguard_t may not name_connect anywhere.
check_connect() {
	rules "$1" "$2" s -A -s aiguard_t -c tcp_socket,sctp_socket \
	    -p name_connect >"$1/connect"
	[ ! -s "$1/connect" ]
}

# check_gpu DIR POLICY: aiguard_t may not open the GPU device nodes.
check_gpu() {
	rules "$1" "$2" t -A -s aiguard_t -c chr_file -p open,read,write |
	    grep -E '^(xserver_misc_device_t|dri_device_t)	' >"$1/gpu"
	[ ! -s "$1/gpu" ]
}

# ==== The allowlist of model store writers ================================

# Who may write, create, rename, delete, relabel or mount over files in
# the model store, as "type via", where via is the rule's source as
# written: the type itself, or the attribute that gives the type the
# access.  Anything else is a finding.
#
# The first three are ours.  The rest are the members of the base
# policy's (Debian refpolicy) files_unconfined_type, whose rule
# `allow files_unconfined_type file_type:file ...` opens every file type,
# security and authentication files included, to its members; no module
# can take its type out of that rule, so these stay.
model_writers="
aiguard_deploy_t aiguard_deploy_t	# the CLI: the designed writer
sysadm_t sysadm_t			# aiguard_admin(sysadm_t, sysadm_r)
setfiles_t setfiles_t			# restorecon: relabels every file
apt_t files_unconfined_type		# apt, the package manager
dpkg_t files_unconfined_type		# dpkg, the package manager
dpkg_script_t files_unconfined_type	# package maintainer scripts
httpd_unconfined_script_t files_unconfined_type	# unconfined CGI
inetd_child_t files_unconfined_type	# services run by inetd
init_t files_unconfined_type		# systemd, PID 1
initrc_t files_unconfined_type		# SysV init scripts
kernel_t files_unconfined_type		# kernel threads
ldconfig_t files_unconfined_type	# ldconfig
mono_t files_unconfined_type		# the Mono runtime
nagios_unconfined_plugin_t files_unconfined_type	# Nagios plugins
prelink_t files_unconfined_type		# prelink rewrites binaries
puppet_t files_unconfined_type		# the puppet agent
samba_unconfined_script_t files_unconfined_type	# Samba scripts
unconfined_execmem_t files_unconfined_type	# unconfined_t, execmem
unconfined_java_t files_unconfined_type	# unconfined_t, Java
unconfined_mount_t files_unconfined_type	# mount from unconfined_t
unconfined_munin_plugin_t files_unconfined_type	# Munin plugins
unconfined_qemu_t files_unconfined_type	# unconfined_t, QEMU
unconfined_sendmail_t files_unconfined_type	# sendmail, unconfined
unconfined_t files_unconfined_type	# the unconfined user
wine_t files_unconfined_type		# Wine
xdm_t files_unconfined_type		# the display manager
xserver_t files_unconfined_type		# the X server
"
# The signing keys decide which models verify, so the same list, less the
# CLI (which only reads them), guards aiguard_keys_t.
key_writers=$(printf '%s\n' "$model_writers" | grep -v '^aiguard_deploy_t ')

# ==== Build and install the real module ===================================

real=$work/real
mkdir -p "$real"
cp "$src"/aiguard.te "$src"/aiguard.if "$src"/aiguard.fc \
    "$src"/aiguard_port.cil "$real/"
t0=$SECONDS
if mod_build "$real"; then
	pass "module builds with $devmk"
else
	fail "module does not build"
	tail -n 20 "$real/build.log" | sed 's/^/    /'
	finish
	exit
fi

# The broken copy: both tunables on (the devel Makefile's m4 -D overrides
# gen_tunable's default through dflt_or_overr) and one extra write rule.
# Installed in the background, into a root of its own, while the real
# module is checked.
broken=$work/broken
mkdir -p "$broken"
cp "$real"/aiguard.if "$real"/aiguard.fc "$real"/aiguard_port.cil "$broken/"
{ cat "$real/aiguard.te"
  echo 'allow aiguard_t aiguard_model_t:file write;'; } >"$broken/aiguard.te"
tunables_on="aiguard_can_network_connect_conf=true"
tunables_on="$tunables_on aiguard_use_nvidia_devices_conf=true"
(
	mod_build "$broken" CUSTOM_BUILDOPT="$tunables_on" &&
	    root_install "$broken/root" "$broken" >"$broken/policy-path" &&
	    pol_index "$(cat "$broken/policy-path")" "$broken"
	echo $? >"$broken/rc"
) &
broken_pid=$!

t1=$SECONDS
pol=$(root_install "$real/root" "$real")
if [ -n "$pol" ] && [ -f "$pol" ]; then
	pass "installed in a scratch root with semodule -p ($((SECONDS - t1))s)"
else
	fail "semodule -p did not install the module"
	tail -n 20 "$real/install.log" | sed 's/^/    /'
	wait "$broken_pid"
	finish
	exit
fi
pol_index "$pol" "$real"
fc=$real/root/etc/selinux/$store/contexts/files/file_contexts

# ==== Declarations ========================================================

seinfo "$pol" -t --flat >"$real/types"
for t in aiguard_t aiguard_exec_t aiguard_deploy_t aiguard_deploy_exec_t \
    aiguard_model_t aiguard_conf_t aiguard_keys_t aiguard_log_t \
    aiguard_runtime_t aiguard_port_t; do
	if grep -qx "$t" "$real/types"; then
		pass "type $t"
	else
		fail "type $t is not in the policy"
	fi
done
# One daemon domain for parent, front end and worker (see aiguard.te).
if ! grep -qx aiguard_worker_t "$real/types"; then
	pass "no aiguard_worker_t"
else
	fail "aiguard_worker_t exists; the design has one daemon domain"
fi
for b in aiguard_can_network_connect aiguard_use_nvidia_devices; do
	if grep -qx "$b 0" "$real/bools"; then
		pass "tunable $b, default off"
	else
		fail "tunable $b missing or on by default:" \
		    "$(seinfo "$pol" -b "$b" -x --flat)"
	fi
done
for i in aiguard_domtrans aiguard_read_models aiguard_manage_models \
    aiguard_run_deploy aiguard_admin; do
	if grep -q "^interface(\`$i'" "$src/aiguard.if"; then
		pass "interface $i"
	else
		fail "interface $i is not in aiguard.if"
	fi
done
seinfo "$pol" --permissive --flat >"$real/permissive"
for d in aiguard_t aiguard_deploy_t; do
	if grep -qx "$d" "$real/permissive"; then
		fail "$d is permissive"
	else
		pass "$d is not permissive"
	fi
done

# ==== The model store and the keys ========================================

if check_writers "$real" "$pol" aiguard_model_t "$model_writers"; then
	pass "aiguard_model_t: writers are exactly the allowlist"
else
	fail "aiguard_model_t: writers differ from the allowlist" \
	    "(+ unexpected, - allowlisted but absent):"
	printf '%s\n' "$diff" | sed 's/^/    /'
	show_diff "$real/w.aiguard_model_t"
fi
if check_writers "$real" "$pol" aiguard_keys_t "$key_writers"; then
	pass "aiguard_keys_t: writers are exactly the allowlist less the CLI"
else
	fail "aiguard_keys_t: writers differ from the allowlist" \
	    "(+ unexpected, - allowlisted but absent):"
	printf '%s\n' "$diff" | sed 's/^/    /'
	show_diff "$real/w.aiguard_keys_t"
fi

# aiguardd's own data is read-only to it.
for t in aiguard_model_t aiguard_conf_t aiguard_keys_t aiguard_exec_t; do
	rules "$real" "$pol" s -A -s aiguard_t -t "$t" -c file,dir,lnk_file \
	    -p "$write_perms" >"$real/ro"
	if [ ! -s "$real/ro" ]; then
		pass "aiguard_t cannot change $t"
	else
		fail "aiguard_t can change $t:"
		show "$real/ro"
	fi
done

# ==== Ordinary and staff users ============================================

for u in user_t staff_t; do
	rules "$real" "$pol" s -A -s "$u" -t aiguard_model_t \
	    -c file,dir,lnk_file -p "$write_perms" >"$real/u"
	if [ ! -s "$real/u" ]; then
		pass "$u cannot write, rename, relabel or delete models"
	else
		fail "$u can change models:"
		show "$real/u"
	fi
	# Reading is not forbidden by the design; say what the policy does.
	rules "$real" "$pol" s -A -s "$u" -t aiguard_model_t -c file \
	    -p read >"$real/u"
	if [ -s "$real/u" ]; then
		echo "# note: $u can read models"
	else
		echo "# note: $u cannot read models"
	fi
	for d in aiguard_t aiguard_deploy_t; do
		rules "$real" "$pol" s -A -s "$u" -t "$d" -c process \
		    -p transition,dyntransition >"$real/u"
		if [ ! -s "$real/u" ]; then
			pass "$u has no transition into $d"
		else
			fail "$u can enter $d:"
			show "$real/u"
		fi
	done
done
for r in user_r staff_r; do
	if seinfo "$pol" -r "$r" -x --flat | grep -qw aiguard_deploy_t; then
		fail "role $r holds aiguard_deploy_t"
	else
		pass "role $r does not hold aiguard_deploy_t"
	fi
done
# Entering the CLI's domain is as good as writing models.
rules "$real" "$pol" s -A -t aiguard_deploy_t -c process \
    -p transition,dyntransition >"$real/enter"
have=$(cut -f1 "$real/enter" | sort -u | paste -sd' ')
if [ "$have" = sysadm_t ]; then
	pass "only sysadm_t enters aiguard_deploy_t"
else
	fail "aiguard_deploy_t entered by: $have (want sysadm_t)"
	show "$real/enter"
fi

# ==== What the two domains may execute ====================================

for d in aiguard_t:aiguard_exec_t aiguard_deploy_t:aiguard_deploy_exec_t; do
	dom=${d%%:*} ex=${d#*:}
	rules "$real" "$pol" t -A -s "$dom" -c file -p entrypoint \
	    >"$real/x"
	have=$(cut -f1 "$real/x" | sort -u | paste -sd' ')
	if [ "$have" = "$ex" ]; then
		pass "$dom is entered only through $ex"
	else
		fail "$dom entrypoints: ${have:-none} (want $ex)"
		show "$real/x"
	fi
	rules "$real" "$pol" t -A -s "$dom" -c file -p execute_no_trans |
	    grep -v "^$ex	" >"$real/x"
	if [ ! -s "$real/x" ]; then
		pass "$dom executes nothing but $ex without a transition"
	else
		fail "$dom has execute_no_trans on:" \
		    "$(cut -f1 "$real/x" | sort -u | paste -sd' ')"
		show "$real/x"
	fi
done
for t in bin_t shell_exec_t; do
	rules "$real" "$pol" s -A -s aiguard_t -t "$t" -c file -p execute \
	    >"$real/x"
	if [ ! -s "$real/x" ]; then
		pass "aiguard_t cannot execute $t"
	else
		fail "aiguard_t can execute $t:"
		show "$real/x"
	fi
done
# Every execute target: the program, the loader and shared libraries
# (the last two are granted to every domain by the base policy).
rules "$real" "$pol" t -A -s aiguard_t -c file -p execute >"$real/x"
extra=$(cut -f1 "$real/x" | sort -u |
    grep -vxE 'aiguard_exec_t|ld_so_t|lib_t|textrel_shlib_t' | paste -sd' ')
if [ -z "$extra" ]; then
	pass "aiguard_t executes only aiguard_exec_t and shared libraries"
else
	fail "aiguard_t can also execute: $extra"
	printf '%s\n' $extra | awk -F '\t' 'NR == FNR { bad[$1] = 1; next }
	    $1 in bad { print "    " $3 }' - "$real/x" | sort -u
fi
rules "$real" "$pol" s -A -s aiguard_t -c process \
    -p execmem,execstack,execheap >"$real/x"
if [ ! -s "$real/x" ]; then
	pass "aiguard_t has no execmem, execstack or execheap"
else
	fail "aiguard_t may make memory executable:"
	show "$real/x"
fi

# ==== Network =============================================================

if check_connect "$real" "$pol"; then
	pass "aiguard_t cannot name_connect (tunable off)"
else
	fail "aiguard_t can name_connect with aiguard_can_network_connect off:"
	show "$real/connect"
fi
rules "$real" "$pol" t -A -s aiguard_t -c tcp_socket,udp_socket,sctp_socket \
    -p name_bind >"$real/bind"
have=$(cut -f1 "$real/bind" | sort -u | paste -sd' ')
if [ "$have" = aiguard_port_t ]; then
	pass "aiguard_t binds only aiguard_port_t"
else
	fail "aiguard_t name_bind targets: ${have:-none} (want aiguard_port_t)"
	show "$real/bind"
fi
if check_gpu "$real" "$pol"; then
	pass "aiguard_t cannot open GPU devices (tunable off)"
else
	fail "aiguard_t can open GPU devices with the tunable off:"
	show "$real/gpu"
fi

# ==== Other data ==========================================================

rules "$real" "$pol" s -A -s aiguard_t -t public_content_t \
    -c file,dir,lnk_file -p "$write_perms" >"$real/x"
if [ ! -s "$real/x" ]; then
	pass "aiguard_t cannot write public_content_t"
else
	fail "aiguard_t can write public_content_t:"
	show "$real/x"
fi
# Users' files, another service's content, the password hashes, other
# services' state.
for t in user_home_t httpd_sys_content_t shadow_t var_lib_t; do
	rules "$real" "$pol" s -A -s aiguard_t -t "$t" -c file -p read \
	    >"$real/x"
	if [ ! -s "$real/x" ]; then
		pass "aiguard_t cannot read $t files"
	else
		fail "aiguard_t can read $t files:"
		show "$real/x"
	fi
done

# ==== File contexts and the port ==========================================

# lookup PATH MODE: the type file_contexts gives PATH (MODE in decimal:
# 32768 regular file, 16384 directory).
lookup() {
	selabel_lookup -b file -k "$1" -t "$2" -f "$fc" 2>&1 |
	    sed -n 's/^Default context: [^:]*:[^:]*:\([^:]*\).*/\1/p'
}
while read -r path mode want; do
	got=$(lookup "$path" "$mode")
	if [ "$got" = "$want" ]; then
		pass "file context $path $want"
	else
		fail "file context $path: ${got:-none} (want $want)"
	fi
done <<'EOF'
/usr/sbin/aiguardd 32768 aiguard_exec_t
/usr/bin/aiguard 32768 aiguard_deploy_exec_t
/etc/aiguard 16384 aiguard_conf_t
/etc/aiguard/aiguardd.conf 32768 aiguard_conf_t
/etc/aiguard/keys 16384 aiguard_keys_t
/etc/aiguard/keys/x.pub 32768 aiguard_keys_t
/var/lib/aiguard/models 16384 aiguard_model_t
/var/lib/aiguard/models/resnet18/1/model.safetensors 32768 aiguard_model_t
/var/log/aiguard 16384 aiguard_log_t
/var/log/aiguard/x 32768 aiguard_log_t
/run/aiguard 16384 aiguard_runtime_t
/run/aiguard/aiguardd.pid 32768 aiguard_runtime_t
EOF
if seinfo "$pol" --portcon 8500 --flat |
    grep -q '^portcon tcp 8500 [^:]*:[^:]*:aiguard_port_t:'; then
	pass "port tcp 8500 is aiguard_port_t"
else
	fail "port tcp 8500 is not aiguard_port_t:"
	seinfo "$pol" --portcon 8500 --flat | sed 's/^/    /'
fi

# ==== The checks are not vacuous ==========================================

wait "$broken_pid"
if [ "$(cat "$broken/rc" 2>/dev/null)" != 0 ]; then
	fail "the broken copy did not build or install"
	tail -n 20 "$broken/build.log" "$broken/install.log" 2>/dev/null |
	    sed 's/^/    /'
else
	bpol=$(cat "$broken/policy-path")
	# The rule that must appear: aiguard_t's own, under the tunable.
	want='allow aiguard_t [^ ]*:tcp_socket name_connect;'
	want="$want \\[ aiguard_can_network_connect \\]:True"
	if grep -qx 'aiguard_can_network_connect 1' "$broken/bools" &&
	    ! check_connect "$broken" "$bpol" &&
	    grep -q "$want" "$broken/connect"; then
		pass "tunable on: the check sees aiguard_t name_connect"
	else
		fail "aiguard_can_network_connect on grants no name_connect"
		show "$broken/connect"
	fi
	if grep -qx 'aiguard_use_nvidia_devices 1' "$broken/bools" &&
	    ! check_gpu "$broken" "$bpol"; then
		pass "tunable on: the check sees aiguard_t open GPU nodes"
	else
		fail "aiguard_use_nvidia_devices on does not grant GPU devices"
	fi
	if ! check_writers "$broken" "$bpol" aiguard_model_t \
	    "$model_writers" &&
	    printf '%s\n' "$diff" | grep -qx '+aiguard_t aiguard_t'; then
		pass "an extra aiguard_t write rule fails the writers check"
	else
		fail "the writers check misses an extra aiguard_t write rule"
		printf '%s\n' "$diff" | sed 's/^/    /'
	fi
fi

echo "# build $((t1 - t0))s, total $((SECONDS - t_start))s"
finish
