// The coordinator's live page: campaigns and agents from /api/events (server-sent events), every
// measurement of the selected campaign from /api/measurements/ID, then kept current by events.
import { renderCharts as drawCharts } from './charts.js';
import { color, fmtAgo, fmtGflops, fmtSeconds, h, simTag } from './page-util.js';
import { yardstickFigures } from './yardstick.js';

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
  /** The charts' view: normalised to each device's yardstick or a panel per device; log y;
   *  x: measurements ('n') or the wall clock ('time'). */
  view: readView(),
};

function readView() {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem('flexfarm.view') ?? '{}'); } catch { /* defaults */ }
  return { mode: saved.mode === 'device' ? 'device' : 'normalised', log: saved.log === true, x: saved.x === 'time' ? 'time' : 'n' };
}

function setView(change) {
  state.view = { ...state.view, ...change };
  try { localStorage.setItem('flexfarm.view', JSON.stringify(state.view)); } catch { /* private mode */ }
  for (const b of document.querySelectorAll('#view-switch button')) b.setAttribute('aria-pressed', String(b.dataset.view === state.view.mode));
  for (const b of document.querySelectorAll('#x-switch button')) b.setAttribute('aria-pressed', String(b.dataset.x === state.view.x));
  document.getElementById('log-scale').checked = state.view.log;
  scheduleCharts();
}

// A page load id: tests check that updates arrive without a reload.
document.documentElement.dataset.loadId = Math.random().toString(36).slice(2);

/** One knob per line, values compact: `split.m  [8,2,1,4]`. */
function configText(config) {
  const keys = Object.keys(config ?? {});
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${JSON.stringify(config[k])}`).join('\n');
}
function shapeText(shape) { return Object.entries(shape ?? {}).map(([k, v]) => `${k}=${v}`).join(' '); }
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
  h('td', { 'data-label': 'State' }, h('span', { class: `badge ${c.state}` }, c.state),
    waitingTargets(c).length ? h('div', {}, h('span', { class: 'badge waiting', title: c.message ?? '' }, 'waiting')) : null),
  h('td', { 'data-label': 'Campaign', class: 'mono' }, c.id),
  h('td', { 'data-label': 'Workload' }, h('div', {}, c.op), h('div', { class: 'muted mono' }, shapeText(c.shape))),
  h('td', { 'data-label': 'Explorer' }, c.explorer, h('span', { class: 'muted' }, ` · seed ${c.seed}`)),
  h('td', { 'data-label': 'Progress' }, h('div', { class: 'targets' }, c.targets.map((t) => targetRow(t)))),
  h('td', { 'data-label': 'Best' }, h('div', { class: 'targets' }, c.targets.map((t) => h('div', { class: 'nums' },
    h('span', { class: 'kind', style: `color:${color(t.target)}` }, t.target), ' ',
    t.best ? fmtGflops(t.best.gflops) : 'no valid yet', ' ', simTag(Boolean(t.simulated)))))),
  )));
}

function targetRow(t) {
  const pct = (n) => `${Math.min(100, (100 * n) / Math.max(1, t.budget)).toFixed(1)}%`;
  const waiting = t.state === 'waiting';
  return h('div', { class: 'target-row', 'data-target': t.target, 'data-state': t.state, title: waiting ? t.message : undefined },
    h('span', { class: 'kind', style: `color:${color(t.target)}` }, t.target, Boolean(t.simulated) ? h('span', { class: 'sim-mark', title: 'simulated: an analytical model' }, '*') : null),
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
      h('span', {}, h('span', { class: 'kind', style: `color:${color(t.target)}` }, t.target), ' ', simTag(Boolean(t.simulated)), ' ',
        t.best ? `${fmtGflops(t.best.gflops)} · ${fmtSeconds(t.best.seconds)}` : 'no valid schedule yet'),
      t.state === 'waiting' ? h('span', { class: 'waiting' }, `waiting: no ${t.target} agent up · ${t.queued} queued`)
        : h('span', { class: 'muted' }, t.best?.agent ? `on ${t.best.agent}` : `${t.queued} queued · ${t.inFlight} in flight`)),
    yardstickFigures(t),
    t.best ? h('pre', {}, configText(t.best.config)) : null)));
  const csv = document.getElementById('csv-link');
  csv.href = `/api/measurements/${encodeURIComponent(c.id)}.csv`;
  csv.setAttribute('download', `${c.id}-measurements.csv`);
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
  drawCharts(document.getElementById('charts'), c, state.points.get(c.id) ?? new Map(), state.view);
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
      h('td', { 'data-label': 'Health' }, h('span', { class: `health ${health}` }, h('span', { class: 'dot' }), health)),
      h('td', { 'data-label': 'Agent' }, h('div', { class: 'mono' }, a.name), h('div', { class: 'muted mono' }, a.address || 'in-process')),
      h('td', { 'data-label': 'Device' }, h('span', { class: 'kind', style: `color:${color(a.kind)}` }, a.kind), ' ', simTag(Boolean(a.simulated)), ' ', h('span', { class: 'muted' }, a.model)),
      h('td', { 'data-label': 'Load' }, h('div', { class: 'load' }, h('div', { class: 'bar' }, h('span', { style: `width:${pct}%` })), `${a.inFlight} / ${a.capacity}`)),
      // A lost agent's last heartbeat says nothing about now: its queue is not shown as live.
      health === 'lost'
        ? h('td', { 'data-label': 'Queue', class: 'nums muted', 'data-load': 'unknown', title: `last heard ${fmtAgo(a.lastSeenSecondsAgo)}: ${loadText(a.load)}` }, '– (lost)')
        : h('td', { 'data-label': 'Queue', class: 'nums', 'data-load': 'live' }, loadText(a.load)),
      h('td', { 'data-label': 'Measured' }, String(a.measured)),
      h('td', { 'data-label': 'Last seen', class: 'muted' }, fmtAgo(a.lastSeenSecondsAgo)));
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
for (const b of document.querySelectorAll('#view-switch button')) b.addEventListener('click', () => setView({ mode: b.dataset.view }));
for (const b of document.querySelectorAll('#x-switch button')) b.addEventListener('click', () => setView({ x: b.dataset.x }));
document.getElementById('log-scale').addEventListener('change', (e) => setView({ log: e.target.checked }));
setView({});
connect();
