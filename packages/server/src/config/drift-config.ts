// A model's drift monitoring settings (its config.yaml `drift:` section).
import Type, { type Static } from 'typebox';

export const DriftModelSchema = Type.Object(
  {
    baselineFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Reference data (CSV with a header row, relative to the model's folder and inside it: absolute paths, `..` leading out and links to files outside are refused): one column per input feature, in the order of the inputs and of their elements. Without it, the first baselineRows rows of traffic become the baseline.",
      }),
    ),
    baselineRows: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000_000, description: 'Rows of live traffic that form the baseline when there is no baselineFile. Default: 1000.' })),
    windowRows: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000_000, description: 'Rows per window of live traffic compared with the baseline. Default: 1000.' })),
    bins: Type.Optional(Type.Integer({ minimum: 2, maximum: 100, description: 'Bins per numeric feature for PSI, at baseline quantiles. Default: 10.' })),
    psiThreshold: Type.Optional(Type.Number({ minimum: 0, description: 'PSI above which a window raises a warning. Default: 0.2.' })),
    ksThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Kolmogorov–Smirnov statistic above which a window raises a warning. Default: 0.2.' })),
  },
  { additionalProperties: false, description: 'Compare live inputs and outputs with a baseline (PSI and Kolmogorov–Smirnov). Absent: off.' },
);

export interface ModelDriftConfig {
  /** Absolute path, or undefined: baseline from the first baselineRows rows. */
  readonly baselineFile: string | undefined;
  readonly baselineRows: number;
  readonly windowRows: number;
  readonly bins: number;
  readonly psiThreshold: number;
  readonly ksThreshold: number;
}

export function compileModelDrift(doc: Static<typeof DriftModelSchema> | undefined, resolvePath: (file: string) => string): ModelDriftConfig | undefined {
  if (doc === undefined) return undefined;
  return Object.freeze({
    baselineFile: doc.baselineFile === undefined ? undefined : resolvePath(doc.baselineFile),
    baselineRows: doc.baselineRows ?? 1000,
    windowRows: doc.windowRows ?? 1000,
    bins: doc.bins ?? 10,
    psiThreshold: doc.psiThreshold ?? 0.2,
    ksThreshold: doc.ksThreshold ?? 0.2,
  });
}
