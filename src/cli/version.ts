/** Kept in step with package.json by test (src/cli/version.test.ts). */
export const VERSION = '0.1.0';
