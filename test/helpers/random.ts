// Seeded randomness for the fault and fuzz tests: a failure prints its seed, and
// MYCR_TEST_SEED=<seed> replays exactly the same inputs and delays.

/** mulberry32: small, fast, good enough to pick test inputs. */
export class Random {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed for this test file: MYCR_TEST_SEED if given, else a fresh one, printed either way. */
export function testSeed(label: string): number {
  const given = process.env.MYCR_TEST_SEED;
  const seed = given !== undefined && given !== "" ? Number(given) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`${label}: seed ${seed} (replay with MYCR_TEST_SEED=${seed})`);
  return seed;
}
