// HCL's type system (cty): primitive types, collection types (list, set, map) with one element
// type, structural types (tuple, object) with per-position / per-attribute types, and the dynamic
// pseudo-type `any` meaning "not yet known / decided at run time".

export type Type =
  | { readonly kind: "string" }
  | { readonly kind: "number" }
  | { readonly kind: "bool" }
  | { readonly kind: "dynamic" }
  | { readonly kind: "list"; readonly elem: Type }
  | { readonly kind: "set"; readonly elem: Type }
  | { readonly kind: "map"; readonly elem: Type }
  | { readonly kind: "tuple"; readonly elems: readonly Type[] }
  | {
      readonly kind: "object";
      readonly attrs: Readonly<Record<string, Type>>;
      /** Attributes declared with optional(...) in a type constraint. */
      readonly optional?: ReadonlySet<string>;
      /** Defaults from optional(type, default), applied by conversion. */
      readonly defaults?: Readonly<Record<string, unknown>>;
    };

export const T = {
  string: { kind: "string" } as Type,
  number: { kind: "number" } as Type,
  bool: { kind: "bool" } as Type,
  dynamic: { kind: "dynamic" } as Type,
  list: (elem: Type): Type => ({ kind: "list", elem }),
  set: (elem: Type): Type => ({ kind: "set", elem }),
  map: (elem: Type): Type => ({ kind: "map", elem }),
  tuple: (elems: Type[]): Type => ({ kind: "tuple", elems }),
  object: (attrs: Record<string, Type>, optional?: Iterable<string>): Type =>
    optional ? { kind: "object", attrs, optional: new Set(optional) } : { kind: "object", attrs },
};

export function isPrimitive(t: Type): boolean {
  return t.kind === "string" || t.kind === "number" || t.kind === "bool";
}
export function isCollection(t: Type): t is Extract<Type, { elem: Type }> {
  return t.kind === "list" || t.kind === "set" || t.kind === "map";
}

export function typeEquals(a: Type, b: Type): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "list":
    case "set":
    case "map":
      return typeEquals(a.elem, (b as typeof a).elem);
    case "tuple": {
      const be = (b as typeof a).elems;
      return a.elems.length === be.length && a.elems.every((t, i) => typeEquals(t, be[i]!));
    }
    case "object": {
      const ba = (b as typeof a).attrs;
      const ka = Object.keys(a.attrs);
      if (ka.length !== Object.keys(ba).length) return false;
      return ka.every((k) => k in ba && typeEquals(a.attrs[k]!, ba[k]!));
    }
    default:
      return true;
  }
}

/** True when the type contains `any` somewhere (a type constraint, not a concrete type). */
export function hasDynamic(t: Type): boolean {
  switch (t.kind) {
    case "dynamic":
      return true;
    case "list":
    case "set":
    case "map":
      return hasDynamic(t.elem);
    case "tuple":
      return t.elems.some(hasDynamic);
    case "object":
      return Object.values(t.attrs).some(hasDynamic);
    default:
      return false;
  }
}

/** The "friendly name" used in messages, like cty's TypeString / FriendlyName. */
export function typeString(t: Type): string {
  switch (t.kind) {
    case "dynamic":
      return "any";
    case "list":
    case "set":
    case "map":
      return `${t.kind}(${typeString(t.elem)})`;
    case "tuple":
      return `tuple([${t.elems.map(typeString).join(", ")}])`;
    case "object": {
      const keys = Object.keys(t.attrs).sort();
      return `object({${keys.map((k) => `${k}=${typeString(t.attrs[k]!)}`).join(", ")}})`;
    }
    default:
      return t.kind;
  }
}

/** cty's FriendlyName: short names used inside error details ("string required" etc.). */
export function friendlyName(t: Type): string {
  switch (t.kind) {
    case "dynamic":
      return "any type";
    case "list":
    case "set":
    case "map":
      return `${t.kind} of ${friendlyName(t.elem)}`;
    case "tuple":
      return "tuple";
    case "object":
      return "object";
    default:
      return t.kind;
  }
}
