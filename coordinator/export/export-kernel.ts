// `flexfarm export`: the best kernel of a workload on a target as a standalone source tree that
// builds with plain gcc (see build-files.ts for what goes in it).
//
// Targets: `cpu` exports what was measured. `sim` has no kernel of its own: its configs are the
// CPU template's, so the CPU kernel of the best sim config is exported, and the README and the
// harness say that the recorded figure is a simulated estimate. Other targets are refused.
// The C renderer and flags come in as `c` (cli/export-kernel.ts passes the CPU backend's).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CKernelSource } from '../../contracts/c-kernel-source.ts';
import { FlexfarmError } from '../../contracts/errors.ts';
import { TARGETS, targetSpec } from '../../contracts/targets.ts';
import { defineFromKey } from '../../tensor/ops/registry.ts';
import { DEFAULT_MAX_ACCUMULATOR } from '../../tensor/templates/cpu.ts';
import type { DeviceLimits } from '../../tensor/templates/template.ts';
import { bestEntry, deviceLabel, openLog, type BestEntry } from '../best.ts';
import { renderMakefile, renderReadme } from './build-files.ts';
import { renderHeader, renderReferenceKernel, renderTunedKernel } from './c-sources.ts';
import { renderExportHarness } from './harness-c.ts';

/** Kinds whose configs render as C (the registry's `exportable`): cpu and sim, and any registered so. */
export function exportableTargets(): string[] {
  return TARGETS.filter((t) => t.exportable).map((t) => t.kind);
}

export class ExportError extends FlexfarmError {
  override name = 'ExportError';
  readonly code = 'EXPORT';
}

export interface ExportOptions {
  recordsPath: string;
  workload: string;
  target: string;
  outDir: string;
  /** Write into a non-empty directory (files of the same name are replaced). */
  force?: boolean;
  warn?: (message: string) => void;
}

export interface ExportResult {
  outDir: string;
  files: string[];
  entry: BestEntry;
}

/** Writes the export with the C renderer and flags of `c`. */
export function exportKernelWith(options: ExportOptions, c: CKernelSource): ExportResult {
  if (!targetSpec(options.target)?.exportable) {
    throw new ExportError(`cannot export for target '${options.target}': export writes C for ${exportableTargets().join(' and ')} (sim exports the CPU kernel of its config)`);
  }
  const def = defineFromKey(options.workload);
  const log = openLog(options.recordsPath, { warn: options.warn });
  const entry = bestEntry(log, def.key, options.target);
  if (!entry) {
    const tried = log.select(def.key, options.target).length;
    throw new ExportError(`no valid measurement of ${def.key} on ${options.target} in ${options.recordsPath}` +
      (tried ? ` (${tried} measured, none valid)` : ''));
  }
  if (existsSync(options.outDir) && readdirSync(options.outDir).length && !options.force) {
    throw new ExportError(`output directory '${options.outDir}' is not empty (use --force to write into it)`);
  }
  const limits: DeviceLimits = { maxAccumulator: DEFAULT_MAX_ACCUMULATOR, ...entry.device.limits };
  const where = `${deviceLabel(entry)}, ${entry.at}${entry.remeasured ? `, re-measured: median of ${entry.remeasured.runs} fresh runs` : ''}`;
  const note = entry.simulated
    ? `exported by flexfarm from a sim-target record: its recorded time is a SIMULATED estimate (${where})`
    : `exported by flexfarm: measured ${entry.seconds.toPrecision(4)} s median on ${where}`;
  const files: Record<string, string> = {
    'kernel.c': `#include "kernel.h"\n${renderTunedKernel(c, def, entry.config, limits, note)}`,
    'reference.c': `#include "kernel.h"\n${renderReferenceKernel(c, def)}`,
    'kernel.h': renderHeader(c, def),
    'main.c': renderExportHarness(def, { recordedSeconds: entry.seconds, recordedWhere: where, simulated: entry.simulated }),
    Makefile: renderMakefile(c),
    'README.md': renderReadme(c, def, entry, options.recordsPath),
    'config.json': `${JSON.stringify({
      workload: def.key, target: entry.target, config: entry.config, seconds: entry.seconds, gflops: entry.gflops, remeasured: entry.remeasured,
      device: entry.device, simulated: entry.simulated, at: entry.at, records: options.recordsPath,
    }, null, 2)}\n`,
  };
  mkdirSync(options.outDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(options.outDir, name), text);
  return { outDir: options.outDir, files: Object.keys(files), entry };
}
