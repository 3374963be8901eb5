// What the machine offers, read once by the composition root and passed down (never read at
// import time, so tests can describe any machine).
import os from 'node:os';

export interface MachineInfo {
  /** Cores available to this process. */
  cpuCount: number;
}

export function readMachineInfo(): MachineInfo {
  return { cpuCount: Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length) };
}
