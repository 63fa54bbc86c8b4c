// Loaded before every node test file (test/runNodeTests.mjs): property tests run from one fixed seed, so a
// CI run is reproducible and a red run can be replayed. FC_SEED=random explores new cases locally; any
// other number replays that seed. A counterexample found that way becomes an example test of its own.
import fc from 'fast-check';

const chosen = process.env.FC_SEED;
if (chosen !== 'random') fc.configureGlobal({ seed: chosen ? Number(chosen) : 20261206 });
