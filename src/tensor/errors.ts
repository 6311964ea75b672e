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

// InputError (bad user input) lives in util/errors.ts, beside the CLI that prints it; re-exported here for the
// tensor API's users (src/index.ts) and the engine's own file readers (safetensors.ts).
export { InputError } from '../util/errors.js';

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
