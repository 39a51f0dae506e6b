/* rng.h: a seeded random generator that gives the same numbers on every
 * machine: xoshiro256** seeded through splitmix64, uniform doubles from the
 * top 53 bits, and normal deviates computed with IEEE basic operations only
 * (no libm transcendental whose last bit may differ between libraries). */
#ifndef CHARNN_RNG_H
#define CHARNN_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1). */
double rng_uniform(struct rng *r);
/* Standard normal N(0, 1). */
double rng_normal(struct rng *r);

#endif
