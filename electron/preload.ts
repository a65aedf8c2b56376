/**
 * Preload (sandboxed, context-isolated): asks the main process for the head's URL and token
 * and exposes exactly `{ headUrl, token }` to the dashboard as `window.orrery`. Bundled into
 * one file because a sandboxed preload cannot require local modules.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { HEAD_INFO, type HeadInfo } from './ipc-channels.ts';

/** The preload's only IPC helper: a typed invoke. */
async function invokeHeadInfo(): Promise<HeadInfo> {
  const info = (await ipcRenderer.invoke(HEAD_INFO)) as HeadInfo;
  return { headUrl: String(info.headUrl), token: String(info.token) };
}

void invokeHeadInfo().then((info) => contextBridge.exposeInMainWorld('orrery', Object.freeze({ headUrl: info.headUrl, token: info.token })));
