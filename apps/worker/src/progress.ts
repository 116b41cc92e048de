// A one-line progress bar with ETA for the worker's terminal.

export interface ProgressLine {
  update(text: { label: string; fraction: number; detail: string; etaSeconds?: number }): void;
  done(message?: string): void;
}

function fmtEta(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

/** On a TTY: redraws one line at most 10 times a second. Elsewhere: a line every 10%. */
export function progressLine(stream: NodeJS.WriteStream = process.stderr, width = 24): ProgressLine {
  let last = 0;
  let lastDecile = -1;
  const tty = Boolean(stream.isTTY);
  return {
    update({ label, fraction, detail, etaSeconds }) {
      const f = Math.min(1, Math.max(0, fraction));
      if (tty) {
        const now = Date.now();
        if (now - last < 100 && f < 1) return;
        last = now;
        const filled = Math.round(f * width);
        const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
        const line = `${label} ${bar} ${(f * 100).toFixed(0).padStart(3)}% ${detail} ETA ${fmtEta(etaSeconds)}`;
        stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 120) - 1)}`);
      } else {
        const decile = Math.floor(f * 10);
        if (decile === lastDecile) return;
        lastDecile = decile;
        stream.write(`${label} ${(f * 100).toFixed(0)}% ${detail} ETA ${fmtEta(etaSeconds)}\n`);
      }
    },
    done(message) {
      if (tty) stream.write('\r\x1b[2K');
      if (message) stream.write(`${message}\n`);
      lastDecile = -1;
    },
  };
}
