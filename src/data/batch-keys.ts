import type { ArtifactKey } from './artifact-store';
import type { Contract } from '../specs/contract-schema';

/** Where one batch of a contract lives: the same (contract, version, batch) always maps to the same paths. */
export function batchKeys(
  contract: Contract,
  batchId: string,
): Record<'dataset' | 'deadLetters' | 'report', ArtifactKey> {
  const base = { name: contract.name, version: contract.version, partition: batchId };
  return {
    dataset: { kind: 'datasets', ...base },
    deadLetters: { kind: 'dead-letters', ...base },
    report: { kind: 'reports', ...base },
  };
}
