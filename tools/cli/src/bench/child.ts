// A bench's simulated workers in a process of their own, so the coordinator's CPU is its own (as
// with workers on other machines): a TypeScript entry run through tsx, its last stdout line JSON.
import { spawn } from 'node:child_process';

/** Runs `script` (a .ts file) with `args`; resolves to its last stdout line, parsed. */
export function runJsonChild<T>(script: string, args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`simulated workers exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch (e) {
        reject(e);
      }
    });
  });
}
