// The shape of one tuning-log line, checked before any reader uses it: a line `null`, a line
// without `workload`, a line with `config: null` is skipped (with its file and line number) rather
// than breaking `best`, `report`, `tune --records` or a resume.
import { readConfig } from '../contracts/messages/device.ts';
import { array, number, object, string, type JsonObject } from '../contracts/messages/fields.ts';

const TEXT = 100_000;

/** Throws MessageError (contracts/messages/) naming the first field a reader could not use. */
export function checkRecordLine(value: unknown): void {
  const r = object(value, 'line');
  const type = r.type;
  string(r.workload, 'workload', TEXT);
  string(r.target, 'target', 64);
  checkDevice(r.device);
  if (type === 'reference' || type === 'library') {
    number(r.median, 'median', 0, Infinity);
    if (type === 'library') string(r.library, 'library', 200);
    return;
  }
  string(r.candidateId, 'candidateId', TEXT);
  readConfig(r.config, 'config');
  array(r.seconds, 'seconds', Infinity).forEach((s, i) => number(s, `seconds[${i}]`, -Infinity, Infinity));
  if (r.median !== null) number(r.median, 'median', -Infinity, Infinity);
  if (r.error !== null && r.error !== undefined) {
    const e = object(r.error, 'error');
    string(e.code, 'error.code', TEXT);
    string(e.message, 'error.message', Infinity);
  }
  if (type === 'remeasure') {
    number(r.round, 'round', 0, Infinity);
    string(r.of, 'of', TEXT);
  }
}

function checkDevice(value: unknown): void {
  const d: JsonObject = object(value, 'device');
  for (const key of ['kind', 'name', 'model']) string(d[key], `device.${key}`, TEXT);
}

