// Writes customers.csv: the customer table of the nightly-scores example. Each customer has an id
// and the 32 numeric features the tabular_mlp example model reads (f0 … f31), drawn from a seeded
// generator, so the file is the same on every run.
//
//   npx tsx examples/nightly-scores/make-customers.ts [customers=200]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@sibyl/server/testing';

export const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);

export const customerId = (i: number): string => `cust-${String(i + 1).padStart(4, '0')}`;

/** The table as CSV text: a header, then one line per customer (features roughly normal, sd 2.5). */
export function customersCsv(customers: number, seed = 8): string {
  const random = seededRandom(seed);
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
