import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openaiFix, serverFix, serverOf } from '../../../src/cli/server';

describe('CLI server choice', () => {
  it('defaults to the local Ollama, from --host, then $OLLAMA_HOST', () => {
    assert.deepEqual(serverOf({}, {}), { provider: 'ollama', host: 'http://127.0.0.1:11434' });
    assert.deepEqual(serverOf({}, { OLLAMA_HOST: 'http://box:11434' }), { provider: 'ollama', host: 'http://box:11434' });
    assert.deepEqual(serverOf({ host: 'http://h:1' }, { OLLAMA_HOST: 'http://box:11434' }), { provider: 'ollama', host: 'http://h:1' });
  });

  it('openai takes the base URL from the flag or $UNLEARN_BASE_URL and the key only from $UNLEARN_API_KEY', () => {
    assert.deepEqual(serverOf({ provider: 'openai', 'base-url': 'http://gpu:8000/v1' }, { UNLEARN_API_KEY: ' sk-1 ' }), {
      provider: 'openai',
      host: 'http://gpu:8000/v1',
      apiKey: 'sk-1',
    });
    assert.deepEqual(serverOf({}, { UNLEARN_PROVIDER: 'openai', UNLEARN_BASE_URL: 'http://gpu:8000/v1' }), {
      provider: 'openai',
      host: 'http://gpu:8000/v1',
    });
  });

  it('a separate embedding server comes from --embedding-base-url or $UNLEARN_EMBEDDING_BASE_URL, for openai only', () => {
    assert.deepEqual(serverOf({ provider: 'openai', 'base-url': 'http://g:8000/v1', 'embedding-base-url': 'http://g:8001/v1' }, {}), {
      provider: 'openai',
      host: 'http://g:8000/v1',
      embeddingHost: 'http://g:8001/v1',
    });
    assert.equal(
      (
        serverOf({ provider: 'openai', 'base-url': 'http://g/v1' }, { UNLEARN_EMBEDDING_BASE_URL: 'http://e/v1' }) as {
          embeddingHost?: string;
        }
      ).embeddingHost,
      'http://e/v1',
    );
    assert.match(String(serverOf({ 'embedding-base-url': 'http://e/v1' }, {})), /--embedding-base-url is for --provider openai/);
  });

  it('never falls back: openai without a base URL, or mixed address flags, are usage errors', () => {
    assert.match(String(serverOf({ provider: 'openai' }, { OLLAMA_HOST: 'http://127.0.0.1:11434' })), /needs --base-url/);
    assert.match(
      String(serverOf({ provider: 'openai', host: 'http://h:1', 'base-url': 'http://g/v1' }, {})),
      /--host is the Ollama server/,
    );
    assert.match(String(serverOf({ 'base-url': 'http://g/v1' }, {})), /--base-url is for --provider openai/);
    assert.match(String(serverOf({ provider: 'vllm' }, {})), /--provider must be one of ollama, openai, got "vllm"/);
  });

  it('names the flag to fix for each provider', () => {
    assert.match(serverFix({ provider: 'openai' }), /--base-url/);
    assert.match(serverFix({ provider: 'ollama' }), /--host/);
    assert.match(openaiFix('auth', { provider: 'openai' })!, /UNLEARN_API_KEY/);
    assert.match(openaiFix('overloaded', { provider: 'openai' })!, /--parallel/);
    assert.match(openaiFix('context-length', { provider: 'openai' })!, /--num-ctx/);
    assert.equal(openaiFix('auth', { provider: 'ollama' }), undefined);
  });
});
