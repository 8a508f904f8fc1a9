// core/nprandom.h: numpy's legacy RandomState in C, bit for bit: MT19937 seeded as
// np.random.RandomState(int) or RandomState(array of uint32) does, and the draws MinAtar
// uses (random_sample / rand, randint with numpy's masked rejection). Leaves out: gauss,
// binomial, choice and the other distributions (no caller needs them), pickled states.
#ifndef LC_CORE_NPRANDOM_H
#define LC_CORE_NPRANDOM_H

#include <stddef.h>
#include <stdint.h>

#define LC_MT_N 624

typedef struct lc_mt {
    uint32_t key[LC_MT_N];
    int pos;
} lc_mt;

// RandomState(seed) for an int seed in [0, 2**32) (numpy's mt19937_seed).
void lc_mt_seed(lc_mt *m, uint32_t seed);
// RandomState(key) for a 1-d array of n >= 1 values in [0, 2**32) (init_by_array).
void lc_mt_seed_array(lc_mt *m, const uint32_t *key, size_t n);
// A 64-bit seed as numpy would take it: RandomState(seed) below 2**32, else
// RandomState([seed & 0xffffffff, seed >> 32]).
void lc_mt_seed_u64(lc_mt *m, uint64_t seed);
// Regenerates the 624 words (numpy's mt19937_gen); lc_mt_next32 calls it when they are used up.
void lc_mt_generate(lc_mt *m);

static inline uint32_t lc_mt_next32(lc_mt *m) {
    if (m->pos == LC_MT_N) lc_mt_generate(m);
    uint32_t y = m->key[m->pos++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

// random_sample() / rand(): (a >> 5, b >> 6) of two draws, 53 bits in [0, 1).
static inline double lc_mt_random_sample(lc_mt *m) {
    int32_t a = (int32_t)(lc_mt_next32(m) >> 5), b = (int32_t)(lc_mt_next32(m) >> 6);
    return (a * 67108864.0 + b) / 9007199254740992.0;
}
// randint(low, high) for one value, low < high, high - low <= 2**32 (legacy masked
// rejection on 32-bit draws; a range of one value draws nothing). randint(low, high, n)
// is n calls in a row.
int64_t lc_mt_randint(lc_mt *m, int64_t low, int64_t high);

#endif
