// The report's knob views as inline SVG: importance bars (knob-importance.ts) and one small slice
// plot per knob — every measurement's figure at the knob's value, the best per value marked.
import { escapeHtml } from './escape.ts';
import type { KnobSlice, KnobStudy } from './knob-importance.ts';

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

export function importanceChart(study: KnobStudy, color: string): string {
  const rowH = 20, labelW = 130, barW = 220, w = labelW + barW + 60;
  const h = 24 + rowH * study.knobs.length;
  const out = [`<text x="0" y="14" class="chart-title">Knob importance</text>`];
  study.knobs.forEach((k, i) => {
    const y = 24 + rowH * i;
    out.push(`<text x="${labelW - 6}" y="${y + 13}" text-anchor="end" class="legend">${escapeHtml(k.knob)}</text>`);
    out.push(`<rect x="${labelW}" y="${y + 3}" width="${Math.max(1, k.importance * barW).toFixed(1)}" height="${rowH - 7}" fill="${color}" data-knob="${escapeHtml(k.knob)}"><title>${escapeHtml(k.knob)}: ${(100 * k.importance).toFixed(1)}% of the explained variance</title></rect>`);
    out.push(`<text x="${labelW + k.importance * barW + 6}" y="${y + 13}" class="tick">${(100 * k.importance).toFixed(0)}%</text>`);
  });
  return `<svg class="importance" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="knob importance">${out.join('')}</svg>`;
}

export function sliceChart(slice: KnobSlice, unit: string, color: string): string {
  const w = 300, h = 190, m = { left: 46, right: 8, top: 22, bottom: 40 };
  const all = slice.values.flatMap((v) => v.figures);
  const max = Math.max(...all) * 1.05 || 1;
  const plotW = w - m.left - m.right, plotH = h - m.top - m.bottom;
  const n = slice.values.length;
  const sx = (i: number) => m.left + ((i + 0.5) / n) * plotW;
  const sy = (y: number) => m.top + plotH - (y / max) * plotH;
  const out = [`<text x="${m.left}" y="14" class="chart-title">${escapeHtml(slice.knob)} <tspan class="tick">(${(100 * slice.importance).toFixed(0)}%)</tspan></text>`];
  for (const t of [0, max / 2, max]) {
    out.push(`<line x1="${m.left}" x2="${w - m.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 4}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" class="tick">${fmt(t)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${w - m.right}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`);
  const every = Math.max(1, Math.ceil(n / 8));
  slice.values.forEach((v, i) => {
    const x = sx(i);
    // Dots spread a little sideways so that equal figures stay visible.
    v.figures.forEach((f, j) => out.push(`<circle cx="${(x + ((j % 7) - 3) * 1.6).toFixed(1)}" cy="${sy(f).toFixed(1)}" r="2.4" fill="${color}" fill-opacity="0.55"/>`));
    const best = Math.max(...v.figures);
    out.push(`<line x1="${(x - 7).toFixed(1)}" x2="${(x + 7).toFixed(1)}" y1="${sy(best).toFixed(1)}" y2="${sy(best).toFixed(1)}" stroke="#111" stroke-width="2"><title>${escapeHtml(`${slice.knob} = ${v.label}: best ${fmt(best)} ${unit} of ${v.figures.length}`)}</title></line>`);
    if (i % every === 0) {
      const label = v.label.length > 12 ? `${v.label.slice(0, 11)}…` : v.label;
      out.push(`<text x="${x.toFixed(1)}" y="${m.top + plotH + 14}" text-anchor="middle" class="tick"><title>${escapeHtml(v.label)}</title>${escapeHtml(label)}</text>`);
    }
  });
  out.push(`<text x="${m.left + plotW / 2}" y="${h - 6}" text-anchor="middle" class="axis">${escapeHtml(slice.knob)} (${n} values)</text>`);
  out.push(`<text transform="translate(11 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeHtml(unit)}</text>`);
  return `<svg class="slice" data-knob="${escapeHtml(slice.knob)}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(`${slice.knob} slice`)}">${out.join('')}</svg>`;
}
