// Streaming post-processor primitives (docs/plugin-abi.md §12, additive to imgb-plugin/1): the host
// hashes, archives and compresses files for the plugin, after checking every path against the
// call's grants, so no file bytes cross the sandbox boundary. Small shared output files (manifest)
// are updated with a locked compare-and-swap.
//   import { Streams } from "../../sdk/assembly/streams";
import { Json, JsonKind } from "./json";
import { base64Decode, base64Encode } from "./base64";
import { HostCall } from "./calls";

/** One file's digests: lowercase hex per checksum type. */
export class FileDigests {
  path: string = "";
  size: f64 = 0;
  digests: Json = Json.obj();
  digest(type: string): string {
    return this.digests.getString(type);
  }
}

export class FileStat {
  path: string = "";
  exists: bool = false;
  size: f64 = 0;
  isFile: bool = false;
}

export class OutputFile {
  exists: bool = false;
  data: Uint8Array = new Uint8Array(0);
  /** sha256 hex of the content read, or "" when the file does not exist (pass to swap). */
  sha256: string = "";
  /** The host's clock when it read the file (Unix seconds): wasm has no clock of its own. */
  nowUnix: f64 = 0;
}

export class CompressResult {
  inputBytes: f64 = 0;
  outputBytes: f64 = 0;
}

export class Streams {
  /** Digests of whole files (artifact files or output folder; capability artifact_read). */
  static hashFiles(paths: Array<string>, types: Array<string>, progressLabel: string = ""): Array<FileDigests> {
    const req = Json.obj().set("paths", Json.strings(paths)).set("types", Json.strings(types));
    if (progressLabel.length > 0) req.setStr("progress", progressLabel);
    const files = HostCall.hash_files(req).get("files");
    const out = new Array<FileDigests>();
    if (files === null || files.kind != JsonKind.Array) return out;
    for (let i = 0; i < files.items.length; i++) {
      const f = files.items[i];
      const d = new FileDigests();
      d.path = f.getString("path");
      d.size = f.getNumber("size");
      const g = f.getObject("digests");
      if (g !== null) d.digests = g;
      out.push(d);
    }
    return out;
  }

  /**
   * Archives/compresses `inputs` into `output` on the host (capabilities artifact_read and
   * artifact_write). archive: tar|zip|none; compression: gzip|zstd|xz|lz4|none; level 0..9.
   */
  static compressFiles(inputs: Array<string>, output: string, archive: string, compression: string, level: i32, progressLabel: string = ""): CompressResult {
    const req = Json.obj()
      .set("inputs", Json.strings(inputs))
      .setStr("output", output)
      .setStr("archive", archive)
      .setStr("compression", compression)
      .setNum("level", level);
    if (progressLabel.length > 0) req.setStr("progress", progressLabel);
    const reply = HostCall.compress_files(req);
    const r = new CompressResult();
    r.inputBytes = reply.getNumber("input_bytes");
    r.outputBytes = reply.getNumber("output_bytes");
    return r;
  }

  /** Stats paths (or expands glob patterns, Go filepath.Glob style) within the artifact and output folder. */
  static statFiles(paths: Array<string>, glob: bool = false): Array<FileStat> {
    const files = HostCall.files_stat(Json.obj().set("paths", Json.strings(paths)).setBool("glob", glob)).get("files");
    const out = new Array<FileStat>();
    if (files === null || files.kind != JsonKind.Array) return out;
    for (let i = 0; i < files.items.length; i++) {
      const f = files.items[i];
      const s = new FileStat();
      s.path = f.getString("path");
      s.exists = f.getBool("exists");
      s.size = f.getNumber("size");
      s.isFile = f.getBool("is_file");
      out.push(s);
    }
    return out;
  }

  /** Reads a small file of the output folder with the hash to swap against. */
  static readOutputFile(path: string): OutputFile {
    const reply = HostCall.output_file_read(Json.obj().setStr("path", path));
    const f = new OutputFile();
    f.exists = reply.getBool("exists");
    f.data = base64Decode(reply.getString("data_base64"));
    const h = reply.get("sha256");
    f.sha256 = h === null || h.kind != JsonKind.String ? "" : h.s;
    f.nowUnix = reply.getNumber("now_unix");
    return f;
  }

  /**
   * Writes `data` if the file still has the content read (sha256 "" = must not exist), under the
   * file's lock. Returns false when another writer got there first: read again and retry.
   */
  static swapOutputFile(path: string, expectSha256: string, data: Uint8Array, mode: i32 = 0o644): bool {
    const req = Json.obj()
      .setStr("path", path)
      .set("expect_sha256", expectSha256.length == 0 ? Json.null() : Json.str(expectSha256))
      .setStr("data_base64", base64Encode(data))
      .setNum("mode", mode);
    return HostCall.output_file_swap(req).getBool("swapped");
  }

  /** Appends to a file of the output folder (created with its folder); true when it was created. */
  static appendOutputFile(path: string, data: Uint8Array, mode: i32 = 0o644): bool {
    return HostCall.output_file_append(Json.obj().setStr("path", path).setStr("data_base64", base64Encode(data)).setNum("mode", mode)).getBool("created");
  }
}
