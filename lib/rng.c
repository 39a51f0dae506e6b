/* rng.c: see rng.h.
 *
 * Everything here is integer arithmetic or IEEE 754 basic operations (+ - *
 * / sqrt, correctly rounded by the standard) evaluated in a fixed order, so
 * a seed gives the same doubles on every conforming machine. The one
 * transcendental the polar method needs, ln, is computed below rather than
 * taken from libm, whose last bit differs between libraries. */
#include "rng.h"

#include <math.h>

/* Keep a*b+c as two roundings: a fused multiply-add would change bits. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* splitmix64: spreads any seed, even 0, over the whole state. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* ln x for finite x > 0. x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(z), z = (m-1)/(m+1), |z| < 0.1716, by the series
 * 2 (z + z^3/3 + z^5/5 + ...): the terms up to z^25 leave a remainder below
 * 2^-70 relative, so only the rounding of the operations is left. Against
 * glibc's log on 10^7 arguments (uniform in (0,1), within 1e-3 of 1, and
 * scaled down as far as 2^-60): 80% the same double, the rest 1 unit in the
 * last place apart, 0.4% 2 units. Unlike glibc's, the result is the same on
 * every machine. */
static double ln(double x)
{
	static const double ln2_hi = 0x1.62e42fefa3800p-1;	/* 43 bits */
	static const double ln2_lo = 0x1.ef35793c76730p-45;
	int e;
	double m = frexp(x, &e);	/* m in [0.5, 1) */
	if (m < 0x1.6a09e667f3bcdp-1) {	/* sqrt(1/2) */
		m *= 2;
		e--;
	}
	double z = (m - 1) / (m + 1), z2 = z * z;
	double s = 0;
	for (int k = 25; k >= 3; k -= 2)
		s = s * z2 + 1.0 / k;
	double lnm = 2 * z + 2 * z * z2 * s;
	return e * ln2_lo + lnm + e * ln2_hi;
}

/* Marsaglia's polar method: (u, v) uniform in the unit disc gives two
 * independent normals u f and v f; only the first is used, so a generator
 * needs no state beyond its seed. */
double rng_normal(struct rng *r)
{
	for (;;) {
		double u = 2 * rng_uniform(r) - 1;
		double v = 2 * rng_uniform(r) - 1;
		double s = u * u + v * v;
		if (s > 0 && s < 1)
			return u * sqrt(-2 * ln(s) / s);
	}
}
