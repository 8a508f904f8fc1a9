// core/pcg64.h: numpy's SeedSequence and PCG64, bit for bit, so an env can draw what
// Gymnasium's np_random = Generator(PCG64(SeedSequence(seed))) draws. No global state.
// Leaves out: spawning child sequences, PCG64DXSM, numpy's other distributions.
#ifndef LC_CORE_PCG64_H
#define LC_CORE_PCG64_H

#include <stdint.h>

// numpy.random.SeedSequence(entropy) with no spawn key: a pool of 4 uint32 words.
#define LC_SEEDSEQ_POOL 4
typedef struct lc_seedseq {
    uint32_t pool[LC_SEEDSEQ_POOL];
} lc_seedseq;

// SeedSequence(entropy) for an entropy given as n >= 1 little-endian uint32 words (how
// numpy splits a Python int: 0 is one word 0, then the fewest words that hold it).
void lc_seedseq_init(lc_seedseq *s, const uint32_t *entropy, int n);
// SeedSequence(seed + add), the sum taken as a Python int (no wrap at 2^64): Gymnasium's
// vector envs seed env i with seed + i.
void lc_seedseq_init_int(lc_seedseq *s, uint64_t seed, uint64_t add);
// generate_state(n, np.uint32) and generate_state(n, np.uint64).
void lc_seedseq_generate_u32(const lc_seedseq *s, uint32_t *out, int n);
void lc_seedseq_generate_u64(const lc_seedseq *s, uint64_t *out, int n);

// numpy.random.PCG64: a 128-bit LCG with the XSL-RR output (pcg64.h of numpy).
typedef struct lc_pcg64 {
    uint64_t state_hi, state_lo, inc_hi, inc_lo;
    int has_u32;     // next_uint32 keeps the upper half of a 64-bit draw for its next call
    uint32_t u32;
} lc_pcg64;

// PCG64(seed_seq): state and increment from seed_seq.generate_state(4, np.uint64).
void lc_pcg64_init(lc_pcg64 *r, const lc_seedseq *s);
// Gymnasium's seeding.np_random(seed + add)'s bit generator.
void lc_pcg64_seed(lc_pcg64 *r, uint64_t seed, uint64_t add);
uint64_t lc_pcg64_next_u64(lc_pcg64 *r);
uint32_t lc_pcg64_next_u32(lc_pcg64 *r);
double lc_pcg64_next_double(lc_pcg64 *r); // (next_u64 >> 11) * 2^-53
// PCG64.advance(delta): jumps delta = delta_hi * 2^64 + delta_lo draws (mod 2^128).
void lc_pcg64_advance(lc_pcg64 *r, uint64_t delta_hi, uint64_t delta_lo);
// Generator.uniform(low, high) for one element: low + (high - low) * next_double.
double lc_pcg64_uniform(lc_pcg64 *r, double low, double high);

#endif
