// The `sibyl` command line. Commands parse flags and hand them to the server's compile step;
// they hold no logic of their own.
import { Command, Help, Option } from 'commander';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/validate.ts';
import { SERVE_FLAGS, serverEnvironmentVariables } from '../config/server-config.ts';
import { serve } from './serve.ts';
import { registerEndpointsCommand } from './endpoints-command.ts';
import { registerModelsCommand } from './models-command.ts';
import { registerStateCommands } from './state-command.ts';
import { registerAdminCommands } from './admin-commands.ts';
import { registerBatchRunCommand } from './batch-command.ts';
import { registerBatchOpsCommands } from './batch-ops-command.ts';
import { registerWorkerCommand } from './worker-command.ts';
import { registerBatchLookupCommand } from './batch-lookup-command.ts';
import { registerAuthCommand } from './auth-command.ts';

/** The example model repository shipped in this repository: the default `--model-repository`. */
export const EXAMPLE_REPOSITORY = fileURLToPath(new URL('../../../../examples/models', import.meta.url));

/** `sibyl serve --help`'s line for each of SERVE_FLAGS (a test checks none is missing). */
export const FLAG_HELP: Record<string, string> = {
  '--model-repository': 'model repository folder: <dir>/<model>/<version>/model.onnx (default: the bundled examples)',
  '--host': 'address to listen on (default: 127.0.0.1)',
  '--http-port': 'HTTP port; 0 picks a free one (default: 8000)',
  '--log-level': 'fatal|error|warn|info|debug|trace|silent (default: info)',
  '--drain-timeout-ms': 'on SIGTERM/SIGINT, the most time the drain may take, grace period included (default: 30000)',
  '--shutdown-grace-period-ms': 'on SIGTERM, how long new requests get 503 (readiness false) before the listeners close; part of the drain (default: 5000)',
  '--request-timeout-ms': "deadline for requests that set none (Triton's timeout parameter); 0: none (default: 60000)",
  '--http-body-limit-bytes': 'largest request body; larger ones get 413 (default: 67108864)',
  '--model-control-mode': 'none: read the repository once; poll: follow its changes; explicit: load and unload through the API (default: none)',
  '--repository-poll-interval-ms': 'poll mode: time between repository scans (default: 5000)',
  '--load-model': "explicit mode: a model to load at start-up, '*' for all; repeat for several",
  '--max-loaded-models': 'most model versions loaded at once; least recently used ones unload and load again on demand; 0: no limit (default: 0)',
  '--memory-budget-bytes': 'most memory of loaded versions (model file size x instances, or memoryBytes); 0: none (default: 0)',
  '--model-load-concurrency': 'model versions loading at the same time (default: 2)',
  '--state-store': "SQLite file keeping labels, explicit loads and last known good versions; ':memory:' for none (default: .sibyl/state.sqlite)",
  '--response-cache': 'memory or redis: where cached answers of models with responseCache live (default: memory)',
  '--response-cache-redis-url': 'the Redis server of --response-cache redis (default: redis://127.0.0.1:6379)',
  '--metrics-port': 'also serve GET /metrics on this port (default: only on the HTTP port)',
  '--access-log': 'true: one log line per HTTP request, written asynchronously (default: false)',
  '--prediction-log-sink': 'sqlite|jsonl|postgres: where sampled prediction records go (default: sqlite)',
  '--prediction-log-path': 'file of the sqlite or jsonl sink (default: ./sibyl-predictions.sqlite or .jsonl)',
  '--prediction-store': 'sqlite|postgres: where batch predictions are stored and looked up (default: sqlite)',
  '--prediction-store-path': "sqlite: the prediction store's file; ':memory:' for none (default: .sibyl/predictions.sqlite)",
  '--prediction-store-url': 'postgres: the connection string of the prediction store (default: the PG* environment variables)',
  '--http-cors-origins': 'comma-separated origins whose web pages may call the HTTP API; * for any (default: none)',
  '--http-allowed-hosts': 'comma-separated names clients reach the server by (Host header; DNS rebinding defence); *.example.com for subdomains, * for any (default: loopback names on loopback, any elsewhere)',
  '--http-allowed-origins': "comma-separated origins of web pages that may post to the API besides the server's own and --http-cors-origins; * turns the check off (default: none)",
  '--http-inflight-body-bytes': 'memory request bodies may take at once over all HTTP requests: a JSON body counts 14x its size, binary tensor data 2x (gzip counted inflated); more get 503 with Retry-After (default: 1/16 of memory, at least 14 x --http-body-limit-bytes)',
  '--http-headers-timeout-ms': "most time a client may take to send a request's headers; then 408 and the connection closes (default: 10000)",
  '--http-request-receive-timeout-ms': 'most time a client may take to send a whole request, headers and body; then 408 and the connection closes (default: 60000)',
  '--http-keep-alive-timeout-ms': "how long an idle keep-alive connection stays open; keep it above a load balancer's idle timeout (default: 72000)",
  '--grpc-port': 'gRPC port (Open Inference Protocol, health, reflection); 0 picks a free one (default: 8001)',
  '--grpc-max-message-bytes': 'largest gRPC message received or sent (default: 67108864)',
  '--batch-max-running-jobs': 'batch jobs running at once in this server; later ones wait as queued (default: 2)',
  '--batch-max-queued-jobs': 'batch jobs waiting as queued; more get 429 with Retry-After (default: 100)',
  '--tls-cert-file': "PEM certificate chain: every listener (HTTP, metrics, gRPC) speaks TLS; reloaded when the file changes (default: no TLS)",
  '--tls-key-file': 'PEM private key of --tls-cert-file',
  '--tls-ca-file': 'PEM CA certificates client certificates are verified against (mTLS)',
  '--tls-client-certificates': 'none, request or require a client certificate verified against --tls-ca-file (default: none)',
  '--allow-unauthenticated': 'start on a non-loopback host with no authentication configured; logged as a warning (default: false)',
  '--management-port': 'serve the management API only on this port; the main port answers it 404 (default: everything on the main port)',
  '--audit-file': 'also append each audit record (management actions) to this JSON Lines file',
};

