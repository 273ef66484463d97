// The layers' import rules (DESIGN.md §2): imports only go down, cli → coordinator | agent →
// contracts → tensor, and agent/ and coordinator/ never import each other; inside agent/, one
// backend's folder never imports another's (shared code lives at agent/ level or below). Reads
// every import of every .ts file in the repository (tests and proto's generated files included).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'out', '.cache', 'test-results']);

/** Folders each layer must not import from; `only` lists all it may import (itself included). */
const RULES: Record<string, { only?: string[]; never?: string[] }> = {
  tensor: { only: ['tensor'] },
  contracts: { only: ['contracts', 'tensor'] },
  agent: { never: ['coordinator', 'cli'] },
  coordinator: { never: ['agent', 'cli'] },
  proto: { never: ['agent', 'coordinator', 'cli'] },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : sourceFiles(join(dir, e.name));
    return e.isFile() && e.name.endsWith('.ts') ? [join(dir, e.name)] : [];
  });
}

/** The specifiers of a module's static imports and re-exports, side-effect imports and dynamic imports. */
function importSpecifiers(text: string): string[] {
  // Comments go first, so a commented-out import does not count; a '//' inside a string (a URL)
  // is kept because only whole-line comments are dropped.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]);
  return found;
}

const layerOf = (repoPath: string) => (repoPath.includes(sep) ? repoPath.split(sep)[0] : '(root)');

const BACKENDS = join('agent', 'backends');
/** The backend folder a path lies in (`agent/backends/<kind>/…`), or null. */
function backendOf(repoPath: string): string | null {
  const rest = relative(BACKENDS, repoPath);
  return !rest.startsWith('..') && rest.includes(sep) ? rest.split(sep)[0] : null;
}

interface Edge { from: string; to: string; spec: string }

function edges(): Edge[] {
  return sourceFiles(ROOT).flatMap((file) => {
    const from = relative(ROOT, file);
    return importSpecifiers(readFileSync(file, 'utf8'))
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => ({ from, to: normalize(relative(ROOT, join(dirname(file), spec))), spec }));
  });
}

function broken(edge: Edge): string | null {
  if (edge.to.startsWith('..')) return 'reaches outside the repository';
  const fromBackend = backendOf(edge.from), toBackend = backendOf(edge.to);
  if (fromBackend && toBackend && fromBackend !== toBackend) {
    return `backend ${fromBackend}/ must not import backend ${toBackend}/ (share through agent/ or contracts/)`;
  }
  const from = layerOf(edge.from);
  const to = layerOf(edge.to);
  const rule = RULES[from];
  if (!rule || from === to) return null;
  if (rule.only && !rule.only.includes(to)) return `${from}/ may import only ${rule.only.map((l) => `${l}/`).join(', ')}`;
  if (rule.never?.includes(to)) return `${from}/ must not import ${to}/`;
  return null;
}

describe('layering', () => {
  it('reads imports of every form', () => {
    const text = [
      "import { a } from '../x/a.ts';", "import type { B } from \"../x/b.ts\";", "export { c } from './c.ts';",
      "import {\n  d,\n  type E,\n} from '../x/d.ts';", "import '../x/side.ts';", "const f = await import('../x/f.ts');",
      "export * as g from './g.ts';", "// import { no } from '../x/commented.ts';", "/* import { no } from '../x/block.ts'; */",
      "const url = 'nats://localhost:4222'; // import in a trailing comment",
    ].join('\n');
    expect(importSpecifiers(text)).toEqual(expect.arrayContaining(
      ['../x/a.ts', '../x/b.ts', './c.ts', '../x/d.ts', '../x/side.ts', '../x/f.ts', './g.ts'],
    ));
    expect(importSpecifiers(text)).toHaveLength(7);
  });

  it('tells backend folders apart', () => {
    const edge = (from: string, to: string) => ({ from: join(BACKENDS, from), to: join(BACKENDS, to), spec: to });
    expect(broken(edge(join('sim', 'a.ts'), join('cpu', 'b.ts')))).toMatch(/backend sim\/ must not import backend cpu\//);
    expect(broken(edge(join('sim', 'a.ts'), join('sim', 'b.ts')))).toBeNull();
    expect(broken(edge(join('sim', 'a.ts'), 'index.ts'))).toBeNull();
    expect(broken({ from: join(BACKENDS, 'index.ts'), to: join(BACKENDS, 'cpu', 'b.ts'), spec: './cpu/b.ts' })).toBeNull();
  });

  it('holds for every import in the source tree', () => {
    const all = edges();
    // A scan that found nothing would pass vacuously.
    expect(new Set(all.map((e) => e.from)).size).toBeGreaterThan(150);
    for (const layer of Object.keys(RULES)) expect(all.some((e) => layerOf(e.from) === layer), layer).toBe(true);
    const violations = all.flatMap((e) => {
      const why = broken(e);
      return why ? [`${e.from} imports '${e.spec}': ${why}`] : [];
    });
    expect(violations).toEqual([]);
  });
});
