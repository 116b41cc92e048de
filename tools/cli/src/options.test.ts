import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from './options.ts';

const target = {
  options: {
    port: { type: 'integer', max: 65_535, default: 4317, env: 'TEST_PORT', description: 'port' },
    rate: { type: 'number', positive: true, description: 'rate' },
    backend: { type: 'string', choices: ['auto', 'wasm'], default: 'auto', description: 'backend' },
    threads: { type: 'string', pattern: /^(auto|\d+)$/, expected: 'an integer or auto', description: 'threads' },
    name: { type: 'string', short: 'n', description: 'name' },
    method: { type: 'string', required: true, value: 'M', description: 'method' },
    json: { type: 'boolean', description: 'json' },
    extra: { type: 'list', pattern: /^-/, expected: 'an option', description: 'extra' },
  },
  args: [{ name: 'SPEC', description: 'the spec', required: true }],
} as const;

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseOptions(target, argv, env);
const refused = (argv: string[], re: RegExp, env: NodeJS.ProcessEnv = {}) => {
  let err: unknown;
  try {
    parse(argv, env);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(re);
};

describe('parseOptions', () => {
  it('a list option takes every value given, in order, each checked', () => {
    expect(parse(['s', '--method', 'x', '--extra=--a', '--extra=-b']).values.extra).toEqual(['--a', '-b']);
    refused(['s', '--method', 'x', '--extra=--a', '--extra', 'b'], /--extra must be an option, got "b"/);
  });
  it('types values, fills defaults, reads the environment when the flag is absent', () => {
    const { values, positionals, help } = parse(['s.yaml', '--method', 'svd', '--rate', '2.5', '-n', 'w1', '--json']);
    expect(help).toBe(false);
    expect(positionals).toEqual(['s.yaml']);
    expect(values).toEqual({ port: 4317, rate: 2.5, backend: 'auto', threads: undefined, name: 'w1', method: 'svd', json: true, extra: [] });
    expect(parse(['s', '--method', 'x'], { TEST_PORT: '99' }).values.port).toBe(99);
    expect(parse(['s', '--method', 'x', '--port', '7'], { TEST_PORT: '99' }).values.port).toBe(7);
    // An empty variable is absent.
    expect(parse(['s', '--method', 'x'], { TEST_PORT: '' }).values.port).toBe(4317);
  });

  it('refuses unknown flags, bad values, missing values and arguments, naming them', () => {
    refused(['s', '--method', 'x', '--bogus'], /^unknown option --bogus$/);
    refused(['s', '--method', 'x', '-q'], /^unknown option -q$/);
    refused(['s', '--method', 'x', '--port', 'abc'], /^--port must be an integer from 0 to 65535, got "abc"$/);
    refused(['s', '--method', 'x', '--port', '70000'], /--port must be an integer from 0 to 65535, got "70000"/);
    refused(['s', '--method', 'x', '--port', '1.5'], /--port must be an integer/);
    refused(['s', '--method', 'x', '--rate', '0'], /^--rate must be a positive number, got "0"$/);
    refused(['s', '--method', 'x', '--rate', 'fast'], /--rate must be a positive number, got "fast"/);
    refused(['s', '--method', 'x', '--backend', 'gpu'], /^--backend must be one of auto, wasm; got "gpu"$/);
    refused(['s', '--method', 'x', '--threads', 'many'], /^--threads must be an integer or auto, got "many"$/);
    refused(['s', '--method'], /^--method needs a value$/);
    refused(['s', '--method', 'x', '--json=yes'], /^--json takes no value$/);
    refused(['s'], /^--method M is required$/);
    refused(['--method', 'x'], /^SPEC is required: the spec$/);
    refused(['s', 't', '--method', 'x'], /^unexpected argument "t" \(it takes SPEC\)$/);
    refused(['s', '--method', 'x'], /^\$TEST_PORT \(for --port\) must be an integer from 0 to 65535, got "nope"$/, { TEST_PORT: 'nope' });
  });

  it('--help / -h wins over everything, even a bad flag, and validates nothing', () => {
    for (const argv of [['--help'], ['-h'], ['--bogus', '--help'], ['--port', 'abc', '-h'], ['s', '--method', 'x', '--help']]) {
      expect(parse(argv).help).toBe(true);
    }
    // After `--` it is an argument.
    expect(() => parse(['--method', 'x', '--', '--help'])).not.toThrow();
    expect(parse(['--method', 'x', '--', '--help']).positionals).toEqual(['--help']);
  });
});
