// What a config override sent with a load request may change without the `admin` scope. The
// prediction log records other callers' inputs and outputs, so an override must not widen it:
// no higher sample rate than the model's config.yaml sets, and no field recorded more openly
// (drop → hash → keep) than there. Files an override names are checked elsewhere (they must stay
// in the model's folder: config/model-folder-file.ts); this rule is about scope only.
import type { FieldRule, ModelPredictionLogConfig } from '../config/prediction-log-config.ts';

/** How much of a value a rule lets into the log: keep shows it, hash a keyed digest, drop nothing. */
const OPENNESS: Readonly<Record<FieldRule, number>> = { drop: 0, hash: 1, keep: 2 };

/**
 * Why `override` records more than `base` (the model's own config), or undefined when it records
 * no more. Pure; the caller decides whether the principal may (admin).
 */
export function predictionLogWidening(base: ModelPredictionLogConfig, override: ModelPredictionLogConfig): string | undefined {
  if (override.sampleRate > base.sampleRate) {
    return `predictionLog.sampleRate ${override.sampleRate} is above the model's own ${base.sampleRate}`;
  }
  if (override.sampleRate === 0) return undefined; // nothing is recorded: no rule matters
  const ruleOf = (config: ModelPredictionLogConfig, name: string): FieldRule => config.fields[name] ?? config.defaultRule;
  if (OPENNESS[override.defaultRule] > OPENNESS[base.defaultRule]) {
    return `predictionLog.defaultRule ${override.defaultRule} records more than the model's own ${base.defaultRule}`;
  }
  for (const name of new Set([...Object.keys(base.fields), ...Object.keys(override.fields)])) {
    const was = ruleOf(base, name);
    const now = ruleOf(override, name);
    if (OPENNESS[now] > OPENNESS[was]) return `predictionLog.fields.${name} ${now} records more than the model's own ${was}`;
  }
  return undefined;
}
