// What clients see when a running `sibyl serve` gets SIGTERM: requests in flight on keep-alive
// connections when the signal is sent, then new requests during the grace period. Shared by the
// end-to-end test (test/e2e/sigterm-drain.test.ts) and the benchmark (bench/sigterm-drain.ts).
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { SpawnedServer } from './test-server.ts';

export interface DrainProbeOptions {
  /** A server started with the grace period under test, serving `model`. */
  server: SpawnedServer;
  model: string;
  /** A V2 JSON inference request body for `model`. */
  body: string;
  /** Requests sent before the signal, over `connections` keep-alive connections. */
  inFlight: number;
  /**
   * Keep-alive connections they share (default: one each). With fewer, the client queues the rest
   * and writes each on a connection as soon as its previous answer arrives, as connection pools do.
   */
  connections?: number;
  /** Requests sent on new connections once readiness says 503 (during the grace period). */
  afterSignal: number;
}

/** How many requests ended in each way: an HTTP status ('200', '503') or an error code ('ECONNRESET'). */
export type Outcomes = Record<string, number>;

export interface DrainProbeResult {
  /** Requests sent before SIGTERM (the first `connections` of them fully written). None may end in a connection error. */
  beforeSignal: Outcomes;
  /** Requests sent during the grace period. */
  afterSignal: Outcomes;
  /** After-signal answers without `Connection: close` (they are sent as keep-alive requests). */
  keptAlive: number;
  /** `reason` of the after-signal 503 answers, by count. */
  reasons: Outcomes;
  /** Readiness status seen after the signal ('503', or an error code if the listener was already gone). */
  readiness: string;
  /** Time from SIGTERM until the first after-signal request was answered, ms (-1 when none). */
  firstAfterSignalMs: number;
  exitCode: number | null;
  /** From SIGTERM to the process's exit, ms. */
  exitMs: number;
}

interface Answer {
  outcome: string;
  headers: IncomingHttpHeaders | undefined;
  body: string;
  /** performance.now() when the answer (or error) arrived. */
  atMs: number;
}

function send(url: string, body: string, agent: Agent | false, written?: () => void): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    req.on('finish', () => written?.());
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ outcome: String(res.statusCode), headers: res.headers, body: text, atMs: performance.now() }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ outcome: err.code ?? err.message, headers: undefined, body: '', atMs: performance.now() }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ outcome: err.code ?? err.message, headers: undefined, body: '', atMs: performance.now() }));
    req.end(body);
  });
}

function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

function tally(answers: readonly Answer[]): Outcomes {
  const out: Outcomes = {};
  for (const a of answers) out[a.outcome] = (out[a.outcome] ?? 0) + 1;
  return out;
}

/**
 * Opens `connections` keep-alive connections (one request each, answered), sends `inFlight`
 * requests over them, sends SIGTERM once one per connection is fully written, waits for readiness
 * to say 503 (at most ~2 s), sends `afterSignal` keep-alive requests on new connections, and
 * waits for the process to exit.
 */
export async function probeDrain(options: DrainProbeOptions): Promise<DrainProbeResult> {
  const { server, model, body, inFlight, afterSignal } = options;
  const connections = Math.min(options.connections ?? inFlight, inFlight);
  const url = `${server.url}/v2/models/${model}/infer`;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const later = new Agent({ keepAlive: true });
  try {
    const warm = await Promise.all(Array.from({ length: connections }, () => send(url, body, agent)));
    if (warm.some((a) => a.outcome !== '200')) throw new Error(`warm-up requests failed: ${JSON.stringify(tally(warm))}`);

    let written = 0;
    let allWritten!: () => void;
    const whenWritten = new Promise<void>((resolve) => (allWritten = resolve));
    const before = Array.from({ length: inFlight }, () => send(url, body, agent, () => ++written === connections && allWritten()));
    await whenWritten;
    const signalAt = performance.now();
    server.process.kill('SIGTERM');

    let readiness = '200';
    for (let i = 0; i < 400 && readiness === '200'; i++) {
      readiness = await get(`${server.url}/v2/health/ready`);
      if (readiness === '200') await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const after = await Promise.all(Array.from({ length: afterSignal }, () => send(url, body, later)));
    const beforeAnswers = await Promise.all(before);
    const exitCode = await server.exited;
    const exitMs = performance.now() - signalAt;

    const reasons: Outcomes = {};
    for (const a of after) {
      if (a.outcome !== '503') continue;
      const reason = String((JSON.parse(a.body) as { reason?: unknown }).reason);
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    return {
      beforeSignal: tally(beforeAnswers),
      afterSignal: tally(after),
      keptAlive: after.filter((a) => a.headers !== undefined && a.headers.connection !== 'close').length,
      reasons,
      readiness,
      firstAfterSignalMs: after.length === 0 ? -1 : Math.min(...after.map((a) => a.atMs)) - signalAt,
      exitCode,
      exitMs,
    };
  } finally {
    agent.destroy();
    later.destroy();
  }
}
