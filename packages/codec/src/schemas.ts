// @tributary/codec/schemas: zod schemas for every generated message, kept out of the main entry
// point so that encoding and decoding never load zod.
export * from './generated/schemas/index.js';
