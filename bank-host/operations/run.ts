// One request's run, shared by every customer operation: it collects the audit facts as the handler learns
// them and makes sure `ctx.finish` is called exactly once, with a matching audit event named after the
// message type, failures included.
import { ProtocolError } from '../../protocol/errors.js';
import type { MessageType, RequestBody, ResultOf } from '../../protocol/messages.js';
import type { AuditEvent } from '../audit/event.js';
import { invariant } from '../ledger/invariants.js';
import type { BatchOp } from '../store/database.js';
import type { CustomerSession, LockHint, OperationHandler, ReadHint, RequestContext } from './context.js';

/** One request's run: collects the audit facts as the handler learns them and makes sure `finish` is
 *  called exactly once, with a matching audit event. */
export class OperationRun<T extends MessageType> {
  finished = false;
  customerId: string | undefined;
  amountCents: number | undefined;
  readonly detail: Record<string, string | number | boolean> = {};

  constructor(readonly ctx: RequestContext<T>) {
    const session = ctx.connection.session;
    this.customerId = session?.customerId;
    if (session?.cardLast4 !== undefined) this.detail.cardLast4 = session.cardLast4;
  }

  get services() {
    return this.ctx.services;
  }

  private event(outcome: 'ok' | 'failed', reason?: string): AuditEvent {
    return {
      action: this.ctx.type,
      outcome,
      deviceId: this.ctx.connection.deviceId,
      requestId: this.ctx.requestId,
      ...(this.customerId !== undefined && { customerId: this.customerId }),
      ...(this.amountCents !== undefined && { amountCents: this.amountCents }),
      ...(reason !== undefined && { reason }),
      ...(Object.keys(this.detail).length > 0 && { detail: { ...this.detail } }),
    };
  }

  private claimFinish(): void {
    invariant(!this.finished, `${this.ctx.type} finished twice`);
    this.finished = true;
  }

  /** Writes `ops` with the success record and the reply, durably. Call inside the handler's locks. */
  async succeed(result: ResultOf<T>, ops: readonly BatchOp[] = []): Promise<ResultOf<T>> {
    this.claimFinish();
    await this.ctx.finish({ result }, { ops, events: [this.event('ok')] });
    return result;
  }

  /** Writes `ops` with the reply and no audit record: only for what an auditor does not follow, such as a
   *  kiosk's heartbeat report whose facts did not change. */
  async succeedUnaudited(result: ResultOf<T>, ops: readonly BatchOp[] = []): Promise<ResultOf<T>> {
    this.claimFinish();
    await this.ctx.finish({ result }, { ops });
    return result;
  }

  /** Records a failure; `ops` are the state a failure changes (a PIN try, a sign-in failure counter). */
  async fail(error: ProtocolError, ops: readonly BatchOp[] = []): Promise<never> {
    this.claimFinish();
    await this.ctx.finish({ error }, { ops, events: [this.event('failed', error.code)] });
    throw error;
  }

  /** The signed-in customer; a technician's supervisor session does no customer operation. */
  requireSession(): CustomerSession {
    const session = this.ctx.connection.session;
    if (session === undefined) throw new ProtocolError('NOT_SIGNED_IN');
    if (session.role === 'supervisor') throw new ProtocolError('ROLE_NOT_ALLOWED');
    return session;
  }

  /** The signed-in technician (a supervisor card's session); a customer's session is refused. */
  requireSupervisor(): CustomerSession {
    const session = this.ctx.connection.session;
    if (session === undefined) throw new ProtocolError('NOT_SIGNED_IN');
    if (session.role !== 'supervisor') throw new ProtocolError('ROLE_NOT_ALLOWED');
    return session;
  }

  requireNoSession(): void {
    if (this.ctx.connection.session !== undefined) throw new ProtocolError('ALREADY_SIGNED_IN');
  }
}

export type Work<T extends MessageType> = (run: OperationRun<T>, body: RequestBody<T>) => Promise<ResultOf<T>>;

/** `handler`, marked as spending long on the CPU inside its unit of work (OperationHandler.slow). */
export function slow<T extends MessageType>(handler: OperationHandler<T>): OperationHandler<T> {
  return Object.assign(handler, { slow: true as const });
}

/** A ProtocolError thrown before the handler finished changed nothing: record it as a failed action.
 *  `reads` names what `work` will read, and `locks` what it will lock, when the request alone tells (ReadHint,
 *  LockHint); `recalls`, the prefixes of the records `locks` recalls. */
export function operation<T extends MessageType>(work: Work<T>, reads?: ReadHint<T>, locks?: LockHint<T>, recalls?: readonly string[]): OperationHandler<T> {
  const handler = async (ctx: RequestContext<T>, body: RequestBody<T>): Promise<ResultOf<T>> => {
    const run = new OperationRun(ctx);
    try {
      return await work(run, body);
    } catch (error) {
      if (error instanceof ProtocolError && !run.finished) await run.fail(error);
      throw error;
    }
  };
  return Object.assign(handler, { ...(reads && { reads }), ...(locks && { locks }), ...(recalls && { recalls }) });
}
