// A small SVG chart for the live page: step lines and scatter dots on a linear or logarithmic
// y-axis, plus a strip of × marks for failures under the plot. No dependencies; thousands of points stay cheap because
// each series is drawn as one <path> (a dot is a zero-length segment with a round cap).

const NS = 'http://www.w3.org/2000/svg';
const MARGIN = { top: 12, right: 16, bottom: 42, left: 56 };
const FAIL_STRIP = 22;

/** 1-2-5 ticks from `min` up to the first tick at or above `max` (the axis ends on a tick). */
export function niceTicks(min, max, count = 5) {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks = [];
  const last = Math.ceil(max / step - 1e-9) * step;
  for (let v = Math.ceil(min / step) * step; v <= last + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, step };
}

/** Log-axis ticks: powers of ten covering [min, max] (with 2 and 5 between when under three decades). */
export function logTicks(min, max) {
  if (!(min > 0)) min = 1e-3;
  if (!(max > min)) max = min * 10;
  const lo = Math.floor(Math.log10(min) + 1e-9), hi = Math.ceil(Math.log10(max) - 1e-9);
  const decades = Math.max(1, hi - lo);
  const ticks = [];
  for (let e = lo; e <= Math.max(hi, lo + 1); e++) {
    for (const m of decades < 3 ? [1, 2, 5] : [1]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= 10 ** lo * (1 - 1e-9) && v <= 10 ** Math.max(hi, lo + 1) * (1 + 1e-9)) ticks.push(v);
    }
  }
  return { ticks, min: 10 ** lo, max: 10 ** Math.max(hi, lo + 1) };
}

