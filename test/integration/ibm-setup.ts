/**
 * IBM emulators for the integration tests, each with its API key in the real OS keychain (run
 * the file inside test/services/keyring.sh), and the validated `ibm-quantum` config that reaches
 * it. Everything one `ibmEmulatorSetup()` started is closed, and its keys deleted, after the file's tests.
 */
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import { Entry } from '@napi-rs/keyring';
import { checkIbmQuantumConfig, type IbmQuantumConfig } from '../../backends/quantum/ibm/index.ts';
import { startIbmEmulator, type IbmEmulator, type IbmEmulatorOptions } from '../emulators/ibm/index.ts';

/** Starts an emulator with `options` over the defaults and returns it with a config (`extra` over the defaults). */
export type IbmSetup = (
  options?: IbmEmulatorOptions,
  extra?: Record<string, unknown>,
) => Promise<{ emu: IbmEmulator; config: IbmQuantumConfig }>;

/** A setup whose emulators start with `emulatorDefaults` and whose configs hold `configDefaults`. */
export function ibmEmulatorSetup(
  emulatorDefaults: IbmEmulatorOptions = { queueDelayMs: 30, runDelayMs: 10 },
  configDefaults: Record<string, unknown> = {},
): IbmSetup {
  const emulators: IbmEmulator[] = [];
  const secrets: string[] = [];
  after(async () => {
    for (const e of emulators) await e.close();
    for (const s of secrets) new Entry('orrery', s).deletePassword();
  });
  return async (options = {}, extra = {}) => {
    const emu = await startIbmEmulator({ ...emulatorDefaults, ...options });
    emulators.push(emu);
    const secret = `orrery-test-ibm-${randomBytes(4).toString('hex')}`;
    new Entry('orrery', secret).setPassword(emu.apiKey);
    secrets.push(secret);
    const config = checkIbmQuantumConfig({
      name: 'ibm',
      kind: 'ibm-quantum',
      instanceCrn: emu.instanceCrn,
      apiKeySecret: secret,
      url: emu.url,
      iamUrl: emu.iamUrl,
      pollIntervalMs: 20,
      ...configDefaults,
      ...extra,
    });
    return { emu, config };
  };
}
