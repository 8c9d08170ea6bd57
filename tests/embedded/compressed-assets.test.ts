// The compiled binary's compressed assets: the file pack the first-party plugins travel in, and the
// lazily loaded SSH runtime's bundle, which must use the binary's own instances of the modules it
// shares with it (one CommunicatorError class for instanceof) and fails to build otherwise.
import { describe, expect, test } from "bun:test";
import { packFiles, unpackFiles } from "../../core/embedded/file-pack.ts";
import { SSH_RUNTIME_SHARED } from "../../core/communicator/ssh/runtime-shared.ts";
import { bundleOwnCode, mainBundleInputs } from "../../scripts/compressed-assets.ts";

describe("file pack", () => {
  test("files come back byte for byte, in order; a pack that does not add up is refused", () => {
    const files = [
      ["a.wasm", new Uint8Array([0, 97, 115, 109])],
      ["empty", new Uint8Array(0)],
      ["ü.bin", crypto.getRandomValues(new Uint8Array(3000))],
    ] as const;
    const pack = packFiles(files);
    const back = unpackFiles(pack);
    expect([...back.keys()]).toEqual(["a.wasm", "empty", "ü.bin"]);
    for (const [name, bytes] of files) expect(back.get(name)).toEqual(bytes);
    expect(() => unpackFiles(pack.subarray(0, pack.length - 1))).toThrow("ü.bin runs past the end");
    const longer = new Uint8Array(pack.length + 1);
    longer.set(pack);
    expect(() => unpackFiles(longer)).toThrow("bytes after the last file");
  });
});

describe("the SSH runtime's bundle", () => {
  const entry = "core/communicator/ssh/runtime.ts";
  const folder = "core/communicator/ssh";

  test("shared modules are read from the registry, not copied; its own code is in it", async () => {
    const text = await bundleOwnCode(entry, folder, SSH_RUNTIME_SHARED, await mainBundleInputs());
    expect(text).toContain('"core/communicator/types.ts"');
    expect(text).toContain("imgb.shared-modules");
    expect(text).toContain("ssh_host is not set"); // communicator.ts, lazily loaded
    // core/communicator/types.ts's own code (CommunicatorError, noneCommunicator) is not copied in.
    expect(text).not.toContain('"CommunicatorError"');
    expect(text).not.toContain("provisioners that use the machine cannot run");
  }, 60_000);

  test("an import missing from the shared list, or a module the binary also holds, fails the build", async () => {
    const { ["core/communicator/types.ts"]: _dropped, ...missing } = SSH_RUNTIME_SHARED;
    await expect(bundleOwnCode(entry, folder, missing, await mainBundleInputs())).rejects.toThrow("imports core/communicator/types.ts: add it to the shared modules of core/communicator/ssh/runtime.ts");
    const { ["core/communicator/ssh/hostkey.ts"]: _hostkey, ...withoutHostkey } = SSH_RUNTIME_SHARED;
    await expect(bundleOwnCode(entry, folder, withoutHostkey, await mainBundleInputs())).rejects.toThrow("core/communicator/ssh/hostkey.ts would be in the binary twice");
  }, 60_000);
});