function fmtTick(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3).replace(/\.?0+$/, '')}M`;
  if (a >= 1e3) return `${(v / 1e3).toPrecision(3).replace(/\.?0+$/, '')}k`;
  if (a < 0.01) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Draws into `container` (replacing its content).
 * spec: {
 *   xLabel, yLabel, xMax (domain end, e.g. the budget), yLog (a logarithmic y-axis),
 *   yFormat (tick text of a y value; default compact numbers),
 *   lines:   [{ name, color, dashed, points: [[x, y], ...] }]   step lines, x ascending
 *   dots:    [{ name, color, points: [[x, y, info], ...] }]
 *   failures:[{ name, color, points: [[x, info], ...] }]  × marks in a strip under the plot
 *   rules:   [{ y, label }]   dashed horizontal lines (a library's figure), inside the y range
 *   empty: text shown when there is nothing to draw
 * }
 * Returns { svg } and keeps a hover tooltip showing each point's `info` (or its values).
 */
export function drawChart(container, spec) {
  const width = Math.max(240, container.clientWidth || 560);
  const height = Math.max(180, container.clientHeight || 260);
  const hasFailures = (spec.failures ?? []).some((f) => f.points.length);
  const plotBottom = height - MARGIN.bottom - (hasFailures ? FAIL_STRIP : 0);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = plotBottom - MARGIN.top;

  const all = [...(spec.lines ?? []), ...(spec.dots ?? [])].flatMap((s) => s.points);
  const xMax = Math.max(spec.xMax ?? 0, ...all.map((p) => p[0]), ...(spec.failures ?? []).flatMap((f) => f.points.map((p) => p[0])), 1);
  const ys = [...all.map((p) => p[1]), ...(all.length ? (spec.rules ?? []).map((r) => r.y) : [])].filter((y) => Number.isFinite(y));
  const yMaxData = ys.length ? Math.max(...ys) : 1;
  const { ticks: xTicks } = niceTicks(0, xMax, Math.max(2, Math.min(8, Math.floor(plotW / 70))));
  const sx = (x) => MARGIN.left + (x / xMax) * plotW;
  let yTicks, sy;
  if (spec.yLog) {
    const positive = ys.filter((y) => y > 0);
    const axis = logTicks(positive.length ? Math.min(...positive) : 0.1, positive.length ? Math.max(...positive) : 1);
    yTicks = axis.ticks;
    const l0 = Math.log10(axis.min), l1 = Math.log10(axis.max);
    sy = (y) => MARGIN.top + plotH - ((Math.log10(Math.max(y, axis.min)) - l0) / (l1 - l0)) * plotH;
  } else {
    yTicks = niceTicks(0, yMaxData * 1.04 || 1).ticks;
    const yMax = yTicks[yTicks.length - 1] || 1;
    sy = (y) => MARGIN.top + plotH - (y / yMax) * plotH;
  }
  const fmtY = spec.yFormat ?? fmtTick;

  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'data-y-scale': spec.yLog ? 'log' : 'linear' });
  const grid = el('g', { class: 'grid' });
  for (const t of yTicks) {
    grid.append(el('line', { x1: MARGIN.left, x2: width - MARGIN.right, y1: sy(t), y2: sy(t) }));
    grid.append(el('text', { x: MARGIN.left - 6, y: sy(t) + 4, 'text-anchor': 'end', class: 'tick' }, fmtY(t)));
  }
  for (const t of xTicks) {
    if (t > xMax) continue;
    grid.append(el('line', { x1: sx(t), x2: sx(t), y1: MARGIN.top, y2: plotBottom, class: 'v' }));
    grid.append(el('text', { x: sx(t), y: height - MARGIN.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, fmtTick(t)));
  }
  svg.append(grid);
  svg.append(el('line', { x1: MARGIN.left, x2: width - MARGIN.right, y1: plotBottom, y2: plotBottom, class: 'axis' }));
  svg.append(el('text', { x: MARGIN.left + plotW / 2, y: height - 6, 'text-anchor': 'middle', class: 'label' }, spec.xLabel ?? ''));
  svg.append(el('text', { x: 14, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', class: 'label', transform: `rotate(-90 14 ${MARGIN.top + plotH / 2})` }, spec.yLabel ?? ''));

  const hover = [];
  if (all.length) {
    for (const r of spec.rules ?? []) {
      svg.append(el('line', { x1: MARGIN.left, x2: width - MARGIN.right, y1: sy(r.y), y2: sy(r.y), class: 'rule', 'data-rule': r.label }));
      svg.append(el('text', { x: width - MARGIN.right - 4, y: sy(r.y) - 4, 'text-anchor': 'end', class: 'rule-label' }, r.label));
    }
  }
  for (const s of spec.lines ?? []) {
    if (!s.points.length) continue;
    let d = `M${sx(s.points[0][0]).toFixed(1)},${sy(s.points[0][1]).toFixed(1)}`;
    for (let i = 1; i < s.points.length; i++) {
      d += `H${sx(s.points[i][0]).toFixed(1)}V${sy(s.points[i][1]).toFixed(1)}`;
    }
    // The curve holds its level up to the last measurement made so far.
    if (s.until !== undefined && s.until > s.points[s.points.length - 1][0]) d += `H${sx(s.until).toFixed(1)}`;
    svg.append(el('path', { d, class: 'line', stroke: s.color, 'stroke-dasharray': s.dashed ? '6 4' : undefined, 'data-series': s.name, 'data-basis': s.basis, 'data-points': s.points.length }));
    for (const p of s.points) hover.push({ x: sx(p[0]), y: sy(p[1]), color: s.color, text: p[2] ?? `${s.name}: ${fmtTick(p[1])} at ${p[0]}` });
  }
  for (const s of spec.dots ?? []) {
    if (!s.points.length) continue;
    let d = '';
    for (const p of s.points) d += `M${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}h0`;
    svg.append(el('path', { d, class: 'dots', stroke: s.color, 'data-series': s.name, 'data-points': s.points.length }));
    for (const p of s.points) hover.push({ x: sx(p[0]), y: sy(p[1]), color: s.color, text: p[2] ?? `${s.name}: ${fmtTick(p[1])} at ${p[0]}` });
  }
  if (hasFailures) {
    const yMid = plotBottom + FAIL_STRIP / 2 + 2;
    svg.append(el('text', { x: MARGIN.left - 6, y: yMid + 4, 'text-anchor': 'end', class: 'tick fail' }, 'failed'));
    for (const f of spec.failures) {
      if (!f.points.length) continue;
      let d = '';
      for (const p of f.points) {
        const x = sx(p[0]);
        d += `M${(x - 3).toFixed(1)},${yMid - 3}l6,6M${(x - 3).toFixed(1)},${yMid + 3}l6,-6`;
        hover.push({ x, y: yMid, color: f.color, text: p[1] ?? `${f.name} at ${p[0]}` });
      }
      svg.append(el('path', { d, class: 'fails', stroke: f.color, 'data-series': f.name, 'data-points': f.points.length }));
    }
  }
  if (!all.length && !hasFailures) {
    svg.append(el('text', { x: MARGIN.left + plotW / 2, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', class: 'empty' }, spec.empty ?? 'no data yet'));
  }

  const marker = el('circle', { r: 5, class: 'marker', visibility: 'hidden' });
  svg.append(marker);
  container.replaceChildren(svg);
  const tip = document.createElement('div');
  tip.className = 'tooltip';
  tip.hidden = true;
  container.append(tip);
  svg.addEventListener('mousemove', (ev) => {
    const box = svg.getBoundingClientRect();
    const mx = ev.clientX - box.left, my = ev.clientY - box.top;
    let best = null, bestD = 24 * 24;
    for (const h of hover) {
      const d = (h.x - mx) ** 2 + (h.y - my) ** 2;
      if (d < bestD) { bestD = d; best = h; }
    }
    if (!best) { marker.setAttribute('visibility', 'hidden'); tip.hidden = true; return; }
    marker.setAttribute('cx', best.x);
    marker.setAttribute('cy', best.y);
    marker.setAttribute('stroke', best.color);
    marker.setAttribute('visibility', 'visible');
    tip.textContent = best.text;
    tip.hidden = false;
    tip.style.left = `${Math.min(best.x + 12, width - 200)}px`;
    tip.style.top = `${Math.max(best.y - 34, 0)}px`;
  });
  svg.addEventListener('mouseleave', () => { marker.setAttribute('visibility', 'hidden'); tip.hidden = true; });
  return { svg };
}
