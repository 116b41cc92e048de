// Builds the native kernels with node-gyp (npm's own copy, against the Node headers npm is set to
// use) into build/Release. Never fails the install: without a compiler or headers lmsweep trains
// on wasm, and build/build.log says why. `--quiet`: one line of outcome.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const here = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const quiet = process.argv.includes('--quiet');
const say = (line) => console.log(`@lmsweep/native: ${line}`);

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  // npm's bundled node-gyp, next to the npm that runs us or the global one
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package
  }
  return candidates.find((c) => existsSync(c));
}

if (process.env.LMSWEEP_NATIVE_BUILD === '0') {
  say('skipped (LMSWEEP_NATIVE_BUILD=0); training uses wasm');
  process.exit(0);
}
const gyp = nodeGyp();
const logFile = path.join(here, 'build.log');
if (!gyp) {
  writeFileSync(logFile, 'node-gyp not found (it comes with npm)\n');
  say('node-gyp not found; training uses wasm');
  process.exit(0);
}
const args = [gyp, 'rebuild', '--release'];
// The headers of the running Node: npm's nodedir setting (npm_config_nodedir in scripts), else
// the prefix this node was installed under when it ships them (distribution packages, nvm and
// the official tarballs do); only without either does node-gyp try to download them.
const prefix = path.dirname(path.dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir || (existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? prefix : undefined);
if (nodedir) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', env: { ...process.env } });
writeFileSync(logFile, `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`);
if (r.status === 0 && existsSync(path.join(here, 'build', 'Release', 'lmsweep_native.node'))) say('built native kernels');
else {
  const lines = `${r.stderr ?? ''}`.split('\n').filter((l) => /error|ERR!/.test(l));
  say(`build failed (training uses wasm); log: ${path.relative(process.cwd(), logFile)}${quiet ? '' : `\n  ${lines.slice(0, 6).join('\n  ')}`}`);
}
