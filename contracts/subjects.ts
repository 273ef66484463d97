// Subjects and names on NATS, in one place. The publishing agent's name is in every subject it
// publishes on, so that nats-server's per-user permissions (deploy/nats-server.conf) decide who may
// speak for an agent, and the coordinator reads the publisher's identity from the subject.
//
//   flexfarm.results.<campaign>.<agent>     results (JetStream stream FLEXFARM_RESULTS); `_` for no campaign
//   flexfarm.agents.heartbeat.<agent>       heartbeats (core NATS)
//   flexfarm.agents.discover                the coordinator asks every agent to announce itself
//
// Before the agent's name was in them, results went to `flexfarm.results.<campaign>` and heartbeats
// to `flexfarm.agents.heartbeat`; the coordinator still reads those (their publisher is then
// unknown: the shipped permissions let no agent publish there).
import { FlexfarmError } from './errors.ts';
import { AGENT_NAME_PATTERN, isSafeCampaignId, quote } from './messages/limits.ts';

export const SUBJECTS = {
  resultsPrefix: 'flexfarm.results',
  /** Heartbeats of agent A go to `flexfarm.agents.heartbeat.A` (the bare subject: older agents). */
  heartbeat: 'flexfarm.agents.heartbeat',
  /** The coordinator publishes here at start; every agent answers with a heartbeat at once. */
  discover: 'flexfarm.agents.discover',
} as const;

export const RESULTS_STREAM = 'FLEXFARM_RESULTS';
export const DEFAULT_CONSUMER = 'flexfarm-coordinator';

/** Reply subjects of JetStream requests: each role its own, so that permissions can give every
 *  agent only its own inbox (`_INBOX_AGENT.<agent>.>`) and the coordinator only its. */
export const COORDINATOR_INBOX_PREFIX = '_INBOX_COORDINATOR';
export function agentInboxPrefix(agent: string): string {
  return `_INBOX_AGENT.${subjectAgent(agent)}`;
}

/** Agent names are one or more subject tokens (a name with dots spans several). */
export function isSubjectAgentName(name: string): boolean {
  return AGENT_NAME_PATTERN.test(name);
}

function subjectAgent(agent: string): string {
  if (!isSubjectAgentName(agent)) throw new BadAgentNameError(agent);
  return agent;
}

/** Campaign ids are NATS subject tokens: letters, digits, `-` and `_` only (at most 64); any other
 *  id never reaches a subject. */
export function resultSubject(campaign: string | undefined, agent: string): string {
  if (campaign && !isSafeCampaignId(campaign)) throw new BadCampaignIdError(campaign);
  return `${SUBJECTS.resultsPrefix}.${campaign || '_'}.${subjectAgent(agent)}`;
}

export function heartbeatSubject(agent: string): string {
  return `${SUBJECTS.heartbeat}.${subjectAgent(agent)}`;
}

/** What a results subject says: the campaign (undefined for `_`) and the publishing agent
 *  (undefined on the old subject without it). Null for a subject that is not a results subject. */
export function parseResultSubject(subject: string): { campaign?: string; agent?: string } | null {
  const prefix = `${SUBJECTS.resultsPrefix}.`;
  if (!subject.startsWith(prefix)) return null;
  const [token, ...agent] = subject.slice(prefix.length).split('.');
  return { ...(token === '_' ? {} : { campaign: token }), ...(agent.length ? { agent: agent.join('.') } : {}) };
}

/** The agent a heartbeat subject names; undefined on the bare (old) subject, null for another subject. */
export function agentOfHeartbeatSubject(subject: string): string | undefined | null {
  if (subject === SUBJECTS.heartbeat) return undefined;
  const prefix = `${SUBJECTS.heartbeat}.`;
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : null;
}

export class BadCampaignIdError extends FlexfarmError {
  override name = 'BadCampaignIdError';
  readonly code = 'BAD_CAMPAIGN_ID';
  constructor(id: string) { super(`campaign id ${quote(id)} is not a subject token (letters, digits, - and _, at most 64)`); }
}

export class BadAgentNameError extends FlexfarmError {
  override name = 'BadAgentNameError';
  readonly code = 'BAD_AGENT_NAME';
  constructor(name: string) { super(`agent name ${quote(name)} cannot be part of a NATS subject (letters, digits and . _ : @ + -, at most 128, no empty part between dots)`); }
}
