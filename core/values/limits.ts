// The bounds on what template input may make imgb build, one set for every parser and evaluator
// (docs/LIMITS.md). A hostile or careless template (100,000 nested brackets, a `{{user}}` billion
// laughs, `format("%0999999999d", 1)`) must end in a positioned error, not in a stack overflow or
// gigabytes of memory. Each limit is far above what a real template needs.

export const LIMITS = {
  /** Levels of nesting: JSON arrays/objects, HCL blocks and expressions, Go template actions, decoded values, plugin configs. */
  maxNesting: 200,
  /** Characters in one string an evaluator produces (16 Mi). */
  maxStringLength: 16 * 2 ** 20,
  /** Elements in one list, set, tuple, map or object an evaluator produces. */
  maxCollectionLength: 100_000,
  /**
   * Work per template: characters of every string and elements of every collection the evaluators
   * produce, summed over the whole load (256 Mi). Bounds the sum where each value alone is allowed.
   */
  maxWork: 256 * 2 ** 20,
} as const;

/** A value an evaluator was about to produce is over a limit; `message` says which, for the user. */
export class LimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LimitError";
  }
}

export function checkStringLength(n: number, what: string): void {
  if (n > LIMITS.maxStringLength) {
    throw new LimitError(`${what} would be ${n} characters long, over the limit of ${LIMITS.maxStringLength}`);
  }
}

export function checkCollectionLength(n: number, what: string): void {
  if (n > LIMITS.maxCollectionLength) {
    throw new LimitError(`${what} would have ${n} elements, over the limit of ${LIMITS.maxCollectionLength}`);
  }
}

/**
 * The work spent by one template load. Evaluators charge the size of each value they build; the
 * load fails once the sum is over LIMITS.maxWork. One budget is active at a time (loads do not
 * interleave), so evaluators deep in a call chain reach it without threading it through.
 */
export class WorkBudget {
  spent = 0;
  constructor(
    readonly limit: number = LIMITS.maxWork,
    readonly scope: string = "one template",
  ) {}
  charge(units: number, what: string): void {
    this.spent += units;
    if (this.spent > this.limit) {
      throw new LimitError(`${what} goes over the limit of ${this.limit} units of work (characters and elements built, steps taken) for ${this.scope}`);
    }
  }
}

let active = new WorkBudget();

/** Starts a fresh budget for a template load (evaluation then charges it). */
export function resetWorkBudget(): WorkBudget {
  active = new WorkBudget();
  return active;
}

export function chargeWork(units: number, what: string): void {
  active.charge(units, what);
}

/**
 * Runs `fn` (synchronous) with a budget of its own, then gives the previous one back: an evaluation
 * outside any template load (a plugin's `template_render`) neither spends the load's budget — one
 * plugin could exhaust it for every later component — nor goes without one.
 */
export function withWorkBudget<T>(budget: WorkBudget, fn: () => T): T {
  const previous = active;
  active = budget;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/**
 * Depth of a plain value (arrays and objects), counted without recursion; returns as soon as it
 * passes `limit`, so a hostile value costs at most `limit` levels of walking per path.
 */
export function nestingDepth(value: unknown, limit: number = LIMITS.maxNesting): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > limit) return max;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const c of children) if (c !== null && typeof c === "object") stack.push([c, depth]);
  }
  return max;
}

export function nestingMessage(what: string): string {
  return `${what} is nested more than ${LIMITS.maxNesting} levels deep`;
}
