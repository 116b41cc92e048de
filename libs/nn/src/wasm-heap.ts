// Direct access to tensor memory for the JS loops of the fused ops (fused.ts): on the wasm backend
// a tensor's float32 data lives in the WebAssembly heap, where JS reads and writes it in place
// (no download, no upload, no fresh JS buffer per step: on this class of VM a fresh 16 MB
// buffer costs ≈ 60 ms of page faults on first touch, more than the arithmetic done on it).
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm used here (public methods of that class). */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function wasmBackend(): WasmBackend | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const b = tf.backend() as unknown as Partial<WasmBackend>;
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function' ? (b as WasmBackend) : undefined;
}

/** True where the fused ops take their fast path: the current backend is wasm. */
export function heapAccess(): boolean {
  return wasmBackend() !== undefined;
}

/**
 * A float32 tensor's data, in place on wasm (a view into the heap: valid until the next tensor
 * is allocated, which may grow and move the heap; writing through it changes the tensor), a
 * copy elsewhere.
 */
export function view(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`view: a ${t.dtype} tensor, float32 expected`);
  const b = wasmBackend();
  return b ? (b.typedArrayFromHeap(t) as Float32Array) : (t.dataSync() as Float32Array);
}

/**
 * A new float32 tensor whose values `fill` writes: on wasm straight into its (uninitialized)
 * heap memory, elsewhere into a fresh array then uploaded. `fill` must write every element.
 */
export function fillTensor<R extends tf.Rank = tf.Rank>(shape: number[], fill: (out: Float32Array) => void): tf.Tensor<R> {
  const b = wasmBackend();
  if (!b) {
    const out = new Float32Array(shape.reduce((a, d) => a * d, 1));
    fill(out);
    return tf.tensor(out, shape) as unknown as tf.Tensor<R>;
  }
  const info = b.makeOutput(shape, 'float32');
  const t = tf.engine().makeTensorFromTensorInfo(info) as unknown as tf.Tensor<R>;
  fill(b.typedArrayFromHeap(info) as Float32Array);
  return t;
}

/**
 * New float32 tensors of these shapes, whose values `fill` writes into all of them at once
 * (uninitialized heap memory on wasm: `fill` must write every element of each). The views it gets
 * are taken after the last allocation, so none of them is stale.
 */
export function fillTensors(shapes: number[][], fill: (outs: Float32Array[]) => void): tf.Tensor[] {
  const b = wasmBackend();
  if (!b) {
    const outs = shapes.map((s) => new Float32Array(s.reduce((a, d) => a * d, 1)));
    fill(outs);
    return outs.map((o, i) => tf.tensor(o, shapes[i]));
  }
  const infos = shapes.map((s) => b.makeOutput(s, 'float32'));
  const ts = infos.map((info) => tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor);
  fill(infos.map((info) => b.typedArrayFromHeap(info) as Float32Array));
  return ts;
}

// exp(x) in double precision to ≈ 1e-8 relative, several times faster than Math.exp in V8:
// x = (k + r)·ln 2 with integer k and |r| ≤ 1/2, 2^r by its degree-7 Taylor series in r·ln 2
// (remainder < 5e-9), 2^k from a table. Below −103 (float32 underflow) it returns 0; above 88
// it saturates at exp(88).
const POW2_MIN = -160;
const POW2 = Float64Array.from({ length: 129 - POW2_MIN }, (_, i) => 2 ** (i + POW2_MIN));

export function fastExp(x: number): number {
  if (x < -103) return 0;
  if (x > 88) x = 88;
  const y = x * Math.LOG2E;
  const k = Math.floor(y + 0.5);
  const t = (y - k) * Math.LN2;
  const p = 1 + t * (1 + t * (1 / 2 + t * (1 / 6 + t * (1 / 24 + t * (1 / 120 + t * (1 / 720 + t * (1 / 5040)))))));
  return p * POW2[k - POW2_MIN]!;
}
