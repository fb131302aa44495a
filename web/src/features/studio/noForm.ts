/**
 * Models fal lists without an input form. fal publishes no OpenAPI document for them, so the
 * spec endpoint answers 404 `not_found` and the studio has no form to show. Said in those words
 * when the model came from the catalog (so it is listed); otherwise the server's own message.
 */
import { ApiError } from '../../api/client';

export function isNoForm(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.category === 'not_found';
}

export const noFormText = (name: string) => `fal lists ${name} without an input form, so the studio cannot run it.`;

/** What to say about a model whose spec did not load: `listed` when the catalog showed it. */
export function specProblem(error: unknown, name: string, listed: boolean): string {
  if (listed && isNoForm(error)) return noFormText(name);
  const message = error instanceof Error ? error.message : String(error);
  return `Could not load the settings of ${name}: ${message}`;
}
