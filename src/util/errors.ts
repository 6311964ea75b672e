// SPDX-License-Identifier: MIT
// The user-input error: what the CLI prints as one line and a hint (exit 2). Everything else that reaches the CLI
// is a bug and is printed with its stack (exit 1), so code that finds bad input (a file, a flag, a field, data)
// throws this, with a `code` callers can match on (Node style) and a hint saying what to do.

/** Bad user input (files, flags, data): the CLI prints it without a stack and exits with code 2. */
export class InputError extends Error {
  readonly code: string;
  constructor(
    message: string,
    code = 'ERR_INPUT',
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'InputError';
    this.code = code;
  }
}
