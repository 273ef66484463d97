// bench/gpu-check.sh, the GPU device check, as far as it can run without a GPU: its workloads are
// the shared lists' gemm-1024 and yolo-C9, its dry run renders and nvcc-compiles both and runs the
// PyTorch anchor script, and its real run refuses clearly here.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPU_CHECK_WORKLOADS } from '../bench/gpu-check-workloads.ts';
import { findWorkloads, workloadsDir } from '../bench/workloads.ts';

const ROOT = join(import.meta.dirname, '..');
const HAS_GPU = (() => { try { execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 10_000 }); return true; } catch { return false; } })();

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'flexfarm-gpu-check-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const check = (...args: string[]) => spawnSync(join(ROOT, 'bench', 'gpu-check.sh'), [...args, '--out', dir], { encoding: 'utf8', timeout: 300_000 });

describe('bench/gpu-check.sh', () => {
  it.skipIf(!existsSync(workloadsDir()))('checks the shared lists\' gemm-1024 and yolo-C9', () => {
    const shared = findWorkloads(GPU_CHECK_WORKLOADS.map((w) => w.name));
    expect(GPU_CHECK_WORKLOADS).toEqual(shared.map(({ name, op, shape }) => ({ name, op, shape })));
  });

  it('--dry-run renders and compiles both workloads and runs the anchor script', () => {
    const r = check('--dry-run');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/gemm-1024: gemm\(M=1024,N=1024,K=1024,dtype=float32\) config .* built with nvcc/);
    expect(r.stdout).toMatch(/yolo-C9: conv2d\(N=1,C=512,H=28,W=28,K=512,R=1,S=1,.* built with nvcc/);
    expect(r.stdout).toMatch(/^anchors: (PyTorch .* on .*|not available here \(.+\))$/m);
    expect(r.stdout).toMatch(/dry run ok/);
  }, 300_000);

  it.skipIf(HAS_GPU)('refuses without a GPU, saying so', () => {
    const r = check('--trials', '2');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/gpu-check: no NVIDIA GPU found: nvidia-smi/);
  }, 60_000);

  it('rejects unknown flags with usage status 2', () => {
    const r = check('--bogus');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown flag --bogus/);
  }, 60_000);
});
