// The agent of embedded mode: one in-process agent around the caller's backend, publishing in the
// order its candidates arrived (reproducible runs) and leaving the backend open for the caller.
import type { LocalAgentFactory } from '../contracts/local-agent.ts';
import { Agent } from './agent.ts';

export const createLocalAgent: LocalAgentFactory = (o) => new Agent({
  name: 'local', backend: o.backend, bus: o.bus, capacity: o.concurrency, concurrency: o.concurrency,
  protocol: o.protocol, publishInOrder: true, ownsBackend: false,
});
