// The metrics suite on PostgreSQL (test/helpers/store-backend.ts), where the store's own figures join them.
import '../helpers/use-postgres.js';
import './metrics.test.js';
