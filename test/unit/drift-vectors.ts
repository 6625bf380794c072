/** Test vectors of src/stats/DRIFT-CONVENTIONS.md (the drift conventions and their exact values), shared by the drift-*.test.ts files. */
import assert from 'node:assert/strict';

/** N1: reference 1..20, current 1.25 i - 0.35 for i = 1..20. */
export const N1 = {
  reference: Float64Array.from({ length: 20 }, (_, i) => i + 1),
  current: Float64Array.from({ length: 20 }, (_, i) => 1.25 * (i + 1) - 0.35),
};

/** C1: categorical, same categories on both sides. */
export const C1 = {
  reference: new Map([
    ['A', 50],
    ['B', 30],
    ['C', 20],
  ]),
  current: new Map([
    ['A', 40],
    ['B', 30],
    ['C', 30],
  ]),
};

/** C3: binary. */
export const C3 = {
  reference: new Map([
    ['0', 70],
    ['1', 30],
  ]),
  current: new Map([
    ['0', 55],
    ['1', 45],
  ]),
};

/** |actual - expected| <= rel * |expected|; for an expected 0, |actual| <= rel. */
export function assertClose(actual: number, expected: number, rel = 1e-9, message?: string): void {
  const tolerance = expected === 0 ? rel : rel * Math.abs(expected);
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${message ? `${message}: ` : ''}expected ${expected}, got ${actual} (tolerance ${tolerance})`,
  );
}

/** Deterministic uniform [0, 1) numbers (a 32-bit LCG), so large tests need no fixtures. */
export function uniforms(count: number, seed: number): Float64Array {
  const out = new Float64Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 32;
  }
  return out;
}
