export * from './port';
export * from './errors';
export * from './hostPolicy';
export * from './tokens';
export * from './reachability';
export * from './provider';
export * from './parallelism';
export { createOllamaPort } from './ollamaAdapter';
