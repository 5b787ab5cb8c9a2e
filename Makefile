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
WARN := -Wall -Wextra -Wshadow -Wcast-qual -Wstrict-prototypes -Wmissing-prototypes -Werror
HOST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -fPIC -fvisibility=hidden \
	-fstack-protector-strong -Iinclude -Isrc $(EXTRA_CFLAGS)
HOST_LDFLAGS := -Wl,-z,noexecstack -Wl,-z,relro -Wl,-z,now $(EXTRA_LDFLAGS)
HOST_LIBS := -lseccomp -lpthread -lrt

# Guest code: freestanding, no libc, CPL3, no red zone, static, non-PIE.
GCC_INCLUDE := $(shell $(GUEST_CC) -print-file-name=include)
GUEST_CFLAGS := -std=c11 -O2 -g $(WARN) -ffreestanding -fno-builtin -nostdinc \
	-isystem $(GCC_INCLUDE) -Iguest/include -Iinclude -Isrc -mno-red-zone \
	-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-exceptions -mcmodel=small -fcf-protection=none -mno-avx
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,guest/glint-guest.ld \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096
GUEST_LIBGCC := $(shell $(GUEST_CC) -print-libgcc-file-name)

# ---- sources ---------------------------------------------------------------
LIB_SRCS := $(wildcard src/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
GUEST_LIB_SRCS := $(wildcard guest/*.c guest/libc/*.c) src/codec.c
GUEST_LIB_ASMS := $(wildcard guest/*.S)
GUEST_LIB_OBJS := $(GUEST_LIB_SRCS:%.c=$(BUILD)/gobj/%.o) $(GUEST_LIB_ASMS:%.S=$(BUILD)/gobj/%.o)
LIBC_TEST_OBJS := $(patsubst %.c,$(BUILD)/obj/libctest/%.o,$(wildcard guest/libc/*.c))
EXAMPLE_GUESTS := $(patsubst examples/guests/%.c,$(BUILD)/guests/%.elf,$(wildcard examples/guests/*.c))
TEST_GUESTS := $(patsubst tests/guests/%.c,$(BUILD)/tests/guests/%.elf,$(wildcard tests/guests/*.c))
CLI_SRCS := $(wildcard cli/*.c)
UNIT_SRCS := $(wildcard tests/unit/*.c)
VM_SRCS := $(wildcard tests/vm/*.c)
BENCH_SRCS := $(wildcard bench/*.c)

LIBA := $(BUILD)/lib/libglint.a
LIBSO := $(BUILD)/lib/libglint.so
GUEST_LIBA := $(BUILD)/lib/libglint-guest.a
CLI := $(BUILD)/bin/glint
DEMO := $(BUILD)/bin/glint-demo
BENCH := $(BUILD)/bin/glint-bench
SOAK := $(BUILD)/bin/glint-soak
SOAK_CYCLES ?= 100000
UNIT := $(BUILD)/tests/unit-tests
VMT := $(BUILD)/tests/vm-tests

.PHONY: deps-check all demo check check-unit check-vm check-asan check-tsan soak bench fuzz format format-check install clean deps

all: deps $(LIBA) $(LIBSO) $(GUEST_LIBA) $(CLI) $(DEMO) $(EXAMPLE_GUESTS) $(TEST_GUESTS)

deps:
	@scripts/ensure-deps.sh build

deps-check:
	@scripts/ensure-deps.sh check

# ---- host library -------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
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
	$(Q)$(CC) -shared -Wl,-soname,libglint.so.0 $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

# ---- guest library and guests ---------------------------------------------------
$(BUILD)/gobj/%.o: %.c
	$(call say,GUESTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gobj/%.o: %.S
	$(call say,GUESTAS,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_LIBA): $(GUEST_LIB_OBJS)
	$(call say,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/guests/%.elf: $(BUILD)/gobj/examples/guests/%.o $(GUEST_LIBA) guest/glint-guest.ld
	$(call say,GUESTLD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIBA) $(GUEST_LIBGCC)

$(BUILD)/tests/guests/%.elf: $(BUILD)/gobj/tests/guests/%.o $(GUEST_LIBA) guest/glint-guest.ld
	$(call say,GUESTLD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIBA) $(GUEST_LIBGCC)

# ---- programs -------------------------------------------------------------------
$(CLI): $(CLI_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

$(DEMO): $(BUILD)/obj/examples/demo.o $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

$(BENCH): $(BENCH_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS) -lm

$(SOAK): $(BUILD)/obj/tests/soak/soak.o $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

# Guest libc compiled for the host under test names (see guest/libc/names.h).
$(BUILD)/obj/libctest/%.o: %.c
	$(call say,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_CFLAGS) -fno-builtin -DGLINT_LIBC_HOST_TEST -MMD -MP -c $< -o $@

$(UNIT): $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBC_TEST_OBJS) $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lcriterion $(HOST_LIBS) -lm

$(VMT): $(VM_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBA)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lcriterion $(HOST_LIBS) -lm

# ---- user targets ---------------------------------------------------------------
demo: all
	$(DEMO) $(BUILD)/guests/hello.elf

check: deps-check all $(UNIT) $(VMT)
	@scripts/check-kvm.sh
	@scripts/gen-malformed.sh --check
	$(UNIT) --jobs=2
	GLINT_GUESTS=$(BUILD)/guests GLINT_TEST_GUESTS=$(BUILD)/tests/guests $(VMT) --jobs=2
	@scripts/cli-tests.sh $(BUILD)
	@$(MAKE) --no-print-directory format-check

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan:
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	$(MAKE) --no-print-directory BUILD=build/asan \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" check-unit check-vm

# Pools and interrupts under ThreadSanitizer (see the script for a Criterion quirk).
check-tsan:
	scripts/check-tsan.sh

# 100 000 create/call/destroy cycles: RSS and descriptor count must stay flat.
soak: all $(SOAK)
	@scripts/check-kvm.sh
	$(SOAK) $(SOAK_CYCLES) $(BUILD)/guests/hello.elf

check-unit: all $(UNIT)
	$(UNIT) --jobs=2

check-vm: all $(VMT)
	GLINT_GUESTS=$(BUILD)/guests GLINT_TEST_GUESTS=$(BUILD)/tests/guests $(VMT) --jobs=2

bench: all $(BENCH)
	$(BENCH) --guest $(BUILD)/guests/hello.elf --json $(BUILD)/bench.json --iters $(BENCH_ITERS)

fuzz:
	@scripts/ensure-deps.sh fuzz
	scripts/fuzz.sh

FORMAT_FILES := $(shell find include src guest cli examples tests bench -name '*.[ch]' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "  FORMAT  clean"

PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/glint $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/glint
	install -m 644 $(LIBA) $(GUEST_LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/glint.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/glint/abi.h include/glint/guest.h $(DESTDIR)$(PREFIX)/include/glint/
	install -m 644 guest/glint-guest.ld $(DESTDIR)$(PREFIX)/share/glint/
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build

# Keep intermediate objects (guest .o files) between runs.
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
