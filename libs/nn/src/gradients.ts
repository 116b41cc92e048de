// Gradients of the tfjs-core kernels the LSTM LM records on the tape.
//
// tfjs-core's Node bundle (the `main` every package here loads) registers no gradients: the
// @tensorflow/tfjs umbrella package does, from ESM files that Node cannot import directly. We
// register the few we need, and only where none is registered (a loaded umbrella package wins).
import * as tf from '@tensorflow/tfjs-core';

type Attrs = tf.NamedAttrMap;

/** Sums dy over the axes along which x was broadcast to dy's shape: dy:[…out] → […x.shape]. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  return axes.length > 0 ? tf.reshape(tf.sum(dy, axes), shape) : dy;
}

const asFloat = (x: tf.Tensor) => (x.dtype === 'float32' ? x : tf.cast(x, 'float32'));

const CONFIGS: tf.GradConfig[] = [
  {
    kernelName: tf.Add,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape), b: () => unbroadcast(dy as tf.Tensor, b.shape) };
    },
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape), b: () => tf.neg(unbroadcast(dy as tf.Tensor, b.shape)) };
    },
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      return {
        a: () => unbroadcast(tf.mul(dy as tf.Tensor, asFloat(b)), a.shape),
        b: () => unbroadcast(tf.mul(dy as tf.Tensor, asFloat(a)), b.shape),
      };
    },
  },
  { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy as tf.Tensor) }) },
  { kernelName: tf.Identity, gradFunc: (dy) => ({ x: () => asFloat(dy as tf.Tensor) }) },
  {
    kernelName: tf.Reshape,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as tf.Tensor, saved[0]!.shape) }),
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: Attrs) => {
      const x = saved[0]!;
      const axes = tf.util.parseAxisParam(attrs['axis'] as number | number[], x.shape);
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      return { x: () => tf.mul(tf.reshape(dy as tf.Tensor, kept), tf.ones(x.shape, 'float32')) };
    },
  },
  {
    kernelName: tf.Sigmoid,
    outputsToSave: [true],
    // y' = y(1 − y)
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(saved[0]!, tf.sub(1, saved[0]!))) }),
  },
  {
    kernelName: tf.Tanh,
    outputsToSave: [true],
    // y' = 1 − y²
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.sub(1, tf.square(saved[0]!))) }),
  },
  {
    kernelName: tf.Slice,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: Attrs) => {
      const x = saved[0]!;
      const [begin = [], size = []] = tf.slice_util.parseSliceParams(x, attrs['begin'] as number[], attrs['size'] as number[]);
      const paddings = x.shape.map((d, i) => [begin[i]!, d - begin[i]! - size[i]!] as [number, number]);
      return { x: () => tf.pad(dy as tf.Tensor, paddings) };
    },
  },
  {
    kernelName: tf.Transpose,
    // dx = transpose(dy, perm⁻¹)
    gradFunc: (dy, _saved, attrs: Attrs) => {
      const perm = attrs['perm'] as number[];
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return { x: () => tf.transpose(dy as tf.Tensor, inverse) };
    },
  },
  {
    kernelName: tf.SplitV,
    gradFunc: (dy, _saved, attrs: Attrs) => ({ x: () => tf.concat(dy as tf.Tensor[], attrs['axis'] as number) }),
  },
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs: Attrs) => {
      const axis = tf.util.parseAxisParam(attrs['axis'] as number, saved[0]!.shape)[0]!;
      const parts = tf.split(dy as tf.Tensor, saved.map((t) => t.shape[axis]!), axis);
      return Object.fromEntries(parts.map((p, i) => [String(i), () => p]));
    },
  },
];

let registered = false;

/** Registers the gradients above where tfjs-core has none; idempotent and cheap. */
export function ensureGradients(): void {
  if (registered) return;
  registered = true;
  for (const config of CONFIGS) if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
}
