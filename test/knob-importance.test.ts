// The report's knob view (issue 18 item 6): the knob that decides the speed gets the importance,
// a knob that does not gets next to none; slices list every value in order with every figure;
// the report shows both, and the live page's CSV has a column per knob.
import { expect, test } from 'vitest';
import { knobStudy } from '../coordinator/report/knob-importance.ts';
import { buildReportData } from '../coordinator/report/report-data.ts';
import { renderReport } from '../coordinator/report/render-html.ts';
import { measurementsCsv } from '../coordinator/web/measurements-csv.ts';
import type { TuningRecord } from '../coordinator/records.ts';

const device = { kind: 'cpu' as const, name: 'host', model: 'Test CPU', cores: 2, memoryBytes: 1, toolchain: 'gcc', limits: {} };
const workload = 'gemm(M=64,N=64,K=64,dtype=float32)';

function records(): TuningRecord[] {
  const out: TuningRecord[] = [];
  let i = 0;
  for (const unroll of [0, 16, 64]) {
    for (const split of [[1, 64], [8, 8], [64, 1]]) {
      for (const noise of [0, 1]) {
        // split.m decides the speed (10x between values); `unroll` and the noise hardly matter.
        const speed = (split[0] === 8 ? 100 : split[0] === 64 ? 10 : 1) * (1 + unroll / 6400) * (1 + noise * 0.01);
        out.push({
          v: 1, candidateId: `c/cpu/${i++}`, campaign: 'c', workload, target: 'cpu', config: { 'split.m': split, unroll },
          seconds: [1e-3 / speed], median: 1e-3 / speed, error: null, device, toolchain: 'gcc', at: new Date(i * 1000).toISOString(), explorer: 'random',
        });
      }
    }
  }
  out.push({ ...out[0], candidateId: 'c/cpu/99', seconds: [], median: null, error: { code: 'COMPILE', message: 'x' } });
  return out;
}

test('importance goes to the knob whose values explain the speed; slices keep every value and figure', () => {
  const study = knobStudy(records(), 2 * 64 ** 3, { deviceKey: 'k', label: 'cpu: Test CPU', simulated: false })!;
  expect(study.measurements).toBe(18);
  expect(study.knobs.map((k) => k.knob)).toEqual(['split.m', 'unroll']);
  expect(study.knobs[0].importance).toBeGreaterThan(0.95);
  expect(study.knobs[0].importance + study.knobs[1].importance).toBeCloseTo(1, 9);
  expect(study.knobs[0].values.map((v) => v.label)).toEqual(['[1,64]', '[8,8]', '[64,1]']);
  expect(study.knobs[1].values.map((v) => v.label)).toEqual(['0', '16', '64']);
  expect(study.knobs[0].values.every((v) => v.figures.length === 6)).toBe(true);
  expect(knobStudy(records().slice(0, 3), null, { deviceKey: 'k', label: 'x', simulated: false })).toBeNull();
});

test('the report shows the importance and a slice per knob; the CSV a column per knob', () => {
  const data = buildReportData([{ path: 'r.jsonl', records: records(), references: [] }]);
  const html = renderReport(data, { generatedAt: 'now' });
  expect(html).toContain('Knob importance');
  expect(html.match(/<svg class="slice" data-knob="[^"]+"/g)).toEqual(['<svg class="slice" data-knob="split.m"', '<svg class="slice" data-knob="unroll"']);
  const csv = measurementsCsv(records(), 2 * 64 ** 3).trim().split('\n');
  expect(csv[0]).toBe('n,target,device,model,explorer,candidate,median_s,gflops,error,simulated,at,knob.split.m,knob.unroll');
  expect(csv).toHaveLength(20);
  expect(csv[1]).toMatch(/^1,cpu,host,Test CPU,random,c\/cpu\/0,[\d.e-]+,[\d.]+,,,[^,]+,"\[1,64\]",0$/);
  expect(csv[19]).toMatch(/,COMPILE,/);
});
