export * from './frame.js';
export * from './decoder.js';
export * from './messages.js';
export * from './result.js';
