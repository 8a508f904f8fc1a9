// core/nprandom.c: MT19937 as numpy's legacy RandomState seeds and draws it
// (numpy/random/src/mt19937/mt19937.c, randomkit's seeding, distributions.c's
// random_bounded_uint64_fill with use_masked). Leaves out: every other distribution.
#include "core/nprandom.h"

#include <assert.h>

#define MT_M 397
#define MATRIX_A 0x9908b0dfU
#define UPPER_MASK 0x80000000U
#define LOWER_MASK 0x7fffffffU

void lc_mt_seed(lc_mt *m, uint32_t seed) {
    for (int pos = 0; pos < LC_MT_N; pos++) {
        m->key[pos] = seed;
        seed = 1812433253U * (seed ^ (seed >> 30)) + (uint32_t)pos + 1U;
    }
    m->pos = LC_MT_N;
}

static void init_genrand(lc_mt *m, uint32_t s) {
    m->key[0] = s;
    for (int i = 1; i < LC_MT_N; i++)
        m->key[i] = 1812433253U * (m->key[i - 1] ^ (m->key[i - 1] >> 30)) + (uint32_t)i;
    m->pos = LC_MT_N;
}

void lc_mt_seed_array(lc_mt *m, const uint32_t *key, size_t n) {
    assert(n >= 1);
    uint32_t *mt = m->key;
    size_t i = 1, j = 0;
    init_genrand(m, 19650218U);
    for (size_t k = LC_MT_N > n ? LC_MT_N : n; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= LC_MT_N) {
            mt[0] = mt[LC_MT_N - 1];
            i = 1;
        }
        if (j >= n) j = 0;
    }
    for (size_t k = LC_MT_N - 1; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
        i++;
        if (i >= LC_MT_N) {
            mt[0] = mt[LC_MT_N - 1];
            i = 1;
        }
    }
    mt[0] = 0x80000000U; // MSB is 1, assuring a non-zero initial array
    m->pos = LC_MT_N;
}

void lc_mt_seed_u64(lc_mt *m, uint64_t seed) {
    if (seed <= 0xffffffffULL) {
        lc_mt_seed(m, (uint32_t)seed);
    } else {
        uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
        lc_mt_seed_array(m, key, 2);
    }
}

void lc_mt_generate(lc_mt *m) {
    uint32_t *mt = m->key, y;
    int i;
    for (i = 0; i < LC_MT_N - MT_M; i++) {
        y = (mt[i] & UPPER_MASK) | (mt[i + 1] & LOWER_MASK);
        mt[i] = mt[i + MT_M] ^ (y >> 1) ^ (-(y & 1U) & MATRIX_A);
    }
    for (; i < LC_MT_N - 1; i++) {
        y = (mt[i] & UPPER_MASK) | (mt[i + 1] & LOWER_MASK);
        mt[i] = mt[i + (MT_M - LC_MT_N)] ^ (y >> 1) ^ (-(y & 1U) & MATRIX_A);
    }
    y = (mt[LC_MT_N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
    mt[LC_MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ (-(y & 1U) & MATRIX_A);
    m->pos = 0;
}

int64_t lc_mt_randint(lc_mt *m, int64_t low, int64_t high) {
    assert(low < high && (uint64_t)(high - low) <= 0x100000000ULL);
    uint64_t rng = (uint64_t)(high - low - 1); // numpy draws on the closed [low, high - 1]
    if (rng == 0) return low;
    if (rng == 0xffffffffULL) return low + (int64_t)lc_mt_next32(m);
    uint32_t mask = (uint32_t)rng; // the smallest 2^k - 1 >= rng
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint32_t v;
    while ((v = lc_mt_next32(m) & mask) > (uint32_t)rng) {
    }
    return low + (int64_t)v;
}
