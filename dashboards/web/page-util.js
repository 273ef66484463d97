// The live page's small helpers: building elements, formatting figures, device colours.

export const DEVICE_COLORS = { cpu: '#2563eb', gpu: '#16a34a', fpga: '#9333ea', sim: '#ea580c' };
export const ERROR_COLORS = {
  INSTANTIATION: '#64748b', COMPILE: '#dc2626', RUNTIME: '#991b1b', WRONG_ANSWER: '#db2777',
  BUILD_TIMEOUT: '#d97706', RUN_TIMEOUT: '#a16207', DEVICE_LOST: '#111827', UNKNOWN: '#475569',
};

export const color = (kind) => DEVICE_COLORS[kind] ?? '#0f766e';

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'style') node.style.cssText = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

export function fmtSeconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(2)} µs`;
}
export function fmtGflops(g) { return Number.isFinite(g) ? `${g >= 100 ? g.toFixed(0) : g.toFixed(1)} GFLOP/s` : '–'; }
export function fmtRatio(r) { return Number.isFinite(r) ? `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2)}×` : '–'; }
export function fmtPercent(f) { return Number.isFinite(f) ? `${(100 * f).toFixed(f >= 0.1 ? 0 : 1)}%` : '–'; }
export function fmtAgo(s) {
  if (!Number.isFinite(s)) return '–';
  if (s < 1) return 'just now';
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

/** The sim target is an analytical landscape: everything it shows is marked so. */
export function simTag(simulated) {
  return simulated ? h('span', { class: 'sim-tag', title: 'an analytical model, not a device measurement' }, 'simulated') : null;
}
