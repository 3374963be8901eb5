// What the `conformance` test project needs from the machine, and the check that it is there.
// These suites drive software the repository cannot ship (Debian's Chromium; Debian's python3
// with grpcio, grpc_tools and protobuf), so they stay out of `npm test`; `.ci/run` installs the
// packages and runs them with `npm run test:conformance`, which fails (never skips) without them.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ConformanceTools {
  /** A Chromium for playwright-core to launch. */
  chromium: string;
  /** A python3 that imports grpc, grpc_tools and google.protobuf. */
  python: string;
}

/** Debian's paths; SIBYL_TEST_CHROMIUM / SIBYL_TEST_PYTHON point elsewhere. */
export function conformanceTools(env: NodeJS.ProcessEnv = process.env): ConformanceTools {
  return { chromium: env.SIBYL_TEST_CHROMIUM ?? '/usr/bin/chromium', python: env.SIBYL_TEST_PYTHON ?? '/usr/bin/python3' };
}

const INSTALL = 'apt-get install chromium python3-grpcio python3-grpc-tools python3-protobuf (.ci/run does)';

/** One sentence per missing tool, saying what is missing and how to install it; empty when all are there. */
export async function missingConformanceTools(tools: ConformanceTools): Promise<string[]> {
  const missing: string[] = [];
  try {
    await access(tools.chromium, constants.X_OK);
  } catch {
    missing.push(`no executable Chromium at ${tools.chromium} (the browser conformance test launches it)`);
  }
  try {
    await run(tools.python, ['-c', 'import grpc, grpc_tools, google.protobuf'], { timeout: 30_000 });
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n').filter((l) => l.trim() !== '').pop() : String(err);
    missing.push(`${tools.python} cannot import grpc, grpc_tools and google.protobuf (the stock gRPC client test runs them): ${why}`);
  }
  return missing.map((m) => `${m}; install with: ${INSTALL}`);
}
