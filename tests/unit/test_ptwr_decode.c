/*
 * Tests of the writable-page-table assist's decoder and executor
 * (hypervisor/arch/x86/pv/ptwr_decode.c). Encodings are written out by hand; the
 * arithmetic flags are checked against the host CPU running the same operation.
 */
#include <enso/errno.h>
#include <asm/ptwr_decode.h>
#include "harness.h"

#define RIP 0xffffffff80123450UL
#define FS_BASE 0x0000700000000000UL
#define GS_BASE 0xffff888000000000UL

static struct cpu_user_regs R;

/* Distinct values in every register, so a wrong register shows. */
static void regs_init(void)
{
    memset(&R, 0, sizeof(R));
    R.rax = 0x1111111111111100UL;
    R.rcx = 0x2222222222222211UL;
    R.rdx = 0x333333333333ab22UL;
    R.rbx = 0x4444444444444433UL;
    R.rsp = 0xffffc90000004000UL;
    R.rbp = 0x6666666666666655UL;
    R.rsi = 0x8000000012345067UL;
    R.rdi = 0xffffffff80044008UL;
    R.r8 = 0x0808080808080808UL;
    R.r9 = 0x0909090909090909UL;
    R.r10 = 0x1010101010101010UL;
    R.r11 = 0x1111111111111111UL;
    R.r12 = 0x0000000000000040UL;
    R.r13 = 0xffffffff80045000UL;
    R.r14 = 0x1414141414141414UL;
    R.r15 = 0x1515151515151515UL;
    R.rip = RIP;
    R.rflags = 0x202;
}

static struct ptwr_insn in;

/* Decode a byte string given as a literal ("\x48\x89\x37"). */
#define DEC(s) ptwr_decode(&in, (const uint8_t *)(s), sizeof(s) - 1, &R, FS_BASE, GS_BASE)

TEST(mov_register_sizes)
{
    regs_init();
    CHECK_EQ(DEC("\x48\x89\x37"), 0);  /* mov %rsi,(%rdi) */
    CHECK_EQ(in.op, PTWR_MOV);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(in.len, 3);
    CHECK_EQ(in.reg, 6);
    CHECK(!in.lock && !in.high_byte && in.seg == PTWR_SEG_NONE);
    CHECK_EQ(in.src, R.rsi);
    CHECK_EQ(in.addr, R.rdi);

    CHECK_EQ(DEC("\x89\x37"), 0);      /* mov %esi,(%rdi) */
    CHECK_EQ(in.size, 4);
    CHECK_EQ(in.len, 2);
    CHECK_EQ(in.src, 0x12345067);

    CHECK_EQ(DEC("\x66\x89\x37"), 0);  /* mov %si,(%rdi) */
    CHECK_EQ(in.size, 2);
    CHECK_EQ(in.src, 0x5067);

    CHECK_EQ(DEC("\x88\x37"), 0);      /* mov %dh,(%rdi): no REX, reg 6 is DH */
    CHECK_EQ(in.size, 1);
    CHECK(in.high_byte);
    CHECK_EQ(in.reg, 2);
    CHECK_EQ(in.src, 0xab);

    CHECK_EQ(DEC("\x40\x88\x37"), 0);  /* mov %sil,(%rdi): any REX makes it SIL */
    CHECK(!in.high_byte);
    CHECK_EQ(in.reg, 6);
    CHECK_EQ(in.src, 0x67);

    CHECK_EQ(DEC("\x4c\x89\x07"), 0);  /* mov %r8,(%rdi): REX.R */
    CHECK_EQ(in.reg, 8);
    CHECK_EQ(in.src, R.r8);
    CHECK_EQ(DEC("\x49\x89\x30"), 0);  /* mov %rsi,(%r8): REX.B */
    CHECK_EQ(in.addr, R.r8);
}

TEST(mov_immediate)
{
    regs_init();
    CHECK_EQ(DEC("\x48\xc7\x07\xff\xff\xff\xff"), 0); /* movq $-1,(%rdi) */
    CHECK_EQ(in.op, PTWR_MOV);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(in.len, 7);
    CHECK_EQ(in.reg, -1);
    CHECK_EQ(in.src, ~0UL);
    CHECK_EQ(DEC("\x48\xc7\x07\x67\x50\x34\x12"), 0);
    CHECK_EQ(in.src, 0x12345067);
    CHECK_EQ(DEC("\xc7\x07\x78\x56\x34\x92"), 0);     /* movl */
    CHECK_EQ(in.size, 4);
    CHECK_EQ(in.src, 0x92345678);
    CHECK_EQ(DEC("\x66\xc7\x07\x34\x92"), 0);         /* movw: a 2-byte immediate */
    CHECK_EQ(in.size, 2);
    CHECK_EQ(in.len, 5);
    CHECK_EQ(in.src, 0x9234);
    CHECK_EQ(DEC("\xc6\x07\xab"), 0);                 /* movb */
    CHECK_EQ(in.size, 1);
    CHECK_EQ(in.len, 3);
    CHECK_EQ(in.src, 0xab);
    /* C6/C7 with a reg field other than 0 are not MOV. */
    CHECK_EQ(DEC("\x48\xc7\x0f\x00\x00\x00\x00"), -EOPNOTSUPP);
}

