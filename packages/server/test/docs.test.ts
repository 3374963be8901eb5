import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedDocs } from '../../../scripts/generate-docs.ts';

const ROOT = new URL('../../../', import.meta.url);

describe('generated reference documents', () => {
  // Fails when a schema or the error catalogue changed without `npm run docs`.
  for (const [file, expected] of Object.entries(generatedDocs())) {
    it(`${file} is up to date (run \`npm run docs\` if not)`, () => {
      expect(readFileSync(new URL(file, ROOT), 'utf8')).toBe(expected);
    });
  }

  it('the error reference lists every reason', () => {
    const errors = generatedDocs()['docs/reference/errors.md']!;
    for (const reason of ['MODEL_NOT_FOUND', 'BODY_TOO_LARGE', 'INPUT_SHAPE_MISMATCH', 'INSTANCE_CRASHED']) expect(errors).toContain(`\`${reason}\``);
    expect(errors).toContain('| `BODY_TOO_LARGE` | `RESOURCE_EXHAUSTED` | 413 |');
  });
});
