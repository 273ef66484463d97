// The sim kind on the agent side: its flags and its backend.
import type { BackendSpec } from '../backend-spec.ts';
import { integerFlag } from '../backend-spec.ts';
import { SimBackend } from './sim-backend.ts';

export const simBackendSpec: BackendSpec = {
  kind: 'sim',
  flags: [
    { name: 'seed', type: 'integer', help: "seed of the landscape's noise", default: 0 },
    { name: 'delay-ms', type: 'integer', help: 'fixed delay per measurement', default: 0 },
  ],
  create: (_options, flags) => new SimBackend({ seed: integerFlag(flags, 'seed'), delayMs: integerFlag(flags, 'delay-ms') }),
  detect: () => ({ found: false, detail: 'an analytical landscape, not a device: started only when named (--devices cpu,sim)' }),
};
