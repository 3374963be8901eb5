// The management API's JSON: what Sibyl's model, endpoint, batch, state and logging routes take
// and answer. Server routes are typed with these shapes and the client (and the CLI through it)
// reads them, so the two cannot drift apart. Versions travel as decimal strings, as everywhere in
// V2. Times are epoch ms (`…Ms`) or ISO 8601 strings (`…At`), as each field says.

// ── Models: /v2/repository/… ───────────────────────────────────────────────────────────────

/** A version's lifecycle state. */
export type ModelVersionState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

/** Where a label's current target was set: the model's config.yaml or the management API. */
export type LabelSource = 'config' | 'api';

/** A label: the version it points at, and the versions it pointed at before (oldest first). */
export interface ModelLabelJson {
  version: string;
  source: LabelSource;
  history: string[];
}

/** One version of a model in the management API. */
export interface ModelVersionJson {
  version: string;
  state: ModelVersionState;
  /** Empty when READY and nothing is amiss; otherwise why. */
  reason: string;
  /** Duration of the last successful load, warm-up included, in ms; null before one. */
  load_ms: number | null;
  loads_on_demand: boolean;
  /** Set when its signature keeps it from the default traffic. */
  incompatible_signature: string | null;
}

/** GET /v2/repository/models/{m}: a model with its versions and labels. */
export interface ModelStatusJson {
  name: string;
  /** Whether the server wants it loaded (explicit mode). */
  wanted: boolean;
  /** The version requests without a version or label go to; null when none. */
  default_version: string | null;
  /** A problem of the model as a whole, else ''. */
  problem: string;
  warnings: string[];
  labels: Record<string, ModelLabelJson>;
  versions: ModelVersionJson[];
}

/** GET /v2/repository/models. */
export interface ModelListJson {
  models: ModelStatusJson[];
}

/** GET /v2/repository/models/{m}/labels. */
export interface ModelLabelsJson {
  name: string;
  labels: Record<string, ModelLabelJson>;
}

/** PUT /v2/repository/models/{m}/labels/{label}: the body. A version number or its decimal string. */
export interface LabelMoveRequestJson {
  version: number | string;
}

/** PUT /v2/repository/models/{m}/labels/{label}: the label after the move. */
export interface LabelMoveJson {
  name: string;
  label: string;
  version: string;
  source: LabelSource;
  history: string[];
}

/** POST /v2/repository/models/{m}/labels/{label}/rollback. */
export interface LabelRollbackJson {
  name: string;
  label: string;
  version: string;
  previous_version: string;
}

/** POST /v2/repository/models/{m}/load: the body (Triton's form: `config` is a model config as a JSON string). */
export interface ModelLoadRequestJson {
  parameters?: { config?: string | Record<string, unknown> };
}

/** POST /v2/repository/models/{m}/unload: the body. */
export interface ModelUnloadRequestJson {
  parameters?: { unload_dependents?: boolean };
}

/** What load, unload, label deletion and state restore answer: an empty object. */
export type EmptyJson = Record<string, never>;

/** GET and PUT /v2/repository/state: the state store's export (`sibyl snapshot`). */
export interface StateSnapshotJson {
  format: 'sibyl-state';
  formatVersion: 1;
  /** ISO 8601 time of the export. */
  exportedAt: string;
  /** namespace → key → value. */
  entries: Record<string, Record<string, unknown>>;
}

// ── Logging and observability ──────────────────────────────────────────────────────────────

/** The log levels, least to most severe, and silent. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** GET /v2/logging, the body of POST /v2/logging, and its answer. */
export interface LogLevelJson {
  level: LogLevel;
}

/** A tensor as the prediction log keeps it (data absent when dropped, hex HMACs when hashed). */
export interface LoggedTensorJson {
  name: string;
  datatype: string;
  shape: number[];
  data?: (number | string | boolean)[];
  redaction?: 'dropped' | 'hashed';
}

