// A MeasureResult read from the bus: shapes, types, sizes, and times that are finite and above
// zero. What the result claims (issued to that agent, that config) is checked by the coordinator
// against what it dispatched (coordinator/farm/result-admission.ts).
import type { ResultEnvelope } from '../bus.ts';
import { ERROR_CODES, type MeasureResult } from '../result.ts';
import { readConfig, readDevice, readTarget } from './device.ts';
import { array, boolean, integer, number, object, optional, parseJson, seconds, string, type JsonObject } from './fields.ts';
import { AGENT_NAME_PATTERN, CAMPAIGN_ID_PATTERN, CANDIDATE_ID_PATTERN, LIMITS, quote } from './limits.ts';
import { MessageError } from './message-error.ts';

/** Parses and validates a result envelope's bytes; throws MessageError naming what is wrong. */
export function decodeResultEnvelope(data: Uint8Array): ResultEnvelope {
  return readResultEnvelope(parseJson(data, 'message', LIMITS.resultBytes));
}

export function readResultEnvelope(value: unknown): ResultEnvelope {
  const e = object(value, 'envelope');
  if (e.v !== 1) throw new MessageError('envelope.v', `must be 1, got ${JSON.stringify(e.v)?.slice(0, 20)}`);
  return { v: 1, agent: string(e.agent, 'envelope.agent', 128, AGENT_NAME_PATTERN), result: readResult(e.result, 'result') };
}

export function readResult(value: unknown, field = 'result'): MeasureResult {
  const r = object(value, field);
  const f = (key: string) => `${field}.${key}`;
  const text = (key: string) => string(r[key], f(key), LIMITS.textChars);
  const campaign = optional(r, 'campaign', (v) => string(v, f('campaign'), 64, CAMPAIGN_ID_PATTERN));
  const error = r.error === null ? null : readError(r.error, f('error'));
  const times = array(r.seconds, f('seconds'), LIMITS.secondsEntries).map((s, i) => seconds(s, `${f('seconds')}[${i}]`, LIMITS.maxSeconds));
  const median = r.median === null ? null : seconds(r.median, f('median'), LIMITS.maxSeconds);
  if (!error) {
    if (median === null || !times.length) throw new MessageError(f('median'), 'a result without an error needs a median and its seconds', 'bad_time');
    if (median < Math.min(...times) || median > Math.max(...times)) {
      throw new MessageError(f('median'), `${median} lies outside its seconds (${Math.min(...times)} to ${Math.max(...times)})`, 'bad_time');
    }
  }
  const result: MeasureResult = {
    candidateId: string(r.candidateId, f('candidateId'), LIMITS.candidateIdChars, CANDIDATE_ID_PATTERN),
    ...(campaign === undefined ? {} : { campaign }),
    workload: string(r.workload, f('workload'), LIMITS.workloadChars),
    target: readTarget(r.target, f('target')),
    config: readConfig(r.config, f('config')),
    seconds: times, median, error,
    device: readDevice(r.device, f('device')),
    toolchain: text('toolchain'),
    at: text('at'),
  };
  readExtras(r, field, result);
  return result;
}

function readError(value: unknown, field: string): MeasureResult['error'] {
  const e = object(value, field);
  const code = string(e.code, `${field}.code`, 32);
  if (!(ERROR_CODES as readonly string[]).includes(code)) throw new MessageError(`${field}.code`, `unknown error code ${quote(code)} (known: ${ERROR_CODES.join(', ')})`);
  return { code: code as (typeof ERROR_CODES)[number], message: string(e.message, `${field}.message`, LIMITS.errorMessageChars) };
}

/** The optional fields, each typed when present. */
function readExtras(r: JsonObject, field: string, out: MeasureResult): void {
  const f = (key: string) => `${field}.${key}`;
  const set = <K extends keyof MeasureResult>(key: K, read: (v: unknown) => MeasureResult[K]) => {
    const v = optional(r, key, read);
    if (v !== undefined) out[key] = v;
  };
  set('number', (v) => integer(v, f('number'), 1, 2 ** 40));
  set('loadAverage', (v) => number(v, f('loadAverage'), 0, 1e6));
  set('simulated', (v) => boolean(v, f('simulated')));
  set('estimated', (v) => boolean(v, f('estimated')));
  set('estimator', (v) => string(v, f('estimator'), LIMITS.textChars));
  set('spread', (v) => {
    const s = object(v, f('spread'));
    const n = (k: string) => number(s[k], `${f('spread')}.${k}`, 0, LIMITS.maxSeconds);
    return { min: n('min'), median: n('median'), max: n('max'), cv: number(s.cv, `${f('spread')}.cv`, 0, 1e6) };
  });
  set('retimed', (v) => {
    const t = object(v, f('retimed'));
    const times = array(t.seconds, `${f('retimed')}.seconds`, LIMITS.secondsEntries).map((s, i) => seconds(s, `${f('retimed')}.seconds[${i}]`, LIMITS.maxSeconds));
    return { seconds: times, cv: number(t.cv, `${f('retimed')}.cv`, 0, 1e6) };
  });
  set('estimate', (v) => {
    const e = object(v, f('estimate'));
    const n = (k: string) => number(e[k], `${f('estimate')}.${k}`, 0, 1e18);
    return { cycles: n('cycles'), clockMhz: n('clockMhz'), ii: n('ii'), dsp: n('dsp'), bram18: n('bram18'), lut: n('lut'), ff: n('ff'), uram: n('uram') };
  });
  set('yardstick', (v) => {
    const y = object(v, f('yardstick'));
    const g = (k: string) => `${f('yardstick')}.${k}`;
    const referenceSeconds = optional(y, 'referenceSeconds', (x) => seconds(x, g('referenceSeconds'), LIMITS.maxSeconds));
    const library = optional(y, 'library', (x) => {
      const l = object(x, g('library'));
      return { name: string(l.name, g('library.name'), LIMITS.libraryNameChars), seconds: seconds(l.seconds, g('library.seconds'), LIMITS.maxSeconds) };
    });
    const libraryMissing = optional(y, 'libraryMissing', (x) => string(x, g('libraryMissing'), LIMITS.errorMessageChars));
    return {
      ...(referenceSeconds === undefined ? {} : { referenceSeconds }), ...(library === undefined ? {} : { library }),
      ...(libraryMissing === undefined ? {} : { libraryMissing }),
    };
  });
}
