export * from './target';
export * from './schema';
