// Loading named workloads from the lists in bench/workloads/, and the errors for a missing or broken list.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_WORKLOADS_DIR, findWorkloads, workloadsDir, loadWorkloads, UnknownWorkloadError, WorkloadFileError, WorkloadsMissingError,
} from './workloads.ts';

const work = mkdtempSync(join(os.tmpdir(), 'flexfarm-workloads-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function folderWith(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

const REPO_ROOT = resolve(import.meta.dirname, '..');

describe('where the lists are read from', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('defaults to a folder inside the repository, so a fresh clone stands alone', () => {
    vi.stubEnv('FLEXFARM_WORKLOADS', '');
    const inside = relative(REPO_ROOT, workloadsDir());
    expect(inside).toBe(join('bench', 'workloads'));
    expect(DEFAULT_WORKLOADS_DIR).toBe(workloadsDir());
    expect(loadWorkloads().length).toBeGreaterThan(0);
  });

  it('reads the folder FLEXFARM_WORKLOADS names instead', () => {
    const other = folderWith('override', { 'o.json': JSON.stringify({ workloads: [{ name: 'only', op: 'gemm', shape: { M: 2, N: 2, K: 2 } }] }) });
    vi.stubEnv('FLEXFARM_WORKLOADS', other);
    expect(workloadsDir()).toBe(other);
    expect(loadWorkloads().map((w) => w.name)).toEqual(['only']);
  });
});

describe('workload lists', () => {
  it('finds the bench workloads with their shapes, in the order asked', () => {
    const [c4, g] = findWorkloads(['yolo-C4', 'gemm-1024']);
    expect(g).toMatchObject({ name: 'gemm-1024', op: 'gemm', shape: { M: 1024, N: 1024, K: 1024 } });
    expect(c4).toMatchObject({ name: 'yolo-C4', op: 'conv2d', shape: { C: 128, H: 56, W: 56, K: 256, R: 3, S: 3, pad: 1 } });
    expect(c4.file).toMatch(/conv2d-yolo\.json$/);
  });

  it('names the folder when it is missing', () => {
    const missing = join(work, 'no-such-folder');
    expect(() => loadWorkloads(missing)).toThrow(WorkloadsMissingError);
    expect(() => loadWorkloads(missing)).toThrow(missing);
  });

  it('lists the known names for an unknown one', () => {
    expect(() => findWorkloads(['gemm-513'])).toThrow(UnknownWorkloadError);
    expect(() => findWorkloads(['gemm-513'])).toThrow(/no workload named 'gemm-513'.*known: .*gemm-512/);
  });

  it('names the file and the field of a broken list', () => {
    const notJson = folderWith('not-json', { 'a.json': '{"workloads": [' });
    expect(() => loadWorkloads(notJson)).toThrow(WorkloadFileError);
    expect(() => loadWorkloads(notJson)).toThrow(/a\.json: not valid JSON/);
    const badShape = folderWith('bad-shape', { 'b.json': JSON.stringify({ workloads: [{ name: 'g', op: 'gemm', shape: { M: 1.5 } }] }) });
    expect(() => loadWorkloads(badShape)).toThrow(/b\.json: workloads\[0\] \(g\): shape parameter M must be an integer, got 1\.5/);
    const noList = folderWith('no-list', { 'c.json': '{"items": []}' });
    expect(() => loadWorkloads(noList)).toThrow(/c\.json: expected an object with a "workloads" array/);
    const empty = folderWith('empty', {});
    expect(() => loadWorkloads(empty)).toThrow(/holds no \*\.json workload lists/);
  });

  it('refuses a name defined in two lists', () => {
    const entry = { name: 'twice', op: 'gemm', shape: { M: 1, N: 1, K: 1 } };
    const dir = folderWith('dup', { 'a.json': JSON.stringify({ workloads: [entry] }), 'b.json': JSON.stringify({ workloads: [entry] }) });
    expect(() => loadWorkloads(dir)).toThrow(/b\.json: workload 'twice' is also defined in .*a\.json/);
  });
});
