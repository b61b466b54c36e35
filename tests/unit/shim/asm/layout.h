/* Host unit tests: the frame table and "direct map" are ordinary arrays the test sets up. */
#ifndef ASM_LAYOUT_H
#define ASM_LAYOUT_H
#ifndef __ASSEMBLER__
#include <stdint.h>
struct page_info;
extern struct page_info *host_frame_table;
extern uintptr_t host_directmap_base;
#define FRAME_TABLE_BASE host_frame_table
#define DIRECTMAP_BASE host_directmap_base
#endif
#endif