TEST(xchg_and_cmpxchg_forms)
{
    regs_init();
    CHECK_EQ(DEC("\x48\x87\x37"), 0);
    CHECK_EQ(in.op, PTWR_XCHG);
    CHECK_EQ(in.reg, 6);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(DEC("\x86\x27"), 0);          /* xchg %ah,(%rdi) */
    CHECK_EQ(in.size, 1);
    CHECK(in.high_byte);
    CHECK_EQ(in.reg, 0);

    CHECK_EQ(DEC("\xf0\x48\x0f\xb1\x37"), 0);
    CHECK_EQ(in.op, PTWR_CMPXCHG);
    CHECK(in.lock);
    CHECK_EQ(in.len, 5);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(in.src, R.rsi);
    CHECK_EQ(DEC("\x0f\xb1\x37"), 0);      /* unlocked: still a cmpxchg */
    CHECK(!in.lock);
    CHECK_EQ(in.size, 4);
    CHECK_EQ(DEC("\xf0\x0f\xb0\x0f"), 0);  /* cmpxchg %cl,(%rdi) */
    CHECK_EQ(in.size, 1);
    CHECK_EQ(in.src, 0x11);

    CHECK_EQ(DEC("\xf0\x0f\xc7\x0f"), 0);
    CHECK_EQ(in.op, PTWR_CMPXCHG8B);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(in.reg, -1);
    CHECK_EQ(DEC("\xf0\x48\x0f\xc7\x0f"), 0);
    CHECK_EQ(in.op, PTWR_CMPXCHG16B);
    CHECK_EQ(in.size, 16);
    CHECK_EQ(DEC("\x0f\xc7\x17"), -EOPNOTSUPP);    /* 0F C7 /2 */
    CHECK_EQ(DEC("\x0f\xc7\xcf"), -EOPNOTSUPP);    /* register operand */
}

TEST(alu_forms)
{
    static const struct { const char *s; unsigned int len, op, size; uint64_t src; } ok[] = {
        { "\x48\x01\x37", 3, PTWR_ADD, 8, 0x8000000012345067UL },
        { "\x48\x09\x37", 3, PTWR_OR, 8, 0x8000000012345067UL },
        { "\x48\x11\x37", 3, PTWR_ADC, 8, 0x8000000012345067UL },
        { "\x48\x19\x37", 3, PTWR_SBB, 8, 0x8000000012345067UL },
        { "\x48\x21\x37", 3, PTWR_AND, 8, 0x8000000012345067UL },
        { "\x48\x29\x37", 3, PTWR_SUB, 8, 0x8000000012345067UL },
        { "\x48\x31\x37", 3, PTWR_XOR, 8, 0x8000000012345067UL },
        { "\x08\x37", 2, PTWR_OR, 1, 0xab },               /* or %dh,(%rdi) */
        { "\x21\x37", 2, PTWR_AND, 4, 0x12345067 },
        { "\x48\x83\x0f\x02", 4, PTWR_OR, 8, 2 },          /* orq $2 */
        { "\x48\x83\x27\xfd", 4, PTWR_AND, 8, ~2UL },      /* andq $-3: sign-extended */
        { "\x48\x81\x27\xfd\xff\xff\xff", 7, PTWR_AND, 8, ~2UL },
        { "\x81\x07\x00\x10\x00\x00", 6, PTWR_ADD, 4, 0x1000 },
        { "\x66\x81\x07\x00\x10", 5, PTWR_ADD, 2, 0x1000 },
        { "\x66\x83\x2f\xff", 4, PTWR_SUB, 2, 0xffff },
        { "\x80\x0f\x82", 3, PTWR_OR, 1, 0x82 },
        { "\xf0\x48\x83\x37\x01", 5, PTWR_XOR, 8, 1 },
    };
    static const char *const refused[] = {
        "\x48\x39\x37",         /* cmp: no store */
        "\x48\x83\x3f\x00",     /* cmp $0 */
        "\x48\x03\x37",         /* add (%rdi),%rsi: register destination */
        "\x48\x01\xf7",         /* add %rsi,%rdi */
        "\x82\x0f\x01",         /* invalid in long mode */
    };

    regs_init();
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int rc = ptwr_decode(&in, (const uint8_t *)ok[i].s, ok[i].len, &R, 0, 0);
        if (rc || in.len != ok[i].len || in.op != ok[i].op || in.size != ok[i].size ||
            in.src != ok[i].src || in.addr != R.rdi) {
            printf("  form %zu: rc %d len %u op %u size %u src %#lx\n", i, rc, in.len,
                   in.op, in.size, (unsigned long)in.src);
            CHECK(0);
        }
    }
    CHECK(in.lock);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        CHECK_EQ(ptwr_decode(&in, (const uint8_t *)refused[i], strlen(refused[i]), &R, 0, 0),
                 -EOPNOTSUPP);
}

