// The audit log: one record per management action — who (the principal, or `anonymous` when
// authentication is off), what (the action: `POST /v2/repository/models/:model/load`, a gRPC
// method), the target (the route's parameters: model, label, endpoint, job id), when, and the
// result (the status sent, and the error reason). Written as a log line (a pino child with
// `audit: true`) and, when configured, appended to a JSON Lines file. A record never holds a
// request body, a header or a credential: only the names above.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

export interface AuditRecord {
  /** ISO time the action ended. */
  readonly time: string;
  /** The principal id; `anonymous` when authentication is off. */
  readonly principal: string;
  /** The entry: http, grpc, embedded. */
  readonly entry: string;
  /** `METHOD /route/pattern` (HTTP) or the gRPC method. */
  readonly action: string;
  /** The route's parameters (model, version, label, endpoint, job id): what the action was on. */
  readonly target: Readonly<Record<string, string>>;
  /** HTTP status, or the gRPC status code's HTTP equivalent. */
  readonly status: number;
  /** The error reason when it failed. */
  readonly reason?: string;
  readonly requestId?: string;
}

export interface AuditLog {
  record(record: AuditRecord): void;
  close(): Promise<void>;
}

export interface AuditLogOptions {
  readonly log: Logger;
  /** JSON Lines file records are appended to (its folder is created). */
  readonly file?: string;
}

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const log = options.log.child({ audit: true });
  let stream: WriteStream | undefined;
  if (options.file !== undefined) {
    mkdirSync(dirname(options.file), { recursive: true });
    stream = createWriteStream(options.file, { flags: 'a', mode: 0o600 });
    stream.on('error', (err) => log.error({ err }, `the audit file ${options.file} cannot be written: ${err.message}`));
  }
  return {
    record(record: AuditRecord): void {
      log.info({ ...record }, `audit: ${record.principal} ${record.action} → ${record.status}`);
      stream?.write(`${JSON.stringify(record)}\n`);
    },
    close(): Promise<void> {
      const s = stream;
      stream = undefined;
      return s === undefined ? Promise.resolve() : new Promise((resolve) => s.end(() => resolve()));
    },
  };
}

/** Route parameters as a target: strings only, nothing else of the request. */
export function auditTarget(params: unknown): Record<string, string> {
  if (params === null || typeof params !== 'object') return {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params as Record<string, unknown>)) if (typeof value === 'string') out[key === '*' ? 'path' : key] = value;
  return out;
}
