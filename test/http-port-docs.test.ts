// One default HTTP port everywhere: `farm up`'s default, and every --http / FLEXFARM_HTTP / scrape
// target the README, the dashboards guide, the Prometheus config and the coordinator's example
// settings show.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DEFAULT_HTTP } from '../cli/commands/farm.ts';
import { REPO } from './farm/farm-processes.ts';

test('the coordinator\'s HTTP port is the same in farm up, the docs and the example configs', () => {
  const port = DEFAULT_HTTP.split(':')[1];
  const seen: string[] = [];
  const files = ['README.md', 'dashboards/README.md', 'dashboards/prometheus/prometheus.yml', 'deploy/coordinator.env.example', 'cli/commands/coordinator.ts'];
  for (const file of files) {
    const text = readFileSync(join(REPO, file), 'utf8');
    for (const m of text.matchAll(/(?:--http[ =]|FLEXFARM_HTTP=|coordinator\.lab\.example:|usual port is )(?:[\w.<>-]+:)?(\d{2,5})\b/g)) seen.push(`${file}: ${m[0]} → ${m[1]}`);
  }
  expect(seen.length).toBeGreaterThanOrEqual(files.length);
  expect(seen.filter((s) => !s.endsWith(`→ ${port}`))).toEqual([]);
});
