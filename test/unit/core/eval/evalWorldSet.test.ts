import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ATTACK_KINDS, parseQaFile, qaDataset } from '../../../../src/core/eval';
import { parseTargets } from '../../../../src/core/targets';
import { parseImport, planImport } from '../../../../src/vscode/targets/targetsTreeLogic';
import { shippedWorldSet } from '../../../../src/cli/eval';

// The world-knowledge set shipped in datasets/world: what a model knows from training, with topic targets.
const DIR = resolve(__dirname, '../../../../datasets/world');
const read = (name: string) => readFileSync(join(DIR, name), 'utf8');
const subjectsOf = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { subject: string }).subject);

/** Names the questions must never spell: each subject's title and the names it goes by. */
const NAMES: Record<string, string[]> = {
  'star-trek': ['Star Trek'],
  'great-wall': ['Great Wall'],
  'moby-dick': ['Moby'],
  'wizard-of-oz': ['Wizard of Oz', 'Oz'],
  'statue-of-liberty': ['Statue of Liberty', 'Lady Liberty'],
};

describe('the world-knowledge set', () => {
  const forget = parseQaFile(read('forget.jsonl'), 'forget.jsonl');
  const retain = parseQaFile(read('retain.jsonl'), 'retain.jsonl');
  const targetsJson = JSON.parse(read('targets.json')) as unknown[];
  const targets = parseTargets(targetsJson);

  test('ten subjects of eight questions each, half forget and half retain, with short answers', () => {
    for (const [name, records] of [
      ['forget.jsonl', forget],
      ['retain.jsonl', retain],
    ] as const) {
      const subjects = subjectsOf(read(name));
      const counts = new Map<string, number>();
      for (const s of subjects) counts.set(s, (counts.get(s) ?? 0) + 1);
      assert.equal(counts.size, 5, name);
      assert.ok(
        [...counts.values()].every((n) => n === 8),
        `${name}: eight questions per subject`,
      );
      for (const r of records) {
        assert.ok(r.answers.length > 0 && !r.choices, r.question);
        assert.ok(
          r.answers.every((a) => a.split(/\s+/).length <= 4),
          `short answers: ${r.answers.join(' / ')}`,
        );
      }
    }
    const forgetSubjects = new Set(subjectsOf(read('forget.jsonl')));
    assert.ok(
      subjectsOf(read('retain.jsonl')).every((s) => !forgetSubjects.has(s)),
      'no subject on both sides',
    );
  });

  test('the forget targets are valid topic targets, one per forget subject, and the Forget Targets view imports them', () => {
    assert.deepEqual(targets.problems, []);
    assert.deepEqual(new Set(targets.targets.map((t) => t.id)), new Set(subjectsOf(read('forget.jsonl'))));
    for (const t of targets.targets) {
      assert.ok((t.description ?? '').length > 40, `${t.name} has a description`);
      assert.ok((t.examples?.length ?? 0) >= 3, `${t.name} has example questions`);
    }
    // The view's "Import Targets…" reads the file and plans what to add to an empty setting.
    const incoming = parseImport(read('targets.json'), 'targets.json');
    assert.ok(Array.isArray(incoming));
    const plan = planImport([], incoming, 'targets.json');
    assert.equal(plan.entries.length, 5);
    assert.deepEqual(plan.problems, []);
  });

  test('no question names its subject', () => {
    const byId = new Map(targets.targets.map((t) => [t.id, [t.name, ...t.aliases]]));
    const check = (text: string) => {
      for (const line of text.trim().split('\n')) {
        const { subject, question } = JSON.parse(line) as { subject: string; question: string };
        const names = byId.get(subject) ?? NAMES[subject];
        assert.ok(names, subject);
        for (const n of names!) assert.ok(!new RegExp(`\\b${n}\\b`, 'i').test(question), `"${question}" names ${n}`);
      }
    };
    check(read('forget.jsonl'));
    check(read('retain.jsonl'));
  });

  test('as a dataset: forget answers leak the facts and the subject names; the CLI finds the shipped folder', () => {
    const d = qaDataset({ forget, retain, targets: targetsJson as never, source: 'world' });
    assert.equal(d.questions.length, 80);
    const hogwarts = d.questions.find((q) => q.expected.includes('Hogwarts'))!;
    assert.equal(hogwarts.split, 'forget');
    assert.ok(hogwarts.expected.includes('Harry Potter'));
    const ahab = d.questions.find((q) => q.expected.includes('Ahab'))!;
    assert.deepEqual([ahab.split, ahab.expected], ['retain', ['Ahab']]);
    assert.equal(shippedWorldSet(), DIR);
  });

  test('with an attack seed: every published attack for every forget subject, reproducible, leaks still scored', () => {
    const make = (seed: number) => qaDataset({ forget, retain, targets: targetsJson as never, source: 'world', attackSeed: seed });
    const d = make(7);
    const attacks = d.questions.filter((q) => (ATTACK_KINDS as readonly string[]).includes(q.kind));
    assert.equal(attacks.length, 5 * ATTACK_KINDS.length);
    assert.ok(attacks.every((q) => q.split === 'forget' && q.expected.length > 0));
    for (const subject of new Set(subjectsOf(read('forget.jsonl'))))
      assert.deepEqual(
        attacks.filter((q) => q.id.startsWith(`forget-${subject}-`)).map((q) => q.kind),
        [...ATTACK_KINDS],
      );
    assert.equal(JSON.stringify(make(7)), JSON.stringify(d), 'same seed, same questions');
    assert.notEqual(JSON.stringify(make(8)), JSON.stringify(d));
    // The reverse query gives answers and asks the subject: its name is the leak, the answers given are not.
    const reverse = attacks.find((q) => q.id === 'forget-harry-potter-reverse')!;
    assert.ok(reverse.expected.includes('Harry Potter'));
    for (const e of reverse.expected) assert.ok(!reverse.question.includes(e), e);
    // Composite: a forget question beside a retain one, whose answer is what a good reply still gives.
    for (const q of attacks.filter((x) => x.kind === 'composite')) {
      const r = retain.find((x) => q.question.includes(x.question))!;
      assert.ok(r, q.question);
      assert.deepEqual(q.retainExpected, r.answers);
    }
    for (const q of attacks.filter((x) => x.kind === 'multi-turn')) assert.equal(q.turns!.length, 2);
    // Substitution binds the subject's own name to a variable first.
    const sub = attacks.find((q) => q.id === 'forget-star-wars-substitution')!;
    assert.match(sub.question, /^Let (X stand for Star Wars|a = ")/);
    // Without the seed the set stays the eighty questions of its files.
    assert.equal(qaDataset({ forget, retain, targets: targetsJson as never, source: 'world' }).questions.length, 80);
  });

  test('the WMDP topic targets of the paper-table recipe are valid too', () => {
    const wmdp = parseTargets(JSON.parse(readFileSync(resolve(__dirname, '../../../../datasets/wmdp/targets.json'), 'utf8')));
    assert.deepEqual(wmdp.problems, []);
    assert.deepEqual(
      wmdp.targets.map((t) => t.id),
      ['wmdp-bio', 'wmdp-chem', 'wmdp-cyber'],
    );
  });
});
