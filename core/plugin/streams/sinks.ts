// Where compressed bytes go: an output file written sequentially (positions tracked, so the zip
// writer can patch a header it wrote earlier), or an external compressor's stdin.
import { open, type FileHandle } from "node:fs/promises";

export interface ByteSink {
  write(data: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly position: number;
}

export class FileSink implements ByteSink {
  position = 0;
  private constructor(private readonly fh: FileHandle) {}

  /** Creates `path` anew (O_EXCL: a name planted since the caller removed it is neither followed nor reused). */
  static async create(path: string, mode = 0o644): Promise<FileSink> {
    return new FileSink(await open(path, "wx", mode));
  }

  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off, this.position);
      off += bytesWritten;
      this.position += bytesWritten;
    }
  }

  /** Overwrites bytes written earlier (the zip local header once sizes and CRC are known). */
  async patch(at: number, data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off, at + off);
      off += bytesWritten;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
