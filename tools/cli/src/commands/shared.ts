// Options several commands share, declared once.
import { DEFAULT_COORDINATOR_PORT } from '@lmsweep/protocol';
import { LOG_FORMATS } from '../log-format.ts';
import type { BooleanOption, StringOption } from '../options.ts';
import { UsageError } from '../options.ts';

export const coordinatorOption = {
  type: 'string',
  value: 'URL',
  env: 'LMSWEEP_URL',
  default: `http://127.0.0.1:${DEFAULT_COORDINATOR_PORT}`,
  description: 'the coordinator to talk to',
} as const satisfies StringOption;

export const apiTokenOption = {
  type: 'string',
  value: 'T',
  env: 'LMSWEEP_TOKEN',
  description: "the coordinator's API token (LMSWEEP_API_TOKEN there), needed to launch and cancel when it has one",
} as const satisfies StringOption;

/** --coordinator and --token, for the commands that call the coordinator's API. */
export const apiOptions = { coordinator: coordinatorOption, token: apiTokenOption } as const;

export const jsonOption = { type: 'boolean', description: 'one JSON object per line, for scripts' } as const satisfies BooleanOption;

export const logOption = {
  type: 'string',
  choices: LOG_FORMATS,
  default: 'auto',
  description: 'log lines: readable on a terminal and JSON elsewhere (auto), always readable (pretty) or always JSON lines (json)',
} as const satisfies StringOption;

/** The log level: $LMSWEEP_LOG_LEVEL, else `fallback`. */
export function logLevel(fallback: string): string {
  const v = process.env.LMSWEEP_LOG_LEVEL;
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (v === undefined || v === '') return fallback;
  if (!levels.includes(v)) throw new UsageError(`$LMSWEEP_LOG_LEVEL must be one of ${levels.join(', ')}; got "${v}"`);
  return v;
}

/** Environment variables of the commands that log. */
export const LOG_ENVIRONMENT = { LMSWEEP_LOG_LEVEL: 'fatal, error, warn, info, debug, trace or silent', NO_COLOR: 'set: readable log lines without colours' } as const;
