/**
 * Deterministic embeddings for the scripted Ollama's /api/embed that behave like a (weak) real model:
 * texts that share words, word stems or general concepts are near; unrelated texts are not. Nothing is
 * keyed on test sentences. Three feature families, hashed into the vector:
 *  - content words (stop words dropped, plurals folded), weight 1;
 *  - character trigrams of those words, weight 0.25 (misspellings and inflections stay close);
 *  - concepts from a small general-purpose table (a word about schools lights up "education"), weight 1.2.
 * Task prefixes (`search_query: `, `task: … | query: `) are dropped, as a real model learns to look past them.
 */
import { fnv1a } from '../../src/core/targets/target';
export function scriptedEmbedding(text: string, dims = 64): number[] {
  const vector = new Array<number>(dims).fill(0);
  // Like a Matryoshka-trained model, the leading 256 dimensions carry everything on their own (a
  // profile may cut there); the rest repeat the features under another hash.
  const lead = Math.min(dims, 256);
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    vector[h % lead]! += h & 0x80000000 ? -weight : weight;
    if (dims > lead) {
      const g = fnv1a(feature + '#');
      vector[lead + (g % (dims - lead))]! += g & 0x80000000 ? -weight : weight;
    }
  };
  const body = text.replace(PREFIX, '');
  for (const word of contentWords(body)) {
    add(`w:${word}`, 1);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 0.25);
    for (const concept of CONCEPT_OF.get(word) ?? []) add(`c:${concept}`, 1.2);
  }
  const norm = Math.hypot(...vector);
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((v) => v / norm);
}

const PREFIX =
  /^(?:search_query: |search_document: |task: [^|]*\| query: |title: [^|]*\| text: |Represent this sentence for searching relevant passages: )/;

const STOP = new Set(
  'a an the and or but of to in on at by for with from as is are was were be been being do does did have has had i you he she it we they me him her us them my your his its our their this that these those what which who whom whose when where why how can could would should will shall may might must not no yes so if then than there here about into over under up down out tell please know any some all more most very just also'.split(
    ' ',
  ),
);

function contentWords(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words
    .filter((w) => w.length > 1 && !STOP.has(w))
    .map((w) => (w.length > 4 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w));
}

/**
 * General concepts, the kind any embedding model has learnt: each line is a concept and words that
 * evoke it. Shared by every test; add general words, never a test's proper names.
 */
const CONCEPTS: Record<string, string> = {
  education:
    'school academy college university headmaster headmistress principal teacher professor pupil student class classroom lesson term dormitory',
  magic: 'magic magical wizard witch wizarding witchcraft sorcery sorcerer spell wand potion enchanted curse',
  medicine: 'doctor physician dr surgeon nurse hospital clinic patient medicine medical diagnosis treatment cardiologist',
  finance: 'bank money finance financial loan invoice payment account budget revenue profit investor fund',
  business: 'company client customer contract deal firm corporation business partner office supplier',
  aviation: 'aircraft plane airplane jet pilot flight wing airline drone',
  sea: 'sea ocean ship boat sailor harbour harbor port captain navy vessel',
  music: 'music song band album singer guitar concert orchestra composer melody',
  food: 'food cook cooking recipe bake kitchen chef meal dish restaurant egg',
  software: 'software code program programming computer python javascript developer bug server database',
  war: 'war battle army soldier military weapon general troop',
  family: 'mother father parent son daughter brother sister wife husband family child',
  book: 'book novel author writer story chapter series publish published character fiction',
  film: 'film movie actor actress director cinema scene screen',
  law: 'law lawyer court judge trial lawsuit legal attorney',
  villain: 'villain evil dark lord enemy murderer',
  weather: 'weather rain sun snow forecast temperature wind storm',
  sport: 'sport football soccer tennis game team player match score',
  research: 'research project programme program experiment laboratory lab prototype scientist',
};

const CONCEPT_OF = new Map<string, string[]>();
for (const [concept, words] of Object.entries(CONCEPTS)) {
  for (const w of words.split(' ')) CONCEPT_OF.set(w, [...(CONCEPT_OF.get(w) ?? []), concept]);
}
