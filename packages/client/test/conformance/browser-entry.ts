// The conformance table in a web page: bundled by esbuild for Chromium, it runs every REST case
// through SibylClient over the page's own fetch and reports each result.
import { SibylClient } from '@sibyl/client';
import { CONFORMANCE_CASES } from './cases.ts';

export interface CaseResult {
  name: string;
  ok: boolean;
  error?: string;
}

async function runConformance(url: string, unreachableUrl: string): Promise<CaseResult[]> {
  const client = SibylClient.rest(url);
  const unreachable = SibylClient.rest(unreachableUrl);
  const results: CaseResult[] = [];
  for (const c of CONFORMANCE_CASES.filter((k) => k.only === undefined || k.only === 'rest')) {
    try {
      await c.run({ client, transport: 'rest', unreachable });
      results.push({ name: c.name, ok: true });
    } catch (e) {
      results.push({ name: c.name, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return results;
}

(globalThis as unknown as { runConformance: typeof runConformance }).runConformance = runConformance;
