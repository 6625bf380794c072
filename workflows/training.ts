import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  patched,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  approvalQuery,
  approveSignal,
  decideUpdate,
  rejectSignal,
  type ApprovalDecision,
  type ApprovalView,
  type DecideRequest,
} from '../src/api/approval';
import { ErrorTypes } from '../src/api/errors';
import { ModelName } from '../src/api/search-attributes';
import { HOUR_MS, TrainingInputSchema, type TrainingInput, type TrainingResult } from '../src/api/training';
import { PipelineRun } from './pipeline-run';
import { retryFor } from './retry';
import { invalidInput, parseWorkflowInput } from './parse-input';

/** Each step's own policy: data steps ride out a flaky store; decisions and records must get through. */
// The heartbeat timeout retries a dead worker's step within half a minute (activities heartbeat while they run).
const data = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry: retryFor(5, '1 minute'),
});
const records = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: retryFor(10, '30 seconds'),
});
const checks = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: retryFor(3, '30 seconds'),
});

/**
 * The training pipeline: 12 steps, each one activity with its own retry policy, and a person's
 * decision between staging and production. A step that fails after its retries stops the run: nothing
 * after it runs, an alert is raised, and the workflow fails naming the step and the reason.
 */
export async function trainingPipeline(rawInput: TrainingInput): Promise<TrainingResult> {
  const input = parseWorkflowInput(TrainingInputSchema, rawInput, 'training input');
  if (input.from > input.to) throw invalidInput('training input', 'from is after to');
  const approval = new ApprovalGate(input.initiatedBy);
  const run = new PipelineRun('training', `${input.spec} ${input.from}..${input.to}`);
  const window = { spec: input.spec, from: input.from, to: input.to };
  // Each step takes the URIs of what the steps before it published; runs started before that share a
  // work area keyed by the run, and their steps take the window alone.
  const handsOverUris = patched('training-data-flow');
  const stepInput = (inputs: Record<string, string>) => (handsOverUris ? { ...window, inputs } : window);

  const plan = await run.step(
    'Planning',
    `reading spec ${input.spec}`,
    () => records.planTraining.executeWithOptions({ summary: `plan ${input.spec}` }, [window]),
    (p) => `model ${p.modelName}, feature set ${p.featureSet}@${p.featureSetVersion}, ${p.days} days`,
  );
  upsertSearchAttributes([{ key: ModelName, value: plan.modelName }]);
  approval.setModel(plan.modelName, plan.reviewers);
  run.watchSla(plan.slaHours);
  const subject = `${plan.modelName} ${input.from}..${input.to}`;

  const extracted = await run.step(
    'Extracting',
    `reading ${plan.days} feature partitions of ${plan.featureSet}@${plan.featureSetVersion} with labels`,
    () => data.extractTrainingWindow.executeWithOptions({ summary: `extract ${subject}` }, [stepInput({})]),
    (e) => `${e.rows} rows over ${e.days} days`,
  );
  run.progress.artifacts.window = extracted.uri;
  const validated = await run.step(
    'Validating',
    `quality gates on ${extracted.rows} rows`,
    () =>
      data.validateTrainingData.executeWithOptions({ summary: `validate ${subject}` }, [
        stepInput({ window: extracted.uri }),
      ]),
    (v) => `${v.checks.length} checks passed`,
  );
  const transformed = await run.step(
    'Transforming',
    'imputing with serving defaults and clamping to declared ranges',
    () =>
      data.transformTrainingData.executeWithOptions({ summary: `transform ${subject}` }, [
        stepInput({ window: extracted.uri }),
      ]),
    (t) => `${t.rows} labelled rows (${t.unlabelled} without a label set aside)`,
  );
  const matrix = await run.step(
    'Assembling',
    `feature matrix of ${transformed.rows} rows`,
    () =>
      data.assembleFeatureMatrix.executeWithOptions({ summary: `assemble ${subject}` }, [
        stepInput({ transformed: transformed.uri }),
      ]),
    (m) => `${m.rows} x ${m.features.length}, sha256 ${m.sha256.slice(0, 12)}`,
  );
  run.progress.artifacts.matrix = matrix.uri;
  const split = await run.step(
    'Splitting',
    'train < validation < test by day',
    () => data.splitByTime.executeWithOptions({ summary: `split ${subject}` }, [stepInput({ matrix: matrix.uri })]),
    (s) =>
      `train ${s.train.from}..${s.train.to} (${s.train.rows}), validation ${s.validation.from}..${s.validation.to} (${s.validation.rows}), test ${s.test.from}..${s.test.to} (${s.test.rows})`,
  );
  // The spec may send training to workers with its hardware or environment; the other steps stay here.
  const trainingQueue = plan.trainingTaskQueue;
  if (trainingQueue)
    await run.step(
      'WaitingForWorker',
      `for a worker on task queue ${trainingQueue}`,
      () => trainingWorker(run, subject, trainingQueue, plan.trainingWorkerAlertSeconds ?? 900),
      (w) => `${w.host} (pid ${w.pid}) polls ${trainingQueue}`,
    );
  const { trainModel } = proxyActivities<Activities>({
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: input.trainingHeartbeatTimeoutMs ?? 30_000,
    retry: retryFor(5, '1 minute'),
    ...(trainingQueue ? { taskQueue: trainingQueue } : {}),
  });
  const trained = await run.step(
    'Training',
    `${plan.modelType} on ${split.train.rows} rows, checkpointing every iteration`,
    () =>
      trainModel.executeWithOptions({ summary: `train ${subject}` }, [
        stepInput({ matrix: matrix.uri, split: split.uri, transformed: transformed.uri }),
      ]),
    (t) =>
      `${t.iterations} iterations, loss ${t.loss.toFixed(6)}${t.resumedFrom ? `, resumed at iteration ${t.resumedFrom}` : ''}`,
  );
  run.progress.artifacts.candidate = trained.uri;
  const evaluation = await run.step(
    'Evaluating',
    `test split ${split.test.from}..${split.test.to}, overall and per segment`,
    () =>
      data.evaluateModel.executeWithOptions({ summary: `evaluate ${subject}` }, [
        stepInput({ matrix: matrix.uri, split: split.uri, model: trained.uri }),
      ]),
    (e) => `test AUC ${e.test.overall.auc.toFixed(4)}, log loss ${e.test.overall.logLoss.toFixed(4)}`,
  );
  approval.view.evaluation = evaluation;
  const comparison = await run.step(
    'Comparing',
    'against production on the same test rows (or the naive baseline)',
    () =>
      data.compareWithProduction.executeWithOptions({ summary: `compare ${subject}` }, [
        stepInput({ matrix: matrix.uri, split: split.uri, model: trained.uri, evaluation: evaluation.uri }),
      ]),
    (c) => c.summary,
  );
  approval.view.comparison = comparison;

  const registered = await run.step(
    'Registering',
    'registering the candidate',
    () =>
      records.registerCandidate.executeWithOptions({ summary: `register ${subject}` }, [
        {
          ...stepInput({ matrix: matrix.uri, split: split.uri, model: trained.uri, evaluation: evaluation.uri }),
          initiatedBy: input.initiatedBy,
          reason: input.reason ?? `manual run by ${input.initiatedBy}`,
        },
      ]),
    (r) => `${plan.modelName} v${r.version} (${r.artifactUri})`,
  );
  approval.view.version = registered.version;
  run.progress.artifacts.model = registered.artifactUri;
  // The UI's memo tab: which version this run registered and where its files are.
  upsertMemo({
    modelVersion: registered.version,
    artifactUri: registered.artifactUri,
    trainingDataHash: matrix.sha256,
  });
  const version = { spec: input.spec, version: registered.version };
  const bias = await run.step(
    'BiasGate',
    'segment parity bounds',
    () =>
      checks.checkBiasGate.executeWithOptions({ summary: `bias gate ${plan.modelName} v${registered.version}` }, [
        version,
      ]),
    (b) => b.summary,
  );
  approval.view.bias = bias;
  await run.step(
    'Staging',
    `deploying v${registered.version} to staging`,
    () =>
      records.deployToStaging.executeWithOptions({ summary: `stage ${plan.modelName} v${registered.version}` }, [
        version,
      ]),
    () => 'staging',
  );
  const skew = await run.step(
    'SkewCheck',
    'scoring through the serving path against batch scores',
    () =>
      checks.checkServingSkew.executeWithOptions({ summary: `skew check ${plan.modelName} v${registered.version}` }, [
        version,
      ]),
    (s) => `${s.rows} rows, max |serving - batch| ${s.maxAbsDifference}`,
  );
  approval.view.skew = skew;
  // Only specs with a shadow period plan one, so runs planned before it existed replay unchanged.
  if (plan.shadowMinDays) approval.startShadow(plan.shadowMinDays);

  const decision = await approval.wait(run, input.approvalTimeoutMs ?? 72 * HOUR_MS);
  await run.step(
    'RecordingDecision',
    `${decision.decision} by ${decision.reviewer}`,
    () =>
      records.recordApprovalDecision.executeWithOptions(
        { summary: `${decision.decision} ${plan.modelName} v${registered.version}` },
        [{ ...version, ...decision }],
      ),
    () => 'recorded',
  );
  if (decision.decision !== 'approve') {
    const timedOut = decision.decision === 'timeout';
    const type = timedOut ? ErrorTypes.ApprovalTimedOut : ErrorTypes.ApprovalRejected;
    const message = timedOut
      ? `no reviewer decided before ${decision.reason}`
      : `rejected by ${decision.reviewer}: ${decision.reason}`;
    run.stage(timedOut ? 'TimedOut' : 'Rejected', message);
    await run.alert(timedOut ? 'warning' : 'info', type, `${plan.modelName} v${registered.version}: ${message}`, {
      details: { version: registered.version, reviewers: plan.reviewers },
    });
    throw ApplicationFailure.create({
      message: `${plan.modelName} v${registered.version} ${message}`,
      type,
      nonRetryable: true,
      details: [decision],
    });
  }

  const promoted = await run.step(
    'Promoting',
    `v${registered.version} to production, approved by ${decision.reviewer}`,
    () =>
      records.promoteModel.executeWithOptions({ summary: `promote ${plan.modelName} v${registered.version}` }, [
        { ...version, approvedBy: decision.reviewer, comment: decision.reason },
      ]),
    (p) =>
      `production v${registered.version}${p.previous ? `, v${p.previous} archived` : ''}; baseline ${p.baselineUri}`,
  );
  run.progress.artifacts.baseline = promoted.baselineUri;
  upsertMemo({ baselineUri: promoted.baselineUri });
  run.complete(
    `${plan.modelName} v${registered.version} in production (test AUC ${evaluation.test.overall.auc.toFixed(4)}), approved by ${decision.reviewer}`,
  );
  log.info('training complete', {
    model: plan.modelName,
    version: registered.version,
    checks: validated.checks.length,
    trainingDataHash: matrix.sha256,
    iterations: trained.iterations,
  });
  return {
    modelName: plan.modelName,
    version: registered.version,
    promoted: true,
    previousVersion: promoted.previous,
    approvedBy: decision.reviewer,
    artifactUri: registered.artifactUri,
    baselineUri: promoted.baselineUri,
  };
}

