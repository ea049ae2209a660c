# SPDX-License-Identifier: ISC
#
# aiguard: one GNU Makefile.  Targets:
#   all        build the binaries, tools and the default model
#   run        install what is missing, build, serve the default model on
#              127.0.0.1:8500 (aiguardd in the foreground)
#   check      all tests (unit, end-to-end, reference against PyTorch)
#   bench      side-by-side benchmark (our engine, PyTorch, ONNX Runtime)
#   bench-serve  aiguardd against Flask + PyTorch under wrk, then aiguardd
#                plain against HTTPS + bearer token (bench/serve-tls), then
#                three models of a repository (bench/serve-repository)
#   bench-serve-repository  the last one alone: throughput, p99 per model,
#                fairness under a flood, each process's memory
#   bench-sandbox  aiguardd's requests/s with the sandbox on vs off
#   policy     the SELinux module: build/selinux/aiguard.pp and
#              aiguard_port.cil (docs/selinux.md)
#   policy-rhel9  the same module built against RHEL 9's policy headers
#              (../shared/selinux-rhel9): build/selinux/rhel9/aiguard.pp
#   policy-lint  selint on the policy sources (no findings allowed)
#   check-selinux  boot an SELinux-enforcing Debian guest (systemd) under
#              qemu, make install into it, start aiguardd with systemctl
#              and run the policy's attack scenarios (tests/selinux/run)
#   install    aiguardd, aiguard, the configuration (kept when present),
#              the systemd unit, sysusers.d entry, the
#              SELinux module packages, man pages and docs (see below)
#   uninstall  what install put there, except the configuration
#   check-arch  the engine cross-compiled for aarch64 (no x86 code)
#   unit e2e reference clean fuzz
# Variables:
#   SANITIZE=1  ASan + UBSan build in build/asan (abort on first error)
#   WERROR=1    warnings are errors (CI sets it)
#   BLAS=ref    link the reference GEMM instead of OpenBLAS
#   THREADS=N   engine threads for run and bench (default 2)
#   DESTDIR, PREFIX (/usr/local), BINDIR, SBINDIR, SYSCONFDIR (/etc),
#   DATADIR, MANDIR, DOCDIR, UNITDIR, SYSUSERSDIR: where
#               install puts things (PREFIX=/usr: a distribution's layout)

SHELL := /bin/bash
CC ?= cc
PYTHON ?= /usr/bin/python3
THREADS ?= 2

ifeq ($(SANITIZE),1)
B := build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# _FORTIFY_SOURCE and ASan both instrument the string functions.
FORTIFY :=
else
B := build
SAN_FLAGS :=
FORTIFY := -D_FORTIFY_SOURCE=3
endif
MODELS := build/models

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wno-unused-parameter -Werror=format-security \
	-Werror=implicit-function-declaration
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKGS := jansson libturbojpeg spng libmicrohttpd inih libseccomp libselinux libcrypto \
	gnutls
BLAS ?= openblas
ifeq ($(BLAS),ref)
BLAS_CFLAGS ?= -DAG_BLAS_REF
BLAS_LIBS ?=
else
BLAS_CFLAGS ?= $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS ?= $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lturbojpeg -lspng -lmicrohttpd -linih -lseccomp -lselinux -lcrypto -lgnutls)

CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(FORTIFY) \
	-fstack-protector-strong -fstack-clash-protection -fcf-protection \
	-fPIE -pthread $(SAN_FLAGS) -Isrc $(BLAS_CFLAGS) $(PKG_CFLAGS)
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -pthread \
	$(SAN_FLAGS) $(LDFLAGS)
LIBS := $(BLAS_LIBS) $(PKG_LIBS) -lm
# libsepol: aiguard doctor reads the loaded policy's port labels; only the
# CLI links it (aiguardd has no use for it).
SEPOL_LIBS = $(shell pkg-config --libs libsepol 2>/dev/null || echo -lsepol)

