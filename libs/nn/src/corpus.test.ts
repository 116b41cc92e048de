import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildVocab, clearCorpusCache, datasetSearchDirs, LmBatches, loadCorpus, resolveDataset, tokenize } from './corpus.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'lmsweep-corpus-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function dataset(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(tmp, name);
  for (const [f, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, f), content, { flag: 'w' });
  }
  return dir;
}

function mk(name: string, files: Record<string, string | Buffer>) {
  mkdirSync(path.join(tmp, name), { recursive: true });
  return dataset(name, files);
}

describe('tokenize and vocabulary', () => {
  it('appends <eos> to every line, blank lines included', () => {
    expect(tokenize(' a b \n\nc\n')).toEqual(['a', 'b', '<eos>', '<eos>', 'c', '<eos>']);
    expect(tokenize('a b')).toEqual(['a', 'b', '<eos>']);
    expect(tokenize('a\r\nb\r\n')).toEqual(['a', '<eos>', 'b', '<eos>']);
  });
  it('orders by frequency, ties by code units, and caps keeping <eos> and <unk>', () => {
    const words = tokenize('b a c\na b\nd\n');
    expect(buildVocab(words)).toEqual(['<eos>', 'a', 'b', 'c', 'd']);
    expect(buildVocab(words, 3)).toEqual(['<eos>', 'a', '<unk>']); // <unk> by its train count (0)
    expect(() => buildVocab(words, 1)).toThrow(/vocabSize must be an integer ≥ 2/);
  });
});

describe('loadCorpus', () => {
  it('reads plain and gzip files alike, mapping unknown words to an added <unk>', async () => {
    const train = 'the cat sat\nthe dog sat\n';
    const plain = mk('plain', { 'x.train.txt': train, 'x.valid.txt': 'the bird sat\n', 'x.test.txt': 'the cat\n' });
    const gz = mk('gz', { 'x.train.txt.gz': gzipSync(train), 'x.valid.txt.gz': gzipSync('the bird sat\n'), 'y.test.txt.gz': gzipSync('the cat\n') });
    const a = await loadCorpus(plain);
    const b = await loadCorpus(gz);
    expect(a.vocab).toEqual(['<eos>', 'sat', 'the', 'cat', 'dog', '<unk>']);
    expect(b.vocab).toEqual(a.vocab);
    expect(Array.from(a.train)).toEqual([2, 3, 1, 0, 2, 4, 1, 0]);
    expect(Array.from(b.valid)).toEqual([2, 5, 1, 0]);
    expect(Array.from(b.test)).toEqual([2, 3, 0]);
    expect(a.dir).toBe(plain);
  });

  it('caps the vocabulary, maps the rest to <unk>, and caches per (dir, vocabSize)', async () => {
    const dir = mk('cap', { 'train.txt': 'a a a b b c\nd\n', 'valid.txt': 'a e\n', 'test.txt': 'c\n' });
    const c = await loadCorpus(dir, { vocabSize: 3 });
    expect(c.vocab).toEqual(['a', '<eos>', '<unk>']);
    expect(Array.from(c.train)).toEqual([0, 0, 0, 2, 2, 2, 1, 2, 1]);
    expect(Array.from(c.valid)).toEqual([0, 2, 1]);
    expect(await loadCorpus(dir, { vocabSize: 3 })).toBe(c);
    expect(await loadCorpus(dir)).not.toBe(c);
  });

  it('prefers foo.txt over foo.txt.gz and names missing or ambiguous splits', async () => {
    const both = mk('both', { 'p.train.txt': 'a\n', 'p.train.txt.gz': gzipSync('b\n'), 'p.valid.txt': 'a\n', 'p.test.txt': 'a\n' });
    expect((await loadCorpus(both)).vocab).toEqual(['<eos>', 'a']);
    const missing = mk('missing', { 'train.txt': 'a\n', 'valid.txt': 'a\n' });
    await expect(loadCorpus(missing)).rejects.toThrow(/no test file/);
    const ambiguous = mk('ambiguous', { 'a.train.txt': 'a\n', 'b.train.txt': 'a\n', 'valid.txt': 'a\n', 'test.txt': 'a\n' });
    await expect(loadCorpus(ambiguous)).rejects.toThrow(/several train files \(a.train.txt, b.train.txt\)/);
  });

  it('reads PTB the standard way', async () => {
    const ptb = resolveDataset('ptb', datasetSearchDirs());
    const c = await loadCorpus(ptb);
    expect(c.vocab.length).toBe(10_000);
    expect([c.train.length, c.valid.length, c.test.length]).toEqual([929_589, 73_760, 82_430]);
    expect(c.vocab[0]).toBe('the');
    const small = await loadCorpus(ptb, { vocabSize: 500 });
    expect(small.vocab.length).toBe(500);
    expect(small.vocab).toContain('<unk>');
    expect(small.vocab).toContain('<eos>');
    expect(small.train.length).toBe(929_589);
    expect(small.vocab.slice(0, 50)).toEqual(c.vocab.slice(0, 50));
  });

  it('loads PTB without stalling the event loop, concurrent calls sharing one load', async () => {
    // Workers load the corpus after claiming a trial and heartbeat at a third of the lease (tests
    // use leases of 1.5–5 s: beats every 500 ms or more). Loading PTB in one go blocked the loop for
    // ~0.6–1.6 s (more on a loaded machine); in slices the longest gap is a few tens of ms (~100–180 ms
    // on a busy 2-core box). 400 ms: room for GC and scheduling noise on a loaded CI machine, still
    // under the shortest beat period and below the 0.6 s the one-piece load stalled even when quiet.
    const ptb = resolveDataset('ptb', datasetSearchDirs());
    clearCorpusCache();
    let last = performance.now();
    let longest = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 10);
    try {
      const p = loadCorpus(ptb);
      expect(loadCorpus(ptb)).toBe(p);
      const c = await p;
      longest = Math.max(longest, performance.now() - last);
      expect(c.vocab.length).toBe(10_000);
      expect(c.train.length).toBe(929_589);
    } finally {
      clearInterval(probe);
    }
    expect(longest).toBeLessThan(400);
  });
});

