import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { ArtifactUriError, type ArtifactKey, type ArtifactStore } from '../src/data/artifact-store';
import { exists } from '../src/data/atomic-files';
import { ArtifactNotFound } from '../src/data/object-mirror';
import { ErrorTypes } from '../src/api/errors';
import { callerRun } from './caller';

/** The artifacts a step reads, by URI, as the steps before it returned them. */
export const StepInputsSchema = z.record(z.string(), z.string().startsWith('artifact:'));
export type StepInputs = z.infer<typeof StepInputsSchema>;

/** Where one step's outputs are built; `publish` makes them visible at once and names them by URI. */
export interface StepOutput {
  dir: string;
  file(name: string): string;
  publish(): Promise<void>;
  /** The URI of one published file (valid once `publish` resolved). */
  uri(name: string): string;
}

/** A step's own scratch space (its checkpoints), kept across its retries and brought to whichever host runs it. */
export interface StepWork {
  dir: string;
  save(): Promise<void>;
}

/**
 * The files of one step of a training or monitoring run. Its inputs are the artifact URIs earlier
 * steps returned (opened on this host, downloaded when it lacks them); its outputs are published as
 * artifacts of their own, `<kind>/<name>/runs/<run>.<step>`, whose URIs it returns. Runs started
 * before steps handed each other URIs pass no `inputs`: their steps share the run's work area, as
 * they did then.
 */
export interface StepFiles {
  /** The local path of the input file `inputs[name]` names (in a legacy run: `file` of its work area). */
  input(name: string, file: string): Promise<string>;
  /** `input` for an input an earlier step may not have written (absent from `inputs`, or from the area). */
  optionalInput(name: string, file: string): Promise<string | undefined>;
  output(step: string): Promise<StepOutput>;
  work(step: string): Promise<StepWork>;
}

/** A workflow run as one artifact path segment. */
function runKey(workflowId: string, runId: string): string {
  return `${workflowId}.${runId}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
}

/**
 * Where one step of a run publishes its outputs, and (as a work area) keeps its checkpoints:
 * `<kind>/<name>/runs/<run>.<step>`.
 */
export function stepKey(
  owner: Pick<ArtifactKey, 'kind' | 'name'>,
  run: { workflowId: string; runId: string },
  step: string,
): ArtifactKey {
  return { ...owner, version: 'runs', partition: `${runKey(run.workflowId, run.runId)}.${step}` };
}

/** The one work area a run from before URIs shares between its steps. */
function legacyKey(owner: Pick<ArtifactKey, 'kind' | 'name'>, run: { workflowId: string; runId: string }): ArtifactKey {
  return { ...owner, version: 'runs', partition: runKey(run.workflowId, run.runId) };
}

export async function stepFiles(
  artifacts: ArtifactStore,
  owner: Pick<ArtifactKey, 'kind' | 'name'>,
  inputs: StepInputs | undefined,
): Promise<StepFiles> {
  const run = callerRun();
  if (!inputs) return legacyRunArea(artifacts, legacyKey(owner, run));
  // An input that is not there now will not be there on a retry: the run must start again.
  const input = async (name: string): Promise<string> => {
    const uri = inputs[name];
    if (!uri) throw ApplicationFailure.nonRetryable(`no ${name} among the step's inputs`, ErrorTypes.InvalidInput);
    try {
      return await artifacts.open(uri);
    } catch (error) {
      if (!(error instanceof ArtifactNotFound || error instanceof ArtifactUriError)) throw error;
      throw lostInput(`the ${name} this step reads (${uri}) is not published: ${error.message}`);
    }
  };
  return {
    input,
    optionalInput: async (name) => (inputs[name] === undefined ? undefined : input(name)),
    async output(step) {
      const key = stepKey(owner, run, step);
      const dir = artifacts.stagingDir(key);
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(dir, { recursive: true });
      return {
        dir,
        file: (name) => path.join(dir, name),
        publish: async () => void (await artifacts.publish(key)),
        uri: (name) => `${artifacts.uri(key)}/${name}`,
      };
    },
    async work(step) {
      const key = stepKey(owner, run, step);
      const dir = await artifacts.restore(key, 'work');
      await fs.mkdir(dir, { recursive: true });
      return { dir, save: () => artifacts.checkpoint(key, 'work') };
    },
  };
}

/** A run from before URIs: every step reads and writes one work area fixed by the run. */
async function legacyRunArea(artifacts: ArtifactStore, key: ArtifactKey): Promise<StepFiles> {
  const dir = await artifacts.restore(key, 'work');
  await fs.mkdir(dir, { recursive: true });
  const area = { dir, save: () => artifacts.checkpoint(key, 'work') };
  return {
    input: async (name, file) => {
      if (!(await exists(path.join(dir, file))))
        throw lostInput(`the run's ${name} (${path.join(dir, file)}) is gone from its work area`);
      return path.join(dir, file);
    },
    optionalInput: async (_name, file) => ((await exists(path.join(dir, file))) ? path.join(dir, file) : undefined),
    output: async () => ({
      dir,
      file: (name) => path.join(dir, name),
      publish: area.save,
      uri: (name) => path.join(dir, name),
    }),
    work: async () => area,
  };
}

function lostInput(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${message}; start a new run`, ErrorTypes.InvalidInput);
}

/** A file a run from before URIs left in its work area (a model registered then is promoted now). */
export async function legacyRunFile(
  artifacts: ArtifactStore,
  owner: Pick<ArtifactKey, 'kind' | 'name'>,
  run: { workflowId: string; runId: string },
  file: string,
): Promise<string> {
  return path.join(await artifacts.restore(legacyKey(owner, run), 'work'), file);
}
