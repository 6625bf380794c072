/**
 * Nightly benchmark: January-June 2001 fed night by night (181 files, one per day of scheduled
 * departure) to the daily spec flights-nightly, as the articles' nightly ETL would feed them.
 *
 * The parent (this module) writes the nights' files from flights-3m (not timed) and starts a dev server;
 * bench/nightly-worker.ts feeds them in order through `ingestionPipeline` and then copies each file with
 * bare DuckDB. What it shows:
 * - the false alarms of the like-for-like gates on real data: nights stopped (the aim is none), and
 *   every warning, listed night by night;
 * - nothing lost: rows read over the 181 nights against the rows of the file;
 * - wall time per night against bare DuckDB copying the same file (the least an ingestion does).
 * The 6 flights of 2001-07-01 in the file are delivered with 2001-06-30, whose partition refuses them
 * (rule `partition`) to its dead letters: a row of another day never enters a published night.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openDuckDb, queryRows, sqlString, withConnection } from '../src/data/duckdb';
import { addDays, partitionRange } from '../src/features/partition-dates';
import { ingestionWorkflowId } from '../src/api/ingestion';
import { runServerWorker, withDevServer, workflowTiming } from './harness';
import type { NightOutcome, NightlyTask } from './nightly-worker';
import { median, type BenchContext, type Benchmark, type BenchmarkResult, type Figure } from './report';

const SPEC = 'flights-nightly';
const FLIGHTS = path.resolve(__dirname, '..', 'node_modules/vega-datasets/data/flights-3m.parquet');
const NIGHTS = partitionRange('2001-01-01', '2001-06-30');
const LAST = NIGHTS.at(-1)!;

/** Writes one Parquet file per night under `<dataDir>/sources/nights`; returns the file's total rows. */
async function writeNights(dataDir: string): Promise<number> {
  const dir = path.join(dataDir, 'sources', 'nights');
  fs.mkdirSync(dir, { recursive: true });
  const db = await openDuckDb();
  try {
    return await withConnection(db, async (conn) => {
      // Everything after the last night is delivered with it (the file's last rows, 2001-07-01).
      await conn.run(
        `CREATE TABLE flights AS SELECT *, least(CAST(date AS DATE), DATE ${sqlString(LAST)}) AS night FROM read_parquet(${sqlString(FLIGHTS)})`,
      );
      for (const day of NIGHTS) {
        await conn.run(
          `COPY (SELECT * EXCLUDE (night) FROM flights WHERE night = DATE ${sqlString(day)} ORDER BY date, origin, destination)
           TO ${sqlString(path.join(dir, `${day}.parquet`))} (FORMAT parquet)`,
        );
      }
      const [row] = await queryRows<{ n: bigint }>(conn, 'SELECT count(*) AS n FROM flights');
      return Number(row!.n);
    });
  } finally {
    db.closeSync();
  }
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.ceil(p * values.length) - 1]!;

