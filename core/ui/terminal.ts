// Reading an answer from the terminal. Asks from parallel builds are serialised so two prompts
// never interleave; without a TTY there is nobody to answer, which is an error, not a hang.
import { UserError } from "../errors/diagnostic.ts";

let queue: Promise<unknown> = Promise.resolve();

export function stdinIsTty(): boolean {
  return Boolean(process.stdin.isTTY);
}

export function askLine(prompt: string, write: (s: string) => void): Promise<string> {
  const next = queue.then(() => readOneLine(prompt, write));
  queue = next.catch(() => undefined);
  return next;
}

async function readOneLine(prompt: string, write: (s: string) => void): Promise<string> {
  if (!stdinIsTty()) throw new UserError(`cannot ask "${prompt.trim()}": standard input is not a terminal`);
  write(prompt);
  return new Promise<string>((resolve, reject) => {
    let buf = "";
    const onData = (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        done();
        resolve(buf.slice(0, nl).replace(/\r$/, ""));
      }
    };
    const onEnd = () => {
      done();
      reject(new UserError("standard input closed before an answer was given"));
    };
    const done = () => {
      process.stdin.off("data", onData);
      process.stdin.off("end", onEnd);
      process.stdin.pause();
    };
    process.stdin.on("data", onData);
    process.stdin.on("end", onEnd);
    process.stdin.resume();
  });
}
