// The coordinator's live page: campaigns and agents from /api/events (server-sent events), every
// measurement of the selected campaign from /api/measurements/ID, then kept current by events.
import { drawChart } from './svg-chart.js';

const DEVICE_COLORS = { cpu: '#2563eb', gpu: '#16a34a', fpga: '#9333ea', sim: '#ea580c' };
const ERROR_COLORS = {
  INSTANTIATION: '#64748b', COMPILE: '#dc2626', RUNTIME: '#991b1b', WRONG_ANSWER: '#db2777',
  BUILD_TIMEOUT: '#d97706', RUN_TIMEOUT: '#a16207', DEVICE_LOST: '#111827', UNKNOWN: '#475569',
};
const STALE_AFTER_S = 5;

const state = {
  campaigns: [],
  agents: [],
  selected: null,
  /** campaign id → Map(target → Map(n → point)) */
  points: new Map(),
  /** campaigns whose full history has been fetched since the stream (re)opened */
  loaded: new Set(),
  chosenByUser: false,
};

// A page load id: tests check that updates arrive without a reload.
document.documentElement.dataset.loadId = Math.random().toString(36).slice(2);

function h(tag, attrs = {}, ...children) {
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

function fmtSeconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(2)} µs`;
}
function fmtGflops(g) { return Number.isFinite(g) ? `${g >= 100 ? g.toFixed(0) : g.toFixed(1)} GFLOP/s` : '–'; }
function fmtAgo(s) {
  if (!Number.isFinite(s)) return '–';
  if (s < 1) return 'just now';
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}
/** One knob per line, values compact: `split.m  [8,2,1,4]`. */
function configText(config) {
  const keys = Object.keys(config ?? {});
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${JSON.stringify(config[k])}`).join('\n');
}
function shapeText(shape) { return Object.entries(shape ?? {}).map(([k, v]) => `${k}=${v}`).join(' '); }
const color = (kind) => DEVICE_COLORS[kind] ?? '#0f766e';
/** Targets with work left and no agent of their kind up (the coordinator marks them). */
const waitingTargets = (c) => c.targets.filter((t) => t.state === 'waiting');

// ---- data ----------------------------------------------------------------------------------

function addPoints(points) {
  let touchesSelected = false;
  for (const p of points) {
    let byTarget = state.points.get(p.c);
    if (!byTarget) state.points.set(p.c, (byTarget = new Map()));
    let list = byTarget.get(p.t);
    if (!list) byTarget.set(p.t, (list = new Map()));
    list.set(p.n, p);
    if (p.c === state.selected) touchesSelected = true;
  }
  if (touchesSelected) scheduleCharts();
}

async function loadHistory(id) {
  if (state.loaded.has(id)) return;
  state.loaded.add(id);
  try {
    const res = await fetch(`/api/measurements/${encodeURIComponent(id)}`);
    if (!res.ok) throw new Error(`${res.status}`);
    const body = await res.json();
    addPoints(body.points);
    scheduleCharts();
  } catch {
    state.loaded.delete(id); // tried again on the next update
  }
}

function pickDefault() {
  if (state.chosenByUser && state.campaigns.some((c) => c.id === state.selected)) return;
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('c');
  const sorted = sortedCampaigns();
  const pick = sorted.find((c) => c.id === fromHash) ?? sorted.find((c) => c.state === 'running') ?? sorted[0];
  if (pick && pick.id !== state.selected) select(pick.id, false);
}

function select(id, byUser) {
  state.selected = id;
  if (byUser) {
    state.chosenByUser = true;
    history.replaceState(null, '', `#c=${encodeURIComponent(id)}`);
  }
  void loadHistory(id);
  renderCampaigns();
  renderDetail();
}

function sortedCampaigns() {
  return [...state.campaigns].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
}

// ---- rendering -----------------------------------------------------------------------------

function renderCampaigns() {
  const body = document.querySelector('#campaigns tbody');
  const list = sortedCampaigns();
  document.getElementById('campaign-count').textContent = list.length ? `${list.length}` : '';
  document.getElementById('no-campaigns').hidden = list.length > 0;
  document.getElementById('campaigns').hidden = list.length === 0;
  body.replaceChildren(...list.map((c) => h('tr', {
    class: c.id === state.selected ? 'selected' : '', 'data-campaign': c.id, 'data-state': c.state,
    onclick: () => select(c.id, true),
  },
  h('td', {}, h('span', { class: `badge ${c.state}` }, c.state),
    waitingTargets(c).length ? h('div', {}, h('span', { class: 'badge waiting', title: c.message ?? '' }, 'waiting')) : null),
  h('td', { class: 'mono' }, c.id),
  h('td', {}, h('div', {}, c.op), h('div', { class: 'muted mono' }, shapeText(c.shape))),
  h('td', {}, c.explorer, h('span', { class: 'muted' }, ` · seed ${c.seed}`)),
  h('td', {}, h('div', { class: 'targets' }, c.targets.map((t) => targetRow(t)))),
  h('td', {}, h('div', { class: 'targets' }, c.targets.map((t) => h('div', { class: 'nums' },
    h('span', { class: 'kind', style: `color:${color(t.target)}` }, t.target), ' ',
    t.best ? fmtGflops(t.best.gflops) : 'no valid yet')))),
  )));
}

