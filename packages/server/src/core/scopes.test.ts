import { describe, expect, it } from 'vitest';
import { allows, type Scope } from './scopes.ts';

const p = (...scopes: string[]) => ({ id: 'caller', scopes });

describe('allows', () => {
  it.each<[string, ReturnType<typeof p> | undefined, Scope, boolean]>([
    ['authentication off: everything', undefined, 'admin', true],
    ['admin implies read', p('admin'), 'read', true],
    ['admin implies infer', p('admin'), 'infer:iris', true],
    ['the exact scope', p('read'), 'read', true],
    ['read is not admin', p('read'), 'admin', false],
    ['infer:* implies infer:<m>', p('infer:*'), 'infer:iris', true],
    ['infer:<m> is only that model', p('infer:iris'), 'infer:mnist', false],
    ['infer:<m> for that model', p('infer:iris'), 'infer:iris', true],
    ['infer:* is not read', p('infer:*'), 'read', false],
    ['batch:run is not admin', p('batch:run'), 'admin', false],
    ['no scopes: nothing', p(), 'read', false],
  ])('%s', (_name, principal, needed, expected) => {
    expect(allows(principal, needed)).toBe(expected);
  });
});
