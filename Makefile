# glint build: host library, guest library, example guests, CLI, tests, benchmarks.
# Quiet by default; `make V=1` shows commands.

BUILD ?= build
BENCH_ITERS ?= 2000
CC ?= cc
GUEST_CC ?= gcc
CLANG ?= clang

ifeq ($(V),1)
Q :=
say = @:
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

VERSION := 0.1.0
SOVERSION := 0
# Vendored KVM UAPI headers (see third_party/linux/README.md), searched before the system's.
KVM_UAPI := third_party/linux/include
WARN := -Wall -Wextra -Wshadow -Wcast-qual -Wstrict-prototypes -Wmissing-prototypes -Werror
HOST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -fPIC -fvisibility=hidden \
	-fstack-protector-strong -Iinclude -Icommon -Isrc -I$(KVM_UAPI) $(EXTRA_CFLAGS)
HOST_LDFLAGS := -Wl,-z,noexecstack -Wl,-z,relro -Wl,-z,now $(EXTRA_LDFLAGS)
HOST_LIBS := -lseccomp -lz -lpthread -lrt

# Guest code: freestanding, no libc, CPL3, no red zone, static, non-PIE.
GCC_INCLUDE := $(shell $(GUEST_CC) -print-file-name=include)
# GUEST_ARCH_CFLAGS and GUEST_LINK_FLAGS are also what the installed glint-guest.pc gives users.
GUEST_ARCH_CFLAGS := -ffreestanding -fno-builtin -mno-red-zone -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-exceptions -mcmodel=small \
	-fcf-protection=none -mno-avx
GUEST_CFLAGS := -std=c11 -O2 -g $(WARN) $(GUEST_ARCH_CFLAGS) -nostdinc \
	-isystem $(GCC_INCLUDE) -Iguest/include -Iinclude -Icommon
GUEST_LINK_FLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,-z,max-page-size=4096
GUEST_LDFLAGS := $(GUEST_LINK_FLAGS) -Wl,-T,guest/glint-guest.ld
GUEST_LIBGCC := $(shell $(GUEST_CC) -print-libgcc-file-name)

