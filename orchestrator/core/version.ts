/** Orrery's version (package.json "version"; a unit test keeps them equal). Recorded in sessions. */
export const ORRERY_VERSION = '0.1.0';