TEST(bit_forms)
{
    regs_init();
    CHECK_EQ(DEC("\xf0\x48\x0f\xba\x37\x01"), 0);     /* lock btrq $1,(%rdi) */
    CHECK_EQ(in.op, PTWR_BTR);
    CHECK(in.lock);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(in.len, 6);
    CHECK_EQ(in.src, 1);
    CHECK_EQ(in.addr, R.rdi);
    CHECK_EQ(DEC("\x0f\xba\x2f\x05"), 0);
    CHECK_EQ(in.op, PTWR_BTS);
    CHECK_EQ(in.size, 4);
    CHECK_EQ(DEC("\x0f\xba\x3f\x05"), 0);
    CHECK_EQ(in.op, PTWR_BTC);
    CHECK_EQ(DEC("\x0f\xba\x27\x05"), -EOPNOTSUPP);   /* bt: no store */
    /* An immediate bit number is taken modulo the operand size. */
    CHECK_EQ(DEC("\x48\x0f\xba\x2f\x41"), 0);
    CHECK_EQ(in.src, 1);
    CHECK_EQ(in.addr, R.rdi);
    CHECK_EQ(DEC("\x0f\xba\x2f\x21"), 0);
    CHECK_EQ(in.src, 1);

    /* A register bit number moves the address by whole operands, signed. */
    R.rcx = 65;
    CHECK_EQ(DEC("\x48\x0f\xab\x0f"), 0);             /* bts %rcx,(%rdi) */
    CHECK_EQ(in.op, PTWR_BTS);
    CHECK_EQ(in.reg, 1);
    CHECK_EQ(in.src, 1);
    CHECK_EQ(in.addr, R.rdi + 8);
    R.rcx = ~0UL;
    CHECK_EQ(DEC("\x48\x0f\xb3\x0f"), 0);             /* btr %rcx,(%rdi) */
    CHECK_EQ(in.op, PTWR_BTR);
    CHECK_EQ(in.src, 63);
    CHECK_EQ(in.addr, R.rdi - 8);
    R.rcx = 0xffffffff00000021UL;                      /* ecx = 33 */
    CHECK_EQ(DEC("\x0f\xbb\x0f"), 0);                 /* btc %ecx,(%rdi) */
    CHECK_EQ(in.op, PTWR_BTC);
    CHECK_EQ(in.src, 1);
    CHECK_EQ(in.addr, R.rdi + 4);
    R.rcx = 0xffffffff;                                /* ecx = -1 */
    CHECK_EQ(DEC("\x0f\xab\x0f"), 0);
    CHECK_EQ(in.src, 31);
    CHECK_EQ(in.addr, R.rdi - 4);
    R.rcx = 0x11;                                      /* cx = 17 */
    CHECK_EQ(DEC("\x66\x0f\xab\x0f"), 0);
    CHECK_EQ(in.size, 2);
    CHECK_EQ(in.src, 1);
    CHECK_EQ(in.addr, R.rdi + 2);
}

TEST(addressing_modes)
{
    regs_init();
    CHECK_EQ(DEC("\x48\x89\x77\x08"), 0);                 /* 8(%rdi) */
    CHECK_EQ(in.addr, R.rdi + 8);
    CHECK_EQ(in.len, 4);
    CHECK_EQ(DEC("\x48\x89\x77\xf8"), 0);                 /* -8(%rdi) */
    CHECK_EQ(in.addr, R.rdi - 8);
    CHECK_EQ(DEC("\x48\x89\xb7\x00\x10\x00\x00"), 0);     /* 0x1000(%rdi) */
    CHECK_EQ(in.addr, R.rdi + 0x1000);
    CHECK_EQ(in.len, 7);
    CHECK_EQ(DEC("\x48\x89\xb7\x00\xf0\xff\xff"), 0);     /* -0x1000(%rdi) */
    CHECK_EQ(in.addr, R.rdi - 0x1000);
    CHECK_EQ(DEC("\x48\x89\x34\xcf"), 0);                 /* (%rdi,%rcx,8) */
    CHECK_EQ(in.addr, R.rdi + R.rcx * 8);
    CHECK_EQ(in.len, 4);
    CHECK_EQ(DEC("\x48\x89\x74\x4f\x10"), 0);             /* 0x10(%rdi,%rcx,2) */
    CHECK_EQ(in.addr, R.rdi + R.rcx * 2 + 0x10);
    CHECK_EQ(DEC("\x48\x89\x34\x24"), 0);                 /* (%rsp): no index */
    CHECK_EQ(in.addr, R.rsp);
    CHECK_EQ(DEC("\x4a\x89\x34\x27"), 0);                 /* (%rdi,%r12): REX.X */
    CHECK_EQ(in.addr, R.rdi + R.r12);
    CHECK_EQ(DEC("\x49\x89\x34\x24"), 0);                 /* (%r12) */
    CHECK_EQ(in.addr, R.r12);
    CHECK_EQ(DEC("\x49\x89\x75\x00"), 0);                 /* 0(%r13) */
    CHECK_EQ(in.addr, R.r13);
    CHECK_EQ(DEC("\x48\x89\x34\x25\x00\x10\x00\x00"), 0); /* absolute disp32, no base */
    CHECK_EQ(in.addr, 0x1000);
    CHECK_EQ(in.len, 8);
    CHECK_EQ(DEC("\x48\x89\x34\x25\x00\x10\x00\x80"), 0); /* sign-extended */
    CHECK_EQ(in.addr, 0xffffffff80001000UL);
    CHECK_EQ(DEC("\x48\x89\x74\x25\x08"), 0);             /* mod 1, base 101b: %rbp + 8 */
    CHECK_EQ(in.addr, R.rbp + 8);
    CHECK_EQ(DEC("\x48\x89\x04\x8d\x00\x10\x00\x00"), 0); /* 0x1000(,%rcx,4) */
    CHECK_EQ(in.addr, R.rcx * 4 + 0x1000);
}

