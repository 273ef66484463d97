// Agents named by address (`--agent HOST:PORT`): polled with Describe instead of heard by
// heartbeat. A static agent is dialled at the address it was given, whatever it advertises.
import type { AgentClient } from './agent-client.ts';
import type { AgentRegistry } from './registry.ts';

export interface StaticAgentsOptions {
  addresses: readonly string[];
  clientFor: (address: string) => AgentClient;
  registry: AgentRegistry;
  /** True once the farm is closed: a late answer is then ignored. */
  closed: () => boolean;
}

export class StaticAgents {
  private readonly clients = new Map<string, AgentClient>();

  constructor(private readonly options: StaticAgentsOptions) {}

  pollAll(): void {
    for (const address of this.options.addresses) void this.poll(address);
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
  }

  private async poll(address: string): Promise<void> {
    let client = this.clients.get(address);
    if (!client) {
      client = this.options.clientFor(address);
      this.clients.set(address, client);
    }
    try {
      const heartbeat = await client.describe();
      if (!this.options.closed()) this.options.registry.heartbeat({ ...heartbeat, address }, 'static', client);
    } catch {
      // Unreachable: the sweep marks it lost once it has been silent long enough.
    }
  }
}
