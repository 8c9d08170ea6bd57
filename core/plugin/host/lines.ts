// Splits streamed command output into lines for the UI (Packer shows each line as its own message).
export class LineSplitter {
  private readonly decoder = new TextDecoder();
  private buffered = "";

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Uint8Array): void {
    this.buffered += this.decoder.decode(chunk, { stream: true });
    let nl = this.buffered.indexOf("\n");
    while (nl >= 0) {
      this.emit(this.buffered.slice(0, nl).replace(/\r$/, ""));
      this.buffered = this.buffered.slice(nl + 1);
      nl = this.buffered.indexOf("\n");
    }
  }

  flush(): void {
    this.buffered += this.decoder.decode();
    if (this.buffered.length > 0) this.emit(this.buffered.replace(/\r$/, ""));
    this.buffered = "";
  }
}
