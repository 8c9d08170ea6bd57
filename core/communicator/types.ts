// The Communicator reaches the machine being built (Packer's packersdk.Communicator). Builders
// create one (none, local, ssh, later container/chroot); provisioners use it only through plugin
// host calls, so everything here is the whole surface a plugin can touch on the machine.

export interface RemoteCommand {
  command: string;
  /**
   * The command's stdin: bytes written then closed, or a stream copied as it arrives and closed at
   * its end (an interactive peer, e.g. the ansible adapter's sessions).
   */
  stdin?: Uint8Array | ReadableStream<Uint8Array>;
  /** Streamed output; when absent the output is discarded. */
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
}

export type CommandResult =
  | { kind: "exited"; exitStatus: number }
  /** The connection dropped before an exit status arrived (Packer's 2300218); expect_disconnect accepts it. */
  | { kind: "disconnected"; reason: string };

export type UploadSource =
  /** `name`: the path as the user or plugin named it, for messages and a folder destination's file name (default `path`). */
  | { kind: "file"; path: string; name?: string }
  | { kind: "bytes"; data: Uint8Array };

export interface UploadOptions {
  /** File mode, e.g. 0o644; default: the source file's mode, or 0o644 for bytes. */
  mode?: number;
  /** Report progress for large transfers. */
  onProgress?: (done: number, total: number) => void;
}

export type DownloadTarget = { kind: "file"; path: string } | { kind: "bytes" };

export interface Communicator {
  /** "none" | "local" | "ssh" | ... */
  readonly type: string;
  start(cmd: RemoteCommand, signal: AbortSignal): Promise<CommandResult>;
  /** Streams; never buffers a whole file. `dest` is a path on the machine. */
  upload(dest: string, src: UploadSource, opts: UploadOptions, signal: AbortSignal): Promise<void>;
  /** Packer/rsync rules: "src/" copies the contents, "src" copies the folder itself; `exclude` are glob patterns. */
  uploadDir(dest: string, srcDir: string, exclude: string[], signal: AbortSignal): Promise<void>;
  /** Returns the bytes for {kind:"bytes"}, otherwise null. */
  download(src: string, target: DownloadTarget, signal: AbortSignal): Promise<Uint8Array | null>;
  downloadDir(src: string, destDir: string, exclude: string[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Raised by a communicator for anything but a remote non-zero exit (that is a CommandResult). */
export class CommunicatorError extends Error {
  constructor(
    message: string,
    /** e.g. "ssh 127.0.0.1:2222" — named in every message so a user knows which connection failed. */
    readonly target: string,
  ) {
    super(`${target}: ${message}`);
    this.name = "CommunicatorError";
  }
}

/** The `none` communicator: every call is refused with a clear reason. */
export function noneCommunicator(): Communicator {
  const refuse = async (): Promise<never> => {
    throw new CommunicatorError('the communicator is "none"; provisioners that use the machine cannot run', "none");
  };
  return {
    type: "none",
    start: refuse,
    upload: refuse,
    uploadDir: refuse,
    download: refuse,
    downloadDir: refuse,
    close: async () => {},
  };
}
