// What the HTML report shows, computed from tuning logs: per workload, the best-so-far curve of
// each device (in log order), the best kernel per device, and the devices side by side.
//
// Speedups over the unscheduled reference are shown only where the log holds that reference's
// timing on the same device: `flexfarm tune` writes it as a `type: "reference"` line at the end
// of each run; logs without one (e.g. a farm campaign's) show "—".
import { bestPerWorkloadDevice, deviceLabel, workloadFlops, type BestEntry } from '../best.ts';
import { deviceKey } from '../keys.ts';
import { knobStudy, type KnobStudy } from './knob-importance.ts';
import type { LibraryRecord, ReferenceRecord, RemeasureRecord, TuningRecord } from '../records.ts';

export interface ReportInput {
  path: string;
  records: readonly TuningRecord[];
  references: readonly ReferenceRecord[];
  /** Re-measurements: the best kernels are chosen and shown by their re-measured figures. */
  remeasures?: readonly RemeasureRecord[];
  /** Library timings (`library` lines): ours ÷ library per device. */
  libraries?: readonly LibraryRecord[];
}

export interface ConvergenceSeries {
  deviceKey: string;
  label: string;
  target: string;
  simulated: boolean;
  measurements: number;
  valid: number;
  /** Measurement index (1-based) where the best so far improved, and its value. */
  steps: { x: number; y: number }[];
}

export interface WorkloadSection {
  workload: string;
  op: string;
  /** FLOPs of one run; null when this flexfarm cannot parse the key (curves then show 1/s). */
  flops: number | null;
  series: ConvergenceSeries[];
  /** Best per device, fastest first. */
  best: BestEntry[];
  /** Per device with enough valid measurements: what the search learned of each knob. */
  knobs: KnobStudy[];
}

export interface DeviceColumn { key: string; label: string; simulated: boolean }

export interface ReportData {
  sources: string[];
  measurements: number;
  workloads: WorkloadSection[];
  devices: DeviceColumn[];
}

export function buildReportData(inputs: readonly ReportInput[]): ReportData {
  const records = inputs.flatMap((i) => i.records);
  const references = inputs.flatMap((i) => i.references);
  const best = bestPerWorkloadDevice(records, references, {}, inputs.flatMap((i) => i.remeasures ?? []), inputs.flatMap((i) => i.libraries ?? []));
  const byWorkload = new Map<string, TuningRecord[]>();
  for (const r of records) {
    const list = byWorkload.get(r.workload);
    if (list) list.push(r); else byWorkload.set(r.workload, [r]);
  }
  const devices = new Map<string, DeviceColumn>();
  const workloads: WorkloadSection[] = [];
  for (const workload of [...byWorkload.keys()].sort()) {
    const list = byWorkload.get(workload)!;
    const flops = workloadFlops(workload);
    const perDevice = new Map<string, TuningRecord[]>();
    for (const r of list) {
      const key = deviceKey(r);
      const group = perDevice.get(key);
      if (group) group.push(r); else perDevice.set(key, [r]);
      if (!devices.has(key)) devices.set(key, { key, label: deviceLabel(r), simulated: Boolean(r.simulated) });
    }
    const series = [...perDevice.entries()].map(([key, group]) => convergence(key, group, flops));
    const knobs = [...perDevice.entries()].flatMap(([key, group]) => {
      const study = knobStudy(group, flops, { deviceKey: key, label: deviceLabel(group[0]), simulated: group.some((r) => r.simulated) });
      return study ? [study] : [];
    });
    workloads.push({ workload, op: workload.split('(')[0], flops, series, best: best.filter((b) => b.workload === workload), knobs });
  }
  return {
    sources: inputs.map((i) => i.path), measurements: records.length, workloads,
    devices: [...devices.values()].sort((a, b) => a.label.localeCompare(b.label)),
  };
}

function convergence(key: string, group: TuningRecord[], flops: number | null): ConvergenceSeries {
  const steps: { x: number; y: number }[] = [];
  let bestSeconds = Infinity, valid = 0;
  group.forEach((r, i) => {
    if (r.error || r.median === null || !(r.median > 0)) return;
    valid++;
    if (r.median < bestSeconds) {
      bestSeconds = r.median;
      steps.push({ x: i + 1, y: flops === null ? 1 / r.median : flops / r.median / 1e9 });
    }
  });
  const first = group[0];
  return {
    deviceKey: key, label: deviceLabel(first), target: first.target, simulated: group.some((r) => r.simulated),
    measurements: group.length, valid, steps,
  };
}
