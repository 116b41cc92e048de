import { randomBytes } from 'node:crypto';

/** A short unique id: prefix, underscore, 16 base36 characters (~82 random bits), e.g. `t_0k3x9q…`. */
export function newId(prefix: string): string {
  let n = 0n;
  for (const b of randomBytes(11)) n = (n << 8n) | BigInt(b);
  return `${prefix}_${n.toString(36).padStart(17, '0').slice(-16)}`;
}
