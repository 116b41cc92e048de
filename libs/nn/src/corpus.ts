// Word-level language-modelling corpora: a directory of train/valid/test text files (plain or gzip).
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

export const EOS = '<eos>';
export const UNK = '<unk>';
export const SPLITS = ['train', 'valid', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface Corpus {
  /** Id → word; ordered by train frequency (most frequent first, ties by code-unit order). */
  vocab: string[];
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
  /** Absolute path of the dataset directory. */
  dir: string;
}

export interface LoadCorpusOptions {
  /** Keep the vocabSize most frequent train words (always with <eos> and <unk>); the rest become <unk>. */
  vocabSize?: number;
}

/** The project's data/ directory and the one under the current directory: where bundled datasets live. */
export function datasetSearchDirs(): string[] {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  return [...new Set([path.resolve(process.cwd(), 'data'), path.join(repoRoot, 'data')])];
}

/**
 * Resolves a dataset name to a directory: a path (absolute, or relative to the current
 * directory), else a bundled name looked up under each of searchDirs. Throws naming the places looked.
 */
export function resolveDataset(name: string, searchDirs: readonly string[]): string {
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  const candidates = [path.resolve(name), ...searchDirs.map((d) => path.resolve(d, name))];
  for (const c of candidates) if (isDir(c)) return c;
  throw new Error(`dataset "${name}" not found: no directory ${[...new Set(candidates)].join(', ')}`);
}

/** The file of one split in dir: a name containing the split and ending in .txt or .txt.gz. */
async function splitFile(dir: string, split: Split): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.includes(split) && /\.txt(\.gz)?$/.test(n)).sort();
  if (names.length === 0) throw new Error(`dataset ${dir}: no ${split} file (*${split}*.txt or *${split}*.txt.gz)`);
  if (names.length === 1) return path.join(dir, names[0]!);
  const plain = names.filter((n) => n.endsWith('.txt'));
  // foo.txt next to foo.txt.gz: the same text twice; read the plain one.
  if (plain.length === 1 && names.every((n) => n === plain[0] || n === `${plain[0]}.gz`)) return path.join(dir, plain[0]!);
  throw new Error(`dataset ${dir}: several ${split} files (${names.join(', ')}); keep one`);
}

/** The bytes of a file, gunzipped when gzip (off the main thread). */
async function readBytes(file: string): Promise<Buffer> {
  const buf = await readFile(file);
  const gz = buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  return gz ? await gunzipAsync(buf) : buf;
}

const gunzipAsync = promisify(gunzip);

/**
 * Loading a PTB-sized corpus takes ~1 s of CPU; done in one go it would block the event loop (and
 * so the worker's lease heartbeats). The loader does the same work in slices of a few ms (CHUNK
 * words, SLICE_BYTES of text), yielding to the event loop between slices.
 */
const CHUNK = 25_000;
const SLICE_BYTES = 64 * 1024;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
async function chunked(n: number, chunk: number, body: (from: number, to: number) => void): Promise<void> {
  for (let i = 0; i < n; i += chunk) {
    body(i, Math.min(n, i + chunk));
    await yieldToLoop();
  }
}

function lines(text: string): string[] {
  const ls = text.split(/\r?\n/);
  if (ls.length > 0 && ls[ls.length - 1] === '') ls.pop();
  return ls;
}

function pushWords(ls: readonly string[], words: string[]): void {
  for (const line of ls) {
    for (const w of line.split(/\s+/)) if (w) words.push(w);
    words.push(EOS);
  }
}

/** Words of a text, one `<eos>` after every line (a final newline ends the last line, it starts none). */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  pushWords(lines(text), words);
  return words;
}

/** tokenize(utf8 text), decoded and split a slice of whole lines at a time, yielding between slices. */
async function tokenizeAsync(buf: Buffer): Promise<string[]> {
  const words: string[] = [];
  for (let start = 0; start < buf.length; await yieldToLoop()) {
    const nl = buf.indexOf(0x0a, Math.min(start + SLICE_BYTES, buf.length) - 1);
    const end = nl < 0 ? buf.length : nl + 1; // cut after a '\n': never inside a line or a UTF-8 sequence
    pushWords(lines(buf.toString('utf8', start, end)), words);
    start = end;
  }
  return words;
}

function countWords(words: readonly string[], from: number, to: number, counts: Map<string, number>): void {
  for (let i = from; i < to; i++) counts.set(words[i]!, (counts.get(words[i]!) ?? 0) + 1);
}

