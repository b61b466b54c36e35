# Host unit tests, included by the top-level Makefile. Each test binary is built from
# tests/unit/harness.c plus the sources listed in its block; to add a test, append:
#
#   UNIT_test_foo_SRCS := tests/unit/test_foo.c hypervisor/common/foo.c
#   $(eval $(call UNIT_TEST,test_foo))
#
# Sources in UNIT_test_foo_LIBC_SRCS (optional, set before the eval) are compiled with
# the libc names renamed (memset -> enso_memset ...; see tests/unit/README.md).

HOSTCC ?= gcc
Q ?=
UNIT_DIR ?= $(if $(BUILD),$(BUILD),build)/unit
UNIT_OBJ := $(UNIT_DIR)/obj
UNIT_RENAMED_OBJ := $(UNIT_DIR)/obj-renamed
UNIT_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=all -Ihypervisor/include -Iinclude \
	-Itests/unit/shim -DENSO_HOST_TEST -MMD -MP
UNIT_LDFLAGS := -fsanitize=address,undefined
UNIT_RENAMES := memset memcpy memmove memcmp strlen strnlen strcmp strncmp strchr \
	strrchr strlcpy strlcat strstr vsnprintf snprintf
UNIT_RENAME_FLAGS := -fno-builtin $(foreach f,$(UNIT_RENAMES),-D$(f)=enso_$(f))
UNIT_BINS :=

