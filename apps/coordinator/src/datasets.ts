// Where workers look for datasets, so a launch can refuse one that is nowhere to be found.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FieldIssue, SweepSpec } from '@lmsweep/protocol';

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

/** The dataset names a sweep uses: its own, or the grid's values of dataset.name (the only dataset field a grid can set). */
export function datasetNames(spec: SweepSpec): string[] {
  const grid = Object.hasOwn(spec.grid, 'dataset.name') ? spec.grid['dataset.name'] : undefined;
  return [...new Set((grid ?? [spec.dataset.name]).map(String))];
}

/**
 * Launch-time check: every dataset a sweep names exists here with train/valid/test files. The
 * message says where it looked: it is shown to callers allowed to launch only (sweeps.validate
 * checks datasets for them alone), never to an anonymous one.
 */
export function checkDatasets(spec: SweepSpec, cwd = process.cwd()): FieldIssue[] {
  return datasetNames(spec)
    .filter((n) => !findDataset(n, cwd))
    .map((n) => ({
      path: 'dataset.name',
      message: `dataset "${n}" not found (a directory with train/valid/test .txt or .txt.gz files; looked in ${[cwd, ...datasetDirs(cwd)].join(', ')})`,
    }));
}
