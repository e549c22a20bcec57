// Revocation with work in flight, many times over: `device revoke` and `device rotate` return while a
// kiosk's handshake is held in flight (the host already handed it the key) or while its request waits inside
// the host. Nothing made with the old key may be applied or answered afterwards: the row counts what was.
import test from 'ava';
import { createHostOperations } from '../../bank-host/operations/table.js';
import { startTestHost } from '../helpers/host.js';
import { recordScenarioResult } from './results.js';
import { handshakeInFlight, requestInFlight, SCENARIO_SCRYPT_COST, type KeyCommand } from './revocation-scenarios.js';
import { reliabilityParams, scaled, SeededRandom } from './seeded-random.js';

test('revoke and rotate with a handshake or request in flight: nothing of the old key is applied', async (t) => {
  const params = reliabilityParams();
  const random = new SeededRandom(params.seed, 53);
  const rounds = scaled(12, params);
  t.timeout(120_000 + rounds * 10_000);
  const h = await startTestHost({ operations: createHostOperations({ scryptCost: SCENARIO_SCRYPT_COST }) });
  t.teardown(() => h.close());
  const violations: string[] = [];
  let accepted = 0;
  let refused = 0;
  const tried: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    const command: KeyCommand = random.pick(['revoke', 'rotate'] as const);
    const inFlight = random.pick(['handshake', 'request'] as const);
    const kind = `${command} / ${inFlight}`;
    tried[kind] = (tried[kind] ?? 0) + 1;
    const outcome = inFlight === 'handshake' ? await handshakeInFlight(h, command, `kiosk-r${round}`) : await requestInFlight(h, command, `kiosk-r${round}`);
    accepted += outcome.accepted;
    refused += outcome.refused;
    violations.push(...outcome.details.map((d) => `round ${round} (${kind}): ${d}`), ...outcome.problems.map((p) => `round ${round} (${kind}): ${p}`));
  }
  await recordScenarioResult({
    scenario: 'revoke and rotate with a handshake or request in flight',
    part: 'revocation',
    iterations: rounds,
    faultsInjected: rounds,
    acknowledged: accepted,
    lost: null,
    duplicated: null,
    invariantViolations: violations.length - accepted,
    measurements: { 'requests of the old key refused': refused, ...Object.fromEntries(Object.entries(tried).map(([kind, n]) => [`rounds: ${kind}`, n])) },
  });
  t.is(accepted, 0, violations.join('\n'));
  t.deepEqual(violations, []);
});
