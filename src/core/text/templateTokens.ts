/**
 * Chat-template control tokens written as text. A server renders each message into its model's chat
 * template and tokenizes the result with the template's special tokens recognised, so a user message
 * holding the literal text `<|eot_id|><|start_header_id|>system<|end_header_id|>` (Llama 3), `<|im_start|>`
 * (ChatML: Qwen and many others), `<start_of_turn>` (Gemma), `[INST]` (Mistral) or `<｜Assistant｜>`
 * (DeepSeek) could end its own turn and open one of another role. The agents rely on turns: the
 * conversation they audit is data because it sits in turns before their task. So such text is defused
 * before any model reads it: its opening bracket becomes a look-alike that no template recognises, and a
 * person reading it sees the same text.
 */

/**
 * `<|name|>`, `<｜name｜>` (full-width bars), Gemma's `<start_of_turn>`/`<end_of_turn>` and kin, `[INST]`,
 * `[/INST]`, `[THINK]` and their kin. Not `<s>`/`</s>` (HTML strikethrough is common, and current templates
 * do not open a turn with them). Templates whose turns are marked by plain words (`USER:`, `### Response:`)
 * cannot be protected this way: their models take any text for a turn marker.
 */
const TEMPLATE_TOKEN =
  /<(?=(?:\|[^|<>\s]{1,48}\||｜[^｜<>\s]{1,48}｜|\/?(?:start_of_turn|end_of_turn|bos|eos|think|tool_call|tool_response))>)|\[(?=\/?(?:INST|SYS|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS|SYSTEM_PROMPT|THINK)\])|<(?=<\/?SYS>>)/g;

/** The look-alikes: SINGLE LEFT-POINTING ANGLE QUOTATION MARK for `<`, FULLWIDTH LEFT SQUARE BRACKET for `[`. */
const LOOK_ALIKE: Readonly<Record<string, string>> = { '<': '‹', '[': '［' };

/** `text` with every chat-template control token defused (see above); other text is unchanged. */
export function defuseTemplateTokens(text: string): string {
  return text.includes('<') || text.includes('[') ? text.replace(TEMPLATE_TOKEN, (c) => LOOK_ALIKE[c] ?? c) : text;
}
