// Writes customers.csv: the customer table of the nightly-scores example. Each customer has an id
// and the 32 numeric features the tabular_mlp example model reads (f0 … f31), drawn from a seeded
// generator, so the file is the same on every run.
//
//   npx tsx examples/nightly-scores/make-customers.ts [customers=200]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const customerId = (i: number): string => `cust-${String(i + 1).padStart(4, '0')}`;

/** The table as CSV text: a header, then one line per customer (features roughly normal, sd 2.5). */
export function customersCsv(customers: number, seed = 8): string {
  const random = seeded(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const lines = [['customer_id', ...FEATURES].join(',')];
  for (let i = 0; i < customers; i++) lines.push([customerId(i), ...FEATURES.map(() => (2.5 * normal()).toFixed(6))].join(','));
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const customers = Number(process.argv[2] ?? 200);
  const file = fileURLToPath(new URL('customers.csv', import.meta.url));
  writeFileSync(file, customersCsv(customers));
  console.log(`wrote ${customers} customers to ${file}`);
}
