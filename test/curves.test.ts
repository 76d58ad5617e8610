// bench/curves.ts: the two-engine validation-curve chart of docs/RESULTS.md.
import { describe, expect, it } from 'vitest';
import { compareCurvesSvg } from '../bench/curves.js';

const widthOf = (svg: string): number => Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);

describe('compareCurvesSvg', () => {
  it('draws one path per run and a legend entry per engine with its run count', () => {
    const svg = compareCurvesSvg('t <&>', [
      { label: 'ours (WebGPU)', color: '#1f77b4', runs: [[0.1, 0.5, 0.7], [0.2, 0.4]] },
      { label: 'PyTorch', color: '#d62728', runs: [[0.3, 0.6, 0.8, 0.9]] },
    ]);
    expect(svg.match(/<path /g)!.length).toBe(3);
    expect(svg).toContain('>ours (WebGPU) (2 runs)</text>');
    expect(svg).toContain('>PyTorch (1 run)</text>');
    expect(svg).toContain('t &lt;&amp;&gt;');
  });

  it('widens the canvas so that a long legend entry is not clipped', () => {
    const legendRight = (label: string): number => {
      const svg = compareCurvesSvg('t', [{ label, color: '#000', runs: [[0.5, 0.6]] }]);
      const x = Number(/<text x="(\d+)" y="[\d.]+">[^<]*\(1 run\)<\/text>/.exec(svg)![1]);
      // 12-px sans-serif runs at about 6.5 px a character
      return widthOf(svg) - (x + 6.5 * `${label} (1 run)`.length);
    };
    expect(legendRight('ours (WebGPU)')).toBeGreaterThanOrEqual(0);
    expect(legendRight('ours (WebGPU), width 1/2, one augmented copy')).toBeGreaterThanOrEqual(0);
    expect(widthOf(compareCurvesSvg('t', [{ label: 'a', color: '#000', runs: [] }]))).toBe(880);
  });
});
