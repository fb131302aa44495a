import type { FieldProblem } from '../api/errors';

/**
 * The server's per-field messages (an invalid request's `details`) for the fields a form shows:
 * the first message of each name in `known`; other names are left to the error's message.
 */
export function fieldErrors<K extends string>(
  details: readonly FieldProblem[] | undefined,
  known: readonly K[],
): Partial<Record<K, string>> {
  const isKnown = (name: string): name is K => (known as readonly string[]).includes(name);
  const out: Partial<Record<K, string>> = {};
  for (const { field, message } of details ?? []) {
    if (isKnown(field) && out[field] === undefined) out[field] = message;
  }
  return out;
}