TEST(rip_relative)
{
    regs_init();
    CHECK_EQ(DEC("\x48\x89\x35\x00\x01\x00\x00"), 0);     /* mov %rsi,0x100(%rip) */
    CHECK_EQ(in.addr, RIP + 7 + 0x100);
    CHECK_EQ(DEC("\x48\x89\x35\xf0\xff\xff\xff"), 0);     /* -0x10(%rip) */
    CHECK_EQ(in.addr, RIP + 7 - 0x10);
    /* REX.B does not turn it into %r13. */
    CHECK_EQ(DEC("\x49\x89\x35\x10\x00\x00\x00"), 0);
    CHECK_EQ(in.addr, RIP + 7 + 0x10);
    /* Relative to the end of the instruction, immediate included. */
    CHECK_EQ(DEC("\x48\xc7\x05\x00\x01\x00\x00\x78\x56\x34\x12"), 0);
    CHECK_EQ(in.len, 11);
    CHECK_EQ(in.addr, RIP + 11 + 0x100);
    CHECK_EQ(in.src, 0x12345678);
    CHECK_EQ(DEC("\xf0\x48\x0f\xba\x35\x00\x01\x00\x00\x01"), 0);
    CHECK_EQ(in.len, 10);
    CHECK_EQ(in.addr, RIP + 10 + 0x100);
}

TEST(prefixes)
{
    regs_init();
    CHECK_EQ(DEC("\x64\x48\x89\x37"), 0);
    CHECK_EQ(in.seg, PTWR_SEG_FS);
    CHECK_EQ(in.addr, R.rdi + FS_BASE);
    CHECK_EQ(in.len, 4);
    CHECK_EQ(DEC("\x65\x48\x89\x37"), 0);
    CHECK_EQ(in.seg, PTWR_SEG_GS);
    CHECK_EQ(in.addr, R.rdi + GS_BASE);
    /* ES, CS, SS, DS have base 0 in long mode, and do not cancel FS/GS. */
    CHECK_EQ(DEC("\x26\x2e\x36\x3e\x48\x89\x37"), 0);
    CHECK_EQ(in.seg, PTWR_SEG_NONE);
    CHECK_EQ(in.addr, R.rdi);
    CHECK_EQ(DEC("\x65\x3e\x48\x89\x37"), 0);
    CHECK_EQ(in.addr, R.rdi + GS_BASE);
    CHECK_EQ(DEC("\x64\x65\x48\x89\x37"), 0);              /* the last one wins */
    CHECK_EQ(in.seg, PTWR_SEG_GS);
    /* REX.W wins over 66; a REX before a legacy prefix is ignored. */
    CHECK_EQ(DEC("\x66\x48\x89\x37"), 0);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(DEC("\x48\x66\x89\x37"), 0);
    CHECK_EQ(in.size, 2);
    CHECK_EQ(DEC("\x4c\x66\x89\x07"), 0);                  /* REX.R dropped: %ax */
    CHECK_EQ(in.reg, 0);
    CHECK_EQ(DEC("\x48\x40\x89\x37"), 0);                  /* the last REX counts */
    CHECK_EQ(in.size, 4);
    /* 67: 32-bit address arithmetic. */
    R.rdi = 0xffff888812345678UL;
    CHECK_EQ(DEC("\x67\x48\x89\x77\x08"), 0);
    CHECK_EQ(in.addr, 0x12345680);
    CHECK_EQ(DEC("\x67\x48\x89\x77\xf8\x00"), 0);
    CHECK_EQ(in.addr, 0x12345670);
    R.rdi = 0xfffffffc;
    CHECK_EQ(DEC("\x67\x48\x89\x77\x08"), 0);              /* wraps at 4 GiB */
    CHECK_EQ(in.addr, 4);
    regs_init();
    /* Lock only on read-modify-writes; no REP forms. */
    CHECK_EQ(DEC("\xf0\x48\x89\x37"), -EOPNOTSUPP);
    CHECK_EQ(DEC("\xf0\x48\xc7\x07\x00\x00\x00\x00"), -EOPNOTSUPP);
    CHECK_EQ(DEC("\xf3\x48\x89\x37"), -EOPNOTSUPP);
    CHECK_EQ(DEC("\xf2\xf0\x48\x0f\xb1\x37"), -EOPNOTSUPP);
}

