/** The browser bundle's `url`: what src/envs/mujoco.ts imports (the page preloads mujoco-js, so it is not called). */
export function pathToFileURL(file: string): URL {
  return new URL(`file://${file}`);
}
