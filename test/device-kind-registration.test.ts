// A device kind added by this file alone: `abacus`, a backend that "measures" with a formula,
// registered in the target registry (contracts/targets.ts) and the agent's backend specs
// (agent/backends/index.ts). It tunes embedded (`tune`) and through a campaign on a farm whose
// agent serves it over gRPC and publishes on the bus; no shared file knows its name.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend, registerBackend } from '../agent/backends/index.ts';
import { AgentServer } from '../agent/server.ts';
import { tune } from '../cli/embedded-tune.ts';
import type { Backend, ReferenceTiming } from '../contracts/backend.ts';
import { MemoryBus } from '../contracts/bus-memory.ts';
import { median, type Candidate, type DeviceInfo, type MeasureResult, type TimingProtocol } from '../contracts/result.ts';
import { isTargetKind, registerTarget, TARGET_KINDS } from '../contracts/targets.ts';
import type { CampaignSnapshot } from '../coordinator/campaign.ts';
import { Farm } from '../coordinator/farm/farm.ts';
import { readRecords } from './farm/farm-processes.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { defineFromKey, defineWorkload } from '../tensor/ops/registry.ts';
import { cpuClassicTemplate, DEFAULT_MAX_ACCUMULATOR } from '../tensor/templates/cpu.ts';
import type { Config } from '../tensor/templates/template.ts';

declare module '../contracts/targets.ts' {
  interface RegisteredTargetKinds { abacus: true }
}

const TOOLCHAIN = 'abacus formula v1';

/** Seconds from the config alone: inner tiles near 8 are fastest. Deterministic, no device. */
class AbacusBackend implements Backend {
  readonly kind = 'abacus' as const;
  readonly template = cpuClassicTemplate;
  readonly limits = { maxAccumulator: DEFAULT_MAX_ACCUMULATOR };
  measured = 0;

  describe(): DeviceInfo {
    return { kind: 'abacus', name: 'abacus-0', model: 'an abacus (formula)', cores: 1, memoryBytes: 0, toolchain: TOOLCHAIN, limits: { ...this.limits } };
  }

  async measure(candidate: Candidate, protocol: TimingProtocol): Promise<MeasureResult> {
    this.measured++;
    const base = {
      candidateId: candidate.id, campaign: candidate.campaign, workload: candidate.workload, target: this.kind,
      config: candidate.config, device: this.describe(), toolchain: TOOLCHAIN, at: new Date().toISOString(),
    };
    const def = defineFromKey(candidate.workload);
    try {
      this.template.check(def, candidate.config, this.limits);
    } catch (err) {
      return { ...base, seconds: [], median: null, error: { code: 'INSTANTIATION', message: (err as Error).message } };
    }
    const seconds = Array.from({ length: Math.max(1, protocol.repeat) }, () => formula(def, candidate.config));
    return { ...base, seconds, median: median(seconds), number: 1, error: null };
  }

  async reference(def: ComputeDef): Promise<ReferenceTiming> {
    const seconds = def.flops / 1e8;
    return { seconds, gflops: def.flops / seconds / 1e9 };
  }

  source(def: ComputeDef, config: Config): string {
    return `abacus bead plan for ${def.key}: ${JSON.stringify(config)}\n`;
  }
}

function formula(def: ComputeDef, config: Config): number {
  const inner = def.spatial.map((a) => (config[`split.${a.name}`] as number[]).at(-1)!);
  return (def.flops / 1e9) * (1 + inner.reduce((sum, t) => sum + Math.abs(Math.log2(t / 8)), 0));
}

const removers = [
  registerTarget({
    kind: 'abacus', template: cpuClassicTemplate, sourceExtension: '.abacus', defaultCapacity: { capacity: 4, concurrency: 2 },
    inflightTimeoutMs: 30_000, exportable: false, simulated: false,
  }),
  registerBackend({ kind: 'abacus', flags: [], create: () => new AbacusBackend() }),
];
const dir = mkdtempSync(join(tmpdir(), 'flexfarm-abacus-'));
afterAll(() => {
  for (const remove of removers) remove();
  rmSync(dir, { recursive: true, force: true });
});

const gemm = defineWorkload('gemm', { M: 32, N: 24, K: 16 });

describe('a device kind registered by a test file alone', () => {
  it('is a target like the built-in ones', () => {
    expect(TARGET_KINDS).toContain('abacus');
    expect(isTargetKind('abacus')).toBe(true);
    expect(createBackend('abacus', { cacheDir: dir })).toBeInstanceOf(AbacusBackend);
  });

  it('tunes embedded', async () => {
    const backend = createBackend('abacus', { cacheDir: dir }) as AbacusBackend;
    const outDir = join(dir, 'tune');
    const outcome = await tune({ def: gemm, backend, trials: 16, explorer: 'random', seed: 3, recordsPath: join(dir, 'tune.jsonl'), outDir });
    expect(outcome).toMatchObject({ target: 'abacus', trials: 16 });
    expect(outcome.best).not.toBeNull();
    expect(outcome.remeasured).toBe(15); // the top 5, 3 rounds, after the search
    expect(backend.measured).toBe(16 + 15);
    expect(outcome.kernel).toBe(join(outDir, 'kernel.abacus'));
    expect(existsSync(outcome.kernel!)).toBe(true);
    const records = readRecords(join(dir, 'tune.jsonl')).filter((r) => r.candidateId);
    expect(records.map((r) => r.target)).toEqual(Array(16).fill('abacus'));
  });

  it('tunes through a campaign: the farm finds its agent by heartbeat and dispatches over gRPC', async () => {
    const bus = new MemoryBus();
    const server = await AgentServer.start({ name: 'abacus-agent', listen: '127.0.0.1:0', backend: createBackend('abacus', { cacheDir: dir }), bus });
    const recordsPath = join(dir, 'campaign.jsonl');
    const farm = new Farm({ bus, recordsPath, settleMs: 0 });
    farm.start();
    try {
      const { id } = farm.submit({ op: 'gemm', shape: { M: 32, N: 24, K: 16 }, targets: ['abacus'], trials: 20, explorer: 'random', seed: 4 });
      const final = await new Promise<CampaignSnapshot>((resolve) => {
        const stop = farm.watch(id, (e) => { if (e.campaign.state !== 'running') { queueMicrotask(() => stop()); resolve(e.campaign); } });
      });
      expect(final.state).toBe('done');
      expect(final.targets[0]).toMatchObject({ target: 'abacus', measured: 20 });
      expect(final.targets[0].best).toBeTruthy();
      const records = readRecords(recordsPath);
      expect(records).toHaveLength(20);
      expect(new Set(records.map((r) => `${r.target}/${r.device.kind}/${r.device.name}`))).toEqual(new Set(['abacus/abacus/abacus-0']));
      expect(farm.registry.get('abacus-agent')).toMatchObject({ kind: 'abacus', source: 'heartbeat', address: server.address });
    } finally {
      await server.stop(0);
      await farm.close();
      await bus.close();
    }
  });
});