# ---- sources ---------------------------------------------------------------
LIB_SRCS := $(wildcard src/*/*.c common/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
GUEST_LIB_SRCS := $(wildcard guest/*.c guest/libc/*.c common/*.c)
GUEST_LIB_ASMS := $(wildcard guest/*.S)
GUEST_LIB_OBJS := $(GUEST_LIB_SRCS:%.c=$(BUILD)/gobj/%.o) $(GUEST_LIB_ASMS:%.S=$(BUILD)/gobj/%.o)
# libglint-rt: the glibc-ABI layer and syscall-free musl members for prebuilt archives
# (docs/runtimes.md).
RT_SRCS := $(wildcard guest/rt/*.c)
RT_OBJS := $(RT_SRCS:%.c=$(BUILD)/gobj/%.o)
LIBC_TEST_OBJS := $(patsubst %.c,$(BUILD)/obj/libctest/%.o,$(wildcard guest/libc/*.c))
# lua-embed.c is the SDK's example: scripts/install-test.sh builds it from the installed files.
EXAMPLE_GUESTS := $(patsubst examples/guests/%.c,$(BUILD)/guests/%.elf,$(filter-out %/lua-embed.c,$(wildcard examples/guests/*.c)))
TEST_GUESTS := $(patsubst tests/guests/%.c,$(BUILD)/tests/guests/%.elf,$(wildcard tests/guests/*.c))
CLI_SRCS := $(wildcard cli/*.c)
# glint serve (docs/serve.md) is glint-net, which glint execs (cli/net.c): only it links
# libmicrohttpd and jansson (their load costs ~2 ms per process start). It shares the CLI's
# objects but main.c; glint links serve's help text only.
SERVE_SRCS := $(wildcard serve/*.c)
SERVE_LIBS := -lmicrohttpd -ljansson -lnats
# The pure parts the unit tests and the fuzz target use.
SERVE_PURE_OBJS := $(patsubst %,$(BUILD)/obj/serve/%.o,base64 json config accesslog metrics invoke nats_dispatch nats_wire) \
	$(BUILD)/obj/cli/parse.o
UNIT_SRCS := $(wildcard tests/unit/*.c)
# Test layers: unit (pure code), vm (public API in real VMs), whitebox (internals through
# tests/whitebox/whitebox.h), hostile (hostile guests); tests/support is shared by the last three.
SUPPORT_SRCS := $(wildcard tests/support/*.c)
VM_SRCS := $(wildcard tests/vm/*.c) $(SUPPORT_SRCS)
WB_SRCS := $(wildcard tests/whitebox/*.c) $(SUPPORT_SRCS)
HOSTILE_SRCS := $(wildcard tests/hostile/*.c) tests/whitebox/integrity.c $(SUPPORT_SRCS)
BENCH_SRCS := $(wildcard bench/*.c)

LIBA := $(BUILD)/lib/libglint.a
LIBSO := $(BUILD)/lib/libglint.so
GUEST_LIBA := $(BUILD)/lib/libglint-guest.a
RT_LIBA := $(BUILD)/lib/libglint-rt.a
LUA_GUEST := $(BUILD)/guests/lua.elf
JS_GUEST := $(BUILD)/guests/js.elf
CLI := $(BUILD)/bin/glint
NET := $(BUILD)/bin/glint-net
DEMO := $(BUILD)/bin/glint-demo
BENCH := $(BUILD)/bin/glint-bench
SOAK := $(BUILD)/bin/glint-soak
SOAK_CYCLES ?= 100000
UNIT := $(BUILD)/tests/unit-tests
VMT := $(BUILD)/tests/vm-tests
WBT := $(BUILD)/tests/whitebox-tests
HOSTT := $(BUILD)/tests/hostile-tests
# The stand-in NATS worker of the gateway and `glint call --nats` tests (tests/natsgw).
NATSGW_RESPONDER := $(BUILD)/tests/natsgw-responder

.PHONY: deps deps-check all demo check check-unit check-vm check-asan check-tsan soak bench fuzz \
	format format-check install uninstall clean

all: $(LIBA) $(LIBSO) $(GUEST_LIBA) $(RT_LIBA) $(LUA_GUEST) $(JS_GUEST) $(CLI) $(NET) $(DEMO) $(EXAMPLE_GUESTS) $(TEST_GUESTS)

# `make -j clean all`: clean must finish before anything builds, so such a run goes serially.
ifneq ($(filter clean,$(MAKECMDGOALS)),)
ifneq ($(filter-out clean,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif
endif

# Safe under -j: every compile waits for the package check (order-only prerequisites: the
# check runs once per make, before any compiler, and never forces a rebuild). Test objects
# wait for the test packages too. ensure-deps.sh serialises concurrent installs itself.
deps:
	@scripts/ensure-deps.sh build

deps-check:
	@scripts/ensure-deps.sh check

# ---- host library -------------------------------------------------------------
$(BUILD)/obj/%.o: %.c | deps
	$(call say,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(LIBA): $(LIB_OBJS)
	$(call say,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBSO): $(LIB_OBJS)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -shared -Wl,-soname,libglint.so.$(SOVERSION) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

# ---- guest library and guests ---------------------------------------------------
$(BUILD)/gobj/%.o: %.c | deps
	$(call say,GUESTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gobj/%.o: %.S | deps
	$(call say,GUESTAS,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_LIBA): $(GUEST_LIB_OBJS)
	$(call say,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Syscall-free members of Debian's musl libc.a (musl-dev), extracted with ar x and checked with
# objdump: libm, setjmp/longjmp, strtod and its scanner, a few string functions, qsort. Which and
# why: docs/runtimes.md.
MUSL_LIBC ?= /usr/lib/x86_64-linux-musl/libc.a
MUSL_MATH := acos asin atan atan2 cos cosh sin sinh tan tanh exp exp_data expm1 log log_data \
	log10 log1p log2 log2_data pow pow_data fmod frexp ldexp scalbn sqrt fabs floor ceil \
	__cos __sin __tan __rem_pio2 __rem_pio2_large __expo2 __math_divzero __math_invalid \
	__math_oflow __math_uflow __math_xflow scalbnl copysignl fmodl fabsl frexpl __fpclassifyl \
	__signbitl
MUSL_MEMBERS := $(MUSL_MATH) setjmp longjmp strtod floatscan shgetc strspn strpbrk strcspn \
	strchrnul qsort qsort_nr strncasecmp tolower
MUSL_OBJS := $(MUSL_MEMBERS:%=$(BUILD)/musl/%.lo)
$(BUILD)/musl/.extracted: $(MUSL_LIBC) | deps
	$(call say,AR-X,$(MUSL_LIBC))
	@rm -rf $(dir $@) && mkdir -p $(dir $@)
	$(Q)cd $(dir $@) && ar x $(abspath $(MUSL_LIBC)) $(MUSL_MEMBERS:%=%.lo)
	$(Q)for o in $(MUSL_OBJS); do \
		if objdump -d --no-show-raw-insn $$o | grep -Eq '\s(syscall|sysenter)\b'; then \
			echo "$$o: musl member makes a system call" >&2; exit 1; fi; done
	@touch $@
$(MUSL_OBJS): $(BUILD)/musl/.extracted

$(RT_LIBA): $(RT_OBJS) $(BUILD)/musl/.extracted
	$(call say,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $(RT_OBJS) $(MUSL_OBJS)

# ---- language runtimes (docs/runtimes.md) ------------------------------------------------------
LUA_LIBS := /usr/lib/x86_64-linux-gnu/liblua5.4-cjson.a /usr/lib/x86_64-linux-gnu/liblua5.4.a
LUA_OBJS := $(patsubst %.c,$(BUILD)/gobj/%.o,$(wildcard guest/runtimes/lua/*.c))
# Debian's luaconf.h includes lua5.4-deb-multiarch.h from the multiarch directory, which also
# holds glibc's headers: only that one file is copied next to the guest's include path.
LUA_MULTIARCH := $(BUILD)/lua-include/lua5.4-deb-multiarch.h
$(LUA_MULTIARCH): /usr/include/x86_64-linux-gnu/lua5.4-deb-multiarch.h
	@mkdir -p $(dir $@)
	$(Q)cp $< $@
$(LUA_OBJS): $(LUA_MULTIARCH)
$(LUA_OBJS): GUEST_CFLAGS += -isystem /usr/include/lua5.4 -isystem $(BUILD)/lua-include \
	-isystem guest/rt/include -Iguest/rt
$(LUA_GUEST): $(LUA_OBJS) $(LUA_LIBS) $(RT_LIBA) $(GUEST_LIBA) guest/glint-guest.ld scripts/check-guest-elf.sh
	$(call say,GUESTLD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(LUA_OBJS) $(LUA_LIBS) -Wl,--start-group $(RT_LIBA) \
		$(GUEST_LIBA) -Wl,--end-group $(GUEST_LIBGCC)
	$(Q)$(CHECK_GUEST)

# MuJS: Debian's source package at the installed libmujs-dev's version (upgrading the package
# rebuilds it), plus glint's instruction count hook (guest/runtimes/js/mujs-count-hook.patch:
# Debian's binary has no hook, and its loop calls the collector through a local clone no link
# option can reach), compiled as Debian compiles its libmujs.a (dpkg-buildflags, hardening=+all).
# docs/runtimes.md says why.
MUJS := $(BUILD)/mujs
MUJS_PATCH := guest/runtimes/js/mujs-count-hook.patch
# Expanded in the recipe only (dpkg-buildflags may run the compiler, which must wait for deps).
MUJS_BUILDFLAGS = CC=$(GUEST_CC) DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get
MUJS_FLAGS = $(shell $(MUJS_BUILDFLAGS) CFLAGS) $(shell $(MUJS_BUILDFLAGS) CPPFLAGS)
# Files of Debian packages exist once the deps step has installed them (on a fresh machine).
$(LUA_LIBS) /usr/include/mujs.h: | deps
$(MUJS)/src/.patched: /usr/include/mujs.h $(MUJS_PATCH) scripts/fetch-debian-source.sh | deps
	$(call say,FETCH,$(BUILD)/mujs-src)
	$(Q)scripts/fetch-debian-source.sh mujs libmujs-dev $(BUILD)/mujs-src
	$(Q)rm -rf $(MUJS)/src && mkdir -p $(MUJS) && cp -r $(BUILD)/mujs-src/src $(MUJS)/src
	$(Q)patch -s -p1 -d $(MUJS)/src < $(MUJS_PATCH)
	$(Q)touch $@
$(MUJS)/libmujs.a: $(MUJS)/src/.patched
	$(call say,CC,$(MUJS)/src/one.c)
	$(Q)$(GUEST_CC) $(MUJS_FLAGS) -c $(MUJS)/src/one.c -o $(MUJS)/libmujs.o
	$(Q)rm -f $@ && ar rcs $@ $(MUJS)/libmujs.o
JS_LIBS := $(MUJS)/libmujs.a
JS_OBJS := $(patsubst %.c,$(BUILD)/gobj/%.o,$(wildcard guest/runtimes/js/*.c))
# mujs.h would otherwise come from /usr/include next to glibc's headers: only that file is on the
# guest's include path (its <setjmp.h> is then libglint-rt's).
JS_HEADER := $(BUILD)/js-include/mujs.h
$(JS_HEADER): $(MUJS)/src/.patched
	@mkdir -p $(dir $@)
	$(Q)cp $(MUJS)/src/mujs.h $@
$(JS_OBJS): $(JS_HEADER)
$(JS_OBJS): GUEST_CFLAGS += -isystem $(BUILD)/js-include -isystem guest/rt/include -Iguest/rt
$(JS_GUEST): $(JS_OBJS) $(JS_LIBS) $(RT_LIBA) $(GUEST_LIBA) guest/glint-guest.ld scripts/check-guest-elf.sh
	$(call say,GUESTLD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(JS_OBJS) $(JS_LIBS) -Wl,--start-group $(RT_LIBA) \
		$(GUEST_LIBA) -Wl,--end-group $(GUEST_LIBGCC)
	$(Q)$(CHECK_GUEST)

# Every guest link ends with scripts/check-guest-elf.sh: no syscall/sysenter, no PT_TLS (a
# failing check deletes the ELF). The hostile test guests execute those instructions on purpose.
CHECK_GUEST = scripts/check-guest-elf.sh $(if $(filter $(CHECK_GUEST_ALLOW),$(notdir $@)),--allow-syscall) $@ || { rm -f $@; exit 1; }
CHECK_GUEST_ALLOW := hostile.elf faults.elf

$(BUILD)/guests/%.elf: $(BUILD)/gobj/examples/guests/%.o $(RT_LIBA) $(GUEST_LIBA) guest/glint-guest.ld scripts/check-guest-elf.sh
	$(call say,GUESTLD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $< $(RT_LIBA) $(GUEST_LIBA) $(GUEST_LIBGCC)
	$(Q)$(CHECK_GUEST)

$(BUILD)/tests/guests/%.elf: $(BUILD)/gobj/tests/guests/%.o $(RT_LIBA) $(GUEST_LIBA) guest/glint-guest.ld scripts/check-guest-elf.sh
	$(call say,GUESTLD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $< $(RT_LIBA) $(GUEST_LIBA) $(GUEST_LIBGCC)
	$(Q)$(CHECK_GUEST)

# Built as Debian builds its archives, to prove the host's canary at %fs:0x28 (glint/abi.h).
$(BUILD)/gobj/tests/guests/tls.o: GUEST_CFLAGS += -fstack-protector-strong

# ---- programs -------------------------------------------------------------------
$(BUILD)/obj/cli/%.o $(BUILD)/obj/serve/%.o: HOST_CFLAGS += -Icli -Iserve
$(CLI): $(CLI_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/serve/help.o $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

$(NET): $(filter-out $(BUILD)/obj/cli/main.o,$(CLI_SRCS:%.c=$(BUILD)/obj/%.o)) \
	$(SERVE_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(SERVE_LIBS) $(HOST_LIBS)

# The NATS tests' load client (tests/nats/nats-tests.sh).
NATSLOAD := $(BUILD)/tests/natsload
$(NATSLOAD): $(BUILD)/obj/tests/nats/natsload.o
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lnats -lpthread

$(DEMO): $(BUILD)/obj/examples/demo.o $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

$(BENCH): $(BENCH_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lnats $(HOST_LIBS) -lm

$(SOAK): $(BUILD)/obj/tests/soak/soak.o $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

$(NATSGW_RESPONDER): $(BUILD)/obj/tests/natsgw/responder.o
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lnats -ljansson

# Guest libc compiled for the host under test names (see guest/libc/names.h).
$(BUILD)/obj/libctest/%.o: %.c | deps-check
	$(call say,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_CFLAGS) -fno-builtin -DGLINT_LIBC_HOST_TEST -MMD -MP -c $< -o $@

TEST_OBJS := $(sort $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o) $(VM_SRCS:%.c=$(BUILD)/obj/%.o) \
	$(WB_SRCS:%.c=$(BUILD)/obj/%.o) $(HOSTILE_SRCS:%.c=$(BUILD)/obj/%.o))
$(TEST_OBJS) $(BUILD)/obj/tests/soak/soak.o: | deps-check
$(TEST_OBJS): HOST_CFLAGS += -Itests/support -Itests/whitebox -Iserve -Icli

$(UNIT): $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBC_TEST_OBJS) $(SERVE_PURE_OBJS) $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lcriterion -ljansson $(HOST_LIBS) -lm

$(VMT): $(VM_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBA)
$(WBT): $(WB_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBA)
$(HOSTT): $(HOSTILE_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBA)
$(VMT) $(WBT) $(HOSTT):
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lcriterion $(HOST_LIBS) -lm

# ---- user targets ---------------------------------------------------------------
demo: all
	$(DEMO) $(BUILD)/guests/hello.elf

# Every stage runs even when an earlier one fails; a table of results ends the output and
# the exit status is non-zero if any stage failed (scripts/run-stages.sh).
VM_ENV = GLINT_GUESTS=$(BUILD)/guests GLINT_TEST_GUESTS=$(BUILD)/tests/guests
check:
	@scripts/run-stages.sh \
		build '$(MAKE) --no-print-directory deps-check all $(UNIT) $(VMT) $(WBT) $(HOSTT) $(NATSLOAD)' \
		kvm 'scripts/check-kvm.sh' \
		malformed 'BUILD=$(BUILD) scripts/gen-malformed.sh --check' \
		unit '$(UNIT) --jobs=2' \
		vm '$(VM_ENV) $(VMT) --jobs=2 $(VM_ARGS)' \
		whitebox '$(VM_ENV) $(WBT) --jobs=2 $(VM_ARGS)' \
		hostile '$(VM_ENV) $(HOSTT) --jobs=2 $(VM_ARGS)' \
		cli 'scripts/cli-tests.sh $(BUILD)' \
		install 'MAKE="$(MAKE)" scripts/install-test.sh $(BUILD)' \
		includes 'scripts/check-includes.sh' \
		scripts 'scripts/selftest.sh' \
		lua 'scripts/lua-conformance.sh $(BUILD)' \
		js 'scripts/js-conformance.sh $(BUILD)' \
		serve 'tests/serve/serve-tests.sh $(BUILD)' \
		nats 'tests/nats/nats-tests.sh $(BUILD)' \
		natsgw '$(MAKE) --no-print-directory $(NATSGW_RESPONDER) && tests/natsgw/natsgw-tests.sh $(BUILD)' \
		deploy 'scripts/check-deploy.sh' \
		format '$(MAKE) --no-print-directory format-check'

# The unit and VM suites under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer).
ASAN_BUILD := build/asan
ASAN_VM_ENV := GLINT_GUESTS=$(ASAN_BUILD)/guests GLINT_TEST_GUESTS=$(ASAN_BUILD)/tests/guests
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
	EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1" \
	EXTRA_LDFLAGS="-fsanitize=address,undefined"
check-asan:
	@scripts/ensure-deps.sh asan
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	scripts/run-stages.sh \
		build '$(ASAN_MAKE) all $(ASAN_BUILD)/tests/unit-tests $(ASAN_BUILD)/tests/vm-tests $(ASAN_BUILD)/tests/whitebox-tests $(ASAN_BUILD)/tests/hostile-tests' \
		unit '$(ASAN_BUILD)/tests/unit-tests --jobs=2' \
		vm '$(ASAN_VM_ENV) $(ASAN_BUILD)/tests/vm-tests --jobs=2' \
		whitebox '$(ASAN_VM_ENV) $(ASAN_BUILD)/tests/whitebox-tests --jobs=2' \
		hostile '$(ASAN_VM_ENV) $(ASAN_BUILD)/tests/hostile-tests --jobs=2'

# Pools and interrupts under ThreadSanitizer (see the script for a Criterion quirk).
check-tsan:
	scripts/check-tsan.sh

# 100 000 create/call/destroy cycles: RSS and descriptor count must stay flat.
soak: all $(SOAK)
	@scripts/check-kvm.sh
	$(SOAK) $(SOAK_CYCLES) $(BUILD)/guests/hello.elf

check-unit: all $(UNIT)
	$(UNIT) --jobs=2

check-vm: all $(VMT) $(WBT) $(HOSTT)
	$(VM_ENV) $(VMT) --jobs=2
	$(VM_ENV) $(WBT) --jobs=2
	$(VM_ENV) $(HOSTT) --jobs=2

bench: all $(BENCH)
	$(BENCH) --guest $(BUILD)/guests/hello.elf --lua-guest $(LUA_GUEST) --js-guest $(JS_GUEST) --json $(BUILD)/bench.json \
		--glint $(CLI) --iters $(BENCH_ITERS)

fuzz:
	@scripts/ensure-deps.sh fuzz
	scripts/fuzz.sh

FORMAT_FILES := $(shell find include common src guest cli serve examples tests bench -name '*.[ch]' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "  FORMAT  clean"

# ---- install: an SDK usable through pkg-config (scripts/install-test.sh proves it) ------
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# The guest's only include root (-nostdinc): guest libc headers and glint/guest.h, glint/abi.h.
GUEST_INCLUDEDIR := $(INCLUDEDIR)/glint/guest-include
GUEST_LDSCRIPT := $(LIBDIR)/glint/glint-guest.ld
EXAMPLEDIR := $(DATADIR)/glint/examples
# Runtime SDK (docs/runtimes.md): libglint-rt's headers, Debian's Lua multiarch header, and the
# prebuilt runtime guests (ELF code for x86-64, so under lib/ rather than share/).
RT_INCLUDEDIR := $(INCLUDEDIR)/glint/rt-include
LUA_INCLUDEDIR := $(INCLUDEDIR)/glint/lua-include
GUESTDIR := $(LIBDIR)/glint/guests
RT_HEADERS := guest/rt/glint_rt.h guest/rt/include/limits.h
SONAME := libglint.so.$(SOVERSION)
SOFILE := libglint.so.$(VERSION)
D := $(DESTDIR)
PC_SED := -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	-e 's|@GUEST_INCLUDEDIR@|$(GUEST_INCLUDEDIR)|g' -e 's|@GCC_INCLUDE@|$(GCC_INCLUDE)|g' \
	-e 's|@GUEST_LDSCRIPT@|$(GUEST_LDSCRIPT)|g' -e 's|@GUEST_ARCH_CFLAGS@|$(GUEST_ARCH_CFLAGS)|g' \
	-e 's|@GUEST_LINK_FLAGS@|$(GUEST_LINK_FLAGS)|g' -e 's|@RT_INCLUDEDIR@|$(RT_INCLUDEDIR)|g' \
	-e 's|@LUA_INCLUDEDIR@|$(LUA_INCLUDEDIR)|g' -e 's|@GUESTDIR@|$(GUESTDIR)|g' \
	-e 's|@LUA_INCLUDE@|/usr/include/lua5.4|g' -e 's|@LUA_LIB@|$(lastword $(LUA_LIBS))|g'
PC_FILES := glint glint-guest glint-rt glint-lua
GUEST_HEADERS := $(wildcard guest/include/*.h)

install: all
	$(call say,INSTALL,$(D)$(PREFIX))
	$(Q)install -d $(D)$(BINDIR) $(D)$(LIBDIR)/glint $(D)$(PKGCONFIGDIR) $(D)$(INCLUDEDIR)/glint \
		$(D)$(GUEST_INCLUDEDIR)/glint $(D)$(EXAMPLEDIR)
	$(Q)install -m 755 $(CLI) $(NET) $(D)$(BINDIR)/
	$(Q)install -m 644 $(LIBA) $(GUEST_LIBA) $(D)$(LIBDIR)/
	$(Q)install -m 755 $(LIBSO) $(D)$(LIBDIR)/$(SOFILE)
	$(Q)ln -sf $(SOFILE) $(D)$(LIBDIR)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(D)$(LIBDIR)/libglint.so
	$(Q)install -m 644 guest/glint-guest.ld $(D)$(GUEST_LDSCRIPT)
	$(Q)install -m 644 include/glint.h $(D)$(INCLUDEDIR)/
	$(Q)install -m 644 include/glint/abi.h include/glint/guest.h $(D)$(INCLUDEDIR)/glint/
	$(Q)install -m 644 $(GUEST_HEADERS) $(D)$(GUEST_INCLUDEDIR)/
	$(Q)install -m 644 include/glint/abi.h include/glint/guest.h $(D)$(GUEST_INCLUDEDIR)/glint/
	$(Q)install -m 644 examples/guests/hello.c $(D)$(EXAMPLEDIR)/hello-guest.c
	$(Q)install -m 644 examples/demo.c $(D)$(EXAMPLEDIR)/demo-host.c
	$(Q)install -d $(D)$(RT_INCLUDEDIR) $(D)$(LUA_INCLUDEDIR) $(D)$(GUESTDIR)
	$(Q)install -m 644 $(RT_LIBA) $(D)$(LIBDIR)/
	$(Q)install -m 644 $(RT_HEADERS) $(D)$(RT_INCLUDEDIR)/
	$(Q)install -m 644 $(LUA_MULTIARCH) $(D)$(LUA_INCLUDEDIR)/
	$(Q)install -m 644 $(LUA_GUEST) $(JS_GUEST) $(D)$(GUESTDIR)/
	$(Q)install -m 644 examples/guests/lua-embed.c $(D)$(EXAMPLEDIR)/lua-embed-guest.c
	$(Q)for p in $(PC_FILES); do sed $(PC_SED) pkgconfig/$$p.pc.in >$(D)$(PKGCONFIGDIR)/$$p.pc && \
		chmod 644 $(D)$(PKGCONFIGDIR)/$$p.pc || exit 1; done

# Removes exactly what install wrote, then the directories it made if they are now empty.
uninstall:
	$(call say,RM,$(D)$(PREFIX))
	$(Q)rm -f $(D)$(BINDIR)/glint $(D)$(BINDIR)/glint-net $(D)$(LIBDIR)/libglint.a $(D)$(LIBDIR)/libglint-guest.a \
		$(D)$(LIBDIR)/$(SOFILE) $(D)$(LIBDIR)/$(SONAME) $(D)$(LIBDIR)/libglint.so \
		$(D)$(GUEST_LDSCRIPT) $(D)$(INCLUDEDIR)/glint.h $(D)$(INCLUDEDIR)/glint/abi.h \
		$(D)$(INCLUDEDIR)/glint/guest.h $(GUEST_HEADERS:guest/include/%=$(D)$(GUEST_INCLUDEDIR)/%) \
		$(D)$(GUEST_INCLUDEDIR)/glint/abi.h $(D)$(GUEST_INCLUDEDIR)/glint/guest.h \
		$(D)$(EXAMPLEDIR)/hello-guest.c $(D)$(EXAMPLEDIR)/demo-host.c \
		$(PC_FILES:%=$(D)$(PKGCONFIGDIR)/%.pc) $(D)$(LIBDIR)/libglint-rt.a \
		$(addprefix $(D)$(RT_INCLUDEDIR)/,$(notdir $(RT_HEADERS))) \
		$(D)$(LUA_INCLUDEDIR)/$(notdir $(LUA_MULTIARCH)) $(D)$(GUESTDIR)/$(notdir $(LUA_GUEST)) $(D)$(GUESTDIR)/$(notdir $(JS_GUEST)) \
		$(D)$(EXAMPLEDIR)/lua-embed-guest.c
	$(Q)for d in $(GUEST_INCLUDEDIR)/glint $(GUEST_INCLUDEDIR) $(RT_INCLUDEDIR) $(LUA_INCLUDEDIR) \
		$(GUESTDIR) $(INCLUDEDIR)/glint $(LIBDIR)/glint \
		$(EXAMPLEDIR) $(DATADIR)/glint $(PKGCONFIGDIR); do \
		[ ! -d "$(D)$$d" ] || rmdir --ignore-fail-on-non-empty "$(D)$$d"; done

clean:
	rm -rf build

# Keep intermediate objects (guest .o files) between runs.
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
