// Where each file lives inside a registry folder (and so under its URL). Static files only, so any
// web server or a plain folder copy can host or mirror a registry.
//   root.json            the newest root (for humans and `registry init`)
//   <N>.root.json        every root version; clients walk N+1, N+2, ... to rotate keys
//   timestamp.json       short-lived; names the current index version, its sha256 and length
//   <N>.index.json       every index version (consistent snapshots: a client fetching while a
//                        publish runs still finds the index its timestamp names)
//   blobs/<sha256>.wasm  plugin modules, content-addressed: no plugin name ever becomes a path
export const LAYOUT = {
  root: "root.json",
  versionedRoot: (n: number) => `${n}.root.json`,
  timestamp: "timestamp.json",
  versionedIndex: (n: number) => `${n}.index.json`,
  blob: (sha256: string) => `blobs/${sha256}.wasm`,
} as const;
