// The `sim` backend: the CPU template's configs, validated exactly as on the CPU, "timed" by an
// analytical landscape with seeded noise. Thousands of measurements per second; every result
// says `simulated: true` and the device names itself as simulated.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend, ReferenceTiming } from '../../../contracts/backend.ts';
import type { Candidate, DeviceInfo, MeasureResult, TimingProtocol } from '../../../contracts/result.ts';
import { median } from '../../../contracts/result.ts';
import { timingSpread } from '../../../contracts/timing-spread.ts';
import type { ComputeDef } from '../../../tensor/compute.ts';
import { defineFromKey } from '../../../tensor/ops/registry.ts';
import { cpuClassicTemplate, DEFAULT_MAX_ACCUMULATOR } from '../../../tensor/templates/cpu.ts';
import type { Config, DeviceLimits } from '../../../tensor/templates/template.ts';
import { CpuRenderer } from '../../cpu-renderer.ts';
import { DEFAULT_SIM_DEVICE, estimate, referenceEstimate, type SimDevice, type SimSchedule } from './landscape.ts';

export interface SimBackendOptions {
  /** Seed of the noise: same seed and config, same seconds. */
  seed?: number;
  /** Cores of the modelled CPU (default 8). */
  cores?: number;
  /** A fixed delay per measurement, so farm benchmarks can model a device that takes time. */
  delayMs?: number;
}

export const SIM_TOOLCHAIN = 'flexfarm sim landscape v1 (analytical, no device)';
/** Relative noise of one config's time (uniform in ±NOISE) and of each repeat around it. */
const NOISE = 0.02;
const REPEAT_NOISE = 0.01;

export class SimBackend implements Backend {
  readonly kind = 'sim' as const;
  readonly template = cpuClassicTemplate;
  readonly limits: DeviceLimits = { maxAccumulator: DEFAULT_MAX_ACCUMULATOR };
  readonly seed: number;
  readonly delayMs: number;
  private readonly device: SimDevice;
  private readonly defs = new Map<string, ComputeDef>();

  constructor(options: SimBackendOptions = {}) {
    const cores = options.cores ?? DEFAULT_SIM_DEVICE.cores;
    if (!Number.isInteger(cores) || cores < 1) throw new RangeError(`sim: cores must be a positive integer, got ${cores}`);
    const delayMs = options.delayMs ?? 0;
    if (!(delayMs >= 0)) throw new RangeError(`sim: delayMs must be >= 0, got ${delayMs}`);
    this.seed = options.seed ?? 0;
    this.delayMs = delayMs;
    this.device = { ...DEFAULT_SIM_DEVICE, cores };
  }

  describe(): DeviceInfo {
    const d = this.device;
    return {
      kind: 'sim',
      name: 'sim',
      model: `simulated ${d.cores}-core CPU (${d.lanes}-lane vectors, analytical landscape, seed ${this.seed})`,
      cores: d.cores,
      memoryBytes: 0,
      peakGflops: (d.peakCoreFlops * d.cores) / 1e9,
      peakSource: `spec of the sim landscape: ${d.cores} cores × ${d.peakCoreFlops / 1e9} GFLOP/s (simulated)`,
      toolchain: SIM_TOOLCHAIN,
      limits: { ...this.limits },
    };
  }

  async measure(candidate: Candidate, protocol: TimingProtocol): Promise<MeasureResult> {
    if (this.delayMs > 0) await sleep(this.delayMs);
    return this.measureNow(candidate, protocol);
  }

  /** The same as measure, synchronously (search benchmarks run thousands of these). */
  measureNow(candidate: Candidate, protocol: TimingProtocol): MeasureResult {
    const base = {
      candidateId: candidate.id, campaign: candidate.campaign, workload: candidate.workload,
      target: 'sim' as const, config: candidate.config, device: this.describe(), toolchain: SIM_TOOLCHAIN,
      simulated: true, at: new Date().toISOString(),
    };
    let def: ComputeDef;
    try {
      def = this.define(candidate.workload);
      this.template.check(def, candidate.config, this.limits);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { ...base, seconds: [], median: null, error: { code: 'INSTANTIATION', message } };
    }
    const seconds = this.seconds(def, candidate.config, Math.max(1, protocol.repeat));
    return { ...base, seconds, median: median(seconds), number: 1, spread: timingSpread(seconds), error: null };
  }

  /** Per-repeat seconds of a valid config: landscape x config noise x repeat noise. */
  seconds(def: ComputeDef, config: Config, repeats: number): number[] {
    const base = estimate(def, schedule(def, config), this.device).seconds;
    const key = `${def.key}|${stableConfigKey(config)}`;
    const level = base * (1 + NOISE * (2 * unit(key, this.seed) - 1));
    return Array.from({ length: repeats }, (_, r) => level * (1 + REPEAT_NOISE * (2 * unit(`${key}|${r}`, this.seed) - 1)));
  }

  async reference(def: ComputeDef, _protocol: TimingProtocol): Promise<ReferenceTiming> {
    const seconds = referenceEstimate(def, this.device).seconds;
    return { seconds, gflops: def.flops / seconds / 1e9 };
  }

  source(def: ComputeDef, config: Config): string {
    const nest = this.template.lower(def, config);
    const note = 'sim target: this is the CPU kernel the config describes; its time comes from an analytical model, not a device';
    return new CpuRenderer().renderKernel(def, nest, note);
  }

  private define(workload: string): ComputeDef {
    let def = this.defs.get(workload);
    if (!def) {
      def = defineFromKey(workload);
      this.defs.set(workload, def);
    }
    return def;
  }
}

/** The landscape's view of a config the template has already checked. */
function schedule(def: ComputeDef, config: Config): SimSchedule {
  const unroll = config.unroll as number[];
  return {
    spatial: def.spatial.map((a) => config[`split.${a.name}`] as number[]),
    reduce: def.reduce.map((a) => config[`split.${a.name}`] as number[]),
    reorder: config.reorder as number,
    unrollMaxStep: unroll[0],
    unrollReduce: unroll[1] === 1,
  };
}

/** Knob order does not change the noise: keys are sorted. */
function stableConfigKey(config: Config): string {
  return Object.keys(config).sort().map((k) => `${k}=${JSON.stringify(config[k])}`).join(';');
}

/** A uniform number in [0, 1) from a string and a seed (FNV-1a, then a 32-bit mix). */
function unit(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
