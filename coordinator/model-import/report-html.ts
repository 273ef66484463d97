// The model report as one self-contained HTML page: the totals, a bar chart of each layer's time
// x count (ours next to the library's), and the table. Inline SVG and CSS: viewable offline.
import { escapeHtml } from '../report/escape.ts';
import { barChart, PALETTE } from '../report/svg-chart.ts';
import type { LayerReport, ModelReport } from './model-report.ts';

const us = (s: number | null) => (s === null ? '–' : s >= 1e-3 ? `${(s * 1e3).toFixed(3)} ms` : `${(s * 1e6).toFixed(1)} µs`);
const ratio = (a: number | null, b: number | null) => (a && b ? `${(a / b).toFixed(2)}x` : '–');
const libSeconds = (r: LayerReport) => ('seconds' in r.library ? r.library.seconds : null);

export function renderModelReport(report: ModelReport, options: { generatedAt: string; simulated: boolean; host?: string }): string {
  const lib = report.totals.libraryName ?? 'library';
  const bars = report.rows.flatMap((r, i) => [
    { label: `#${i + 1} ${r.layer.op} x${r.layer.count} (ours)`, value: (r.ours ?? 0) * r.layer.count * 1e6, note: `ours ${us(r.ours === null ? null : r.ours * r.layer.count)}`, color: PALETTE[0] },
    { label: `#${i + 1} ${lib}`, value: (libSeconds(r) ?? 0) * r.layer.count * 1e6, note: 'seconds' in r.library ? `${lib} ${us(r.library.seconds * r.layer.count)}` : r.library.missing.slice(0, 40), color: PALETTE[1], hatched: !('seconds' in r.library) },
  ]);
  const c = report.comparedTotals;
  const missing = [...new Set(report.rows.flatMap((r) => ('missing' in r.library ? [r.library.missing] : [])))];
  const rows = report.rows.map((r, i) => `<tr><td>${i + 1}</td><td class="w">${escapeHtml(r.layer.workload)}</td><td>${r.layer.count}</td><td>${(100 * r.layer.share).toFixed(1)}%</td>` +
    `<td>${r.measurements}</td><td>${us(r.ours)}</td><td>${'seconds' in r.library ? us(r.library.seconds) : `<span title="${escapeHtml(r.library.missing)}">–*</span>`}</td>` +
    `<td>${ratio(libSeconds(r), r.ours)}</td><td>${us(r.reference)}</td><td>${ratio(r.reference, r.ours)}</td><td class="note">${escapeHtml(r.error ?? '')}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flexfarm model report: ${escapeHtml(report.model)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin-top: 16px; } td, th { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: right; }
td { white-space: nowrap; } td.w { text-align: left; font-family: monospace; font-size: 12px; } .note { color: #777; font-size: 12px; text-align: left; }
.chart-title { font-weight: 600; font-size: 14px; } .legend { font-size: 12px; } .sim { color: #b00; font-weight: 600; }
</style></head><body>
<h1>${escapeHtml(report.model)}</h1>
${options.simulated ? '<p class="sim">SIMULATED: the sim target is an analytical landscape, not a device measurement.</p>' : ''}
<p>${escapeHtml(report.target)} · ${escapeHtml(report.device)} · ${report.rows.length} tunable layers · generated ${escapeHtml(options.generatedAt)}.
Every figure was measured now on this host with one timing protocol: our best kernel from the log, ${escapeHtml(lib)} at the same shape, and the unscheduled reference${options.host ? ` (${escapeHtml(options.host)})` : ''}. The table numbers the layers as the chart does.</p>
${report.compared ? `<p><b>Model total (tunable layers, time x count)</b> over the ${report.compared} of ${report.rows.length} layers all three figures exist for:
ours ${us(c.ours)}, ${escapeHtml(lib)} ${us(c.library)} (ours ÷ ${escapeHtml(lib)} = ${c.library ? (c.ours / c.library).toFixed(2) : '–'}),
unscheduled reference ${us(c.reference)} (${ratio(c.reference, c.ours)} ours).</p>`
    : `<p><b>Model total (tunable layers, time x count)</b>: ours ${us(report.totals.ours)}, unscheduled reference ${us(report.totals.reference)}; no layer has a library figure (${escapeHtml(missing.join('; '))}).</p>`}
${barChart(bars, { title: `Each layer's time x count (µs): ours and ${lib}`, className: 'layers', unit: 'µs', id: 'layers' })}
<table><thead><tr><th>#</th><th style="text-align:left">workload</th><th>count</th><th>FLOP share</th><th>measured</th><th>ours</th><th>${escapeHtml(lib)}</th><th>${escapeHtml(lib)} ÷ ours</th><th>reference</th><th>speedup</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>
${missing.length ? `<p class="note">* no ${escapeHtml(lib)} figure: ${missing.map(escapeHtml).join('; ')}</p>` : ''}
</body></html>
`;
}
