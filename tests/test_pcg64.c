// tests/test_pcg64.c: Check suite for core/pcg64.h against numpy 1.24's SeedSequence and
// PCG64: entropy pools, generate_state in both word sizes, raw draws, the buffered 32-bit
// draws, advance, next_double and uniform. Golden values printed by numpy (noted beside).
// Leaves out: the envs that draw from it (test_classic.c, tests/python/test_seeding.py).
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/pcg64.h"

// SeedSequence(entropy).pool and .generate_state(4, np.uint64) for Python ints.
typedef struct seq_case {
    uint64_t seed, add; // entropy = seed + add as a Python int
    uint32_t pool[4];
    uint64_t state[4];
} seq_case;

static const seq_case SEQ[] = {
    {0, 0, {0xfe40eb07, 0x4f363a36, 0x4eb2009d, 0xc89a7aa7},
     {0xdb2cd7e7b0f478beULL, 0xabf4641a2c71ba49ULL, 0x20c6ed6d9d7b8d41ULL, 0x2c4099de223c39d4ULL}},
    {0, 1, {0xa137e185, 0xde2fab1, 0x950eae78, 0x54dd0a81},
     {0x672d8ee56d6791ffULL, 0x8ae19ca14eb1072cULL, 0x4915796d1322fc4aULL, 0xd0cc2bdcaba049bdULL}},
    {1ULL << 32, 0, {0xe0f3eff2, 0xdccd2c4e, 0x17f18c20, 0x9b8cb8db},
     {0x50ff846cec53f444ULL, 0x7a4918dbe8278562ULL, 0x3bff9f6c362e2b19ULL, 0xbdb177539a0654e3ULL}},
    {UINT64_MAX, 0, {0xfaf3ecf4, 0xfa0f8930, 0xe9f89a67, 0xe23d1f9},
     {0xaebca151928cad0dULL, 0x119c30448638dc7aULL, 0x1bbb155659e642a7ULL, 0xa76b11e3e8c4a8f6ULL}},
    // 2^64 + 2: three entropy words, as Gymnasium's seed + i past 2^64
    {UINT64_MAX, 3, {0x81452f63, 0x89189271, 0xa6cc73e0, 0xeffcf8f2},
     {0xc2766ffeddc31e4dULL, 0xec39474e51bb5dbeULL, 0xf728dc10bf41a2bfULL, 0x70c11bd6247f0f5aULL}},
};

START_TEST(test_seedseq_pool_and_state) {
    for (size_t c = 0; c < sizeof SEQ / sizeof *SEQ; c++) {
        lc_seedseq s;
        lc_seedseq_init_int(&s, SEQ[c].seed, SEQ[c].add);
        for (int k = 0; k < 4; k++) ck_assert_uint_eq(s.pool[k], SEQ[c].pool[k]);
        uint64_t st[4];
        lc_seedseq_generate_u64(&s, st, 4);
        for (int k = 0; k < 4; k++) ck_assert_msg(st[k] == SEQ[c].state[k], "case %zu word %d", c, k);
        uint32_t w[6]; // generate_state(6, np.uint32): the same stream in 32-bit words
        lc_seedseq_generate_u32(&s, w, 6);
        for (int k = 0; k < 4; k++) ck_assert_uint_eq(w[k], (uint32_t)(SEQ[c].state[k / 2] >> (32 * (k % 2))));
    }
}
END_TEST

START_TEST(test_seedseq_many_words) {
    // SeedSequence(12345678901234567890123): 3 words, fewer than the pool
    uint32_t ent[3] = {0x714244cbu, 0x42b64e76u, 0x29du};
    lc_seedseq s;
    lc_seedseq_init(&s, ent, 3);
    const uint32_t pool[4] = {0x5f59bc8d, 0x9f2d0cd3, 0x61a30fa3, 0xe339f362};
    for (int k = 0; k < 4; k++) ck_assert_uint_eq(s.pool[k], pool[k]);
    // more words than the pool: mixed in afterwards; a changed late word changes the pool
    uint32_t big[6] = {1, 2, 3, 4, 5, 6};
    lc_seedseq a, b;
    lc_seedseq_init(&a, big, 6);
    big[5] = 7;
    lc_seedseq_init(&b, big, 6);
    int differ = 0;
    for (int k = 0; k < 4; k++) differ += a.pool[k] != b.pool[k];
    ck_assert_int_eq(differ, 4);
}
END_TEST

