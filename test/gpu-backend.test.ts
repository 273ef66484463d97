// The GPU backend and agent on a machine without a GPU (this one): refusing clearly and quickly,
// rendering without a device, the device description and its parsers, instantiation errors that
// never reach nvcc, and real CUDA programs (built by the real nvcc) reporting a device they cannot
// use as DEVICE_LOST through the harness protocol. Where a fake stands in (nvidia-smi scripts, a
// described H200, a health check), it is named so: the real part cannot exist here.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../agent/backends/index.ts';
import { archLimits, UnknownGpuArchError } from '../agent/backends/gpu/arch.ts';
import { cudaProgram } from '../agent/backends/gpu/cuda-program.ts';
import {
  archFlags, GpuToolchainError, GpuUnavailableError, nvccInfo, parseNvidiaSmi, parseProbe, queryNvidiaSmi, type ProbeInfo,
} from '../agent/backends/gpu/device-probe.ts';
import { createGpuBackend, GPU_FLAGS, gpuBackendFor, nvidiaSmiHealth, type GpuBackend } from '../agent/backends/gpu/gpu-backend.ts';
import { runChild } from '../agent/child-process.ts';
import type { Candidate, TimingProtocol } from '../contracts/result.ts';
import { lowerNaive } from '../tensor/lower.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { DEFAULT_GPU_LIMITS } from '../tensor/templates/gpu.ts';
import type { Config } from '../tensor/templates/template.ts';
import { H200_PROBE, H200_SMI } from './fixtures/gpu-h200.ts';

/** These tests describe a machine without an NVIDIA GPU; on one with a GPU the refusals cannot happen. */
const HAS_GPU = (() => { try { execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 10_000 }); return true; } catch { return false; } })();
const PROTOCOL: TimingProtocol = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 120_000, runTimeoutMs: 20_000 };
const gemm = defineWorkload('gemm', { M: 64, N: 64, K: 64 });
const VALID: Config = { 'split.m': [2, 2, 8, 2], 'split.n': [2, 1, 16, 2], 'split.k': [8, 2, 4], fuse: [1, 1], reorder: 2, unroll: [512, 1] };
const TOO_MANY_THREADS: Config = { ...VALID, 'split.m': [1, 1, 64, 1], 'split.n': [1, 1, 64, 1] };

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'flexfarm-gpu-backend-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for nvidia-smi (the real one needs the NVIDIA driver): a shell script. */
function fakeNvidiaSmi(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function runCli(args: string[], timeoutMs = 60_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], {
      cwd: join(import.meta.dirname, '..'), env: { ...process.env, FLEXFARM_CACHE: join(dir, 'cli-cache') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, ms: Date.now() - started }); });
  });
}

const candidate = (id: string, config: Config): Candidate => ({ id, workload: gemm.key, target: 'gpu', config });

