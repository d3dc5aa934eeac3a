export * from './record';
export * from './aggregate';
