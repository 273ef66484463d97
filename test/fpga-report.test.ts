// Vitis HLS reports: the parser reads a hand-written report directory (test/fixtures/fpga, laid
// out as Vitis HLS 2023.2 writes it) into the same estimate fields the analytical model fills; and
// the synthesis path of the backend runs end to end against a FAKE vitis_hls (the real tool
// cannot be installed here) that copies those reports where Vitis would write them.
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFpgaBackend } from '../agent/backends/fpga/fpga-backend.ts';
import { estimateFromReports, parseCsynthXml, parseXml, SynthesisReportError } from '../agent/backends/fpga/hls-report.ts';
import { estimatePlan } from '../agent/backends/fpga/model.ts';
import { fpgaPart } from '../agent/backends/fpga/parts.ts';
import { readReports, synthesisScript } from '../agent/backends/fpga/vitis-hls.ts';
import type { TimingProtocol } from '../contracts/result.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { planFpga } from '../tensor/templates/fpga-plan.ts';

const fixtures = join(import.meta.dirname, 'fixtures', 'fpga');
const reportDir = join(fixtures, 'gemm-64-report');
const dir = mkdtempSync(join(tmpdir(), 'flexfarm-fpga-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const gemm = defineWorkload('gemm', { M: 64, N: 64, K: 64 });
/** The config the fixture was written for (see test/fixtures/fpga/README.md). */
const CONFIG = { 'split.m': [2, 8, 4], 'split.n': [2, 4, 8], 'split.k': [2, 32, 1], order: 1, ii: 1, partition: 0, burst: 16 };
const PROTOCOL: TimingProtocol = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 20_000 };

describe('csynth.xml parser', () => {
  it('reads the top report: part, clock, latency, resources, loops', () => {
    const top = parseCsynthXml(readFileSync(join(reportDir, 'csynth.xml'), 'utf8'));
    expect(top).toMatchObject({
      version: '2023.2', top: 'gemm_top', part: 'xcvu9p-flgb2104-2-i', targetClockNs: 3.33, estimatedClockNs: 2.433,
      bestCaseCycles: 11517, worstCaseCycles: 11517,
      resources: { dsp: 160, bram18: 24, lut: 29876, ff: 25430, uram: 0 },
      available: { dsp: 6840, bram18: 4320, lut: 1182240, ff: 2364480, uram: 960 },
    });
    expect(top.loops).toEqual([
      { name: 'L_m_t_L_n_t', tripCount: 4, latency: 11512, depth: 2878 },
      { name: 'L_k_t', tripCount: 2, latency: 2600, depth: 1300 },
    ]);
  });

  it('reads the whole report directory into the fields of a model estimate', async () => {
    const reports = await readReports(reportDir, 'gemm_top');
    expect(reports.map((r) => r.top)).toEqual([
      'gemm_top', 'gemm_top_Pipeline_L_A_buf_i0_L_A_buf_c', 'gemm_top_Pipeline_L_B_buf_i0_L_B_buf_c',
      'gemm_top_Pipeline_L_init_i0_L_init_c', 'gemm_top_Pipeline_L_k_s_L_m_s_L_n_s', 'gemm_top_Pipeline_L_st_i0_L_st_c',
    ]);
    const fromReport = estimateFromReports(reports, 300, 'L_n_s');
    const fromModel = estimatePlan(planFpga(gemm, CONFIG), { part: fpgaPart('xcvu9p'), clockMhz: 300 });
    const { breakdown: _, ...modelFields } = fromModel;
    expect(Object.keys(fromReport).sort()).toEqual(Object.keys(modelFields).sort());
    expect(Object.keys(fromReport.resources).sort()).toEqual(Object.keys(fromModel.resources).sort());
    expect(fromReport).toMatchObject({
      estimator: 'vitis_hls', cycles: 11517, clockMhz: 300, ii: 1,
      resources: { dsp: 160, bram18: 24, lut: 29876, ff: 25430, uram: 0 },
    });
    expect(fromReport.seconds).toBeCloseTo(11517 / 300e6, 15);
    // The compute II is the labelled loop's (1), not the largest in the design (the store's 2).
    expect(fromReport.loops.find((l) => l.name === 'L_st_i0_L_st_c')).toMatchObject({ tripCount: 64, ii: 2, depth: 4, latency: 131 });
    expect(fromReport.loops.find((l) => l.name === 'L_k_s_L_m_s_L_n_s')).toMatchObject({ tripCount: 1024, ii: 1, depth: 12 });
    expect(estimateFromReports(reports, 300).ii).toBe(2);
    // Model and report agree on the shape of the design: same DSPs, cycles within 10%.
    expect(fromModel.resources.dsp).toBe(fromReport.resources.dsp);
    expect(Math.abs(fromModel.cycles - fromReport.cycles) / fromReport.cycles).toBeLessThan(0.1);
  });

  it('rejects what is not a usable report, saying why', () => {
    expect(() => parseCsynthXml('<report><x>1</x></report>')).toThrow(/no <profile> element/);
    expect(() => parseXml('<profile><a></profile>')).toThrow(SynthesisReportError);
    const undef = readFileSync(join(reportDir, 'csynth.xml'), 'utf8').replace(/<Worst-caseLatency>11517/, '<Worst-caseLatency>undef');
    expect(() => estimateFromReports([parseCsynthXml(undef)], 300)).toThrow(/worst-case latency is undefined/);
    const old = readFileSync(join(reportDir, 'csynth.xml'), 'utf8').replace(/<DSP>160<\/DSP>/, '<DSP48E>160</DSP48E>');
    expect(parseCsynthXml(old).resources.dsp).toBe(160);
  });

  it('the synthesis script targets the part and the clock', () => {
    const tcl = synthesisScript('gemm_top', 'kernel.cpp', 'xcvu9p-flgb2104-2-i', 300);
    expect(tcl).toContain('set_top gemm_top');
    expect(tcl).toContain('set_part {xcvu9p-flgb2104-2-i}');
    expect(tcl).toContain('create_clock -period 3.333');
    expect(tcl).toContain('csynth_design');
  });
});

describe('backend with vitis_hls on PATH (FAKE vitis_hls)', () => {
  /** A wrapper script, so the fake runs whatever the checkout's file modes; `reports` replaces
   *  the report directory it copies. */
  function fakeVitis(reports?: string): string {
    const wrapper = join(dir, reports ? 'vitis_hls_other' : 'vitis_hls');
    const env = reports ? `FAKE_VITIS_REPORT="${reports}" ` : '';
    writeFileSync(wrapper, `#!/bin/sh\n${env}exec "${process.execPath}" "${join(fixtures, 'fake-vitis-hls.mjs')}" "$@"\n`);
    chmodSync(wrapper, 0o755);
    return wrapper;
  }

  it('C simulation, then C synthesis: the result carries the report\'s figures and estimator vitis_hls', async () => {
    const backend = createFpgaBackend({ cacheDir: join(dir, 'cache'), vitisHls: fakeVitis() });
    expect(backend.estimator).toBe('vitis_hls');
    expect(backend.describe().toolchain).toContain('v2023.2 (FAKE');
    const r = await backend.measure({ id: 'synth', workload: gemm.key, target: 'fpga', config: CONFIG }, PROTOCOL);
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    expect(r).toMatchObject({ estimated: true, estimator: 'vitis_hls' });
    expect(r.estimate).toEqual({ cycles: 11517, clockMhz: 300, ii: 1, dsp: 160, bram18: 24, lut: 29876, ff: 25430, uram: 0 });
    expect(r.median).toBeCloseTo(11517 / 300e6, 15);
    // The synthesis project holds the HLS C++ and the Tcl script Vitis was given.
    const [project] = readdirSync(join(dir, 'cache', 'hls'));
    expect(readFileSync(join(dir, 'cache', 'hls', project, 'kernel.cpp'), 'utf8')).toContain('void gemm_top(');
    expect(readFileSync(join(dir, 'cache', 'hls', project, 'run.tcl'), 'utf8')).toContain('set_top gemm_top');
    // A second measurement of the same kernel reads the cached reports.
    const again = await backend.measure({ id: 'synth-2', workload: gemm.key, target: 'fpga', config: CONFIG }, PROTOCOL);
    expect(again.estimate).toEqual(r.estimate);
  });

  it('a synthesised design over the part budget is INSTANTIATION', async () => {
    // The same reports, but synthesis needed more DSPs than the VU9P has (the model did not think so).
    const over = join(dir, 'over-report');
    cpSync(reportDir, over, { recursive: true });
    writeFileSync(join(over, 'csynth.xml'), readFileSync(join(reportDir, 'csynth.xml'), 'utf8').replace('<DSP>160</DSP>', '<DSP>7200</DSP>'));
    const backend = createFpgaBackend({ cacheDir: join(dir, 'cache-over'), vitisHls: fakeVitis(over), csim: false });
    const r = await backend.measure({ id: 'over', workload: gemm.key, target: 'fpga', config: CONFIG }, PROTOCOL);
    expect(r.error?.code).toBe('INSTANTIATION');
    expect(r.error?.message).toMatch(/synthesised design over the FPGA budget: needs 7200 DSP slices, the part has 6840/);
    expect(r.estimated).toBe(true);
  });
});
