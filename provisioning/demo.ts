// `npm start`: a demo of the whole product on this machine. Creates demo keys and a demo database under
// ./demo (owner-only), starts the bank host on loopback, enrolls a demo kiosk, creates a demo customer
// with a card and some money, prints how to sign in, and keeps serving until Ctrl-C.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ChannelClient } from '../protocol/client.js';
import { createLogger } from '../protocol/log.js';
import { defaultHostConfig, HOST_CONFIG_FILE } from '../bank-host/config.js';
import { addCustomer, issueCard } from '../bank-host/customers/admin.js';
import { createHostKeys, writeSecretFile } from '../bank-host/keys.js';
import { BankHost, openHostState } from '../bank-host/host.js';
import { hostOperations } from '../bank-host/operations/table.js';

export const DEMO_DIR = path.resolve(process.env.ATM_DEMO_DIR ?? 'demo');
const DEMO_PORT = Number(process.env.ATM_DEMO_PORT ?? 7443);
const DEMO_DEVICE = 'demo-kiosk';
const DEMO_USER = 'demo';
// A demo password on purpose: printed on screen and saved next to the demo database.
const DEMO_PASSWORD = 'maple-leaf-2026';
const DEMO_OPENING_DEPOSIT_CENTS = 50_000;

interface DemoCredentials {
  username: string;
  password: string;
  pan: string;
  pin: string;
}

async function main(): Promise<void> {
  const keysDir = path.join(DEMO_DIR, 'keys');
  const dataDir = path.join(DEMO_DIR, 'data');
  const kioskDir = path.join(DEMO_DIR, 'kiosk');
  const kSharedFile = path.join(kioskDir, 'k_shared.key');
  const credentialsFile = path.join(DEMO_DIR, 'demo-customer.json');
  const log = createLogger({ level: process.env.ATM_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

  await mkdir(DEMO_DIR, { recursive: true, mode: 0o700 });
  if (!existsSync(keysDir)) {
    say(`creating demo keys and database in ${DEMO_DIR}`);
    await createHostKeys(keysDir);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dataDir, HOST_CONFIG_FILE), JSON.stringify({ ...defaultHostConfig(), registrationEnabled: true }, null, 2) + '\n', { mode: 0o600 });
  }
  const state = await openHostState({ dataDir, keysDir }, log);
  const services = state.services;

  let fresh = false;
  if (!state.registry.get(DEMO_DEVICE)) {
    say(`enrolling kiosk ${DEMO_DEVICE}`);
    await mkdir(kioskDir, { recursive: true, mode: 0o700 });
    const kShared = await state.registry.add(DEMO_DEVICE, 'demo');
    await writeSecretFile(kSharedFile, kShared.toString('hex') + '\n', { overwrite: true });
    kShared.fill(0);
  }
  let credentials: DemoCredentials;
  if (existsSync(credentialsFile)) {
    credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as DemoCredentials;
  } else {
    say(`creating demo customer ${DEMO_USER} with a card`);
    await addCustomer(services, DEMO_USER, DEMO_PASSWORD);
    const card = await issueCard(services, DEMO_USER);
    credentials = { username: DEMO_USER, password: DEMO_PASSWORD, pan: card.pan, pin: card.pin };
    await writeSecretFile(credentialsFile, JSON.stringify(credentials, null, 2) + '\n', { overwrite: true });
    fresh = true;
  }

  const host = await BankHost.serve(state, { listenHost: '127.0.0.1', listenPort: DEMO_PORT, adminSocketPath: path.join(dataDir, 'admin.sock'), operations: hostOperations });
  const kShared = Buffer.from((await readFile(kSharedFile, 'utf8')).trim(), 'hex');
  const kiosk = new ChannelClient({ host: '127.0.0.1', port: host.address.port, deviceId: DEMO_DEVICE, kShared, log });
  kiosk.start();
  await kiosk.waitConnected(5_000);
  if (fresh) {
    // The opening deposit goes through the real channel, as a kiosk would make it.
    const session = await kiosk.request('signin.password', { username: credentials.username, password: credentials.password });
    await kiosk.request('deposit', { accountId: session.accounts[0]!.accountId, amountCents: DEMO_OPENING_DEPOSIT_CENTS });
    await kiosk.request('signout', {});
  }
  kiosk.close();

  say('');
  say(`bank host serving kiosks on 127.0.0.1:${host.address.port} (TLS 1.3-PSK); admin socket ${path.join(dataDir, 'admin.sock')}`);
  say(`demo kiosk ${DEMO_DEVICE}: K_SHARED in ${kSharedFile}`);
  say(`demo customer: username ${credentials.username}, password ${credentials.password}`);
  say(`demo card: PAN ${credentials.pan}, PIN ${credentials.pin}`);
  say(`try: node --import tsx bank-host/cli/main.ts customer show demo --data ${dataDir}`);
  say('press Ctrl-C to stop');

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  say('stopping');
  await host.close();
}

main().catch((error: Error) => {
  process.stderr.write(`demo: ${error.message}\n`);
  process.exit(1);
});
