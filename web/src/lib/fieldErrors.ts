/**
 * Pulls per-field messages out of an error's `details`, whichever shape the server used:
 * `{fields: {email: "..."}}`, `{email: "..."}` / `{email: ["..."]}`,
 * `[{field, message}]`, or fal/pydantic items `[{loc: ["body","email"], msg}]`.
 * Only the names in `known` are returned, so stray keys never become field errors.
 */
export function fieldErrors<K extends string>(details: unknown, known: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  const isKnown = (name: unknown): name is K => typeof name === 'string' && (known as readonly string[]).includes(name);
  const messageOf = (value: unknown): string | undefined => {
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (Array.isArray(value)) {
      const parts = value.map(messageOf).filter((m): m is string => m !== undefined);
      return parts.length > 0 ? parts.join('; ') : undefined;
    }
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      return messageOf(record.message) ?? messageOf(record.msg);
    }
    return undefined;
  };
  const add = (name: unknown, value: unknown) => {
    if (!isKnown(name) || out[name] !== undefined) return;
    const message = messageOf(value);
    if (message !== undefined) out[name] = message;
  };

  if (Array.isArray(details)) {
    for (const item of details) {
      if (typeof item !== 'object' || item === null) continue;
      const record = item as Record<string, unknown>;
      if (typeof record.field === 'string') add(record.field, record.message ?? record.msg);
      else if (Array.isArray(record.loc)) {
        const path = record.loc.filter((p) => p !== 'body');
        add(path[0], record.msg ?? record.message);
      }
    }
    return out;
  }
  if (typeof details === 'object' && details !== null) {
    const record = details as Record<string, unknown>;
    const fields = typeof record.fields === 'object' && record.fields !== null ? record.fields : record;
    for (const [name, value] of Object.entries(fields)) add(name, value);
  }
  return out;
}