/* Every proper prefix of a valid instruction is "cut short", never a decode. */
TEST(truncated)
{
    static const struct { const char *s; unsigned int len; } ok[] = {
        { "\x48\x89\x37", 3 },
        { "\xf0\x48\x0f\xb1\x37", 5 },
        { "\x48\xc7\x05\x00\x01\x00\x00\x78\x56\x34\x12", 11 },
        { "\x48\x89\x34\x25\x00\x10\x00\x00", 8 },
        { "\x65\xf0\x48\x0f\xba\x74\x8f\x10\x01", 9 },
        { "\x66\x81\x07\x00\x10", 5 },
        { "\xf0\x48\x0f\xc7\x0f", 5 },
        { "\x48\x89\xb4\xcf\x00\x10\x00\x00", 8 },
    };
    uint8_t buf[PTWR_MAX_INSN];

    regs_init();
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        memset(buf, 0xcc, sizeof(buf));
        memcpy(buf, ok[i].s, ok[i].len);
        CHECK_EQ(ptwr_decode(&in, buf, ok[i].len, &R, 0, 0), 0);
        CHECK_EQ(in.len, ok[i].len);
        CHECK_EQ(ptwr_decode(&in, buf, sizeof(buf), &R, 0, 0), 0);
        CHECK_EQ(in.len, ok[i].len);
        for (unsigned int n = 0; n < ok[i].len; n++)
            CHECK_EQ(ptwr_decode(&in, buf, n, &R, 0, 0), -ENODATA);
    }
}

TEST(length_limit)
{
    uint8_t buf[32];

    regs_init();
    /* 15 bytes: the longest instruction there is. */
    memset(buf, 0x66, 8);
    memcpy(buf + 8, "\x48\xc7\x07\x01\x00\x00\x00", 7);
    CHECK_EQ(ptwr_decode(&in, buf, 15, &R, 0, 0), 0);
    CHECK_EQ(in.len, 15);
    CHECK_EQ(in.src, 1);
    /* 16 bytes: never decoded, whatever the buffer holds. */
    memset(buf, 0x66, 9);
    memcpy(buf + 9, "\x48\xc7\x07\x01\x00\x00\x00", 7);
    CHECK_EQ(ptwr_decode(&in, buf, 16, &R, 0, 0), -ENODATA);
    memset(buf, 0x3e, sizeof(buf));
    CHECK_EQ(ptwr_decode(&in, buf, sizeof(buf), &R, 0, 0), -ENODATA);
}

TEST(other_instructions_refused)
{
    static const char *const refused[] = {
        "\x90", "\x0f\x05", "\xff\x07", "\xf7\x1f", "\x48\xd1\x27", "\x0f\xc3\x37",
        "\xa4", "\x48\xab", "\x8f\x07", "\x0f\x0b", "\xcc", "\x0f\xa3\x0f", "\xf7\x07",
        "\x0f\xc1\x37", "\x48\x8b\x37", "\x62\x00\x00\x00\x00\x00",
    };

    regs_init();
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        CHECK_EQ(ptwr_decode(&in, (const uint8_t *)refused[i], strlen(refused[i]) + 1, &R,
                             0, 0), -EOPNOTSUPP);
    CHECK_EQ(DEC("\x0f"), -ENODATA);
    CHECK_EQ(DEC("\xc7"), -ENODATA);
    CHECK_EQ(DEC("\x0f\xba"), -ENODATA);
    CHECK_EQ(DEC("\xf7"), -EOPNOTSUPP);
    CHECK_EQ(DEC(""), -ENODATA);
}

