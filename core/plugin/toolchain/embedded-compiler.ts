// The AssemblyScript compiler as the compiled binary carries it: two zstd-compressed ES modules
// (asc with the AssemblyScript compiler, and Binaryen), embedded as files rather than bundled code,
// made by scripts/compiler-assets.ts. Bundled as code they cost ~38 MB of the binary (Binaryen's
// wasm is a 13 MB string literal, and --bytecode precompiles all of it); compressed they cost ~2 MB
// and nothing at start-up. Only the verbs that compile decompress them, into memory, and import them
// through blob: URLs: nothing is written to disk.

/** Asset names; embedded as NAME-HASH.zst (Bun's default asset naming of NAME.zst). */
export const ASC_ASSET = "imgb-asc.mjs";
export const BINARYEN_ASSET = "imgb-binaryen.mjs";
/** The specifier asc's bundle imports Binaryen by; replaced by Binaryen's blob: URL when loading. */
export const BINARYEN_SPECIFIER = "imgb-embedded:binaryen";

function embedded(asset: string): Blob | undefined {
  return Bun.embeddedFiles.find((f) => {
    const name = (f as Blob & { name?: string }).name ?? "";
    return name.startsWith(`${asset}-`) && name.endsWith(".zst");
  });
}

async function moduleUrl(blob: Blob, rewrite?: (text: string) => string): Promise<string> {
  let text = new TextDecoder().decode(Bun.zstdDecompressSync(new Uint8Array(await blob.arrayBuffer())));
  if (rewrite) text = rewrite(text);
  return URL.createObjectURL(new Blob([text], { type: "application/javascript" }));
}

/** asc's module when the compiler is embedded (the compiled binary), else undefined. */
export async function importEmbeddedAsc(): Promise<unknown> {
  const asc = embedded(ASC_ASSET);
  const binaryen = embedded(BINARYEN_ASSET);
  if (!asc || !binaryen) return undefined;
  const binaryenUrl = await moduleUrl(binaryen);
  const ascUrl = await moduleUrl(asc, (t) => t.replaceAll(JSON.stringify(BINARYEN_SPECIFIER), JSON.stringify(binaryenUrl)));
  try {
    return await import(ascUrl);
  } finally {
    URL.revokeObjectURL(ascUrl);
    URL.revokeObjectURL(binaryenUrl);
  }
}
