// Where workers look for datasets, so a launch can refuse one that is nowhere to be found.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FieldIssue, SweepSpec } from '@lmsweep/protocol';
import { gridPoints, configFor } from '@lmsweep/sweep';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function datasetDirs(cwd = process.cwd()): string[] {
  return [...new Set([path.join(cwd, 'data'), path.join(REPO_ROOT, 'data')])];
}

function looksLikeDataset(dir: string): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
  const files = readdirSync(dir);
  return ['train', 'valid', 'test'].every((split) => files.some((f) => f.includes(split) && /\.txt(\.gz)?$/.test(f)));
}

export function findDataset(name: string, cwd = process.cwd()): string | null {
  const candidates = [path.resolve(cwd, name), ...datasetDirs(cwd).map((d) => path.join(d, name))];
  return candidates.find(looksLikeDataset) ?? null;
}

/** Launch-time check: every dataset a sweep names exists here with train/valid/test files. */
export function checkDatasets(spec: SweepSpec, cwd = process.cwd()): FieldIssue[] {
  const names = new Set(gridPoints(spec).map((p) => configFor(spec, p).dataset.name));
  return [...names]
    .filter((n) => !findDataset(n, cwd))
    .map((n) => ({
      path: 'dataset.name',
      message: `dataset "${n}" not found (a directory with train/valid/test .txt or .txt.gz files; looked in ${[cwd, ...datasetDirs(cwd)].join(', ')})`,
    }));
}
