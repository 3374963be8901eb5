// A bench worker thread: runs one LocalShare on command from worker-share.ts (see its message
// contract). Prepared request bytes arrive as Uint8Arrays (structured clone drops Buffer).
import { parentPort } from 'node:worker_threads';
import { LocalShare } from './load-share.ts';
import type { ShareSpec } from './load-share.ts';
import type { FromWorker, ToWorker } from './worker-share.ts';

const port = parentPort!;
const send = (m: FromWorker): void => port.postMessage(m);
let share: LocalShare | undefined;

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'start': {
      const spec: ShareSpec = {
        ...m.spec,
        requests: m.spec.requests.map((r) => ({ rows: r.rows, bytes: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength) })),
      };
      share = new LocalShare(spec);
      break;
    }
    case 'progress':
      send({ type: 'progress', progress: share!.progress() });
      break;
    case 'cut':
      share?.cut(m.atEpochMs);
      break;
    case 'stop':
      void share!.stop().then((result) => send({ type: 'result', result }));
      break;
  }
});
send({ type: 'ready' });
