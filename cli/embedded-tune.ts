// `tune()` for the command, the library and the benches: the coordinator's embedded tuning loop
// with this process's own agent, wired here because cli/ is the one layer that sees both sides.
import { createLocalAgent } from '../agent/local-agent.ts';
import { tuneEmbedded, type TuneOptions, type TuneOutcome } from '../coordinator/tune.ts';

export function tune(options: TuneOptions): Promise<TuneOutcome> {
  return tuneEmbedded(options, createLocalAgent);
}
