#!/usr/bin/env bun
export {};
// Entry point of the imgb binary. The plugin sandbox re-executes this same binary with a hidden
// first argument; that path is dispatched before citty loads anything, to keep sandbox start-up short.
const SANDBOX_ARG = "__plugin-sandbox";

if (process.argv[2] === SANDBOX_ARG) {
  const { runSandboxChild } = await import("../core/plugin/sandbox/child.ts");
  await runSandboxChild(process.argv.slice(3));
} else {
  const { runCli } = await import("./cli.ts");
  await runCli(process.argv.slice(2));
}