/** Vocabulary from train words: by frequency, ties by code-unit order; capped at vocabSize with <eos> and <unk> kept. */
export function buildVocab(train: readonly string[], vocabSize?: number): string[] {
  const counts = new Map<string, number>();
  countWords(train, 0, train.length, counts);
  return vocabFromCounts(counts, vocabSize);
}

function vocabFromCounts(counts: ReadonlyMap<string, number>, vocabSize?: number): string[] {
  const byFreq = (a: string, b: string) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0);
  const words = [...counts.keys()].sort(byFreq);
  if (vocabSize === undefined) return words;
  if (!Number.isInteger(vocabSize) || vocabSize < 2) throw new Error(`vocabSize must be an integer ≥ 2 (room for ${EOS} and ${UNK}), got ${vocabSize}`);
  const required = [EOS, UNK];
  const kept = new Set(required);
  for (const w of words) {
    if (kept.size >= vocabSize) break;
    kept.add(w);
  }
  return [...kept].sort(byFreq);
}

async function encode(words: readonly string[], index: ReadonlyMap<string, number>): Promise<Int32Array> {
  const unk = index.get(UNK);
  const out = new Int32Array(words.length);
  await chunked(words.length, CHUNK, (from, to) => {
    for (let i = from; i < to; i++) {
      const id = index.get(words[i]!) ?? unk;
      if (id === undefined) throw new Error(`word "${words[i]}" is not in the vocabulary and there is no ${UNK}`);
      out[i] = id;
    }
  });
  return out;
}

const cache = new Map<string, Promise<Corpus>>();

/**
 * Loads a dataset directory: train/valid/test files matched as *train*.txt(.gz) etc., read the
 * standard way (an `<eos>` after every line, vocabulary from train; valid/test words outside it
 * become `<unk>`, which is added when missing). Cached by (dir, vocabSize) for the process.
 */
export function loadCorpus(dir: string, opts: LoadCorpusOptions = {}): Promise<Corpus> {
  const abs = path.resolve(dir);
  const key = `${abs}\u0000${opts.vocabSize ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = readCorpus(abs, opts.vocabSize);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Forgets cached corpora (tests; memory). */
export function clearCorpusCache(): void {
  cache.clear();
}

async function readCorpus(dir: string, vocabSize: number | undefined): Promise<Corpus> {
  const files = await Promise.all(SPLITS.map((s) => splitFile(dir, s)));
  const [train, valid, test] = await Promise.all(files.map(async (f) => tokenizeAsync(await readBytes(f))));
  const counts = new Map<string, number>();
  await chunked(train!.length, CHUNK, (from, to) => countWords(train!, from, to, counts));
  const vocab = vocabFromCounts(counts, vocabSize);
  const index = new Map(vocab.map((w, i) => [w, i]));
  if (!index.has(UNK) && [valid!, test!].some((ws) => ws.some((w) => !index.has(w)))) {
    index.set(UNK, vocab.length);
    vocab.push(UNK);
  }
  return { vocab, train: await encode(train!, index), valid: await encode(valid!, index), test: await encode(test!, index), dir };
}

/**
 * Zaremba-style batches of a token stream: the stream cut into batchSize contiguous rows of
 * rowLength tokens, read in windows of `unroll` with targets shifted by one. Window i holds
 * x[t·B + b] = row b's token i·unroll + t and y the token after it (time-major, [unroll·B]).
 */
export class LmBatches {
  readonly rowLength: number;
  readonly windows: number;
  constructor(
    readonly stream: Int32Array,
    readonly batchSize: number,
    readonly unroll: number,
  ) {
    if (!(Number.isInteger(batchSize) && batchSize >= 1 && Number.isInteger(unroll) && unroll >= 1)) {
      throw new Error(`batchSize and unroll must be positive integers, got ${batchSize} and ${unroll}`);
    }
    this.rowLength = Math.floor(stream.length / batchSize);
    this.windows = Math.max(0, Math.floor((this.rowLength - 1) / unroll));
  }

  /** Window i (0 ≤ i < windows): inputs and targets, each [unroll·batchSize] time-major. */
  window(i: number): { x: Int32Array; y: Int32Array } {
    if (!(i >= 0 && i < this.windows)) throw new RangeError(`window ${i} outside 0..${this.windows - 1}`);
    const { batchSize: B, unroll: T, rowLength: L, stream } = this;
    const x = new Int32Array(T * B);
    const y = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      const base = b * L + i * T;
      for (let t = 0; t < T; t++) {
        x[t * B + b] = stream[base + t]!;
        y[t * B + b] = stream[base + t + 1]!;
      }
    }
    return { x, y };
  }
}
