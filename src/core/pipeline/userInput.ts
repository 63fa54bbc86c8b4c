import { withoutMarkerNames } from '../guard';
import { sanitizeUserText } from '../text';

/**
 * A request with its question and every earlier turn cleaned by `sanitizeUserText`. Earlier turns also
 * lose the names in redaction markers (`[redacted: Name]` → `[redacted]`): an answer shown with a marker
 * must not hand the name back to the model, or make every later turn look like it names the target.
 * It lives here, not in core/text, because it knows the guard's marker and only the pipeline calls it.
 */
export function sanitizeUserInput<T extends { readonly question: string; readonly history?: readonly { readonly content: string }[] }>(
  input: T,
): T {
  const history = input.history?.map((m) => ({ ...m, content: withoutMarkerNames(sanitizeUserText(m.content)) }));
  return { ...input, question: sanitizeUserText(input.question), ...(history ? { history } : {}) };
}
