// oneDNN at a layer's shape, for `model report`: the bench's anchor programs (bench/anchors), which
// compute flexfarm's operators with flexfarm's layouts and inputs, check their own output and time
// with the same protocol. Wired here, in cli/, like the other parts that need both sides.
import os from 'node:os';
import { join } from 'node:path';
import { AnchorRunner, anchorsFor } from '../../bench/anchors/anchors.ts';
import type { LibraryMeasure } from '../../coordinator/model-import/model-report.ts';

export function onednnTiming(target: string, buildDir: string, threads?: number): LibraryMeasure {
  if (target !== 'cpu') return async () => ({ missing: `oneDNN runs on the CPU, not on ${target}` });
  const runner = new AnchorRunner({ buildDir: join(buildDir, 'anchors'), threads: threads ?? os.availableParallelism(), baseEnv: process.env });
  return async (def, protocol) => {
    const spec = anchorsFor(def.op).find((a) => a.library === 'onednn');
    if (!spec) return { missing: `no oneDNN anchor computes ${def.op}` };
    const outcome = await runner.measure(spec, def, protocol);
    if (outcome.status !== 'ok') return { missing: outcome.message };
    return { seconds: outcome.median, library: 'oneDNN' };
  };
}
