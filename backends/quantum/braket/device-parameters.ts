/**
 * Braket device parameters (`CreateQuantumTask.deviceParameters`) from a task's `braketOptions`.
 * Each device's capabilities carry the JSON schema of its parameters (`deviceParameters`, the
 * provider's `*_device_parameters` class of amazon-braket-schemas, e.g. IonQ's with
 * `errorMitigation`); the document sent names that schema's header and holds the gate-model
 * `paradigmParameters` (`qubitCount`, `disableQubitRewiring`). The shape is checked at
 * `.remote()` ({@link checkBraketOptions}); what the device takes is checked against its schema
 * before the task is created ({@link deviceParametersFor}), so nothing the device would refuse
 * is submitted.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';

/** Device parameters a circuit task may ask for. */
export interface BraketOptions {
  /** Run the program on the qubits it names, without the device's rewiring (`paradigmParameters.disableQubitRewiring`). */
  disableQubitRewiring?: boolean;
  /** `'debias'`: IonQ's debiasing error mitigation (`errorMitigation: [Debias]`); only devices whose schema lists `errorMitigation` take it. */
  errorMitigation?: 'debias';
}

const GATE_MODEL_PARAMETERS = 'braket.device_schema.gate_model_parameters';
const DEBIAS = 'braket.device_schema.error_mitigation.debias.Debias';

/** Checks `braketOptions` at `.remote()`: a TypeError naming the field and what is allowed. */
export function checkBraketOptions(o: unknown, where: string): BraketOptions {
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new TypeError(`${where}: braketOptions must be an object such as { errorMitigation: 'debias' }`);
  for (const [k, v] of Object.entries(o)) {
    if (k === 'disableQubitRewiring') {
      if (typeof v !== 'boolean')
        throw new TypeError(`${where}: braketOptions.disableQubitRewiring must be true or false (got ${show(v)})`);
    } else if (k === 'errorMitigation') {
      if (v !== 'debias')
        throw new TypeError(`${where}: braketOptions.errorMitigation must be 'debias' (got ${show(v)})`);
    } else {
      throw new TypeError(
        `${where}: braketOptions.${k} is not a Braket device parameter Orrery sends; allowed: disableQubitRewiring, errorMitigation`,
      );
    }
  }
  return o as BraketOptions;
}

/**
 * The `deviceParameters` JSON for `options` on a device whose capabilities hold `schema`
 * (undefined when no option is set). Throws a BackendError naming the option when the device's
 * schema does not take it.
 */
export function deviceParametersFor(
  backend: string,
  deviceLabel: string,
  schema: unknown,
  qubitCount: number,
  options: BraketOptions | undefined,
): string | undefined {
  if (!options || Object.keys(options).length === 0) return undefined;
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  const header = headerOf(props?.braketSchemaHeader);
  if (!props || !header)
    throw new BackendError(
      backend,
      `device ${deviceLabel} lists no deviceParameters schema, so braketOptions (${Object.keys(options).join(', ')}) cannot be sent to it; leave them out for this device`,
      false,
    );
  if (options.errorMitigation !== undefined && !('errorMitigation' in props))
    throw new BackendError(
      backend,
      `braketOptions.errorMitigation: device ${deviceLabel} takes no error mitigation (its ${header.name} has no errorMitigation); leave it out or choose a device that lists it (IonQ)`,
      false,
    );
  if (options.disableQubitRewiring !== undefined && !('paradigmParameters' in props))
    throw new BackendError(
      backend,
      `braketOptions.disableQubitRewiring: device ${deviceLabel} has no paradigmParameters in its ${header.name}`,
      false,
    );
  return JSON.stringify({
    braketSchemaHeader: header,
    paradigmParameters: {
      braketSchemaHeader: { name: GATE_MODEL_PARAMETERS, version: '1' },
      qubitCount,
      ...(options.disableQubitRewiring !== undefined && { disableQubitRewiring: options.disableQubitRewiring }),
    },
    ...(options.errorMitigation === 'debias' && { errorMitigation: [{ type: DEBIAS }] }),
  });
}

/** The schema header a parameters schema fixes (`const`, or its `default` as pydantic writes it). */
function headerOf(p: unknown): { name: string; version: string } | undefined {
  const x = p as { const?: { name?: unknown; version?: unknown }; default?: { name?: unknown; version?: unknown } };
  const h = x?.const ?? x?.default;
  return typeof h?.name === 'string'
    ? { name: h.name, version: typeof h.version === 'string' ? h.version : '1' }
    : undefined;
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
