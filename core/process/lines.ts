// Turns a child's output chunks into whole lines for the Ui (chunks split lines anywhere).
export function lineSplitter(onLine: (line: string) => void): { write(chunk: Uint8Array): void; flush(): void } {
  const decoder = new TextDecoder();
  let pending = "";
  return {
    write(chunk) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onLine(line);
    },
    flush() {
      if (pending.trim()) onLine(pending);
      pending = "";
    },
  };
}
