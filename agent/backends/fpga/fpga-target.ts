// The fpga kind on the agent side: its flags and its backend.
import type { BackendSpec } from '../backend-spec.ts';
import { integerFlag, stringFlag } from '../backend-spec.ts';
import { createFpgaBackend } from './fpga-backend.ts';
import { DEFAULT_FPGA_PART } from './parts.ts';

export const fpgaBackendSpec: BackendSpec = {
  kind: 'fpga',
  flags: [
    { name: 'part', type: 'string', metavar: 'NAME', help: 'part', defaultText: DEFAULT_FPGA_PART },
    { name: 'clock-mhz', type: 'integer', min: 1, help: 'kernel clock', defaultText: "the part's usual clock" },
  ],
  create: (options, flags) => createFpgaBackend({ cacheDir: options.cacheDir, part: stringFlag(flags, 'part'), clockMhz: integerFlag(flags, 'clock-mhz') }),
  // Its figures are estimates from C simulation, with or without a board: never started unasked.
  detect: () => ({ found: false, detail: 'no board is looked for (its figures are estimates): started only when named (--devices cpu,fpga)' }),
};
