// SPDX-License-Identifier: MIT
// Error classes. Callers match on `code` (Node style), not on message text.

/** An error raised by libtorch or the addon; `code` is e.g. ERR_TORCH, ERR_TORCH_INDEX, ERR_DISPOSED. */
export class TensorError extends Error {
  declare code: string;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'TensorError';
    if (code !== undefined) this.code = code;
  }
}

/** Bad user input (files, flags, data): the CLI prints it without a stack and exits with code 2. */
export class InputError extends Error {
  readonly code: string;
  constructor(message: string, code = 'ERR_INPUT', readonly hint?: string) {
    super(message);
    this.name = 'InputError';
    this.code = code;
  }
}

/** A tensor of the wrong shape reached a layer or op that checks shapes itself. */
export class ShapeError extends Error {
  readonly code = 'ERR_SHAPE';
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** An invalid argument value (not a type problem): `conv2d: expected positive integer for stride, got -1`. */
export class ArgumentError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_VALUE';
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

export function disposedError(): TensorError {
  return new TensorError('tensor was disposed', 'ERR_DISPOSED');
}
