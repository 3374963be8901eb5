// Worker thread entry: a worker does not inherit the main thread's tsx loader, so register it
// here before loading the worker (as runtimes/onnx/onnx-worker-entry.js does).
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-worker.ts');
