export * from './catalog';
export * from './messages';
export * from './tokens';
export * from './participantRoute';
