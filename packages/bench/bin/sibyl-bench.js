#!/usr/bin/env node
// The `sibyl-bench` command (also reachable as `sibyl bench`). Runs its TypeScript sources
// through tsx (no build step), as the server does.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
