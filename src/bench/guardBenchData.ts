import type { ForgetTarget } from '../core/targets';

/** Seeded targets and texts for the leak-guard benchmark and the guard tests: the same every run. */

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES =
  'ka lo mi ren to va zu bel dor fin gar hul jin kes lam mor nix pol quin ras sol tur vex wyn yar zed an el or us ith ova eph ul ar ix om ei au yo'.split(
    ' ',
  );
const WORDS =
  'the of and to in is was it for on with as by at from this that be are we our their about after before over under report meeting budget plan team city river north south green summer quiet early late morning evening project review quarter sales data model answer question people company market product service customer value system support process result growth cost price build release version update issue change design research study paper method analysis time year week office'.split(
    ' ',
  );

/** Distinct two- or three-word names; every fifth target also has a one-word alias. */
export function generateTargets(count: number, seed = 42): ForgetTarget[] {
  const rnd = mulberry32(seed);
  const pick = () => SYLLABLES[Math.floor(rnd() * SYLLABLES.length)]!;
  const word = (syllables: number) => {
    let w = '';
    for (let i = 0; i < syllables; i++) w += pick();
    return w[0]!.toUpperCase() + w.slice(1);
  };
  const seen = new Set<string>();
  const out: ForgetTarget[] = [];
  while (out.length < count) {
    const name = `${word(2)} ${word(2 + Math.floor(rnd() * 2))}${rnd() < 0.1 ? ' ' + word(2) : ''}`;
    const key = name.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const i = out.length;
    const alias = i % 5 === 4 ? [word(3) + word(1)] : [];
    out.push({ id: `t${i}`, name, aliases: alias.filter((a) => !seen.has(a.toLowerCase())), enabled: true });
  }
  return out;
}

/** Ordinary prose with a mention of one of the first ten targets about every 2 KB. */
export function generateText(bytes: number, targets: readonly ForgetTarget[], seed = 7): string {
  const rnd = mulberry32(seed);
  const parts: string[] = [];
  let length = 0;
  let sinceMention = 0;
  while (length < bytes) {
    let w: string;
    if (sinceMention > 2_000 && targets.length > 0) {
      w = targets[Math.floor(rnd() * Math.min(10, targets.length))]!.name;
      sinceMention = 0;
    } else w = WORDS[Math.floor(rnd() * WORDS.length)]!;
    const sep = rnd() < 0.08 ? '. ' : rnd() < 0.05 ? ', ' : ' ';
    parts.push(w, sep);
    length += w.length + sep.length;
    sinceMention += w.length + sep.length;
  }
  return parts.join('').slice(0, bytes);
}
