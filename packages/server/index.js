// The package root for plain Node: Sibyl runs its TypeScript sources through tsx (no build step,
// like bin/sibyl.js), so this file registers tsx and re-exports src/index.ts. Types come from
// src/index.ts directly (package.json "types").
import { register } from 'tsx/esm/api';

register();
export const { createSibyl, SibylError } = await import('./src/index.ts');
