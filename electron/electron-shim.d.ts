/**
 * The few Electron APIs the shell uses. The `electron` package (and its types) cannot be
 * installed on machines without internet access to Electron's binary download, so the shell
 * declares what it needs; these match Electron 30+.
 */
declare module 'electron' {
  export interface NavigationEvent {
    preventDefault(): void;
  }
  export interface WebContents {
    on(event: 'will-navigate' | 'will-redirect', listener: (event: NavigationEvent, url: string) => void): void;
    on(event: 'will-attach-webview', listener: (event: NavigationEvent) => void): void;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
  }
  export interface BrowserWindowOptions {
    width?: number;
    height?: number;
    title?: string;
    show?: boolean;
    webPreferences?: {
      contextIsolation?: boolean;
      sandbox?: boolean;
      nodeIntegration?: boolean;
      webSecurity?: boolean;
    };
  }
  export class BrowserWindow {
    constructor(options: BrowserWindowOptions);
    readonly webContents: WebContents;
    loadURL(url: string): Promise<void>;
    once(event: 'ready-to-show', listener: () => void): void;
    show(): void;
  }
  export interface HeadersReceivedDetails {
    readonly url: string;
    readonly responseHeaders?: Record<string, string[]>;
  }
  export interface Session {
    setPermissionRequestHandler(
      handler: (wc: WebContents, permission: string, callback: (granted: boolean) => void) => void,
    ): void;
    setPermissionCheckHandler(handler: (wc: WebContents | null, permission: string) => boolean): void;
    webRequest: {
      onHeadersReceived(
        listener: (
          details: HeadersReceivedDetails,
          callback: (response: { responseHeaders?: Record<string, string[]> }) => void,
        ) => void,
      ): void;
    };
  }
  export const app: {
    whenReady(): Promise<void>;
    on(event: 'window-all-closed' | 'before-quit', listener: () => void): void;
    on(event: 'web-contents-created', listener: (event: unknown, contents: WebContents) => void): void;
    quit(): void;
  };
  export const session: { readonly defaultSession: Session };
}
