// core/pcg64.c: numpy's SeedSequence (bit_generator.pyx: entropy hashing into a 4-word
// pool, generate_state) and PCG64 (pcg64.h: setseq 128-bit LCG, XSL-RR 64-bit output,
// advance by the Brown jump-ahead). Leaves out: spawn keys, the DXSM variant.
#include "core/pcg64.h"

__extension__ typedef unsigned __int128 u128;

// ---------------------------------------------------------------- SeedSequence

#define INIT_A 0x43b0d7e5u
#define MULT_A 0x931e8875u
#define INIT_B 0x8b51f9ddu
#define MULT_B 0x58f38dedu
#define MIX_MULT_L 0xca01f9ddu
#define MIX_MULT_R 0x4973f715u
#define XSHIFT 16

static uint32_t hashmix(uint32_t value, uint32_t *hash_const) {
    value ^= *hash_const;
    *hash_const *= MULT_A;
    value *= *hash_const;
    value ^= value >> XSHIFT;
    return value;
}

static uint32_t mix(uint32_t x, uint32_t y) {
    uint32_t result = MIX_MULT_L * x - MIX_MULT_R * y;
    result ^= result >> XSHIFT;
    return result;
}

void lc_seedseq_init(lc_seedseq *s, const uint32_t *entropy, int n) {
    uint32_t hash_const = INIT_A, *m = s->pool;
    for (int i = 0; i < LC_SEEDSEQ_POOL; i++) m[i] = hashmix(i < n ? entropy[i] : 0u, &hash_const);
    for (int src = 0; src < LC_SEEDSEQ_POOL; src++)
        for (int dst = 0; dst < LC_SEEDSEQ_POOL; dst++)
            if (src != dst) m[dst] = mix(m[dst], hashmix(m[src], &hash_const));
    for (int src = LC_SEEDSEQ_POOL; src < n; src++)
        for (int dst = 0; dst < LC_SEEDSEQ_POOL; dst++) m[dst] = mix(m[dst], hashmix(entropy[src], &hash_const));
}

void lc_seedseq_init_int(lc_seedseq *s, uint64_t seed, uint64_t add) {
    uint64_t lo = seed + add, hi = lo < seed; // a 65-bit sum
    uint32_t w[3] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi};
    int n = hi ? 3 : w[1] ? 2 : 1;
    lc_seedseq_init(s, w, n);
}

// Word i of generate_state's stream; hash_const runs on from word to word.
static uint32_t state_word(const lc_seedseq *s, int i, uint32_t *hash_const) {
    uint32_t v = s->pool[i % LC_SEEDSEQ_POOL];
    v ^= *hash_const;
    *hash_const *= MULT_B;
    v *= *hash_const;
    v ^= v >> XSHIFT;
    return v;
}

void lc_seedseq_generate_u32(const lc_seedseq *s, uint32_t *out, int n) {
    uint32_t hash_const = INIT_B;
    for (int i = 0; i < n; i++) out[i] = state_word(s, i, &hash_const);
}

// generate_state(n, uint64) is generate_state(2n, uint32) viewed as little-endian pairs.
void lc_seedseq_generate_u64(const lc_seedseq *s, uint64_t *out, int n) {
    uint32_t hash_const = INIT_B;
    for (int i = 0; i < n; i++) {
        uint64_t lo = state_word(s, 2 * i, &hash_const);
        out[i] = lo | (uint64_t)state_word(s, 2 * i + 1, &hash_const) << 32;
    }
}

// ---------------------------------------------------------------- PCG64

#define MULT_HI 0x2360ed051fc65da4ULL
#define MULT_LO 0x4385df649fccf645ULL

static inline u128 u128_of(uint64_t hi, uint64_t lo) { return (u128)hi << 64 | lo; }
static inline u128 get_state(const lc_pcg64 *r) { return u128_of(r->state_hi, r->state_lo); }
static inline void put_state(lc_pcg64 *r, u128 s) {
    r->state_hi = (uint64_t)(s >> 64);
    r->state_lo = (uint64_t)s;
}

static inline void step(lc_pcg64 *r) {
    put_state(r, get_state(r) * u128_of(MULT_HI, MULT_LO) + u128_of(r->inc_hi, r->inc_lo));
}

void lc_pcg64_init(lc_pcg64 *r, const lc_seedseq *s) {
    uint64_t v[4];
    lc_seedseq_generate_u64(s, v, 4);
    // pcg64_set_seed: initstate = v[0] * 2^64 + v[1], initseq = v[2] * 2^64 + v[3]
    u128 initstate = u128_of(v[0], v[1]), inc = u128_of(v[2], v[3]) << 1 | 1u;
    r->inc_hi = (uint64_t)(inc >> 64);
    r->inc_lo = (uint64_t)inc;
    put_state(r, 0);
    step(r);
    put_state(r, get_state(r) + initstate);
    step(r);
    r->has_u32 = 0;
    r->u32 = 0;
}

void lc_pcg64_seed(lc_pcg64 *r, uint64_t seed, uint64_t add) {
    lc_seedseq s;
    lc_seedseq_init_int(&s, seed, add);
    lc_pcg64_init(r, &s);
}

uint64_t lc_pcg64_next_u64(lc_pcg64 *r) {
    step(r);
    uint64_t x = r->state_hi ^ r->state_lo;
    unsigned rot = (unsigned)(r->state_hi >> 58);
    return (x >> rot) | (x << ((64 - rot) & 63));
}

uint32_t lc_pcg64_next_u32(lc_pcg64 *r) {
    if (r->has_u32) {
        r->has_u32 = 0;
        return r->u32;
    }
    uint64_t v = lc_pcg64_next_u64(r);
    r->has_u32 = 1;
    r->u32 = (uint32_t)(v >> 32);
    return (uint32_t)v;
}

double lc_pcg64_next_double(lc_pcg64 *r) { return (double)(lc_pcg64_next_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

void lc_pcg64_advance(lc_pcg64 *r, uint64_t delta_hi, uint64_t delta_lo) {
    // pcg_advance_lcg_128: state * mult^delta + inc * (mult^delta - 1) / (mult - 1), by squaring.
    u128 delta = u128_of(delta_hi, delta_lo), cur_mult = u128_of(MULT_HI, MULT_LO),
         cur_plus = u128_of(r->inc_hi, r->inc_lo), acc_mult = 1, acc_plus = 0;
    while (delta > 0) {
        if (delta & 1) {
            acc_mult *= cur_mult;
            acc_plus = acc_plus * cur_mult + cur_plus;
        }
        cur_plus = (cur_mult + 1) * cur_plus;
        cur_mult *= cur_mult;
        delta >>= 1;
    }
    put_state(r, acc_mult * get_state(r) + acc_plus);
    r->has_u32 = 0; // numpy's advance drops the buffered half as well
    r->u32 = 0;
}

double lc_pcg64_uniform(lc_pcg64 *r, double low, double high) {
    return low + (high - low) * lc_pcg64_next_double(r);
}
