import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown, safeHref } from './markdown';

describe('markdown of notes', () => {
  it('blocks: headings, paragraphs joined across lines, lists, code, quotes', () => {
    const b = parseMarkdown('# Result\nlr 0.1\nwins\n\n- one\n- two\n1. first\n```\nnpx lmsweep report\n```\n> quoted');
    expect(b.map((x) => x.type)).toEqual(['h', 'p', 'ul', 'ol', 'code', 'quote']);
    expect(b[1]).toEqual({ type: 'p', c: [{ t: 'text', v: 'lr 0.1 wins' }] });
    expect(b[2]).toMatchObject({ items: [[{ t: 'text', v: 'one' }], [{ t: 'text', v: 'two' }]] });
    expect(b[4]).toEqual({ type: 'code', text: 'npx lmsweep report' });
  });

  it('inline: code, strong, emphasis, links; snake_case and 2*3*4 stay text', () => {
    expect(parseInline('a `x*y` **b *c* d** [docs](https://optuna.org) _d_')).toEqual([
      { t: 'text', v: 'a ' },
      { t: 'code', v: 'x*y' },
      { t: 'text', v: ' ' },
      { t: 'strong', c: [{ t: 'text', v: 'b ' }, { t: 'em', c: [{ t: 'text', v: 'c' }] }, { t: 'text', v: ' d' }] },
      { t: 'text', v: ' ' },
      { t: 'link', href: 'https://optuna.org', c: [{ t: 'text', v: 'docs' }] },
      { t: 'text', v: ' ' },
      { t: 'em', c: [{ t: 'text', v: 'd' }] },
    ]);
    expect(parseInline('valid_ppl_max and 2 * 3 * 4')).toEqual([{ t: 'text', v: 'valid_ppl_max and 2 * 3 * 4' }]);
  });

  it('links only to http(s), mailto or a path here; the rest, and any HTML, stays text', () => {
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('//evil.example/x')).toBeNull();
    expect(safeHref('/trials/t_1')).toBe('/trials/t_1');
    expect(parseInline('[x](javascript:alert(1))')).toEqual([{ t: 'text', v: '[x](javascript:alert(1))' }]);
    expect(parseMarkdown('<img src=x onerror=alert(1)>')).toEqual([{ type: 'p', c: [{ t: 'text', v: '<img src=x onerror=alert(1)>' }] }]);
  });
});
