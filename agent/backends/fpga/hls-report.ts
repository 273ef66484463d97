// Reading Vitis HLS C-synthesis reports (`syn/report/csynth.xml` and the per-module
// `<module>_csynth.xml` beside it) into the fields of an FpgaEstimate: worst-case latency in
// cycles, the achieved II of each pipelined loop, and the DSP, BRAM_18K, LUT, FF and URAM used.
//
// The XML layout (Vitis HLS 2020.2 – 2024.x): <profile> with <UserAssignments> (Part,
// TopModelName, TargetClockPeriod), <PerformanceEstimates> with <SummaryOfOverallLatency>
// (Best-caseLatency, Worst-caseLatency, Interval-min/max; `undef` when a trip count is unknown)
// and <SummaryOfLoopLatency> (one element per loop, named by its label, with TripCount, Latency,
// PipelineII, PipelineDepth; nested loops as children), and <AreaEstimates> with <Resources> and
// <AvailableResources>. Since 2022.1 inner pipelined loops are outlined into modules named
// `<top>_Pipeline_<label>`, whose loops are in their own report files.
import { FlexfarmError } from '../../../contracts/errors.ts';
import type { FpgaResources } from '../../../tensor/templates/fpga-resources.ts';
import { secondsOf, type FpgaEstimate, type LoopEstimate } from './estimate.ts';

/** A report that is missing, malformed, or lacks a field the estimate needs. */
export class SynthesisReportError extends FlexfarmError {
  override name = 'SynthesisReportError';
  readonly code = 'SYNTHESIS_REPORT';
}

export interface XmlElement { name: string; children: XmlElement[]; text: string }

/** A small XML reader for tool reports: elements and text; attributes, comments, PIs skipped. */
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack: XmlElement[] = [root];
  const tag = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<!DOCTYPE[^>]*>|<\/\s*([^\s>]+)\s*>|<\s*([^\s/>]+)([^>]*?)(\/?)>|([^<]+)/g;
  for (let m = tag.exec(text); m; m = tag.exec(text)) {
    const top = stack[stack.length - 1];
    if (m[1] !== undefined) top.text += m[1];
    else if (m[2] !== undefined) {
      if (top.name !== m[2]) throw new SynthesisReportError(`malformed XML: </${m[2]}> closes <${top.name}>`);
      stack.pop();
    } else if (m[3] !== undefined) {
      const element: XmlElement = { name: m[3], children: [], text: '' };
      top.children.push(element);
      if (m[5] !== '/') stack.push(element);
    } else if (m[6] !== undefined) top.text += decodeEntities(m[6]);
  }
  if (stack.length !== 1) throw new SynthesisReportError(`malformed XML: <${stack[stack.length - 1].name}> is never closed`);
  return root;
}

