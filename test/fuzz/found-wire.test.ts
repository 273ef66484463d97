// Regression of what fuzzing the gRPC services found (issue 15, item 6): a Measure request whose
// config_json held a character cut in half was answered UNKNOWN "Unknown error" — the refusal's
// message quoted a lone surrogate, which grpc-js could not put in its header — instead of
// INVALID_ARGUMENT naming the field.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AgentServiceService, MeasureRequest } from '../../proto/flexfarm/v1/agent.ts';
import { clientFor, rawCall, startGrpcPeers, type GrpcPeers } from './surfaces/grpc-peers.ts';

let peers: GrpcPeers;
beforeAll(async () => { peers = await startGrpcPeers(); });
afterAll(async () => { await peers?.close(); });

test('a refusal quoting half a character is INVALID_ARGUMENT with the field named', async () => {
  const client = clientFor(peers.agent.address);
  try {
    const body = MeasureRequest.encode({ candidates: [{ id: 'c1/sim/0', campaign: 'c1', workload: 'gemm(M=16,N=16,K=16,dtype=float32)', target: 'sim', configJson: '\u{3D0CB}' }] }).finish();
    const o = await rawCall(client, AgentServiceService.measure.path, Buffer.from(body));
    expect(o.code).toBe(status.INVALID_ARGUMENT);
    expect(o.message).toMatch(/candidates\[0\]\.config_json: is not JSON/);
  } finally {
    client.close();
  }
});