START_TEST(test_pcg64_raw_draws) {
    lc_pcg64 r;
    lc_pcg64_seed(&r, 0, 0); // np.random.PCG64(0).random_raw(3)
    ck_assert(lc_pcg64_next_u64(&r) == 0xa30febcfd9c2825fULL);
    ck_assert(lc_pcg64_next_u64(&r) == 0x4510bdf882d9d721ULL);
    ck_assert(lc_pcg64_next_u64(&r) == 0x0a7d3da94ecde8b8ULL);
    lc_pcg64_seed(&r, UINT64_MAX, 3); // PCG64(2**64 + 2)
    ck_assert(lc_pcg64_next_u64(&r) == 0x753825376bced377ULL);
    ck_assert(lc_pcg64_next_u64(&r) == 0xfd0104df7d1a259cULL);
}
END_TEST

START_TEST(test_pcg64_advance_and_u32) {
    lc_pcg64 r, s;
    lc_pcg64_seed(&r, 42, 0);
    ck_assert(lc_pcg64_next_u64(&r) == 0xc621fbcd16d92688ULL);
    ck_assert(lc_pcg64_next_u64(&r) == 0x705a5661a791ffc1ULL);
    lc_pcg64_advance(&r, 1ULL << 36, 12345); // b.advance(2**100 + 12345)
    ck_assert(lc_pcg64_next_u64(&r) == 0xfee52cc67c1918e4ULL);
    // advance(k) equals k draws
    lc_pcg64_seed(&r, 9, 0);
    s = r;
    for (int k = 0; k < 1000; k++) lc_pcg64_next_u64(&r);
    lc_pcg64_advance(&s, 0, 1000);
    ck_assert(lc_pcg64_next_u64(&r) == lc_pcg64_next_u64(&s));
    // next_uint32: the low half of a draw, then its high half
    lc_pcg64_seed(&r, 0, 0);
    ck_assert_uint_eq(lc_pcg64_next_u32(&r), 0xd9c2825fu);
    ck_assert_uint_eq(lc_pcg64_next_u32(&r), 0xa30febcfu);
    ck_assert_uint_eq(lc_pcg64_next_u32(&r), 0x82d9d721u);
}
END_TEST

START_TEST(test_pcg64_doubles) {
    lc_pcg64 r;
    lc_pcg64_seed(&r, 7, 0); // Generator(PCG64(7)): random(), then uniform(-3, 5)
    ck_assert(lc_pcg64_next_double(&r) == 0x1.400c8353e3ca9p-1);
    ck_assert(lc_pcg64_uniform(&r, -3, 5) == 0x1.0b5f9b795e4cdp+2);
    lc_pcg64_seed(&r, 0, 0); // gymnasium CartPole-v1 reset(seed=0): uniform(-.05, .05, size=(4,))
    const double want[4] = {0x1.c0cbca647ced0p-7, -0x1.792e736320f47p-6, -0x1.7808d4489d6d2p-5,
                            -0x1.8c0f80ec8f29dp-5};
    for (int k = 0; k < 4; k++) ck_assert(lc_pcg64_uniform(&r, -0.05, 0.05) == want[k]);
}
END_TEST

static Suite *pcg64_suite(void) {
    Suite *s = suite_create("pcg64");
    TCase *tc = tcase_create("seedseq");
    tcase_add_test(tc, test_seedseq_pool_and_state);
    tcase_add_test(tc, test_seedseq_many_words);
    suite_add_tcase(s, tc);
    tc = tcase_create("pcg64");
    tcase_add_test(tc, test_pcg64_raw_draws);
    tcase_add_test(tc, test_pcg64_advance_and_u32);
    tcase_add_test(tc, test_pcg64_doubles);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(pcg64_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
