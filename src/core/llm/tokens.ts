/**
 * Tokens a Llama-style BPE tokenizer needs for this text, estimated without the tokenizer (Ollama has no
 * tokenize endpoint we could call per keystroke). English prose and code average about 4 characters a
 * token, so ASCII counts a quarter each; other characters (accents, CJK, emoji) are usually one or more
 * tokens each, so each code point counts one. Errs a little high, which is the safe side: VS Code uses
 * the count to decide how much history fits.
 */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.codePointAt(0)! < 0x80) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 4) + other;
}

/** Role markers and separators a chat template adds around every message. */
export const MESSAGE_OVERHEAD_TOKENS = 4;
