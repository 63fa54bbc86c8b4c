// The reliability suite, in one process so the summary at the end can count every case by category.
// Order: fault matrix, bad-input catalogue, concurrency, the forget list as a secret, then the summary.
import { describe, it } from 'node:test';
import { badTargets } from './badTargets';
import { concurrency } from './concurrency';
import { embedFaults } from './embedFaults';
import { faultMatrix } from './faultMatrix';
import { hostile } from './hostile';
import { secretList } from './secretList';
import { tallyLines } from './support';

faultMatrix();
embedFaults();
badTargets();
hostile();
concurrency();
secretList();

describe('summary', () => {
  it('prints the cases passed by category', (t) => {
    const { lines, registered, passed } = tallyLines();
    for (const line of [...lines, `total: ${passed}/${registered} passed`]) t.diagnostic(line);
    process.stdout.write(`\nReliability summary\n${[...lines, `total: ${passed}/${registered} passed`].map((l) => `  ${l}`).join('\n')}\n`);
  });
});
