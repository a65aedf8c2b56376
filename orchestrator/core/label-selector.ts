/**
 * Label selectors (Ray's `label_selector`): a task asks for nodes whose labels satisfy every
 * key of the selector. Each value is one of `v`, `!v`, `in(a,b)` or `!in(a,b)`.
 */

/** One parsed key of a selector. */
export interface LabelConstraint {
  readonly key: string;
  /** The value as written, kept for messages such as `label accelerator=in(A100,H100)`. */
  readonly raw: string;
  /**
   * True for `!v` and `!in(...)`. A negated constraint also matches nodes that lack the label
   * (Ray's NOT_IN), so `!A100` accepts a CPU-only node with no `accelerator` label.
   */
  readonly negated: boolean;
  /** The value (`v`) or the listed values (`in(...)`); never empty. */
  readonly values: readonly string[];
}

/** A validated selector: all constraints must hold. */
export type ParsedLabelSelector = readonly LabelConstraint[];

/** Forms accepted by the parser, quoted in every syntax error. */
export const LABEL_SELECTOR_FORMS = `"v", "!v", "in(a,b)" or "!in(a,b)"`;

// Kubernetes label value syntax, which Ray also uses: alphanumerics at both ends, `-_.` inside.
const VALUE = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
// Kubernetes label key syntax, with an optional DNS prefix (`ray.io/accelerator-type`).
const KEY = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\/)?[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const IN_LIST = /^(!?)in\((.*)\)$/s;

/**
 * Validates a selector and parses it into constraints.
 *
 * @throws TypeError naming the key and the allowed forms when a key or value is malformed.
 */
export function parseLabelSelector(sel: Readonly<Record<string, string>>): ParsedLabelSelector {
  if (sel === null || typeof sel !== 'object' || Array.isArray(sel)) {
    throw new TypeError(`labelSelector must be an object mapping label keys to ${LABEL_SELECTOR_FORMS}`);
  }
  const out: LabelConstraint[] = [];
  for (const [key, raw] of Object.entries(sel)) {
    if (!KEY.test(key)) {
      throw new TypeError(
        `labelSelector key ${JSON.stringify(key)} is not a valid label key: use letters, digits, ` +
          `'-', '_' and '.', optionally after a 'prefix/'`,
      );
    }
    out.push(parseValue(key, raw));
  }
  return out;
}

function invalidValue(key: string, raw: unknown): TypeError {
  return new TypeError(
    `labelSelector[${JSON.stringify(key)}] = ${JSON.stringify(raw)} is not valid: use ${LABEL_SELECTOR_FORMS}, ` +
      `where each value is letters and digits, with '-', '_' or '.' inside`,
  );
}

function parseValue(key: string, raw: unknown): LabelConstraint {
  const c = constraintOf(key, raw);
  if (c === undefined) throw invalidValue(key, raw);
  return c;
}

/** The constraint `raw` stands for, or undefined when it is none of the four forms. */
function constraintOf(key: string, raw: unknown): LabelConstraint | undefined {
  if (typeof raw !== 'string') return undefined;
  const list = IN_LIST.exec(raw);
  if (list) {
    const values = list[2]!.split(',').map((v) => v.trim());
    return values.every((v) => VALUE.test(v)) ? { key, raw, negated: list[1] === '!', values } : undefined;
  }
  const negated = raw.startsWith('!');
  const value = negated ? raw.slice(1) : raw;
  return VALUE.test(value) ? { key, raw, negated, values: [value] } : undefined;
}

/** True when `raw` is a selector value in one of the four forms (the `accelerator` option is one). */
export function isSelectorValue(raw: unknown): boolean {
  return constraintOf('', raw) !== undefined;
}

/** True when `labels` satisfies one constraint. */
export function matchesConstraint(c: LabelConstraint, labels: Readonly<Record<string, string>>): boolean {
  const value = Object.hasOwn(labels, c.key) ? labels[c.key] : undefined;
  const listed = value !== undefined && c.values.includes(value);
  return c.negated ? !listed : listed;
}

/**
 * True when `labels` satisfies every constraint of `selector`. A raw selector is parsed (and
 * validated) on each call; hot paths should pass a {@link ParsedLabelSelector} instead.
 */
export function matchesLabels(
  selector: Readonly<Record<string, string>> | ParsedLabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  const parsed = Array.isArray(selector)
    ? (selector as ParsedLabelSelector)
    : parseLabelSelector(selector as Readonly<Record<string, string>>);
  for (const c of parsed) if (!matchesConstraint(c, labels)) return false;
  return true;
}
