// lmsweep compress: one matrix (.npy) compressed by one low-rank method or all of them
// (../compress.ts does the work and reads the same flags; this declares them for help and
// validation).
import { defineCommand } from '../command.ts';
import { UsageError } from '../options.ts';
import { jsonOption } from './shared.ts';

/** The compression methods as ../compress.ts takes them (libs/algorithms' COMPRESSION_METHODS, and all). */
export const COMPRESS_METHOD_CHOICES = ['svd', 'weighted-svd', 'block-weighted-svd', 'dynamic-rank', 'groupreduce', 'all'] as const;

export const compressCommand = defineCommand({
  name: 'compress',
  summary: 'compress a matrix (e.g. an embedding) with one low-rank method or all; prints rate, error, seconds',
  description:
    'Compresses an N×D matrix with word frequencies by svd, weighted-svd, block-weighted-svd, dynamic-rank, groupreduce or all of them at a target rate ' +
    '(N·D / parameters), and prints per method the block ranks, parameters, achieved rate, frequency-weighted error and seconds.',
  options: {
    method: { type: 'string', value: 'M', choices: COMPRESS_METHOD_CHOICES, required: true, description: 'the method' },
    matrix: { type: 'string', value: 'A.npy', required: true, description: 'float32/float64 N×D array (.npy, C order)' },
    freq: { type: 'string', value: 'q.npy', required: true, description: 'N non-negative word frequencies (.npy)' },
    rate: { type: 'number', value: 'R', positive: true, required: true, description: 'target compression rate N·D / parameters' },
    blocks: { type: 'integer', value: 'c', min: 1, defaultText: '10', description: 'frequency blocks (block methods)' },
    iters: { type: 'integer', value: 't', defaultText: '5', description: "GroupReduce's refinement iterations" },
    tolerance: { type: 'number', value: 'x', positive: true, defaultText: '0.01', description: 'relative tolerance on the rate' },
    json: jsonOption,
  },
  async run({ argv, out }) {
    const { runCompress, CompressUsageError } = await import('../compress.ts');
    try {
      return await runCompress(argv, out);
    } catch (e) {
      throw e instanceof CompressUsageError ? new UsageError(e.message) : e;
    }
  },
});
