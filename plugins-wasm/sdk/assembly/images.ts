// The input artifact's container image (capability container_image, docs/plugin-abi.md §3): tag it,
// save it to a tar, push it to a registry, or import the artifact's tar as a new image, through the engine that built it.
// The host picks the image and the engine; the plugin names only the new tag or the file. Its own
// module, so that only plugins using it import these host functions.
//   import { Images } from "../../sdk/assembly/images";
import { Json } from "./json";
import { HostCall } from "./calls";

export class Images {
  /** Gives the input image another name: "repository" or "registry:port/repository:tag". */
  static tag(ref: string): void {
    HostCall.image_tag(Json.obj().setStr("ref", ref));
  }
  /** Writes the input image as a tar (the engine's `save`) to a path in the working or output folder. */
  static save(path: string): void {
    HostCall.image_save(Json.obj().setStr("path", path));
  }
  /**
   * Pushes names of the input image (each must name it) to their registries. With `username` set,
   * the host logs in to `server` first with a throwaway auth file (the password goes on stdin).
   * `insecure`: no TLS verification (loopback registries never get it, as with docker).
   */
  static push(refs: Array<string>, server: string, username: string, password: string, insecure: bool): void {
    const req = Json.obj().set("refs", Json.strings(refs)).setBool("insecure", insecure);
    if (username.length > 0) req.set("login", Json.obj().setStr("server", server).setStr("username", username).setStr("password", password));
    HostCall.image_push(req);
  }
  /** Imports one of the input artifact's files (a filesystem tar) as image `ref`; returns the new image's id. */
  static importFile(path: string, ref: string, changes: Array<string>): string {
    const req = Json.obj().setStr("path", path).setStr("ref", ref).set("changes", Json.strings(changes));
    return HostCall.image_import(req).getString("id");
  }
}
