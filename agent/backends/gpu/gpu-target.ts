// The gpu kind on the agent side: its flag and its backend (render-only, with sm_90's limits and
// no device, for codegen).
import type { BackendSpec } from '../backend-spec.ts';
import { integerFlag } from '../backend-spec.ts';
import { queryNvidiaSmi } from './device-probe.ts';
import { createGpuBackend } from './gpu-backend.ts';

/** nvidia-smi lists GPU 0 (an agent per further GPU: `flexfarm agent --device gpu --gpu-index N`). */
function detectGpu() {
  try {
    const gpu = queryNvidiaSmi(0, { timeoutMs: 5_000 });
    return { found: true, detail: `${gpu.name}, driver ${gpu.driver}` };
  } catch (err) {
    return { found: false, detail: (err as Error).message };
  }
}

export const gpuBackendSpec: BackendSpec = {
  kind: 'gpu',
  flags: [{ name: 'gpu-index', type: 'integer', help: 'which device, as nvidia-smi numbers them', default: 0 }],
  create: (options, flags) => createGpuBackend({
    cacheDir: options.cacheDir, gpuIndex: integerFlag(flags, 'gpu-index'), ...(options.renderOnly ? { probe: false } : {}),
  }),
  detect: detectGpu,
};
