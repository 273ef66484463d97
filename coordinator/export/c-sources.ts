// The C sources of an exported kernel: the tuned kernel, the unscheduled reference, and a header
// declaring both. Rendered by the CPU backend's renderer (passed in as `c`), so they are the code
// that was measured.
import type { CKernelSource } from '../../contracts/c-kernel-source.ts';
import type { ComputeDef } from '../../tensor/compute.ts';
import { lower, lowerNaive } from '../../tensor/lower.ts';
import { cpuTemplate } from '../../tensor/templates/cpu.ts';
import type { Config, DeviceLimits } from '../../tensor/templates/template.ts';

export const tunedName = (def: ComputeDef) => `${def.op}_tuned`;
export const referenceName = (def: ComputeDef) => `${def.op}_reference`;

const shapeText = (shape: number[]) => `[${shape.join('][')}]`;

export function renderTunedKernel(c: CKernelSource, def: ComputeDef, config: Config, limits: DeviceLimits, note: string): string {
  const renderer = c.createRenderer();
  renderer.kernelName = tunedName(def);
  return renderer.renderKernel(def, lower(def, cpuTemplate, config, limits), `${note}\n * config: ${JSON.stringify(config)}`);
}

export function renderReferenceKernel(c: CKernelSource, def: ComputeDef): string {
  const renderer = c.createRenderer();
  renderer.kernelName = referenceName(def);
  return renderer.renderKernel(def, lowerNaive(def), 'unscheduled reference: the operator as written, one output element at a time');
}

export function renderHeader(c: CKernelSource, def: ComputeDef): string {
  const params = c.createRenderer().kernelParams(def);
  const layouts = [...def.inputs, def.output].map((t) => ` *   ${t.name}${shapeText(t.shape)}`).join('\n');
  const guard = `FLEXFARM_${def.op.toUpperCase()}_KERNEL_H`;
  return `/* ${def.key}
 * Tensors are dense float32 arrays, row-major (C order), no padding between rows:
${layouts}
 * The output is overwritten. Pointers must not alias. The tuned kernel runs its outer loops in
 * parallel with OpenMP: compile and link with -fopenmp.
 */
#ifndef ${guard}
#define ${guard}

void ${tunedName(def)}(${params});
void ${referenceName(def)}(${params});

#endif
`;
}
