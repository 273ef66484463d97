// C synthesis with Vitis HLS, when it is installed: write the kernel and a Tcl script into a
// fresh directory, run `vitis_hls -f run.tcl` in a child process with a timeout, and read the
// reports of the solution. Reports are cached by a hash of the source, part and clock.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlexfarmError } from '../../../contracts/errors.ts';
import { runChild } from '../../child-process.ts';
import { parseCsynthXml, SynthesisReportError, type SynthesisReport } from './hls-report.ts';

export const SYNTH_PROJECT = 'proj';
export const SYNTH_SOLUTION = 'sol';

export class SynthesisError extends FlexfarmError {
  override name = 'SynthesisError';
  readonly code = 'SYNTHESIS';
  constructor(message: string, readonly timedOut = false) { super(message); }
}

export interface SynthesisOptions {
  /** The `vitis_hls` command. */
  command: string;
  partNumber: string;
  clockMhz: number;
  /** Projects live under <cacheDir>/hls/<hash>. */
  cacheDir: string;
  timeoutMs: number;
}

/** The version line of `vitis_hls -version`, or null when it is not installed. */
export function vitisHlsVersion(command: string): string | null {
  try {
    const out = execFileSync(command, ['-version'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n').map((l) => l.trim()).find((l) => /vitis|hls/i.test(l)) ?? out.split('\n')[0].trim();
  } catch {
    return null;
  }
}

export function synthesisScript(top: string, sourceFile: string, partNumber: string, clockMhz: number): string {
  return [
    `open_project -reset ${SYNTH_PROJECT}`,
    `set_top ${top}`,
    `add_files ${sourceFile}`,
    `open_solution -reset ${SYNTH_SOLUTION} -flow_target vitis`,
    `set_part {${partNumber}}`,
    `create_clock -period ${(1000 / clockMhz).toFixed(3)} -name default`,
    'csynth_design',
    'exit',
    '',
  ].join('\n');
}

/** Synthesise `source` (top function `top`) and return its reports, top module first. */
export async function synthesise(source: string, top: string, options: SynthesisOptions): Promise<SynthesisReport[]> {
  const hash = createHash('sha256').update(JSON.stringify([options.partNumber, options.clockMhz, top])).update(source).digest('hex').slice(0, 24);
  const dir = join(options.cacheDir, 'hls', hash);
  const reportDir = join(dir, SYNTH_PROJECT, SYNTH_SOLUTION, 'syn', 'report');
  try {
    return await readReports(reportDir, top);
  } catch { /* not synthesised yet */ }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'kernel.cpp'), source);
  await writeFile(join(dir, 'run.tcl'), synthesisScript(top, 'kernel.cpp', options.partNumber, options.clockMhz));
  const out = await runChild(options.command, ['-f', 'run.tcl'], { timeoutMs: options.timeoutMs, cwd: dir, maxOutputBytes: 256 * 1024 });
  if (out.timedOut) throw new SynthesisError(`${options.command} took longer than ${options.timeoutMs} ms`, true);
  if (out.code !== 0) {
    const errors = (out.stdout + out.stderr).split('\n').filter((l) => /^ERROR/.test(l)).slice(0, 5).join('\n');
    throw new SynthesisError(`${options.command} failed with status ${out.code}${errors ? `: ${errors}` : ''}`);
  }
  return readReports(reportDir, top);
}

/** csynth.xml first, then the per-module reports (outlined pipelines). */
export async function readReports(reportDir: string, top: string): Promise<SynthesisReport[]> {
  let names: string[];
  try {
    names = await readdir(reportDir);
  } catch {
    throw new SynthesisReportError(`no synthesis reports in ${reportDir}`);
  }
  const main = names.includes('csynth.xml') ? 'csynth.xml' : names.includes(`${top}_csynth.xml`) ? `${top}_csynth.xml` : null;
  if (!main) throw new SynthesisReportError(`no csynth.xml in ${reportDir}`);
  const modules = names.filter((n) => n.endsWith('_csynth.xml') && n !== main && n !== `${top}_csynth.xml`).sort();
  const reports: SynthesisReport[] = [];
  for (const name of [main, ...modules]) reports.push(parseCsynthXml(await readFile(join(reportDir, name), 'utf8'), name));
  return reports;
}
