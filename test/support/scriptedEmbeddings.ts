/**
 * Deterministic embeddings for the scripted Ollama's /api/embed that behave like a (weak) real model:
 * texts that share words, word stems or general concepts are near; unrelated texts are not, but they
 * are not far either. Nothing is keyed on test sentences. Feature families, hashed into the vector:
 *  - content words (stop words dropped, plurals folded), weight 1;
 *  - character trigrams of those words, weight 0.25 (misspellings and inflections stay close);
 *  - concepts from a general lexicon (a word about schools lights up "education"), weight 1.2. The
 *    lexicon holds ordinary English words only (every one is among the 20,000 most frequent; a test
 *    checks it), written as concepts, not to join one test question to one target: a paraphrase made
 *    of rare words ("sleuth", "leviathan") finds nothing, as with a small real model;
 *  - the sentence's frame (its function words: "what is", "how do I"), weight 0.35: questions sit nearer
 *    each other than to descriptions, as with real models.
 * With `bunching`, a direction every text shares is mixed in, so unrelated texts score about 0.3 and
 * related ones 0.5 to 0.8 instead of 0 and 0.5: real models bunch similarities like this, which is why
 * their thresholds need calibrating. Off by default: the pipeline's own tests keep the plainer model.
 * Task prefixes (`search_query: `, `task: … | query: `) are dropped, as a real model learns to look past them.
 */
import { fnv1a } from '../../src/core/targets/target';

/** A concept weighs more than a word: it is what a model has learnt words share. */
const CONCEPT_WEIGHT = 2.5;

/** A realistic weight for `bunching`: the shared direction's share, relative to the text's own (unit) features. */
export const REALISTIC_BUNCHING = 0.65;

export function scriptedEmbedding(text: string, dims = 64, bunching = 0): number[] {
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
    for (const concept of CONCEPT_OF.get(word) ?? []) add(`c:${concept}`, CONCEPT_WEIGHT);
  }
  for (const word of frameWords(body)) add(`f:${word}`, 0.2);
  const norm = Math.hypot(...vector);
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  // The shared direction: the same unit vector for every text, spread over the leading dimensions.
  if (bunching === 0) return vector.map((v) => v / norm);
  const shared = bunching / Math.sqrt(lead);
  return normalise(vector.map((v, i) => v / norm + (i < lead ? shared * (fnv1a(`bunch:${i}`) & 1 ? 1 : -1) : 0)));
}

function normalise(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const PREFIX =
  /^(?:search_query: |search_document: |task: [^|]*\| query: |title: [^|]*\| text: |Represent this sentence for searching relevant passages: )/;

const STOP = new Set(
  'a an the and or but of to in on at by for with from as is are was were be been being do does did have has had i you he she it we they me him her us them my your his its our their this that these those what which who whom whose when where why how can could would should will shall may might must not no yes so if then than there here about into over under up down out tell please know any some all more most very just also'.split(
    ' ',
  ),
);

function frameWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}]+/gu) ?? []).filter((w) => STOP.has(w));
}

function contentWords(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words
    .filter((w) => w.length > 1 && !STOP.has(w))
    .map((w) => (w.length > 4 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w));
}

/**
 * General concepts, the kind any embedding model has learnt: each line is a concept and ordinary words
 * that evoke it. Shared by every test; add general words, never a test's proper names or rare words
 * (lexicon.test.ts holds every word to the 20,000 most frequent English words).
 */
export const CONCEPTS: Readonly<Record<string, string>> = {
  education: 'school academy college university headmaster principal teacher professor pupil student class classroom lesson term dormitory',
  magic:
    'owl broom broomstick serpent snake mirror magic magical wizard witch witchcraft sorcerer spell wand potion enchanted curse cursed fairy dragon goblin elf dwarf giant',
  medicine: 'doctor physician dr surgeon nurse hospital clinic patient medicine medical diagnosis treatment',
  finance:
    'bank money finance financial loan invoice payment account budget revenue profit investor fund funds funding sponsor paying paid',
  business: 'company client customer contract deal firm corporation business partner office supplier sponsor',
  aviation: 'aircraft plane airplane jet pilot flight wing airline drone autopilot aerial flying',
  sea: 'steamer sailing mast beast coffin island bay ferry sea ocean ship boat sailor harbour harbor port captain navy vessel voyage whale harpoon wreck sink sank sinking crew',
  music:
    'sang sing singing rooftop track music song band album singer guitar concert orchestra composer melody drummer record recorded tour touring',
  food: 'food cook cooking recipe bake kitchen chef meal dish restaurant egg bread',
  software: 'software code program programming computer python developer bug server database',
  war: 'war battle army soldier military weapon general troop defence defense fort fortress siege',
  family: 'mother father parent son daughter brother sister wife husband family child',
  book: 'book novel author writer story chapter series publish published character fiction tale epic',
  film: 'cartoon animated voice voices blockbuster musical broadway credits cast film movie actor actress director cinema scene screen episode television show sitcom',
  law: 'law lawyer court judge trial lawsuit legal attorney',
  villain: 'villain evil dark lord enemy murderer',
  weather: 'weather rain sun snow forecast temperature wind storm',
  sport: 'sport football soccer tennis game team player match score',
  research: 'research project programme program experiment laboratory lab prototype scientist',
  crime: 'inspector gang criminal mastermind deduction detective investigator police crime mystery clue murder case thief stole stolen',
  space:
    'surface descent capsule astronauts crew orbit rocket space astronaut moon lunar planet galaxy star spaceship starship alien launch',
  // A statue and a tower are both landmarks, and a model files them near each other through the landmark
  // words, but a torch or a robe is no nearer a tower than to any other building: two concepts, not one.
  statue: 'statue sculpture figure bust pedestal torch crown robe bronze marble plaque monument landmark memorial',
  tower: 'tower tallest tall taller height structure metal iron steel skyscraper monument landmark',
  art: 'renaissance woman expression painter art artist painting painted paint portrait canvas museum gallery masterpiece sculptor sculpture',
  mountain: 'peak tallest camp guides death zone mountain summit climb climber climbing expedition altitude ridge',
  transport: 'shipping freight cargo delivery warehouse truck courier distribution supply',
  ancient: 'chamber royal burial stones ancient king queen emperor empire dynasty tomb temple pharaoh pyramid ruins',
  navigation: 'planner obstacle gps navigation route map direction guidance sensor sensors robot',
  fantasy: 'quest creature creatures king throne elves dwarves giant giants ring sword knight castle kingdom',
  work: 'heads chief principal architect developer reviews signed colleague engineer manager staff employee boss lead owner senior junior',
};
const CONCEPT_OF = new Map<string, string[]>();
for (const [concept, words] of Object.entries(CONCEPTS)) {
  for (const w of words.split(' ')) CONCEPT_OF.set(w, [...(CONCEPT_OF.get(w) ?? []), concept]);
}
