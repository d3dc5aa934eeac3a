/**
 * Masses computed from the geometry of docs/spec.md §14.1 alone, independent of MuJoCo: a capsule of radius r
 * and segment length L has volume πr²L + 4/3·πr³; density 1000 kg/m³; halfcheetah is rescaled to 14 kg in total.
 */
export function capsuleMass(radius: number, length: number, density = 1000): number {
  return density * (Math.PI * radius * radius * length + (4 / 3) * Math.PI * radius ** 3);
}

/** Expected body masses by body name (world body excluded), from the geometry tables of docs/spec.md §14.1. */
export function expectedMasses(id: 'hopper' | 'walker2d' | 'halfcheetah'): Record<string, number> {
  if (id === 'hopper') {
    return {
      torso: capsuleMass(0.05, 0.4),
      thigh: capsuleMass(0.05, 0.45),
      leg: capsuleMass(0.04, 0.5),
      foot: capsuleMass(0.06, 0.39),
    };
  }
  if (id === 'walker2d') {
    const leg = { thigh: capsuleMass(0.05, 0.45), leg: capsuleMass(0.04, 0.5), foot: capsuleMass(0.06, 0.2) };
    return {
      torso: capsuleMass(0.05, 0.4),
      ...leg,
      thigh_left: leg.thigh,
      leg_left: leg.leg,
      foot_left: leg.foot,
    };
  }
  // halfcheetah: capsules of radius 0.046; half-lengths from docs/spec.md §14.1 (torso fromto length 1.0, head 2 × 0.15).
  const r = 0.046;
  const raw: Record<string, number> = {
    torso: capsuleMass(r, 1.0) + capsuleMass(r, 0.3),
    bthigh: capsuleMass(r, 0.29),
    bshin: capsuleMass(r, 0.3),
    bfoot: capsuleMass(r, 0.188),
    fthigh: capsuleMass(r, 0.266),
    fshin: capsuleMass(r, 0.212),
    ffoot: capsuleMass(r, 0.14),
  };
  const total = Object.values(raw).reduce((s, m) => s + m, 0);
  return Object.fromEntries(Object.entries(raw).map(([k, m]) => [k, (m * 14) / total]));
}

/** Uniform random actions in [-1, 1] from a tiny seeded generator (tests only; the kit's Rng is tested elsewhere). */
export function randomActions(seed: number, count: number): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}
