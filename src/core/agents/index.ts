export * from './roles';
export * from './handles';
export * from './structured';
export * from './vanilla';
export * from './detect';
export * from './critic';
export * from './composer';
export * from './rewrite';
