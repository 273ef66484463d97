// The selected campaign's charts, in one of two views (the page's switch):
// - normalised: every device's curves on one chart, each divided by its own yardstick (the
//   library's figure, else the peak, else its own best: yardstick.js), so a CPU at 6 GFLOP/s and
//   a simulated device at 800 read on the same axis;
// - per device: a panel per device in GFLOP/s, each with its own y-axis and its library's figure
//   as a rule.
// Either on a linear or logarithmic y-axis, against measurements or the wall clock (x-axis.js).
// Sim curves are dashed and labelled simulated.
import { drawChart } from './svg-chart.js';
import { color, ERROR_COLORS, fmtGflops, fmtPercent, fmtRatio, fmtSeconds, h, simTag } from './page-util.js';
import { xAxisOf } from './x-axis.js';
import { basesOf, normalisedLabel } from './yardstick.js';

const isSim = (t) => Boolean(t.simulated || t.yardstick?.simulated);

/** Per target: the best-so-far curve, every valid measurement and the failures, in GFLOP/s,
 *  at x = xOf(point) (points it cannot place are left out), in x order. */
function seriesOf(points, xOf) {
  const pts = [...(points?.values() ?? [])].map((p) => [xOf(p), p]).filter(([x]) => x !== null)
    .sort((a, b) => a[0] - b[0] || a[1].n - b[1].n);
  const curve = [], scatter = [], failures = [];
  let best = 0;
  for (const [x, p] of pts) {
    if (p.g !== null && p.g > best) best = p.g;
    if (best > 0) curve.push([x, best, p.n]);
    if (p.g !== null) scatter.push([x, p.g, p]);
    else failures.push([x, p]);
  }
  return { curve, scatter, failures };
}

function failureSeries(list) {
  const byCode = new Map();
  for (const { t, failures } of list) {
    for (const [x, p] of failures) {
      const code = p.e ?? 'UNKNOWN';
      if (!byCode.has(code)) byCode.set(code, []);
      byCode.get(code).push([x, `${t.target} #${p.n}: ${code}${p.a ? ` on ${p.a}` : ''}`]);
    }
  }
  return [...byCode].map(([code, points]) => ({ name: code, color: ERROR_COLORS[code] ?? '#475569', points }));
}

function legendItem(t, extra) {
  return h('span', { 'data-target': t.target },
    h('span', { class: `swatch${isSim(t) ? ' dashed' : ''}`, style: `--c:${color(t.target)}` }), t.target, ' ', simTag(isSim(t)), extra ? h('span', { class: 'muted' }, ` ${extra}`) : null);
}

function figure(id, title, note, legend) {
  const box = h('div', { class: 'chart-box', id: `chart-${id}`, 'data-chart': id });
  return { box, node: h('figure', { 'data-figure': id }, h('figcaption', {}, title, note ? h('span', { class: 'muted' }, note) : null), box, h('div', { class: 'legend', id: `legend-${id}` }, ...legend)) };
}

export function renderCharts(root, c, byTarget, view) {
  const x = xAxisOf(c, byTarget, view.x);
  const list = c.targets.map((t) => ({ t, ...seriesOf(byTarget.get(t.target), x.xOf) }));
  root.dataset.view = view.mode;
  root.dataset.yScale = view.log ? 'log' : 'linear';
  root.dataset.xAxis = x.mode;
  const draws = [];
  if (view.mode === 'normalised') {
    const bases = basesOf(c.targets);
    const yLabel = normalisedLabel(bases);
    const lines = [], dots = [];
    list.forEach(({ t, curve, scatter }, i) => {
      const b = bases[i];
      if (!b) return;
      const info = (n, g, what) => `${t.target}${isSim(t) ? ' (simulated)' : ''}: ${what} ${fmtRatio(g / b.gflops)} ${b.text} = ${fmtGflops(g)} at #${n}`;
      lines.push({ name: t.target, color: color(t.target), dashed: isSim(t), basis: b.kind, points: curve.map(([at, g, n]) => [at, g / b.gflops, info(n, g, 'best so far')]) });
      dots.push({ name: t.target, color: color(t.target), points: scatter.map(([at, g, p]) => [at, g / b.gflops, `${info(p.n, g, '')} (${fmtSeconds(p.s)})${p.a ? ` on ${p.a}` : ''}`]) });
    });
    const legend = list.map(({ t }, i) => legendItem(t, bases[i]?.text ?? 'no valid measurement yet'));
    const best = figure('best', 'Best so far', ` ${yLabel} vs ${x.label}`, legend);
    const all = figure('all', 'Every measurement', ` ${yLabel}; failures by code`, []);
    const failures = failureSeries(list);
    all.node.querySelector('.legend').append(...list.map(({ t }) => legendItem(t)),
      ...failures.map((f) => h('span', { 'data-code': f.name }, h('span', { class: 'cross', style: `color:${f.color}` }, '×'), `${f.name} (${f.points.length})`)));
    root.replaceChildren(best.node, all.node);
    const yFormat = yLabel === 'fraction of FP32 peak' ? (v) => fmtPercent(v) : (v) => fmtRatio(v);
    draws.push(() => drawChart(best.box, { xLabel: x.label, yLabel, xMax: x.xMax, yLog: view.log, yFormat, lines, empty: 'waiting for the first valid measurement' }));
    draws.push(() => drawChart(all.box, { xLabel: x.label, yLabel, xMax: x.xMax, yLog: view.log, yFormat, dots, failures, empty: 'waiting for measurements' }));
  } else {
    const nodes = list.map(({ t, curve, scatter, failures }) => {
      const lib = t.yardstick?.library;
      const f = figure(`device-${t.target}`, h('span', { class: 'panel-title', title: t.yardstick?.device ?? '' }, h('span', { class: 'kind', style: `color:${color(t.target)}` }, t.target), ' ', simTag(isSim(t)), ' ', t.yardstick?.device ?? ''),
        ` GFLOP/s vs ${x.label}`, [legendItem(t, 'best so far and every measurement'), lib ? h('span', {}, h('span', { class: 'rule-swatch' }), `${lib.name} ${fmtGflops(lib.gflops)}`) : null]);
      draws.push(() => drawChart(f.box, {
        xLabel: x.label, yLabel: 'GFLOP/s', xMax: x.xMax, yLog: view.log,
        lines: [{ name: t.target, color: color(t.target), dashed: isSim(t), points: curve.map(([at, g, n]) => [at, g, `${t.target}: best after ${n} measurements ${fmtGflops(g)}`]) }],
        dots: [{ name: t.target, color: color(t.target), points: scatter.map(([at, g, p]) => [at, g, `${t.target} #${p.n}: ${fmtGflops(g)} (${fmtSeconds(p.s)})${p.a ? ` on ${p.a}` : ''}`]) }],
        failures: failureSeries([{ t, failures }]),
        rules: lib ? [{ y: lib.gflops, label: lib.name }] : [],
        empty: 'waiting for measurements',
      }));
      return f.node;
    });
    root.replaceChildren(...nodes);
  }
  for (const draw of draws) draw();
}
