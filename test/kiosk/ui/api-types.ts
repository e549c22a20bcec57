// Compile-time only (the root `tsc` checks it): the snapshot types the renderer sees through
// kiosk/preload/api.ts are exactly the core's (kiosk/core/ui-contract.ts, which api.ts re-exports), and the
// types the controller and configuration use are those too. A copy written out again anywhere would have to
// stay equal; this file makes any drift a type error.
import type * as Api from '../../../kiosk/preload/api.js';
import type * as Session from '../../../kiosk/core/ui-contract.js';
import type { Language } from '../../../kiosk/core/config.js';
import type { PinPadKey } from '../../../kiosk/core/kiosk.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function same<A, B>(check: Equal<A, B>): void {
  void check;
}

same<Api.KioskSnapshot, Session.KioskSnapshot>(true);
same<Api.Screen, Session.Screen>(true);
same<Api.MenuChoice, Session.MenuChoice>(true);
same<Api.Notice, Session.Notice>(true);
same<Api.SessionView, Session.SessionView>(true);
same<Api.CustomerView, Session.CustomerView>(true);
same<Api.Language, Language>(true);
same<Api.PinPadKey, PinPadKey>(true);
