// The servers the gRPC fuzzing talks to, in this process on 127.0.0.1: a sim agent and a
// coordinator (no agents: submitted campaigns wait, and are cancelled), each over a memory bus,
// with a tuning log holding one earlier measurement that must stay as it was.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { SimBackend } from '../../../agent/backends/sim/sim-backend.ts';
import { AgentServer } from '../../../agent/server.ts';
import { MemoryBus } from '../../../contracts/bus-memory.ts';
import { Farm } from '../../../coordinator/farm/farm.ts';
import { CoordinatorServer } from '../../../coordinator/server.ts';

export const EARLIER_LINE = JSON.stringify({
  v: 1, candidateId: 'old/sim/0', campaign: 'old', workload: 'gemm(M=16,N=16,K=16,dtype=float32)', target: 'sim', config: {},
  seconds: [1e-3], median: 1e-3, error: null, device: { kind: 'sim', name: 'h', model: 'm', cores: 1, memoryBytes: 1, toolchain: 't', limits: {} },
  toolchain: 't', at: '2026-12-03T00:00:00.000Z',
});

export interface GrpcPeers {
  agent: AgentServer;
  coordinator: CoordinatorServer;
  farm: Farm;
  recordsPath: string;
  /** The log's bytes when the peers started. */
  recordsBefore: Buffer;
  close(): Promise<void>;
}

export async function startGrpcPeers(): Promise<GrpcPeers> {
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-fuzz-grpc-'));
  const recordsPath = join(dir, 'records.jsonl');
  writeFileSync(recordsPath, `${EARLIER_LINE}\n`);
  const agentBus = new MemoryBus();
  const agent = await AgentServer.start({ name: 'fuzz-agent', backend: new SimBackend({ seed: 1, delayMs: 0 }), bus: agentBus, listen: '127.0.0.1:0', heartbeatMs: 1_000 });
  const farmBus = new MemoryBus();
  const farm = new Farm({ bus: farmBus, recordsPath, settleMs: 0 });
  farm.start();
  const coordinator = await CoordinatorServer.start({ farm, listen: '127.0.0.1:0' });
  return {
    agent, coordinator, farm, recordsPath, recordsBefore: readFileSync(recordsPath),
    close: async () => {
      await coordinator.stop();
      await agent.stop(0);
      await farm.close();
      await agentBus.close();
      await farmBus.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CallOutcome { code: number; message: string; response?: Buffer }

/** One unary call with raw request bytes; resolves with the status (OK = 0) within the deadline. */
export function rawCall(client: Client, path: string, body: Buffer, deadlineMs = 5_000): Promise<CallOutcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, new Metadata(), { deadline: Date.now() + deadlineMs },
      (err: ServiceError | null, response?: Buffer) => resolve(err ? { code: err.code, message: err.details ?? err.message } : { code: status.OK, message: '', response }));
  });
}

/** One server-streaming call: the first event or the status, whichever comes first. */
export function rawStream(client: Client, path: string, body: Buffer, deadlineMs = 300): Promise<CallOutcome> {
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, new Metadata(), { deadline: Date.now() + deadlineMs });
    let done = false;
    const finish = (o: CallOutcome) => { if (!done) { done = true; call.cancel(); resolve(o); } };
    call.on('data', (response: Buffer) => finish({ code: status.OK, message: '', response }));
    call.on('error', (err: ServiceError) => finish({ code: err.code, message: err.details ?? err.message }));
    call.on('end', () => finish({ code: status.OK, message: '' }));
  });
}

export const clientFor = (address: string) => new Client(address, credentials.createInsecure());

/** Codes a bad request may get: never INTERNAL or UNKNOWN (the server's own failure). */
const CLEAR_CODES = new Set([status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND, status.FAILED_PRECONDITION, status.RESOURCE_EXHAUSTED,
  status.OUT_OF_RANGE, status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ALREADY_EXISTS, status.UNIMPLEMENTED, status.CANCELLED]);

export function checkOutcome(what: string, o: CallOutcome): void {
  if (!CLEAR_CODES.has(o.code)) throw new Error(`${what}: status ${status[o.code]}: ${o.message.slice(0, 400)}`);
  if (o.code !== status.OK && (!o.message || o.message.length > 2_000)) throw new Error(`${what}: a refusal of ${o.message.length} characters: ${o.message.slice(0, 200)}`);
}
