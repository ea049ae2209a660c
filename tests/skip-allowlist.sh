# SPDX-License-Identifier: ISC
#
# skip-allowlist.sh: the only reasons for which a test may skip, sourced by
# tests/run-tests.
#
# A test that skips prints "SKIP[ID]: why" (the unit helper's
# test_skip_all() and test_skip_part(), lib.sh's skip_all and skip_part).
# The runner accepts the skip only when ID is listed below AND its
# condition really holds on this machine, checked here independently of
# the test: a test that claims "no AVX-512" on a CPU that has it, or a
# product bug that makes seccomp_apply() fail and so looks like "no
# seccomp", fails.  Any other skip, and any exit 77 without an accepted
# SKIP line, is a failure.
#
# The list holds conditions that cannot hold on the CI machine (Debian 12,
# root, a 6.x kernel with seccomp, Landlock ABI 7 and MDWE, the shared/
# folder beside the clone), so nothing is skipped there except by the
# CPU (AVX-512 or not) or by design (the sanitizer build), and conditions
# that a developer's machine may genuinely have.  What scripts/install-deps
# installs (torch, promtool, openssl, curl, setpriv, a comma-decimal locale,
# the SELinux tools) is never a reason to skip: its absence is a failure.
#
# skip_allowed ID: 0 when ID is allowlisted and its condition holds;
# otherwise 1, with the reason on stdout.  Needs AG_BUILD and AG_TOP.

# The kernel's Landlock ABI version, 0 without Landlock.
skip_landlock_abi() {
	/usr/bin/python3 - <<'EOF' 2>/dev/null || echo 0
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
# landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
v = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
print(v if v > 0 else 0)
EOF
}

# 0 when prctl(PR_GET_MDWE) is known to the kernel.
skip_have_mdwe() {
	/usr/bin/python3 - <<'EOF' 2>/dev/null
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
z = ctypes.c_ulong(0)
sys.exit(0 if libc.prctl(66, z, z, z, z) >= 0 else 1)
EOF
}

skip_allowed() {
	local id=$1 abi need
	case $id in
	# The CPU has no AVX-512F: the engine's own kernel cannot run and
	# the BLAS path is the one in use (test_kernels).  Either may be
	# true of the CI machine; the check reads the CPU, not the test.
	no-avx512)
		if grep -qw avx512f /proc/cpuinfo; then
			echo "the CPU has avx512f"; return 1
		fi ;;
	# The sanitizer build loads no seccomp filter, by design
	# (src/sandbox/seccomp.h: ASan's runtime makes calls no allowlist
	# should hold).  Only there.
	sanitizer-no-seccomp)
		case $AG_BUILD in
		*/asan) ;;
		*) echo "$AG_BUILD is not the sanitizer build"; return 1 ;;
		esac ;;
	# The sanitizer build sets no RLIMIT_AS, by design (ASan reserves
	# terabytes of shadow address space): the probe's memory attempt
	# cannot be judged there.
	sanitizer-no-rlimit-as)
		case $AG_BUILD in
		*/asan) ;;
		*) echo "$AG_BUILD is not the sanitizer build"; return 1 ;;
		esac ;;
	# testssl.sh audits the TLS that GnuTLS speaks, which the sanitizer
	# build does not change (GnuTLS is not instrumented; our part of the
	# handshake, tls.c's callback, runs under the sanitizers in
	# unit/test_tls and e2e/tls): the audit runs in the normal build
	# only, which CI also runs.  Only there.
	sanitizer-testssl)
		case $AG_BUILD in
		*/asan) ;;
		*) echo "$AG_BUILD is not the sanitizer build"; return 1 ;;
		esac ;;
	# The SELinux module's static checks (e2e/selinux-policy) build and
	# question the policy with the distribution's tools: no program of
	# ours runs, so the sanitizers have nothing to watch there; the
	# normal build runs them, which CI also runs.  Only there.
	sanitizer-policy)
		case $AG_BUILD in
		*/asan) ;;
		*) echo "$AG_BUILD is not the sanitizer build"; return 1 ;;
		esac ;;
	# The OpenSSF model-signing vectors and RHEL 9's policy
	# (selinux-rhel9) live in the project's shared/ folder beside the
	# clone, which CI always has; a clone elsewhere may not.
	no-shared-vectors)
		if [ -d "$AG_TOP/../shared/vectors/model-signing" ] &&
		    [ -f "$AG_TOP/../shared/selinux-rhel9/rhel9-policy.tar.xz" ]
		then
			echo "../shared/vectors/model-signing and" \
			    "../shared/selinux-rhel9 exist"; return 1
		fi ;;
	# landlock-abi-N: the kernel's Landlock ABI is older than N (or
	# Landlock is off).  CI's kernel has ABI 7.
	landlock-abi-[1-9])
		need=${id#landlock-abi-}
		abi=$(skip_landlock_abi)
		if [ "$abi" -ge "$need" ]; then
			echo "the kernel has Landlock ABI $abi"; return 1
		fi ;;
	# The kernel has no seccomp filter mode.
	no-seccomp)
		if [ -e /proc/sys/kernel/seccomp/actions_avail ]; then
			echo "the kernel has seccomp filters"; return 1
		fi ;;
	# The kernel has no PR_SET_MDWE (before 6.3).
	no-mdwe)
		if skip_have_mdwe; then
			echo "the kernel has PR_SET_MDWE"; return 1
		fi ;;
	# SELinux is enabled on the host: aiguardd may run in its domain, so
	# the refusal outside aiguard_t cannot be provoked.  CI's kernel has
	# SELinux built in but not enabled.
	selinux-enabled)
		if [ ! -e /sys/fs/selinux/enforce ]; then
			echo "SELinux is not enabled here"; return 1
		fi ;;
	# Not root: no switch to another user, no systemd scratch units.
	# CI runs as root.
	not-root)
		if [ "$(id -u)" -eq 0 ]; then
			echo "running as root"; return 1
		fi ;;
	*)
		echo "'$id' is not on the allowlist (tests/skip-allowlist.sh)"
		return 1 ;;
	esac
	return 0
}
