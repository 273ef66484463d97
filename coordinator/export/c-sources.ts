// The C sources of an exported kernel: the tuned kernel, the unscheduled reference, and a header
// declaring both. Rendered by the CPU backend's renderer (passed in as `c`), so they are the code
// that was measured.
import type { CKernelSource } from '../../contracts/c-kernel-source.ts';
import type { ComputeDef } from '../../tensor/compute.ts';
import { hasPrepare } from '../../tensor/ir.ts';
import { lower, lowerNaive } from '../../tensor/lower.ts';
import { cpuTemplate } from '../../tensor/templates/cpu.ts';
import type { Config, DeviceLimits } from '../../tensor/templates/template.ts';

export const tunedName = (def: ComputeDef) => `${def.op}_tuned`;
export const referenceName = (def: ComputeDef) => `${def.op}_reference`;

const shapeText = (shape: number[]) => `[${shape.join('][')}]`;

/** Called once before the tuned kernel, untimed, whenever the constant inputs change. */
export const prepareName = (def: ComputeDef) => `${tunedName(def)}_prepare`;

export function renderTunedKernel(c: CKernelSource, def: ComputeDef, config: Config, limits: DeviceLimits, note: string): string {
  const renderer = c.createRenderer(limits);
  renderer.kernelName = tunedName(def);
  const nest = lower(def, cpuTemplate, config, limits);
  const source = renderer.renderKernel(def, nest, `${note}\n * config: ${JSON.stringify(config)}`);
  if (renderer.prepareName !== prepareName(def)) throw new Error(`export: the renderer names the prepare step ${renderer.prepareName}, expected ${prepareName(def)}`);
  // Every export has the same interface: an empty prepare step when this config packs nothing.
  return hasPrepare(nest) ? source : `${source}\n/* This config lays out no input ahead of time. */\nvoid ${prepareName(def)}(${renderer.kernelParams(def)}) {}\n`;
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
 * Call ${prepareName(def)} once before ${tunedName(def)}, and again whenever the constant inputs
 * (${def.inputs.filter((t) => t.constant).map((t) => t.name).join(', ') || 'none'}) change: it lays them out for the tuned loops (not timed, as with
 * TVM's and oneDNN's pre-packed weights). It takes the same arguments as the kernel.
 */
#ifndef ${guard}
#define ${guard}

void ${prepareName(def)}(${params});
void ${tunedName(def)}(${params});
void ${referenceName(def)}(${params});

#endif
`;
}
