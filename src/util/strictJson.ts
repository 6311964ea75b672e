// SPDX-License-Identifier: MIT
// JSON from files we did not write in this process: JSON.parse plus a check for duplicate keys (JSON.parse
// silently keeps the last one, so `{"weights": "a", "weights": "../b"}` would read differently in other tools).

/**
 * The first key that occurs twice in one object of `text` (already known to be valid JSON), as a dotted path
 * (`a.b`), or null. Walks the text once: strings are skipped with their escapes, keys compared after decoding
 * (`"a"` and `"\u0061"` are the same key).
 */
export function findDuplicateKey(text: string): string | null {
  // One frame per open object ({keys, expectKey, name}) or array (null keys).
  const stack: { keys: Set<string> | null; expectKey: boolean; name: string }[] = [];
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const path = top.name ? `${top.name}.${key}` : key;
        if (top.keys.has(key)) return path;
        top.keys.add(key);
        top.expectKey = false;
        lastKey = path;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      const top = stack[stack.length - 1];
      stack.push({ keys: new Set(), expectKey: true, name: top?.keys ? lastKey : (top?.name ?? '') });
    } else if (c === 0x5b /* [ */) {
      const top = stack[stack.length - 1];
      stack.push({ keys: null, expectKey: false, name: top?.keys ? lastKey : (top?.name ?? '') });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return null;
}

/**
 * Parses JSON and rejects duplicate keys.
 * @throws SyntaxError with a one-line message (for the caller to wrap in an InputError naming the file).
 */
export function parseJsonStrict(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const dup = findDuplicateKey(text);
  if (dup !== null) throw new SyntaxError(`duplicate key ${JSON.stringify(dup)}`);
  return value;
}
