// unlearn.provider and unlearn.baseUrl: what they resolve to, that a workspace cannot set them, and the
// words each front-end message uses for an OpenAI-compatible server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LlmError } from '../../../../src/core/llm/errors';
import { InvalidHostError } from '../../../../src/core/llm/hostPolicy';
import { modelsText } from '../../../../src/vscode/chat/chatTexts';
import { describeChatError } from '../../../../src/vscode/errors/errorPresenterLogic';
import { hostSettingOf, resolveSettings, type SettingsReader } from '../../../../src/vscode/settings/settingsLogic';
import { noticeFor, tooltipAdvice } from '../../../../src/vscode/setup/setupStateLogic';
import { relevanceNoticeMarkdown } from '../../../../src/vscode/relevance/relevanceTexts';

type Values = Record<string, unknown>;
const reader = (user: Values, workspace: Values = {}): SettingsReader => ({
  userOnly: (key) => user[key],
  effective: (key) => (key in workspace ? workspace[key] : user[key]),
});

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: {
    configuration: { properties: Record<string, { scope?: string; default?: unknown; enum?: string[] }> };
    commands: { command: string }[];
  };
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
};

describe('unlearn.provider and unlearn.baseUrl', () => {
  test('openai uses the base URL as the host; Ollama keeps its host; the default is Ollama', () => {
    assert.deepEqual(
      (({ provider, host }) => ({ provider, host }))(resolveSettings(reader({ provider: 'openai', baseUrl: ' http://gpu:8000/v1 ' }))),
      { provider: 'openai', host: 'http://gpu:8000/v1' },
    );
    const plain = resolveSettings(reader({ baseUrl: 'http://gpu:8000/v1' }));
    assert.equal(plain.provider, 'ollama');
    assert.equal(plain.host, 'http://127.0.0.1:11434');
    assert.equal(resolveSettings(reader({ provider: 'vllm' })).provider, 'ollama', 'an unknown provider is the default, not a guess');
  });

  test('unlearn.embeddingBaseUrl is read for openai only, and only from user settings', () => {
    assert.equal(
      resolveSettings(reader({ provider: 'openai', baseUrl: 'http://g/v1', embeddingBaseUrl: 'http://e/v1' })).embeddingHost,
      'http://e/v1',
    );
    assert.equal(resolveSettings(reader({ embeddingBaseUrl: 'http://e/v1' })).embeddingHost, undefined);
    assert.equal(resolveSettings(reader({ provider: 'openai' }, { embeddingBaseUrl: 'http://evil/v1' })).embeddingHost, undefined);
    assert.equal(pkg.contributes.configuration.properties['unlearn.embeddingBaseUrl']?.scope, 'machine');
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('unlearn.embeddingBaseUrl'));
  });

  test('openai without a base URL has no host: never the Ollama host', () => {
    assert.equal(resolveSettings(reader({ provider: 'openai', ollamaHost: 'http://127.0.0.1:11434' })).host, '');
  });

  test('a workspace can choose neither the provider nor the base URL', () => {
    const s = resolveSettings(reader({}, { provider: 'openai', baseUrl: 'http://evil.example/v1' }));
    assert.equal(s.provider, 'ollama');
    assert.equal(s.host, 'http://127.0.0.1:11434');
    for (const key of ['unlearn.provider', 'unlearn.baseUrl']) {
      assert.equal(pkg.contributes.configuration.properties[key]?.scope, 'machine', key);
      assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(key), key);
    }
    assert.deepEqual(pkg.contributes.configuration.properties['unlearn.provider']?.enum, ['ollama', 'openai']);
  });

  test('no setting holds the API key; commands set and clear it', () => {
    assert.ok(!Object.keys(pkg.contributes.configuration.properties).some((k) => /key|token|secret/i.test(k)));
    const commands = pkg.contributes.commands.map((c) => c.command);
    assert.ok(commands.includes('unlearn.setApiKey') && commands.includes('unlearn.clearApiKey'));
    assert.equal(hostSettingOf('openai'), 'unlearn.baseUrl');
    assert.equal(hostSettingOf('ollama'), 'unlearn.ollamaHost');
  });
});

