// Line-anchored links in the documentation point at what they name. A link such
// as [`trainStep`](../src/train/engine.ts#L80) goes stale silently when code
// moves; this test resolves every `](PATH#L<n>)` (or `#L<n>-L<m>`) link in
// README.md and docs/**/*.md against the working tree and checks that the file
// exists, is long enough, and — when the link text is a backticked identifier —
// that line n still contains that identifier. No GPU; only files of this repository.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The walkthrough must keep at least this many anchored links, so the test cannot pass vacuously. */
const WALKTHROUGH_MIN_LINKS = 20;

interface AnchoredLink {
  /** The whole `[text](target)` as written, for messages. */
  raw: string;
  text: string;
  /** Target path as written (before the anchor). */
  target: string;
  first: number;
  last: number;
  /** Line of the Markdown file the link is on. */
  docLine: number;
}

/** Markdown files checked: README.md and every .md under docs/. */
function markdownFiles(): string[] {
  const out = [join(ROOT, 'README.md')];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) out.push(path);
    }
  };
  walk(join(ROOT, 'docs'));
  return out;
}

/** Anchored links outside fenced code blocks; URLs (scheme:) are not repository files and are skipped. */
function anchoredLinks(markdown: string): AnchoredLink[] {
  const links: AnchoredLink[] = [];
  let fenced = false;
  markdown.split(/\r?\n/).forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    for (const m of line.matchAll(/\[([^\]]*)\]\(([^)\s#]+)#L(\d+)(?:-L(\d+))?\)/g)) {
      const target = m[2]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const first = Number(m[3]);
      links.push({ raw: m[0], text: m[1]!, target, first, last: m[4] === undefined ? first : Number(m[4]), docLine: i + 1 });
    }
  });
  return links;
}

/** The identifier a link text names: the inside of `…` when the whole text is one code span. */
function identifierOf(text: string): string | null {
  const m = /^`([^`]+)`$/.exec(text.trim());
  return m ? m[1]!.trim() : null;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `line` contains `name` as a whole word (so `dense` does not match a line defining `denseForward`). */
function containsWord(line: string, name: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_$])${escapeRegExp(name)}($|[^A-Za-z0-9_$])`).test(line);
}

/** A line that defines `name` as a function, class, WGSL fn, struct, constant, type or interface. */
function definitionPattern(name: string): RegExp {
  return new RegExp(`(^|[^A-Za-z0-9_$])(function\\*?|class|fn|struct|const|let|var|override|interface|type|enum)\\s+${escapeRegExp(name)}($|[^A-Za-z0-9_$])`);
}

/** `Class.method` may point at the line that defines `method`. */
function lineNames(line: string, ident: string): boolean {
  if (containsWord(line, ident)) return true;
  const dot = ident.lastIndexOf('.');
  return dot > 0 && dot < ident.length - 1 && containsWord(line, ident.slice(dot + 1));
}

const fileLines = new Map<string, string[]>();
function linesOf(path: string): string[] {
  let lines = fileLines.get(path);
  if (!lines) {
    lines = readFileSync(path, 'utf8').split(/\r?\n/);
    // A final newline ends the last line; it does not start another one.
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    fileLines.set(path, lines);
  }
  return lines;
}

/** Every problem with one link, as messages naming the doc, the link and what the line holds now. */
function problemsOf(doc: string, link: AnchoredLink): string[] {
  const where = `${relative(ROOT, doc)}:${link.docLine} ${link.raw}`;
  const path = resolve(dirname(doc), decodeURIComponent(link.target));
  if (path !== ROOT && !path.startsWith(ROOT + sep)) return [`${where}: target ${relative(ROOT, path)} lies outside the repository`];
  if (!existsSync(path) || !statSync(path).isFile()) return [`${where}: ${relative(ROOT, path)} does not exist`];
  const lines = linesOf(path);
  const problems: string[] = [];
  if (link.first < 1 || link.last < link.first) problems.push(`${where}: invalid line range L${link.first}-L${link.last}`);
  const need = Math.max(link.first, link.last);
  if (lines.length < need) return [...problems, `${where}: ${relative(ROOT, path)} has ${lines.length} lines, fewer than ${need}`];
  const ident = identifierOf(link.text);
  const line = lines[link.first - 1] ?? '';
  if (ident !== null && !lineNames(line, ident)) {
    const found = lines.findIndex((l) => lineNames(l, ident));
    const hint = found >= 0 ? ` (first line naming it: L${found + 1})` : ' (no line of the file names it)';
    problems.push(`${where}: line ${link.first} does not contain ${ident}; it now reads ${JSON.stringify(line.trim())}${hint}`);
  } else if (ident !== null && !ident.includes('.')) {
    // Where the file defines the symbol, the link points at the definition, not at a
    // call that happens to sit on the old line number.
    const defines = definitionPattern(ident);
    const found = lines.findIndex((l) => defines.test(l));
    if (found >= 0 && !defines.test(line)) {
      problems.push(`${where}: line ${link.first} uses ${ident} but L${found + 1} defines it; it now reads ${JSON.stringify(line.trim())}`);
    }
  }
  return problems;
}

describe('line-anchored links in the docs', () => {
  for (const doc of markdownFiles()) {
    it(`${relative(ROOT, doc)}: every #L link names a line that still holds its symbol`, () => {
      const links = anchoredLinks(readFileSync(doc, 'utf8'));
      const problems = links.flatMap((l) => problemsOf(doc, l));
      expect(problems, `${problems.length} stale link(s) of ${links.length} in ${relative(ROOT, doc)}`).toEqual([]);
    });
  }

  it(`docs/WALKTHROUGH.md has at least ${WALKTHROUGH_MIN_LINKS} anchored links`, () => {
    const path = join(ROOT, 'docs', 'WALKTHROUGH.md');
    expect(existsSync(path), 'docs/WALKTHROUGH.md exists').toBe(true);
    expect(anchoredLinks(readFileSync(path, 'utf8')).length).toBeGreaterThanOrEqual(WALKTHROUGH_MIN_LINKS);
  });

  it('the checker itself: parses ranges, skips URLs and code fences, matches Class.method and whole words only', () => {
    const md = [
      'See [`Graph.backward`](../src/autograd/tensor.ts#L3-L5) and [text](a.ts#L2).',
      '[site](https://example.com/x.ts#L9)',
      '```',
      '[`hidden`](nowhere.ts#L1)',
      '```',
    ].join('\n');
    const links = anchoredLinks(md);
    expect(links.map((l) => [l.target, l.first, l.last, l.docLine])).toEqual([
      ['../src/autograd/tensor.ts', 3, 5, 1],
      ['a.ts', 2, 2, 1],
    ]);
    expect(identifierOf(links[0]!.text)).toBe('Graph.backward');
    expect(identifierOf(links[1]!.text)).toBeNull();
    expect(lineNames('  backward(): void {', 'Graph.backward')).toBe(true);
    expect(lineNames('@compute fn main(', 'fn main')).toBe(true);
    expect(lineNames('export function denseForward(', 'dense')).toBe(false);
    expect(lineNames('export function dense(g: Graph', 'dense')).toBe(true);
  });
});
