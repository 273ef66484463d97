// The GPU agent's library yardstick: cuBLAS/cuDNN through PyTorch (agent/backends/gpu/torch-anchors.ts).
// The real script runs with this machine's python3 (no PyTorch or no GPU here: the figure is
// missing and says why); the mapping of a report to a figure is checked with a FAKE python, a shell
// script printing canned reports, because a GPU with PyTorch cannot exist here.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gpuBackendFor } from '../agent/backends/gpu/gpu-backend.ts';
import { archFlags, nvccInfo, parseNvidiaSmi, parseProbe } from '../agent/backends/gpu/device-probe.ts';
import { runTorchAnchors, torchLibrary } from '../agent/backends/gpu/torch-anchors.ts';
import { DEFAULT_PROTOCOL } from '../contracts/result.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { H200_PROBE, H200_SMI } from './fixtures/gpu-h200.ts';

const dir = mkdtempSync(join(tmpdir(), 'flexfarm-torch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const gemm = defineWorkload('gemm', { M: 64, N: 32, K: 16 });

/** A FAKE python: prints `stdout` and exits with `code`, whatever it is asked. */
function fakePython(name: string, stdout: string, code = 0): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\ncat <<'REPORT'\n${stdout}\nREPORT\nexit ${code}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('torch anchors on this machine', () => {
  it('the real script answers with a report: a figure where PyTorch has a GPU, else why not', async () => {
    const report = await runTorchAnchors([{ name: 'g', op: 'gemm', shape: { M: 64, N: 32, K: 16 } }], { gpuIndex: 0 });
    if (report.available) {
      expect(report.results?.[0]).toMatchObject({ name: 'g', library: expect.stringMatching(/cuBLAS/) });
      expect(report.results?.[0].seconds).toBeGreaterThan(0);
    } else {
      expect(report.reason).toMatch(/PyTorch|python3/);
    }
  }, 120_000);

  it('a python that cannot be run is a missing figure naming it', async () => {
    const timing = await torchLibrary({ python: join(dir, 'no-such-python'), gpuIndex: 0 })(gemm, DEFAULT_PROTOCOL);
    expect(timing).toEqual({ missing: expect.stringMatching(/no-such-python torch-anchors\.py gave no report \(spawn .*ENOENT\)/) });
  });
});

describe('a report becomes the yardstick figure (FAKE python)', () => {
  const report = (results: unknown[]) => JSON.stringify({ available: true, torch: '2.5.1', cuda: '12.4', cudnn: 90100, device: 'FAKE GPU', results });

  it('the library named with PyTorch version, and its median seconds', async () => {
    const python = fakePython('ok', report([{ name: gemm.key, library: 'torch.matmul (cuBLAS, FP32)', seconds: 1.5e-5, repeats: [1.5e-5] }]));
    expect(await torchLibrary({ python, gpuIndex: 0 })(gemm, DEFAULT_PROTOCOL)).toEqual({ library: 'torch.matmul (cuBLAS, FP32), PyTorch 2.5.1', seconds: 1.5e-5 });
  });

  it('an operator without an anchor, no time, no result, an unavailable PyTorch, a crash or garbage: missing, saying why', async () => {
    const cases: [string, string, number, RegExp][] = [
      ['skipped', report([{ name: gemm.key, skipped: 'no PyTorch anchor for gemm' }]), 0, /^no PyTorch anchor for gemm$/],
      ['no-time', report([{ name: gemm.key, library: 'x', seconds: -1 }]), 0, /gave no time for gemm\(/],
      ['other', report([{ name: 'something else', library: 'x', seconds: 1 }]), 0, /reported nothing for gemm\(/],
      ['unavailable', JSON.stringify({ available: false, reason: 'PyTorch is installed but torch.cuda.is_available() is False' }), 0, /is_available\(\) is False/],
      ['crash', 'Traceback: boom', 3, /failed \(status 3\): Traceback: boom/],
      ['garbage', 'not json', 0, /gave no report/],
    ];
    for (const [name, stdout, code, reason] of cases) {
      const timing = await torchLibrary({ python: fakePython(name, stdout, code), gpuIndex: 0 })(gemm, DEFAULT_PROTOCOL);
      expect(timing, name).toEqual({ missing: expect.stringMatching(reason) });
    }
  });

  it('the GPU backend times its library through it, on its own device', async () => {
    const probe = parseProbe(H200_PROBE), nvcc = nvccInfo();
    const device = { index: 0, smi: parseNvidiaSmi(H200_SMI)[0], probe, nvcc, archFlags: archFlags(nvcc, probe.computeCapability) };
    const python = fakePython('backend', report([{ name: gemm.key, library: 'torch.matmul (cuBLAS, FP32)', seconds: 2e-5 }]));
    const backend = gpuBackendFor(device, { cacheDir: join(dir, 'cache'), python }, async () => null);
    expect(await backend.library(gemm, DEFAULT_PROTOCOL)).toEqual({ library: 'torch.matmul (cuBLAS, FP32), PyTorch 2.5.1', seconds: 2e-5 });
  });
});
