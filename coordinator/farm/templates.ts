// The template the coordinator explores for each device class. The sim backend models a CPU, so
// it explores the CPU template's configs. Classes whose template is not built yet give undefined.
import type { TargetKind } from '../../agent/result.ts';
import { cpuTemplate } from '../../tensor/templates/cpu.ts';
import type { Template } from '../../tensor/templates/template.ts';

const TEMPLATES: Partial<Record<TargetKind, Template>> = { cpu: cpuTemplate, sim: cpuTemplate };

export function templateFor(kind: TargetKind): Template | undefined {
  return TEMPLATES[kind];
}
