// lmsweep worker: an agent that claims trials, trains them and reports, until Ctrl-C.
import { slurmJobOf } from '@lmsweep/protocol';
import { defineCommand } from '../command.ts';
import { cliLogger } from '../logging.ts';
import { UsageError } from '../options.ts';
import { coordinatorOption, LOG_ENVIRONMENT, logLevel, logOption } from './shared.ts';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'a worker agent: claims trials over the websocket, trains them, reports results',
  description:
    'Connects to the coordinator (retrying while it is unreachable), claims trials, trains them on the TensorFlow.js backend it picks ' +
    '(CUDA, native TensorFlow, WebAssembly with the native kernels, plain JavaScript) and reports metrics and results. ' +
    'Ctrl-C releases the running trial back to the queue; Ctrl-C again forces.',
  options: {
    coordinator: coordinatorOption,
    token: { type: 'string', value: 'T', env: 'LMSWEEP_TOKEN', description: "the coordinator's worker token (LMSWEEP_WORKER_TOKEN there)" },
    backend: { type: 'string', choices: BACKEND_CHOICES, default: 'auto', description: 'TensorFlow.js backend (auto: the fastest that loads)' },
    threads: { type: 'string', value: 'N|auto', pattern: /^(auto|[1-9]\d{0,3})$/, expected: 'a positive integer or auto', env: 'LMSWEEP_WASM_THREADS', default: 'auto', description: 'CPU threads of the wasm backend and the native kernels (auto: every core; fewer on a shared machine)' },
    native: { type: 'string', choices: ['on', 'off'], env: 'LMSWEEP_NATIVE', default: 'on', description: "lmsweep's native kernels on the wasm backend, where they were built" },
    name: { type: 'string', value: 'NAME', defaultText: 'the host name', description: 'how the dashboard and `lmsweep workers` list this worker' },
    'max-trials': { type: 'integer', value: 'N', min: 1, description: 'stop after this many trials' },
    'exit-when-idle': { type: 'boolean', description: 'stop when the coordinator has nothing to hand out' },
    quiet: { type: 'boolean', description: 'no progress bar' },
    log: logOption,
  },
  environment: { ...LOG_ENVIRONMENT, SLURM_ARRAY_JOB_ID: 'with SLURM_ARRAY_TASK_ID (or SLURM_JOB_ID): the Slurm job the worker runs in, shown on the workers page' },
  async run({ values, err }) {
    const { maxUsefulWasmThreads } = await import('@lmsweep/nn');
    const wasmThreads = values.threads === 'auto' ? maxUsefulWasmThreads() : Number(values.threads);
    if (!Number.isInteger(wasmThreads) || wasmThreads < 1) throw new UsageError(`--threads must be a positive integer or auto, got "${values.threads}"`);
    const { startWorker } = await import('@lmsweep/worker');
    const slurmJob = slurmJobOf(process.env);
    const { logger } = cliLogger({ level: logLevel('info'), format: values.log, stream: process.stderr });
    const w = await startWorker({
      coordinatorUrl: values.coordinator,
      backend: values.backend,
      wasmThreads,
      native: values.native === 'on',
      name: values.name,
      maxTrials: values['max-trials'],
      exitWhenIdle: values['exit-when-idle'],
      quiet: values.quiet,
      token: values.token,
      ...(slurmJob ? { slurmJob } : {}),
      log: logger,
    });
    err(`worker ${w.name} on ${w.backend.backend} (${w.backend.device}) → ${values.coordinator}${slurmJob ? ` (Slurm job ${slurmJob})` : ''}`);
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(130);
      stopping = true;
      err('\nworker stopping (a running trial goes back to the queue; Ctrl-C again to force)');
      void w.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await w.done;
    return 0;
  },
});
