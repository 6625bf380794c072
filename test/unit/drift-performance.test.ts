import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ksTwoSample } from '../../src/stats/ks';
import { psiNumeric } from '../../src/stats/psi';
import { wassersteinNormed } from '../../src/stats/wasserstein';
import { uniforms } from './drift-vectors';

// Timings are printed, not asserted: they depend on the machine. The assertions check the results.

it('runs normed Wasserstein and PSI on 1M vs 1M values', () => {
  const reference = uniforms(1_000_000, 11);
  const current = uniforms(1_000_000, 12).map((u) => u + 0.01);
  const start = performance.now();
  const w = wassersteinNormed(reference, current);
  const psi = psiNumeric(reference, current);
  console.log(`[drift-performance] Wasserstein + PSI, 1M vs 1M: ${(performance.now() - start).toFixed(0)} ms`);
  // A 0.01 shift of U(0, 1): W1 ~ 0.01, PSI small but clearly positive.
  assert.ok(Math.abs(w.distance - 0.01) < 2e-3, `W1 ${w.distance}`);
  assert.ok(psi > 0 && psi < 0.01, `PSI ${psi}`);
});

it('computes the exact KS p-value at the 10000 vs 10000 limit', () => {
  const reference = uniforms(10_000, 21);
  const current = uniforms(10_000, 22).map((u) => u + 0.02);
  const start = performance.now();
  const exact = ksTwoSample(reference, current);
  console.log(`[drift-performance] exact KS, 10000 vs 10000: ${(performance.now() - start).toFixed(0)} ms`);
  assert.equal(exact.method, 'exact');
  const asymptotic = ksTwoSample(reference, current, { method: 'asymptotic' });
  assert.ok(Math.abs(exact.pValue - asymptotic.pValue) < 0.01, `${exact.pValue} vs ${asymptotic.pValue}`);
});