/* Random bytes: never a read past the buffer (ASan), and any decode is consistent. */
TEST(garbage)
{
    uint64_t seed = 0x9e3779b97f4a7c15UL;
    unsigned int decoded = 0;

    regs_init();
    for (int i = 0; i < 300000; i++) {
        unsigned int n = 0;
        uint8_t *buf;
        int rc;

        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        n = (unsigned int)(seed >> 60);               /* 0-15 */
        buf = malloc(n ? n : 1);
        for (unsigned int j = 0; j < n; j++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            /* Bias towards prefixes and the opcodes we know, to get past them. */
            static const uint8_t hot[] = { 0x48, 0x66, 0xf0, 0x0f, 0x89, 0xc7, 0xba,
                                           0xb1, 0xc7, 0x83, 0x24, 0x34, 0x05, 0x65 };
            buf[j] = (seed >> 63) ? hot[(seed >> 40) % sizeof(hot)] : (uint8_t)(seed >> 32);
        }
        rc = ptwr_decode(&in, buf, n, &R, FS_BASE, GS_BASE);
        if (rc == 0) {
            decoded++;
            CHECK(in.len >= 2 && in.len <= n);
            CHECK(in.size == 1 || in.size == 2 || in.size == 4 || in.size == 8 ||
                  in.size == 16);
            CHECK(in.op <= PTWR_BTC);
        } else {
            CHECK(rc == -ENODATA || rc == -EOPNOTSUPP);
        }
        free(buf);
    }
    CHECK(decoded > 1000);
}

/* ---- execution ---- */

static uint64_t old[2], store[2];

static bool exec(const char *bytes, size_t len)
{
    if (ptwr_decode(&in, (const uint8_t *)bytes, (unsigned int)len, &R, 0, 0))
        return false;
    return ptwr_execute(&in, old, &R, store);
}
#define EXEC(s) exec(s, sizeof(s) - 1)

TEST(execute_mov_xchg)
{
    regs_init();
    old[0] = 0x1234;
    CHECK(EXEC("\x48\x89\x37"));
    CHECK_EQ(store[0], R.rsi);
    CHECK(EXEC("\xc6\x07\x00"));            /* MOV always stores, even the same value */
    CHECK_EQ(store[0], 0);

    old[0] = 0x00000000deadbeefUL;
    CHECK(EXEC("\x48\x87\x37"));            /* xchg %rsi,(%rdi) */
    CHECK_EQ(store[0], 0x8000000012345067UL);
    CHECK_EQ(R.rsi, 0xdeadbeef);
    CHECK(!EXEC("\x48\x87\x37"));           /* the same value back: nothing to store */
    CHECK_EQ(R.rsi, 0xdeadbeef);

    regs_init();
    old[0] = 0xcafe;
    CHECK(EXEC("\x87\x37"));                /* 32-bit: the register is zero-extended */
    CHECK_EQ(R.rsi, 0xcafe);
    old[0] = 0x5a;
    CHECK(EXEC("\x86\x37"));                /* xchg %dh,(%rdi) */
    CHECK_EQ(store[0], 0xab);
    CHECK_EQ(R.rdx, 0x3333333333335a22UL);
    old[0] = 0x7788;
    CHECK(EXEC("\x66\x87\x0f"));            /* xchg %cx,(%rdi) */
    CHECK_EQ(R.rcx, 0x2222222222227788UL);
}

TEST(execute_cmpxchg)
{
    regs_init();
    R.rax = old[0] = 0x8000000000012067UL;
    R.rflags = 0x202 | FL_CF | FL_SF | FL_OF | FL_AF;
    CHECK(EXEC("\xf0\x48\x0f\xb1\x37"));
    CHECK_EQ(store[0], R.rsi);
    CHECK_EQ(R.rflags, 0x202 | FL_ZF | FL_PF);
    CHECK_EQ(R.rax, 0x8000000000012067UL);

    /* Mismatch: nothing stored, rax gets the value, flags of cmp %rax,(mem). */
    R.rax = 0x8000000000012066UL;
    CHECK(!EXEC("\xf0\x48\x0f\xb1\x37"));
    CHECK_EQ(R.rax, old[0]);
    CHECK_EQ(R.rflags & FL_ARITH, FL_CF | FL_SF | FL_AF | FL_PF);
    CHECK_EQ(R.rflags & ~FL_ARITH, 0x202);

    /* 32-bit: the compare is on eax; a mismatch zero-extends into rax. */
    regs_init();
    old[0] = 0x12067;
    R.rax = 0xffffffff00012067UL;
    CHECK(EXEC("\x0f\xb1\x37"));
    CHECK_EQ(store[0], 0x12345067);
    CHECK_EQ(R.rax, 0xffffffff00012067UL);
    R.rax = 0xffffffff00012000UL;
    CHECK(!EXEC("\x0f\xb1\x37"));
    CHECK_EQ(R.rax, 0x12067);
    CHECK(!(R.rflags & FL_ZF));

    /* Byte: al only. */
    regs_init();
    old[0] = 0x67;
    R.rax = 0x1111111111111167UL;
    CHECK(EXEC("\x0f\xb0\x0f"));
    CHECK_EQ(store[0], 0x11);
    R.rax = 0x1111111111111100UL;
    CHECK(!EXEC("\x0f\xb0\x0f"));
    CHECK_EQ(R.rax, 0x1111111111111167UL);
}

