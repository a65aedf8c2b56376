/**
 * Every IPC message between the Electron main process and the preload, in one place: channel
 * names and what each returns.
 */

/** What the preload hands the dashboard: where the head is and its token. */
export interface HeadInfo {
  readonly headUrl: string;
  readonly token: string;
}

/** Invoke channels and their replies. */
export interface IpcChannels {
  /** The running head's URL and token. */
  'orrery:head-info': HeadInfo;
}

/** Names of the invoke channels. */
export type IpcChannel = keyof IpcChannels;

/** The channel names, for the handlers and the preload. */
export const HEAD_INFO: IpcChannel = 'orrery:head-info';
