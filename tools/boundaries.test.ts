// Module boundaries: dependencies point one way (see README, Layout). Test files are exempt.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

const allowed: Record<string, string[]> = {
  protocol: [],
  native: [],
  algorithms: ['protocol'],
  nn: ['protocol', 'algorithms', 'native'],
  sweep: ['protocol', 'algorithms'],
  db: ['protocol', 'sweep'],
  api: ['protocol', 'algorithms', 'sweep', 'db'],
  coordinator: ['protocol', 'sweep', 'db', 'api'],
  worker: ['protocol', 'nn'],
  dashboard: ['protocol', 'api'],
};
const TYPE_ONLY: Record<string, string[]> = { dashboard: ['api'] };

function files(dir: string): string[] {
  let out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (['node_modules', '.next', 'generated'].includes(f)) continue;
    if (statSync(p).isDirectory()) out = out.concat(files(p));
    else if (/\.(ts|tsx)$/.test(f) && !/\.test\.tsx?$/.test(f) && !p.includes(`${path.sep}test${path.sep}`)) out.push(p);
  }
  return out;
}

function projectOf(file: string): string | null {
  const rel = path.relative(ROOT, file).split(path.sep);
  return (rel[0] === 'libs' || rel[0] === 'apps') && rel[1] ? rel[1] : null;
}

describe('module boundaries', () => {
  for (const [project, deps] of Object.entries(allowed)) {
    it(`${project} imports only ${deps.join(', ') || 'no other project'}`, () => {
      const dir = ['coordinator', 'worker', 'dashboard'].includes(project) ? path.join(ROOT, 'apps', project) : path.join(ROOT, 'libs', project);
      const bad: string[] = [];
      for (const f of files(dir)) {
        const src = readFileSync(f, 'utf8');
        for (const m of src.matchAll(/(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
          const spec = m[3] ?? m[4]!;
          const typeOnly = Boolean(m[2]);
          let target: string | null = null;
          if (spec.startsWith('@lmsweep/')) target = spec.slice('@lmsweep/'.length).split('/')[0]!;
          else if (spec.startsWith('.')) target = projectOf(path.resolve(path.dirname(f), spec));
          if (!target || target === project) continue;
          const ok = deps.includes(target) && (!TYPE_ONLY[project]?.includes(target) || typeOnly);
          if (!ok) bad.push(`${path.relative(ROOT, f)} → ${spec}${TYPE_ONLY[project]?.includes(target) ? ' (type imports only)' : ''}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }
});
