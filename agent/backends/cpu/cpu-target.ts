// The cpu kind on the agent side: its flag and its backend.
import type { BackendSpec } from '../backend-spec.ts';
import { integerFlag } from '../backend-spec.ts';
import { createCpuBackend } from './cpu-backend.ts';

export const cpuBackendSpec: BackendSpec = {
  kind: 'cpu',
  flags: [{ name: 'threads', type: 'integer', min: 1, help: 'OpenMP threads of timing runs', defaultText: 'all cores' }],
  create: (options, flags) => createCpuBackend({ cacheDir: options.cacheDir, threads: integerFlag(flags, 'threads') }),
};
