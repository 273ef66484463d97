// An AgentHeartbeat read from the bus: every field typed and bounded, so that nothing a
// heartbeat carries can break the registry, ListAgents or /metrics.
import type { AgentHeartbeat } from '../bus.ts';
import { readDevice } from './device.ts';
import { array, boolean, integer, object, optional, parseJson, string } from './fields.ts';
import { AGENT_NAME_PATTERN, CANDIDATE_ID_PATTERN, LIMITS } from './limits.ts';

export function decodeHeartbeat(data: Uint8Array): AgentHeartbeat {
  return readHeartbeat(parseJson(data, 'heartbeat', LIMITS.heartbeatBytes));
}

export function readHeartbeat(value: unknown): AgentHeartbeat {
  const h = object(value, 'heartbeat');
  const load = object(h.load, 'heartbeat.load');
  const count = (key: string) => integer(load[key], `heartbeat.load.${key}`, 0, 1e9);
  const { min, max } = LIMITS.heartbeatIntervalMs;
  const leaving = optional(h, 'leaving', (v) => boolean(v, 'heartbeat.leaving'));
  const stalled = optional(h, 'stalled', (v) => string(v, 'heartbeat.stalled', LIMITS.textChars));
  return {
    name: string(h.name, 'heartbeat.name', 128, AGENT_NAME_PATTERN),
    address: string(h.address, 'heartbeat.address', LIMITS.addressChars),
    device: readDevice(h.device, 'heartbeat.device'),
    capacity: integer(h.capacity, 'heartbeat.capacity', 0, LIMITS.capacity),
    maxBatch: integer(h.maxBatch, 'heartbeat.maxBatch', 0, LIMITS.capacity),
    load: { queued: count('queued'), measuring: count('measuring'), unpublished: count('unpublished') },
    held: array(h.held, 'heartbeat.held', LIMITS.heldIds).map((id, i) => string(id, `heartbeat.held[${i}]`, LIMITS.candidateIdChars, CANDIDATE_ID_PATTERN)),
    startedAt: string(h.startedAt, 'heartbeat.startedAt', 64),
    intervalMs: integer(h.intervalMs, 'heartbeat.intervalMs', min, max),
    ...(leaving ? { leaving } : {}),
    ...(stalled ? { stalled } : {}),
  };
}

