// The Markdown of notes, parsed into blocks and inline runs that the page renders as React
// elements (never as HTML: a note's text is always text). The subset: headings (#, ##, ###),
// paragraphs, lists (- or * or 1.), fenced code, quotes (>), and inline `code`, **strong**,
// *emphasis* (or _emphasis_) and [links](https://…) — links only to http(s), mailto or a path
// on this site; any other target stays text.

export type Inline = { t: 'text'; v: string } | { t: 'code'; v: string } | { t: 'strong' | 'em'; c: Inline[] } | { t: 'link'; href: string; c: Inline[] };

export type Block =
  | { type: 'h'; level: 1 | 2 | 3; c: Inline[] }
  | { type: 'p'; c: Inline[] }
  | { type: 'quote'; c: Inline[] }
  | { type: 'ul' | 'ol'; items: Inline[][] }
  | { type: 'code'; text: string };

/** A link target a note may have: http(s), mailto, or a path here (not `//host`). */
export function safeHref(href: string): string | null {
  const h = href.trim();
  if (/^(https?:|mailto:)/i.test(h)) return h;
  if (h.startsWith('/') && !h.startsWith('//')) return h;
  return null;
}

/** Inline runs of one line of text. */
export function parseInline(s: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push({ t: 'text', v: text });
    text = '';
  };
  let i = 0;
  while (i < s.length) {
    const rest = s.slice(i);
    let m: RegExpMatchArray | null;
    if ((m = rest.match(/^`([^`]+)`/))) {
      flush();
      out.push({ t: 'code', v: m[1]! });
    } else if ((m = rest.match(/^\*\*(.+?)\*\*/))) {
      flush();
      out.push({ t: 'strong', c: parseInline(m[1]!) });
    } else if ((m = rest.match(/^\*([^*\s](?:[^*]*[^*\s])?)\*/)) || (m = rest.match(/^_([^_\s](?:[^_]*[^_\s])?)_(?![A-Za-z0-9])/))) {
      flush();
      out.push({ t: 'em', c: parseInline(m[1]!) });
    } else if ((m = rest.match(/^\[([^\]]+)\]\(([^)\s]+)\)/))) {
      const href = safeHref(m[2]!);
      if (href) {
        flush();
        out.push({ t: 'link', href, c: parseInline(m[1]!) });
      } else {
        text += m[0];
      }
    } else {
      text += s[i];
      i += 1;
      continue;
    }
    i += m[0].length;
  }
  flush();
  return out;
}

/** The blocks of a note. */
export function parseMarkdown(src: string): Block[] {
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const endPara = () => {
    if (para.length) blocks.push({ type: 'p', c: parseInline(para.join(' ')) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^```/.test(line)) {
      endPara();
      const body: string[] = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]!); i++) body.push(lines[i]!);
      blocks.push({ type: 'code', text: body.join('\n') });
      continue;
    }
    const h = line.match(/^(#{1,3})\s+(.*)$/);
    if (h) {
      endPara();
      blocks.push({ type: 'h', level: h[1]!.length as 1 | 2 | 3, c: parseInline(h[2]!.trim()) });
      continue;
    }
    const item = line.match(/^\s*(?:([-*])|(\d+)[.)])\s+(.*)$/);
    if (item) {
      endPara();
      const type = item[1] ? 'ul' : 'ol';
      const last = blocks[blocks.length - 1];
      if (last && last.type === type) last.items.push(parseInline(item[3]!));
      else blocks.push({ type, items: [parseInline(item[3]!)] });
      continue;
    }
    const q = line.match(/^>\s?(.*)$/);
    if (q) {
      endPara();
      blocks.push({ type: 'quote', c: parseInline(q[1]!) });
      continue;
    }
    if (!line.trim()) endPara();
    else para.push(line.trim());
  }
  endPara();
  return blocks;
}