TEST(execute_cmpxchg8b_16b)
{
    regs_init();
    old[0] = 0x8000000012345067UL;
    R.rdx = 0xffffffff80000000UL;   /* upper halves are ignored */
    R.rax = 0xffffffff12345067UL;
    R.rcx = 0x00000000aaaaaaaaUL;
    R.rbx = 0x77777777bbbbbbbbUL;
    R.rflags = 0x202 | FL_CF;
    CHECK(EXEC("\xf0\x0f\xc7\x0f"));
    CHECK_EQ(store[0], 0xaaaaaaaabbbbbbbbUL);
    CHECK_EQ(R.rflags, 0x202 | FL_CF | FL_ZF);   /* only ZF changes */
    old[0] = 0x0000000112345067UL;
    CHECK(!EXEC("\xf0\x0f\xc7\x0f"));
    CHECK_EQ(R.rax, 0x12345067);
    CHECK_EQ(R.rdx, 1);
    CHECK_EQ(R.rflags, 0x202 | FL_CF);

    regs_init();
    old[0] = 1;
    old[1] = 2;
    R.rax = 1;
    R.rdx = 2;
    CHECK(EXEC("\xf0\x48\x0f\xc7\x0f"));
    CHECK_EQ(store[0], R.rbx);
    CHECK_EQ(store[1], R.rcx);
    CHECK(R.rflags & FL_ZF);
    R.rdx = 3;
    CHECK(!EXEC("\xf0\x48\x0f\xc7\x0f"));
    CHECK_EQ(R.rax, 1);
    CHECK_EQ(R.rdx, 2);
    CHECK(!(R.rflags & FL_ZF));
    old[1] = 0;
}

TEST(execute_bit_ops)
{
    regs_init();
    old[0] = 0x8000000012345067UL;
    R.rflags = 0x202 | FL_ZF | FL_SF;
    CHECK(EXEC("\xf0\x48\x0f\xba\x37\x01"));     /* btr $1 */
    CHECK_EQ(store[0], 0x8000000012345065UL);
    CHECK_EQ(R.rflags, 0x202 | FL_ZF | FL_SF | FL_CF);
    CHECK(!EXEC("\xf0\x48\x0f\xba\x2f\x01"));    /* bts $1: already set */
    CHECK_EQ(R.rflags & FL_CF, FL_CF);
    CHECK(EXEC("\x48\x0f\xba\x3f\x3f"));         /* btc $63 */
    CHECK_EQ(store[0], 0x0000000012345067UL);
    CHECK_EQ(R.rflags & FL_CF, FL_CF);
    CHECK(EXEC("\x48\x0f\xba\x2f\x03"));         /* bts $3: was clear */
    CHECK_EQ(store[0], 0x800000001234506fUL);
    CHECK_EQ(R.rflags & FL_CF, 0);
    /* Register offset 65 in the next quadword: bit 1 of what the caller read there. */
    R.rcx = 65;
    old[0] = 0;
    CHECK(EXEC("\x48\x0f\xab\x0f"));
    CHECK_EQ(store[0], 2);
}

/* The host CPU's result and flags for the same operation. */
#define HOST_ALU_FN(name, mn)                                                          \
    static uint64_t host_##name(unsigned int size, uint64_t a, uint64_t b, uint64_t cin, \
                                uint64_t *fl)                                          \
    {                                                                                  \
        uint64_t f;                                                                    \
        switch (size) {                                                                \
        case 1:                                                                        \
            __asm__("bt $0, %[c]\n\t" mn "b %b[b], %b[a]\n\tlahf\n\tseto %%al"         \
                    : [a] "+r"(a), "=&a"(f) : [b] "r"(b), [c] "r"(cin) : "cc");        \
            break;                                                                     \
        case 2:                                                                        \
            __asm__("bt $0, %[c]\n\t" mn "w %w[b], %w[a]\n\tlahf\n\tseto %%al"         \
                    : [a] "+r"(a), "=&a"(f) : [b] "r"(b), [c] "r"(cin) : "cc");        \
            break;                                                                     \
        case 4:                                                                        \
            __asm__("bt $0, %[c]\n\t" mn "l %k[b], %k[a]\n\tlahf\n\tseto %%al"         \
                    : [a] "+r"(a), "=&a"(f) : [b] "r"(b), [c] "r"(cin) : "cc");        \
            break;                                                                     \
        default:                                                                       \
            __asm__("bt $0, %[c]\n\t" mn "q %q[b], %q[a]\n\tlahf\n\tseto %%al"         \
                    : [a] "+r"(a), "=&a"(f) : [b] "r"(b), [c] "r"(cin) : "cc");        \
        }                                                                              \
        *fl = ((f >> 8) & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF)) | (f & 1 ? FL_OF : 0); \
        return size == 8 ? a : a & ((1UL << (size * 8)) - 1);                          \
    }
HOST_ALU_FN(add, "add")
HOST_ALU_FN(or, "or")
HOST_ALU_FN(adc, "adc")
HOST_ALU_FN(sbb, "sbb")
HOST_ALU_FN(and, "and")
HOST_ALU_FN(sub, "sub")
HOST_ALU_FN(xor, "xor")

