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

/** What a failed file operation means for the user, in a few words ("no space left on device"). */
export function ioProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case "ENOENT":
    case "ENOTDIR":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    case "ENOSPC":
      return "no space left on device";
    case "EDQUOT":
      return "disk quota exceeded";
    case "EROFS":
      return "read-only file system";
    case "EFBIG":
      return "file too large for this file system";
    case "EIO":
      return "input/output error";
    case "EPIPE":
      return "the reader closed the pipe";
    case "EBADF":
      return "not open for writing";
    default:
      return err?.code ?? err?.message ?? String(e);
  }
}

/** Ends the command with `code` and no message (the reader of stdout went away: `| head`). */
export class QuietExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = "QuietExit";
  }
}
