// Models shared by several test suites, with the values their expectations are computed from.

/** A 4-feature, 3-class linear classifier (see linearClassifierModel / linearClassifierExpected). */
export const LINEAR_4X3 = {
  weights: [
    [0.5, -1, 0.25],
    [1.5, 0.5, -0.75],
    [-0.5, 2, 1],
    [1, -0.25, 0.5],
  ],
  bias: [0.1, -0.2, 0.3],
} as const satisfies { weights: readonly (readonly number[])[]; bias: readonly number[] };
