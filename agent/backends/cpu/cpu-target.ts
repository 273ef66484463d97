// The cpu kind on the agent side: its flag and its backend.
import type { BackendSpec } from '../backend-spec.ts';
import { integerFlag, stringFlag } from '../backend-spec.ts';
import { compilerVersion } from '../../toolchain.ts';
import { createCpuBackend } from './cpu-backend.ts';

/** A cpu agent needs only gcc: the host's CPU is always there. */
function detectCpu() {
  try {
    return { found: true, detail: compilerVersion('gcc') };
  } catch (err) {
    return { found: false, detail: (err as Error).message };
  }
}

export const cpuBackendSpec: BackendSpec = {
  kind: 'cpu',
  flags: [
    { name: 'threads', type: 'integer', min: 1, help: 'OpenMP threads of timing runs', defaultText: 'all cores' },
    { name: 'isa', type: 'string', metavar: 'ISA', help: 'widest vector ISA the kernels use: avx512f, avx2, avx or sse2', defaultText: "the CPU's widest" },
  ],
  create: (options, flags) => createCpuBackend({
    cacheDir: options.cacheDir, threads: integerFlag(flags, 'threads'), isa: stringFlag(flags, 'isa'),
    ...(options.hostCpuLibrary ? { library: options.hostCpuLibrary } : {}),
  }),
  detect: detectCpu,
};
