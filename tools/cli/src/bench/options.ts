// What each benchmark of `lmsweep bench NAME` takes, declared once: `lmsweep bench NAME --help`
// prints it, and the benchmark parses its arguments with it (../options.ts). Light on purpose:
// no benchmark code is loaded to show help.
import type { Options } from '../options.ts';

export interface BenchDeclaration {
  name: string;
  summary: string;
  description?: string;
  options: Options;
  environment?: Readonly<Record<string, string>>;
}

const json = { type: 'boolean', description: 'one JSON object per row, for scripts' } as const;

export const COMPRESS_BENCH = {
  name: 'compress',
  summary: "every low-rank method on a synthetic matrix beside numpy's SVD, then a trained PTB embedding and softmax with perplexity before and after fine-tuning",
  options: { json },
  environment: {
    LMSWEEP_BENCH_COMPRESS_SIZE: 'the synthetic matrix, NxD (default 10000x1500)',
    LMSWEEP_BENCH_PTB_VOCAB: 'PTB vocabulary (default 10000)',
    LMSWEEP_BENCH_PTB_WIDTH: 'embedding = hidden width (default 256)',
    LMSWEEP_BENCH_PTB_TRAIN_STEPS: 'training steps of the dense model (default 400; 0 skips the PTB half)',
    LMSWEEP_BENCH_PTB_FINETUNE_STEPS: 'fine-tuning steps after compressing (default 100)',
    LMSWEEP_BENCH_PTB_EVAL_TOKENS: 'valid and test tokens evaluated (default 20000; 0: the whole splits)',
  },
} as const satisfies BenchDeclaration;

export const LOAD_BENCH = {
  name: 'load',
  summary: "simulated workers against a coordinator on PGlite and PostgreSQL, Optuna's ask/tell on the same PostgreSQL beside",
  description:
    'Simulated workers (real websocket clients that claim, heartbeat, report a metric and complete at once) against a coordinator on loopback, ' +
    'on PGlite and, where its binaries are installed, a throwaway PostgreSQL server: claims/s, completions/s, claim latency p50/p99, memory, ' +
    "and the leaderboard query; Optuna's RDB storage beside it (apt-get install python3-optuna python3-psycopg2).",
  options: {
    workers: { type: 'integer', value: 'N', min: 1, default: 100, description: 'simulated workers' },
    trials: { type: 'integer', value: 'M', min: 1, default: 5_000, description: 'trials queued (back to back for throughput)' },
    rates: { type: 'string', value: 'R1,R2', pattern: /^\s*\d*\.?\d+\s*(,\s*\d*\.?\d+\s*)*$/, expected: 'positive claims per second, comma-separated', description: 'also paced runs at these offered claim rates, for claim latency at that load' },
    seconds: { type: 'integer', value: 'S', min: 1, default: 20, description: 'length of each paced run' },
    queued: { type: 'integer', value: 'N', min: 0, default: 20_000, description: 'then the claim statement alone (claimMany for 1 and for 100 workers) at N queued trials (0: skip)' },
    'queued-sweeps': { type: 'integer', value: 'S', min: 1, default: 20, description: 'how many sweeps those N trials are spread over' },
    'no-postgres': { type: 'boolean', description: 'PGlite only' },
    'in-process': { type: 'boolean', description: 'simulated workers in the coordinator\'s process (default: a child process)' },
    json,
  },
} as const satisfies BenchDeclaration;

export const PRUNE_LATENCY_BENCH = {
  name: 'prune-latency',
  summary: 'the verdict in a judged metric message\'s answer: its round trip p50/p99 and decisions/s for ASHA, median and ASHA with promotion, on PGlite and PostgreSQL',
  description:
    'Simulated workers (real websocket clients) each claim a trial of a pruned sweep and send every validation point before the last step as a judged ' +
    'metric message at a steady rate, obeying the verdict in its answer (stop: next claim; pause: upload the resume checkpoint, say paused, next claim). ' +
    'Measured: the judged message\'s round trip with its verdict, p50/p95/p99/max, and decisions/s, against a coordinator on PGlite and, where its ' +
    'binaries are installed, a throwaway PostgreSQL server. The target: p99 under 20 ms at 100 workers.',
  options: {
    workers: { type: 'integer', value: 'N', min: 1, default: 100, description: 'simulated workers' },
    configs: { type: 'integer', value: 'M', min: 2, default: 300, description: 'configurations of the pruned grid (one trial each)' },
    'every-ms': { type: 'integer', value: 'T', min: 0, default: 2_000, description: 'mean ms between a worker\'s evaluations (0: back to back, the saturated rate)' },
    seconds: { type: 'integer', value: 'S', min: 1, default: 30, description: 'longest run of each row (a row also ends with its sweep)' },
    pruners: { type: 'string', value: 'P1,P2', defaultText: 'asha,median,asha-promotion', description: 'rows to run' },
    'no-postgres': { type: 'boolean', description: 'PGlite only' },
    'in-process': { type: 'boolean', description: 'simulated workers in the coordinator\'s process (default: a child process)' },
    json,
  },
} as const satisfies BenchDeclaration;

