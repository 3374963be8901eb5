// A model's drift monitoring settings (its config.yaml `drift:` section).
import Type, { type Static } from 'typebox';
import { fieldDefault } from './schema-defaults.ts';

export const DriftModelSchema = Type.Object(
  {
    baselineFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Reference data (CSV with a header row, relative to the model's folder and inside it: absolute paths, `..` leading out and links to files outside are refused): one column per input feature, in the order of the inputs and of their elements. Without it, the first baselineRows rows of traffic become the baseline.",
      }),
    ),
    baselineRows: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000_000, default: 1000, description: 'Rows of live traffic that form the baseline when there is no baselineFile.' })),
    windowRows: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000_000, default: 1000, description: 'Rows per window of live traffic compared with the baseline.' })),
    bins: Type.Optional(Type.Integer({ minimum: 2, maximum: 100, default: 10, description: 'Bins per numeric feature for PSI, at baseline quantiles.' })),
    psiThreshold: Type.Optional(Type.Number({ minimum: 0, default: 0.2, description: 'PSI above which a window raises a warning.' })),
    ksThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.2, description: 'Kolmogorov–Smirnov statistic above which a window raises a warning.' })),
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

/** The defaults compileModelDrift fills in, read from the schema. */
const DEFAULT = {
  baselineRows: fieldDefault<number>(DriftModelSchema, 'baselineRows'),
  windowRows: fieldDefault<number>(DriftModelSchema, 'windowRows'),
  bins: fieldDefault<number>(DriftModelSchema, 'bins'),
  psiThreshold: fieldDefault<number>(DriftModelSchema, 'psiThreshold'),
  ksThreshold: fieldDefault<number>(DriftModelSchema, 'ksThreshold'),
};

export function compileModelDrift(doc: Static<typeof DriftModelSchema> | undefined, resolvePath: (file: string) => string): ModelDriftConfig | undefined {
  if (doc === undefined) return undefined;
  return Object.freeze({
    baselineFile: doc.baselineFile === undefined ? undefined : resolvePath(doc.baselineFile),
    baselineRows: doc.baselineRows ?? DEFAULT.baselineRows,
    windowRows: doc.windowRows ?? DEFAULT.windowRows,
    bins: doc.bins ?? DEFAULT.bins,
    psiThreshold: doc.psiThreshold ?? DEFAULT.psiThreshold,
    ksThreshold: doc.ksThreshold ?? DEFAULT.ksThreshold,
  });
}
