import type { RunOutputs } from './outputs';

/** How a disturbed run's outputs differ from the undisturbed run's: every entry is a defect. */
export interface Comparison {
  mismatches: string[];
  rowsLost: number;
  rowsDuplicated: number;
}

export function compareOutputs(reference: RunOutputs, chaos: RunOutputs): Comparison {
  const mismatches: string[] = [];
  let rowsLost = 0;
  let rowsDuplicated = 0;
  const rows = (what: string, expected: number, got: number) => {
    if (got < expected) rowsLost += expected - got;
    if (got > expected) rowsDuplicated += got - expected;
    if (got !== expected) mismatches.push(`${what}: ${got} rows, undisturbed ${expected}`);
  };
  const same = (what: string, expected: unknown, got: unknown) => {
    if (JSON.stringify(expected) !== JSON.stringify(got))
      mismatches.push(
        `${what}: ${JSON.stringify(got)?.slice(0, 120)} differs from undisturbed ${JSON.stringify(expected)?.slice(0, 120)}`,
      );
  };

  const i = chaos.ingestion;
  same('ingestion outputHash', reference.ingestion.outputHash, i.outputHash);
  rows('ingestion rows read', reference.ingestion.rowsRead, i.rowsRead);
  rows('ingestion rows accepted', reference.ingestion.rowsAccepted, i.rowsAccepted);
  rows('ingestion rows rejected', reference.ingestion.rowsRejected, i.rowsRejected);
  if (i.rowsRead !== i.rowsAccepted + i.rowsRejected)
    mismatches.push(`ingestion: ${i.rowsRead} read != ${i.rowsAccepted} accepted + ${i.rowsRejected} rejected`);
  if (i.rowsRead !== i.sourceRows) mismatches.push(`ingestion: ${i.rowsRead} read, the source has ${i.sourceRows}`);

  for (const [partition, expected] of Object.entries(reference.partitions)) {
    const got = chaos.partitions[partition];
    if (!got) {
      mismatches.push(`feature partition ${partition} missing`);
      rowsLost += expected.rows;
      continue;
    }
    rows(`feature partition ${partition}`, expected.rows, got.rows);
    same(`feature partition ${partition} output_hash`, expected.hash, got.hash);
    same(`feature partition ${partition} status`, expected.status, got.status);
  }
  for (const partition of Object.keys(chaos.partitions))
    if (!reference.partitions[partition]) mismatches.push(`unexpected feature partition ${partition}`);

  rows('online store', reference.online.rows, chaos.online.rows);
  rowsDuplicated += chaos.online.duplicateKeys;
  if (chaos.online.duplicateKeys)
    mismatches.push(
      `online store: ${chaos.online.duplicateKeys} duplicate (featureSet, version, entityType, entityKey) rows`,
    );
  same('online store contents', reference.online.hash, chaos.online.hash);

  same('model weights', reference.model.weights, chaos.model.weights);
  same('model intercept', reference.model.intercept, chaos.model.intercept);
  same('model trainingDataHash', reference.model.trainingDataHash, chaos.model.trainingDataHash);
  if (chaos.registry.versionsOfThisRun !== 1)
    mismatches.push(
      `registry: ${chaos.registry.versionsOfThisRun} versions registered by the training run (expected exactly 1)`,
    );
  same('registry versions', reference.registry.versions, chaos.registry.versions);

  if (chaos.alerts.duplicateKeys) mismatches.push(`alerts: ${chaos.alerts.duplicateKeys} duplicate dedupe keys`);
  same('alerts by code', reference.alerts.byCode, chaos.alerts.byCode);
  return { mismatches, rowsLost, rowsDuplicated };
}
