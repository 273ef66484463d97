import { expect, test } from 'vitest';
import {
  agentInboxPrefix, agentOfHeartbeatSubject, BadAgentNameError, BadCampaignIdError, heartbeatSubject, isSubjectAgentName, parseResultSubject, resultSubject,
} from './subjects.ts';

test('result and heartbeat subjects carry the agent, and read back; the old subjects read as having none', () => {
  expect(resultSubject('c1', 'gpu-host-gpu-7070')).toBe('flexfarm.results.c1.gpu-host-gpu-7070');
  expect(resultSubject(undefined, 'a')).toBe('flexfarm.results._.a');
  expect(parseResultSubject('flexfarm.results.c1.gpu-host-gpu-7070')).toEqual({ campaign: 'c1', agent: 'gpu-host-gpu-7070' });
  // a name with dots spans several tokens; campaign ids have none, so it splits back unambiguously
  expect(resultSubject('c1', 'gpu.lab.example-gpu-7070')).toBe('flexfarm.results.c1.gpu.lab.example-gpu-7070');
  expect(parseResultSubject('flexfarm.results.c1.gpu.lab.example-gpu-7070')).toEqual({ campaign: 'c1', agent: 'gpu.lab.example-gpu-7070' });
  expect(parseResultSubject('flexfarm.results._.a')).toEqual({ agent: 'a' });
  expect(parseResultSubject('flexfarm.results.c1')).toEqual({ campaign: 'c1' });
  expect(parseResultSubject('flexfarm.results._')).toEqual({});
  expect(parseResultSubject('other.c1')).toBeNull();
  expect(heartbeatSubject('a.b')).toBe('flexfarm.agents.heartbeat.a.b');
  expect(agentOfHeartbeatSubject('flexfarm.agents.heartbeat.a.b')).toBe('a.b');
  expect(agentOfHeartbeatSubject('flexfarm.agents.heartbeat')).toBeUndefined();
  expect(agentOfHeartbeatSubject('flexfarm.agents.discover')).toBeNull();
  expect(agentInboxPrefix('a')).toBe('_INBOX_AGENT.a');
});

test('names and campaign ids that are not subject tokens never reach a subject', () => {
  for (const name of ['', 'a..b', '.a', 'a.', 'a b', 'a*', 'a>', 'x'.repeat(129)]) {
    expect(isSubjectAgentName(name), name).toBe(false);
    expect(() => resultSubject('c1', name), name).toThrow(BadAgentNameError);
    expect(() => heartbeatSubject(name), name).toThrow(BadAgentNameError);
  }
  expect(() => resultSubject('a.b', 'x')).toThrow(BadCampaignIdError);
  expect(isSubjectAgentName('host-cpu-7070')).toBe(true);
});
