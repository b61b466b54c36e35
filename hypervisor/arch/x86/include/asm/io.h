#ifndef ASM_IO_H
#define ASM_IO_H
#include <asm/processor.h>
#endif
