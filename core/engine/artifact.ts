// An artifact is what a builder or post-processor produced (Packer's packersdk.Artifact).
import type { JsonValue } from "../values/json.ts";

export interface Artifact {
  /** e.g. "fnoeding.null" (Packer's null builder id), "packer.file", "packer.post-processor.compress". */
  builderId: string;
  id: string;
  files: string[];
  /** Human form listed at the end of a build. */
  string: string;
  /** Extra facts (Packer's State(name)): e.g. generated data, image ids. */
  state: Record<string, JsonValue>;
  /** Delete what the artifact is made of (files, images). Called when it is not kept along a chain. */
  destroy(): Promise<void>;
  /** A container image held by a local engine: post-processors granted container_image may tag and save it. */
  image?: ContainerImage;
  /** The container engine that made the artifact (a docker builder's export), for docker-import. */
  engine?: string[];
}

export interface ContainerImage {
  /** What the engine knows the image by: an id, or a name:tag given to it later. */
  ref: string;
  /** The engine's command and global arguments, e.g. ["podman", "--runtime", "runc"]. */
  engine: string[];
}
