// What a campaign is asked to do, validated before anything is queued: every error names the
// field that is wrong.
import { FlexfarmError } from '../contracts/errors.ts';
import { LIMITS, PROTOCOL_LIMITS, quote } from '../contracts/messages/limits.ts';
import { DEFAULT_PROTOCOL, type TargetKind, type TimingProtocol } from '../contracts/result.ts';
import { TARGET_KINDS } from '../contracts/targets.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { ShapeError, UnknownOpError } from '../tensor/errors.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { explorerNames } from './explore/index.ts';
import { templateFor } from './farm/templates.ts';
import { DEFAULT_REMEASURE, DEFAULT_REMEASURE_ROUNDS, MAX_REMEASURE } from './remeasure/plan.ts';

export interface CampaignSpec {
  op: string;
  shape: Record<string, number>;
  targets: TargetKind[];
  /** Measurements per target. */
  trials: number;
  explorer: string;
  seed: number;
  protocol: TimingProtocol;
  /** Configs of the search's top re-measured per target after the search (0: none). Absent in
   *  state files written before re-measuring existed: the default then. */
  remeasure?: number;
  /** Rounds of re-measuring: each re-measured config is measured once per round. */
  remeasureRounds?: number;
}

/** Most rounds of re-measuring one campaign may ask for. */
export const MAX_REMEASURE_ROUNDS = 20;

export class CampaignSpecError extends FlexfarmError {
  override name = 'CampaignSpecError';
  readonly code = 'CAMPAIGN_SPEC';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** Largest budget per target one campaign may ask for. */
export const MAX_TRIALS = 10_000_000;

export interface CampaignSpecInput {
  op: string;
  shape: Record<string, number>;
  targets: string[];
  trials: number;
  explorer?: string;
  seed?: number;
  protocol?: Partial<TimingProtocol>;
  remeasure?: number;
  remeasureRounds?: number;
}

/** Validates and fills defaults; returns the spec and the compute definition. */
export function validateSpec(input: CampaignSpecInput): { spec: CampaignSpec; def: ComputeDef } {
  if (!input.op) throw new CampaignSpecError('op', 'is empty (see `flexfarm ops`)');
  if (input.op.length > LIMITS.opChars) throw new CampaignSpecError('op', `unknown operator ${quote(input.op)} (see \`flexfarm ops\`)`);
  const params = Object.keys(input.shape ?? {});
  if (params.length > LIMITS.shapeParams) throw new CampaignSpecError('shape', `has ${params.length} parameters (at most ${LIMITS.shapeParams})`);
  const longParam = params.find((k) => k.length > LIMITS.opChars);
  if (longParam !== undefined) throw new CampaignSpecError('shape', `unknown parameter ${quote(longParam)}`);
  if (input.targets.length > LIMITS.targets) throw new CampaignSpecError('targets', `lists ${input.targets.length} device classes (at most ${LIMITS.targets})`);
  let def: ComputeDef;
  try {
    def = defineWorkload(input.op, input.shape);
  } catch (err) {
    if (err instanceof UnknownOpError) throw new CampaignSpecError('op', err.message);
    if (err instanceof ShapeError) throw new CampaignSpecError('shape', err.message);
    throw err;
  }
  if (!input.targets.length) throw new CampaignSpecError('targets', 'is empty: name at least one device class, e.g. cpu');
  const targets: TargetKind[] = [];
  for (const t of input.targets) {
    if (!(TARGET_KINDS as readonly string[]).includes(t)) {
      throw new CampaignSpecError('targets', `unknown device class ${quote(t)} (known: ${TARGET_KINDS.join(', ')})`);
    }
    if (targets.includes(t as TargetKind)) throw new CampaignSpecError('targets', `'${t}' is listed twice`);
    if (!templateFor(t as TargetKind)) throw new CampaignSpecError('targets', `this coordinator has no template for device class '${t}' yet`);
    targets.push(t as TargetKind);
  }
  if (!Number.isInteger(input.trials) || input.trials < 1 || input.trials > MAX_TRIALS) {
    throw new CampaignSpecError('trials', `must be an integer from 1 to ${MAX_TRIALS}, got ${input.trials}`);
  }
  // Not `model` (tune's default): it keeps a farm busy (it proposes while results are outstanding),
  // but on a wide farm most of its picks are made without the results in flight; random costs nothing.
  const explorer = input.explorer || 'random';
  if (!explorerNames().includes(explorer)) {
    throw new CampaignSpecError('explorer', `unknown explorer ${quote(explorer)} (known: ${explorerNames().join(', ')})`);
  }
  const seed = input.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new CampaignSpecError('seed', `must be a non-negative integer, got ${seed}`);
  const protocol = { ...DEFAULT_PROTOCOL };
  for (const [key, value] of Object.entries(input.protocol ?? {})) {
    if (!(key in protocol)) throw new CampaignSpecError(`protocol.${key}`, 'unknown field');
    const { min, max } = PROTOCOL_LIMITS[key as keyof TimingProtocol];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new CampaignSpecError(`protocol.${key}`, `must be a number >= 0, got ${value}`);
    if (value > 0 && (value < min || value > max)) throw new CampaignSpecError(`protocol.${key}`, `must be from ${min} to ${max} (0: the default), got ${value}`);
    if (key === 'repeat' && !Number.isInteger(value)) throw new CampaignSpecError('protocol.repeat', `must be an integer, got ${value}`);
    if (value > 0) protocol[key as keyof TimingProtocol] = value;
  }
  const remeasure = input.remeasure ?? DEFAULT_REMEASURE;
  if (!Number.isInteger(remeasure) || remeasure < 0 || remeasure > MAX_REMEASURE) {
    throw new CampaignSpecError('remeasure', `must be an integer from 0 (off) to ${MAX_REMEASURE}, got ${remeasure}`);
  }
  const remeasureRounds = input.remeasureRounds ?? DEFAULT_REMEASURE_ROUNDS;
  if (!Number.isInteger(remeasureRounds) || remeasureRounds < 1 || remeasureRounds > MAX_REMEASURE_ROUNDS) {
    throw new CampaignSpecError('remeasureRounds', `must be an integer from 1 to ${MAX_REMEASURE_ROUNDS}, got ${remeasureRounds}`);
  }
  return { spec: { op: input.op, shape: { ...input.shape }, targets, trials: input.trials, explorer, seed, protocol, remeasure, remeasureRounds }, def };
}
