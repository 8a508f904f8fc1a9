// core/rng.h: a splittable, seeded random number generator.
// xoshiro256** seeded through splitmix64 from (seed, stream): env i of a vector
// seeded with s draws from stream i, whatever thread steps it. No global state.
#ifndef LC_CORE_RNG_H
#define LC_CORE_RNG_H

#include "core/api.h"

#include <stdint.h>

LC_API_BEGIN

typedef struct lc_rng {
    uint64_t s[4];
} lc_rng;

// Seeds r deterministically from (seed, stream); distinct streams are independent.
void lc_rng_seed(lc_rng *r, uint64_t seed, uint64_t stream);
uint64_t lc_rng_u64(lc_rng *r);
uint32_t lc_rng_u32(lc_rng *r);
double lc_rng_double(lc_rng *r);                 // uniform in [0, 1), 53 bits
float lc_rng_float(lc_rng *r);                   // uniform in [0, 1), 24 bits
double lc_rng_uniform(lc_rng *r, double lo, double hi); // uniform in [lo, hi)
double lc_rng_normal(lc_rng *r);                 // standard normal (Box-Muller)
uint32_t lc_rng_below(lc_rng *r, uint32_t n);    // uniform in [0, n), unbiased; n >= 1
// A new generator whose stream is independent of r's; advances r.
lc_rng lc_rng_split(lc_rng *r);

LC_API_END

#endif
