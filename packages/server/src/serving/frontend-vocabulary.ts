// The words of the layers below that the frontends speak, named one by one (never `export *`):
// the types their routes translate to and from, and the few helpers they share with the rest of
// the server (a body's memory cost, cancellation, a preview of a bad value, the throttled log
// line). Adding a name here is a decision to widen what the frontends may reach.
export { bodyContentOf, bodyCostBytes, JSON_BODY, type BodyContent } from '../core/body-cost.ts';
export { CancelToken, type Cancellation } from '../core/cancellation.ts';
export type { Clock } from '../core/clock.ts';
export { preview } from '../core/errors.ts';
export type { EntryKind, Principal, RequestContext } from '../core/request-context.ts';
export { LOG_LEVELS } from '../config/server-config.ts';
export type { ModelStatus, VersionSelector } from '../models/model-manager.ts';
export type { ModelState } from '../models/model-state.ts';
export type { ServedVersion } from '../models/served-version.ts';
export type { Duration } from '../scheduling/statistics.ts';
export type { BatchJobManager } from '../batch/job-manager.ts';
export type { BatchScheduler } from '../batch/schedules.ts';
export type { DriftMonitor } from '../observability/drift/drift-monitor.ts';
export { UNTHROTTLED, type KeyedLineWriter } from '../observability/logging/throttled-log.ts';
export type { SibylMetrics } from '../observability/metrics/metrics.ts';
export type { PredictionLogger } from '../observability/prediction-log/prediction-logger.ts';
export type { Tracing } from '../observability/tracing/tracing.ts';
export { endpointReport } from '../routing/endpoint-report.ts';
export type { PredictionLookup, StoredPrediction } from '../routing/stored-prediction.ts';
export { requireScope, type AccessControl } from '../security/access-control.ts';
export { auditTarget, type AuditLog, type AuditRecord } from '../security/audit-log.ts';
export type { Authenticator, Credentials } from '../security/authenticator.ts';
export { grpcInferScope, grpcMethodAccess, httpRouteAccess, type RouteAccess } from '../security/route-scopes.ts';