function targetRow(t) {
  const pct = (n) => `${Math.min(100, (100 * n) / Math.max(1, t.budget)).toFixed(1)}%`;
  const waiting = t.state === 'waiting';
  return h('div', { class: 'target-row', 'data-target': t.target, 'data-state': t.state, title: waiting ? t.message : undefined },
    h('span', { class: 'kind', style: `color:${color(t.target)}` }, t.target),
    h('div', { class: 'bar', title: `${t.measured} measured, ${t.valid} valid of ${t.budget}` },
      h('span', { class: 'measured', style: `width:${pct(t.measured)};background:${color(t.target)}` }),
      h('span', { class: 'valid', style: `width:${pct(t.valid)};background:${color(t.target)}` })),
    h('span', { class: 'nums' }, `${t.measured}/${t.budget}`,
      waiting ? h('span', { class: 'waiting' }, ' · waiting') : h('span', { class: 'muted' }, ` · ${t.valid} ok`)));
}

function renderDetail() {
  const c = state.campaigns.find((x) => x.id === state.selected);
  const section = document.getElementById('detail');
  section.hidden = !c;
  if (!c) return;
  section.dataset.campaign = c.id;
  document.getElementById('detail-title').replaceChildren(
    h('span', { class: `badge ${c.state}` }, c.state), ' ', h('span', { class: 'mono' }, c.id), ' ', c.workload);
  const ended = c.finishedAt ? ` · ended ${new Date(c.finishedAt).toLocaleTimeString()}` : '';
  document.getElementById('detail-meta').textContent =
    `explorer ${c.explorer} · seed ${c.seed} · started ${new Date(c.createdAt).toLocaleTimeString()}${ended}`;
  const msg = document.getElementById('detail-message');
  msg.hidden = !c.message;
  msg.textContent = c.message ?? '';
  // While the campaign runs its message says why targets wait; after, why it ended.
  msg.dataset.kind = c.state === 'running' ? 'waiting' : 'ended';
  document.getElementById('best-configs').replaceChildren(...c.targets.map((t) => h('div', { class: 'best-config', 'data-target': t.target, 'data-state': t.state },
    h('div', { class: 'head' },
      h('span', {}, h('span', { class: 'kind', style: `color:${color(t.target)}` }, t.target), ' ',
        t.best ? `${fmtGflops(t.best.gflops)} · ${fmtSeconds(t.best.seconds)}` : 'no valid schedule yet'),
      t.state === 'waiting' ? h('span', { class: 'waiting' }, `waiting: no ${t.target} agent up · ${t.queued} queued`)
        : h('span', { class: 'muted' }, t.best?.agent ? `on ${t.best.agent}` : `${t.queued} queued · ${t.inFlight} in flight`)),
    t.best ? h('pre', {}, configText(t.best.config)) : null)));
  scheduleCharts();
}

let chartsScheduled = false;
function scheduleCharts() {
  if (chartsScheduled) return;
  chartsScheduled = true;
  requestAnimationFrame(() => { chartsScheduled = false; renderCharts(); });
}

