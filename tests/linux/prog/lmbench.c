/*
 * lmbench [RUNS [FIGURE...]]: enso's own lmbench-style microbenchmarks of the kernel paths a
 * hypervisor sits on (system call entry, context switch, fork, exec, page faults, mmap)
 * and of plain user code. Each figure is measured RUNS times (default 11), each run a
 * batch of a fixed number of operations after one unmeasured warm-up run; the median
 * run, divided by the operations in it, is the figure. One line per figure:
 *
 *   LMB <name> <median ticks/op> min=<ticks/op> max=<ticks/op> ops=<per run> runs=<RUNS>
 *
 * between "LMB-BEGIN" and "LMB-END"; with FIGURE names given, only those figures.
 * Static, so it runs in the scenario initramfs.
 *
 * The clock is the TSC (lfence; rdtsc), not CLOCK_MONOTONIC: rdtsc is one unprivileged
 * instruction that neither Xen (for a PV domain 0) nor enso traps, so reading it costs
 * the same natively and under either hypervisor; clock_gettime would go through a
 * different clocksource in each (TSC natively, Xen's pvclock as a PV guest, possibly a
 * system call), adding a different cost per reading. Under QEMU with
 * -icount shift=0,sleep=off the TSC counts emulated instructions (one per ns), so the
 * figures are instruction counts that repeat from boot to boot.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RUNS 101
#define PAGE 4096UL

static int runs = 11;
static char **only;     /* the figures named on the command line, NULL-terminated */

static inline uint64_t ticks(void)
{
    uint32_t lo, hi;

    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return (uint64_t)hi << 32 | lo;
}

