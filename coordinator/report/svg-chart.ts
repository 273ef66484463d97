// Inline SVG charts for the HTML report: a step chart (best-so-far over measurements) and a
// horizontal bar chart. Plain strings, no library, so the report needs nothing to view it.
import { escapeHtml } from './escape.ts';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

export interface StepSeries {
  label: string;
  color: string;
  dashed?: boolean;
  /** (x, y) where y changes, x ascending; drawn as a step line up to `lastX`. */
  points: { x: number; y: number }[];
  lastX: number;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  className: string;
  width?: number;
  height?: number;
}

const MARGIN = { left: 64, right: 16, top: 28, bottom: 44 };

/** About `count` round tick values covering [0, max]. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = 0; t <= max * (1 + 1e-9); t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

function frame(o: ChartOptions, w: number, h: number, xTicks: number[], yTicks: number[], sx: (x: number) => number, sy: (y: number) => number): string[] {
  const out: string[] = [];
  for (const t of yTicks) {
    out.push(`<line x1="${MARGIN.left}" x2="${w - MARGIN.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${sy(t) + 4}" text-anchor="end" class="tick">${fmt(t)}</text>`);
  }
  for (const t of xTicks) out.push(`<text x="${sx(t)}" y="${h - MARGIN.bottom + 16}" text-anchor="middle" class="tick">${fmt(t)}</text>`);
  out.push(`<line x1="${MARGIN.left}" x2="${w - MARGIN.right}" y1="${h - MARGIN.bottom}" y2="${h - MARGIN.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${h - MARGIN.bottom}" stroke="#333"/>`);
  out.push(`<text x="${(MARGIN.left + w - MARGIN.right) / 2}" y="${h - 8}" text-anchor="middle" class="axis">${escapeHtml(o.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${(MARGIN.top + h - MARGIN.bottom) / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeHtml(o.yLabel)}</text>`);
  out.push(`<text x="${MARGIN.left}" y="16" class="chart-title">${escapeHtml(o.title)}</text>`);
  return out;
}

/** Best-so-far curves: one step line per series, a legend under the plot. */
export function stepChart(series: StepSeries[], o: ChartOptions): string {
  const w = o.width ?? 640, plotH = o.height ?? 300;
  const legendH = 18 * series.length + 6;
  const h = plotH + legendH;
  const maxX = Math.max(1, ...series.map((s) => s.lastX));
  const maxY = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.y)));
  const xTicks = niceTicks(maxX), yTicks = niceTicks(maxY || 1);
  const xTop = xTicks[xTicks.length - 1], yTop = yTicks[yTicks.length - 1];
  const sx = (x: number) => +(MARGIN.left + (x / xTop) * (w - MARGIN.left - MARGIN.right)).toFixed(1);
  const sy = (y: number) => +(plotH - MARGIN.bottom - (y / yTop) * (plotH - MARGIN.top - MARGIN.bottom)).toFixed(1);
  const out = frame(o, w, plotH, xTicks, yTicks, sx, sy);
  series.forEach((s, i) => {
    if (s.points.length) {
      let d = `M${sx(s.points[0].x)},${sy(s.points[0].y)}`;
      for (let k = 1; k < s.points.length; k++) d += ` H${sx(s.points[k].x)} V${sy(s.points[k].y)}`;
      d += ` H${sx(s.lastX)}`;
      const last = s.points[s.points.length - 1];
      out.push(`<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}>` +
        `<title>${escapeHtml(s.label)}: best ${fmt(last.y)} after measurement ${last.x}</title></path>`);
    }
    const ly = plotH + 14 + 18 * i;
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
    out.push(`<text x="${MARGIN.left + 30}" y="${ly}" class="legend">${escapeHtml(s.label)}${s.points.length ? '' : ' (no valid measurement)'}</text>`);
  });
  return `<svg class="${o.className}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(o.title)}">${out.join('')}</svg>`;
}

export interface Bar {
  label: string;
  value: number;
  color: string;
  /** Text after the bar (e.g. "412 GFLOP/s, 31x ref"). */
  note: string;
  hatched?: boolean;
}

/** Horizontal bars, longest = largest value, labels on the left. */
export function barChart(bars: Bar[], o: Omit<ChartOptions, 'xLabel' | 'yLabel'> & { unit: string; id: string }): string {
  const w = o.width ?? 900, rowH = 26, labelW = 300, noteW = 220;
  const h = 28 + rowH * bars.length + 8;
  const max = Math.max(1e-12, ...bars.map((b) => b.value));
  const scale = (w - labelW - noteW - 16) / max;
  const out: string[] = [`<text x="0" y="16" class="chart-title">${escapeHtml(o.title)}</text>`];
  out.push(`<defs><pattern id="${o.id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="3"/></pattern></defs>`);
  bars.forEach((b, i) => {
    const y = 28 + rowH * i;
    const width = Math.max(1, b.value * scale).toFixed(1);
    const label = b.label.length > 44 ? `${b.label.slice(0, 43)}…` : b.label;
    out.push(`<text x="${labelW - 6}" y="${y + 15}" text-anchor="end" class="legend"><title>${escapeHtml(b.label)}</title>${escapeHtml(label)}</text>`);
    out.push(`<rect class="bar" x="${labelW}" y="${y + 3}" width="${width}" height="${rowH - 8}" fill="${b.hatched ? `url(#${o.id}-hatch)` : b.color}" stroke="${b.color}"><title>${escapeHtml(`${b.label}: ${fmt(b.value)} ${o.unit}`)}</title></rect>`);
    out.push(`<text x="${labelW + Number(width) + 6}" y="${y + 15}" class="legend">${escapeHtml(b.note)}</text>`);
  });
  return `<svg class="${o.className}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(o.title)}">${out.join('')}</svg>`;
}
