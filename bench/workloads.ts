// Named workloads for benchmarks, read from the workload lists (*.json, each
// {"workloads": [{"name", "op", "shape"}]}) in bench/workloads/, inside the repository so that a
// fresh clone runs the benches and their tests with nothing beside it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlexfarmError } from '../contracts/errors.ts';

export interface NamedWorkload {
  name: string;
  op: string;
  shape: Record<string, number>;
  /** The list it came from. */
  file: string;
}

/** bench/workloads/, beside this file. */
export const DEFAULT_WORKLOADS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'workloads');

/** The folder of workload lists: FLEXFARM_WORKLOADS when set (another set of lists), else
 *  DEFAULT_WORKLOADS_DIR. */
export function workloadsDir(): string {
  return process.env.FLEXFARM_WORKLOADS || DEFAULT_WORKLOADS_DIR;
}

export class WorkloadsMissingError extends FlexfarmError {
  override name = 'WorkloadsMissingError';
  readonly code = 'WORKLOADS_MISSING';
}
export class WorkloadFileError extends FlexfarmError {
  override name = 'WorkloadFileError';
  readonly code = 'WORKLOAD_FILE';
}
export class UnknownWorkloadError extends FlexfarmError {
  override name = 'UnknownWorkloadError';
  readonly code = 'UNKNOWN_WORKLOAD';
}

/** Every workload of every list in `dir`. Names must be unique across the lists. */
export function loadWorkloads(dir: string = workloadsDir()): NamedWorkload[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new WorkloadsMissingError(
      `workload folder ${dir} does not exist: the benchmarks read the workload lists from ` +
      `bench/workloads/ in the repository (or from the folder FLEXFARM_WORKLOADS names)`,
    );
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (!files.length) throw new WorkloadsMissingError(`workload folder ${dir} holds no *.json workload lists`);
  const seen = new Map<string, string>();
  const all: NamedWorkload[] = [];
  for (const file of files) {
    for (const w of readList(join(dir, file))) {
      const earlier = seen.get(w.name);
      if (earlier) throw new WorkloadFileError(`${w.file}: workload '${w.name}' is also defined in ${earlier}`);
      seen.set(w.name, w.file);
      all.push(w);
    }
  }
  return all;
}

/** The workloads called `names`, in that order. */
export function findWorkloads(names: string[], dir: string = workloadsDir()): NamedWorkload[] {
  const all = loadWorkloads(dir);
  return names.map((name) => {
    const found = all.find((w) => w.name === name);
    if (!found) {
      throw new UnknownWorkloadError(`no workload named '${name}' in ${dir} (known: ${all.map((w) => w.name).join(', ')})`);
    }
    return found;
  });
}

function readList(file: string): NamedWorkload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new WorkloadFileError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const list = (parsed as { workloads?: unknown })?.workloads;
  if (!Array.isArray(list)) throw new WorkloadFileError(`${file}: expected an object with a "workloads" array`);
  return list.map((entry: unknown, i) => {
    const w = entry as Partial<NamedWorkload> | null;
    const where = `${file}: workloads[${i}]`;
    if (!w || typeof w.name !== 'string' || !w.name) throw new WorkloadFileError(`${where}: "name" must be a non-empty string`);
    if (typeof w.op !== 'string' || !w.op) throw new WorkloadFileError(`${where} (${w.name}): "op" must be a non-empty string`);
    if (!w.shape || typeof w.shape !== 'object' || Array.isArray(w.shape)) {
      throw new WorkloadFileError(`${where} (${w.name}): "shape" must be an object of NAME: integer`);
    }
    for (const [key, value] of Object.entries(w.shape)) {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new WorkloadFileError(`${where} (${w.name}): shape parameter ${key} must be an integer, got ${JSON.stringify(value)}`);
      }
    }
    return { name: w.name, op: w.op, shape: { ...w.shape }, file };
  });
}
