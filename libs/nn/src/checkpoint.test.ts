import { describe, expect, it } from 'vitest';
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint, type TensorData } from './checkpoint.ts';

const tensors: Record<string, TensorData> = {
  'embedding/E': { shape: [3, 2], data: new Float32Array([1.5, -2, 0, 3.25, -0, 1e-30]) },
  'embedding/wordBlock': { shape: [3], data: new Int32Array([0, 1, -7]) },
  scalar: { shape: [], data: new Float32Array([Math.PI]) },
  empty: { shape: [0, 4], data: new Float32Array(0) },
  'softmax/b': { shape: [5], data: new Float32Array([NaN, Infinity, -Infinity, 2 ** -149, 3.4e38]) },
};

/** A checkpoint with its header replaced (padded to a multiple of 8, as the encoder does). */
function withHeader(header: unknown, data: Uint8Array): Uint8Array {
  let json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const p = new Uint8Array(padded).fill(0x20);
  p.set(json);
  json = p;
  const out = new Uint8Array(8 + padded + data.length);
  new DataView(out.buffer).setUint32(0, padded, true);
  out.set(json, 8);
  out.set(data, 8 + padded);
  return out;
}

const f32 = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

describe('safetensors checkpoints', () => {
  it('round-trips F32 and I32 tensors and metadata, bit for bit', () => {
    const bytes = encodeCheckpoint(tensors, { method: 'groupreduce', config: '{"hidden":200}' });
    const back: Checkpoint = decodeCheckpoint(bytes);
    expect(Object.keys(back.tensors)).toEqual(Object.keys(tensors));
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.tensors[name]!;
      expect(b.shape, name).toEqual(t.shape);
      expect(b.data.constructor, name).toBe(t.data.constructor);
      expect(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength), name).toEqual(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    expect(back.metadata).toEqual({ method: 'groupreduce', config: '{"hidden":200}' });
    // decoded arrays are copies: writing them leaves the bytes alone
    (back.tensors['embedding/E']!.data as Float32Array)[0] = 99;
    expect(decodeCheckpoint(bytes).tensors['embedding/E']!.data[0]).toBe(1.5);
  });

  it('writes the safetensors layout', () => {
    const bytes = encodeCheckpoint({ a: { shape: [2], data: new Float32Array([1, 2]) }, b: { shape: [1, 1], data: new Int32Array([-1]) } }, { k: 'v' });
    const view = new DataView(bytes.buffer);
    const n = view.getUint32(0, true);
    expect(view.getUint32(4, true)).toBe(0);
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header.trimEnd().length).toBeGreaterThan(n - 8);
    expect(JSON.parse(header)).toEqual({
      __metadata__: { k: 'v' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'I32', shape: [1, 1], data_offsets: [8, 12] },
    });
    expect(bytes.length).toBe(8 + n + 12);
    expect(Array.from(bytes.subarray(8 + n))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0xff, 0xff, 0xff, 0xff]);
    // an empty checkpoint is a header alone
    expect(decodeCheckpoint(encodeCheckpoint({}))).toEqual({ tensors: {}, metadata: {} });
  });

  it('reads a file whose header was not written by us (offsets out of order, no metadata)', () => {
    const data = new Uint8Array([...f32([7]), ...f32([1, 2])]);
    const ck = decodeCheckpoint(withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] }, s: { dtype: 'F32', shape: [], data_offsets: [0, 4] } }, data));
    expect(Array.from(ck.tensors['w']!.data)).toEqual([1, 2]);
    expect(Array.from(ck.tensors['s']!.data)).toEqual([7]);
    expect(ck.metadata).toEqual({});
  });

  it('refuses truncated input, naming what is missing', () => {
    const bytes = encodeCheckpoint(tensors);
    expect(() => decodeCheckpoint(bytes.subarray(0, 5))).toThrow(/checkpoint truncated: 5 bytes, fewer than the 8-byte header length/);
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(() => decodeCheckpoint(bytes.subarray(0, 8 + n - 3))).toThrow(new RegExp(`checkpoint truncated: header of ${n} bytes, but only ${n - 3} follow the length`));
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4))).toThrow(/checkpoint tensor "softmax\/b": data_offsets \[\d+, \d+\] run past the data section of \d+ bytes \(truncated\?\)/);
  });

  it('refuses a corrupt header', () => {
    const data = f32([1, 2]);
    expect(() => decodeCheckpoint(withHeader('{"a": {"dtype": "F32", "shape": [2], ', data))).toThrow(/checkpoint header is not valid UTF-8 JSON/);
    expect(() => decodeCheckpoint(withHeader([1, 2], data))).toThrow(/checkpoint header is not a JSON object/);
    const huge = encodeCheckpoint({});
    new DataView(huge.buffer).setUint32(4, 1, true);
    expect(() => decodeCheckpoint(huge)).toThrow(/header length 4294967\d+ exceeds 100000000 bytes/);
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setUint32(0, 8, true);
    bad.set([0x7b, 0xff, 0xfe, 0x7d, 0x20, 0x20, 0x20, 0x20], 8);
    expect(() => decodeCheckpoint(bad)).toThrow(/not valid UTF-8 JSON/);
    expect(() => decodeCheckpoint(withHeader({ a: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, data))).toThrow(/tensor "a": shape \[2,-1\] must be an array of non-negative integers/);
    expect(() => decodeCheckpoint(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data))).toThrow(/tensor "a": data_offsets \[0\] must be \[begin, end\]/);
    expect(() => decodeCheckpoint(withHeader({ a: 5 }, data))).toThrow(/tensor "a": header entry is not an object/);
    expect(() => decodeCheckpoint(withHeader({ __metadata__: { k: 1 } }, new Uint8Array(0)))).toThrow(/__metadata__ "k" is not a string/);
  });

  it('refuses offsets out of range, gaps and overlaps', () => {
    const data = f32([1, 2, 3]);
    expect(() => decodeCheckpoint(withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [4, 16] } }, data))).toThrow(/tensor "a": data_offsets \[4, 16\] run past the data section of 12 bytes/);
    expect(() => decodeCheckpoint(withHeader({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, data))).toThrow(/tensor "a": data_offsets \[8, 4\] end before they begin/);
    expect(() => decodeCheckpoint(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data))).toThrow(/tensor "b": data_offsets begin at 4, expected 8 \(overlaps the previous tensor\)/);
    expect(() => decodeCheckpoint(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data))).toThrow(/tensor "a": data_offsets begin at 4, expected 0 \(a gap before it\)/);
    expect(() => decodeCheckpoint(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data))).toThrow(/4 bytes after its last tensor/);
  });

  it('refuses a dtype it does not read, or one whose size does not match the bytes', () => {
    const data = f32([1, 2]);
    expect(() => decodeCheckpoint(withHeader({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, data))).toThrow(/tensor "a": dtype "F64" is not supported \(F32, I32\)/);
    expect(() => decodeCheckpoint(withHeader({ a: { dtype: 'I32', shape: [3], data_offsets: [0, 8] } }, data))).toThrow(/tensor "a": I32 shape \[3\] needs 12 bytes, data_offsets span 8/);
    expect(() => decodeCheckpoint(withHeader({ a: { shape: [2], data_offsets: [0, 8] } }, data))).toThrow(/dtype undefined is not supported/);
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeCheckpoint({ a: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/tensor "a": shape \[2,2\] holds 4 values, data has 3/);
    expect(() => encodeCheckpoint({ a: { shape: [2], data: new Float64Array(2) as unknown as Float32Array } })).toThrow(/tensor "a": data must be a Float32Array or an Int32Array/);
    expect(() => encodeCheckpoint({ __metadata__: { shape: [0], data: new Float32Array(0) } })).toThrow(/"__metadata__" cannot name a tensor/);
    expect(() => encodeCheckpoint({}, { n: 3 as unknown as string })).toThrow(/metadata "n" is a number, not a string/);
    // subarrays are written from their own offset
    const big = new Float32Array([9, 8, 7, 6]);
    expect(Array.from(decodeCheckpoint(encodeCheckpoint({ a: { shape: [2], data: big.subarray(1, 3) } })).tensors['a']!.data)).toEqual([8, 7]);
  });
});
