/**
 * The browser bundle's `fs`: the MJCF files of src/envs/assets, embedded as text (loadModel reads them by
 * path), and nothing else; every other path is absent.
 */
import halfCheetah from '../../envs/assets/half_cheetah.xml';
import hopper from '../../envs/assets/hopper.xml';
import walker2d from '../../envs/assets/walker2d.xml';

const FILES: Record<string, string> = {
  'half_cheetah.xml': halfCheetah,
  'hopper.xml': hopper,
  'walker2d.xml': walker2d,
};

const name = (file: string) => file.split('/').pop() ?? file;

export function existsSync(file: string): boolean {
  return name(file) in FILES;
}

export function readFileSync(file: string): string {
  const text = FILES[name(file)];
  if (text === undefined) throw new Error(`ENOENT: ${file} is not in the browser bundle (only src/envs/assets is)`);
  return text;
}
