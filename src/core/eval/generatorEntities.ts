/** Invented material for the synthetic dataset: syllable names, fact tables, linked entity groups. */

import { Random } from './random';
import type { EntityType, EvalEntity, EvalFact } from './types';

// --- word material --------------------------------------------------------------------------------

const ONSETS = ['br', 'v', 'qu', 'th', 'm', 'k', 'l', 'dr', 'z', 'f', 'gr', 'n', 'sk', 'h', 'p', 'st', 'c', 'r', 't', 'w'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ae', 'ei', 'ou', 'y'];
const CODAS = ['', 'n', 'r', 'l', 'x', 'sk', 'nd', 'th', 'm', 'v', 'st', 'rn'];
const COMPANY_SUFFIXES = ['Dynamics', 'Works', 'Labs', 'Foundry', 'Systems', 'Collective', 'Instruments', 'Mills'];
const PROFESSIONS = [
  'glassblower',
  'tide engineer',
  'archivist',
  'cartographer',
  'beekeeper',
  'harpsichord tuner',
  'seismologist',
  'typesetter',
  'falconer',
  'lens grinder',
];
const HOBBIES = [
  'collecting brass sextants',
  'building ice kites',
  'breeding blue snails',
  'restoring tram bells',
  'carving chess sets from driftwood',
  'mapping abandoned wells',
];
const PRODUCTS = [
  'tide turbines',
  'paper batteries',
  'moss insulation panels',
  'silent drones',
  'salt-glass lenses',
  'cork bicycles',
  'fog harvesters',
];
const GOALS = [
  'mapping kelp forests with drones',
  'teaching parrots to sort mail',
  'storing heat in volcanic sand',
  'growing coral on old ferries',
  'printing bridges from river clay',
  'counting glaciers from balloons',
];
const QUALIFIERS = ['northern', 'coastal', 'miniature', 'portable', 'solar', 'winter', 'night', 'silver'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const LANDMARK_NOUNS = ['Bell Tower', 'Salt Arch', 'Copper Bridge', 'Lantern Gate', 'Whale Stair', 'Owl Clock'];

function word(rng: Random, syllables: number): string {
  let w = '';
  for (let i = 0; i < syllables; i++) w += rng.pick(ONSETS) + rng.pick(VOWELS) + (i === syllables - 1 ? rng.pick(CODAS) : '');
  return w.charAt(0).toUpperCase() + w.slice(1);
}

// --- facts ----------------------------------------------------------------------------------------

interface FactSpec {
  readonly key: string;
  /** The fact's noun phrase in English ("birth year") and in the languages questions are asked in. */
  readonly names: { readonly en: string; readonly es: string; readonly fr: string; readonly de: string };
  readonly value: (rng: Random) => string;
  /** The fact as a clause of the notes ("was born in 1961"). */
  readonly clause: (value: string) => string;
  /** Describes the entity by this fact, without its name ("the person who was born in 1961"). */
  readonly describe: (value: string) => string;
}

const FACTS: Record<EntityType, readonly FactSpec[]> = {
  person: [
    {
      key: 'profession',
      names: { en: 'profession', es: 'la profesión', fr: 'le métier', de: 'der Beruf' },
      value: (r) => r.pick(PROFESSIONS),
      clause: (v) => `works as ${/^[aeiou]/i.test(v) ? 'an' : 'a'} ${v}`,
      describe: (v) => `the ${v} in my notes`,
    },
    {
      key: 'birthYear',
      names: { en: 'birth year', es: 'el año de nacimiento', fr: "l'année de naissance", de: 'das Geburtsjahr' },
      value: (r) => String(r.int(1941, 1994)),
      clause: (v) => `was born in ${v}`,
      describe: (v) => `the person in my notes who was born in ${v}`,
    },
    {
      key: 'hobby',
      names: { en: 'hobby', es: 'el pasatiempo', fr: 'le passe-temps', de: 'das Hobby' },
      value: (r) => r.pick(HOBBIES),
      clause: (v) => `spends weekends ${v}`,
      describe: (v) => `the person who spends weekends ${v}`,
    },
  ],
  company: [
    {
      key: 'founded',
      names: { en: 'founding year', es: 'el año de fundación', fr: "l'année de fondation", de: 'das Gründungsjahr' },
      value: (r) => String(r.int(1952, 2019)),
      clause: (v) => `was founded in ${v}`,
      describe: (v) => `the company in my notes founded in ${v}`,
    },
    {
      key: 'product',
      names: { en: 'main product', es: 'el producto principal', fr: 'le produit principal', de: 'das Hauptprodukt' },
      value: (r) => r.pick(PRODUCTS),
      clause: (v) => `makes ${v}`,
      describe: (v) => `the company that makes ${v}`,
    },
    {
      key: 'employees',
      names: { en: 'number of employees', es: 'el número de empleados', fr: "le nombre d'employés", de: 'die Zahl der Mitarbeiter' },
      value: (r) => String(r.int(14, 940)),
      clause: (v) => `employs ${v} people`,
      describe: (v) => `the company in my notes with ${v} employees`,
    },
  ],
  project: [
    {
      key: 'budget',
      names: { en: 'budget', es: 'el presupuesto', fr: 'le budget', de: 'das Budget' },
      value: (r) => `${r.int(2, 9)}.${r.int(1, 9)} million euros`,
      clause: (v) => `has a budget of ${v}`,
      describe: (v) => `the project with a budget of ${v}`,
    },
    {
      key: 'launch',
      names: { en: 'launch date', es: 'la fecha de lanzamiento', fr: 'la date de lancement', de: 'das Startdatum' },
      value: (r) => `${r.pick(MONTHS)} ${r.int(2027, 2034)}`,
      clause: (v) => `launches in ${v}`,
      describe: (v) => `the project that launches in ${v}`,
    },
    {
      key: 'goal',
      names: { en: 'goal', es: 'el objetivo', fr: "l'objectif", de: 'das Ziel' },
      value: (r) => r.pick(GOALS),
      clause: (v) => `aims at ${v}`,
      describe: (v) => `the project aimed at ${v}`,
    },
  ],
  place: [
    {
      key: 'population',
      names: { en: 'population', es: 'la población', fr: 'la population', de: 'die Einwohnerzahl' },
      value: (r) => String(r.int(1200, 98000)),
      clause: (v) => `has ${v} inhabitants`,
      describe: (v) => `the town in my notes with ${v} inhabitants`,
    },
    {
      key: 'river',
      names: { en: 'river', es: 'el río', fr: 'la rivière', de: 'der Fluss' },
      value: (r) => word(r, 2),
      clause: (v) => `lies on the river ${v}`,
      describe: (v) => `the town on the river ${v}`,
    },
    {
      key: 'landmark',
      names: {
        en: 'best-known landmark',
        es: 'el monumento más conocido',
        fr: 'le monument le plus connu',
        de: 'das bekannteste Wahrzeichen',
      },
      value: (r) => `${word(r, 1)} ${r.pick(LANDMARK_NOUNS)}`,
      clause: (v) => `is known for the ${v}`,
      describe: (v) => `the town known for the ${v}`,
    },
  ],
};

export function specOf(type: EntityType, key: string): FactSpec {
  return FACTS[type].find((f) => f.key === key)!;
}

// --- entities -------------------------------------------------------------------------------------

/** A group of four linked entities: a person works for the company, comes from the town and leads the project. */
export interface Group {
  readonly person: EvalEntity;
  readonly company: EvalEntity;
  readonly project: EvalEntity;
  readonly place: EvalEntity;
}

export const TYPES: readonly EntityType[] = ['person', 'company', 'project', 'place'];

function invent(rng: Random, type: EntityType, used: Set<string>): { name: string; aliases: string[] } {
  for (;;) {
    let name: string;
    let aliases: string[];
    if (type === 'person') {
      const first = word(rng, 2);
      const last = word(rng, 2);
      name = `${first} ${last}`;
      aliases = [`${first.charAt(0)}. ${last}`];
    } else if (type === 'company') {
      const base = word(rng, 2);
      name = `${base} ${rng.pick(COMPANY_SUFFIXES)}`;
      aliases = [base];
    } else if (type === 'project') {
      const code = word(rng, 2);
      name = `Project ${code}`;
      aliases = [code];
    } else {
      name = word(rng, 2) + rng.pick(['ford', 'holm', 'wick', 'stead', 'mouth', 'by']);
      aliases = [];
    }
    const keys = [name, ...aliases].map((n) => n.toLowerCase());
    if (keys.some((k) => used.has(k) || k.length < 4)) continue;
    for (const k of keys) used.add(k);
    return { name, aliases };
  }
}

export function makeGroups(rng: Random, count: number): Group[] {
  const used = new Set<string>();
  const usedValues = new Set<string>();
  const groups: Group[] = [];
  for (let g = 0; g < count; g++) {
    const entity = (type: EntityType): EvalEntity => {
      const { name, aliases } = invent(rng, type, used);
      // Values are unique across the dataset, so a fact in an answer points at one entity only.
      const facts: EvalFact[] = FACTS[type].map((spec) => {
        let value = spec.value(rng);
        // Small word pools run out on big datasets; a qualifier keeps later values distinct.
        for (let tries = 0; usedValues.has(value.toLowerCase()) && tries < 200; tries++)
          value = tries < 10 ? spec.value(rng) : `${rng.pick(QUALIFIERS)} ${spec.value(rng)}`;
        usedValues.add(value.toLowerCase());
        return { key: spec.key, value };
      });
      return { id: `${type}-${g + 1}`, type, name, aliases, facts, split: 'retain' };
    };
    groups.push({ person: entity('person'), company: entity('company'), project: entity('project'), place: entity('place') });
  }
  return groups;
}
