// compress_files: archives and/or compresses files on the host, streaming, with the byte work on
// a worker pool (see chunk-pool.ts). The plugin decides *what* (Packer's format detection, names,
// levels); this module only moves bytes. The output is written to a temp name beside the target
// and renamed at the end, so a failed or cancelled run never leaves a half archive under the name.
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { ChunkPool } from "./chunk-pool.ts";
import { ARCHIVES, COMPRESSIONS } from "../host/table.ts";
import { HostFailure } from "../host/refusal.ts";
import { ParallelEncoder, PassThroughEncoder, ProcessEncoder, type Encoder } from "./encoders.ts";
import { FileSink, type ByteSink } from "./sinks.ts";
import { tarHeader, tarPadding, tarTrailer } from "./tar.ts";
import { ZipWriter } from "./zip.ts";
import { Cancelled } from "../../errors/cancelled.ts";

export type ArchiveKind = (typeof ARCHIVES)[number];
export type Compression = (typeof COMPRESSIONS)[number];

export interface CompressRequest {
  inputs: string[];
  /**
   * The paths as the plugin named them (same order as inputs), for zip entry names: Packer's zip
   * entries keep the path as given (minus a leading "/" and any ".." parts); tar entries are basenames.
   */
  entryNames?: string[];
  /** tar entry names (same order as inputs), plain names checked by the caller; default: basenames. */
  tarNames?: string[];
  output: string;
  archive: ArchiveKind;
  compression: Compression;
  /** 1..9 (0 = store, zip only); clamped per codec. */
  level: number;
  /** Worker threads for gzip/zstd/zip; default: every core. */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface CompressResult {
  output: string;
  inputBytes: number;
  outputBytes: number;
}

/** A problem with the request itself (reported to the plugin as an error reply). */
/** A failure worded for the plugin as it stands (no function-name prefix). */
export class CompressError extends HostFailure {}

const GZIP_HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

function gzipTrailer(crc: number, size: number): Uint8Array {
  const t = new Uint8Array(8);
  const v = new DataView(t.buffer);
  v.setUint32(0, crc >>> 0, true);
  v.setUint32(4, size % 2 ** 32, true);
  return t;
}

interface Input {
  path: string;
  name: string;
  size: number;
  mode: number;
  mtime: Date;
  uid: number;
  gid: number;
}

/** A zip entry name from a path: forward slashes, no leading "/", no "." or ".." parts (no zip-slip). */
export function zipEntryName(path: string): string {
  const parts = path.split(/[\\/]+/).filter((p) => p !== "" && p !== "." && p !== "..");
  return parts.join("/") || basename(path);
}

async function describeInputs(paths: string[], names: (i: number) => string): Promise<Input[]> {
  const seen = new Map<string, string>();
  const out: Input[] = [];
  for (const [i, path] of paths.entries()) {
    const s = await stat(path).catch((e: Error) => {
      throw new CompressError(`cannot read ${path}: ${e.message}`);
    });
    if (!s.isFile()) throw new CompressError(`${path} is not a regular file`);
    const name = names(i);
    const other = seen.get(name);
    if (other) throw new CompressError(`${other} and ${path} would have the same name ${name} in the archive`);
    seen.set(name, path);
    out.push({ path, name, size: s.size, mode: s.mode, mtime: s.mtime, uid: s.uid, gid: s.gid });
  }
  return out;
}

function externalCommand(compression: "xz" | "lz4", level: number): string[] {
  const bin = Bun.which(compression);
  if (!bin) throw new CompressError(`${compression} compression needs the ${compression} program, which is not installed`);
  return compression === "xz" ? [bin, "-T0", `-${level}`, "-c"] : [bin, "-q", `-${level}`, "-c"];
}

const NEVER = new AbortController().signal;

export async function compressFiles(req: CompressRequest): Promise<CompressResult> {
  const signal = req.signal ?? NEVER;
  // Level 0 stores (zip, gzip) or is the fastest preset (xz); zstd and lz4 start at 1.
  const lowest = req.archive === "zip" || req.compression === "gzip" || req.compression === "xz" ? 0 : 1;
  const level = Math.max(lowest, Math.min(9, Math.round(req.level)));
  if (req.archive === "none" && req.inputs.length !== 1) {
    throw new CompressError(`Can only have 1 input file when not using tar/zip. Found ${req.inputs.length} files: [${req.inputs.join(" ")}]`);
  }
  if (req.archive === "zip" && req.compression !== "none") throw new CompressError("zip archives compress their entries themselves; compression must be none");
  const inputs = await describeInputs(req.inputs, (i) =>
    req.archive === "zip" ? zipEntryName(req.entryNames?.[i] ?? req.inputs[i]!) : (req.tarNames?.[i] ?? basename(req.inputs[i]!)),
  );
  const total = inputs.reduce((n, i) => n + i.size, 0);
  let done = 0;
  const onBytes = (n: number) => {
    done += n;
    req.onProgress?.(done, total);
  };

  await mkdir(dirname(req.output), { recursive: true });
  const temp = `${req.output}.imgb-partial-${process.pid}`;
  // Whatever has this name already (a link a download brought in) goes: the new file is written, never through it.
  await rm(temp, { force: true });
  const needsPool = req.compression === "gzip" || req.compression === "zstd" || (req.archive === "zip" && level > 0);
  const pool = needsPool ? new ChunkPool(req.workers) : null;
  let encoder: Encoder | null = null;
  // External compressors write the file themselves; everything else goes through our sink.
  const sink = req.compression === "xz" || req.compression === "lz4" ? null : await FileSink.create(temp);
  try {
    if (req.archive === "zip") {
      const zip = new ZipWriter(sink!);
      for (const input of inputs) {
        await zip.addEntry({ name: input.name, mode: input.mode, mtime: input.mtime, size: input.size }, level > 0 ? 8 : 0, async () => {
          encoder = level > 0 ? new ParallelEncoder(pool!, "deflate-raw", level, sink!) : new PassThroughEncoder(sink!);
          await encoder.pushFile(input.path, input.size, onBytes, signal);
          const r = await encoder.finish();
          encoder = null;
          return r;
        });
      }
      await zip.finish();
    } else {
      encoder = makeEncoder(req.compression, level, pool, sink, temp);
      if (req.compression === "gzip") await sink!.write(GZIP_HEADER);
      for (const input of inputs) {
        if (req.archive === "tar") {
          await encoder.push(tarHeader({ name: input.name, size: input.size, mode: input.mode, mtimeSec: Math.floor(input.mtime.getTime() / 1000), uid: input.uid, gid: input.gid }));
        }
        await encoder.pushFile(input.path, input.size, onBytes, signal);
        if (req.archive === "tar") await encoder.push(tarPadding(input.size));
      }
      if (req.archive === "tar") await encoder.push(tarTrailer());
      const r = await encoder.finish();
      encoder = null;
      if (req.compression === "gzip") await sink!.write(gzipTrailer(r.crc32, r.inputBytes));
    }
    await sink?.close();
    if (signal.aborted) throw new Cancelled("cancelled");
    await rename(temp, req.output);
    const outputBytes = (await stat(req.output)).size;
    return { output: req.output, inputBytes: total, outputBytes };
  } catch (e) {
    (encoder as Encoder | null)?.abort();
    await sink?.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw e;
  } finally {
    pool?.close();
  }
}

function makeEncoder(compression: Compression, level: number, pool: ChunkPool | null, sink: ByteSink | null, temp: string): Encoder {
  switch (compression) {
    case "gzip":
      return new ParallelEncoder(pool!, "deflate-raw", level, sink!);
    case "zstd":
      return new ParallelEncoder(pool!, "zstd", level, sink!);
    case "xz":
    case "lz4":
      return new ProcessEncoder(externalCommand(compression, level), temp);
    case "none":
      return new PassThroughEncoder(sink!);
  }
}
