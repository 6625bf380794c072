import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, verdict } from '../chaos/report';
import { runChaos } from '../chaos/scenario';

/**
 * The short, seeded chaos run (`npm run chaos` is the long one): ingestion of three weeks of flights in
 * 7 chunks, a 14-day feature backfill and a training run, with one SIGKILL of the worker in each and
 * one restart of the chaos run's own Temporal server during the backfill. Faults land on observed
 * progress (persisted chunks, published partitions, training checkpoints), never on timers.
 */
test(
  'chaos (short, seeded): kills and a server restart change nothing in the outputs',
  { timeout: 15 * 60_000 },
  async () => {
    const seed = Number(process.env.CHAOS_SEED ?? 7);
    const report = await runChaos({
      seed,
      sourceUntil: '2001-01-22',
      chunkRows: 50_000,
      from: '2001-01-08',
      to: '2001-01-21',
      concurrency: 2,
      kills: { ingestion: 1, backfill: 1, training: 1 },
      serverRestartPhase: 'backfill',
      maxDelayMs: 0,
      trainPauseMs: 300,
      phaseTimeoutMs: 8 * 60_000,
      log: (line) => (process.env.CHAOS_VERBOSE ? console.error(`[chaos] ${line}`) : undefined),
    });
    console.error(`chaos (seed ${seed})\n${formatReport(report)}`);
    assert.ok(report.kills >= 2, `at least two kills landed (${report.kills})`);
    assert.deepEqual(verdict(report), []);
  },
);
