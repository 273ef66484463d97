// The Makefile and README of an exported kernel.
import type { CKernelSource } from '../../contracts/c-kernel-source.ts';
import { targetSpec } from '../../contracts/targets.ts';
import type { ComputeDef } from '../../tensor/compute.ts';
import type { Config } from '../../tensor/templates/template.ts';
import type { BestEntry } from '../best.ts';
import { prepareName, referenceName, tunedName } from './c-sources.ts';

/** Plain gcc with the flags the tuner compiled with; `make CC=clang` works too. */
export function renderMakefile(c: CKernelSource): string {
  return `# Exported by flexfarm. Needs gcc (or CC=...) with OpenMP; nothing else.
CC = gcc
CFLAGS = ${c.flags.join(' ')}
LDLIBS = -lm

bench: main.c kernel.c reference.c kernel.h
\t$(CC) $(CFLAGS) -o $@ main.c kernel.c reference.c $(LDLIBS)

run: bench
\t./bench

clean:
\trm -f bench

.PHONY: run clean
`;
}

const fmtSeconds = (s: number) => (s >= 1 ? `${s.toFixed(3)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(3)} ms` : `${(s * 1e6).toFixed(2)} us`);

const fmtGflops = (g: number) => (g >= 10 ? g.toFixed(1) : g.toPrecision(3));

/** One knob per line: arrays stay on one line, so the config reads like the log. */
export function configJson(config: Config): string {
  const lines = Object.entries(config).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}`;
}

export function renderReadme(c: CKernelSource, def: ComputeDef, entry: BestEntry, recordsPath: string): string {
  const gflops = entry.gflops === null ? '' : `, ${fmtGflops(entry.gflops)} GFLOP/s`;
  const params = c.createRenderer().kernelParams(def);
  const speedup = entry.speedup === null ? '' : `, ${entry.speedup.toFixed(1)}x the unscheduled reference (${fmtSeconds(entry.reference!.seconds)})`;
  const tensors = [...def.inputs, def.output].map((t) => `- \`${t.name}\`: float32 [${t.shape.join(' x ')}]`).join('\n');
  const simNote = entry.simulated
    ? `
> **Simulated figure.** This kernel was tuned on the \`sim\` target: its time is an estimate from
> flexfarm's analytical CPU model, not a device measurement. The code below is the CPU kernel the
> config describes; \`make run\` measures it for real on your machine.
`
    : '';
  return `# ${def.key}

The best kernel for this workload in \`${recordsPath}\` on ${targetSpec(entry.target)?.simulated ? `the ${entry.target} target` : `\`${entry.target}\``},
exported by \`flexfarm export\`. Standalone: it needs only gcc with OpenMP.
${simNote}
## Build and run

\`\`\`sh
make run                       # builds ./bench, checks the output, prints the median time
OMP_NUM_THREADS=4 ./bench      # choose the thread count
./bench --repeat 10 --min-repeat-ms 200 --no-check
\`\`\`

\`./bench\` fills the inputs with the same deterministic values the tuner used, runs the tuned
kernel and the unscheduled reference, compares every output element (tolerance scaled by the
reduction length; exit status 3 on a wrong answer), then times the tuned kernel with TVM's
protocol (runs per repeat raised until a repeat lasts \`--min-repeat-ms\`, \`--repeat\` repeats)
and prints the median seconds per run and GFLOP/s, next to the figure in the tuning log.

## Recorded figure

- ${entry.simulated ? 'Estimated (simulated)' : 'Measured'}: ${fmtSeconds(entry.seconds)} median per run${gflops}${speedup}
- ${entry.remeasured
    ? `Re-measured after the search: the median of ${entry.remeasured.runs} runs, each in a fresh process (the search's own measurement was ${fmtSeconds(entry.remeasured.searchSeconds)})`
    : 'Not re-measured: the search\'s own measurement (the lowest of many noisy ones, so likely a little fast)'}
- Device: ${entry.device.model} (${entry.device.name}, ${entry.device.cores} cores)
- Toolchain: ${entry.device.toolchain}
- Best of ${entry.valid} valid measurements (${entry.measurements} in the log)${entry.explorer ? `, found by the \`${entry.explorer}\` explorer` : ''}, ${entry.at}
- FLOPs per run: ${def.flops}

## Config

\`\`\`json
${configJson(entry.config)}
\`\`\`

Each \`split.<axis>\` lists the loop factors of that axis, outermost first (spatial axes 4
levels: parallel, cache tile, register tiles, register tile; reduce axes 3 levels); \`reorder\`
places the outer reduce level; \`unroll\` is [max unrolled steps, also unroll reduce loops];
\`vector\` names the spatial axis of the innermost, vectorised loop, \`pack.<input>\` lays a constant
input out in blocks of that axis (in the prepare step), \`pad.<input>\` copies a padded input into a
zero-bordered buffer inside the kernel (timed), \`fuse\` merges two adjacent spatial axes into one loop.

## Using the kernel

\`kernel.h\` declares

\`\`\`c
/* once before the tuned kernel, again when the constant inputs change: lays them out (untimed) */
void ${prepareName(def)}(${params});
/* the tuned kernel (kernel.c) */
void ${tunedName(def)}(${params});
/* the unscheduled reference (reference.c) */
void ${referenceName(def)}(${params});
\`\`\`

Arguments are dense and row-major, inputs first, the output last (overwritten):

${tensors}

Copy \`kernel.c\` and \`kernel.h\` into your project and compile with \`${c.flags.join(' ')}\`.

## Files

- \`kernel.c\` — the tuned kernel (C + OpenMP), as flexfarm measured it
- \`reference.c\` — the same operator, unscheduled (the correctness oracle)
- \`kernel.h\` — declarations and tensor layouts
- \`main.c\` — the harness
- \`config.json\` — the workload, config and recorded measurement
- \`Makefile\`
`;
}
