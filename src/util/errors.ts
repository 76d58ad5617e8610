/** An error meant for the user (a bad option, a data path that does not exist): printed as one line, without a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
