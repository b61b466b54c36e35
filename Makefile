# enso: build the hypervisor, run it, test it.
#   make          build/enso (multiboot 1 and 2 image) and build/enso-syms (ELF with symbols)
#   make iso      build/enso.iso (GRUB, BIOS and UEFI)
#   make run      boot enso under QEMU (the demo)
#   make test     host unit tests + QEMU boot scenarios; ends with "N passed, N failed"
#   make debug    boot under QEMU stopped, waiting for gdb on :1234
# Options: LOCK_DEBUG=1 builds the lock checker in; V=1 shows commands.

CC := gcc
HOSTCC := gcc
LD := ld
OBJCOPY := objcopy
NM := nm
BUILD := build
Q := $(if $(V),,@)

ARCH := hypervisor/arch/x86
INCLUDES := -Ihypervisor/include -I$(ARCH)/include -Iinclude

CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdinc -fpie -fvisibility=hidden \
	-mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-strict-aliasing \
	-fno-jump-tables -fcf-protection=none -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-isystem $(shell $(CC) -print-file-name=include) $(INCLUDES) -MMD -MP
ifneq ($(LOCK_DEBUG),)
CFLAGS += -DLOCK_DEBUG
endif
ASFLAGS := -D__ASSEMBLER__ $(INCLUDES) -MMD -MP
LDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
	--build-id=sha1

