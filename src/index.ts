/**
 * Pigment's programmatic entry point.
 * @module
 */
export * as engine from './engine/index.js'
