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

/** Like askLine, but what is typed is not shown (raw mode: no echo); Ctrl-C cancels. */
export function askSecret(prompt: string, write: (s: string) => void): Promise<string> {
  const next = queue.then(() => readSecret(prompt, write));
  queue = next.catch(() => undefined);
  return next;
}

async function readSecret(prompt: string, write: (s: string) => void): Promise<string> {
  if (!stdinIsTty()) throw new UserError(`cannot ask "${prompt.trim()}": standard input is not a terminal`);
  // No echo before the prompt shows, so nothing typed after it is ever displayed.
  process.stdin.setRawMode(true);
  write(prompt);
  return new Promise<string>((resolve, reject) => {
    let secret = "";
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          done();
          write("\n");
          return resolve(secret);
        }
        if (ch === "\u0003" || ch === "\u0004") {
          done();
          write("\n");
          return reject(new UserError("cancelled at the passphrase prompt"));
        }
        if (ch === "\u007f" || ch === "\b") secret = secret.slice(0, -1);
        else secret += ch;
      }
    };
    const done = () => {
      process.stdin.off("data", onData);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    };
    process.stdin.on("data", onData);
    process.stdin.resume();
  });
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
