// The Grafana dashboard provisions as is (datasource by variable, no hard-coded id) and queries
// only metrics the code registers; every figure of issue 5 has a panel; the README's metric table
// lists every metric; promtool accepts the Prometheus scrape config.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { AgentMetrics } from '../../agent/metrics.ts';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import { REPO } from '../farm/farm-processes.ts';

const DASHBOARD = join(REPO, 'dashboards', 'grafana', 'flexfarm.json');

interface Panel { type: string; title: string; datasource?: unknown; targets?: { expr: string; datasource?: unknown }[]; panels?: Panel[] }
interface Dashboard { panels: Panel[]; templating: { list: { name: string; type: string; query: unknown; datasource?: unknown }[] } }

function registered(): { names: Set<string>; histograms: Set<string> } {
  const coordinator = new CoordinatorMetrics();
  const agent = new AgentMetrics({ agent: 'a', deviceClass: 'cpu' });
  agent.close();
  const all = [...coordinator.registry.getMetricsAsArray(), ...agent.registry.getMetricsAsArray()] as unknown as { name: string; type?: string; constructor: { name: string } }[];
  const histograms = all.filter((m) => (m.type ?? m.constructor.name.toLowerCase()) === 'histogram').map((m) => m.name);
  return { names: new Set(all.map((m) => m.name)), histograms: new Set(histograms) };
}

function panelsOf(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Metric names in a PromQL expression (a histogram's _bucket/_sum/_count map to its name). */
function metricNames(expr: string, histograms: Set<string>): string[] {
  return [...expr.matchAll(/\bflexfarm_[a-zA-Z0-9_]+/g)].map((m) => {
    const base = m[0].replace(/_(bucket|sum|count)$/, '');
    return base !== m[0] && histograms.has(base) ? base : m[0];
  });
}

test('the dashboard parses and every metric a panel or variable queries is registered by the code', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const { names, histograms } = registered();
  const queried = new Set<string>();
  const panels = panelsOf(dashboard).filter((p) => p.type !== 'row');
  expect(panels.length).toBeGreaterThan(20);
  for (const p of panels) {
    expect(p.targets?.length, `panel "${p.title}" has no query`).toBeGreaterThan(0);
    for (const t of p.targets!) {
      const used = metricNames(t.expr, histograms);
      expect(used.length, `panel "${p.title}": ${t.expr}`).toBeGreaterThan(0);
      for (const n of used) {
        expect(names.has(n), `panel "${p.title}" queries ${n}, which no code registers`).toBe(true);
        queried.add(n);
      }
    }
  }
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string }).query ?? '';
    for (const n of metricNames(q, histograms)) expect(names.has(n), `variable ${v.name} queries ${n}`).toBe(true);
  }
  // Every figure the issue asks for has a panel.
  for (const n of [
    'flexfarm_measurements_total', 'flexfarm_agent_compile_duration_seconds', 'flexfarm_agent_run_duration_seconds',
    'flexfarm_agent_measure_duration_seconds', 'flexfarm_measure_round_trip_seconds', 'flexfarm_best_gflops', 'flexfarm_best_seconds',
    'flexfarm_queue_depth', 'flexfarm_in_flight', 'flexfarm_agents', 'flexfarm_redispatches_total', 'flexfarm_explorer_trials',
    'flexfarm_explorer_valid_ratio', 'flexfarm_explorer_epsilon', 'flexfarm_explorer_loss', 'flexfarm_process_cpu_seconds_total',
    'flexfarm_process_resident_memory_bytes',
  ]) expect(queried.has(n), `no panel shows ${n}`).toBe(true);
});

test('the dashboard picks its data source by the DS_PROMETHEUS variable, never by a hard-coded id', () => {
  const text = readFileSync(DASHBOARD, 'utf8');
  const dashboard = JSON.parse(text) as Dashboard;
  const variable = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
  expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
  const refs: unknown[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'datasource') refs.push(v);
      walk(v);
    }
  };
  walk(dashboard);
  expect(refs.length).toBeGreaterThan(20);
  for (const ref of refs) expect(ref).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
  expect(text).not.toMatch(/"datasourceId"|"datasource":\s*"|"uid":\s*"(?!\$\{DS_PROMETHEUS\}|flexfarm-overview)/);
  expect(text).not.toContain('__inputs'); // an import-only placeholder: provisioning would not resolve it
});

test('the README documents every metric the code registers', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const { names } = registered();
  const documented = new Set([...readme.matchAll(/^\| `(flexfarm_[a-z0-9_]+)`/gm)].map((m) => m[1]));
  const own = [...names].filter((n) => !/^flexfarm_(process|nodejs)_/.test(n));
  expect(own.filter((n) => !documented.has(n))).toEqual([]);
  expect([...documented].filter((n) => !names.has(n))).toEqual([]);
});

test('promtool accepts the example Prometheus scrape configuration', () => {
  const r = spawnSync('promtool', ['check', 'config', join(REPO, 'dashboards', 'prometheus', 'prometheus.yml')], { encoding: 'utf8' });
  expect(`${r.status} ${r.stdout}${r.stderr}`).toMatch(/^0 .*SUCCESS/s);
});
