// The simulated workers of `lmsweep bench prune-latency`, in a process of their own:
// argv: coordinator URL, workers, mean ms between evaluations, seconds, sweep id.
// Prints one JSON line (prune-latency.ts's Drive); the sweep's end is read through the API.
import { apiClient } from '../client.ts';
import { driveVerdicts } from './prune-latency.ts';

const [url, workers, everyMs, seconds, sweepId] = process.argv.slice(2);
if (!url || !workers || !everyMs || !seconds || !sweepId) throw new Error('usage: prune-sim.ts URL WORKERS EVERY_MS SECONDS SWEEP_ID');
const api = apiClient(url);
const r = await driveVerdicts(url, Number(workers), Number(everyMs), Number(seconds), async () => (await api.sweeps.get.query({ id: sweepId })).status !== 'running');
// Exit once the line is out: a pipe is written asynchronously, and exiting first would cut it.
process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0));