function renderCharts() {
  const c = state.campaigns.find((x) => x.id === state.selected);
  if (!c) return;
  const byTarget = state.points.get(c.id) ?? new Map();
  const budget = Math.max(...c.targets.map((t) => t.budget), 1);
  const lines = [], dots = [], failuresByCode = new Map();
  for (const t of c.targets) {
    const pts = [...(byTarget.get(t.target)?.values() ?? [])].sort((a, b) => a.n - b.n);
    const curve = [];
    let best = 0;
    const scatter = [];
    for (const p of pts) {
      // The curve has a point per measurement once one was valid: the best after n measurements.
      if (p.g !== null && p.g > best) best = p.g;
      if (best > 0) curve.push([p.n, best, `${t.target}: best after ${p.n} measurements ${fmtGflops(best)}`]);
      if (p.g !== null) {
        const info = `${t.target} #${p.n}: ${fmtGflops(p.g)} (${fmtSeconds(p.s)})${p.a ? ` on ${p.a}` : ''}`;
        scatter.push([p.n, p.g, info]);
      } else {
        const code = p.e ?? 'UNKNOWN';
        if (!failuresByCode.has(code)) failuresByCode.set(code, []);
        failuresByCode.get(code).push([p.n, `${t.target} #${p.n}: ${code}${p.a ? ` on ${p.a}` : ''}`]);
      }
    }
    lines.push({ name: t.target, color: color(t.target), points: curve });
    dots.push({ name: t.target, color: color(t.target), points: scatter });
  }
  const failures = [...failuresByCode].map(([code, points]) => ({ name: code, color: ERROR_COLORS[code] ?? '#475569', points }));
  drawChart(document.getElementById('chart-best'), {
    xLabel: 'measurements', yLabel: 'best GFLOP/s', xMax: budget, lines, empty: 'waiting for the first valid measurement',
  });
  drawChart(document.getElementById('chart-all'), {
    xLabel: 'measurements', yLabel: 'GFLOP/s', xMax: budget, dots, failures, empty: 'waiting for measurements',
  });
  const deviceLegend = c.targets.map((t) => h('span', {}, h('span', { class: 'swatch', style: `background:${color(t.target)}` }), t.target));
  document.getElementById('legend-best').replaceChildren(...deviceLegend);
  document.getElementById('legend-all').replaceChildren(
    ...c.targets.map((t) => h('span', {}, h('span', { class: 'swatch', style: `background:${color(t.target)}` }), t.target)),
    ...failures.map((f) => h('span', { 'data-code': f.name }, h('span', { class: 'cross', style: `color:${f.color}` }, '×'), `${f.name} (${f.points.length})`)));
}

function renderAgents() {
  const body = document.querySelector('#agents tbody');
  const list = [...state.agents].sort((a, b) => a.name.localeCompare(b.name));
  document.getElementById('agent-count').textContent = list.length ? `${list.filter((a) => a.state === 'up').length} up of ${list.length}` : '';
  document.getElementById('no-agents').hidden = list.length > 0;
  document.getElementById('agents').hidden = list.length === 0;
  body.replaceChildren(...list.map((a) => {
    const health = a.state === 'lost' ? 'lost' : a.lastSeenSecondsAgo > STALE_AFTER_S ? 'stale' : 'up';
    const pct = Math.min(100, (100 * a.inFlight) / Math.max(1, a.capacity));
    return h('tr', { 'data-agent': a.name, 'data-health': health },
      h('td', {}, h('span', { class: `health ${health}` }, h('span', { class: 'dot' }), health)),
      h('td', {}, h('div', { class: 'mono' }, a.name), h('div', { class: 'muted mono' }, a.address || 'in-process')),
      h('td', {}, h('span', { class: 'kind', style: `color:${color(a.kind)}` }, a.kind), ' ', h('span', { class: 'muted' }, a.model)),
      h('td', {}, h('div', { class: 'load' }, h('div', { class: 'bar' }, h('span', { style: `width:${pct}%` })), `${a.inFlight} / ${a.capacity}`)),
      // A lost agent's last heartbeat says nothing about now: its queue is not shown as live.
      health === 'lost'
        ? h('td', { class: 'nums muted', 'data-load': 'unknown', title: `last heard ${fmtAgo(a.lastSeenSecondsAgo)}: ${loadText(a.load)}` }, '– (lost)')
        : h('td', { class: 'nums', 'data-load': 'live' }, loadText(a.load)),
      h('td', {}, String(a.measured)),
      h('td', { class: 'muted' }, fmtAgo(a.lastSeenSecondsAgo)));
  }));
}

function loadText(load) { return `${load.queued} queued · ${load.measuring} measuring · ${load.unpublished} unpublished`; }

// ---- live updates --------------------------------------------------------------------------

function setConnection(kind, text) {
  const node = document.getElementById('connection');
  node.dataset.state = kind;
  node.querySelector('.text').textContent = text;
}

function connect() {
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => {
    setConnection('live', 'live');
    // Events missed while the stream was down: fetch the selected campaign's history again.
    state.loaded.clear();
    if (state.selected) void loadHistory(state.selected);
  });
  source.addEventListener('error', () => setConnection('reconnecting', 'reconnecting…'));
  source.addEventListener('campaigns', (e) => {
    state.campaigns = JSON.parse(e.data);
    pickDefault();
    renderCampaigns();
    renderDetail();
  });
  source.addEventListener('agents', (e) => {
    state.agents = JSON.parse(e.data);
    renderAgents();
  });
  source.addEventListener('measurements', (e) => addPoints(JSON.parse(e.data)));
}

window.addEventListener('resize', scheduleCharts);
connect();
