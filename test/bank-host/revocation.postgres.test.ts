// The revocation suite on PostgreSQL: the same tests, each host on a fresh database of a three-node Patroni
// cluster (test/helpers/store-backend.ts).
import '../helpers/use-postgres.js';
import './revocation.test.js';
