# PV test kernels, included by the top-level Makefile.
#   make guests    build/guests/<name>.elf for every guests/tests/<name>.c
# Each kernel is its test file plus guests/lib and three of enso's own library files
# (string, vsnprintf, number parsing). Freestanding like the hypervisor, but linked
# non-PIE at 0xffffffff80000000 (-mcmodel=kernel).

GUEST_DIR := guests
GUEST_OUT := $(BUILD)/guests
GUEST_OBJ := $(GUEST_OUT)/obj
GUEST_NAMES := $(basename $(notdir $(wildcard $(GUEST_DIR)/tests/*.c)))
GUEST_ELFS := $(GUEST_NAMES:%=$(GUEST_OUT)/%.elf)

GUEST_INCLUDES := -I$(GUEST_DIR)/lib/include -Ihypervisor/include -Iinclude
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdinc -fno-pie \
	-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx \
	-fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -fno-jump-tables -fcf-protection=none -fno-toplevel-reorder \
	-Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-isystem $(shell $(CC) -print-file-name=include) $(GUEST_INCLUDES) -MMD -MP
GUEST_ASFLAGS := -D__ASSEMBLER__ $(GUEST_INCLUDES) -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack \
	--no-warn-rwx-segments -T $(GUEST_DIR)/lib/guest.lds

# setup.c carries the kernel's name, so it is built once per kernel (obj/<name>/setup.o).
GUEST_LIB_SRCS := $(filter-out %/setup.c,$(wildcard $(GUEST_DIR)/lib/*.c)) \
	hypervisor/common/string.c hypervisor/common/vsnprintf.c hypervisor/common/parse.c
GUEST_LIB_OBJS := $(GUEST_LIB_SRCS:%.c=$(GUEST_OBJ)/%.o) \
	$(patsubst %.S,$(GUEST_OBJ)/%.o,$(wildcard $(GUEST_DIR)/lib/*.S))

.PHONY: guests
guests: $(GUEST_ELFS)
# Objects reached only through pattern rules would otherwise be deleted after the link.
.SECONDARY: $(GUEST_NAMES:%=$(GUEST_OBJ)/$(GUEST_DIR)/tests/%.o) \
	$(GUEST_NAMES:%=$(GUEST_OBJ)/%/setup.o) $(GUEST_LIB_OBJS)

$(GUEST_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $< (guest)"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OBJ)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS  $< (guest)"
	$(Q)$(CC) $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_OBJ)/%/setup.o: $(GUEST_DIR)/lib/setup.c
	@mkdir -p $(dir $@)
	@echo "  CC  $< ($*)"
	$(Q)$(CC) $(GUEST_CFLAGS) -DGUEST_KERNEL='"$*"' -c $< -o $@

$(GUEST_OUT)/%.elf: $(GUEST_OBJ)/$(GUEST_DIR)/tests/%.o $(GUEST_OBJ)/%/setup.o \
		$(GUEST_LIB_OBJS) $(GUEST_DIR)/lib/guest.lds
	@echo "  LD  $@"
	$(Q)$(LD) $(GUEST_LDFLAGS) $(filter %.o,$^) -o $@

-include $(wildcard $(GUEST_OBJ)/*.d $(GUEST_OBJ)/*/*.d $(GUEST_OBJ)/*/*/*.d)
