// The host CPU's vendor libraries at a workload's shape: the bench's anchor programs
// (bench/anchors), which compute flexfarm's operators with flexfarm's layouts and inputs, check
// their own output and time with the same protocol. Wired here, in cli/, like the other parts that
// need both sides: a cpu agent's yardstick (contracts/yardstick.ts) and `model report` use them.
import os from 'node:os';
import { join } from 'node:path';
import { AnchorRunner, anchorsFor, type AnchorLibrary } from '../bench/anchors/anchors.ts';
import type { LibraryMeasure } from '../contracts/backend.ts';

export interface HostLibraryOptions {
  /** Anchor binaries and probes go under buildDir/anchors. */
  buildDir: string;
  threads?: number;
  /** The ISA cap the agent's kernels use (capSimd): the libraries are capped alike. */
  isa?: string;
  /** Libraries tried, in this order (default every one); the fastest that computes the op wins. */
  libraries?: AnchorLibrary[];
}

/** The fastest installed library at the shape, named; or why none computes it. */
export function hostLibraryTiming(options: HostLibraryOptions): LibraryMeasure {
  const runner = new AnchorRunner({
    buildDir: join(options.buildDir, 'anchors'), threads: options.threads ?? os.availableParallelism(), baseEnv: process.env,
    ...(options.isa ? { isa: options.isa } : {}),
  });
  const wanted = options.libraries;
  return async (def, protocol) => {
    const specs = anchorsFor(def.op).filter((a) => !wanted || wanted.includes(a.library));
    if (!specs.length) return { missing: `no ${wanted?.map((l) => runner.library(l).name).join(' or ') ?? 'library'} anchor computes ${def.op}` };
    let best: { library: string; seconds: number } | null = null;
    const why: string[] = [];
    for (const spec of specs) {
      const outcome = await runner.measure(spec, def, protocol);
      if (outcome.status !== 'ok') { why.push(`${spec.label}: ${outcome.message}`); continue; }
      if (!best || outcome.median < best.seconds) best = { library: runner.library(spec.library).name, seconds: outcome.median };
    }
    return best ?? { missing: specs.length === 1 ? why[0].slice(specs[0].label.length + 2) : why.join('; ') };
  };
}

/** The host CPU's libraries for an agent's or `tune`'s backend, with its --threads and --isa. */
export function hostCpuLibrary(cacheDir: string, flags: Readonly<Record<string, number | string | undefined>>): LibraryMeasure {
  const threads = typeof flags.threads === 'number' ? flags.threads : undefined;
  const isa = typeof flags.isa === 'string' ? flags.isa : undefined;
  return hostLibraryTiming({ buildDir: cacheDir, ...(threads ? { threads } : {}), ...(isa ? { isa } : {}) });
}