/**
 * The human gate: approve/reject signals, the `decide` Update (same rules, but the reviewer gets an
 * answer), the `approval` query, and the deadline. The first valid decision wins; anything after it
 * changes nothing. Handlers exist from the first line of the run, so an early signal is refused
 * visibly rather than lost.
 */
/**
 * Waits for a worker on the training queue: a no-op answered there before the long step is scheduled,
 * so the run shows it is waiting. Past the spec's bound an alert names the queue; the run keeps waiting
 * (a schedule-to-start timeout is not retried, so the second call has none).
 */
async function trainingWorker(
  run: PipelineRun,
  subject: string,
  taskQueue: string,
  alertAfterSeconds: number,
): Promise<{ host: string; pid: number }> {
  const ready = (scheduleToStartTimeout?: number) =>
    proxyActivities<Activities>({
      taskQueue,
      startToCloseTimeout: '1 minute',
      retry: retryFor(10, '30 seconds'),
      ...(scheduleToStartTimeout ? { scheduleToStartTimeout } : {}),
    }).trainingWorkerReady.executeWithOptions({ summary: `a worker on ${taskQueue}` }, []);
  try {
    return await ready(alertAfterSeconds * 1000);
  } catch (error) {
    const timedOut = error instanceof ActivityFailure && error.cause instanceof TimeoutFailure;
    if (!timedOut || error.cause.timeoutType !== 'SCHEDULE_TO_START') throw error;
    await run.alert(
      'warning',
      'NoTrainingWorker',
      `${subject}: no worker took the training step on task queue ${taskQueue} for ${alertAfterSeconds} s; the run waits for one (\`mlpipe worker --task-queue ${taskQueue}\`)`,
      {
        subject: taskQueue,
        observed: `no worker on ${taskQueue} for ${alertAfterSeconds} s`,
        expected: 'a worker polling it',
      },
    );
    return ready();
  }
}