export const PHM_BENCH = {
  name: 'phm',
  summary: 'dense vs PHM products (materialized, factored, auto), forward and backward, PyTorch beside',
  options: {
    sizes: { type: 'string', value: 'D1,D2', pattern: /^\s*\d+\s*(,\s*\d+\s*)*$/, expected: 'positive integers, comma-separated', defaultText: '200,800,1600', description: 'layer widths d = k' },
    batches: { type: 'string', value: 'B1,B2', pattern: /^\s*\d+\s*(,\s*\d+\s*)*$/, expected: 'positive integers, comma-separated', defaultText: '1,700', description: 'batch sizes (rows of x)' },
    ns: { type: 'string', value: 'N1,N2', pattern: /^\s*\d+\s*(,\s*\d+\s*)*$/, expected: 'positive integers, comma-separated', defaultText: '2,4,8', description: 'PHM parts n' },
    'wasm-threads': { type: 'integer', value: 'N', min: 1, defaultText: "a worker's: every useful core", description: 'CPU threads of the wasm backend and the native kernels' },
    native: { type: 'string', choices: ['on', 'off'], defaultText: 'on, where they were built', description: 'the native kernels, or XNNPACK alone' },
    'no-torch': { type: 'boolean', description: 'no PyTorch reference' },
    json,
  },
} as const satisfies BenchDeclaration;

export const TRAIN_BENCH = {
  name: 'train',
  summary: "training tokens/s per TensorFlow.js backend, wasm with and without the native kernels, PyTorch's step beside",
  description:
    "Training speed of the PTB LSTM LM, or with --arch transformer the Transformer LM, (tokens/s of runTrial's steps after warm-up) on every backend that loads, and the same model's step in PyTorch " +
    '(apt-get install python3-torch libopenblas0-pthread), with validation perplexity after a fixed token budget for both.',
  options: {
    arch: { type: 'string', choices: ['lstm', 'transformer'], defaultText: 'lstm', description: 'the model: the LSTM (SGD lr 1) or the Transformer (Adam lr 0.001)' },
    vocab: { type: 'integer', value: 'N', min: 1, defaultText: '10000', description: 'vocabulary size' },
    hidden: { type: 'integer', value: 'N', min: 1, defaultText: '200', description: 'LSTM width, or the Transformer\'s model width' },
    heads: { type: 'integer', value: 'N', min: 1, defaultText: '4', description: 'Transformer: attention heads' },
    ffn: { type: 'integer', value: 'N', min: 1, defaultText: '4·hidden', description: 'Transformer: feed-forward width' },
    embedding: { type: 'integer', value: 'N', min: 1, defaultText: 'the hidden width', description: 'embedding width' },
    layers: { type: 'integer', value: 'N', min: 1, defaultText: '2', description: 'LSTM layers or Transformer blocks' },
    batch: { type: 'integer', value: 'N', min: 1, defaultText: '20', description: 'batch size' },
    unroll: { type: 'integer', value: 'N', min: 1, defaultText: '20', description: 'unroll length (a Transformer\'s context)' },
    steps: { type: 'integer', value: 'N', min: 1, defaultText: 'the budget run after warm-up', description: 'steps timed for tokens/s' },
    'budget-tokens': { type: 'integer', value: 'N', defaultText: '40000', description: 'training tokens before the validation perplexity' },
    'eval-tokens': { type: 'integer', value: 'N', defaultText: '20000', description: 'validation tokens evaluated' },
    'cpu-steps': { type: 'integer', value: 'N', defaultText: '2', description: 'steps of the pure-JS cpu backend (0 skips it)' },
    backends: { type: 'string', value: 'B1,B2', defaultText: 'every one that loads', description: 'backends to run: tensorflow-gpu, tensorflow, wasm, cpu' },
    'wasm-threads': { type: 'integer', value: 'N', min: 1, defaultText: "a worker's: every useful core", description: 'CPU threads of the wasm backend and the native kernels' },
    native: { type: 'string', choices: ['on', 'off', 'both'], defaultText: 'both, where they were built', description: 'wasm with the native kernels, without, or both' },
    compressed: { type: 'string', value: 'M1,M2|none', defaultText: 'svd,groupreduce', description: "compressed models fine-tuned from each backend's dense row, timed beside it" },
    rate: { type: 'number', value: 'R', min: 1, defaultText: '5', description: 'compression rate of the compressed rows (embedding and softmax)' },
    'no-torch': { type: 'boolean', description: 'no PyTorch reference' },
    json,
  },
} as const satisfies BenchDeclaration;

