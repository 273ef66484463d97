// The template the coordinator explores for each device class, as the target registry names it
// (sim models a CPU: it explores the classic CPU template, FlexTensor's space). An unknown class gives undefined.
import type { TargetKind } from '../../contracts/result.ts';
import { targetSpec } from '../../contracts/targets.ts';
import type { Template } from '../../tensor/templates/template.ts';

export function templateFor(kind: TargetKind): Template | undefined {
  return targetSpec(kind)?.template;
}
