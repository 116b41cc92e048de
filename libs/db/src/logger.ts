/** Optional log sink: the library never prints; hosts pass e.g. `(level, msg, f) => pino[level](f ?? {}, msg)`. */
export type DbLogger = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
