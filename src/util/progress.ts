// A one-line progress bar on stderr: redrawn in place on a terminal, printed
// every few seconds (and at the end) when stderr is a file or a CI log.

export class ProgressBar {
  private start = performance.now();
  private lastPrint = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'samples',
    private readonly quiet = false,
  ) {}

  update(done: number, fields: Record<string, string | number> = {}): void {
    if (this.quiet) return;
    const now = performance.now();
    const final = done >= this.total;
    if (!final && now - this.lastPrint < (this.tty ? 100 : 5000)) return;
    this.lastPrint = now;
    const elapsed = (now - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const width = 24;
    const filled = Math.round((width * Math.min(done, this.total)) / Math.max(this.total, 1));
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`)
      .join('  ');
    const line = `${this.label} ${bar} ${done}/${this.total}  ${extra}  ${rate >= 1 || rate === 0 ? `${rate.toFixed(1)} ${this.unit}/s` : `${(1 / rate).toFixed(1)} s each`}  ${final ? `${elapsed.toFixed(1)}s` : `ETA ${formatSeconds(eta)}`}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  }
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v * 100) / 100) : v.toFixed(4);
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
