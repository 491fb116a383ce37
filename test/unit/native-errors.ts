// Assertions on the errors native/ throws, for the unit and lab tests of native/.

import { expect } from "bun:test";
import { NativeError, type NativeErrorCode } from "../../native/rawsocket.ts";

/** The exception fn throws; a test failure when it throws none. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected an exception, none was thrown");
}

/** err is a NativeError with this code (and a message matching `message`). */
export function expectNativeError(err: unknown, code: NativeErrorCode, message?: RegExp): void {
  expect(err).toBeInstanceOf(NativeError);
  expect((err as NativeError).code).toBe(code);
  if (message) expect((err as NativeError).message).toMatch(message);
}
