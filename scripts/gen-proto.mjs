#!/usr/bin/env node
// Regenerates the TypeScript beside every .proto under proto/ with ts-proto (gRPC services for
// @grpc/grpc-js). `npm run proto` writes into proto/; `--out DIR` writes elsewhere (the freshness
// test compares such a fresh run with the committed code).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const protoRoot = join(root, 'proto');

/** ts-proto options; keep in one place so the test and `npm run proto` agree. */
export const TS_PROTO_OPTIONS = [
  'outputServices=grpc-js',
  'esModuleInterop=true',
  'importSuffix=.js',
  'env=node',
  'forceLong=bigint',
  'useOptionals=messages',
  'outputJsonMethods=false',
  'exportCommonSymbols=false',
].join(',');

export function protoFiles(dir = protoRoot) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...protoFiles(path));
    else if (name.endsWith('.proto')) files.push(relative(protoRoot, path));
  }
  return files;
}

export function generate(outDir = protoRoot) {
  mkdirSync(outDir, { recursive: true });
  const plugin = join(root, 'node_modules', '.bin', 'protoc-gen-ts_proto');
  execFileSync('protoc', [
    `--plugin=protoc-gen-ts_proto=${plugin}`,
    `--ts_proto_out=${outDir}`,
    `--ts_proto_opt=${TS_PROTO_OPTIONS}`,
    `--proto_path=${protoRoot}`,
    ...protoFiles(),
  ], { stdio: 'inherit' });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const outDir = i > 0 ? resolve(process.argv[i + 1]) : protoRoot;
  try {
    generate(outDir);
  } catch (err) {
    if (err && err.code === 'ENOENT') {
      console.error('protoc not found: install it with `apt-get install protobuf-compiler` (Debian/Ubuntu)');
      process.exit(1);
    }
    throw err;
  }
  console.error(`generated TypeScript for ${protoFiles().length} .proto files into ${relative(process.cwd(), outDir) || '.'}`);
}
