// `sibyl serve --help` describes every flag the server config accepts (the four HTTP limit flags
// added for issue 13 were listed with no description).
import { describe, expect, it } from 'vitest';
import { SERVE_FLAGS } from '../src/config/server-config.ts';
import { FLAG_HELP } from '../src/cli/main.ts';

describe('sibyl serve --help', () => {
  it('has a description for every serve flag', () => {
    const undescribed = SERVE_FLAGS.map(({ flag }) => flag.split(' ')[0]!).filter((name) => (FLAG_HELP[name] ?? '').trim() === '');
    expect(undescribed).toEqual([]);
  });
});
