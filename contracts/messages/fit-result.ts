// What an agent publishes is what the coordinator accepts: a result that would fail validation or
// is too large for the bus becomes an error result with the candidate's identity, which always
// fits, so that it is published once instead of retried forever.
import type { ResultEnvelope } from '../bus.ts';
import type { MeasureResult } from '../result.ts';
import { LIMITS } from './limits.ts';
import { MessageError } from './message-error.ts';
import { readResult } from './result.ts';

/** The result as it can be published by `agent`: unchanged when it is valid and small enough. */
export function fitForBus(result: MeasureResult, agent: string): MeasureResult {
  const trimmed = result.error && result.error.message.length > LIMITS.errorMessageChars
    ? { ...result, error: { code: result.error.code, message: `${result.error.message.slice(0, LIMITS.errorMessageChars - 40)}… (message cut)` } }
    : result;
  try {
    readResult(JSON.parse(JSON.stringify(trimmed)));
  } catch (err) {
    if (!(err instanceof MessageError)) throw err;
    return unpublishable(result, `the result is not valid (${err.message.slice(0, 500)})`);
  }
  const bytes = Buffer.byteLength(JSON.stringify({ v: 1, agent, result: trimmed } satisfies ResultEnvelope));
  if (bytes > LIMITS.resultBytes) return unpublishable(result, `the result is ${bytes} bytes (at most ${LIMITS.resultBytes} on the bus)`);
  return trimmed;
}

/** An UNKNOWN error result that keeps only the candidate's identity, the device and when. */
export function unpublishable(result: MeasureResult, why: string): MeasureResult {
  const limitsFit = JSON.stringify(result.device?.limits ?? {}).length <= LIMITS.configJsonBytes;
  return {
    candidateId: result.candidateId, ...(result.campaign ? { campaign: result.campaign } : {}),
    workload: result.workload, target: result.target, config: result.config,
    seconds: [], median: null, error: { code: 'UNKNOWN', message: `not published as measured: ${why}`.slice(0, LIMITS.errorMessageChars) },
    device: { ...result.device, limits: limitsFit ? result.device.limits : {} },
    toolchain: String(result.toolchain ?? '').slice(0, LIMITS.textChars), at: result.at,
  };
}