/** One record of the prediction log. */
export interface PredictionLogRecordJson {
  timeMs: number;
  model: string;
  version: string;
  requestId: string;
  /** The authenticated caller's id; absent when authentication is off. */
  principal?: string;
  id?: string;
  latencyMs: number;
  outcome: 'success' | 'error';
  error?: { code: string; reason: string };
  inputs: LoggedTensorJson[];
  outputs: LoggedTensorJson[];
}

/** GET /v1/models/{m}/predictions. */
export interface PredictionLogJson {
  model: string;
  predictions: PredictionLogRecordJson[];
}

// ── Endpoints: /v1/endpoints ───────────────────────────────────────────────────────────────

/** A row of GET /v1/endpoints. */
export interface EndpointSummaryJson {
  name: string;
  /** The traffic policy kind: target, split, canary, blueGreen, cascade, hybrid. */
  policy: string;
  /** Where it was set: sibyl.yaml or the API. */
  source: 'file' | 'api';
  description: string;
}

/** GET /v1/endpoints. */
export interface EndpointListJson {
  endpoints: EndpointSummaryJson[];
}

/** What one arm (a target of the policy) did. */
export interface EndpointArmJson {
  requests: number;
  errors: number;
  clientErrors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  feedback: { outcomes: number; successes: number; rate: number | null };
  /** Outcome rate against the first arm (two-proportion test); absent on the first arm. */
  versusControl?: { difference: number; z: number; pValue: number; significant: boolean };
}

/** A canary's progress. */
export interface CanaryReportJson {
  /** running, paused, promoted, rolled-back, … */
  status: string;
  /** 1-based stage. */
  stage: number;
  /** The candidate's share at each stage, in percent. */
  stages: number[];
  /** 0..1. */
  candidateShare: number;
  stageStartedAt: string;
  stable: string;
  candidate: string;
  history: { at: string; from: string; to: string; reason: string }[];
}

/** POST /v1/endpoints/{e}/switch, and a blue-green endpoint's state. */
export interface BlueGreenReportJson {
  active: 'blue' | 'green';
  blue: string;
  green: string;
}

export interface ShadowReportJson {
  target: string;
  fraction: number;
  sent: number;
  dropped: number;
  failed: number;
  compared: number;
  rows: number;
  sameTopClassRate: number | null;
  maxAbsDiff: number | null;
  meanMaxAbsDiff: number | null;
}

export interface CascadeReportJson {
  stages: { target: string; threshold: number | null; rowsIn: number; answered: number }[];
}

export interface HybridReportJson {
  target: string;
  storedModel: string;
  /** Where the key comes from: {parameter}, {header} or {input}. */
  key: Record<string, string>;
  maxAgeMs: number;
  hasDefault: boolean;
  /** Answers by source: store, live, default, none. */
  bySource: Record<string, number>;
  answers: { source: string; reason: string; count: number }[];
}

/** GET and PUT /v1/endpoints/{e}: the endpoint report. */
export interface EndpointReportJson {
  name: string;
  description: string;
  source: 'file' | 'api';
  policy: string;
  /** The endpoint's configuration as given (the fields of endpoints.<name>). */
  config: unknown;
  arms: Record<string, EndpointArmJson>;
  canary?: CanaryReportJson;
  blueGreen?: BlueGreenReportJson;
  shadow?: ShadowReportJson;
  cascade?: CascadeReportJson;
  hybrid?: HybridReportJson;
  fallback: { answered: number; byReason: Record<string, number> };
  /** Circuit breaker mode by target: closed, open, half-open. */
  breakers: Record<string, string>;
}

/** DELETE /v1/endpoints/{e}: what became of it (removed, or the file's definition applies again). */
export interface EndpointDeleteJson {
  result: string;
}

/** The canary actions of POST /v1/endpoints/{e}/canary/{action}; they answer a CanaryReportJson. */
export type CanaryAction = 'promote' | 'rollback' | 'pause' | 'resume';

/** The body of a canary action: why, for its history. */
export interface CanaryActionRequestJson {
  reason?: string;
}

