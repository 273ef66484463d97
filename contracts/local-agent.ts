// An agent in the coordinator's own process (embedded mode), as the farm drives it: the calls the
// gRPC AgentService serves, without the network. agent/agent.ts implements it; the coordinator
// is handed a factory (cli/ wires it) so that it never imports agent/.
import type { Backend } from './backend.ts';
import type { AgentBus, AgentHeartbeat } from './bus.ts';
import type { Candidate, TimingProtocol } from './result.ts';

export interface LocalAgent {
  /** Starts heartbeats on the bus. */
  start(): void;
  heartbeat(): AgentHeartbeat;
  measure(candidates: Candidate[], protocol?: TimingProtocol): { accepted: number; queued: number };
  cancel(filter: { campaign?: string; ids?: string[] }): number;
  stop(timeoutMs?: number): Promise<void>;
}

/** What embedded mode asks of its one local agent. */
export interface LocalAgentOptions {
  backend: Backend;
  bus: AgentBus;
  /** Candidates measured at once, and kept in flight by the coordinator. */
  concurrency: number;
  protocol: TimingProtocol;
}

export type LocalAgentFactory = (options: LocalAgentOptions) => LocalAgent;
