// lmsweep compress: compress a matrix (.npy, N×D) with word frequencies (.npy, N) by one method
// or all of them at a target rate; a table row or one JSON line per method. A method that cannot
// meet the rate gets its own error row while the others run, and the exit status is then 1.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkMatrix, compress, COMPRESSION_METHODS, matrix, normalizeFrequencies, parseNpy, RateError, weightedError, type CompressionMethod, type Matrix } from '@lmsweep/algorithms';
import { table } from './format.ts';

export const COMPRESS_USAGE = `lmsweep compress --method M --matrix A.npy --freq q.npy --rate R [--blocks c] [--iters t] [--tolerance x] [--json]
      M: ${COMPRESSION_METHODS.join('|')}|all; A: float32/float64 N×D, q: N non-negative frequencies;
      R: target compression rate N·D / parameters (met within --tolerance, default 0.01);
      c: frequency blocks (default 10); t: GroupReduce refinement iterations (default 5);
      a method that cannot meet R gets an error row (the nearest rates it can meet), the others
      still run; exit status 1 when any row is an error, 0 when every method met R`;

/** A bad flag or input file: the message says which. */
export class CompressUsageError extends Error {}

export interface CompressResult {
  method: CompressionMethod;
  params: number;
  rate: number;
  werr: number;
  seconds: number;
  ranks: number[];
}

/** A method that cannot meet the rate: why, and the achieved rates nearest it that it can meet. */
export interface CompressFailure {
  method: CompressionMethod;
  error: string;
  nearest: number[];
}

function readMatrix(path: string, flag: string): { data: Float32Array | Float64Array; shape: number[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CompressUsageError(`--${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parseNpy(bytes, `--${flag} ${path}`);
  } catch (e) {
    throw new CompressUsageError((e as Error).message);
  }
}

function positiveNumber(v: string | undefined, flag: string, integer: boolean, fallback?: number): number {
  if (v === undefined) {
    if (fallback === undefined) throw new CompressUsageError(`--${flag} is required`);
    return fallback;
  }
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < (integer && flag === 'iters' ? 0 : Number.MIN_VALUE)) {
    throw new CompressUsageError(`--${flag} must be a ${integer ? (flag === 'iters' ? 'non-negative integer' : 'positive integer') : 'positive number'}, got "${v}"`);
  }
  return n;
}

/**
 * Runs `lmsweep compress` with argv (the arguments after "compress"); writes lines through `out`.
 * Returns the exit code: 0 when every method met the rate, 1 when any could not (its row says
 * why, with the nearest rates it can meet). Throws CompressUsageError for bad flags or files.
 */
export async function runCompress(argv: string[], out: (s: string) => void): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        method: { type: 'string' },
        matrix: { type: 'string' },
        freq: { type: 'string' },
        rate: { type: 'string' },
        blocks: { type: 'string' },
        iters: { type: 'string' },
        tolerance: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    throw new CompressUsageError((e as Error).message);
  }
  if (values.help) {
    out(COMPRESS_USAGE);
    return 0;
  }
  const method = values.method as string | undefined;
  if (!method) throw new CompressUsageError(`--method is required: one of ${COMPRESSION_METHODS.join(', ')}, all`);
  if (method !== 'all' && !COMPRESSION_METHODS.includes(method as CompressionMethod)) throw new CompressUsageError(`--method must be one of ${COMPRESSION_METHODS.join(', ')}, all; got "${method}"`);
  if (!values.matrix) throw new CompressUsageError('--matrix A.npy is required');
  if (!values.freq) throw new CompressUsageError('--freq q.npy is required');
  const rate = positiveNumber(values.rate as string | undefined, 'rate', false);
  const blocks = positiveNumber(values.blocks as string | undefined, 'blocks', true, 10);
  const iters = positiveNumber(values.iters as string | undefined, 'iters', true, 5);
  const tolerance = positiveNumber(values.tolerance as string | undefined, 'tolerance', false, 0.01);

  const a = readMatrix(values.matrix as string, 'matrix');
  if (a.shape.length !== 2) throw new CompressUsageError(`--matrix ${values.matrix}: expected a 2-D array (N words × D), got shape (${a.shape.join(', ')})`);
  const [N, D] = a.shape as [number, number];
  if (N < 1 || D < 1) throw new CompressUsageError(`--matrix ${values.matrix}: empty array of shape (${N}, ${D})`);
  const q = readMatrix(values.freq as string, 'freq');
  const qn = q.shape.reduce((x, y) => x * y, 1);
  if (q.shape.length > 2 || (q.shape.length === 2 && q.shape[1] !== 1) || qn !== N) {
    throw new CompressUsageError(`--freq ${values.freq}: expected ${N} frequencies (one per row of --matrix), got shape (${q.shape.join(', ')})`);
  }
  const A: Matrix = matrix(a.data, N, D);
  try {
    checkMatrix(A, `--matrix ${values.matrix}`);
    normalizeFrequencies(q.data, N, `--freq ${values.freq}`);
  } catch (e) {
    throw new CompressUsageError((e as Error).message);
  }
  const methods = method === 'all' ? [...COMPRESSION_METHODS] : [method as CompressionMethod];
  const rows: (CompressResult | CompressFailure)[] = [];
  for (const m of methods) {
    const t0 = performance.now();
    let row: CompressResult | CompressFailure;
    try {
      const f = compress(m, A, q.data, { rate, blocks, iters, tolerance });
      const seconds = (performance.now() - t0) / 1000;
      row = { method: m, params: f.params, rate: f.rate, werr: weightedError(A, q.data, f), seconds, ranks: f.blocks.map((b) => b.rank) };
    } catch (e) {
      if (!(e instanceof RateError)) throw e;
      row = { method: m, error: e.message, nearest: e.nearest };
    }
    rows.push(row);
    if (values.json) out(JSON.stringify(row));
  }
  const failed = rows.filter((r): r is CompressFailure => 'error' in r);
  if (!values.json) {
    out(`${N}×${D} (${N * D} parameters), target rate ${rate}${methods.some((m) => m !== 'svd' && m !== 'weighted-svd') ? `, ${blocks} blocks` : ''}`);
    out(
      table(
        ['method', 'ranks', 'params', 'rate', 'weighted error', 'seconds'],
        rows.map((r) => ('error' in r ? [r.method, 'refused (below)', '-', '-', '-', '-'] : [r.method, summarizeRanks(r.ranks), r.params, r.rate.toFixed(3), r.werr.toExponential(4), r.seconds.toFixed(2)])),
      ),
    );
    for (const f of failed) out(f.error);
  }
  return failed.length > 0 ? 1 : 0;
}

function summarizeRanks(ranks: number[]): string {
  return ranks.length <= 6 ? ranks.join('/') : `${ranks.slice(0, 5).join('/')}/…/${ranks[ranks.length - 1]} (${ranks.length} blocks)`;
}
