// A failure the user caused (bad flag, bad file…): main prints its one line and exits with `code`,
// without a stack trace unless --verbose.
export class UserError extends Error {
  constructor(
    message: string,
    readonly code = 2,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export function fail(message: string, code = 2): never {
  throw new UserError(message, code);
}
