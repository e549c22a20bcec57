// The money load of a bank's kiosks, shared by the bench scripts: kiosks connect over TLS 1.3-PSK, report
// their cash, sign in, then run deposits of notes, two-phase withdrawals and balance checks, one request at
// a time as a real kiosk does.
import { ChannelClient } from '../protocol/client.js';
import { ProtocolError } from '../protocol/errors.js';
import { encodePinBlockFormat4 } from '../protocol/pin-block.js';
import { notesFor, testKioskStatus } from '../test/helpers/kiosk-cash.js';
import { percentile } from './stats.js';

/** Each deposit of the load: two $20 notes, counted by the acceptor. */
const DEPOSIT_NOTES = notesFor(4_000);

export interface EnrolledKiosk {
  deviceId: string;
  kSharedHex: string;
}

export interface CardKiosk extends EnrolledKiosk {
  /** The device's PIN encryption key, as its EPP holds it. */
  pinKeyHex: string;
  pan: string;
  pin: string;
}

export interface LoadResult {
  elapsedS: number;
  moneyTransactions: number;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  failures: Record<string, number>;
}

/** A kiosk's channel to the host at `port`, its cash reported: the host takes deposits and pays
 *  withdrawals only as a kiosk's status allows. */
export async function connectKiosk(port: number, kiosk: EnrolledKiosk): Promise<ChannelClient> {
  const client = new ChannelClient({ host: '127.0.0.1', port, deviceId: kiosk.deviceId, kShared: Buffer.from(kiosk.kSharedHex, 'hex'), limits: { requestTimeoutMs: 30_000 } });
  client.start();
  await client.waitConnected(10_000);
  await client.request('kiosk.status', testKioskStatus());
  return client;
}

/** Each kiosk signs in with card + PIN; returns the account each one works on. */
export async function signInWithCards(clients: ChannelClient[], kiosks: CardKiosk[]): Promise<string[]> {
  const sessions = await Promise.all(
    clients.map((client, i) => {
      const kiosk = kiosks[i]!;
      const pinBlock = encodePinBlockFormat4(kiosk.pin, kiosk.pan, Buffer.from(kiosk.pinKeyHex, 'hex')).toString('hex');
      return client.request('signin.card', { pan: kiosk.pan, pinBlock });
    }),
  );
  return sessions.map((session) => session.accounts[0]!.accountId);
}

/** Money-moving transactions: a deposit's commit (its open is a durable request that moves no money),
 *  authorize, complete. Runs for `seconds`. */
export async function ledgerLoad(clients: ChannelClient[], accountIds: string[], seconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let moneyTransactions = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  const timed = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    const t0 = performance.now();
    try {
      return await work();
    } catch (error) {
      const code = error instanceof ProtocolError ? error.code : 'EXCEPTION';
      failures[code] = (failures[code] ?? 0) + 1;
      return undefined;
    } finally {
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(
    clients.map(async (client, i) => {
      const accountId = accountIds[i]!;
      let step = 0;
      while (Date.now() < deadline) {
        const choice = step++ % 5;
        if (choice < 2) {
          const opened = await timed(() => client.request('deposit.open', { accountId }));
          if (!opened) continue;
          if (await timed(() => client.request('deposit.commit', { depositId: opened.depositId, notes: DEPOSIT_NOTES }))) moneyTransactions++;
        } else if (choice < 4) {
          const auth = await timed(() => client.request('withdraw.authorize', { accountId, amountCents: 2_000 }));
          if (!auth) continue;
          moneyTransactions++;
          if (await timed(() => client.request('withdraw.complete', { authorizationId: auth.authorizationId, dispensedCents: 2_000 }))) moneyTransactions++;
        } else {
          await timed(() => client.request('balance', { accountId }));
        }
      }
    }),
  );
  const elapsedS = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { elapsedS, moneyTransactions, requests: latencies.length, perSecond: moneyTransactions / elapsedS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures };
}

