// resume.test.ts's "another process" half: resumes a paused trial from a resume checkpoint file
// in a fresh Node process (its own wasm module, kernels and PHM choices, as another worker's)
// and prints its metric points, result and final checkpoint (base64) as one JSON line.
// Usage: tsx resume-child.fixture.ts <corpus dir> <config json file> <seed> <checkpoint file>
import { readFileSync } from 'node:fs';
import { TrialConfig, type MetricPoint } from '@lmsweep/protocol';
import { selectBackend } from './backend.ts';
import { loadCorpus } from './corpus.ts';
import { runTrial } from './train.ts';

const [dir, configFile, seed, checkpointFile] = process.argv.slice(2);
await selectBackend('wasm');
const corpus = await loadCorpus(dir!);
const points: MetricPoint[] = [];
let checkpoint: Uint8Array | undefined;
const result = await runTrial({
  config: TrialConfig.parse(JSON.parse(readFileSync(configFile!, 'utf8'))),
  seed: Number(seed),
  corpus,
  resume: { checkpoint: new Uint8Array(readFileSync(checkpointFile!)) },
  onMetrics: (ps) => void points.push(...ps),
  onCheckpoint: async (c) => void (checkpoint = c),
});
process.stdout.write(`${JSON.stringify({ points, result, checkpoint: Buffer.from(checkpoint!).toString('base64') })}\n`);
