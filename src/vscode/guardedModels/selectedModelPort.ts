import * as vscode from 'vscode';
import { isLlmError, LlmError, type ChatRequest, type ChatResponse, type LlmPort } from '../../core/llm';

/**
 * An LlmPort over a model from `vscode.lm` (used only when the user allowed it). The stable API has no
 * system role and no structured output, so instructions go first as a user message and a JSON schema is
 * stated in words; the pipeline validates every structured reply anyway and refuses on junk.
 */
export function selectedModelPort(model: vscode.LanguageModelChat): LlmPort {
  const unsupported = (what: string) => () =>
    Promise.reject(new LlmError('http', `${what} is not available for ${model.name} (a model from VS Code, not Ollama).`));
  return {
    host: `vscode.lm:${model.vendor}`,
    async chat(request: ChatRequest): Promise<ChatResponse> {
      const started = performance.now();
      const messages = request.messages.map((m) =>
        m.role === 'assistant'
          ? vscode.LanguageModelChatMessage.Assistant(m.content)
          : vscode.LanguageModelChatMessage.User(m.role === 'system' ? `Instructions:\n${m.content}` : m.content),
      );
      if (request.format) {
        messages.push(
          vscode.LanguageModelChatMessage.User(
            `Reply with one JSON value only, no prose and no code fence, matching this JSON schema:\n${JSON.stringify(request.format)}`,
          ),
        );
      }
      const cts = new vscode.CancellationTokenSource();
      const cancel = () => cts.cancel();
      request.signal?.addEventListener('abort', cancel, { once: true });
      const timer = request.totalTimeoutMs ? setTimeout(cancel, request.totalTimeoutMs) : undefined;
      let content = '';
      try {
        if (request.signal?.aborted) throw new LlmError('aborted', 'The request was cancelled.', { label: request.label });
        const response = await model.sendRequest(
          messages,
          { justification: 'Unlearn runs its agents on the model you selected, as you allowed in unlearn.allowSelectedModel.' },
          cts.token,
        );
        for await (const piece of response.text) {
          content += piece;
          request.onToken?.(piece);
        }
      } catch (error) {
        if (request.signal?.aborted) throw new LlmError('aborted', 'The request was cancelled.', { label: request.label, cause: error });
        if (cts.token.isCancellationRequested)
          throw new LlmError('timeout', `${model.name} took longer than ${request.totalTimeoutMs} ms.`, {
            label: request.label,
            model: model.id,
          });
        if (isLlmError(error)) throw error;
        throw new LlmError('http', `${model.name} failed: ${describeError(error)}`, {
          label: request.label,
          model: model.id,
          cause: error,
        });
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', cancel);
        cts.dispose();
      }
      return { content, durationMs: performance.now() - started };
    },
    listModels: () => Promise.resolve([{ name: model.id }]),
    showModel: () => Promise.resolve({ name: model.id, contextLength: model.maxInputTokens }),
    embed: unsupported('Embedding'),
    pull: unsupported('Pulling'),
    version: () => Promise.resolve(model.version),
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
