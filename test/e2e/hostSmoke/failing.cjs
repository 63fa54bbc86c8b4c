/* global module, console */
// The runner's failure path: run() rejects, so runExtensionTests.mjs must exit 1.
async function run() {
  console.log('this suite fails on purpose');
  throw new Error('deliberate failure');
}
module.exports = { run };
