// Worker thread entry: the server runs TypeScript through tsx without a build step, and a worker
// does not inherit the main thread's loader, so register it here before loading the worker.
import { register } from 'tsx/esm/api';

register();
await import('./onnx-worker.ts');