function decodeEntities(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

const child = (e: XmlElement | undefined, name: string): XmlElement | undefined => e?.children.find((c) => c.name === name);
const path = (e: XmlElement | undefined, ...names: string[]): XmlElement | undefined => names.reduce(child, e);
const textOf = (e: XmlElement | undefined): string | undefined => e?.text.trim();

/** A number, or undefined for a missing element or `undef`. */
function numberOf(e: XmlElement | undefined): number | undefined {
  const t = textOf(e);
  if (t === undefined || t === '' || t === 'undef' || t === '-') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

export interface SynthesisReport {
  version?: string;
  top: string;
  part?: string;
  targetClockNs?: number;
  estimatedClockNs?: number;
  bestCaseCycles?: number;
  worstCaseCycles?: number;
  resources: FpgaResources;
  available?: FpgaResources;
  loops: LoopEstimate[];
}

export function parseCsynthXml(text: string, file = 'csynth.xml'): SynthesisReport {
  const profile = parseXml(text).children.find((c) => c.name === 'profile');
  if (!profile) throw new SynthesisReportError(`${file}: no <profile> element (not a Vitis HLS csynth report)`);
  const perf = child(profile, 'PerformanceEstimates');
  const area = child(profile, 'AreaEstimates');
  const resources = resourcesOf(child(area, 'Resources'));
  if (!resources) throw new SynthesisReportError(`${file}: no <AreaEstimates><Resources>`);
  const overall = child(perf, 'SummaryOfOverallLatency');
  return {
    version: textOf(path(profile, 'ReportVersion', 'Version')),
    top: textOf(path(profile, 'UserAssignments', 'TopModelName')) ?? '',
    part: textOf(path(profile, 'UserAssignments', 'Part')),
    targetClockNs: numberOf(path(profile, 'UserAssignments', 'TargetClockPeriod')),
    estimatedClockNs: numberOf(path(perf, 'SummaryOfTimingAnalysis', 'EstimatedClockPeriod')),
    bestCaseCycles: numberOf(child(overall, 'Best-caseLatency')),
    worstCaseCycles: numberOf(child(overall, 'Worst-caseLatency')),
    resources,
    available: resourcesOf(child(area, 'AvailableResources')),
    loops: loopsOf(child(perf, 'SummaryOfLoopLatency')),
  };
}

function resourcesOf(e: XmlElement | undefined): FpgaResources | undefined {
  if (!e) return undefined;
  const n = (name: string) => numberOf(child(e, name)) ?? 0;
  // Reports before 2020.1 call the DSP column DSP48E.
  return { dsp: numberOf(child(e, 'DSP')) ?? n('DSP48E'), bram18: n('BRAM_18K'), lut: n('LUT'), ff: n('FF'), uram: n('URAM') };
}

/** Loops in document order, nested ones after their parent. Elements without TripCount are not loops. */
function loopsOf(summary: XmlElement | undefined): LoopEstimate[] {
  const out: LoopEstimate[] = [];
  const visit = (e: XmlElement): void => {
    for (const c of e.children) {
      if (!child(c, 'TripCount') && !child(c, 'PipelineII')) continue;
      const name = textOf(child(c, 'Name')) ?? c.name;
      const loop: LoopEstimate = { name, tripCount: numberOf(child(c, 'TripCount')) ?? NaN };
      const ii = numberOf(child(c, 'PipelineII')), depth = numberOf(child(c, 'PipelineDepth')) ?? numberOf(child(c, 'IterationLatency'));
      const latency = numberOf(child(c, 'Latency'));
      if (ii !== undefined) loop.ii = ii;
      if (depth !== undefined) loop.depth = depth;
      if (latency !== undefined) loop.latency = latency;
      out.push(loop);
      visit(c);
    }
  };
  if (summary) visit(summary);
  return out;
}

/**
 * The estimate of a synthesis: the top report's worst-case latency and resources, loops from
 * every report given (top first). The compute II is that of the pipelined loop labelled
 * `computeLoop` (alone or innermost of a flattened nest), or the largest II of any pipelined loop
 * when that label is absent.
 */
export function estimateFromReports(reports: SynthesisReport[], clockMhz: number, computeLoop?: string): FpgaEstimate {
  const [top] = reports;
  if (!top) throw new SynthesisReportError('no synthesis report to read');
  if (top.worstCaseCycles === undefined) {
    throw new SynthesisReportError(`${top.top}: worst-case latency is undefined (a loop without a static trip count)`);
  }
  const loops = reports.flatMap((r) => r.loops);
  const pipelined = loops.filter((l) => l.ii !== undefined);
  // A flattened nest is reported under its labels joined: the compute loop's label comes last.
  const compute = computeLoop ? pipelined.find((l) => l.name === computeLoop || l.name.endsWith(`_${computeLoop}`)) : undefined;
  const ii = compute?.ii ?? (pipelined.length ? Math.max(...pipelined.map((l) => l.ii!)) : 1);
  return {
    estimator: 'vitis_hls', cycles: top.worstCaseCycles, clockMhz, seconds: secondsOf(top.worstCaseCycles, clockMhz),
    ii, resources: top.resources, loops,
  };
}
