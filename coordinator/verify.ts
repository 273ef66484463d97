// `flexfarm verify`: does a tuning log's best still hold on this host? The recorded best of each
// workload (the re-measured figure where there is one) is measured again here, each run in a fresh
// process, several rounds interleaved across workloads; the ratio now / recorded must lie within a
// tolerance. The backend comes from the caller (cli/ wires the local one), so this never imports agent/.
import type { Backend } from '../contracts/backend.ts';
import { FlexfarmError } from '../contracts/errors.ts';
import { DEFAULT_PROTOCOL, median, type TimingProtocol } from '../contracts/result.ts';
import { bestPerWorkloadDevice, deviceLabel, openLog, type BestEntry } from './best.ts';
import { deviceKey } from './keys.ts';

export class NothingToVerifyError extends FlexfarmError {
  override name = 'NothingToVerifyError';
  readonly code = 'NOTHING_TO_VERIFY';
}

export interface VerifyOptions {
  recordsPath: string;
  /** A workload key or an operator name (as `flexfarm best --workload`). */
  workload?: string;
  target?: string;
  /** |now / recorded - 1| above this fails (0.05: ±5 %). */
  tolerance: number;
  /** Fresh runs per workload; their median is the figure now. */
  rounds: number;
  /** The backend that measures a target on this host. */
  backendFor: (target: string) => Backend;
  protocol?: TimingProtocol;
  warn?: (message: string) => void;
  /** Called once per measurement, for progress. */
  onRun?: (done: number, total: number) => void;
}

export interface VerifyRow {
  workload: string;
  target: string;
  /** The device the recorded figure was measured on, and whether it is this host's. */
  recordedOn: string;
  sameDevice: boolean;
  recorded: number;
  remeasured: boolean;
  /** Median of the valid runs now; null when none was valid. */
  now: number | null;
  runs: number;
  ratio: number | null;
  ok: boolean;
  error?: string;
}

export async function verifyLog(o: VerifyOptions): Promise<VerifyRow[]> {
  const log = openLog(o.recordsPath, { warn: o.warn });
  const entries = bestPerWorkloadDevice(log.all(), log.references(), { workload: o.workload, target: o.target }, log.remeasures());
  if (!entries.length) {
    const filters = [o.workload && `--workload ${o.workload}`, o.target && `--target ${o.target}`].filter(Boolean).join(' ');
    throw new NothingToVerifyError(`no recorded best to verify: ${o.recordsPath} holds no valid measurement${filters ? ` matching ${filters}` : ''}`);
  }
  const backends = new Map<string, Backend>();
  const backendOf = (target: string) => {
    let b = backends.get(target);
    if (!b) backends.set(target, (b = o.backendFor(target)));
    return b;
  };
  const picked = pickPerWorkload(entries, (target) => deviceKey({ target, device: backendOf(target).describe() }));
  const medians = picked.map(() => [] as number[]);
  const errors: (string | undefined)[] = picked.map(() => undefined);
  const protocol = o.protocol ?? DEFAULT_PROTOCOL;
  let done = 0;
  for (let round = 0; round < o.rounds; round++) {
    for (const [i, { entry }] of picked.entries()) {
      const result = await backendOf(entry.target).measure({
        id: `verify/${entry.target}/${round * picked.length + i}`, workload: entry.workload, target: entry.target, config: entry.config,
      }, protocol);
      if (result.error || result.median === null) errors[i] ??= `${result.error?.code ?? 'UNKNOWN'}: ${result.error?.message ?? 'no time'}`;
      else medians[i].push(result.median);
      o.onRun?.(++done, o.rounds * picked.length);
    }
  }
  return picked.map(({ entry, sameDevice }, i) => {
    const now = median(medians[i]);
    const ratio = now === null ? null : now / entry.seconds;
    return {
      workload: entry.workload, target: entry.target, recordedOn: deviceLabel(entry), sameDevice,
      recorded: entry.seconds, remeasured: entry.remeasured !== null, now, runs: medians[i].length, ratio,
      ok: ratio !== null && Math.abs(ratio - 1) <= o.tolerance,
      ...(now === null ? { error: errors[i] } : {}),
    };
  });
}

/** Per (workload, target): the entry of this host's device when the log has one, else the fastest device's. */
function pickPerWorkload(entries: readonly BestEntry[], localKey: (target: string) => string): { entry: BestEntry; sameDevice: boolean }[] {
  const groups = new Map<string, BestEntry[]>();
  for (const e of entries) {
    const key = `${e.workload}#${e.target}`;
    const list = groups.get(key);
    if (list) list.push(e); else groups.set(key, [e]);
  }
  return [...groups.values()].map((list) => {
    const local = list.find((e) => e.deviceKey === localKey(e.target));
    return { entry: local ?? list[0], sameDevice: local !== undefined };
  });
}
