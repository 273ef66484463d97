// The live page's files (dashboards/web/): read once at start and served from memory, so the page
// needs nothing from the internet. Only the files listed here are served (no path from the URL
// ever reaches the file system).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FlexfarmError } from '../../contracts/errors.ts';

export const PAGE_DIR = fileURLToPath(new URL('../../dashboards/web/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const PAGE_FILES = ['index.html', 'app.js', 'charts.js', 'page-util.js', 'yardstick.js', 'svg-chart.js', 'x-axis.js', 'style.css', 'favicon.svg'] as const;

export class PageFileError extends FlexfarmError {
  override name = 'PageFileError';
  readonly code = 'PAGE_FILE';
}

export interface StaticFile { body: Buffer; contentType: string }

export function loadPageFiles(dir = PAGE_DIR): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of PAGE_FILES) {
    let body: Buffer;
    try {
      body = readFileSync(`${dir}${name}`);
    } catch (err) {
      throw new PageFileError(`the live page's file ${dir}${name} cannot be read (${(err as Error).message})`);
    }
    files.set(name, { body, contentType: CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' });
  }
  return files;
}
