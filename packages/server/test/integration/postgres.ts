// The PostgreSQL server of the integration tests: SIBYL_TEST_POSTGRES_URL, default the local one
// (trust auth, database test; see the README for starting it).
export const POSTGRES_URL = process.env.SIBYL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
