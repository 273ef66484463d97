// The template the coordinator explores for each device class. The sim backend models a CPU, so
// it explores the CPU template's configs. A class without a template gives undefined.
import type { TargetKind } from '../../contracts/result.ts';
import { cpuClassicTemplate, cpuTemplate } from '../../tensor/templates/cpu.ts';
import { fpgaTemplate } from '../../tensor/templates/fpga.ts';
import { gpuTemplate } from '../../tensor/templates/gpu.ts';
import type { Template } from '../../tensor/templates/template.ts';

const TEMPLATES: Partial<Record<TargetKind, Template>> = { cpu: cpuTemplate, sim: cpuClassicTemplate, gpu: gpuTemplate, fpga: fpgaTemplate };

export function templateFor(kind: TargetKind): Template | undefined {
  return TEMPLATES[kind];
}
