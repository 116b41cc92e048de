// The simulated workers of `lmsweep bench load`, in a process of their own:
// argv: coordinator URL, number of workers[, mean trial ms, seconds] (load.ts's Pacing).
// Prints one JSON line (load.ts's DriveResult).
import { driveWorkers } from './load.ts';

const [url, workers, thinkMs = '0', seconds = '0'] = process.argv.slice(2);
if (!url || !workers) throw new Error('usage: load-sim.ts URL WORKERS [THINK_MS SECONDS]');
const r = await driveWorkers(url, Number(workers), { thinkMs: Number(thinkMs), seconds: Number(seconds) });
// Exit once the line is out: a pipe is written asynchronously, and exiting first would cut it.
process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0));
