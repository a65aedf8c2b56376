/**
 * The main process's only IPC helper: registers an invoke handler that answers only frames
 * from the app's own origin (the head's dashboard), so a page that somehow got into the window
 * cannot read the token.
 */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { IpcChannel, IpcChannels } from './ipc-channels.ts';
import { sameOrigin } from './origin-check.ts';

/** A sender from another origin asked for something. */
export class ForeignSenderError extends Error {
  override readonly name = 'ForeignSenderError';
  constructor(channel: string, origin: string) {
    super(`IPC ${channel} refused: the request came from ${origin}, not from the Orrery dashboard`);
  }
}


/** Handles `channel` for senders whose frame is on `origin()`. */
export function handle<C extends IpcChannel>(channel: C, origin: () => string, fn: () => IpcChannels[C] | Promise<IpcChannels[C]>): void {
  ipcMain.handle(channel, (event: IpcMainInvokeEvent) => {
    const url = event.senderFrame?.url;
    if (!sameOrigin(url, origin())) throw new ForeignSenderError(channel, url ?? 'an unknown frame');
    return fn();
  });
}
