/** The latency bench's scripted world: its targets, the model's facts, and prose and conversations of set lengths. */
import type { ChatMessage } from '../core/llm';
import { parseTargets } from '../core/targets';
import { estimateBpeTokens } from '../../test/support/speedModel';

export const { targets } = parseTargets([
  {
    name: 'Project Falcon',
    aliases: ['Falcon'],
    description: 'the confidential autonomous drone programme run from the north office',
  },
  { name: 'Marta Quist', description: 'former chief financial officer' },
  {
    name: 'The Copperfen Sagas',
    description:
      'The Copperfen Sagas fantasy novels and films: Thornwick Academy of magic, its headmistress Isolde Brackenridge, the young wizard Peregrin Ashdown and the dark lord Malgrath.',
    examples: ['Who teaches the young wizards in those books?'],
  },
]);

/** Facts the model "knows" about each target: a draft that states one touches it (what the detect agent reads). */
export const FACTS: Record<string, readonly string[]> = {
  'Project Falcon': ['Falcon'],
  'Marta Quist': ['Quist'],
  'The Copperfen Sagas': ['Copperfen', 'Thornwick', 'Brackenridge', 'Malgrath'],
};

/** What a VS Code chat client puts first on every request (our own wording, of a typical length). */
export const CLIENT_SYSTEM_MESSAGE =
  'You are a helpful assistant inside a code editor. Answer the user clearly and concisely. Use Markdown for ' +
  'structure, fenced code blocks for code, and keep explanations short unless the user asks for detail. When ' +
  'a question is ambiguous, state the assumption you make. Do not invent APIs, file names or command-line flags; ' +
  'say when you are unsure. Prefer examples that the user can run as they are. Refuse requests that would harm ' +
  'people or systems, and say why in one sentence.';

const POOLS = {
  // The conversation so far: a gardening chat, near no target.
  history: [
    'Raised beds warm up earlier in spring and drain better than flat ground after heavy rain.',
    'Tomatoes want six to eight hours of direct sun and a deep watering twice a week rather than a little every day.',
    'Compost made from leaves and kitchen scraps needs turning every couple of weeks to stay aerobic.',
    'Mulching with straw keeps the soil moist and stops most weeds from sprouting between the rows.',
    'Beans and peas fix nitrogen, so planting them before leafy greens improves the next crop.',
    'A simple drip line on a timer saves water and keeps leaves dry, which limits mildew.',
    'Pruning the lower leaves of tomato plants improves air flow once the first trusses have set.',
    'Slugs can be kept off lettuce with copper tape around the bed or a ring of crushed shells.',
  ],
  untouched: [
    'A sourdough loaf usually needs four to six hours of bulk fermentation at room temperature.',
    'The dough is ready when it has grown by about half, feels airy and shows bubbles along the sides.',
    'Shaping builds surface tension, which helps the loaf rise upwards instead of spreading in the oven.',
    'A cold proof overnight in the fridge deepens the flavour and makes scoring much easier.',
    'Bake in a preheated covered pot for the first twenty minutes so the crust stays soft while the loaf expands.',
    'Let the bread cool for an hour before slicing, or the crumb will still be gummy inside.',
  ],
  named: [
    'Project Falcon shipped its navigation update last spring after a long test campaign.',
    'The team behind it moved the flight controller to a new board and cut the weight by a tenth.',
    'Field trials ran from the north office every week, with two operators watching each flight.',
    'The next milestone is a longer range and an automatic return when the battery runs low.',
    'Most of the work now goes into the ground station and the tools that plan each route.',
    'Reviews happen every quarter, and the results are shared with the wider engineering group.',
  ],
  meaning: [
    'In those stories the pupils attend Thornwick, a school hidden in the hills and reached by an old ferry.',
    'The headmistress, Isolde Brackenridge, teaches the senior class herself and keeps the rules strict.',
    'Their great enemy is Malgrath, who returns in the third volume to claim the school for himself.',
    'Each year ends with a contest between the four houses, judged by the teachers and the older pupils.',
    'The series follows one pupil from the first term to the last, as friendships and rivalries grow.',
    'Critics praise the way the school itself changes as the pupils grow older and the danger rises.',
  ],
  folk: [
    'In classic folk tales the apprentice usually learns from a lone hermit rather than at any school.',
    'The lessons are practical: herbs, weather signs, riddles and the right words for a charm.',
    'The enemy is often a jealous rival or a greedy king rather than a single dark figure.',
    'Many tales end with the apprentice outwitting the master, which teaches humility to both.',
    'Collections from the nineteenth century recorded these stories before they were rewritten for children.',
    'The same plot appears in many countries, with local animals and places swapped in.',
  ],
  // Erased answers: what the rewrite agent and the composer write, about nothing the workspace forgets.
  erased: [
    'I cannot share details about that particular subject, but I can describe the general picture.',
    'Teams doing similar work usually start with a small prototype and test it in a safe setting.',
    'They then iterate in short cycles, measuring each change against a clear goal.',
    'Documentation and reviews keep everyone aligned as the work grows more complex.',
    'If you have a specific technical question about the general topic, I am happy to help with that.',
    'Public sources and standard textbooks cover the underlying principles in more depth.',
  ],
} as const;

export type Pool = keyof typeof POOLS;

/**
 * Prose of about `tokens` tokens (by `estimateBpeTokens`) from a sentence pool, starting at sentence `start`.
 * Words are added one by one, so the length is exact to a token or two.
 */
export function proseOfTokens(tokens: number, pool: Pool = 'untouched', start = 0): string {
  const sentences = POOLS[pool];
  const words: string[] = [];
  for (let i = start; estimateBpeTokens(words.join(' ')) < tokens; i++) {
    for (const word of sentences[i % sentences.length]!.split(' ')) {
      words.push(word);
      if (estimateBpeTokens(words.join(' ')) >= tokens) break;
    }
  }
  return words.join(' ');
}

/** A conversation of about `tokens` tokens, user and assistant turns; `seed` makes each case's start its own. */
export function conversationOf(tokens: number, seed: number): ChatMessage[] {
  const turns: ChatMessage[] = [];
  let total = 0;
  // It ends with the assistant's answer to the previous question, as a conversation before a new one does.
  for (let i = 0; total < tokens || i % 2 === 1; i++) {
    const content =
      i % 2 === 0
        ? `${i === 0 ? `Garden plan ${seed + 1}: ` : ''}${POOLS.history[(seed + i) % POOLS.history.length]} What should I do next?`
        : proseOfTokens(Math.min(160, tokens - total), 'history', seed + i);
    turns.push({ role: i % 2 === 0 ? 'user' : 'assistant', content });
    total += estimateBpeTokens(content) + 4;
  }
  return turns;
}
