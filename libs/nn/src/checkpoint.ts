// Checkpoints in the safetensors layout (https://github.com/huggingface/safetensors):
// u64 little-endian header length n, n bytes of JSON header (padded with spaces to a multiple
// of 8), then the tensors' raw little-endian bytes. Header entries
// `name: {dtype, shape, data_offsets: [begin, end]}` (offsets into the data section) and an
// optional `"__metadata__": {string: string}`. F32 and I32 only. Bytes only: reading and
// writing files is the caller's business. A finished trial's checkpoint holds its weights and
// CheckpointInfo metadata (compress-model.ts); a paused trial's resume checkpoint extends it with
// `resume/…` tensors and a `format` key (resume.ts).

/** One named tensor: row-major data, data.length = Π shape. */
export interface TensorData {
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface Checkpoint {
  tensors: Record<string, TensorData>;
  metadata: Record<string, string>;
}

type Dtype = 'F32' | 'I32';

const METADATA = '__metadata__';
/** Refuse headers above this (safetensors' own limit): a corrupt length would allocate gigabytes. */
const MAX_HEADER = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const dtypeOf = (data: unknown): Dtype | undefined => (data instanceof Float32Array ? 'F32' : data instanceof Int32Array ? 'I32' : undefined);

function checkShape(shape: unknown, what: string): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${what}: shape ${JSON.stringify(shape)} must be an array of non-negative integers`);
  return (shape as number[]).reduce((a, b) => a * b, 1);
}

/**
 * Serializes named tensors (in insertion order) and string metadata:
 * {name: {shape, data: Float32Array | Int32Array}} → safetensors bytes.
 */
export function encodeCheckpoint(tensors: Record<string, TensorData>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  const meta = Object.entries(metadata);
  for (const [k, v] of meta) if (typeof v !== 'string') throw new Error(`encodeCheckpoint: metadata "${k}" is a ${typeof v}, not a string`);
  if (meta.length > 0) header[METADATA] = Object.fromEntries(meta);
  const entries = Object.entries(tensors);
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '' || name === METADATA) throw new Error(`encodeCheckpoint: "${name}" cannot name a tensor`);
    const dtype = dtypeOf(t?.data);
    if (!dtype) throw new Error(`encodeCheckpoint: tensor "${name}": data must be a Float32Array or an Int32Array`);
    const size = checkShape(t.shape, `encodeCheckpoint: tensor "${name}"`);
    if (size !== t.data.length) throw new Error(`encodeCheckpoint: tensor "${name}": shape [${t.shape}] holds ${size} values, data has ${t.data.length}`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + 4 * size] };
    offset += 4 * size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded, true);
  view.setUint32(4, Math.floor(padded / 2 ** 32), true);
  out.set(json, 8);
  let at = 8 + padded;
  for (const [, t] of entries) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else
      for (let i = 0; i < t.data.length; i++) {
        if (t.data instanceof Float32Array) view.setFloat32(at + 4 * i, t.data[i]!, true);
        else view.setInt32(at + 4 * i, t.data[i]!, true);
      }
    at += t.data.byteLength;
  }
  return out;
}

/**
 * Parses safetensors bytes (F32 and I32 tensors) into fresh arrays. Refuses, naming what is
 * wrong: a truncated file, a header that is not a JSON object, an unknown dtype, a shape whose
 * size does not match its byte range, offsets outside the data section, and gaps or overlaps
 * between the tensors' byte ranges.
 */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (!(bytes instanceof Uint8Array)) throw new Error('decodeCheckpoint: expected a Uint8Array');
  if (bytes.length < 8) throw new Error(`checkpoint truncated: ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER) throw new Error(`checkpoint header length ${n} exceeds ${MAX_HEADER} bytes: not a checkpoint, or corrupt`);
  if (8 + n > bytes.length) throw new Error(`checkpoint truncated: header of ${n} bytes, but only ${bytes.length - 8} follow the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`checkpoint header is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('checkpoint header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: [string, string][] = [];
  const ranges: { name: string; begin: number; end: number }[] = [];
  const tensors: [string, TensorData][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA) {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error('checkpoint __metadata__ is not an object');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new Error(`checkpoint __metadata__ "${k}" is not a string`);
        metadata.push([k, v]);
      }
      continue;
    }
    const what = `checkpoint tensor "${name}"`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${what}: header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (dtype !== 'F32' && dtype !== 'I32') throw new Error(`${what}: dtype ${JSON.stringify(dtype)} is not supported (F32, I32)`);
    const size = checkShape(shape, what);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new Error(`${what}: data_offsets ${JSON.stringify(offsets)} must be [begin, end], non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw new Error(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) throw new Error(`${what}: data_offsets [${begin}, ${end}] run past the data section of ${dataLen} bytes (truncated?)`);
    if (end - begin !== 4 * size) throw new Error(`${what}: ${dtype} shape [${shape as number[]}] needs ${4 * size} bytes, data_offsets span ${end - begin}`);
    ranges.push({ name, begin, end });
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    let data: Float32Array | Int32Array;
    if (LITTLE_ENDIAN) {
      const copy = raw.slice().buffer;
      data = dtype === 'F32' ? new Float32Array(copy) : new Int32Array(copy);
    } else {
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data = dtype === 'F32' ? Float32Array.from({ length: size }, (_, i) => v.getFloat32(4 * i, true)) : Int32Array.from({ length: size }, (_, i) => v.getInt32(4 * i, true));
    }
    tensors.push([name, { shape: shape as number[], data }]);
  }
  // The byte ranges tile the data section: no gaps, no overlaps, nothing after the last.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const r of ranges) {
    if (r.begin !== at) throw new Error(`checkpoint tensor "${r.name}": data_offsets begin at ${r.begin}, expected ${at} (${r.begin < at ? 'overlaps the previous tensor' : 'a gap before it'})`);
    at = r.end;
  }
  if (at !== dataLen) throw new Error(`checkpoint has ${dataLen - at} bytes after its last tensor`);
  // fromEntries: a tensor named "__proto__" stays an own property.
  return { tensors: Object.fromEntries(tensors), metadata: Object.fromEntries(metadata) };
}
