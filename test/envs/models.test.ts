/** The MJCF files and their loader: physics options from the facts, readable one-line errors for bad XML. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ASSET_DIR, loadModel, loadMujoco, makeEnv } from '../../src/envs';

test('each MJCF file opens with a comment naming its source facts', () => {
  for (const file of ['hopper.xml', 'walker2d.xml', 'half_cheetah.xml']) {
    const text = fs.readFileSync(path.join(ASSET_DIR, file), 'utf8');
    assert.match(text, /^<!--[\s\S]*docs\/spec\.md[\s\S]*-->/, file);
    assert.doesNotMatch(text, /<compiler[^>]*coordinate="global"/, file);
  }
});

test('solver options, integrators and friction follow the facts', async () => {
  const hopper = (await makeEnv('hopper')).raw;
  assert.equal(hopper.model.opt.timestep, 0.002);
  assert.equal(hopper.model.opt.integrator, hopper.mj.mjtIntegrator.mjINT_RK4.value);
  const cheetah = (await makeEnv('halfcheetah')).raw;
  assert.equal(cheetah.model.opt.timestep, 0.01);
  assert.equal(cheetah.model.opt.integrator, cheetah.mj.mjtIntegrator.mjINT_EULER.value);
  const walker = (await makeEnv('walker2d')).raw;
  const friction = walker.model.geom_friction as Float64Array;
  const geom = (name: string) => walker.mj.mj_name2id(walker.model, walker.mj.mjtObj.mjOBJ_GEOM.value, name);
  // Right foot 0.9, left foot 1.9 (gym v2/v3 file used by D4RL), torsional/rolling 0.1 from the default class.
  assert.deepEqual(Array.from(friction.subarray(3 * geom('foot_geom'), 3 * geom('foot_geom') + 3)), [0.9, 0.1, 0.1]);
  assert.deepEqual(
    Array.from(friction.subarray(3 * geom('foot_left_geom'), 3 * geom('foot_left_geom') + 3)),
    [1.9, 0.1, 0.1],
  );
  // Hopper: qpos0 has the torso at z = 1.25 through rootz's ref.
  assert.deepEqual(Array.from(hopper.model.qpos0 as Float64Array), [0, 1.25, 0, 0, 0, 0]);
});

test('loadModel turns MuJoCo XML failures into one readable line naming the file', async () => {
  const mj = await loadMujoco();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envs-xml-'));
  const cases: [string, string, RegExp][] = [
    [
      'global.xml',
      '<mujoco><compiler coordinate="global"/><worldbody/></mujoco>',
      /global coordinates no longer supported/,
    ],
    [
      'arith.xml',
      '<mujoco><worldbody><body pos="0.13/2 0 0"><geom size=".1"/></body></worldbody></mujoco>',
      /bad format in attribute 'pos'/,
    ],
    ['broken.xml', '<mujoco><worldbody>', /XML parse error|XML_ERROR/],
  ];
  try {
    for (const [name, xml, why] of cases) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, xml);
      assert.throws(
        () => loadModel(mj, file),
        (e: Error) =>
          e.message.startsWith(`Error in loadModel: ${name} must compile in MuJoCo`) &&
          why.test(e.message) &&
          !e.message.includes('\n'),
        name,
      );
    }
    assert.throws(() => loadModel(mj, path.join(dir, 'missing.xml')), /missing\.xml must compile .*cannot read file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