typedef uint64_t (*host_fn)(unsigned int, uint64_t, uint64_t, uint64_t, uint64_t *);

TEST(execute_alu_matches_cpu)
{
    static const host_fn host[] = { host_add, host_or, host_adc, host_sbb, host_and,
                                    host_sub, host_xor };
    static const uint64_t vals[] = {
        0, 1, 2, 0xf, 0x10, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
        0x80000000, 0xffffffff, 0x100000000UL, 0x7fffffffffffffffUL, 0x8000000000000000UL,
        ~0UL, 0x8000000012345067UL, 0x0010000000abc067UL, 0xfffffffffffff000UL,
    };
    static const unsigned int sizes[] = { 1, 2, 4, 8 };
    /* op r/m,r: 00/01 + op * 8, with 66 / REX.W for the size. */
    uint8_t enc[4];
    unsigned int checked = 0;

    for (unsigned int op = PTWR_ADD; op <= PTWR_XOR; op++)
        for (size_t s = 0; s < 4; s++)
            for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
                for (size_t j = 0; j < sizeof(vals) / sizeof(vals[0]); j++)
                    for (uint64_t cin = 0; cin < 2; cin++) {
                        unsigned int size = sizes[s], n = 0;
                        uint64_t mask = size == 8 ? ~0UL : (1UL << (size * 8)) - 1;
                        uint64_t a = vals[i] & mask, b = vals[j] & mask, want, wfl;
                        uint64_t defined = op == PTWR_AND || op == PTWR_OR ||
                                           op == PTWR_XOR ? FL_ARITH & ~FL_AF : FL_ARITH;
                        bool wrote;

                        if (size == 2)
                            enc[n++] = 0x66;
                        enc[n++] = size == 8 ? 0x48 : 0x40;   /* REX: %sil, not %dh */
                        enc[n++] = (uint8_t)(op << 3 | (size == 1 ? 0 : 1));
                        enc[n++] = 0x37;            /* %rsi/%sil... into (%rdi) */
                        regs_init();
                        R.rsi = vals[j];
                        R.rflags = 0x202 | cin;
                        old[0] = a;
                        CHECK_EQ(ptwr_decode(&in, enc, n, &R, 0, 0), 0);
                        CHECK_EQ(in.src, b);
                        wrote = ptwr_execute(&in, old, &R, store);
                        want = host[op](size, a, b, cin, &wfl);
                        if (store[0] != want || wrote != (want != a) ||
                            (R.rflags & defined) != (wfl & defined) ||
                            (R.rflags & ~FL_ARITH) != 0x202) {
                            printf("  op %u size %u a %#lx b %#lx cf %lu: got %#lx fl %#lx,"
                                   " cpu %#lx fl %#lx\n", op, size, (unsigned long)a,
                                   (unsigned long)b, (unsigned long)cin,
                                   (unsigned long)store[0], (unsigned long)R.rflags,
                                   (unsigned long)want, (unsigned long)wfl);
                            CHECK(0);
                        }
                        checked++;
                    }
    CHECK(checked > 10000);
}

/* CMPXCHG's flags on a mismatch are those of CMP accumulator, operand. */
TEST(execute_cmpxchg_flags_match_cpu)
{
    static const uint64_t vals[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000,
                                     0xffffffff, 0x8000000000000000UL, ~0UL, 0x12345067 };

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        for (size_t j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
            uint64_t wfl;

            regs_init();
            R.rax = vals[i];
            old[0] = vals[j];
            host_sub(8, vals[i], vals[j], 0, &wfl);
            CHECK_EQ(EXEC("\x48\x0f\xb1\x37"), vals[i] == vals[j]);
            CHECK_EQ(R.rflags & FL_ARITH, wfl);
        }
}

TEST(field_and_merge)
{
    uint64_t e = 0x8000000012345067UL;

    CHECK_EQ(ptwr_field(e, 0, 8), e);
    CHECK_EQ(ptwr_field(e, 0, 4), 0x12345067);
    CHECK_EQ(ptwr_field(e, 4, 4), 0x80000000);
    CHECK_EQ(ptwr_field(e, 2, 2), 0x1234);
    CHECK_EQ(ptwr_field(e, 7, 1), 0x80);
    CHECK_EQ(ptwr_merge(e, 0, 4, 0xabcdef01), 0x80000000abcdef01UL);
    CHECK_EQ(ptwr_merge(e, 4, 4, 0x00100000), 0x0010000012345067UL);
    CHECK_EQ(ptwr_merge(e, 0, 1, 0x65), 0x8000000012345065UL);
    CHECK_EQ(ptwr_merge(e, 6, 2, 0xffffffff), 0xffff000012345067UL); /* masked to size */
    CHECK_EQ(ptwr_merge(e, 0, 8, 5), 5);
}
