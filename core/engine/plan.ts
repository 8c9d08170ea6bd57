// Which builds run: -only / -except over build names. Legacy JSON matches names exactly; HCL2
// matches globs over full build names. -except also drops named post-processors (as Packer, in
// both formats); -only never selects post-processors.
import type { BuildSpec, Template } from "../template/model.ts";

export interface BuildFilter {
  only: string[];
  except: string[];
}

export function selectBuilds(template: Template, filter: BuildFilter): BuildSpec[] {
  const match = template.nameMatching === "glob" ? globMatch : (pattern: string, name: string) => pattern === name;
  const matchesAny = (patterns: string[], name: string) => patterns.some((p) => match(p, name));
  return template.builds
    .filter((b) => (filter.only.length === 0 || matchesAny(filter.only, b.name)) && !matchesAny(filter.except, b.name))
    .map((b) =>
      filter.except.length
        ? {
            ...b,
            // As Packer 1.9: an excluded post-processor ends its chain there (the rest needs its output).
            postProcessors: b.postProcessors
              .map((chain) => {
                const cut = chain.findIndex((pp) => matchesAny(filter.except, pp.name ?? pp.type));
                return cut < 0 ? chain : chain.slice(0, cut);
              })
              .filter((chain) => chain.length > 0),
          }
        : b,
    );
}

/** Go's filepath.Match semantics for the subset Packer users write: `*`, `?`, `[...]`. */
export function globMatch(pattern: string, name: string): boolean {
  return new Bun.Glob(pattern).match(name);
}
