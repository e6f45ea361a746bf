// unzipper ships no types and @types/unzipper is not installed; it comes with exceljs (its .xlsx
// stream reader parses with it), so this declares only the parts zip-guard.ts uses.
declare module 'unzipper' {
  import type { Duplex, Readable } from 'node:stream';

  interface CentralDirectoryFile {
    path: string;
    compressedSize: number;
    uncompressedSize: number;
  }
  interface CentralDirectory {
    numberOfRecords: number;
    files: CentralDirectoryFile[];
  }
  interface ZipEntry extends Readable {
    path: string;
    vars: { compressedSize: number; uncompressedSize: number; flags: number };
    autodrain(): unknown;
  }
  interface ParseStream extends Duplex {
    on(event: 'entry', listener: (entry: ZipEntry) => void): this;
    on(event: string | symbol, listener: (...args: unknown[]) => void): this;
  }

  const unzipper: {
    Open: { file(path: string): Promise<CentralDirectory> };
    Parse(options?: { forceStream?: boolean }): ParseStream;
  };
  export default unzipper;
}
