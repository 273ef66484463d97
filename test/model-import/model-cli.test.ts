// `flexfarm model layers` as a user runs it: a real process on a real model; bad input (not
// ONNX, truncated, an unsupported opset, no tunable layer, an unbound dynamic input) exits 1 with
// the reason on stderr and nothing on stdout.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floats, modelBytes, node, value } from './onnx-builder.ts';
import { CLASSIFIER, DETECTOR } from './real-models.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'flexfarm-model-cli-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function flexfarm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

describe('flexfarm model layers', () => {
  it('--json on the real detector: the documented fields, shares summing to one, counts covering every Conv', async () => {
    const run = await flexfarm(['model', 'layers', DETECTOR, '--input', 'x=1,3,320,320', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['layers', 'unmapped']));
    for (const l of out.layers) expect(Object.keys(l).sort()).toEqual(['count', 'flops', 'op', 'share', 'workload']);
    expect(out.layers.reduce((s: number, l: { share: number }) => s + l.share, 0)).toBeCloseTo(1, 9);
    expect(out.unmapped).toEqual([]);
    expect(out.inputs).toEqual([{ name: 'x', shape: [1, 3, 320, 320] }]);
  });

  it('the table on the real classifier: its strides [2,1] as stride_w, nothing unmapped', async () => {
    const run = await flexfarm(['model', 'layers', CLASSIFIER, '--input', 'x=1,3,48,192']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/distinct workloads from \d+ nodes/);
    expect(run.stdout).toMatch(/depthwise_conv2d\(.*,stride=2,.*,stride_w=1,dtype=float32\)/);
    expect(run.stdout).not.toMatch(/not mapped/);
  });

  it('the table lists an unmapped node with its reason', async () => {
    const path = file('mixed.onnx', modelBytes({
      nodes: [node('Conv', ['x', 'w'], ['a'], { pads: [0, 0, 1, 1] }, 'asym'), node('Conv', ['x', 'w'], ['b'])],
      inputs: [value('x', [1, 4, 8, 8])], initializers: [floats('w', [4, 4, 2, 2])], outputs: [value('a'), value('b')],
    }));
    const run = await flexfarm(['model', 'layers', path]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/not mapped \(1\):\n {2}asym \(Conv\): asymmetric pads \[0,0,1,1\]/);
  });

  const refusals: [string, () => string[], RegExp][] = [
    ['a text file', () => [file('notes.onnx', 'these are not the weights you are looking for\n')], /notes\.onnx is not an ONNX model/],
    ['a truncated model', () => [file('half.onnx', readFileSync(CLASSIFIER).subarray(0, 200_000))], /half\.onnx is truncated or corrupt/],
    ['an empty file', () => [file('empty.onnx', '')], /empty\.onnx is not an ONNX model: it has no ir_version and graph/],
    ['a missing file', () => [join(tmp, 'nowhere.onnx')], /cannot read .*nowhere\.onnx: ENOENT/],
    ['an opset we do not read', () => [file('old.onnx', modelBytes({ nodes: [node('Relu', ['x'], ['y'])], inputs: [value('x', [1, 4])], opset: 3 }))], /opset 3 of the default ONNX domain is not supported/],
    ['no tunable layer', () => [file('relu.onnx', modelBytes({ nodes: [node('Relu', ['x'], ['y'])], inputs: [value('x', [1, 4])] }))], /relu\.onnx: no tunable layer/],
    ['only unmappable layers', () => [file('asym.onnx', modelBytes({ nodes: [node('Conv', ['x', 'w'], ['y'], { pads: [0, 0, 1, 1] })], inputs: [value('x', [1, 4, 8, 8])], initializers: [floats('w', [4, 4, 2, 2])] }))], /no tunable layer .*asymmetric pads \[0,0,1,1\]/],
    ['a dynamic input left unbound', () => [DETECTOR], /input 'x' has dynamic dimensions \[p2o\.DynamicDimension\.0,3,.*\]: bind them with --input x=D0,3,D2,D3/],
    ['a binding for an input the model lacks', () => [DETECTOR, '--input', 'image=1,3,64,64'], /no input 'image' \(its inputs: x\)/],
  ];
  for (const [what, args, message] of refusals) {
    it(`refuses ${what}: exit 1, the reason on stderr, nothing on stdout`, async () => {
      const run = await flexfarm(['model', 'layers', ...args()]);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(message);
      expect(run.code).toBe(1);
    });
  }

  it('usage errors exit 2: no file, a malformed --input, an unknown subcommand', async () => {
    for (const args of [['layers'], ['layers', DETECTOR, '--input', 'x=1,3,a,b'], ['shapes', DETECTOR]]) {
      const run = await flexfarm(['model', ...args]);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/flexfarm model: /);
      expect(run.code).toBe(2);
    }
  });
});
