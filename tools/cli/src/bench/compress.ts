// `lmsweep bench compress`: every compression method on a 10000×1500 low-rank-plus-noise matrix
// with Zipf frequencies, at rates 2, 5 and 10: weighted error and seconds; beside it numpy's
// plain SVD of the same matrix (LAPACK, timed around np.linalg.svd only) as the time ratio.
// Then the trained PTB embedding and softmax, with perplexity before and after fine-tuning
// (compress-ptb.ts). LMSWEEP_BENCH_COMPRESS_SIZE=NxD (e.g. 2000x300) shrinks the matrix.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compress, COMPRESSION_METHODS, matrix, svd, toNpy, weightedError, type Matrix } from '@lmsweep/algorithms';
import { table } from '../format.ts';
import { benchCompressPtb } from './compress-ptb.ts';

const RATES = [2, 5, 10];
const BLOCKS = 10;
const ITERS = 3;

/** Rank-L structure (spectrum decaying like 1/√l) plus noise, frequencies Zipf over a shuffled order. */
export function benchMatrix(N: number, D: number, seed = 1): { A: Matrix; q: Float64Array } {
  let s = seed >>> 0 || 1;
  const r = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296 - 0.5;
  };
  const L = Math.min(64, D);
  const C = new Float64Array(L * D);
  for (let l = 0; l < L; l++) for (let d = 0; d < D; d++) C[l * D + d] = r() / Math.sqrt(l + 1);
  const a = new Float32Array(N * D);
  const b = new Float64Array(L);
  for (let i = 0; i < N; i++) {
    for (let l = 0; l < L; l++) b[l] = r();
    for (let d = 0; d < D; d++) {
      let x = 0.05 * r();
      for (let l = 0; l < L; l++) x += b[l]! * C[l * D + d]!;
      a[i * D + d] = x;
    }
  }
  const q = new Float64Array(N);
  const perm = Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor((r() + 0.5) * (i + 1)) % (i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  for (let i = 0; i < N; i++) q[perm[i]!] = 1 / (i + 1);
  return { A: matrix(a, N, D), q };
}

/**
 * Seconds numpy spends in np.linalg.svd(A, full_matrices=False) on the float64 matrix, and in
 * the same route as ours (np.linalg.eigh(AᵀA), all eigenpairs); null without numpy.
 */
function numpySvdSeconds(A: Matrix): { seconds: number; gramEighSeconds: number; version: string } | null {
  const dir = mkdtempSync(join(tmpdir(), 'lmsweep-bench-'));
  try {
    const path = join(dir, 'A.npy');
    writeFileSync(path, toNpy(A.data, [A.rows, A.cols]));
    const script = [
      'import sys,time,numpy as np',
      'a=np.load(sys.argv[1]).astype(np.float64)',
      't=time.perf_counter()',
      'np.linalg.svd(a,full_matrices=False)',
      's=time.perf_counter()-t',
      't=time.perf_counter()',
      'np.linalg.eigh(a.T@a)',
      'print(s, time.perf_counter()-t, np.__version__)',
    ].join('\n');
    for (const py of ['python3', '/usr/bin/python3']) {
      try {
        const outText = execFileSync(py, ['-c', script, path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 600_000 });
        const [sec, gram, version] = outText.trim().split(/\s+/);
        return { seconds: Number(sec), gramEighSeconds: Number(gram), version: version ?? '?' };
      } catch {
        // try the next interpreter
      }
    }
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchCompress(ctx: { json: boolean; out: (line: string) => void }): Promise<void> {
  const size = /^(\d+)x(\d+)$/.exec(process.env.LMSWEEP_BENCH_COMPRESS_SIZE ?? '10000x1500');
  if (!size) throw new Error(`LMSWEEP_BENCH_COMPRESS_SIZE must look like 10000x1500, got "${process.env.LMSWEEP_BENCH_COMPRESS_SIZE}"`);
  const N = Number(size[1]);
  const D = Number(size[2]);
  const { A, q } = benchMatrix(N, D);
  const numpy = numpySvdSeconds(A);
  // Our plain SVD at the rank numpy would need for rate 2 (the largest), timed alone.
  const rank2 = Math.round((N * D) / (2 * (N + D)));
  const t0 = performance.now();
  svd(A, rank2);
  const ours = (performance.now() - t0) / 1000;
  const rows: (string | number)[][] = [];
  const emit = (r: Record<string, unknown>) => ctx.json && ctx.out(JSON.stringify(r));
  emit({ kind: 'svd-vs-numpy', N, D, rank: rank2, seconds: ours, numpySeconds: numpy?.seconds ?? null, numpyGramEighSeconds: numpy?.gramEighSeconds ?? null, numpy: numpy?.version ?? null, ratio: numpy ? ours / numpy.seconds : null });
  for (const rate of RATES) {
    for (const method of COMPRESSION_METHODS) {
      const t = performance.now();
      let line: Record<string, unknown>;
      try {
        const f = compress(method, A, q, { rate, blocks: BLOCKS, iters: ITERS });
        const seconds = (performance.now() - t) / 1000;
        line = { kind: 'method', N, D, method, targetRate: rate, rate: f.rate, params: f.params, werr: weightedError(A, q, f), seconds, ranks: f.blocks.map((b) => b.rank) };
      } catch (e) {
        line = { kind: 'method', N, D, method, targetRate: rate, error: (e as Error).message };
      }
      emit(line);
      rows.push([
        String(rate),
        method,
        line.error ? String(line.error).replace(/^rate [\d.]+ is impossible for [\w-]+ within [\d.]+%: /, 'refused: ') : (line.rate as number).toFixed(3),
        line.params === undefined ? '-' : String(line.params),
        line.werr === undefined ? '-' : (line.werr as number).toExponential(4),
        line.seconds === undefined ? '-' : (line.seconds as number).toFixed(2),
      ]);
    }
  }
  if (!ctx.json) {
    ctx.out(`compress: ${N}×${D} low rank + noise, Zipf frequencies; ${BLOCKS} blocks, ${ITERS} GroupReduce iterations`);
    ctx.out(table(['target', 'method', 'rate', 'params', 'weighted error', 'seconds'], rows));
    ctx.out(
      `plain SVD, rank ${rank2}: ours ${ours.toFixed(2)} s` +
        (numpy
          ? `; numpy ${numpy.version}: np.linalg.svd ${numpy.seconds.toFixed(2)} s (full thin SVD), ratio ${(ours / numpy.seconds).toFixed(2)}×; eigh(AᵀA) ${numpy.gramEighSeconds.toFixed(2)} s (our route, all pairs), ratio ${(ours / numpy.gramEighSeconds).toFixed(2)}×`
          : ', numpy not found (apt-get install python3-numpy)'),
    );
  }
  await benchCompressPtb({ ...ctx, log: (line) => process.stderr.write(`${line}\n`) });
}
