// core/rng.c: splitmix64 seeding and xoshiro256** (Blackman and Vigna).
// Normal draws use Box-Muller without caching, so a draw never depends on an
// earlier call's leftover. Leaves out: jump functions (streams come from seeding).
#include "core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void lc_rng_seed(lc_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed;
    uint64_t mix = splitmix64(&x);
    uint64_t y = mix ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&y);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; // all-zero is a fixed point
}

uint64_t lc_rng_u64(lc_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t lc_rng_u32(lc_rng *r) { return (uint32_t)(lc_rng_u64(r) >> 32); }

double lc_rng_double(lc_rng *r) { return (double)(lc_rng_u64(r) >> 11) * 0x1.0p-53; }

float lc_rng_float(lc_rng *r) { return (float)(lc_rng_u64(r) >> 40) * 0x1.0p-24f; }

double lc_rng_uniform(lc_rng *r, double lo, double hi) {
    return lo + (hi - lo) * lc_rng_double(r);
}

double lc_rng_normal(lc_rng *r) {
    double u1 = 1.0 - lc_rng_double(r); // (0, 1]: log is finite
    double u2 = lc_rng_double(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint32_t lc_rng_below(lc_rng *r, uint32_t n) {
    // Lemire's nearly divisionless method.
    uint64_t m = (uint64_t)lc_rng_u32(r) * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            m = (uint64_t)lc_rng_u32(r) * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

lc_rng lc_rng_split(lc_rng *r) {
    lc_rng out;
    uint64_t a = lc_rng_u64(r), b = lc_rng_u64(r);
    lc_rng_seed(&out, a, b);
    return out;
}
