#!/usr/bin/env node
// The `flexfarm` command: the CLI is TypeScript, so register tsx before loading it.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../cli/flexfarm.ts', import.meta.url).href);
