export * from './target';
export * from './schema';
export * from './ordinaryWords';
export * from './handles';
