export * from './rollout';
export * from './protocols';
