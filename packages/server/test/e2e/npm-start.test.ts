// End to end: `npm start` (npm → node, the server) passes SIGTERM on to the server, which drains
// and exits; npm exits after it. Issue 13: with `"start": "sibyl serve"`, npm's SIGTERM stopped the
// `sh -c` between them and left the server running.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { linearClassifierModel, makeTempDir, readJsonLines, removeDir, writeModelRepository } from '../../src/testing/index.ts';
import { LINEAR_4X3 } from '../fixtures.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
let repo: string;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-e2e-npm-');
  await writeModelRepository(repo, { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
});

afterAll(async () => {
  await removeDir(repo);
});

/** Whether a process exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('SIGTERM to npm start reaches the server: it shuts down, then npm exits', async () => {
  const npm = spawn('npm', ['start', '--', '--model-repository', repo, '--http-port', '0', '--grpc-port', '0', '--state-store', ':memory:', '--shutdown-grace-period-ms', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  readJsonLines(npm.stdout!, () => undefined, (entry) => logs.push(entry));
  // 'exit', not 'close': a server left running would hold the output pipes open.
  const npmExited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  const outputEnded = new Promise<void>((resolve) => npm.stdout!.once('end', () => resolve()));
  let serverPid: number | undefined;
  try {
    // The log line that gives the server's url carries its pid.
    serverPid = await vi.waitFor(
      () => {
        const pid = logs.find((l) => typeof l.pid === 'number' && typeof l.url === 'string')?.pid as number | undefined;
        expect(pid).toBeGreaterThan(0);
        return pid!;
      },
      { timeout: 60_000, interval: 50 },
    );
    npm.kill('SIGTERM');
    await npmExited;
    expect(alive(serverPid!)).toBe(false);
    await outputEnded;
    expect(logs.some((l) => l.msg === 'SIGTERM received')).toBe(true);
    expect(logs.find((l) => l.msg === 'shut down')).toMatchObject({ drained: true, released: true });
  } finally {
    // Whatever happened, nothing is left running.
    if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    if (npm.exitCode === null) npm.kill('SIGKILL');
  }
}, 120_000);
