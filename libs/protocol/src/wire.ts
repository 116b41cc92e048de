// The worker <-> coordinator websocket protocol: JSON messages, each validated with zod on receipt.
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;
/** Largest websocket message either side accepts. */
export const MAX_MESSAGE_BYTES = 1 << 20;
export const WORKER_PATH = '/worker';

const id = z.string().min(1).max(100);
const msgId = z.string().min(1).max(100);
const attempt = z.number().int().min(1).max(1_000_000);
const finite = z.number().finite();
/** A perplexity is exp(cross-entropy) ≥ 1: anything below is not a measurement. */
const perplexity = finite.min(1, 'a perplexity is at least 1 (the exponential of a cross-entropy)');

export const MetricPoint = z.object({
  step: z.number().int().min(0),
  epoch: finite.min(0),
  name: z.string().min(1).max(100),
  value: z.number(), // NaN/Inf are meaningful (divergence), JSON carries them as null
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
  /** Rank of each block. */
  ranks: z.array(z.number().int().min(0)).max(100_000),
  seconds: finite.min(0),
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
  matrices: z.record(z.string(), CompressedMatrixReport),
  /** Perplexities right after compression, before fine-tuning. */
  validPplBefore: perplexity,
  testPplBefore: perplexity,
  finetuneSteps: z.number().int().min(0),
});
export type CompressionReport = z.infer<typeof CompressionReport>;

export const TrialResult = z.object({
  /** Exact number of trainable parameters of the model. */
  params: z.number().int().min(0),
  /** Parameters per named layer/matrix. */
  paramsByLayer: z.record(z.string(), z.number().int().min(0)),
  validPpl: perplexity,
  testPpl: perplexity,
  trainLoss: finite.optional(),
  steps: z.number().int().min(0),
  tokens: z.number().int().min(0),
  seconds: finite.min(0),
  tokensPerSecond: finite.min(0),
  vocabSize: z.number().int().min(1),
  backend: z.string().max(100),
  /** Compression trials only. */
  compression: CompressionReport.optional(),
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

// ---- worker -> coordinator ----
export const HelloMsg = z.object({
  type: z.literal('hello'),
  msgId,
  protocol: z.number().int(),
  /** Sent again on reconnect so the coordinator keeps one row per worker… */
  workerId: id.optional(),
  /** …with the key its first welcome gave it: an id alone does not make a worker. */
  workerKey: z.string().max(200).optional(),
  name: z.string().min(1).max(200),
  host: z.string().min(1).max(200),
  backend: z.string().min(1).max(100),
  device: z.string().min(1).max(300),
  version: z.string().min(1).max(50),
  token: z.string().max(500).optional(),
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
});
export const CompleteMsg = z.object({ type: z.literal('complete'), msgId, trialId: id, attempt, result: TrialResult });
export const FailMsg = z.object({
  type: z.literal('fail'),
  msgId,
  trialId: id,
  attempt,
  /** error: the trial threw; diverged: loss became NaN/Inf; oom: out of memory. */
  kind: z.enum(['error', 'diverged', 'oom']),
  error: z.string().max(20_000),
  /** Whether another attempt may succeed (a diverged run with the same seed will not). */
  retryable: z.boolean(),
});
/** The worker gives a trial back unfinished (SIGINT): it is requeued without counting an attempt against it. */
export const ReleaseMsg = z.object({ type: z.literal('release'), msgId, trialId: id, attempt, reason: z.string().max(1000) });

export const WorkerMessage = z.discriminatedUnion('type', [HelloMsg, ClaimMsg, HeartbeatMsg, MetricMsg, CompleteMsg, FailMsg, ReleaseMsg]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;
export type HelloMsg = z.infer<typeof HelloMsg>;
export type HeartbeatMsg = z.infer<typeof HeartbeatMsg>;
export type MetricMsg = z.infer<typeof MetricMsg>;
export type CompleteMsg = z.infer<typeof CompleteMsg>;
export type FailMsg = z.infer<typeof FailMsg>;
export type ReleaseMsg = z.infer<typeof ReleaseMsg>;

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
});
export type AssignedTrial = z.infer<typeof AssignedTrial>;

export const WelcomeMsg = z.object({
  type: z.literal('welcome'),
  replyTo: msgId,
  workerId: id,
  /** The worker's secret: sent back in a reconnecting hello and with checkpoint uploads. */
  workerKey: z.string().min(1).max(200),
  leaseMs: z.number().int().positive(),
  heartbeatMs: z.number().int().positive(),
  protocol: z.number().int(),
});
export const AssignMsg = z.object({ type: z.literal('assign'), replyTo: msgId, trial: AssignedTrial });
export const IdleMsg = z.object({ type: z.literal('idle'), replyTo: msgId, retryMs: z.number().int().min(0) });
export const AckMsg = z.object({ type: z.literal('ack'), replyTo: msgId, duplicate: z.boolean().optional() });
export const ErrorMsg = z.object({ type: z.literal('error'), replyTo: msgId.optional(), code: ErrorCode, message: z.string(), trialId: id.optional() });
/** Stop this trial now (sweep cancelled, or the lease is no longer yours). */
export const CancelMsg = z.object({ type: z.literal('cancel'), trialId: id, attempt, reason: z.string() });

export const CoordinatorMessage = z.discriminatedUnion('type', [WelcomeMsg, AssignMsg, IdleMsg, AckMsg, ErrorMsg, CancelMsg]);
export type CoordinatorMessage = z.infer<typeof CoordinatorMessage>;

/** JSON with NaN/±Infinity kept as strings, so a diverged value survives the wire. */
export function encodeMessage(msg: unknown): string {
  return JSON.stringify(msg, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}
export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_k, v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v));
}
