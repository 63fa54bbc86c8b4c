/**
 * The question that makes the pipeline rewrite a selection: the vanilla agent repeats the text, and the
 * audit, critic and composer erase whatever touches a target, as they do for an answer.
 */
export function rewriteQuestion(text: string): string {
  return `Repeat the text between the markers below exactly as written, keeping its wording, layout and language. Reply with that text only, without the markers.\n<<<TEXT\n${text}\nTEXT>>>`;
}