describe('resolveDataset', () => {
  it('takes paths and bundled names and lists where it looked', () => {
    const dir = mk('named', {});
    expect(resolveDataset(dir, [])).toBe(dir);
    expect(resolveDataset('named', [path.join(tmp, 'nowhere'), tmp])).toBe(dir);
    expect(resolveDataset('ptb', datasetSearchDirs())).toMatch(/data[/\\]ptb$/);
    expect(() => resolveDataset('no-such-set', [tmp])).toThrow(new RegExp(`dataset "no-such-set" not found: .*${path.join(tmp, 'no-such-set').replace(/[/\\]/g, '.')}`));
  });
  it('searches cwd/data and the repository data/', () => {
    const dirs = datasetSearchDirs();
    expect(dirs).toContain(path.resolve(process.cwd(), 'data'));
    expect(dirs.some((d) => path.basename(d) === 'data')).toBe(true);
  });
});

describe('LmBatches', () => {
  it('cuts the stream into contiguous rows read in windows, targets shifted by one', () => {
    const stream = Int32Array.from({ length: 23 }, (_, i) => i);
    const b = new LmBatches(stream, 2, 3); // rows of 11: [0..10], [11..21]
    expect(b.rowLength).toBe(11);
    expect(b.windows).toBe(3);
    const w1 = b.window(1);
    // time-major: x[t·B + b]
    expect(Array.from(w1.x)).toEqual([3, 14, 4, 15, 5, 16]);
    expect(Array.from(w1.y)).toEqual([4, 15, 5, 16, 6, 17]);
    expect(() => b.window(3)).toThrow(RangeError);
  });
});
