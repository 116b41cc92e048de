// The worker <-> coordinator websocket protocol: JSON messages, each validated with zod on receipt.
import { z } from 'zod';
import { INT4_MAX, storableText, UNSTORABLE_MESSAGE } from './storable.ts';
import { SlurmJobId } from './slurm.ts';

export const PROTOCOL_VERSION = 1;
/** Largest websocket message either side accepts. */
export const MAX_MESSAGE_BYTES = 1 << 20;
export const WORKER_PATH = '/worker';

/** A string of min..max characters the database can store (every string a worker sends is one). */
const text = (min: number, max: number) => z.string().min(min).max(max).refine(storableText, UNSTORABLE_MESSAGE);
const id = text(1, 100);
const msgId = text(1, 100);
/** What the coordinator echoes back: the worker's msgId as it came. */
const replyTo = z.string().min(1).max(100);
const attempt = z.number().int().min(1).max(1_000_000);
const finite = z.number().finite();
/** An integer stored in an int4 column. */
const int4 = z.number().int().min(0).max(INT4_MAX);
/** Any number, NaN and ±Infinity included (zod's z.number() refuses them); on the wire they are tagged (encodeMessage). */
const anyNumber = z.custom<number>((v) => typeof v === 'number', 'expected a number (NaN and ±Infinity are sent as {"$f": "NaN" | "Infinity" | "-Infinity"})');
/** A perplexity is exp(cross-entropy) ≥ 1: anything below is not a measurement. */
const perplexity = finite.min(1, 'a perplexity is at least 1 (the exponential of a cross-entropy)');

