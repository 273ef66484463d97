// The one C harness on its own: a program with a stand-in kernel, built as C and as C++ (the CUDA
// harness and FPGA C simulation compile it as C++), speaks the protocol the agents read.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HARNESS_C, HARNESS_EXIT, HARNESS_INCLUDE_DIR } from './harness-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'flexfarm-ff-harness-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// out[i] = i after one run; `--wrong` (read by the program, not the harness) makes element 2 wrong.
const PROGRAM = `#include "ff-harness.h"
static float out[4];
static int wrong = 0;
static long runs = 0;
static void run(void* ctx) { (void)ctx; ++runs; for (int i = 0; i < 4; ++i) out[i] = (float)i + (wrong && i == 2); }
int main(int argc, char** argv) {
  ff_harness_options o = ff_harness_defaults(3, 1);
  for (int i = 1; i < argc; ++i) {
    if (ff_harness_flag(&o, FF_FLAGS_MEASURE, argc, argv, &i)) continue;
    if (!strcmp(argv[i], "--wrong")) wrong = 1;
    else ff_usage(argv[0], "[flags]");
  }
  ff_harness_flags_done(&o);
  run(NULL);
  double max_err = ff_check_reference(out, 4, &o);
  ff_write_output(out, 4, &o);
  ff_wall wall = { run, NULL };
  ff_timing t = ff_measure(ff_wall_timer, &wall, &o);
  ff_report("\\"runs\\":1,", max_err, &t);
  return 0;
}
`;

function build(compiler: string, name: string): string {
  const source = join(dir, `${name}.${compiler === 'g++' ? 'cpp' : 'c'}`), binary = join(dir, name);
  writeFileSync(source, PROGRAM);
  execFileSync(compiler, ['-O2', '-Wall', '-Werror', `-I${HARNESS_INCLUDE_DIR}`, source, '-o', binary, '-lm']);
  return binary;
}

const run = (binary: string, args: string[]) => {
  const r = spawnSync(binary, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: r.stdout.trim() ? JSON.parse(r.stdout.trim()) : null };
};

describe('ff-harness.h', () => {
  it('holds the exit statuses HARNESS_EXIT names', () => {
    for (const [name, status] of Object.entries(HARNESS_EXIT)) expect(HARNESS_C).toContain(`#define FF_EXIT_${name} ${status}\n`);
  });

  for (const compiler of ['gcc', 'g++']) {
    it(`built with ${compiler}: flags, reference check, --write, timing and the JSON line`, () => {
      const binary = build(compiler, `smoke-${compiler}`);
      const timed = run(binary, ['--repeat', '4', '--min-repeat-ms', '1']);
      expect(timed.code).toBe(0);
      expect(timed.json).toMatchObject({ ok: true, runs: 1, maxAbsErr: 0 });
      expect(timed.json.number).toBeGreaterThan(1);
      expect(timed.json.seconds).toHaveLength(4);

      const ref = join(dir, `ref-${compiler}.bin`);
      expect(run(binary, ['--no-time', '--write', ref]).json).toEqual({ ok: true, runs: 1, maxAbsErr: 0, number: 0, seconds: [] });
      expect(run(binary, ['--no-time', '--ref', ref]).code).toBe(0);
      const wrong = run(binary, ['--no-time', '--ref', ref, '--wrong', '--atol', '0.25', '--rtol', '0']);
      expect(wrong.code).toBe(HARNESS_EXIT.WRONG_ANSWER);
      expect(wrong.json).toEqual({ ok: false, code: 'WRONG_ANSWER', message: 'output element 2 is 3, reference 2 (tolerance 0.25 + 0*|ref|)' });
      const unreadable = run(binary, ['--ref', join(dir, 'missing.bin')]);
      expect([unreadable.code, unreadable.json.code]).toEqual([HARNESS_EXIT.FAILED, 'RUNTIME']);

      const usage = run(binary, ['--repeat']);
      expect([usage.code, usage.stderr]).toEqual([HARNESS_EXIT.USAGE, `usage: ${binary} [flags]\n`]);
      // a budget far below one repeat: calibration stops at half of it, one repeat is still made
      const budget = run(binary, ['--max-ms', '1', '--min-repeat-ms', '1000', '--repeat', '5']);
      expect(budget.code).toBe(0);
      expect(budget.json.seconds.length).toBeGreaterThanOrEqual(1);
      expect(budget.json.seconds.length).toBeLessThan(5);
    });
  }
});
