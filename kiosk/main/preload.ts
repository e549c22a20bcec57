// The preload script Electron runs beside the renderer (sandboxed, context-isolated): it only hands the
// real contextBridge and ipcRenderer to kiosk/preload, which builds `window.atm`. Electron is imported
// here, in kiosk/main/, the one folder allowed to import it.
import { contextBridge, ipcRenderer } from 'electron';
import { exposeAtmApi } from '../preload/preload.js';

exposeAtmApi({ contextBridge, ipcRenderer });
