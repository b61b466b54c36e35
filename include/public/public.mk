# The guest ABI headers (include/public/), included by the top-level Makefile; also runs
# on its own: make -f include/public/public.mk abi-check
#
#   make abi-check   compiles abi_check.c (the layout and constant asserts against Xen
#                    4.17's x86-64 ABI) and checks that every header compiles by itself.

CC ?= gcc
Q ?= @
# Including this file must not change the includer's default goal.
PUBLIC_SAVED_GOAL := $(.DEFAULT_GOAL)
PUBLIC_DIR := include/public
PUBLIC_HDRS := $(sort $(notdir $(wildcard $(PUBLIC_DIR)/*.h)))
PUBLIC_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -ffreestanding

.PHONY: abi-check
abi-check:
	@echo "  ABI $(PUBLIC_DIR)/abi_check.c"
	$(Q)$(CC) $(PUBLIC_CFLAGS) -m64 -Iinclude -c $(PUBLIC_DIR)/abi_check.c -o /dev/null
	$(Q)for h in $(PUBLIC_HDRS); do \
		echo "#include <public/$$h>" | \
			$(CC) $(PUBLIC_CFLAGS) -m64 -x c -Iinclude -fsyntax-only - \
			|| { echo "public/$$h does not compile on its own"; exit 1; }; \
	done
	@echo "  ABI $(words $(PUBLIC_HDRS)) headers stand alone"

.DEFAULT_GOAL := $(PUBLIC_SAVED_GOAL)
