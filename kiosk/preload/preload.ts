// The Electron preload: builds `window.atm` from IPC and hands it to contextBridge. It stays tiny and
// holds no logic, because anything here runs next to untrusted renderer code. It does not import Electron
// (only kiosk/main/ may): it is typed against the two small pieces of Electron it uses, and the preload
// entry Electron runs (kiosk/main/preload.ts) passes the real `contextBridge` and `ipcRenderer` to
// `exposeAtmApi`.
import { ATM_COMMAND_NAMES, IPC_CHANNEL_COMMAND, IPC_CHANNEL_GET_STATE, IPC_CHANNEL_STATE, type AtmApi, type KioskSnapshot } from './api.js';

/** The part of Electron's `ipcRenderer` the preload uses. */
export interface PreloadIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** The part of Electron's `contextBridge` the preload uses. */
export interface PreloadContextBridge {
  exposeInMainWorld(key: string, api: unknown): void;
}

export function buildAtmApi(ipc: PreloadIpc): AtmApi {
  const commands = Object.fromEntries(ATM_COMMAND_NAMES.map((name) => [name, (argument?: unknown) => ipc.invoke(IPC_CHANNEL_COMMAND, name, argument)]));
  return {
    ...(commands as unknown as Omit<AtmApi, 'getState' | 'onState'>),
    getState: () => ipc.invoke(IPC_CHANNEL_GET_STATE) as Promise<KioskSnapshot>,
    onState(listener) {
      // The IPC event object is dropped: it would hand the renderer a handle to ipcRenderer.
      const relay = (_event: unknown, snapshot: unknown) => listener(snapshot as KioskSnapshot);
      ipc.on(IPC_CHANNEL_STATE, relay);
      return () => void ipc.removeListener(IPC_CHANNEL_STATE, relay);
    },
  };
}

export function exposeAtmApi(electron: { contextBridge: PreloadContextBridge; ipcRenderer: PreloadIpc }): void {
  electron.contextBridge.exposeInMainWorld('atm', buildAtmApi(electron.ipcRenderer));
}