/** POST /v1/endpoints/{e}/switch: the body; without `to`, switches to the other colour. */
export interface BlueGreenSwitchRequestJson {
  to?: 'blue' | 'green';
}

/** POST /v1/endpoints/{e}/switch: the colour that answers now. */
export interface BlueGreenSwitchJson {
  active: 'blue' | 'green';
}

/** One outcome: whether the answer with this response id led to the outcome. */
export interface FeedbackItemJson {
  id: string;
  outcome: boolean | 0 | 1;
}

/** POST /v1/endpoints/{e}/feedback: one item, or several. */
export type FeedbackRequestJson = FeedbackItemJson | { feedback: FeedbackItemJson[] };

/** POST /v1/endpoints/{e}/feedback: the arm each id was recorded for, and the ids no arm answered. */
export interface FeedbackJson {
  recorded: { id: string; arm: string }[];
  unmatched: string[];
}

// ── Batch jobs: /v1/batch/… and stored predictions: /v1/predictions/… ──────────────────────

export type BatchJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A running job's live progress. */
export interface BatchJobProgressJson {
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  chunksCommitted: number;
  chunksTotal: number | null;
  rowsTotal: number | null;
  elapsedMs: number;
  rowsPerSecond: number;
  /** Seconds to go at the current rate, when the total is known. */
  etaSeconds: number | null;
  /** 0..1, when the total is known. */
  fraction: number | null;
}

/** A batch job: its record, and while it runs in the server, its queue position or progress. */
export interface BatchJobJson {
  id: string;
  /** The job's name (from its spec); schedules run the same name many times. */
  name: string;
  status: BatchJobStatus;
  /** The job spec as given. */
  spec: unknown;
  /** Where it was started: cli, api, schedule:<name>, distributed. */
  origin: string;
  createdAtMs: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  chunksCommitted: number;
  /** Chunks in the source, once known (the end of the source was reached). */
  chunksTotal?: number;
  /** Why the job failed or was cancelled. */
  error?: string;
  /** While it is queued in this server: 1 for the next to start. */
  queuePosition?: number;
  progress?: BatchJobProgressJson;
}

/** POST /v1/batch/jobs: a job spec (the fields of a job.yaml), or a job file the server reads. */
export type BatchJobStartRequestJson = Record<string, unknown> | { jobFile: string };

/** GET /v1/batch/jobs (newest first). */
export interface BatchJobListJson {
  jobs: BatchJobJson[];
}

/** A schedule with its next and last runs. */
export interface BatchScheduleJson {
  name: string;
  cron: string;
  timezone: string;
  job: string;
  enabled: boolean;
  nextRunAtMs: number | null;
  lastRun: { jobId: string; startedAtMs: number; status: BatchJobStatus } | null;
  runningJobId: string | null;
  skippedRuns: number;
  lastSkippedAtMs: number | null;
  lastError: string | null;
}

/** GET /v1/batch/schedules. */
export interface BatchScheduleListJson {
  schedules: BatchScheduleJson[];
}

/** An output of a stored prediction. */
export interface StoredOutputJson {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | string | boolean)[];
}

/** GET /v1/predictions/{m}/{key}: a stored prediction, with the version and job that wrote it. */
export interface StoredPredictionJson {
  model: string;
  key: string;
  version: string;
  jobId: string;
  /** When it was written, ISO 8601, and the same as ms since the epoch. */
  createdAt: string;
  createdAtMs: number;
  /** How old it is, in ms, when answered. */
  ageMs: number;
  outputs: StoredOutputJson[];
}

/** Most keys one POST /v1/predictions/{m}/lookup may ask for (clients split longer lists). */
export const MAX_LOOKUP_KEYS = 1000;

/** POST /v1/predictions/{m}/lookup: the body. */
export interface PredictionLookupRequestJson {
  keys: string[];
}

/** POST /v1/predictions/{m}/lookup: the predictions found (in key order, each key once) and the keys without one. */
export interface PredictionLookupJson {
  model: string;
  predictions: StoredPredictionJson[];
  missing: string[];
}
