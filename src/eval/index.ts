export * from './targets';
export * from './rollout';
export * from './protocols';
