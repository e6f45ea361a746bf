// unzipper ships no types and @types/unzipper is not installed; it comes with exceljs (which
// unzips with it), so this declares only what zip-guard.ts uses.
declare module 'unzipper' {
  import type { Readable } from 'node:stream';

  interface CentralDirectoryFile {
    path: string;
    compressedSize: number;
    uncompressedSize: number;
    /** The entry's bytes, inflated, read from the offset the directory gives. */
    stream(): Readable;
  }
  interface CentralDirectory {
    numberOfRecords: number;
    files: CentralDirectoryFile[];
  }
  /** Random access to the archive's bytes: a stream from offset (length bytes, or to the end). */
  interface Source {
    stream(offset: number, length?: number): Readable;
    size(): PromiseLike<number>;
  }

  const unzipper: {
    Open: { custom(source: Source): Promise<CentralDirectory> };
  };
  export default unzipper;
}