export const benchmark: Benchmark = {
  name: 'nightly',
  description:
    `January-June 2001 as ${NIGHTS.length} nightly files to the daily spec ${SPEC} (a night is one day of scheduled departure; the 6 flights of 2001-07-01 ride with ${LAST}), ` +
    'each ingested by `ingestionPipeline` through `startIngestion` and awaited before the next (its gates compare it with the nights before it: ' +
    'the same weekday over 4 weeks, each airport against its usual share), by one worker and client in a fresh Node process on an embedded dev server; ' +
    'against bare DuckDB (`openDuckDb()` settings) copying each night file to Parquet in the same process after the feed. ' +
    'One feed per run: its 181 nights are the samples.',

  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = performance.now();
    const dataDir = path.join(ctx.tmpDir, 'runs', 'nightly');
    const fileRows = await writeNights(dataDir);
    return withDevServer(ctx, async (server) => {
      const task: NightlyTask = {
        kind: 'nightly',
        address: server.config.TEMPORAL_ADDRESS,
        dataDir,
        taskQueue: `bench-nightly-${randomUUID().slice(0, 8)}`,
        spec: SPEC,
        nights: NIGHTS.map((day) => ({
          day,
          source: `sources/nights/${day}.parquet`,
          // The morning after: the freshness gate sees a night a few hours old.
          asOf: `${addDays(day, 1)}T06:00:00Z`,
        })),
      };
      ctx.log(`feeding ${NIGHTS.length} nights`);
      const nights = await runServerWorker<NightOutcome[]>(ctx, 'nightly-worker.ts', task, 60 * 60_000);

      // The server's account of each published night: its wall time and its activities' run times.
      const client = await server.client();
      const timings = await Promise.all(
        nights
          .filter((n) => n.published)
          .map(async (n) =>
            workflowTiming(
              (await client.workflow.getHandle(ingestionWorkflowId(SPEC, n.day)).fetchHistory()).events ?? [],
            ),
          ),
      );
      const stopped = nights.filter((n) => !n.published);
      const warnings = nights.flatMap((n) =>
        n.failed.filter((c) => c.severity === 'warning').map((c) => ({ day: n.day, ...c })),
      );
      const rowsRead = nights.reduce((sum, n) => sum + n.rowsRead, 0);
      const wall = nights.map((n) => n.wallMs);
      const bareMs = nights.map((n) => n.bareMs);
      const byGate = new Map<string, number>();
      for (const w of warnings) byGate.set(w.gate, (byGate.get(w.gate) ?? 0) + 1);
      const figures: Figure[] = [
        {
          name: 'nights stopped (false alarms)',
          value: stopped.length,
          unit: 'nights',
          aim: { on: 'value', op: '<=', limit: 0, text: '0' },
          headline: true,
          note: stopped.length
            ? stopped
                .map(
                  (n) =>
                    `${n.day}: ${
                      n.error ??
                      n.failed
                        .filter((c) => c.severity === 'blocking')
                        .map((c) => `${c.gate}(${c.subject}) ${c.detail}`)
                        .join('; ')
                    }`,
                )
                .join(' | ')
            : `all ${nights.length} nights published`,
        },
        {
          name: 'warnings',
          value: warnings.length,
          unit: 'checks',
          headline: true,
          note: `on ${new Set(warnings.map((w) => w.day)).size} nights; by gate: ${[...byGate].map(([g, n]) => `${g} ${n}`).join(', ') || 'none'} (listed below)`,
        },
        {
          name: 'rows read over all nights',
          value: rowsRead,
          unit: 'rows',
          aim: { on: 'value', op: '>=', limit: fileRows, text: `all ${fileRows} rows of the file` },
          note: `dead letters ${nights.reduce((sum, n) => sum + n.rowsRejected, 0)} (kept with their reasons)`,
        },
        {
          name: 'wall per night',
          value: median(wall),
          unit: 'ms',
          baseline: median(bareMs),
          ratio: median(nights.map((n) => n.wallMs / n.bareMs)),
          ratioNote: 'median of per-night pipeline wall / bare DuckDB copy',
          samples: wall,
          baselineSamples: bareMs,
          headline: true,
          note: `p90 ${Math.round(percentile(wall, 0.9))} ms; the whole feed ${(wall.reduce((a, b) => a + b, 0) / 1000).toFixed(0)} s`,
        },
        {
          name: 'activities per night',
          value: median(timings.map((t) => t.activityMs)),
          unit: 'ms',
          baseline: median(bareMs),
          ratio: median(timings.map((t) => t.activityMs)) / median(bareMs),
          ratioNote: "median of the nights' summed activity run times / median bare copy",
          note: `${timings[0]?.activities.length ?? 0} activities per night; the night's server wall ${Math.round(median(timings.map((t) => t.wallMs)))} ms, of which workflow tasks ${Math.round(median(timings.map((t) => t.workflowTaskMs)))} ms over ${timings[0]?.workflowTasks ?? 0} tasks (medians)`,
        },
      ];
      return {
        name: 'nightly',
        description: this.description,
        seconds: (performance.now() - started) / 1000,
        figures,
        details: [
          {
            title: 'Warnings, night by night',
            columns: ['night', 'gate', 'subject', 'detail'],
            rows: warnings.map((w) => [w.day, w.gate, w.subject, w.detail]),
          },
        ],
        data: { spec: SPEC, nights },
      };
    });
  },
};
