// The C main() compiled with every CPU kernel (and with FPGA C simulation): allocate and fill
// inputs, run once and compare with the reference output, then time under TVM's protocol. The
// flags, timing loop, check and JSON line are the one C harness (contracts/c-harness/ff-harness.h);
// this file adds the buffers and the kernel call. Exit status 3 means a wrong answer, 4 an
// allocation failure.
import { HARNESS_C } from '../contracts/c-harness/harness-source.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { INPUT_VALUE_C } from '../tensor/data.ts';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** `prepareName`: the kernel's prepare function (packing constant inputs), called once after the
 *  inputs are filled and before the first run, untimed. */
export function renderHarness(def: ComputeDef, kernelName = 'kernel', prepareName?: string): string {
  const tensors = [...def.inputs, def.output];
  const alloc = tensors.map((t) => `  float* ${t.name} = ff_alloc_or_fail(${size(t.shape)}L, "");`);
  const fill = def.inputs.map((t, i) => `  for (long i = 0; i < ${size(t.shape)}L; ++i) ${t.name}[i] = ff_input_value(${i}, i);`);
  const args = tensors.map((t) => t.name).join(', ');
  const out = def.output.name, outSize = `${size(def.output.shape)}L`;
  return `
/* ---- harness: inputs, correctness check, timing (TVM protocol) ---- */
${HARNESS_C}
${INPUT_VALUE_C}

/* The kernel as the harness's run function: ctx holds the tensors in parameter order. */
static void ff_run(void* ctx) {
  float** t = (float**)ctx;
  ${kernelName}(${tensors.map((_, i) => `t[${i}]`).join(', ')});
}

int main(int argc, char** argv) {
  ff_harness_options o = ff_measure_options(argc, argv);
${alloc.join('\n')}
${fill.join('\n')}
  /* NaN everywhere first, so an element the kernel never writes fails the check. */
  for (long i = 0; i < ${outSize}; ++i) ${out}[i] = NAN;
  float* tensors[] = { ${args} };
  ff_wall wall = { ff_run, tensors };

${prepareName ? `  ${prepareName}(${args});  /* lays out the constant inputs once, untimed */
` : ''}
  ${kernelName}(${args});  /* warm-up run, also the one checked */
  double max_err = ff_check_reference(${out}, ${outSize}, &o);
  ff_write_output(${out}, ${outSize}, &o);
  ff_timing timing = ff_measure(ff_wall_timer, &wall, &o);
  ff_report("", max_err, &timing);
  return 0;
}
`;
}
