// globalSetup of the `conformance` test project: stops the run before any test when the machine
// lacks what these suites drive, with one line per missing tool (a loud failure, not a skip).
import { conformanceTools, missingConformanceTools } from './conformance-tools.ts';

export default async function setup(): Promise<void> {
  const missing = await missingConformanceTools(conformanceTools());
  if (missing.length > 0) throw new Error(`the conformance tests cannot run on this machine:\n- ${missing.join('\n- ')}`);
}
