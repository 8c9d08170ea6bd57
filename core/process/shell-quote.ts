// POSIX shell quoting for the scripts builders hand to `sh -c` (paths and commands may hold spaces,
// quotes or `$`).
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}
