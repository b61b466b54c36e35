/* The hook behind long_work_yield(): its own file, so the pure decompressors can be
 * linked into host unit tests with it and nothing else. */
#include <enso/long_work.h>

void (*long_work_hook)(void);
