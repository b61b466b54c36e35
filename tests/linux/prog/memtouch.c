/*
 * memtouch MIB [ROUNDS]: allocate MIB MiB, write a pattern to every byte of every page,
 * read it back, free it; ROUNDS times. Prints "memtouch: N MiB x R ok" or what went
 * wrong. Static, so it runs in the scenario initramfs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 16;
    int rounds = argc > 2 ? atoi(argv[2]) : 1;
    size_t len = mib << 20;

    for (int r = 0; r < rounds; r++) {
        uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            printf("memtouch: round %d: mmap of %zu MiB failed\n", r, mib);
            return 1;
        }
        for (size_t i = 0; i < len / 8; i++)
            p[i] = i * 0x9e3779b97f4a7c15ULL + (uint64_t)r;
        for (size_t i = 0; i < len / 8; i++) {
            if (p[i] != i * 0x9e3779b97f4a7c15ULL + (uint64_t)r) {
                printf("memtouch: round %d: word %zu reads %#llx\n", r, i,
                       (unsigned long long)p[i]);
                return 1;
            }
        }
        munmap(p, len);
    }
    printf("memtouch: %zu MiB x %d ok\n", mib, rounds);
    return 0;
}
