export * from './catalog';
export * from './messages';
export * from './tokens';
export * from './participantRoute';
export * from './toolCalls';
export * from './agentConversation';
export * from './agentStep';
