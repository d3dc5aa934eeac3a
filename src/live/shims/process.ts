/**
 * The browser bundle's `process` (esbuild `inject`): an empty environment, so the kit's `process.env.X` reads
 * take their defaults, and output streams that print to the console. `versions.node` stays undefined, so
 * tfjs and mujoco-js see a browser.
 */
const lineWriter = (print: (line: string) => void) => ({
  write(text: string): boolean {
    print(text.replace(/\n$/, ''));
    return true;
  },
});

export const process = {
  env: {} as Record<string, string | undefined>,
  platform: 'browser',
  versions: {} as Record<string, string>,
  stdout: lineWriter((line) => console.log(line)),
  stderr: lineWriter((line) => console.warn(line)),
  cwd: () => '/',
};
