import { describeStorageConformance } from '@tributary/core/testing';
import { PostgresStorage } from '../src/index.js';
import { newStorage, testUrl } from './helpers.js';

// Every test gets a schema of its own (dropped after the file); reopen opens a second storage on
// the same schema, as a restarted broker or another broker would.
describeStorageConformance('postgres', () => newStorage(), {
  reopen: async (previous) => {
    const schema = (previous as PostgresStorage).schema;
    await previous.close();
    const next = new PostgresStorage({ connectionString: testUrl(), schema, poolSize: 4 });
    await next.open();
    return next;
  },
});
