// The gpu kind on the agent side: its flag and its backend (render-only, with sm_90's limits and
// no device, for codegen).
import type { BackendSpec } from '../backend-spec.ts';
import { integerFlag } from '../backend-spec.ts';
import { createGpuBackend } from './gpu-backend.ts';

export const gpuBackendSpec: BackendSpec = {
  kind: 'gpu',
  flags: [{ name: 'gpu-index', type: 'integer', help: 'which device, as nvidia-smi numbers them', default: 0 }],
  create: (options, flags) => createGpuBackend({
    cacheDir: options.cacheDir, gpuIndex: integerFlag(flags, 'gpu-index'), ...(options.renderOnly ? { probe: false } : {}),
  }),
};
