import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_POLICIES } from '../../../../src/core/relevance';
import { DEFAULT_EMBEDDING_MODEL } from '../../../../src/core/relevance';
import { pipelineOptions, resolveSettings, type SettingsReader } from '../../../../src/vscode/settings/settingsLogic';

/** A reader over user values and (optional) workspace values, the way VS Code layers them. */
function reader(user: Record<string, unknown>, workspace: Record<string, unknown> = {}): SettingsReader {
  return { userOnly: (k) => user[k], effective: (k) => (k in workspace ? workspace[k] : user[k]) };
}

describe('relevance settings', () => {
  test('defaults: the related policy and the default embedding model reach the pipeline', () => {
    const settings = resolveSettings(reader({ embeddingModel: DEFAULT_EMBEDDING_MODEL }));
    const options = pipelineOptions(settings);
    assert.equal(options.auditPolicy, 'related');
    assert.equal(options.embeddingModel, DEFAULT_EMBEDDING_MODEL);
  });

  test('the embedding model comes from user settings only; empty or "none" turns meaning off', () => {
    assert.equal(
      resolveSettings(reader({ embeddingModel: 'all-minilm' }, { embeddingModel: 'evil-embed-cloud' })).embeddingModel,
      'all-minilm',
    );
    assert.equal(resolveSettings(reader({ embeddingModel: '' })).embeddingModel, undefined);
    assert.equal(resolveSettings(reader({ embeddingModel: 'None' })).embeddingModel, undefined);
    assert.equal(pipelineOptions(resolveSettings(reader({ embeddingModel: 'none' }))).embeddingModel, undefined);
  });

  test('a workspace can make the audit policy stricter, never looser; junk is ignored', () => {
    assert.equal(resolveSettings(reader({ auditPolicy: 'related' }, { auditPolicy: 'always' })).auditPolicy, 'always');
    assert.equal(resolveSettings(reader({ auditPolicy: 'related' }, { auditPolicy: 'named' })).auditPolicy, 'related');
    assert.equal(resolveSettings(reader({ auditPolicy: 'named' })).auditPolicy, 'named');
    assert.equal(resolveSettings(reader({ auditPolicy: 'sometimes' }, { auditPolicy: 42 })).auditPolicy, 'related');
  });

  test('package.json declares the same defaults and choices, and keeps the embedding model machine-scoped', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { default?: unknown; enum?: string[]; scope?: string }> } };
      capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
    };
    const props = pkg.contributes.configuration.properties;
    assert.equal(props['unlearn.embeddingModel']?.default, DEFAULT_EMBEDDING_MODEL);
    assert.equal(props['unlearn.embeddingModel']?.scope, 'machine');
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('unlearn.embeddingModel'));
    assert.deepEqual([...(props['unlearn.auditPolicy']?.enum ?? [])].sort(), [...AUDIT_POLICIES].sort());
    assert.equal(props['unlearn.auditPolicy']?.default, 'related');
  });
});
