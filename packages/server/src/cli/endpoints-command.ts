// `sibyl endpoints list|show|set|delete|switch|promote|rollback|pause|resume|feedback`: the
// endpoints of a running server through its management API (/v1/endpoints). Exit codes: 0 done,
// 1 the server refused or could not be reached (the message says why), 2 usage errors.
import type { SibylManagement } from '@sibyl/client';
import type { EndpointReportJson } from '@sibyl/protocol';
import type { Command } from 'commander';
import { CliError, managementAction, readDocumentFile, withUrl, type CliIo } from './management-action.ts';
import { formatTable } from './table.ts';

// A figure with nothing measured yet (no request, no outcome, no comparison) reads n/a, not blank.
const NONE = 'n/a';
const ms = (v: number | null): string => (v === null ? NONE : v.toFixed(2));
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? NONE : `${(v * 100).toFixed(1)}%`);

/** The report as text: the arms as a table, then the policy's own state. */
export function reportText(r: EndpointReportJson): string {
  const arms = formatTable(
    ['ARM', 'REQUESTS', 'ERRORS', 'P50_MS', 'P99_MS', 'OUTCOMES', 'RATE', 'VS_CONTROL'],
    Object.entries(r.arms).map(([name, a]) => [
      name,
      String(a.requests),
      String(a.errors),
      ms(a.p50Ms),
      ms(a.p99Ms),
      String(a.feedback.outcomes),
      pct(a.feedback.rate),
      a.versusControl === undefined ? NONE : `${a.versusControl.difference >= 0 ? '+' : ''}${pct(a.versusControl.difference)} p=${a.versusControl.pValue.toFixed(3)}${a.versusControl.significant ? ' significant' : ''}`,
    ]),
  );
  const lines = [`${r.name}: ${r.policy} (${r.source})${r.description === '' ? '' : ` — ${r.description}`}`, '', arms];
  if (r.canary !== undefined) {
    const c = r.canary;
    lines.push('', `canary: ${c.status}, stage ${c.stage} of ${c.stages.length} (${c.stages.join('% → ')}%), candidate ${c.candidate} gets ${pct(c.candidateShare)}; stable ${c.stable}`);
    for (const h of c.history) lines.push(`  ${h.at}  ${h.from} → ${h.to}: ${h.reason}`);
  }
  if (r.blueGreen !== undefined) lines.push('', `blue-green: ${r.blueGreen.active} answers (blue ${r.blueGreen.blue}, green ${r.blueGreen.green})`);
  if (r.shadow !== undefined) {
    const s = r.shadow;
    const agreement = s.compared === 0 ? 'no comparisons yet' : `${s.compared} compared, same top class ${pct(s.sameTopClassRate)}, max |diff| ${s.maxAbsDiff ?? NONE}`;
    lines.push('', `shadow ${s.target}: ${s.sent} sent, ${s.dropped} dropped, ${s.failed} failed; ${agreement}`);
  }
  if (r.cascade !== undefined) for (const [i, s] of r.cascade.stages.entries()) lines.push(`${i === 0 ? '\n' : ''}cascade stage ${i + 1} ${s.target}: ${s.rowsIn} rows in, ${s.answered} answered${s.threshold === null ? '' : ` (threshold ${s.threshold})`}`);
  if (r.hybrid !== undefined) {
    const h = r.hybrid;
    const [where, name] = Object.entries(h.key)[0] ?? ['key', '?'];
    lines.push('', `hybrid: stored ${h.storedModel} by ${where} ${name}, younger than ${h.maxAgeMs} ms, else live ${h.target}`);
    lines.push(`  answered by store ${h.bySource.store ?? 0}, live ${h.bySource.live ?? 0}, default ${h.bySource.default ?? 0}; unanswered ${h.bySource.none ?? 0}`);
  }
  if (r.fallback.answered > 0) lines.push('', `fallback answered ${r.fallback.answered}: ${Object.entries(r.fallback.byReason).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const open = Object.entries(r.breakers).filter(([, mode]) => mode !== 'closed');
  if (open.length > 0) lines.push(`breakers: ${open.map(([k, m]) => `${k} ${m}`).join(', ')}`);
  return lines.join('\n');
}

export function registerEndpointsCommand(program: Command, setExitCode: (code: number) => void, io: CliIo = process): Command {
  const endpoints = program.command('endpoints').description('Manage the endpoints of a running server: traffic policies, canaries, blue-green, feedback.');
  endpoints.addHelpText(
    'after',
    `
Every subcommand talks to a running 'sibyl serve' at --url (default: SIBYL_URL, else http://127.0.0.1:8000).

Examples:
  sibyl endpoints list
  sibyl endpoints set churn --file canary.yaml     # start a canary (YAML or JSON, the fields of endpoints.<name>)
  sibyl endpoints show churn                       # arms, stages, history
  sibyl endpoints rollback churn --reason "p99 regressed"
  sibyl endpoints switch web green                 # blue-green
  sibyl endpoints feedback churn <response id> true`,
  );

  const run = (fn: (server: SibylManagement, command: Command) => Promise<string>) => managementAction(io, setExitCode, fn);
  const show = async (server: SibylManagement, name: string, json: boolean | undefined): Promise<string> => {
    const r = await server.endpoints.get(name);
    return json === true ? JSON.stringify(r, null, 2) : reportText(r);
  };

  withUrl(endpoints.command('list').description('Every endpoint with its policy and where it was set.')).action(
    run(async (server) => {
      const list = await server.endpoints.list();
      return formatTable(['ENDPOINT', 'POLICY', 'SOURCE', 'DESCRIPTION'], list.map((e) => [e.name, e.policy, e.source, e.description]));
    }),
  );

  withUrl(endpoints.command('show').argument('<endpoint>').description('The endpoint report: arms, canary stages and history, shadow agreement, fallbacks.'))
    .option('--json', "print the server's JSON")
    .action(run(async (server, command) => show(server, command.args[0]!, command.opts<{ json?: boolean }>().json)));

  withUrl(endpoints.command('set').argument('<endpoint>').description('Set an endpoint from a file (YAML or JSON: the fields of endpoints.<name> in sibyl.yaml).'))
    .requiredOption('--file <file>', 'the endpoint configuration')
    .action(
      run(async (server, command) => {
        const document = await readDocumentFile(command.opts<{ file: string }>().file);
        const r = await server.endpoints.put(command.args[0]!, document);
        return reportText(r);
      }),
    );

  withUrl(endpoints.command('delete').argument('<endpoint>').description('Delete an endpoint set through the API (one of sibyl.yaml applies again).')).action(
    run(async (server, command) => {
      const result = await server.endpoints.delete(command.args[0]!);
      return `${command.args[0]}: ${result}`;
    }),
  );

  withUrl(endpoints.command('switch').argument('<endpoint>').argument('[colour]', 'blue or green (default: the other one)').description('Blue-green: switch which one answers, atomically.')).action(
    run(async (server, command) => {
      // A colour other than blue or green goes to the server as typed: its refusal says what it takes.
      const [name, to] = command.args as [string, 'blue' | 'green' | undefined];
      const active = await server.endpoints.switch(name, to);
      return `${name}: ${active} answers`;
    }),
  );

  for (const action of ['promote', 'rollback', 'pause', 'resume'] as const) {
    withUrl(endpoints.command(action).argument('<endpoint>').description(`Canary: ${action} now.`))
      .option('--reason <text>', 'recorded in the canary history')
      .action(
        run(async (server, command) => {
          const c = await server.endpoints.canary(command.args[0]!, action, command.opts<{ reason?: string }>().reason);
          const last = c.history.at(-1);
          return `${command.args[0]}: canary ${c.status}${last === undefined ? '' : ` (${last.from} → ${last.to}: ${last.reason})`}`;
        }),
      );
  }

  withUrl(endpoints.command('feedback').argument('<endpoint>').argument('<id>', "the response's id").argument('<outcome>', 'true or false').description('Record the outcome of an answered request for the arm that answered it.')).action(
    run(async (server, command) => {
      const [name, id, outcome] = command.args as [string, string, string];
      if (outcome !== 'true' && outcome !== 'false') throw new CliError(`outcome is ${JSON.stringify(outcome)}; expected true or false`);
      const { recorded } = await server.endpoints.feedback(name, { id, outcome: outcome === 'true' });
      return `${name}: outcome recorded for arm ${recorded[0]!.arm}`;
    }),
  );
  return endpoints;
}
