// The report as one self-contained HTML page: inline CSS and inline SVG, no script, no network.
import type { BestEntry } from '../best.ts';
import { escapeHtml as h } from './escape.ts';
import type { ReportData, WorkloadSection } from './report-data.ts';
import type { KnobStudy } from './knob-importance.ts';
import { importanceChart, sliceChart } from './slice-chart.ts';
import { barChart, PALETTE, stepChart, type StepSeries } from './svg-chart.ts';

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 32px; } h3 { font-size: 15px; word-break: break-all; }
.meta { color: #666; } .sim { color: #a15c00; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: 11px; word-break: break-all; }
section.workload { border-top: 1px solid #ccc; margin-top: 24px; }
h4 { font-size: 14px; margin: 18px 0 4px; } svg { max-width: 100%; height: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
svg text.tick { font-size: 11px; fill: #555; } svg text.axis { font-size: 12px; fill: #333; }
svg text.chart-title { font-size: 13px; font-weight: 600; fill: #222; } svg text.legend { font-size: 12px; fill: #222; }
`;

const fmtSeconds = (s: number) => (s >= 1 ? `${s.toFixed(3)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(3)} ms` : `${(s * 1e6).toFixed(2)} µs`);
const fmtGflops = (g: number | null) => (g === null ? '?' : g.toFixed(1));
const simTag = (simulated: boolean) => (simulated ? ' <span class="sim">[simulated]</span>' : '');

export function renderReport(data: ReportData, options: { generatedAt: string }): string {
  const anySim = data.workloads.some((w) => w.series.some((s) => s.simulated));
  const body = [
    '<h1>flexfarm tuning report</h1>',
    `<p class="meta">${data.measurements} measurements of ${data.workloads.length} workloads on ${data.devices.length} devices, from ${data.sources.map((s) => `<code>${h(s)}</code>`).join(', ')}. Generated ${h(options.generatedAt)}.</p>`,
    anySim ? '<p class="sim">Lines and bars marked simulated come from the sim target: an analytical model, not a device measurement.</p>' : '',
    '<h2>Best kernels</h2>',
    bestTable(data),
    '<p class="meta">Speedup: over the unscheduled reference kernel on the same device. Ours ÷ library: our GFLOP/s over the vendor library\'s at the same shape on the same device (above 1: faster than the library). Of FP32 peak: our GFLOP/s over the device\'s peak, measured by an FMA microbenchmark at the agent\'s start (CPU) or a spec figure (GPU, FPGA, sim). Each agent times the reference and the library once per workload (<code>reference</code> and <code>library</code> lines of the log); — where the log holds no such figure.</p>',
    '<h2>Cross-device comparison</h2>',
    crossDeviceTable(data),
    ...data.workloads.map((w, i) => workloadSection(w, i, data)),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>flexfarm tuning report</title><style>${CSS}</style></head>
<body>
${body.filter(Boolean).join('\n')}
</body></html>
`;
}

function bestTable(data: ReportData): string {
  const rows = data.workloads.flatMap((w) => w.best.map((b) => bestRow(b)));
  return `<table id="best-kernels"><thead><tr><th>workload</th><th>device</th><th>GFLOP/s</th><th>median</th><th>speedup vs reference</th><th>ours ÷ library</th><th>of FP32 peak</th><th>valid / measured</th><th>config</th></tr></thead>
<tbody>${rows.length ? rows.join('') : '<tr><td colspan="9">no valid measurement</td></tr>'}</tbody></table>`;
}

function bestRow(b: BestEntry): string {
  const speedup = b.speedup === null ? '—' : `${b.speedup.toFixed(1)}×`;
  return `<tr><td><code>${h(b.workload)}</code></td><td>${h(b.device.model)} <span class="meta">(${h(b.target)}, ${h(b.device.name)})</span>${simTag(b.simulated)}</td>` +
    `<td class="num">${fmtGflops(b.gflops)}</td><td class="num">${fmtSeconds(b.seconds)}${remeasuredNote(b)}</td><td class="num">${speedup}</td>` +
    `<td class="num">${libraryCell(b)}</td><td class="num">${peakCell(b)}</td>` +
    `<td class="num">${b.valid} / ${b.measurements}</td><td><code>${h(JSON.stringify(b.config))}</code></td></tr>`;
}

/** Ours ÷ the library in GFLOP/s, the library named with its figure on that device. */
function libraryCell(b: BestEntry): string {
  if (!b.library || b.ofLibrary === null) return '—';
  return `${b.ofLibrary.toFixed(2)}× ${h(b.library.name)}<br><span class="meta">${fmtGflops(b.library.gflops)} GFLOP/s, ${fmtSeconds(b.library.seconds)} on this device</span>`;
}

function peakCell(b: BestEntry): string {
  if (!b.peak || b.ofPeak === null) return '—';
  return `${(100 * b.ofPeak).toFixed(b.ofPeak >= 0.1 ? 0 : 1)}%<br><span class="meta">of ${b.peak.gflops.toFixed(0)} GFLOP/s (${h(b.peak.source)})</span>`;
}

/** Says where the figure comes from: re-measured in fresh runs, or the search's first measurement. */
function remeasuredNote(b: BestEntry): string {
  return b.remeasured
    ? `<br><span class="meta remeasured">re-measured, median of ${b.remeasured.runs} fresh runs (search: ${fmtSeconds(b.remeasured.searchSeconds)})</span>`
    : '<br><span class="meta">search measurement, not re-measured</span>';
}

function crossDeviceTable(data: ReportData): string {
  const head = data.devices.map((d) => `<th>${h(d.label)}${simTag(d.simulated)}</th>`).join('');
  const rows = data.workloads.map((w) => {
    // Each device against its own yardstick: the library's figure on that device, else its peak.
    const cells = data.devices.map((d) => {
      const b = w.best.find((e) => e.deviceKey === d.key);
      if (!b) return '<td class="num">—</td>';
      const against = b.library && b.ofLibrary !== null ? `${b.ofLibrary.toFixed(2)}× ${h(b.library.name)}`
        : b.ofPeak !== null ? `${(100 * b.ofPeak).toFixed(b.ofPeak >= 0.1 ? 0 : 1)}% of peak` : b.speedup !== null ? `${b.speedup.toFixed(1)}× reference` : 'no yardstick';
      return `<td class="num">${fmtGflops(b.gflops)} GFLOP/s<br><span class="meta yardstick">${against}${b.simulated ? ' (sim)' : ''}</span></td>`;
    }).join('');
    return `<tr><td><code>${h(w.workload)}</code></td>${cells}</tr>`;
  });
  return `<table id="cross-device"><thead><tr><th>workload</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="meta">Each device against its own yardstick: ours ÷ the vendor library on that device where timed, else the fraction of its FP32 peak, else the speedup over its reference. Devices are not compared with each other here: a simulated device is a model, and a CPU's and a GPU's figures mean different things.</p>`;
}

function workloadSection(w: WorkloadSection, index: number, data: ReportData): string {
  const colorOf = (key: string) => PALETTE[Math.max(0, data.devices.findIndex((d) => d.key === key)) % PALETTE.length];
  const series: StepSeries[] = w.series.map((s) => ({
    label: `${s.label}${s.simulated ? ' [simulated]' : ''} — ${s.valid}/${s.measurements} valid`,
    color: colorOf(s.deviceKey), dashed: s.simulated, points: s.steps, lastX: s.measurements,
  }));
  const unit = w.flops === null ? 'runs/s' : 'GFLOP/s';
  const curves = stepChart(series, {
    title: 'Convergence: best so far', xLabel: 'measurement (in log order)', yLabel: `best ${unit}`, className: 'convergence', width: 900,
  });
  const bars = barChart(w.best.map((b) => ({
    label: `${b.device.model} (${b.target})`, value: b.gflops ?? 1 / b.seconds, color: colorOf(b.deviceKey), hatched: b.simulated,
    note: `${b.gflops === null ? fmtSeconds(b.seconds) : `${b.gflops.toFixed(1)} GFLOP/s`}${b.speedup === null ? '' : `, ${b.speedup.toFixed(1)}× ref`}${b.simulated ? ' (sim)' : ''}`,
  })), { title: 'Best per device', className: 'comparison', unit, id: `w${index}` });
  return `<section class="workload" id="workload-${index}"><h3>${h(w.workload)}</h3>
<div class="charts">${curves}${bars}</div>${w.knobs.map((k) => knobSection(k, unit, colorOf(k.deviceKey))).join('')}</section>`;
}

/** What the search learned of each knob on one device: importance, then a slice per knob. */
function knobSection(k: KnobStudy, unit: string, color: string): string {
  return `<div class="knobs" data-device="${h(k.deviceKey)}"><h4>What the search learned on ${h(k.label)}${simTag(k.simulated)} <span class="meta">(${k.measurements} valid measurements)</span></h4>
<p class="meta">Importance: the share of the variance of log ${unit} each knob's values explain on their own (η², normalised over the knobs; a main effect, as fANOVA's first-order terms). Slices: every measurement at the knob's value; the bar marks the best per value.</p>
<div class="charts">${importanceChart(k, color)}${k.knobs.map((s) => sliceChart(s, unit, color)).join('')}</div></div>`;
}
