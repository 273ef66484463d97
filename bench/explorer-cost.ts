// bench:search's explorer-cost table: candidates each explorer proposes per second of coordinator
// CPU (process.cpuUsage around its next() and update() calls only: the sim measurement is not
// counted) at budgets of 100, 1,000 and 10,000 sim measurements, driven two ways:
// - sync: the search table's driver, 8 asked for at a time, every result back before the next ask;
// - farm: a farm's pattern, up to 64 in flight, the 8 oldest results back per step, the freed
//   capacity asked for at once (what the dispatcher does for 64 agents).
// One seed per cell, after a warm-up run of each explorer (a coordinator is a long-lived process:
// the JIT's start-up is not the explorer's cost). The host's CPU and load are printed with it.
import os from 'node:os';
import type { MeasureResult } from '../contracts/result.ts';
import { createExplorer } from '../coordinator/explore/index.ts';
import type { Explorer } from '../coordinator/explore/explorer.ts';
import type { Space } from '../coordinator/space.ts';
import type { Config } from '../tensor/templates/template.ts';

export const DEFAULT_COST_SIZES = [100, 1_000, 10_000];
/** Issue 17's target for `model`, candidates per CPU second at every size. */
export const COST_TARGET = 500;
const SYNC_BATCH = 8;
const FARM = { inFlight: 64, backPerStep: 8 };
const WARMUP_BUDGET = 200;

export interface CostCell { proposed: number; cpuSeconds: number; rate: number; stopped: boolean; refused?: string }

type Measure = (config: Config) => MeasureResult;

/** The explorer's CPU over one run: every call to next() and update() timed, nothing else. */
function costOf(explorer: Explorer, measure: Measure, budget: number, mode: 'sync' | 'farm'): CostCell {
  let cpuMicros = 0, proposed = 0;
  const timed = <T>(f: () => T): T => {
    const before = process.cpuUsage();
    const out = f();
    const d = process.cpuUsage(before);
    cpuMicros += d.user + d.system;
    return out;
  };
  const inFlight: MeasureResult[] = [];
  const limit = mode === 'sync' ? SYNC_BATCH : FARM.inFlight;
  while (!explorer.done && (proposed < budget || inFlight.length)) {
    const room = Math.min(limit - inFlight.length, budget - proposed);
    const configs = room > 0 ? timed(() => explorer.next(room)) : [];
    proposed += configs.length;
    for (const c of configs) inFlight.push(measure(c));
    if (!inFlight.length) break;
    const back = inFlight.splice(0, mode === 'sync' ? inFlight.length : FARM.backPerStep);
    timed(() => explorer.update(back));
  }
  const cpuSeconds = cpuMicros / 1e6;
  return { proposed, cpuSeconds, rate: proposed / cpuSeconds, stopped: proposed < budget };
}

export function explorerCostTable(space: Space, measure: Measure, explorers: string[], sizes: number[]): { lines: string[]; cells: Map<string, CostCell> } {
  const cells = new Map<string, CostCell>();
  const loadBefore = os.loadavg();
  for (const name of explorers) {
    for (const mode of ['sync', 'farm'] as const) {
      try {
        costOf(createExplorer(name, { space, seed: 1000, budget: WARMUP_BUDGET }), measure, WARMUP_BUDGET, mode);
      } catch (err) {
        for (const size of sizes) cells.set(`${name}/${mode}/${size}`, { proposed: 0, cpuSeconds: 0, rate: NaN, stopped: true, refused: (err as Error).message });
        continue;
      }
      for (const size of sizes) cells.set(`${name}/${mode}/${size}`, costOf(createExplorer(name, { space, seed: 0, budget: size }), measure, size, mode));
    }
  }
  const loadAfter = os.loadavg();
  const cpu = os.cpus();
  const head = `  ${'explorer'.padEnd(11)}${sizes.map((s) => `sync ${s.toLocaleString('en-US')}`.padStart(13)).join('')}${sizes.map((s) => `farm ${s.toLocaleString('en-US')}`.padStart(13)).join('')}`;
  const lines = [
    `explorer cost: candidates proposed per second of coordinator CPU (next + update only), seed 0, after a warm-up run`,
    `  sync: ${SYNC_BATCH} asked for at a time, every result back first; farm: up to ${FARM.inFlight} in flight, the ${FARM.backPerStep} oldest back per step`,
    `  host: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores; load average ${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after`,
    head,
  ];
  for (const name of explorers) {
    const refused = cells.get(`${name}/sync/${sizes[0]}`)?.refused;
    if (refused) { lines.push(`  ${name.padEnd(11)}refused: ${refused.split(';')[0]}`); continue; }
    const show = (mode: string) => sizes.map((s) => {
      const c = cells.get(`${name}/${mode}/${s}`)!;
      return `${Math.round(c.rate).toLocaleString('en-US')}${c.stopped ? `@${c.proposed}` : ''}`.padStart(13);
    }).join('');
    lines.push(`  ${name.padEnd(11)}${show('sync')}${show('farm')}`);
  }
  lines.push(`  (N@M: the explorer stopped by itself after M candidates)`);
  return { lines, cells };
}

/** The target line for `model`: at least COST_TARGET per CPU second at every size, both drivers. */
export function costTargetLine(cells: Map<string, CostCell>, sizes: number[]): string | null {
  const rates = sizes.flatMap((s) => ['sync', 'farm'].map((m) => cells.get(`model/${m}/${s}`))).filter((c): c is CostCell => !!c && !c.refused);
  if (!rates.length) return null;
  const worst = Math.min(...rates.map((c) => c.rate));
  return `  sim: model proposes at least ${Math.round(worst).toLocaleString('en-US')} candidates per CPU second at every size (target ≥ ${COST_TARGET}) → ${worst >= COST_TARGET ? 'met' : 'missed'}`;
}

const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
