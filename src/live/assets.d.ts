/** Files the browser bundle (src/live/bundle.ts) embeds through esbuild loaders: MJCF as text, wasm as a data URL. */
declare module '*.xml' {
  const text: string;
  export default text;
}
declare module '*.wasm' {
  const dataUrl: string;
  export default dataUrl;
}