export const SEARCH_BENCH = {
  name: 'search',
  summary: "regret of random, sobol and tpe (hypervolume of motpe for two objectives) on test functions, Optuna's TPE and NSGA-II beside",
  description:
    'Median simple regret (best value found minus the optimum) with its 95% interval over repetitions, after 10, 25, 50 and 100 trials, of the ' +
    'random, sobol and tpe samplers on Branin, Hartmann-6 and a mixed space with categorical and conditional parameters, and the hypervolume ' +
    "of random, sobol and motpe on ZDT1 (two objectives); Optuna's TPE (default and multivariate) and NSGA-II on the same functions in the " +
    'same run (apt-get install python3-optuna; skipped, saying so, without it); and the time of one suggestion with 1,000 finished trials.',
  options: {
    reps: { type: 'integer', value: 'R', min: 1, default: 20, description: 'repetitions (seeds) of every run' },
    trials: { type: 'string', value: 'N1,N2', pattern: /^\s*\d+\s*(,\s*\d+\s*)*$/, expected: 'positive integers, comma-separated', defaultText: '10,25,50,100', description: 'trials after which regret is reported (the last is each run\'s length)' },
    functions: { type: 'string', value: 'F1,F2', defaultText: 'branin,hartmann6,mixed,zdt1', description: 'test functions' },
    finished: { type: 'integer', value: 'N', default: 1000, description: 'finished trials for the time of one suggestion (0 skips it)' },
    processes: { type: 'integer', value: 'P', min: 1, default: 2, description: "Optuna's runs in this many processes" },
    'no-optuna': { type: 'boolean', description: 'no Optuna reference' },
    json,
  },
} as const satisfies BenchDeclaration;

export const PRUNE_BENCH = {
  name: 'prune',
  summary: 'none / median / asha / asha with promotion on the same space and seeds: training tokens, wall time and the best configuration\'s perplexity beside the full run',
  description:
    'Replay (the default): W asynchronous workers over R random queue orders of recorded validation curves (prune-curves.json: the demo\'s PTB LSTM, ' +
    'learning rate × width × seeds, trained to the full budget), each point judged by the coordinator\'s own decisions (planPrune; the final evaluation never): ' +
    "tokens spent as a fraction of the full run's, wall time, and the best-found configuration's full-budget validation perplexity against the full run's best " +
    '(mean, 95% interval, repetitions within 1%). --real: real training through a coordinator (embedded PGlite) and local worker agents, one sweep per pruner. ' +
    '--record FILE: trains the recorded space again and writes its curves.',
  options: {
    workers: { type: 'integer', value: 'W', min: 1, defaultText: '4 (--real: 2)', description: 'asynchronous workers' },
    repeats: { type: 'integer', value: 'R', min: 1, default: 100, description: 'replayed queue orders' },
    'min-steps': { type: 'integer', value: 'N', min: 1, defaultText: '50', description: "ASHA's first rung, in steps (a multiple of the recording's evalEvery)" },
    reduction: { type: 'integer', value: 'η', min: 2, defaultText: '12', description: "ASHA's reduction factor η" },
    curves: { type: 'string', value: 'FILE', defaultText: 'the committed prune-curves.json', description: 'recorded curves to replay' },
    record: { type: 'string', value: 'FILE', description: 'train the recorded space to its full budget and write its curves to FILE (minutes), then replay them' },
    real: { type: 'boolean', description: 'real training through a coordinator and local worker agents instead of the replay (7 trials per pruner; 17 minutes on 2 busy cores)' },
    json,
  },
} as const satisfies BenchDeclaration;

/** Every benchmark, in the order `lmsweep bench --help` lists them. */
export const BENCH_DECLARATIONS: readonly BenchDeclaration[] = [COMPRESS_BENCH, LOAD_BENCH, PHM_BENCH, PRUNE_BENCH, PRUNE_LATENCY_BENCH, SEARCH_BENCH, TRAIN_BENCH];

export const DASHBOARD_BENCH = {
  name: 'dashboard',
  summary: "the dashboard's pages and plots in Chromium at 100,000 trials: each view's time to render after its data arrived, beside the same at 1,000",
  description:
    'Fills a coordinator (PGlite in memory) with finished sweeps of 10 seeds per configuration (each sweep at most 10,000 trials, so the large run is ' +
    'several sweeps), opens the built dashboard in Chromium and times, for each view, the API response that feeds it and the moment its figure or ' +
    'table is in the page (the median of --repeat loads): the render time after the data arrived, for the large run and a reference of 1,000 trials, and their ratio. The goal: ' +
    'every view within 1 s of its data (apt-get install chromium).',
  options: {
    trials: { type: 'integer', value: 'N', min: 100, max: 1_000_000, default: 100_000, description: 'trials of the large run (10 seeds per configuration)' },
    reference: { type: 'integer', value: 'N', min: 100, max: 100_000, default: 1_000, description: 'trials of the reference run' },
    repeat: { type: 'integer', value: 'N', min: 1, max: 20, default: 3, description: 'page loads per view (the median is shown)' },
    json,
  },
} as const satisfies BenchDeclaration;

