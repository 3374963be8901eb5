// Commands that talk to a running server over HTTP: `sibyl predictions` reads the prediction log
// (GET /v1/models/{m}/predictions), `sibyl log-level` reads or sets the log level
// (GET/POST /v2/logging). Exit codes: 0 done, 1 the server failed or could not be reached, 2 usage.
import { Option, type Command } from 'commander';

export interface AdminIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const DEFAULT_URL = 'http://127.0.0.1:8000';

async function call(url: string, init: RequestInit | undefined, io: AdminIo): Promise<{ ok: true; body: unknown } | { ok: false }> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    io.stderr.write(`sibyl: cannot reach ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}\n`);
    return { ok: false };
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    const message = typeof body === 'object' && body !== null && 'error' in body ? String((body as { error: unknown }).error) : text;
    io.stderr.write(`sibyl: ${res.status} from ${url}: ${message}\n`);
    return { ok: false };
  }
  return { ok: true, body };
}

export function registerAdminCommands(program: Command, setExitCode: (code: number) => void, io: AdminIo = process): void {
  program
    .command('predictions')
    .description('Print records of the prediction log of a running server, oldest first, one JSON object per line.')
    .argument('<model>', 'model whose records to read')
    .addOption(new Option('--url <url>', 'server to ask').default(DEFAULT_URL).env('SIBYL_URL'))
    .option('--since <time>', 'first time to include: ISO 8601 (2026-01-31T12:00:00Z) or ms since the epoch (default: the beginning)')
    .option('--until <time>', 'first time to exclude (default: now)')
    .option('--version <version>', 'only records of this model version')
    .option('--limit <n>', 'most records to print, 1 to 10000', '100')
    .option('--json', 'print one JSON document {model, predictions} instead of JSON Lines')
    .action(async (model: string, flags: { url: string; since?: string; until?: string; version?: string; limit: string; json?: boolean }) => {
      const query = new URLSearchParams({ limit: flags.limit });
      if (flags.since !== undefined) query.set('since', flags.since);
      if (flags.until !== undefined) query.set('until', flags.until);
      if (flags.version !== undefined) query.set('version', flags.version);
      const result = await call(`${flags.url.replace(/\/$/, '')}/v1/models/${encodeURIComponent(model)}/predictions?${query}`, undefined, io);
      if (!result.ok) return setExitCode(1);
      const body = result.body as { predictions: unknown[] };
      io.stdout.write(flags.json === true ? `${JSON.stringify(body, null, 2)}\n` : body.predictions.map((p) => `${JSON.stringify(p)}\n`).join(''));
      setExitCode(0);
    });

  program
    .command('log-level')
    .description('Print the log level of a running server, or set it (takes effect at once, until restart).')
    .argument('[level]', 'fatal|error|warn|info|debug|trace|silent')
    .addOption(new Option('--url <url>', 'server to ask').default(DEFAULT_URL).env('SIBYL_URL'))
    .action(async (level: string | undefined, flags: { url: string }) => {
      const url = `${flags.url.replace(/\/$/, '')}/v2/logging`;
      const init = level === undefined ? undefined : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ level }) };
      const result = await call(url, init, io);
      if (!result.ok) return setExitCode(1);
      io.stdout.write(`${(result.body as { level: string }).level}\n`);
      setExitCode(0);
    });
}