describe('messages for an OpenAI-compatible server name its settings and commands', () => {
  const host = 'http://gpu:8000/v1';
  const fail = (code: ConstructorParameters<typeof LlmError>[0], message = 'server said no') => new LlmError(code, message, { host });

  test('unreachable and an invalid URL point at unlearn.baseUrl, never at ollama serve', () => {
    const down = describeChatError(fail('unreachable'), host, 'm', 'openai');
    assert.match(down.message, /Cannot reach the OpenAI-compatible server at http:\/\/gpu:8000\/v1\. .*unlearn\.baseUrl/);
    assert.ok(!/ollama/i.test(down.message));
    assert.deepEqual(down.buttons[0]?.arguments, ['unlearn.baseUrl']);
    const invalid = describeChatError(new InvalidHostError('The base URL is empty.'), '', 'm', 'openai');
    assert.deepEqual(invalid.buttons[0]?.arguments, ['unlearn.baseUrl']);
  });

  test('a refused key offers Set API Key; overload and context length name their settings', () => {
    const auth = describeChatError(fail('auth', 'The server refused the API key (HTTP 401: Unauthorized).'), host, 'm', 'openai');
    assert.match(auth.message, /Unlearn: Set API Key…/);
    assert.equal(auth.buttons[0]?.command, 'unlearn.setApiKey');
    assert.match(describeChatError(fail('overloaded'), host, 'm', 'openai').message, /unlearn\.parallelCalls/);
    assert.match(describeChatError(fail('context-length'), host, 'm', 'openai').message, /unlearn\.contextLength.*max-model-len/);
    const missing = describeChatError(fail('model-missing'), host, 'Qwen/Qwen2.5-7B', 'openai');
    assert.ok(!missing.buttons.some((b) => b.command === 'unlearn.pullModel'), 'offered a pull from a server that cannot pull');
  });

  test('a missing embedding model is to be served, not pulled', () => {
    const text = relevanceNoticeMarkdown({ model: 'bge', message: 'not found', pull: 'bge' }, 'openai');
    assert.match(text, /does not serve the embedding model `bge`.*unlearn\.embeddingBaseUrl/);
    assert.ok(!/ollama pull|Pull Model/.test(text));
  });

  test('/models names the provider and the engine', () => {
    const text = modelsText(host, [{ name: 'Qwen/Qwen2.5-7B', family: 'vllm' }], 'Qwen/Qwen2.5-7B', 'openai');
    // The host is escaped for markdown (http:\/\/…); what matters is who serves and which engine.
    assert.match(text, /^Models served by the OpenAI-compatible server \(vllm\) at http:.*gpu:8000\/v1:/);
    assert.match(text, /\*\*\(in use\)\*\*/);
    assert.match(modelsText(host, [], 'x', 'openai'), /lists no models/);
    assert.match(modelsText('http://127.0.0.1:11434', [{ name: 'llama3.2:latest' }], 'llama3.2'), /^Models at /);
  });
});

describe('first-run notices for an OpenAI-compatible server', () => {
  const facts = {
    provider: 'openai' as const,
    ollama: 'down' as const,
    host: 'http://gpu:8000/v1',
    loopback: false,
    model: 'm',
    otherVendorModels: 0,
  };

  test('a server that does not answer: no "Start Ollama", the base URL to check', () => {
    const notice = noticeFor('ollama-down', facts);
    assert.match(notice.message, /the OpenAI-compatible server is not answering at http:\/\/gpu:8000\/v1.*unlearn\.baseUrl/);
    assert.ok(!/ollama/i.test(notice.message.replace('unlearn.', '')));
    assert.deepEqual(
      notice.actions.map((a) => a.arguments?.[0]),
      ['unlearn.baseUrl'],
    );
    assert.match(tooltipAdvice('ollama-down', facts)!, /the OpenAI-compatible server is not answering/);
  });

  test('a server with no chat model: nothing to pull, start it with one', () => {
    const notice = noticeFor('no-chat-model', { ...facts, ollama: 'up', chatModels: [] });
    assert.match(notice.message, /lists no chat model/);
    assert.ok(!notice.actions.some((a) => a.command === 'unlearn.walkthrough.pullModels'));
  });
});