$(UNIT_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -c $< -o $@

$(UNIT_RENAMED_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) $(UNIT_RENAME_FLAGS) -c $< -o $@

# $(1): test name. The saved .DEFAULT_GOAL keeps these rules from becoming the default
# target of the including Makefile.
define UNIT_TEST
UNIT_BINS += $(UNIT_DIR)/$(1)
unit_saved_goal := $$(.DEFAULT_GOAL)
$(UNIT_DIR)/$(1): $(patsubst %.c,$(UNIT_OBJ)/%.o,tests/unit/harness.c $(UNIT_$(1)_SRCS)) \
		$(patsubst %.c,$(UNIT_RENAMED_OBJ)/%.o,$(UNIT_$(1)_LIBC_SRCS))
	@mkdir -p $$(dir $$@)
	@echo "  HOSTLD $$@"
	$$(Q)$$(HOSTCC) $$(UNIT_LDFLAGS) $$^ -o $$@
.DEFAULT_GOAL := $$(unit_saved_goal)
endef

UNIT_test_lib_SRCS := tests/unit/test_lib.c
UNIT_test_lib_LIBC_SRCS := hypervisor/common/string.c hypervisor/common/vsnprintf.c \
	hypervisor/common/parse.c
$(eval $(call UNIT_TEST,test_lib))

UNIT_test_bitmap_SRCS := tests/unit/test_bitmap.c hypervisor/common/bitmap.c
$(eval $(call UNIT_TEST,test_bitmap))

# glibc before 2.38 has no strlcpy, so cmdline.c runs on enso's string functions.
UNIT_test_cmdline_SRCS := tests/unit/test_cmdline.c
UNIT_test_cmdline_LIBC_SRCS := hypervisor/common/cmdline.c hypervisor/common/parse.c \
	hypervisor/common/string.c
$(eval $(call UNIT_TEST,test_cmdline))

UNIT_test_memmap_SRCS := tests/unit/test_memmap.c hypervisor/common/memmap.c
$(eval $(call UNIT_TEST,test_memmap))

UNIT_test_page_alloc_SRCS := tests/unit/test_page_alloc.c hypervisor/common/page_alloc.c \
	tests/unit/shim/spinlock_host.c
$(eval $(call UNIT_TEST,test_page_alloc))

UNIT_test_xmalloc_SRCS := tests/unit/test_xmalloc.c hypervisor/common/xmalloc.c \
	hypervisor/common/page_alloc.c tests/unit/shim/spinlock_host.c
$(eval $(call UNIT_TEST,test_xmalloc))

UNIT_test_timer_heap_SRCS := tests/unit/test_timer_heap.c hypervisor/common/timer_heap.c
$(eval $(call UNIT_TEST,test_timer_heap))

UNIT_test_gunzip_SRCS := tests/unit/test_gunzip.c hypervisor/common/gunzip.c \
	hypervisor/common/crc32.c hypervisor/common/long_work_hook.c
$(eval $(call UNIT_TEST,test_gunzip))

UNIT_test_elf_SRCS := tests/unit/test_elf.c hypervisor/common/elf.c \
	hypervisor/common/xen_elfnotes.c hypervisor/common/parse.c
$(eval $(call UNIT_TEST,test_elf))

UNIT_test_kernel_image_SRCS := tests/unit/test_kernel_image.c \
	hypervisor/common/kernel_image.c hypervisor/common/elf.c \
	hypervisor/common/xen_elfnotes.c hypervisor/common/parse.c \
	hypervisor/common/gunzip.c hypervisor/common/unxz.c hypervisor/common/lzma2.c \
	hypervisor/common/bcj_x86.c hypervisor/common/crc32.c hypervisor/common/long_work_hook.c
$(eval $(call UNIT_TEST,test_kernel_image))

# PV CPUID/MSR policy: these objects also see the arch headers (<asm/pv_cpuid.h>).
UNIT_PV_POLICY_OBJS := $(addprefix $(UNIT_OBJ)/,tests/unit/test_pv_cpuid.o \
	tests/unit/test_pv_msr.o hypervisor/arch/x86/pv/cpuid.o hypervisor/arch/x86/pv/msr.o)
$(UNIT_PV_POLICY_OBJS): UNIT_CFLAGS += -Ihypervisor/arch/x86/include

UNIT_test_pv_cpuid_SRCS := tests/unit/test_pv_cpuid.c hypervisor/arch/x86/pv/cpuid.c
$(eval $(call UNIT_TEST,test_pv_cpuid))

UNIT_test_pv_msr_SRCS := tests/unit/test_pv_msr.c hypervisor/arch/x86/pv/msr.c \
	hypervisor/arch/x86/pv/cpuid.c
$(eval $(call UNIT_TEST,test_pv_msr))

UNIT_test_unxz_SRCS := tests/unit/test_unxz.c hypervisor/common/unxz.c \
	hypervisor/common/lzma2.c hypervisor/common/bcj_x86.c hypervisor/common/crc32.c \
	hypervisor/common/long_work_hook.c
$(eval $(call UNIT_TEST,test_unxz))

UNIT_test_console_input_SRCS := tests/unit/test_console_input.c \
	hypervisor/common/console_input.c
$(eval $(call UNIT_TEST,test_console_input))

# The writable-page-table assist's decoder: sees the arch headers (<asm/ptwr_decode.h>).
$(addprefix $(UNIT_OBJ)/,tests/unit/test_ptwr_decode.o hypervisor/arch/x86/pv/ptwr_decode.o): \
	UNIT_CFLAGS += -Ihypervisor/arch/x86/include
UNIT_test_ptwr_decode_SRCS := tests/unit/test_ptwr_decode.c hypervisor/arch/x86/pv/ptwr_decode.c
$(eval $(call UNIT_TEST,test_ptwr_decode))

# XCR0 rules (<asm/xstate.h>, header only).
$(UNIT_OBJ)/tests/unit/test_xstate.o: UNIT_CFLAGS += -Ihypervisor/arch/x86/include
UNIT_test_xstate_SRCS := tests/unit/test_xstate.c
$(eval $(call UNIT_TEST,test_xstate))

UNIT_test_event_2l_SRCS := tests/unit/test_event_2l.c hypervisor/common/event_2l.c
$(eval $(call UNIT_TEST,test_event_2l))

UNIT_test_event_fifo_SRCS := tests/unit/test_event_fifo.c hypervisor/common/event_fifo.c
$(eval $(call UNIT_TEST,test_event_fifo))

# The PV domain layout (<asm/pv_build_layout.h>).
$(addprefix $(UNIT_OBJ)/,tests/unit/test_pv_build_layout.o hypervisor/arch/x86/pv/build_layout.o): \
	UNIT_CFLAGS += -Ihypervisor/arch/x86/include
UNIT_test_pv_build_layout_SRCS := tests/unit/test_pv_build_layout.c \
	hypervisor/arch/x86/pv/build_layout.c
$(eval $(call UNIT_TEST,test_pv_build_layout))

# The wall clock and CMOS RTC decoding (<enso/sched.h> and <asm/rtc.h> need the arch headers).
$(addprefix $(UNIT_OBJ)/,tests/unit/test_wallclock.o hypervisor/common/wallclock.o): \
	UNIT_CFLAGS += -Ihypervisor/arch/x86/include
UNIT_test_wallclock_SRCS := tests/unit/test_wallclock.c hypervisor/common/wallclock.c \
	tests/unit/shim/spinlock_host.c
$(eval $(call UNIT_TEST,test_wallclock))

# TSC-to-ns scaling for system time and guests' time records (<asm/pvclock.h>, header only).
$(UNIT_OBJ)/tests/unit/test_pvclock.o: UNIT_CFLAGS += -Ihypervisor/arch/x86/include
UNIT_test_pvclock_SRCS := tests/unit/test_pvclock.c
$(eval $(call UNIT_TEST,test_pvclock))

# Dependency files: their rules must not become the including Makefile's default goal.
unit_saved_goal := $(.DEFAULT_GOAL)
-include $(shell find $(UNIT_DIR) -name '*.d' 2>/dev/null)
.DEFAULT_GOAL := $(unit_saved_goal)

UNIT_test_boot_config_SRCS := tests/unit/test_boot_config.c hypervisor/common/boot_config.c \
	hypervisor/common/parse.c
$(eval $(call UNIT_TEST,test_boot_config))
