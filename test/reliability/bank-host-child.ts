// The test's handle on a bank host running in its own process (bank-host-process.ts): start it on a
// folder, send it commands over IPC, SIGKILL it, start it again on the same folder and port, and read its
// resident memory and open file descriptors from /proc.
import { fork, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { LedgerReport } from '../../bank-host/ledger/check.js';
import type { AuditVerifyReport } from '../../bank-host/audit/verify.js';
import type { ChannelStats } from '../../bank-host/server/channel-server.js';
import type { GroupCommitStats } from '../../bank-host/store/group-commit.js';
import { HOST_PROCESS_PARAMS_ENV, type HostCommand, type HostProcessParams, type SetupResult } from './bank-host-process.js';
import type { LedgerInspection } from './ledger-inspection.js';

const ENTRY = fileURLToPath(new URL('./bank-host-process.ts', import.meta.url));
/** A host that takes longer than this to open its database is reported as failing to start. */
const START_TIMEOUT_MS = 30_000;
const OUTPUT_TAIL_CHARS = 8_000;

export class BankHostChild {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private outputTail = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.outputTail = (this.outputTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const waiter of this.waiting.values()) waiter.reject(new Error(`the host process exited (${signal ?? code}) before answering; output:\n${this.outputTail}`));
        this.waiting.clear();
        resolve({ code, signal });
      });
    });
  }

  /** `nodeOptions`: more of Node's own options for the host process (the benchmark's `--cpu-prof`). */
  static async start(params: HostProcessParams, nodeOptions: readonly string[] = []): Promise<BankHostChild> {
    const child = fork(ENTRY, [], {
      execArgv: ['--import', 'tsx', ...nodeOptions],
      env: { ...process.env, [HOST_PROCESS_PARAMS_ENV]: JSON.stringify(params) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const host = new BankHostChild(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the host process did not start within ${START_TIMEOUT_MS} ms:\n${host.outputTail}`)), START_TIMEOUT_MS);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      void host.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`the host process exited (${signal ?? code}) while starting:\n${host.outputTail}`));
      });
    });
    return host;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.outputTail;
  }

  private call<T>(command: HostCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, command }, (error) => {
        if (error) {
          this.waiting.delete(id);
          reject(error);
        }
      });
    });
  }

  setup(devices: readonly string[], customers: Extract<HostCommand, { type: 'setup' }>['customers']): Promise<SetupResult> {
    return this.call({ type: 'setup', devices, customers });
  }

  check(): Promise<{ ledger: LedgerReport; audit: AuditVerifyReport }> {
    return this.call({ type: 'check' });
  }

  inspect(audit = false): Promise<LedgerInspection> {
    return this.call({ type: 'inspect', audit });
  }

  async serve(port = 0): Promise<number> {
    return (await this.call<{ port: number }>({ type: 'serve', port })).port;
  }

  stats(): Promise<{ channel: ChannelStats; commits: GroupCommitStats }> {
    return this.call({ type: 'stats' });
  }

  /** Graceful stop: in-flight requests finish, the database closes. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.call({ type: 'stop' }).catch(() => undefined);
    await this.exited;
  }

  /** The power cord: SIGKILL, nothing after it runs in the host. */
  async kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Resident set size from /proc (Linux), in bytes. */
  async rssBytes(): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    if (!match) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  async openFileDescriptors(): Promise<number> {
    return (await readdir(`/proc/${this.pid}/fd`)).length;
  }
}