/**
 * `sibyl bench` is the load generator of @sibyl/bench. `sibyl --help` lists it with this line; its
 * flags, help and action load only when it is the command (`sibyl bench …`, `sibyl help bench`),
 * so the load generator adds nothing to the start-up of `sibyl serve`.
 */
const BENCH_DESCRIPTION = 'Load-test a model on any Open Inference Protocol (KServe V2) server and report throughput and latency.';

async function addBenchCommand(program: Command, argv: readonly string[], setExitCode: (code: number) => void): Promise<void> {
  const command = program.command('bench').description(BENCH_DESCRIPTION);
  // Its flags are not loaded here: list it as `bench [options]` all the same.
  const help = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => (cmd === command ? 'bench [options]' : help.subcommandTerm(cmd)) });
  const [first, second] = argv.slice(2);
  if (first !== 'bench' && !(first === 'help' && second === 'bench')) return;
  const { configureBenchCommand } = await import('@sibyl/bench/command');
  configureBenchCommand(command, setExitCode);
}

/** Flags that may be given several times; their values are collected into a list. */
const REPEATABLE = new Set(['--load-model']);

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('sibyl').description('Sibyl: serves ONNX models over the Open Inference Protocol (KServe V2).').showHelpAfterError();
  program.exitOverride();

  const serveCommand = program
    .command('serve')
    .description('Serve the models of a model repository over HTTP and gRPC.')
    .addOption(new Option('--config <file>', 'sibyl.yaml with any of the settings below').env('SIBYL_CONFIG'));
  for (const { flag } of SERVE_FLAGS) {
    const name = flag.split(' ')[0]!;
    const option = new Option(flag, FLAG_HELP[name] ?? '');
    if (REPEATABLE.has(name)) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    serveCommand.addOption(option);
  }
  serveCommand.addHelpText(
    'after',
    [
      '',
      'Every setting can also come from the environment or from the --config file.',
      'Precedence: flags > environment > file > defaults.',
      '',
      'Environment variables:',
      ...serverEnvironmentVariables().map((v) => `  ${v.name.padEnd(30)} ${v.path}`),
      '  SIBYL_CONFIG                   the --config file',
    ].join('\n'),
  );
  let exitCode = 0;
  serveCommand.action(async (flags: Record<string, string | string[] | undefined>) => {
    exitCode = await serve(flags, EXAMPLE_REPOSITORY);
  });
  await addBenchCommand(program, argv, (code) => (exitCode = code));
  registerModelsCommand(program, (code) => (exitCode = code));
  registerEndpointsCommand(program, (code) => (exitCode = code));
  registerStateCommands(program, (code) => (exitCode = code));
  registerAdminCommands(program, (code) => (exitCode = code));
  registerBatchRunCommand(program, EXAMPLE_REPOSITORY, (code) => (exitCode = code));
  registerBatchOpsCommands(program, (code) => (exitCode = code));
  registerWorkerCommand(program, EXAMPLE_REPOSITORY, (code) => (exitCode = code));
  registerAuthCommand(program, (code) => (exitCode = code));
  // After every other `batch` subcommand: it joins the group they made.
  registerBatchLookupCommand(program, (code) => (exitCode = code));

  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return 2;
    if (err instanceof ConfigError) {
      process.stderr.write(`sibyl: configuration error\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return exitCode;
}
