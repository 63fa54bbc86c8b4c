import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LlmError, watchReachability, type LlmErrorCode, type LlmPort } from '../../../../src/core/llm';

/** A port whose every call resolves to `value`, or rejects with `error` when one is given. */
function fakePort(outcome: { error?: unknown }): LlmPort {
  const settle = <T>(value: T): Promise<T> => (outcome.error !== undefined ? Promise.reject(outcome.error) : Promise.resolve(value));
  return {
    host: 'http://127.0.0.1:11434',
    chat: () => settle({ content: 'hi' } as never),
    listModels: () => settle([]),
    showModel: () => settle({} as never),
    embed: () => settle([[1]]),
    pull: () => settle(undefined),
    version: () => settle('0.12.0'),
  };
}

const calls: [string, (p: LlmPort) => Promise<unknown>][] = [
  ['chat', (p) => p.chat({ model: 'm', messages: [] })],
  ['listModels', (p) => p.listModels()],
  ['showModel', (p) => p.showModel('m')],
  ['embed', (p) => p.embed('m', ['x'])],
  ['pull', (p) => p.pull('m', () => {})],
  ['version', (p) => p.version()],
];

describe('watchReachability', () => {
  for (const [name, call] of calls) {
    test(`${name}: an answer says reachable and is passed on unchanged`, async () => {
      const seen: boolean[] = [];
      const port = watchReachability(fakePort({}), (r) => seen.push(r));
      assert.deepEqual(await call(port), await call(fakePort({})));
      assert.deepEqual(seen, [true]);
    });
  }

  const cases: [LlmErrorCode | 'plain', boolean[]][] = [
    ['unreachable', [false]],
    ['http', [true]],
    ['model-missing', [true]],
    ['aborted', []],
    ['timeout', []],
    ['stream', []],
    ['plain', []],
  ];
  for (const [code, expected] of cases) {
    test(`a ${code} failure ${expected.length ? `says ${expected[0] ? 'reachable' : 'unreachable'}` : 'says nothing'} and is rethrown as it was`, async () => {
      const error = code === 'plain' ? new Error('boom') : new LlmError(code, code);
      for (const [, call] of calls) {
        const seen: boolean[] = [];
        const port = watchReachability(fakePort({ error }), (r) => seen.push(r));
        await assert.rejects(call(port), (e) => e === error);
        assert.deepEqual(seen, expected);
      }
    });
  }

  test('the host is the wrapped port’s', () => {
    assert.equal(watchReachability(fakePort({}), () => {}).host, 'http://127.0.0.1:11434');
  });
});