describe('without a GPU, the gpu backend and agent refuse clearly', () => {
  it.skipIf(HAS_GPU)('createBackend("gpu") throws GpuUnavailableError naming nvidia-smi, at once', () => {
    const started = Date.now();
    let error: unknown;
    try { createBackend('gpu', { cacheDir: dir }); } catch (err) { error = err; }
    expect(error).toBeInstanceOf(GpuUnavailableError);
    expect((error as Error).message).toMatch(/^no NVIDIA GPU found: nvidia-smi /);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a missing, failing, hanging or GPU-less nvidia-smi each give a message saying so', () => {
    expect(() => queryNvidiaSmi(0, { command: join(dir, 'no-such-nvidia-smi') })).toThrow(/no NVIDIA GPU found: .*no-such-nvidia-smi is not installed/);
    const failing = fakeNvidiaSmi('failing-nvidia-smi', "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\"; exit 9");
    expect(() => queryNvidiaSmi(0, { command: failing })).toThrow(/no NVIDIA GPU found: .* failed: NVIDIA-SMI has failed because it couldn't communicate/);
    const hanging = fakeNvidiaSmi('hanging-nvidia-smi', 'exec sleep 30');
    const started = Date.now();
    expect(() => queryNvidiaSmi(0, { command: hanging, timeoutMs: 500 })).toThrow(/did not answer within 500 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    const empty = fakeNvidiaSmi('empty-nvidia-smi', 'exit 0');
    expect(() => queryNvidiaSmi(0, { command: empty })).toThrow(/lists no GPU/);
    const two = fakeNvidiaSmi('two-gpu-nvidia-smi', `printf '${H200_SMI}1, NVIDIA H100 80GB HBM3, 81559, 1980, 570.124.06\\n'`);
    expect(() => queryNvidiaSmi(5, { command: two })).toThrow(/no NVIDIA GPU with index 5: .* lists 0 \(NVIDIA H200\), 1 \(NVIDIA H100 80GB HBM3\)/);
    expect(queryNvidiaSmi(1, { command: two }).name).toBe('NVIDIA H100 80GB HBM3');
  });

  it.skipIf(HAS_GPU)('past nvidia-smi, the real probe program (built by nvcc) finds no usable device and says why', () => {
    const smi = fakeNvidiaSmi('h200-nvidia-smi', `printf '${H200_SMI}'`);
    expect(() => createGpuBackend({ cacheDir: dir, nvidiaSmi: smi })).toThrow(/^no usable NVIDIA GPU: cudaError\w+: /);
  }, 60_000);

  it.skipIf(HAS_GPU)('`flexfarm tune --target gpu` exits non-zero with the message and prints nothing on stdout', async () => {
    const r = await runCli(['tune', 'gemm', '--shape', 'M=64,N=64,K=64', '--target', 'gpu', '--trials', '4', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^flexfarm tune: no NVIDIA GPU found: nvidia-smi/);
    expect(r.ms).toBeLessThan(30_000);
  }, 60_000);

  it.skipIf(HAS_GPU)('`flexfarm agent --device gpu` refuses before it connects to anything', async () => {
    const r = await runCli(['agent', '--device', 'gpu', '--listen', '127.0.0.1:0', '--nats', 'nats://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no NVIDIA GPU found: nvidia-smi/);
  }, 60_000);
});

describe('`flexfarm codegen --target gpu` renders without a device', () => {
  it('prints a CUDA program that nvcc -c compiles on its own', async () => {
    const r = await runCli(['codegen', 'conv2d', '--shape', 'N=1,C=64,H=28,W=28,K=64,R=3,S=3,pad=1', '--target', 'gpu', '--seed', '4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/__global__/);
    expect(r.stdout).toMatch(/__syncthreads\(\);/);
    expect(r.stdout).toMatch(/int main\(int argc/);
    const source = join(dir, 'codegen.cu');
    writeFileSync(source, r.stdout);
    const out = await runChild('nvcc', ['-c', '-arch=sm_90', source, '-o', join(dir, 'codegen.o')], { timeoutMs: 120_000 });
    expect(out.code, out.stderr).toBe(0);
  }, 180_000);

  it('an invalid --config is refused with the limit it breaks', async () => {
    const r = await runCli(['codegen', 'gemm', '--shape', 'M=64,N=64,K=64', '--target', 'gpu', '--config', JSON.stringify(TOO_MANY_THREADS)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/4096 threads per block .* limit of 1024/);
  }, 60_000);

  it('a render-only backend has the architecture limits, renders, and measures nothing', async () => {
    const backend = createBackend('gpu', { cacheDir: dir, renderOnly: true }) as GpuBackend;
    expect(backend.kind).toBe('gpu');
    expect(backend.limits).toEqual(archLimits('sm_90'));
    expect(backend.healthy).toBe(false);
    expect(backend.source(gemm, VALID)).toMatch(/extern "C" __global__ __launch_bounds__\(128\) void kernel/);
    const result = await backend.measure(candidate('r1', VALID), PROTOCOL);
    expect(result.error?.code).toBe('DEVICE_LOST');
    expect(result.error?.message).toMatch(/render-only/);
    await expect(backend.reference(gemm, PROTOCOL)).rejects.toThrow(GpuUnavailableError);
    expect(() => createGpuBackend({ cacheDir: dir, probe: false, arch: 'sm_70' })).toThrow(UnknownGpuArchError);
  });
});

describe('device description', () => {
  it('parses nvidia-smi lines, with [N/A] fields as 0', () => {
    expect(parseNvidiaSmi(`${H200_SMI}1, NVIDIA A10, 23028, [N/A], 535.54.03\n`)).toEqual([
      { index: 0, name: 'NVIDIA H200', memoryMiB: 143771, maxSmClockMHz: 1980, driver: '570.124.06' },
      { index: 1, name: 'NVIDIA A10', memoryMiB: 23028, maxSmClockMHz: 0, driver: '535.54.03' },
    ]);
    expect(() => parseNvidiaSmi('garbage')).toThrow(GpuUnavailableError);
  });

  it('reads the probe: compute capability, SMs, memory and the limits configs are checked against', () => {
    const p = parseProbe(`${H200_PROBE}\n`);
    expect(p).toMatchObject({ name: 'NVIDIA H200', computeCapability: '9.0', sms: 132, clockMHz: 1980 });
    expect(p.limits).toEqual(DEFAULT_GPU_LIMITS);
    expect(() => parseProbe('{"ok":false,"message":"cudaErrorNoDevice: no CUDA-capable device is detected"}'))
      .toThrow(/no usable NVIDIA GPU: cudaErrorNoDevice/);
    expect(() => parseProbe('Segmentation fault')).toThrow(/device probe printed 'Segmentation fault'/);
  });

  it('compiles for the device compute capability: native, PTX for newer, refused for older', () => {
    const nvcc = nvccInfo();
    expect(nvcc.version).toMatch(/^nvcc \d+\.\d+/);
    expect(archFlags(nvcc, '9.0')).toEqual(['-arch=sm_90']);
    expect(archFlags(nvcc, '99.0')[0]).toMatch(/^-arch=compute_\d+$/);
    expect(() => archFlags({ ...nvcc, archs: ['75', '80', '90'] }, '7.0')).toThrow(GpuToolchainError);
    expect(() => nvccInfo(join(dir, 'no-such-nvcc'))).toThrow(/install the CUDA toolkit/);
  });
});

describe('measuring on a described device (a stand-in for an H200, which cannot exist here)', () => {
  const device = (): Parameters<typeof gpuBackendFor>[0] => {
    const probe: ProbeInfo = parseProbe(H200_PROBE);
    const nvcc = nvccInfo();
    return { index: 0, smi: parseNvidiaSmi(H200_SMI)[0], probe, nvcc, archFlags: archFlags(nvcc, probe.computeCapability) };
  };

  it('describes the device: SMs, memory, peak estimate, toolchain and limits', () => {
    const backend = gpuBackendFor(device(), { cacheDir: dir }, async () => null);
    const d = backend.describe();
    expect(d).toMatchObject({ kind: 'gpu', cores: 132, memoryBytes: 150754820096, peakGflops: 66908 });
    expect(d.model).toMatch(/NVIDIA H200 \(compute 9\.0, 132 SMs, 1980 MHz, driver 570\.124\.06\)/);
    expect(d.toolchain).toMatch(/^nvcc \d/);
    expect(d.toolchain).toContain(`${GPU_FLAGS.join(' ')} -arch=sm_90; driver 570.124.06`);
    expect(d.limits).toMatchObject({ ...DEFAULT_GPU_LIMITS, computeCapability: '9.0' });
  });

  it('an invalid config is INSTANTIATION and never reaches nvcc', async () => {
    const rendered: string[] = [];
    const cacheDir = join(dir, 'instantiation');
    const backend = gpuBackendFor(device(), { cacheDir, sourceFilter: (s, c) => { rendered.push(c.id); return s; } }, async () => null);
    const result = await backend.measure(candidate('bad', TOO_MANY_THREADS), PROTOCOL);
    expect(result.error?.code).toBe('INSTANTIATION');
    expect(result.error?.message).toMatch(/4096 threads per block/);
    expect(rendered).toEqual([]);
    expect(existsSync(join(cacheDir, 'bin')) ? readdirSync(join(cacheDir, 'bin')) : []).toEqual([]);
  });

  it.skipIf(HAS_GPU)('a real program that cannot use the device: RUNTIME while the device answers, DEVICE_LOST once it does not', async () => {
    const cacheDir = join(dir, 'runs');
    const rendered: string[] = [];
    const filter = (s: string, c: Candidate) => { rendered.push(c.id); return s; };
    // The device still answers: the failure is this run's.
    const answering = gpuBackendFor(device(), { cacheDir, sourceFilter: filter }, async () => null);
    const first = await answering.measure(candidate('c1', VALID), PROTOCOL);
    expect(first.error?.code).toBe('RUNTIME');
    expect(first.error?.message).toMatch(/cudaErrorInsufficientDriver|cudaErrorNoDevice/);
    expect(answering.healthy).toBe(true);
    // nvidia-smi cannot reach the device: DEVICE_LOST, unhealthy, and later candidates are not even built.
    const lost = gpuBackendFor(device(), { cacheDir, sourceFilter: filter }, nvidiaSmiHealth(0, join(dir, 'no-such-nvidia-smi')));
    const second = await lost.measure(candidate('c2', VALID), PROTOCOL);
    expect(second.error?.code).toBe('DEVICE_LOST');
    expect(second.error?.message).toMatch(/GPU 0 stopped answering/);
    expect(lost.healthy).toBe(false);
    const third = await lost.measure(candidate('c3', VALID), PROTOCOL);
    expect(third.error?.code).toBe('DEVICE_LOST');
    expect(rendered).toEqual(['c1', 'c2']);
  }, 180_000);

  it.skipIf(HAS_GPU)('the harness speaks the CPU harness protocol: usage errors exit 2, an unusable device is DEVICE_LOST JSON', async () => {
    const source = join(dir, 'harness.cu'), binary = join(dir, 'harness');
    writeFileSync(source, cudaProgram(gemm, lowerNaive(gemm), 'reference'));
    execFileSync('nvcc', [...GPU_FLAGS, '-arch=sm_90', source, '-o', binary], { stdio: 'ignore', timeout: 120_000 });
    const usage = await runChild(binary, ['--bogus'], { timeoutMs: 10_000 });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: .*--ref F.*--write F.*--atol X.*--rtol X.*--repeat N.*--min-repeat-ms MS.*--no-time/);
    const run = await runChild(binary, ['--no-time'], { timeoutMs: 10_000 });
    expect(run.code).toBe(5);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ ok: false, code: 'DEVICE_LOST', message: expect.stringMatching(/^cannot select the GPU: cudaError/) });
  }, 180_000);
});
