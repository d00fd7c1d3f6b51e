// The Node entry of the nabla package: everything of the browser entry plus sources that read files by path.
export * from './index.ts';
export { openSource, sourceFormatOf, type SourceFormat } from './data/source.ts';
export { NodeWorkerPool } from './cpu-fast/node-pool.ts';
