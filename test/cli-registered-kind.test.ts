// A device kind registered by a module shows up in the command line's usage texts, with its own
// agent flags, and is gone again once removed: every list of kinds there reads the registries live.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerBackend } from '../agent/backends/index.ts';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { main } from '../cli/main.ts';
import { registerTarget } from '../contracts/targets.ts';
import { cpuClassicTemplate } from '../tensor/templates/cpu.ts';

declare module '../contracts/targets.ts' {
  interface RegisteredTargetKinds { 'slide-rule': true }
}

/** What `flexfarm ...args` writes on stdout, run in this process. */
async function stdoutOf(...args: string[]): Promise<string> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out += String(chunk); return true; });
  try {
    expect(await main(args)).toBe(0);
  } finally {
    write.mockRestore();
  }
  return out;
}

function registerSlideRule(): () => void {
  const removeTarget = registerTarget({
    kind: 'slide-rule', template: cpuClassicTemplate, sourceExtension: '.txt', defaultCapacity: { capacity: 2, concurrency: 1 },
    inflightTimeoutMs: 5_000, exportable: false, simulated: true,
  });
  const removeBackend = registerBackend({
    kind: 'slide-rule',
    flags: [{ name: 'rule-length', type: 'integer', min: 1, help: 'length of the rule in cm', default: 25 }],
    create: () => new SimBackend(),
  });
  return () => { removeBackend(); removeTarget(); };
}

let remove: (() => void) | undefined;
afterEach(() => { remove?.(); remove = undefined; });

describe('usage texts list the registered kinds', () => {
  it('flexfarm --help, tune, codegen, best and export name the kind among the targets', async () => {
    remove = registerSlideRule();
    expect(await stdoutOf('--help')).toMatch(/targets \(--target, --device\): cpu, sim, gpu, fpga, slide-rule\n/);
    for (const command of ['tune', 'codegen', 'best', 'export']) {
      expect(await stdoutOf(command, '--help'), command).toContain('--target cpu|sim|gpu|fpga|slide-rule');
    }
  });

  it('flexfarm agent --help names the kind as a device, with its flag, capacity and variable', async () => {
    remove = registerSlideRule();
    const usage = await stdoutOf('agent', '--help');
    expect(usage).toContain('--device cpu|sim|gpu|fpga|slide-rule ');
    expect(usage).toMatch(/\n {2}--rule-length N {6}slide-rule: length of the rule in cm \(FLEXFARM_RULE_LENGTH, default 25\)\n/);
    expect(usage).toContain('cpu 4, sim 16, gpu 4, fpga 4, slide-rule 2)');
    // The built-in kinds' flags are listed as before, each under its kind.
    expect(usage).toMatch(/\n {2}--threads N {10}cpu: OpenMP threads of timing runs \(FLEXFARM_THREADS, default all cores\)\n/);
    expect(usage).toMatch(/\n {2}--part NAME {10}fpga: part \(FLEXFARM_PART, default xcvu9p\)\n/);
    expect(await stdoutOf('coordinator', '--help')).toContain('fpga 3600000, slide-rule 5000)');
  });

  it('flexfarm agent parses the kind\'s flag by its spec', async () => {
    remove = registerSlideRule();
    let err = '';
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { err += String(chunk); return true; });
    try {
      expect(await main(['agent', '--device', 'slide-rule', '--rule-length', '0'])).toBe(2);
    } finally {
      write.mockRestore();
    }
    expect(err).toBe('flexfarm agent: --rule-length: must be >= 1, got 0\n');
  });

  it('a removed kind is no longer listed', async () => {
    registerSlideRule()();
    for (const args of [['--help'], ['tune', '--help'], ['codegen', '--help'], ['best', '--help'], ['export', '--help'], ['agent', '--help']]) {
      expect(await stdoutOf(...args), args.join(' ')).not.toMatch(/slide-rule|rule-length/);
    }
  });
});