class ApprovalGate {
  readonly view: ApprovalView;
  private waiting = false;
  private ignored: { reviewer: string; decision: string; why: string }[] = [];
  /** Workflow time before which an approval is refused: the candidate must run in shadow until then. */
  private shadowUntil?: number;
  private shadowDays = 0;

  constructor(private readonly initiatedBy: string) {
    this.view = { status: 'not-ready', modelName: '', initiatedBy, reviewers: [] };
    setHandler(approvalQuery, () => ({
      ...this.view,
      ...(this.ignored.length ? { ignoredSignals: this.ignored } : {}),
    }));
    setHandler(approveSignal, (s) => this.fromSignal({ decision: 'approve', ...s }));
    setHandler(rejectSignal, (s) => this.fromSignal({ decision: 'reject', ...s }));
    setHandler(decideUpdate, (request) => this.decide(request), {
      validator: (request) => {
        const refusal = this.refusal(request);
        if (refusal) throw new Error(refusal);
      },
    });
  }

  setModel(modelName: string, reviewers: string[]): void {
    this.view.modelName = modelName;
    this.view.reviewers = reviewers;
  }

  /** The spec's shadow period starts now (the candidate is staged): approvals wait for its end. */
  startShadow(days: number): void {
    this.shadowDays = days;
    this.shadowUntil = Date.now() + days * 24 * 3_600_000;
    this.view.shadowUntil = new Date(this.shadowUntil).toISOString();
  }

