export * from './port';
export * from './errors';
export * from './hostPolicy';
export * from './tokens';
export * from './reachability';
export { createOllamaPort } from './ollamaAdapter';
