// The bench tool's public surface, for benchmark scripts (bench/) and programs that drive load.
// The command (`sibyl bench`, `sibyl-bench`) is the '@sibyl/bench/command' entry.
export { runBench } from './run-bench.ts';
export type { BenchHooks, BenchProgress } from './run-bench.ts';
export { BENCH_DEFAULTS, resolveBenchConfig } from './config.ts';
export type { Arrival, BenchConfig, BenchOptions, LoadMode } from './config.ts';
export { BenchError } from './errors.ts';
export type { BenchErrorKind } from './errors.ts';
export type { BenchResult, LatencySummary, TimelineEntry } from './result.ts';
export { formatSummary } from './summary.ts';
export { renderLatencyChart } from './svg-chart.ts';
export { Histogram, percentileOf } from './histogram.ts';
export type { HistogramData, SparseHistogram } from './histogram.ts';