  async wait(run: PipelineRun, timeoutMs: number): Promise<ApprovalDecision> {
    const deadline = new Date(Date.now() + timeoutMs).toISOString();
    this.view.deadline = deadline;
    this.view.status = 'waiting';
    this.waiting = true;
    run.stage(
      'AwaitingApproval',
      `v${this.view.version} waits for one of ${this.view.reviewers.join(', ')} until ${deadline}`,
    );
    const decided = await condition(() => this.view.decision !== undefined, timeoutMs);
    this.waiting = false;
    if (!decided)
      this.view.decision = {
        decision: 'timeout',
        reviewer: 'deadline',
        reason: deadline,
        at: new Date().toISOString(),
      };
    this.view.status = 'decided';
    return this.view.decision!;
  }

  /** Why a decision cannot be taken now, or undefined when it can. Pure: validators must not change state. */
  private refusal(request: DecideRequest): string | undefined {
    // A signal's payload is whatever the sender sent (a bare `temporal workflow signal` sends none).
    if (typeof request !== 'object' || request === null)
      return 'a decision is { reviewer, comment } or { reviewer, reason }';
    if (this.view.decision) return `already decided: ${this.view.decision.decision} by ${this.view.decision.reviewer}`;
    if (!this.waiting) return `the run is not waiting for approval (stage ${this.view.status})`;
    if (!this.view.reviewers.includes(request.reviewer))
      return `${request.reviewer} is not a reviewer of ${this.view.modelName} (reviewers: ${this.view.reviewers.join(', ')})`;
    if (request.reviewer === this.initiatedBy)
      return `${request.reviewer} started this run: another reviewer must decide (four eyes)`;
    if (request.decision === 'reject' && (typeof request.reason !== 'string' || !request.reason.trim()))
      return 'a rejection needs a reason';
    if (request.decision === 'approve' && request.comment !== undefined && typeof request.comment !== 'string')
      return 'a comment must be text';
    if (request.decision === 'approve' && this.shadowUntil !== undefined && Date.now() < this.shadowUntil)
      return `v${this.view.version} runs in shadow until ${this.view.shadowUntil} (the spec asks for ${this.shadowDays} day(s) before promotion): approve after that, or reject`;
    return undefined;
  }

  private decide(request: DecideRequest): ApprovalDecision {
    const refusal = this.refusal(request);
    if (refusal) throw ApplicationFailure.nonRetryable(refusal, ErrorTypes.InvalidInput);
    const reason = request.decision === 'approve' ? (request.comment ?? '') : request.reason;
    this.view.decision = {
      decision: request.decision,
      reviewer: request.reviewer,
      reason,
      at: new Date().toISOString(),
    };
    log.info(`${request.decision} by ${request.reviewer}`, { reviewer: request.reviewer, reason });
    return this.view.decision;
  }

  /** A signal cannot be answered: a refused one is logged and shown in the query, and changes nothing. */
  private fromSignal(request: DecideRequest): void {
    const refusal = this.refusal(request);
    if (!refusal) {
      this.decide(request);
      return;
    }
    const { decision, reviewer } = (request ?? {}) as Partial<DecideRequest>;
    log.warn(`ignored ${String(decision)} signal from ${String(reviewer)}: ${refusal}`);
    if (this.ignored.length < 20)
      this.ignored.push({ reviewer: String(reviewer), decision: String(decision), why: refusal });
  }
}
