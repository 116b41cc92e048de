// The simulated workers of `lmsweep bench load`, in a process of their own:
// argv: coordinator URL, number of workers. Prints one JSON line (load.ts's DriveResult).
import { driveWorkers } from './load.ts';

const [url, workers] = process.argv.slice(2);
if (!url || !workers) throw new Error('usage: load-sim.ts URL WORKERS');
const r = await driveWorkers(url, Number(workers));
// Exit once the line is out: a pipe is written asynchronously, and exiting first would cut it.
process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0));
