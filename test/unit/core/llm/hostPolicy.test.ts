import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkOllamaHost,
  DEFAULT_OLLAMA_HOST,
  InvalidHostError,
  isLoopbackHost,
  parseOllamaHost,
} from '../../../../src/core/llm/hostPolicy';

describe('parseOllamaHost', () => {
  it('normalises the forms people write', () => {
    const cases: [string, string][] = [
      ['http://127.0.0.1:11434', 'http://127.0.0.1:11434'],
      ['http://127.0.0.1:11434/', 'http://127.0.0.1:11434'],
      ['  HTTP://LocalHost:8080  ', 'http://localhost:8080'],
      ['localhost', 'http://localhost:11434'],
      ['localhost:11434', 'http://localhost:11434'],
      ['127.0.0.1', 'http://127.0.0.1:11434'],
      ['0.0.0.0:11434', 'http://0.0.0.0:11434'],
      ['http://gpu-box', 'http://gpu-box:11434'],
      ['http://gpu-box:80', 'http://gpu-box:80'],
      ['https://ollama.example.com', 'https://ollama.example.com:443'],
      ['https://ollama.example.com:11434', 'https://ollama.example.com:11434'],
      ['https://proxy.example.com/ollama/', 'https://proxy.example.com:443/ollama'],
      ['[::1]', 'http://[::1]:11434'],
      ['http://[::1]:11500', 'http://[::1]:11500'],
    ];
    for (const [input, url] of cases) assert.equal(parseOllamaHost(input).url, url, input);
  });

  it('splits out hostname (no IPv6 brackets), port and protocol', () => {
    assert.deepEqual(parseOllamaHost('http://[::1]:9000'), { url: 'http://[::1]:9000', protocol: 'http:', hostname: '::1', port: 9000 });
    assert.deepEqual(parseOllamaHost(DEFAULT_OLLAMA_HOST), {
      url: 'http://127.0.0.1:11434',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 11434,
    });
  });

  it('rejects other schemes and says which ones work', () => {
    for (const input of ['ftp://127.0.0.1:11434', 'ws://localhost:11434', 'file:///tmp/ollama.sock', 'unix://ollama.sock']) {
      assert.throws(
        () => parseOllamaHost(input),
        (e: unknown) => e instanceof InvalidHostError && /only http:\/\/ and https:\/\//.test(e.message),
        input,
      );
    }
  });

  it('rejects credentials in the URL without repeating the password', () => {
    for (const input of ['http://alice:s3cret@127.0.0.1:11434', 'https://token@ollama.example.com', 'alice:s3cret@localhost:11434']) {
      assert.throws(
        () => parseOllamaHost(input),
        (e: unknown) =>
          e instanceof InvalidHostError && /credentials/.test(e.message) && !e.message.includes('s3cret') && !e.message.includes('token@'),
        input,
      );
    }
  });

  it('rejects empty, malformed, query and fragment hosts with a message, not a TypeError', () => {
    for (const input of [
      '',
      '   ',
      'http://',
      'http://exa mple:11434',
      'http://host:99999',
      'http://localhost:11434/?x=1',
      'http://localhost:11434/#top',
    ]) {
      const checked = checkOllamaHost(input);
      assert.equal(checked.ok, false, input);
      assert.ok(!checked.ok && checked.message.length > 20, input);
    }
  });
});

describe('isLoopbackHost', () => {
  it('accepts 127.0.0.0/8, ::1 and localhost', () => {
    for (const host of [
      'http://127.0.0.1:11434',
      '127.0.0.1',
      'http://127.255.10.3:1',
      'http://localhost:11434',
      'LOCALHOST',
      'http://ollama.localhost:11434',
      'http://[::1]:11434',
      'http://[0:0:0:0:0:0:0:1]:11434',
      'http://[::ffff:127.0.0.1]:11434',
      'https://localhost',
    ]) {
      assert.equal(isLoopbackHost(host), true, host);
    }
  });

  it('treats everything else as remote, including 0.0.0.0, LAN and look-alike names', () => {
    for (const host of [
      'http://0.0.0.0:11434',
      'http://192.168.1.20:11434',
      'http://10.0.0.1:11434',
      'http://128.0.0.1:11434',
      'http://[::2]:11434',
      'http://[::ffff:10.0.0.1]:11434',
      'http://localhost.example.com:11434',
      'http://127.0.0.1.nip.io:11434',
      'https://ollama.example.com',
      'ftp://127.0.0.1',
      'not a url at all',
    ]) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  it('takes a parsed host too', () => {
    assert.equal(isLoopbackHost(parseOllamaHost('localhost:11434')), true);
    assert.equal(isLoopbackHost(parseOllamaHost('gpu-box')), false);
  });
});
