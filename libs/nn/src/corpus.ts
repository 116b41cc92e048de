// Word-level language-modelling corpora: a directory of train/valid/test text files (plain or gzip).
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

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

async function readText(file: string): Promise<string> {
  const buf = await readFile(file);
  const gz = buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  return (gz ? gunzipSync(buf) : buf).toString('utf8');
}

/** Words of a text, one `<eos>` after every line (a final newline ends the last line, it starts none). */
export function tokenize(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const words: string[] = [];
  for (const line of lines) {
    for (const w of line.split(/\s+/)) if (w) words.push(w);
    words.push(EOS);
  }
  return words;
}

/** Vocabulary from train words: by frequency, ties by code-unit order; capped at vocabSize with <eos> and <unk> kept. */
export function buildVocab(train: readonly string[], vocabSize?: number): string[] {
  const counts = new Map<string, number>();
  for (const w of train) counts.set(w, (counts.get(w) ?? 0) + 1);
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

function encode(words: readonly string[], index: ReadonlyMap<string, number>): Int32Array {
  const unk = index.get(UNK);
  const out = new Int32Array(words.length);
  for (let i = 0; i < words.length; i++) {
    const id = index.get(words[i]!) ?? unk;
    if (id === undefined) throw new Error(`word "${words[i]}" is not in the vocabulary and there is no ${UNK}`);
    out[i] = id;
  }
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
  const [train, valid, test] = await Promise.all(files.map(async (f) => tokenize(await readText(f))));
  const vocab = buildVocab(train!, vocabSize);
  const index = new Map(vocab.map((w, i) => [w, i]));
  if (!index.has(UNK) && [valid!, test!].some((ws) => ws.some((w) => !index.has(w)))) {
    index.set(UNK, vocab.length);
    vocab.push(UNK);
  }
  return { vocab, train: encode(train!, index), valid: encode(valid!, index), test: encode(test!, index), dir };
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
