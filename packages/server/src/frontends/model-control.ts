// Explicit model control (load, unload) and version labels, as the frontends ask for them. The
// one place that knows what the model manager offers today: until explicit model control and
// labels exist there (issue 4), loading and unloading are refused as NOT_SUPPORTED and no
// label names a version.
import { SibylError } from '@sibyl/protocol';
import type { ModelManager } from '../models/model-manager.ts';

/** How a request names a version: by number, by label, or neither (the server's choice). */
export interface VersionSelector {
  version?: string;
  label?: string;
}

/** The version number (as text) a selector names; undefined for the server's choice. @throws VERSION_NOT_FOUND for a label. */
export function versionOf(models: ModelManager, model: string, selector: VersionSelector): string | undefined {
  models.status(model); // MODEL_NOT_FOUND first, as for a numbered version
  if (selector.label === undefined) return selector.version === '' ? undefined : selector.version;
  throw new SibylError('VERSION_NOT_FOUND', `model '${model}' has no version labelled '${selector.label}': this server defines no version labels`);
}

const NO_CONTROL = 'explicit model control is not available: models are loaded from the repository at start-up';

/** Loads (or reloads) a model. @throws SibylError. */
export async function loadModel(models: ModelManager, model: string): Promise<void> {
  models.status(model);
  throw new SibylError('NOT_SUPPORTED', `cannot load model '${model}': ${NO_CONTROL}`);
}

/** Unloads a model. @throws SibylError. */
export async function unloadModel(models: ModelManager, model: string): Promise<void> {
  models.status(model);
  throw new SibylError('NOT_SUPPORTED', `cannot unload model '${model}': ${NO_CONTROL}`);
}
