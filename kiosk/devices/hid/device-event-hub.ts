// Typed listeners for device events that are discriminated unions on `type`. A listener that throws is a
// bug in the kiosk core; the exception propagates to the emitter (as with EventEmitter) rather than being
// swallowed, so it is seen and the service restarts instead of running with a half-updated state.

export type Unsubscribe = () => void;

export type EventOfType<E extends { type: string }, K extends E['type']> = Extract<E, { type: K }>;

export interface DeviceEvents<E extends { type: string }> {
  on<K extends E['type']>(type: K, listener: (event: EventOfType<E, K>) => void): Unsubscribe;
  /** Every event, in order (useful to forward to the renderer or to a log). */
  onAny(listener: (event: E) => void): Unsubscribe;
}

export class DeviceEventHub<E extends { type: string }> implements DeviceEvents<E> {
  private readonly listeners = new Set<(event: E) => void>();

  on<K extends E['type']>(type: K, listener: (event: EventOfType<E, K>) => void): Unsubscribe {
    return this.onAny((event) => {
      if (event.type === type) listener(event as EventOfType<E, K>);
    });
  }

  onAny(listener: (event: E) => void): Unsubscribe {
    // Wrap so that the same function subscribed twice gets two independent subscriptions.
    const entry = (event: E): void => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(event: E): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}