C_SRCS := $(wildcard hypervisor/common/*.c $(ARCH)/*.c $(ARCH)/pv/*.c)
S_SRCS := $(filter-out %.lds.S,$(wildcard $(ARCH)/*.S $(ARCH)/boot/*.S $(ARCH)/pv/*.S))
OBJS := $(C_SRCS:%.c=$(BUILD)/obj/%.o) $(S_SRCS:%.S=$(BUILD)/obj/%.o)

.PHONY: all iso run test unit abi-test qemu-test qemu-test-lockdebug debug deps clean
all: $(BUILD)/enso

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS  $<"
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

$(BUILD)/enso.lds: $(ARCH)/enso.lds.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) -E -P -D__ASSEMBLER__ $(INCLUDES) -x c $< -o $@

# Three links so the embedded symbol table (for backtraces) describes the final layout:
# the table sits at the end of .rodata, so once it has its final size nothing moves.
SYMS = scripts/gensyms.sh
$(BUILD)/enso-syms: $(OBJS) $(BUILD)/enso.lds $(SYMS)
	@echo "  LD  $@"
	$(Q)$(SYMS) /dev/null > $(BUILD)/syms0.S
	$(Q)$(CC) $(ASFLAGS) -c $(BUILD)/syms0.S -o $(BUILD)/syms0.o
	$(Q)$(LD) $(LDFLAGS) -T $(BUILD)/enso.lds $(OBJS) $(BUILD)/syms0.o -o $(BUILD)/enso-syms.0
	$(Q)$(NM) -n --defined-only $(BUILD)/enso-syms.0 | $(SYMS) - > $(BUILD)/syms1.S
	$(Q)$(CC) $(ASFLAGS) -c $(BUILD)/syms1.S -o $(BUILD)/syms1.o
	$(Q)$(LD) $(LDFLAGS) -T $(BUILD)/enso.lds $(OBJS) $(BUILD)/syms1.o -o $(BUILD)/enso-syms.1
	$(Q)$(NM) -n --defined-only $(BUILD)/enso-syms.1 | $(SYMS) - > $(BUILD)/syms2.S
	$(Q)$(CC) $(ASFLAGS) -c $(BUILD)/syms2.S -o $(BUILD)/syms2.o
	$(Q)$(LD) $(LDFLAGS) -T $(BUILD)/enso.lds $(OBJS) $(BUILD)/syms2.o -o $@
	$(Q)rm -f $(BUILD)/enso-syms.0 $(BUILD)/enso-syms.1

$(BUILD)/enso: $(BUILD)/enso-syms
	$(Q)$(OBJCOPY) -O binary -R .bss $< $@
	@echo "  BIN $@ ($$(stat -c %s $@) bytes)"

iso: $(BUILD)/enso.iso
$(BUILD)/enso.iso: $(BUILD)/enso scripts/mkiso.sh
	$(Q)scripts/install-deps.sh
	$(Q)scripts/mkiso.sh $(BUILD)/enso $@

# The same image behind a GRUB that cuts 64M-96M out of the memory map (a hole in RAM).
$(BUILD)/enso-memhole.iso: $(BUILD)/enso scripts/mkiso.sh
	$(Q)GRUB_PRE="cutmem 64M 96M" scripts/mkiso.sh $(BUILD)/enso $@

deps:
	$(Q)scripts/install-deps.sh

# The demo: enso with two Debian Linux domains, each with a shell on its console (lines
# "(d0) " and "(d1) "); Ctrl-A three times moves the keyboard between them and enso.
run: deps $(BUILD)/enso
	$(Q)set -- $$(python3 tests/linux/linux_tests.py --kit $(BUILD)/linux) && \
	APPEND="console=com1" scripts/run-qemu.sh -initrd \
		"$$1 enso.privileged=0 enso.name=alpha enso.mem=512M enso.on_reboot=restart console=hvc0 loglevel=4,$$2,$$1 enso.privileged=0 enso.name=beta enso.mem=384M enso.vcpus=2 enso.on_reboot=restart console=hvc0 loglevel=4,$$2"

debug: deps $(BUILD)/enso
	$(Q)scripts/debug-qemu.sh

include tests/unit/unit.mk
include include/public/public.mk

unit: $(UNIT_BINS)
	$(Q)tests/unit/run $(UNIT_BINS) | tee $(BUILD)/unit.out

qemu-test: $(BUILD)/enso $(BUILD)/enso.iso $(BUILD)/enso-memhole.iso
	$(Q)python3 tests/qemu/boot_tests.py | tee $(BUILD)/qemu.out

# The self-tests again on a build with the spinlock checker in.
qemu-test-lockdebug:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/lockdebug LOCK_DEBUG=1 all
	$(Q)python3 tests/qemu/boot_tests.py --kernel $(BUILD)/lockdebug/enso -k selftest \
		| sed 's/^qemu: /qemu-lockdebug: /' | tee $(BUILD)/qemu-lockdebug.out

# All tests; the last line sums every suite up.
# The public ABI check counts as one test: its asserts hold, or the build fails.
abi-test:
	$(Q)mkdir -p $(BUILD)
	$(Q)if $(MAKE) --no-print-directory abi-check; then echo "abi: 1 passed, 0 failed"; \
	else echo "abi: 0 passed, 1 failed"; fi | tee $(BUILD)/abi.out

RESULTS := $(BUILD)/abi.out $(BUILD)/unit.out $(BUILD)/qemu.out $(BUILD)/qemu-lockdebug.out \
	$(BUILD)/guests-enso.out $(BUILD)/guests-lockdebug.out $(BUILD)/domains.out \
	$(BUILD)/linux.out
test: deps
	$(Q)$(MAKE) --no-print-directory all iso guests
	$(Q)mkdir -p $(BUILD); rm -f $(RESULTS)
	-$(Q)$(MAKE) --no-print-directory abi-test
	-$(Q)$(MAKE) --no-print-directory unit
	-$(Q)$(MAKE) --no-print-directory qemu-test
	-$(Q)$(MAKE) --no-print-directory qemu-test-lockdebug
	-$(Q)python3 tests/guests/run.py --hv enso | tee $(BUILD)/guests-enso.out
	-$(Q)python3 tests/guests/run.py --hv enso --kernel $(BUILD)/lockdebug/enso \
		| sed 's/^guests-enso: /guests-lockdebug: /' | tee $(BUILD)/guests-lockdebug.out
	-$(Q)python3 tests/qemu/domain_tests.py | tee $(BUILD)/domains.out
	-$(Q)python3 tests/linux/linux_tests.py | tee $(BUILD)/linux.out
	$(Q)scripts/sum-results.sh $(RESULTS)

# Debian's Linux as a PV guest of enso (downloads the kernel and busybox into the cache).
test-linux: deps $(BUILD)/enso
	$(Q)python3 tests/linux/linux_tests.py

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)

# PV test kernels (guests/, build/guests/*.elf) and their runs as domain 0: on real
# Xen 4.17 (Debian's package, fetched into ~/.cache/enso) and on enso.
include guests/guests.mk
.PHONY: fetch-xen test-xen test-guests test-linux bench
# Benchmarks: the same guest work on enso and on real Xen, ratios (bench/run.py).
bench: deps guests $(BUILD)/enso fetch-xen
	$(Q)python3 bench/run.py
	$(Q)python3 bench/linux_bench.py
fetch-xen:
	$(Q)scripts/fetch-xen.sh >/dev/null
test-xen: deps guests fetch-xen
	$(Q)mkdir -p $(BUILD)
	-$(Q)python3 tests/guests/run.py --hv xen | tee $(BUILD)/guests-xen.out
	$(Q)scripts/sum-results.sh $(BUILD)/guests-xen.out
test-guests: deps guests $(BUILD)/enso
	$(Q)mkdir -p $(BUILD)
	-$(Q)python3 tests/guests/run.py --hv enso | tee $(BUILD)/guests-enso.out
	$(Q)scripts/sum-results.sh $(BUILD)/guests-enso.out
