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

export const MetricPoint = z.object({
  step: z.number().int().min(0),
  epoch: finite.min(0),
  name: z.string().min(1).max(100),
  value: z.number(), // NaN/Inf are meaningful (divergence), JSON carries them as null
});
export type MetricPoint = z.infer<typeof MetricPoint>;

export const TrialResult = z.object({
  /** Exact number of trainable parameters of the model. */
  params: z.number().int().min(0),
  /** Parameters per named layer/matrix. */
  paramsByLayer: z.record(z.string(), z.number().int().min(0)),
  validPpl: finite.positive(),
  testPpl: finite.positive(),
  trainLoss: finite.optional(),
  steps: z.number().int().min(0),
  tokens: z.number().int().min(0),
  seconds: finite.min(0),
  tokensPerSecond: finite.min(0),
  vocabSize: z.number().int().min(1),
  backend: z.string().max(100),
});
export type TrialResult = z.infer<typeof TrialResult>;

// ---- worker -> coordinator ----
export const HelloMsg = z.object({
  type: z.literal('hello'),
  msgId,
  protocol: z.number().int(),
  /** Sent again on reconnect so the coordinator keeps one row per worker. */
  workerId: id.optional(),
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
});
export type AssignedTrial = z.infer<typeof AssignedTrial>;

export const WelcomeMsg = z.object({
  type: z.literal('welcome'),
  replyTo: msgId,
  workerId: id,
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
