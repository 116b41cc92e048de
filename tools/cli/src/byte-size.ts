// Sizes on the command line: 512MiB, 4GiB, 1.5G, 1000000 (bytes). Powers of 1024 for K/M/G/T with
// or without "i"; KB/MB/GB/TB are powers of 1000, as the SI says.

export const BYTE_SIZE_PATTERN = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B?|[KMGT]B|B)?$/i;

/** Bytes, or null when `text` is not a size. */
export function parseByteSize(text: string): number | null {
  const m = BYTE_SIZE_PATTERN.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? 'B').toUpperCase();
  const power = 'BKMGT'.indexOf(unit[0]!);
  const base = unit.length === 2 && unit[1] === 'B' ? 1000 : 1024;
  const bytes = Math.round(Number(m[1]) * base ** power);
  return Number.isSafeInteger(bytes) ? bytes : null;
}
