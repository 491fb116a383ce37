// Exit codes (DESIGN.md) and the errors that carry them. A UserError prints its message
// and advice, never a stack (the stack only with --verbose).

export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  noAnswer: 3,
  nak: 4,
  rogue: 5,
  /** Stopped by a signal before it finished, as a shell reports it: 128 + the signal's number. */
  sigint: 130,
  sigterm: 143,
} as const;

/** The exit status of a command a signal (SIGINT, SIGTERM) interrupted. */
export function signalExit(signal: string): number {
  return signal === "SIGTERM" ? EXIT.sigterm : EXIT.sigint;
}

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export class UsageError extends UserError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = "UsageError";
  }
}
