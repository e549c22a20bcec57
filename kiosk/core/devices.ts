// The kiosk's devices, made from the configuration: real drivers for configured hardware, and for
// `simulated` the same drivers over simulated sources (HID) or socat pty pairs with a device simulator on
// the far end (serial), so development runs the exact driver code the kiosk runs.
import type { Logger } from '../../protocol/log.js';
import { HidCardReader, type CardReader } from '../devices/card-reader/card-reader.js';
import { SimulatedCardReader } from '../devices/card-reader/card-reader-simulator.js';
import { SerialCashDispenser } from '../devices/dispenser/driver.js';
import { DispenserSimulator } from '../devices/dispenser/simulator.js';
import type { CashDispenser } from '../devices/dispenser/types.js';
import { NodeHidDeviceSource } from '../devices/hid/hid-device-source.js';
import { EppPinPad } from '../devices/pin-pad/epp/driver.js';
import { loadEppIdentity } from '../devices/pin-pad/epp/identity.js';
import { EppSecureModule } from '../devices/pin-pad/epp/secure-module.js';
import { EppSimulator } from '../devices/pin-pad/epp/simulator.js';
import { PinEntry, type PinPad } from '../devices/pin-pad/pin-entry.js';
import { HidPinPad } from '../devices/pin-pad/pin-pad.js';
import { SimulatedPinPad } from '../devices/pin-pad/pin-pad-simulator.js';
import { SerialReceiptPrinter } from '../devices/printer/driver.js';
import { PrinterSimulator } from '../devices/printer/simulator.js';
import type { ReceiptPrinter } from '../devices/printer/types.js';
import { openPtyPair, type PtyPair } from '../devices/serial/pty-pair.js';
import { SerialNoteAcceptor } from '../devices/note-acceptor/driver.js';
import { NoteAcceptorSimulator } from '../devices/note-acceptor/simulator.js';
import type { NoteAcceptor } from '../devices/note-acceptor/types.js';
import type { KioskConfig } from './config.js';
import type { AcceptCounterSource } from './deposit.js';

/** The note acceptor as the kiosk uses it: the driver, and its accept counter when it keeps one (how an
 *  interrupted stack is resolved after a power loss). */
export type KioskNoteAcceptor = NoteAcceptor & AcceptCounterSource;

export interface KioskDevices {
  readonly cardReader: CardReader;
  readonly pinPad: PinPad;
  readonly dispenser: CashDispenser;
  readonly printer: ReceiptPrinter;
  /** Absent on a kiosk that takes no deposits. */
  readonly noteAcceptor?: KioskNoteAcceptor;
}

export interface CreatedDevices extends KioskDevices {
  /** The simulators behind `simulated` serial devices, for development tools. */
  readonly dispenserSimulator?: DispenserSimulator;
  readonly printerSimulator?: PrinterSimulator;
  readonly noteAcceptorSimulator?: NoteAcceptorSimulator;
  /** The encrypting PIN pad's simulator (`epp-simulated`): its keypad is pressed from here. */
  readonly eppSimulator?: EppSimulator;
  /** Stops simulators and pty pairs this module started (drivers are closed by the controller). */
  disposeSimulators(): Promise<void>;
}

/** With a simulated dispenser (the demo), the simulated customer takes the cash this long after it is
 *  presented: long enough to see "Please take your cash" and its countdown. */
export const SIMULATED_CUSTOMER_TAKES_NOTES_AFTER_MS = 3_000;