# Two archives, in layer order (docs/architecture.md): the daemon's roles
# (libaiguardd.a, which the CLI's probe and the tests use too) above
# everything else (libaiguard.a).  Linked in that order, a call from a
# lower layer up into the daemon does not link.
LIB_SRCS := $(wildcard src/common/*.c src/engine/*.c src/engine/arch/*.c \
	src/engine/arch/x86/*.c src/model/*.c \
	src/image/*.c src/http/*.c src/sandbox/*.c)
DLIB_SRCS := $(filter-out src/daemon/main.c,$(wildcard src/daemon/*.c))
CLI_SRCS := $(wildcard src/cli/*.c)
DAEMON_SRCS := src/daemon/main.c
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_HELPER := tests/unit/test_helper.c

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
DLIB_OBJS := $(DLIB_SRCS:%.c=$(B)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(B)/obj/%.o)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(B)/obj/%.o)
TEST_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(filter-out $(TEST_HELPER),$(TEST_SRCS)))
TOOL_BINS := $(B)/bin/gen-weights $(B)/tests/engine-run $(B)/tests/image-dump
DEFAULT_MODEL := $(MODELS)/resnet18/model.safetensors
# The default model is signed at build time with a key made for this build
# tree, which aiguardd and aiguard trust by default when run from it.
KEYS := build/keys
BUILD_KEY := $(KEYS)/aiguard-build
DEFAULT_SIG := $(MODELS)/resnet18/model.sig

.PHONY: all run check unit e2e reference bench bench-serve bench-serve-repository bench-sandbox bench-coldstart soak clean \
	deps FORCE \
	fuzz policy policy-rhel9 policy-lint check-selinux install uninstall

all: $(B)/bin/aiguard $(B)/bin/aiguardd $(TOOL_BINS) $(TEST_BINS) $(DEFAULT_MODEL) \
	$(DEFAULT_SIG)

deps:
	@scripts/install-deps

# The sample images are committed; the default model is generated.  run
# starts the server in the foreground (Ctrl-C stops it) after printing a
# request to try from another shell.
RUN_SAMPLE := $(firstword $(wildcard samples/*.jpg))
run: deps
	@$(MAKE) --no-print-directory all
	@echo "aiguardd: serving $(MODELS)/resnet18 on http://127.0.0.1:8500 (Ctrl-C stops it)."
	@echo "Classify a bundled sample from another shell:"
	@echo "  curl -s -H 'Content-Type: image/jpeg' --data-binary @$(RUN_SAMPLE) http://127.0.0.1:8500/v2/models/resnet18/classify"
	$(B)/bin/aiguardd --listen 127.0.0.1:8500 --model $(MODELS)/resnet18 --threads $(THREADS)

check: deps
	@$(MAKE) --no-print-directory all
	@tests/run-tests $(B)

unit: all
	@tests/run-tests $(B) unit

e2e: all
	@tests/run-tests $(B) e2e

reference: all
	@tests/run-tests $(B) reference

# Mutation testing (docs/testing.md): each bug of tests/mutants/ planted in
# a copy of the tree, its tests run; long, so not part of check.
# make mutate MUTANTS="ID ..." runs only those.
.PHONY: mutate
mutate: all
	@scripts/mutate $(MUTANTS)

# The SELinux policy module, built against the installed refpolicy headers.
POLICY_SRCS := $(addprefix policy/selinux/aiguard.,te if fc)
policy: deps
	@$(MAKE) --no-print-directory build/selinux/aiguard.pp \
	    build/selinux/aiguard_port.cil

build/selinux/aiguard.pp: $(POLICY_SRCS)
	@mkdir -p $(@D)
	cp $(POLICY_SRCS) $(@D)/
	$(MAKE) --no-print-directory -C $(@D) \
	    -f /usr/share/selinux/devel/Makefile aiguard.pp

build/selinux/aiguard_port.cil: policy/selinux/aiguard_port.cil
	@mkdir -p $(@D)
	cp $< $@

# The same sources against RHEL 9's headers (Fedora's selinux-policy),
# unpacked once from the shared tarball.  NAME and HEADERDIR are given:
# without them RHEL's Makefile reads this host's /etc/selinux/config.
RHEL9_TARBALL := $(abspath $(CURDIR)/../shared/selinux-rhel9/rhel9-policy.tar.xz)
RHEL9_HDRS := build/selinux/rhel9-policy/rhel9/include
policy-rhel9: deps
	@$(MAKE) --no-print-directory build/selinux/rhel9/aiguard.pp \
	    build/selinux/rhel9/aiguard_port.cil

$(RHEL9_TARBALL):
	@echo "policy-rhel9: $@ is missing (the shared folder beside the clone)" >&2
	@exit 1

$(RHEL9_HDRS)/Makefile: $(RHEL9_TARBALL)
	rm -rf build/selinux/rhel9-policy
	mkdir -p build/selinux/rhel9-policy
	tar -xJf $< -C build/selinux/rhel9-policy
	touch $@

# Built in rhel9/src: the devel Makefile run in build/selinux for
# `make policy` reads every .te and .if one directory down, so none may
# lie in build/selinux/rhel9 itself.
build/selinux/rhel9/aiguard.pp: $(POLICY_SRCS) $(RHEL9_HDRS)/Makefile
	@mkdir -p $(@D)/src
	cp $(POLICY_SRCS) $(@D)/src/
	$(MAKE) --no-print-directory -C $(@D)/src \
	    -f $(abspath $(RHEL9_HDRS))/Makefile NAME=targeted \
	    HEADERDIR=$(abspath $(RHEL9_HDRS)) aiguard.pp
	cp $(@D)/src/aiguard.pp $@

build/selinux/rhel9/aiguard_port.cil: policy/selinux/aiguard_port.cil
	@mkdir -p $(@D)
	cp $< $@

policy-lint: deps
	selint -F -S -c policy/selinux/selint.conf \
	    --context=/usr/share/selinux/devel/include $(POLICY_SRCS)

check-selinux: deps
	@scripts/install-deps --selinux-vm
	@$(MAKE) --no-print-directory all build/selinux/aiguard.pp \
	    build/selinux/aiguard_port.cil
	@tests/selinux/run

# ==== install, uninstall ====
#
# PREFIX=/usr gives a distribution package's layout; the default,
# /usr/local, one beside it.  The configuration is in $(SYSCONFDIR)/aiguard
# either way, and the state (/var/lib/aiguard) and /run/aiguard (the
# unit's RuntimeDirectory) are fixed: the SELinux file contexts and the
# unit name those paths.  install makes /var/lib/aiguard (0755); the
# store in it, /var/lib/aiguard/models, is made by the first `aiguard
# deploy`, with the daemon's group (0750).  No tmpfiles.d entry: at boot,
# systemd-tmpfiles (systemd_tmpfiles_t) would have to relabel and chmod
# the store, and the policy lets nobody but the deploy tool and the
# administrator change it.  DESTDIR stages
# the tree (nothing is chowned, so no root is needed then).
#
# An existing aiguardd.conf is never replaced: the shipped one is always
# in $(DOCDIR)/aiguardd.conf, to compare.  The installed configuration
# names no model: set model.dir and model.verify_key (aiguardd.conf(5)).
# The unit's ExecStart and Documentation follow SBINDIR, SYSCONFDIR and
# DOCDIR; with PREFIX=/usr it is policy/systemd/aiguardd.service as is.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/aiguard
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SELINUXDIR := $(DATADIR)/selinux/packages
INSTALL ?= install

INSTALL_DIRS := DESTDIR PREFIX BINDIR SBINDIR SYSCONFDIR DATADIR MANDIR \
	DOCDIR UNITDIR SYSUSERSDIR
MAN_PAGES := $(wildcard man/*.[1-8])
DOC_FILES := README.md $(wildcard docs/*.md)
SELINUX_PKGS := build/selinux/aiguard.pp build/selinux/aiguard_port.cil
CONF := $(DESTDIR)$(SYSCONFDIR)/aiguard/aiguardd.conf

# The unit is edited with sed, and the paths reach the shell unquoted:
# plain characters only (no blanks, quotes, |, &, $$ or \).
AG_PATH_CHARS := a b c d e f g h i j k l m n o p q r s t u v w x y z \
	A B C D E F G H I J K L M N O P Q R S T U V W X Y Z \
	0 1 2 3 4 5 6 7 8 9 / . _ + -
ag_strip = $(if $(2),$(call ag_strip,$(subst $(firstword $(2)),,$(1)),$\
	$(wordlist 2,$(words $(2)),$(2))),$(1))
check_dir = $(if $(or $(word 2,x$($(1))x),$(call ag_strip,$($(1)),$\
	$(AG_PATH_CHARS))),$(error $(1)=$($(1)): only A-Z a-z 0-9 / . _ + - $\
	in install paths))
MAN_SECTIONS := $(sort $(subst .,,$(suffix $(MAN_PAGES))))

install: $(B)/bin/aiguard $(B)/bin/aiguardd $(SELINUX_PKGS)
	$(foreach v,$(INSTALL_DIRS),$(call check_dir,$(v)))
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/aiguard $(DESTDIR)$(SYSCONFDIR)/aiguard/keys \
	    $(DESTDIR)$(SYSCONFDIR)/aiguard/auth $(DESTDIR)$(SYSCONFDIR)/aiguard/tls \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)/var/lib/aiguard $(DESTDIR)$(SELINUXDIR) \
	    $(DESTDIR)$(DOCDIR) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man,$(MAN_SECTIONS))
	$(INSTALL) -m 0755 $(B)/bin/aiguardd $(DESTDIR)$(SBINDIR)/aiguardd
	$(INSTALL) -m 0755 $(B)/bin/aiguard $(DESTDIR)$(BINDIR)/aiguard
	@if [ -e $(CONF) ] || [ -L $(CONF) ]; then \
	    echo "install: $(CONF) exists: left as it is (the shipped one:" \
	        "$(DESTDIR)$(DOCDIR)/aiguardd.conf)"; \
	else \
	    echo "$(INSTALL) -m 0644 etc/aiguardd.conf $(CONF)"; \
	    $(INSTALL) -m 0644 etc/aiguardd.conf $(CONF); \
	fi
	sed -e '/^ExecStart=/s|/usr/sbin/aiguardd |$(SBINDIR)/aiguardd |' \
	    -e '/^ExecStart=/s| /etc/aiguard/| $(SYSCONFDIR)/aiguard/|' \
	    -e '/^Documentation=/s|file:/usr/share/doc/aiguard/|file:$(DOCDIR)/|' \
	    policy/systemd/aiguardd.service >$(DESTDIR)$(UNITDIR)/aiguardd.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/aiguardd.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/aiguardd.service.tmp \
	    $(DESTDIR)$(UNITDIR)/aiguardd.service
	$(INSTALL) -m 0644 policy/systemd/aiguard.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/aiguard.conf
	$(INSTALL) -m 0644 $(SELINUX_PKGS) $(DESTDIR)$(SELINUXDIR)/
	for m in $(MAN_PAGES); do \
	    $(INSTALL) -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; \
	done
	$(INSTALL) -m 0644 $(DOC_FILES) etc/aiguardd.conf $(DESTDIR)$(DOCDIR)/

# Everything install wrote but the configuration; the directories of
# aiguard's own only when empty.  The store (/var/lib/aiguard), the
# user and group that systemd-sysusers made, and a loaded SELinux module
# are the administrator's to remove.
uninstall:
	$(foreach v,$(INSTALL_DIRS),$(call check_dir,$(v)))
	rm -f $(DESTDIR)$(SBINDIR)/aiguardd $(DESTDIR)$(BINDIR)/aiguard \
	    $(DESTDIR)$(UNITDIR)/aiguardd.service \
	    $(DESTDIR)$(SYSUSERSDIR)/aiguard.conf \
	    $(addprefix $(DESTDIR)$(SELINUXDIR)/,$(notdir $(SELINUX_PKGS))) \
	    $(foreach m,$(MAN_PAGES), \
	    $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
	    $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOC_FILES)) aiguardd.conf)
	rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/aiguard/keys \
	    $(DESTDIR)$(SYSCONFDIR)/aiguard/auth \
	    $(DESTDIR)$(SYSCONFDIR)/aiguard/tls \
	    $(DESTDIR)$(SYSCONFDIR)/aiguard 2>/dev/null || true
	@for f in $(CONF) $(DESTDIR)$(SYSCONFDIR)/aiguard/keys \
	    $(DESTDIR)$(SYSCONFDIR)/aiguard/auth \
	    $(DESTDIR)$(SYSCONFDIR)/aiguard/tls; do \
	    if [ -e $$f ]; then echo "uninstall: left $$f"; fi; \
	done
	@echo "uninstall: left /var/lib/aiguard (the store), the user and" \
	    "group aiguard and any loaded SELinux module aiguard"

# The environment pins OpenBLAS to its Haswell kernels for safety on some
# CPUs; the benchmark unsets that pin in its own command only.
bench: deps
	@scripts/install-deps --bench
	@$(MAKE) --no-print-directory all
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bench/run $(B) $(THREADS)

bench-sandbox: all
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bench/sandbox $(B) $(THREADS)

bench-coldstart: all
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bench/coldstart $(B)

# The soak: 64 connections of mixed traffic for 60 s, a worker kill and a
# reload in the middle; requests, errors by kind and each process's RSS.
soak: all
	$(PYTHON) tests/soak/soak.py $(B) --threads $(THREADS)

bench-serve: deps
	@scripts/install-deps --bench
	@$(MAKE) --no-print-directory all
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bench/serve $(B) $(THREADS)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bench/serve-tls $(B) $(THREADS)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bench/serve-repository $(B) $(THREADS)

bench-serve-repository: all
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bench/serve-repository $(B) $(THREADS)

# The engine's loops over channels, and the resize's passes over rows, are
# meant to be vectorised.
$(B)/obj/src/engine/%.o: OPT_EXTRA := -O3
$(B)/obj/src/image/preprocess.o: OPT_EXTRA := -O3

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OPT_EXTRA) -MMD -MP -c -o $@ $<

$(B)/libaiguard.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/libaiguardd.a: $(DLIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/bin/aiguard: $(CLI_OBJS) $(B)/libaiguardd.a $(B)/libaiguard.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(B)/libaiguardd.a \
	    $(B)/libaiguard.a $(LIBS) $(SEPOL_LIBS)

$(B)/bin/aiguardd: $(DAEMON_OBJS) $(B)/libaiguardd.a $(B)/libaiguard.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(B)/libaiguardd.a \
	    $(B)/libaiguard.a $(LIBS)

$(B)/bin/gen-weights: $(B)/obj/tools/gen-weights.o $(B)/libaiguard.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libaiguard.a $(LIBS)

$(B)/tests/engine-run: $(B)/obj/tests/reference/engine-run.o $(B)/libaiguard.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libaiguard.a $(LIBS)

$(B)/tests/image-dump: $(B)/obj/tests/reference/image-dump.o $(B)/libaiguard.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libaiguard.a $(LIBS)

$(B)/tests/test_%: $(B)/obj/tests/unit/test_%.o $(B)/obj/$(TEST_HELPER:.c=.o) \
    $(B)/libaiguardd.a $(B)/libaiguard.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The default model: synthetic, deterministic weights (see README).  Built by
# the normal (non-sanitizer) generator; the file is identical either way.
ifeq ($(SANITIZE),1)
# One recursive make for both files: two at once (make -j) would both
# rebuild the normal tree's objects and gen-weights, racing each other.
$(DEFAULT_MODEL): FORCE
	@$(MAKE) --no-print-directory SANITIZE= $(DEFAULT_MODEL) $(DEFAULT_SIG)
$(DEFAULT_SIG): $(DEFAULT_MODEL)
else
$(DEFAULT_MODEL): build/bin/gen-weights
	@mkdir -p $(MODELS)
	build/bin/gen-weights --arch resnet18 --seed 1 --out $(MODELS)/resnet18

# Made once per build tree (order-only: a rebuilt aiguard keeps the key).
$(BUILD_KEY).pub: | build/bin/aiguard
	@mkdir -p $(KEYS) && chmod 700 $(KEYS)
	build/bin/aiguard keygen --out $(BUILD_KEY)

$(DEFAULT_SIG): $(DEFAULT_MODEL) $(BUILD_KEY).pub | build/bin/aiguard
	build/bin/aiguard sign --key $(BUILD_KEY).key $(MODELS)/resnet18
endif

FORCE:

# Keep the test and tool objects: they are not throwaway intermediates.
.SECONDARY:

clean:
	rm -rf build

-include $(shell find $(B)/obj -name "*.d" 2>/dev/null)

# The engine for a target without the x86 code (docs/testing.md): aarch64
# by the cross compiler, the reference GEMM, warnings as errors; every
# engine file (the arch/x86 ones compile to nothing) and the engine's unit
# tests, linked static.  Compiled and linked, not run (e2e/arch).
ARCH_CC ?= aarch64-linux-gnu-gcc
ARCH_B := build/arch-aarch64
ARCH_FLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) -Werror -DAG_BLAS_REF \
	-pthread -Isrc -Itests/unit
ARCH_SRCS := $(wildcard src/engine/*.c src/engine/arch/*.c \
	src/engine/arch/x86/*.c) src/common/ag_err.c src/common/util.c
ARCH_OBJS := $(ARCH_SRCS:%.c=$(ARCH_B)/obj/%.o)
ARCH_TESTS := $(ARCH_B)/tests/test_engine $(ARCH_B)/tests/test_kernels

.PHONY: check-arch
check-arch:
	@command -v $(ARCH_CC) >/dev/null 2>&1 || { echo "check-arch:" \
	    "$(ARCH_CC) not found (scripts/install-deps)" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(ARCH_TESTS)

$(ARCH_B)/obj/src/engine/%.o: ARCH_EXTRA := -O3
$(ARCH_B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(ARCH_CC) $(ARCH_FLAGS) $(ARCH_EXTRA) -MMD -MP -c -o $@ $<

$(ARCH_B)/tests/test_%: $(ARCH_B)/obj/tests/unit/test_%.o \
    $(ARCH_B)/obj/tests/unit/test_helper.o $(ARCH_OBJS)
	@mkdir -p $(@D)
	$(ARCH_CC) -static -pthread -o $@ $^ -lm

-include $(shell find $(ARCH_B)/obj -name "*.d" 2>/dev/null)

# libFuzzer entry points, built with clang (not part of check).  The parser
# sources are compiled here with the fuzzer's own instrumentation.
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SAFETENSORS_SRCS := tests/fuzz/fuzz_safetensors.c \
	src/model/safetensors.c src/common/ag_err.c src/common/util.c

FUZZ_OIP_SRCS := tests/fuzz/fuzz_oip.c src/http/oip.c src/http/jsonin.c \
	src/http/jsonnum.c src/http/jsonout.c src/common/ag_err.c \
	src/common/siphash.c src/common/topk.c src/common/util.c

FUZZ_IMAGE_SRCS := tests/fuzz/fuzz_image.c src/image/decode.c \
	src/image/preprocess.c src/common/ag_err.c src/common/util.c

fuzz:
	@if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
	    echo "fuzz: $(FUZZ_CC) not found, skipping"; exit 0; fi; \
	mkdir -p build/fuzz && \
	$(FUZZ_CC) $(FUZZ_FLAGS) -o build/fuzz/fuzz_oip $(FUZZ_OIP_SRCS) -lm && \
	$(FUZZ_CC) $(FUZZ_FLAGS) $(shell pkg-config --cflags jansson) \
	    -o build/fuzz/fuzz_safetensors $(FUZZ_SAFETENSORS_SRCS) \
	    $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson) && \
	$(FUZZ_CC) $(FUZZ_FLAGS) -o build/fuzz/fuzz_image $(FUZZ_IMAGE_SRCS) \
	    -lturbojpeg -lspng -lm && \
	echo "fuzz: run build/fuzz/fuzz_safetensors, build/fuzz/fuzz_oip" \
	    "or build/fuzz/fuzz_image [-max_total_time=N] [CORPUS]"