export const MetricPoint = z.object({
  step: int4,
  epoch: finite.min(0),
  name: text(1, 100),
  /** NaN/±Infinity are meaningful (the point where a run diverged) and are stored as they are. */
  value: anyNumber,
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/** One compressed matrix of a compression trial (N words × D). */
export const CompressedMatrixReport = z.object({
  rows: z.number().int().min(1),
  cols: z.number().int().min(1),
  /** Parameters of the factorized form (the word → block map is an index, not counted). */
  params: z.number().int().min(0),
  /** rows·cols / params, as achieved. */
  rate: finite.positive(),
  /** Frequency-weighted relative reconstruction error Σ qᵢ‖Aᵢ − Âᵢ‖² / Σ qᵢ‖Aᵢ‖² (q: train frequencies). */
  werr: finite.min(0),
  /** The same error with every word weighing alike, Σ ‖Aᵢ − Âᵢ‖² / Σ ‖Aᵢ‖² (absent in results from before it was reported). */
  error: finite.min(0).optional(),
  /** Rank of each block. */
  ranks: z.array(z.number().int().min(0)).max(100_000),
  seconds: finite.min(0),
  /**
   * GroupReduce's refinement: the words that changed block in each iteration, the weighted error
   * of each iterate fitted (werr[0]: the dynamic-rank start), and the iterate kept (the least error).
   */
  refinement: z
    .object({
      moved: z.array(z.number().int().min(0)).max(100),
      werr: z.array(finite.min(0)).max(101),
      kept: z.number().int().min(0).max(100),
    })
    .optional(),
});
export type CompressedMatrixReport = z.infer<typeof CompressedMatrixReport>;

/** What a compression trial adds to its result. */
export const CompressionReport = z.object({
  /** The trial whose checkpoint was compressed. */
  baselineTrialId: id,
  /** Parameters of the baseline model. */
  baselineParams: z.number().int().min(0),
  /** Validation perplexity of the baseline checkpoint, measured again by this trial. */
  baselineValidPpl: perplexity,
  matrices: z.record(text(0, 200), CompressedMatrixReport),
  /** Perplexities right after compression, before fine-tuning. */
  validPplBefore: perplexity,
  testPplBefore: perplexity,
  finetuneSteps: z.number().int().min(0),
});
export type CompressionReport = z.infer<typeof CompressionReport>;

/**
 * What a trial that starts from its baseline's checkpoint (a compression method, or the
 * dense + fine-tune control) adds to its result: its fine-tuning. The result's validPpl and
 * testPpl are those of the best validation point, at bestStep (0: before fine-tuning).
 */
export const FinetuneReport = z.object({
  /** The trial whose checkpoint it started from. */
  baselineTrialId: id,
  /** Fine-tuning steps trained (the result's steps). */
  steps: z.number().int().min(0),
  /** The learning rate it fine-tuned at (compress.finetune.lr, or the baseline's final rate). */
  lr: finite.positive(),
  /** Before the first step (for a compression trial: right after compression). */
  validPplBefore: perplexity,
  testPplBefore: perplexity,
  /** After the last step. */
  validPplLast: perplexity,
  testPplLast: perplexity,
  /** The step of the lowest validation perplexity, whose weights the result reports. */
  bestStep: z.number().int().min(0),
});
export type FinetuneReport = z.infer<typeof FinetuneReport>;

export const TrialResult = z.object({
  /** Exact number of trainable parameters of the model (an int4 column). */
  params: int4,
  /** Parameters per named layer/matrix. */
  paramsByLayer: z.record(text(0, 200), z.number().int().min(0)),
  validPpl: perplexity,
  testPpl: perplexity,
  /** Finite: a run whose loss stops being finite fails as diverged (and a result is stored as jsonb, which has no NaN). */
  trainLoss: finite.optional(),
  steps: z.number().int().min(0),
  tokens: z.number().int().min(0),
  seconds: finite.min(0),
  tokensPerSecond: finite.min(0),
  vocabSize: z.number().int().min(1),
  backend: text(0, 100),
  /** Compression trials only. */
  compression: CompressionReport.optional(),
  /** Compression trials and the dense + fine-tune control. */
  finetune: FinetuneReport.optional(),
});
export type TrialResult = z.infer<typeof TrialResult>;

/**
 * Checkpoints travel over HTTP beside the websocket, with the worker token as a bearer token:
 * PUT (the worker holding the lease; headers x-lmsweep-worker, x-lmsweep-worker-key and x-lmsweep-attempt fence it)
 * and GET (any worker).
 */
export const ARTIFACT_PATH = '/artifacts';
export function artifactPath(trialId: string, name = 'checkpoint'): string {
  return `${ARTIFACT_PATH}/${encodeURIComponent(trialId)}/${encodeURIComponent(name)}`;
}
/**
 * Largest checkpoint the coordinator accepts: 512 MiB, 134M float32 parameters. The store keeps
 * it in chunks of 4 MiB (base64 text rows), so no one value or string holds it whole (one base64
 * value passed V8's 0x1fffffe8-character string limit above 384 MiB); measured at the limit:
 * PostgreSQL 15 s up, 6 s down, PGlite on disk 16 s and 3 s.
 */
export const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;

/** The artifact a trial pausing in `attempt` stores its resume checkpoint under (PUT artifactPath(trialId, name) before `paused`). */
export function resumeArtifactName(attempt: number): string {
  return `resume-${attempt}`;
}

/** How long a worker waits for the verdict on a judged validation point before it trains on without one. */
export const VERDICT_WAIT_MS = 30_000;

/**
 * The coordinator's verdict on a judged trial's validation point at `step` (libs/search's prune
 * decision). continue: train on. stop: the trial is pruned (already recorded: its lease is over;
 * the worker drops it and sends nothing more). pause: store the resume checkpoint taken right
 * after `step` (PUT artifactPath(trialId, resumeArtifactName(attempt))), then send `paused`.
 */
export const PruneVerdict = z.discriminatedUnion('action', [
  z.object({ action: z.literal('continue'), step: int4 }),
  z.object({
    action: z.enum(['stop', 'pause']),
    step: int4,
    /** The ASHA rung judged at; null for the median pruner and a configuration stopped through another seed. */
    rung: z.number().int().min(0).nullable(),
    /** The configuration's value judged (NaN/±Infinity for a diverged one). */
    value: anyNumber,
    threshold: finite.nullable(),
    reason: z.string().max(2000),
  }),
]);
export type PruneVerdict = z.infer<typeof PruneVerdict>;

// ---- worker -> coordinator ----
export const HelloMsg = z.object({
  type: z.literal('hello'),
  msgId,
  protocol: z.number().int(),
  /** Sent again on reconnect so the coordinator keeps one row per worker… */
  workerId: id.optional(),
  /** …with the key its first welcome gave it: an id alone does not make a worker. */
  workerKey: text(0, 200).optional(),
  name: text(1, 200),
  host: text(1, 200),
  backend: text(1, 100),
  device: text(1, 300),
  version: text(1, 50),
  token: text(0, 500).optional(),
  /** The Slurm job the worker runs in ("1234_0": array job 1234, task 0), when Slurm started it. */
  slurmJob: SlurmJobId.optional(),
});
export const ClaimMsg = z.object({ type: z.literal('claim'), msgId });
export const HeartbeatMsg = z.object({
  type: z.literal('heartbeat'),
  msgId,
  trialId: id,
  attempt,
  progress: z.number().min(0).max(1),
  etaSeconds: finite.min(0).optional(),
});
export const MetricMsg = z.object({
  type: z.literal('metric'),
  msgId,
  trialId: id,
  attempt,
  points: z.array(MetricPoint).min(1).max(2000),
  /**
   * A judged trial waits for the verdict on this message's last valid_ppl point (one before its
   * last step): the coordinator judges it and answers with the verdict. Absent: stored, not judged.
   */
  judge: z.boolean().optional(),
});
export const CompleteMsg = z.object({ type: z.literal('complete'), msgId, trialId: id, attempt, result: TrialResult });
export const FailMsg = z.object({
  type: z.literal('fail'),
  msgId,
  trialId: id,
  attempt,
  /** error: the trial threw; diverged: loss became NaN/Inf; oom: out of memory. */
  kind: z.enum(['error', 'diverged', 'oom']),
  error: text(0, 20_000),
  /** Whether another attempt may succeed (a diverged run with the same seed will not). */
  retryable: z.boolean(),
});
/**
 * The trial paused at `step` as its verdict said: its resume checkpoint is stored (artifact
 * resumeArtifactName(attempt)). The trial waits, its lease over, until it is promoted or its rung closes.
 */
export const PausedMsg = z.object({
  type: z.literal('paused'),
  msgId,
  trialId: id,
  attempt,
  step: int4,
  /** The resume checkpoint's digest, as uploaded. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Wall seconds of the trial so far, earlier runs of it included. */
  seconds: finite.min(0),
});
/** The worker gives a trial back unfinished (SIGINT): it is requeued without counting an attempt against it. */
export const ReleaseMsg = z.object({ type: z.literal('release'), msgId, trialId: id, attempt, reason: text(0, 1000) });

export const WorkerMessage = z.discriminatedUnion('type', [HelloMsg, ClaimMsg, HeartbeatMsg, MetricMsg, CompleteMsg, FailMsg, ReleaseMsg, PausedMsg]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;
export type HelloMsg = z.infer<typeof HelloMsg>;
export type HeartbeatMsg = z.infer<typeof HeartbeatMsg>;
export type MetricMsg = z.infer<typeof MetricMsg>;
export type CompleteMsg = z.infer<typeof CompleteMsg>;
export type FailMsg = z.infer<typeof FailMsg>;
export type ReleaseMsg = z.infer<typeof ReleaseMsg>;
export type PausedMsg = z.infer<typeof PausedMsg>;

// ---- coordinator -> worker ----
export const ErrorCode = z.enum(['BAD_MESSAGE', 'UNAUTHORIZED', 'NOT_HELLO', 'LEASE_LOST', 'NOT_FOUND', 'INTERNAL']);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const AssignedTrial = z.object({
  id,
  sweepId: id,
  attempt,
  seed: z.number().int(),
  method: z.string(),
  config: z.unknown(),
  /**
   * A compression trial's baseline: download its checkpoint (GET artifactPath(trialId)) and
   * check its sha256 before compressing it.
   */
  parent: z.object({ trialId: id, sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) }).optional(),
  /** Other trials start from this one: upload its checkpoint (PUT artifactPath) before `complete`. */
  saveCheckpoint: z.boolean().optional(),
  /**
   * A pruned sweep's trial: the coordinator judges its validation points (valid_ppl) before its
   * last step. The worker sends each in a metric message with `judge`, whose answer (ack) carries
   * the verdict, and waits for it before training past that step (or goes on when none comes
   * within VERDICT_WAIT_MS).
   */
  judged: z.boolean().optional(),
  /**
   * A paused trial promoted: continue from its resume checkpoint (GET artifactPath(id, name), check
   * its sha256) after `step`, instead of starting it. Its metric points from here on are steps after `step`.
   */
  resume: z.object({ name: text(1, 200), step: int4, sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) }).optional(),
});
export type AssignedTrial = z.infer<typeof AssignedTrial>;

export const WelcomeMsg = z.object({
  type: z.literal('welcome'),
  replyTo,
  workerId: id,
  /** The worker's secret: sent back in a reconnecting hello and with checkpoint uploads. */
  workerKey: z.string().min(1).max(200),
  leaseMs: z.number().int().positive(),
  heartbeatMs: z.number().int().positive(),
  protocol: z.number().int(),
});
export const AssignMsg = z.object({ type: z.literal('assign'), replyTo, trial: AssignedTrial });
export const IdleMsg = z.object({ type: z.literal('idle'), replyTo, retryMs: z.number().int().min(0) });
export const AckMsg = z.object({
  type: z.literal('ack'),
  replyTo,
  duplicate: z.boolean().optional(),
  /** On a judged trial's metric message holding a validation point: the verdict on it (the last such point's). */
  verdict: PruneVerdict.optional(),
});
export const ErrorMsg = z.object({ type: z.literal('error'), replyTo: replyTo.optional(), code: ErrorCode, message: z.string(), trialId: id.optional() });
/** Stop this trial now (sweep cancelled, or the lease is no longer yours). */
export const CancelMsg = z.object({ type: z.literal('cancel'), trialId: id, attempt, reason: z.string() });

export const CoordinatorMessage = z.discriminatedUnion('type', [WelcomeMsg, AssignMsg, IdleMsg, AckMsg, ErrorMsg, CancelMsg]);
export type CoordinatorMessage = z.infer<typeof CoordinatorMessage>;

// ---- encoding ----

/**
 * JSON has no NaN or ±Infinity: a non-finite number travels as an object with one key, `$f`,
 * naming it ({"$f": "NaN"}, {"$f": "Infinity"}, {"$f": "-Infinity"}). Only that exact form
 * decodes to a number; every string, "NaN" included, stays a string.
 */
export const NON_FINITE_TAG = '$f';
export type NonFiniteName = 'NaN' | 'Infinity' | '-Infinity';
const NON_FINITE = new Map<string, number>([
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
]);

/** The name of a non-finite number ('NaN', 'Infinity', '-Infinity'); null for a finite one. */
export function nonFiniteName(x: number): NonFiniteName | null {
  return Number.isFinite(x) ? null : (String(x) as NonFiniteName);
}

/** A message as JSON text, non-finite numbers tagged. */
export function encodeMessage(msg: unknown): string {
  return JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { [NON_FINITE_TAG]: String(v) } : v));
}

function reviveNonFinite(_k: string, v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  if (keys.length !== 1 || keys[0] !== NON_FINITE_TAG) return v;
  const name = (v as Record<string, unknown>)[NON_FINITE_TAG];
  return typeof name === 'string' && NON_FINITE.has(name) ? NON_FINITE.get(name) : v;
}

/** Parses JSON text, turning tagged non-finite numbers back into numbers (throws on invalid JSON). */
export function decodeJson(json: string): unknown {
  // The tag's key is written either as "$f" or with a \u escape: without either, plain JSON.parse.
  return json.includes('$') || json.includes('\\u') ? JSON.parse(json, reviveNonFinite) : JSON.parse(json);
}