export async function createKioskDevices(config: KioskConfig, log: Logger): Promise<CreatedDevices> {
  const { devices } = config;
  const cardReader: CardReader =
    devices.cardReader.kind === 'simulated'
      ? new SimulatedCardReader()
      : new HidCardReader({ source: new NodeHidDeviceSource(devices.cardReader.kind === 'hid' ? { vendorId: devices.cardReader.vendorId, productId: devices.cardReader.productId } : { path: devices.cardReader.path }), reportId: devices.cardReader.kind === 'hid' ? devices.cardReader.reportId : undefined });
  const pairs: PtyPair[] = [];
  const stops: (() => Promise<void>)[] = [];
  const disposeSimulators = async (): Promise<void> => {
    for (const stop of stops.splice(0)) await stop();
    for (const pair of pairs.splice(0)) await pair.close();
  };
  try {
    const { pinPad, eppSimulator } = await createPinPad(config, log, pairs, stops);
    let dispenserPath: string;
    let dispenserBaud = 9600;
    let dispenserSimulator: DispenserSimulator | undefined;
    if (devices.dispenser.kind === 'serial') {
      dispenserPath = devices.dispenser.path;
      dispenserBaud = devices.dispenser.baudRate;
    } else {
      const pair = await openPtyPair();
      pairs.push(pair);
      dispenserSimulator = await DispenserSimulator.start({
        path: pair.devicePath,
        cassettes: config.cassettes.map((c) => ({ ...c })),
        takeNotesAfterMs: SIMULATED_CUSTOMER_TAKES_NOTES_AFTER_MS,
        logger: log,
      });
      stops.push(() => dispenserSimulator!.stop());
      dispenserPath = pair.hostPath;
    }
    let printerPath: string;
    let printerBaud = 9600;
    let printerSimulator: PrinterSimulator | undefined;
    if (devices.printer.kind === 'serial') {
      printerPath = devices.printer.path;
      printerBaud = devices.printer.baudRate;
    } else {
      const pair = await openPtyPair();
      pairs.push(pair);
      printerSimulator = await PrinterSimulator.start({ path: pair.devicePath, logger: log });
      stops.push(() => printerSimulator!.stop());
      printerPath = pair.hostPath;
    }
    let noteAcceptor: KioskNoteAcceptor | undefined;
    let noteAcceptorSimulator: NoteAcceptorSimulator | undefined;
    if (devices.noteAcceptor) {
      let path: string;
      let baudRate = 9600;
      if (devices.noteAcceptor.kind === 'serial') {
        path = devices.noteAcceptor.path;
        baudRate = devices.noteAcceptor.baudRate;
      } else {
        const pair = await openPtyPair();
        pairs.push(pair);
        const simulator = await NoteAcceptorSimulator.start({ path: pair.devicePath, stackerCapacity: config.cashboxCapacityNotes, logger: log.child({ device: 'note-acceptor-simulator' }) });
        noteAcceptorSimulator = simulator;
        stops.push(() => simulator.stop());
        path = pair.hostPath;
      }
      noteAcceptor = new SerialNoteAcceptor({ path, baudRate, logger: log.child({ device: 'note-acceptor' }) });
    }
    return {
      cardReader,
      pinPad,
      dispenser: new SerialCashDispenser({ path: dispenserPath, baudRate: dispenserBaud, logger: log.child({ device: 'dispenser' }) }),
      printer: new SerialReceiptPrinter({ path: printerPath, baudRate: printerBaud, logger: log.child({ device: 'printer' }) }),
      ...(dispenserSimulator ? { dispenserSimulator } : {}),
      ...(eppSimulator ? { eppSimulator } : {}),
      ...(printerSimulator ? { printerSimulator } : {}),
      ...(noteAcceptor ? { noteAcceptor } : {}),
      ...(noteAcceptorSimulator ? { noteAcceptorSimulator } : {}),
      disposeSimulators,
    };
  } catch (error) {
    await disposeSimulators();
    throw error;
  }
}

/** The PIN pad: the EPP driver on its serial line (or on a pty with the simulator at the far end), or,
 *  under the demo setting only, a demo pad with a software secure module in this process. */
async function createPinPad(config: KioskConfig, log: Logger, pairs: PtyPair[], stops: (() => Promise<void>)[]): Promise<{ pinPad: PinPad; eppSimulator?: EppSimulator }> {
  const device = config.devices.pinPad;
  const logger = log.child({ device: 'pin-pad' });
  if (device.kind === 'epp') return { pinPad: new EppPinPad({ path: device.path, baudRate: device.baudRate, logger }) };
  if (device.kind === 'epp-simulated') {
    const identity = await loadEppIdentity(device.identityFile);
    const pair = await openPtyPair();
    pairs.push(pair);
    const eppSimulator = await EppSimulator.start({ path: pair.devicePath, identity, logger: log.child({ device: 'pin-pad-simulator' }) });
    stops.push(() => eppSimulator.stop());
    return { pinPad: new EppPinPad({ path: pair.hostPath, logger }), eppSimulator };
  }
  // The schema refuses a demo pad without the demo setting; checked again here, where it matters.
  if (!config.demoPinEntry) throw new Error(`PIN pad kind ${device.kind} needs the demo setting (demoPinEntry)`);
  const secure = new EppSecureModule(await loadEppIdentity(config.demoPinEntry.identityFile));
  if (device.kind === 'on-screen') return { pinPad: new PinEntry(secure) };
  if (device.kind === 'simulated') return { pinPad: new SimulatedPinPad({ secure }) };
  const source = new NodeHidDeviceSource(device.kind === 'hid' ? { vendorId: device.vendorId, productId: device.productId } : { path: device.path });
  return { pinPad: new HidPinPad({ source, secure, reportId: device.kind === 'hid' ? device.reportId : undefined }) };
}