static void die(const char *what)
{
    printf("LMB-ERROR %s\n", what);
    fflush(stdout);
    exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* ticks / ops with one decimal, rounded, into buf. */
static const char *per_op(char *buf, size_t len, uint64_t t, uint64_t ops)
{
    uint64_t tenths = (t * 10 + ops / 2) / ops;

    snprintf(buf, len, "%llu.%llu", (unsigned long long)(tenths / 10),
             (unsigned long long)(tenths % 10));
    return buf;
}

static void report(const char *name, uint64_t *t, uint64_t ops)
{
    char med[32], lo[32], hi[32];

    qsort(t, runs, sizeof(*t), cmp_u64);
    printf("LMB %s %s min=%s max=%s ops=%llu runs=%d\n", name,
           per_op(med, sizeof(med), t[runs / 2], ops), per_op(lo, sizeof(lo), t[0], ops),
           per_op(hi, sizeof(hi), t[runs - 1], ops), (unsigned long long)ops, runs);
    fflush(stdout);
}

/*
 * Run fn(ops) once unmeasured, then `runs` times measured; fn returns the ticks its
 * timed part took (so set-up outside the timed part stays out of the figure).
 */
static bool wanted(const char *name)
{
    if (!only || !*only)
        return true;
    for (char **o = only; *o; o++)
        if (!strcmp(*o, name))
            return true;
    return false;
}

static void bench(const char *name, uint64_t (*fn)(uint64_t), uint64_t ops)
{
    uint64_t t[MAX_RUNS];

    if (!wanted(name))
        return;
    fn(ops);
    for (int r = 0; r < runs; r++)
        t[r] = fn(ops);
    report(name, t, ops);
}

/* getppid: no work in the kernel beyond entry and exit, and glibc does not cache it. */
static uint64_t null_syscall(uint64_t n)
{
    uint64_t t0 = ticks();

    for (uint64_t i = 0; i < n; i++)
        syscall(SYS_getppid);
    return ticks() - t0;
}

/*
 * A token bounces between this process and a child over two pipes; on one CPU every
 * hop is a switch to the other process. ops counts switches (two per round trip), each
 * including one pipe write and one pipe read.
 */
static int ping[2], pong[2];

static uint64_t pipe_switch(uint64_t switches)
{
    char c = 'x';
    uint64_t t0 = ticks();

    for (uint64_t i = 0; i < switches / 2; i++) {
        if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
            die("pipe_ctxsw: token lost");
    }
    return ticks() - t0;
}

static void pipe_bench(uint64_t switches)
{
    pid_t pid;
    char c;

    if (!wanted("pipe_ctxsw"))
        return;
    if (pipe(ping) || pipe(pong))
        die("pipe_ctxsw: pipe");
    pid = fork();
    if (pid < 0)
        die("pipe_ctxsw: fork");
    if (pid == 0) {
        close(ping[1]);
        close(pong[0]);
        while (read(ping[0], &c, 1) == 1) {
            if (write(pong[1], &c, 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    close(ping[0]);
    close(pong[1]);
    bench("pipe_ctxsw", pipe_switch, switches);
    close(ping[1]);     /* the child reads end of file and exits */
    close(pong[0]);
    waitpid(pid, NULL, 0);
}

static void reap(pid_t pid, const char *what)
{
    int status;

    if (pid < 0)
        die(what);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
        die(what);
}

static uint64_t fork_exit(uint64_t n)
{
    uint64_t t0 = ticks();

    for (uint64_t i = 0; i < n; i++) {
        pid_t pid = fork();

        if (pid == 0)
            _exit(0);
        reap(pid, "fork_exit");
    }
    return ticks() - t0;
}

static uint64_t fork_exec(uint64_t n)
{
    static char *const argv[] = { "nop", NULL };
    static char *const envp[] = { NULL };
    uint64_t t0 = ticks();

    for (uint64_t i = 0; i < n; i++) {
        pid_t pid = fork();

        if (pid == 0) {
            execve("/bin/nop", argv, envp);
            _exit(127);
        }
        reap(pid, "fork_exec");
    }
    return ticks() - t0;
}

/*
 * Write one byte to each page of a fresh private anonymous mapping: one fault per page
 * (each allocates and zeroes a page and fills in a PTE; the mapping's two page-table
 * pages come with the first faults). Huge pages are refused so that every page faults.
 * mmap and munmap stay outside the timed part.
 */
static uint64_t page_fault(uint64_t pages)
{
    size_t len = pages * PAGE;
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    uint64_t t0, t;

    if (p == MAP_FAILED)
        die("page_fault: mmap");
    madvise((void *)p, len, MADV_NOHUGEPAGE);
    t0 = ticks();
    for (size_t off = 0; off < len; off += PAGE)
        p[off] = 1;
    t = ticks() - t0;
    munmap((void *)p, len);
    return t;
}

/*
 * mmap 1 MiB of private anonymous memory, write to its first page, munmap it: the
 * mapping, one page fault, and a teardown that frees the page and its page table.
 */
static uint64_t mmap_munmap(uint64_t n)
{
    const size_t len = 1UL << 20;
    uint64_t t0 = ticks();

    for (uint64_t i = 0; i < n; i++) {
        volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
            die("mmap_munmap: mmap");
        p[0] = 1;
        munmap((void *)p, len);
    }
    return ticks() - t0;
}

/*
 * Pure user arithmetic: a fixed number of rounds of a 64-bit LCG plus xorshift, all in
 * registers, no system calls and no memory traffic. One op is the whole loop, so the
 * figure is its ticks; anything above the instruction count of the loop itself is the
 * timer interrupts (and whatever else the kernel or hypervisor does) meanwhile.
 */
#define CPU_ROUNDS 5000000ULL
static volatile uint64_t cpu_sink;

static uint64_t cpu_loop(uint64_t n)
{
    uint64_t t0 = ticks(), t;

    for (uint64_t k = 0; k < n; k++) {
        uint64_t x = cpu_sink | 1;

        for (uint64_t i = 0; i < CPU_ROUNDS; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            x ^= x >> 29;
        }
        cpu_sink = x;
    }
    t = ticks() - t0;
    return t;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        runs = atoi(argv[1]);
    if (runs < 1 || runs > MAX_RUNS)
        die("usage: lmbench [RUNS 1-101 [FIGURE...]]");
    only = argc > 2 ? argv + 2 : NULL;
    printf("LMB-BEGIN runs=%d\n", runs);
    fflush(stdout);
    bench("null_syscall", null_syscall, 10000);
    pipe_bench(2000);
    bench("fork_exit", fork_exit, 100);
    bench("fork_exec", fork_exec, 50);
    bench("page_fault", page_fault, 1024);
    bench("mmap_munmap", mmap_munmap, 200);
    bench("cpu_loop", cpu_loop, 1);
    printf("LMB-END\n");
    fflush(stdout);
    return 0;
}
