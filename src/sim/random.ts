/** Seeded PRNG (mulberry32): same seed, same sequence, so a simulation's schedule and caps repeat. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Log-uniform draw in [min, max]: access links spread over orders of magnitude. */
export function logUniform(random: () => number, min: number, max: number): number {
  return Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min)));
}

/** Exponential gap with the given mean (Poisson arrivals). */
export function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}
