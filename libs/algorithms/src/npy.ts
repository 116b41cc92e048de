// NumPy .npy arrays (format versions 1.0, 2.0 and 3.0): little-endian float32/float64, C order.
// Parsing and serializing bytes only; reading and writing files is the caller's business.

export interface NpyArray {
  data: Float32Array | Float64Array;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses a .npy file's bytes. Accepts dtype '<f4' / '<f8' (also '=' or no byte-order mark on
 * little-endian data), C order, any shape (a scalar has shape []). Refuses Fortran order, other
 * dtypes, big-endian data and truncated files with an error naming what is wrong; `name`
 * (e.g. the file path) prefixes the messages.
 */
export function parseNpy(bytes: Uint8Array, name = 'npy'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${name}: not a .npy file (missing the \\x93NUMPY magic)`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${name}: truncated .npy header`);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else throw new Error(`${name}: unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are)`);
  if (start + headerLen > bytes.length) throw new Error(`${name}: truncated .npy header`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${name}: malformed .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new Error(`${name}: Fortran-order (column-major) arrays are not supported; save with np.ascontiguousarray(a)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: bad shape (${shapeText}) in the .npy header`);
      return n;
    });
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const bigEndian = m?.[1] === '>';
  const kind = m?.[2];
  const size = Number(m?.[3]);
  if (!m || kind !== 'f' || (size !== 4 && size !== 8)) throw new Error(`${name}: dtype '${descr}' is not supported; only float32 ('<f4') and float64 ('<f8') are`);
  if (bigEndian) throw new Error(`${name}: big-endian dtype '${descr}' is not supported; convert with a.astype('<f${size}')`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (bytes.length - offset < count * size) throw new Error(`${name}: truncated data: the header promises ${count} values (${count * size} bytes), the file has ${bytes.length - offset} bytes after the header`);
  // Copy into a fresh, aligned buffer (not bytes.slice: on a Node Buffer that is a view).
  const raw = new Uint8Array(count * size);
  raw.set(bytes.subarray(offset, offset + count * size));
  const data = size === 4 ? new Float32Array(raw.buffer, 0, count) : new Float64Array(raw.buffer, 0, count);
  return { data, shape };
}

/**
 * Serializes a float32/float64 array as .npy (version 1.0, or 2.0 if the header needs it), C
 * order, little-endian, header padded so the data starts at a multiple of 64 bytes.
 * data:[∏shape] → bytes.
 */
export function toNpy(data: Float32Array | Float64Array, shape: number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`toNpy: shape must be non-negative integers, got [${shape.join(', ')}]`);
  if (count !== data.length) throw new Error(`toNpy: data has length ${data.length}, shape [${shape.join(', ')}] needs ${count}`);
  const descr = data instanceof Float32Array ? '<f4' : '<f8';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let pre = 10;
  let total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  if (total - pre > 0xffff) {
    major = 2;
    pre = 12;
    total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  }
  const headerLen = total - pre;
  const header = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
