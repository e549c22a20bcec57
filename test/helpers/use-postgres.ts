// Imported first by a *.postgres.test.ts file: the suite it imports next runs its hosts on PostgreSQL
// (test/helpers/store-backend.ts), and the file's cluster stops when its tests are done.
import test from 'ava';
import { stopSharedCluster } from './store-backend.js';

process.env.BANK_HOST_STORE = 'postgresql';

test.after.always(async () => {
  await stopSharedCluster();
});
