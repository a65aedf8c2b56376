/**
 * Observables of Estimator tasks: Pauli strings and real-weighted sums of them (as Qiskit's
 * `SparsePauliOp`). A Pauli string names one letter per qubit with qubit 0 rightmost, as Qiskit
 * writes them: `'XZ'` is Z on qubit 0 and X on qubit 1.
 */

/** What a user passes for one observable: `'XZ'`, or `{ ZZ: 0.5, XI: -1.2 }` (a sum). */
export type ObservableSpec = string | Readonly<Record<string, number>>;

/** One term of a sum: a Pauli string (qubit 0 rightmost) times a real coefficient. */
export interface PauliTerm {
  readonly pauli: string;
  readonly coeff: number;
}

/** A parsed observable: the sum of its terms, every string as long as the circuit has qubits. */
export interface PauliSum {
  readonly terms: readonly PauliTerm[];
}

const PAULI = /^[IXYZ]+$/;

/**
 * Checks and parses observable `index` of a call over a `numQubits`-qubit circuit.
 *
 * @throws TypeError naming the observable (its index and text) and what is wrong with it.
 */
export function parseObservable(spec: unknown, numQubits: number, index: number): PauliSum {
  const name = `observable ${index} (${describe(spec)})`;
  const check = (pauli: string): void => {
    if (!PAULI.test(pauli))
      throw new TypeError(
        `estimator: ${name}: Pauli string ${JSON.stringify(pauli)} may hold only the letters I, X, Y, Z`,
      );
    if (pauli.length !== numQubits)
      throw new TypeError(
        `estimator: ${name}: Pauli string ${JSON.stringify(pauli)} has ${pauli.length} letters but the circuit has ${numQubits} qubits; write one letter per qubit, qubit 0 rightmost`,
      );
  };
  if (typeof spec === 'string') {
    check(spec);
    return { terms: [{ pauli: spec, coeff: 1 }] };
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw new TypeError(
      `estimator: ${name} must be a Pauli string such as 'ZZ' or an object of Pauli strings to coefficients such as { ZZ: 1, XX: 0.5 }`,
    );
  const terms: PauliTerm[] = [];
  for (const [pauli, coeff] of Object.entries(spec)) {
    check(pauli);
    if (typeof coeff !== 'number' || !Number.isFinite(coeff))
      throw new TypeError(
        `estimator: ${name}: the coefficient of ${pauli} must be a finite real number (got ${String(coeff)})`,
      );
    terms.push({ pauli, coeff });
  }
  if (terms.length === 0)
    throw new TypeError(`estimator: ${name} has no terms; give at least one Pauli string and its coefficient`);
  return { terms };
}

/** Checks the observables argument of `.remote()`: one observable or an array of them. */
export function parseObservables(specs: unknown, numQubits: number): PauliSum[] {
  const list = Array.isArray(specs) ? specs : [specs];
  if (list.length === 0) throw new TypeError('estimator().remote: observables must name at least one observable');
  return list.map((s, i) => parseObservable(s, numQubits, i));
}

/** The letter of `pauli` on qubit `q` (qubit 0 is the last character). */
export function letterOn(pauli: string, q: number): string {
  return pauli[pauli.length - 1 - q]!;
}

/**
 * The term on a device of `numPhysical` qubits where virtual qubit i sits on physical qubit
 * `layout[i]` (the transpiler's final layout): an ISA observable, as the service requires.
 */
export function applyLayout(sum: PauliSum, layout: readonly number[], numPhysical: number): PauliSum {
  return {
    terms: sum.terms.map(({ pauli, coeff }) => {
      const letters = new Array<string>(numPhysical).fill('I');
      for (let v = 0; v < layout.length; v++) letters[numPhysical - 1 - layout[v]!] = letterOn(pauli, v);
      return { pauli: letters.join(''), coeff };
    }),
  };
}

/**
 * Groups Pauli strings that commute qubit-wise (on every qubit the letters agree or one is I),
 * so each group is measured in one basis. Greedy, in the order given; returns for each group its
 * measurement basis (a Pauli string, I where no term acts) and the indices of its strings.
 */
export function qubitWiseGroups(paulis: readonly string[]): { basis: string; members: number[] }[] {
  const groups: { letters: string[]; members: number[] }[] = [];
  for (let i = 0; i < paulis.length; i++) {
    const p = paulis[i]!;
    if (!/[XYZ]/.test(p)) continue;
    const fits = groups.find((g) => [...p].every((c, k) => c === 'I' || g.letters[k] === 'I' || g.letters[k] === c));
    if (fits) {
      [...p].forEach((c, k) => {
        if (c !== 'I') fits.letters[k] = c;
      });
      fits.members.push(i);
    } else groups.push({ letters: [...p], members: [i] });
  }
  return groups.map((g) => ({ basis: g.letters.join(''), members: g.members }));
}

function describe(spec: unknown): string {
  try {
    const text = typeof spec === 'string' ? JSON.stringify(spec) : JSON.stringify(spec);
    return text === undefined ? String(spec) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(spec);
  }
}
