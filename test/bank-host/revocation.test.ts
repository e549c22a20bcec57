// Revocation is absolute (DESIGN §11, docs/protocol.md §9): once `device revoke` or `rotate` returns, no
// request made with the old key is applied or answered, whatever state its connection was in: a handshake
// the host had already handed the key to, or a request already inside the host. Over real TLS on loopback;
// the scenarios are in test/reliability/revocation-scenarios.ts (the reliability table runs them many times).
import test from 'ava';
import { createHostOperations } from '../../bank-host/operations/table.js';
import { startTestHost } from '../helpers/host.js';
import { handshakeInFlight, requestInFlight, SCENARIO_SCRYPT_COST, type KeyCommand } from '../reliability/revocation-scenarios.js';

const operations = createHostOperations({ scryptCost: SCENARIO_SCRYPT_COST });

for (const command of ['revoke', 'rotate'] as KeyCommand[]) {
  test(`a handshake in flight when ${command} returns is refused at its end, and nothing it queued is applied or answered`, async (t) => {
    const h = await startTestHost({ operations });
    t.teardown(() => h.close());
    const outcome = await handshakeInFlight(h, command, `kiosk-held-${command}`);
    t.deepEqual(outcome.details, []);
    t.deepEqual(outcome.problems, []);
    t.is(outcome.refused, 3);
  });

  test(`a request inside the host when ${command} returns is not applied, and the kiosk sees DISCONNECTED`, async (t) => {
    const h = await startTestHost({ operations });
    t.teardown(() => h.close());
    const outcome = await requestInFlight(h, command, `kiosk-busy-${command}`);
    t.deepEqual(outcome.details, []);
    t.is(outcome.refused, 1);
  });
}
