/**
 * A small module system on tfjs-core, in the spirit of torch.nn.Module: each module owns named
 * parameters and named children, and `namedParameters()` walks them in PyTorch's `state_dict` order
 * (a module's own parameters first, then its children in registration order). The names are the
 * official `state_dict` keys (docs/spec.md §13), so weights move between the kit and PyTorch unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { check } from '../util/check';

/** A variable holding `values`; the temporary tensor it is made from is freed (the variable shares its data). */
function initVariable(values: Float32Array, shape: number[], trainable: boolean): tf.Variable {
  const init = tf.tensor(values, shape, 'float32');
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

export abstract class Module {
  private readonly ownParams: [string, tf.Variable][] = [];
  private readonly ownFrozen: [string, tf.Variable][] = [];
  private readonly children: [string, Module][] = [];

  /** Registers a trainable parameter from initial values (copied into a tf.Variable). */
  protected registerParameter(name: string, values: Float32Array, shape: number[]): tf.Variable {
    this.checkFree(name);
    const v = initVariable(values, shape, true);
    this.ownParams.push([name, v]);
    return v;
  }

  /**
   * Registers a tensor that is saved with the weights but never trained, clipped, decayed or counted
   * (docs/spec.md §3.5 `shared-frozen` DSM). Gradients still flow through it to earlier layers.
   */
  protected registerFrozen(name: string, values: Float32Array, shape: number[]): tf.Variable {
    this.checkFree(name);
    // A non-trainable variable: invisible to tf.variableGrads and optimisers, but assignable on load.
    const t = initVariable(values, shape, false);
    this.ownFrozen.push([name, t]);
    return t;
  }

  /** Registers a child module. An empty name splices the child's names into this module's namespace. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    if (name !== '') this.checkFree(name);
    this.children.push([name, module]);
    return module;
  }

  private checkFree(name: string): void {
    const taken = [
      ...this.ownParams.map((p) => p[0]),
      ...this.ownFrozen.map((p) => p[0]),
      ...this.children.map((c) => c[0]),
    ];
    check(
      !taken.includes(name),
      () => `Error in Module.register: name must be unique within a module, got a second '${name}'.`,
    );
  }

  /** Trainable parameters by full `state_dict` name, in registration order. */
  namedParameters(prefix = ''): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, v] of this.ownParams) out.set(prefix + name, v);
    for (const [name, child] of this.children) {
      for (const [k, v] of child.namedParameters(name === '' ? prefix : `${prefix}${name}.`)) out.set(k, v);
    }
    return out;
  }

  /** Frozen (untrained, uncounted) tensors by full name. */
  namedFrozen(prefix = ''): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, t] of this.ownFrozen) out.set(prefix + name, t);
    for (const [name, child] of this.children) {
      for (const [k, t] of child.namedFrozen(name === '' ? prefix : `${prefix}${name}.`)) out.set(k, t);
    }
    return out;
  }

  /** Number of trainable scalars (docs/spec.md §7 counting convention: frozen tensors excluded). */
  parameterCount(): number {
    let n = 0;
    for (const v of this.namedParameters().values()) n += v.size;
    return n;
  }

  /**
   * Frees tensors a module keeps outside its parameters (constants cached per input shape, such as
   * attention masks); called for every module of the tree by `dispose`. Default: none.
   */
  protected releaseCaches(): void {}

  /** Frees every parameter, frozen tensor and cached constant of this module and its children. */
  dispose(): void {
    for (const v of this.namedParameters().values()) v.dispose();
    for (const t of this.namedFrozen().values()) t.dispose();
    this.releaseAllCaches();
  }

  private releaseAllCaches(): void {
    this.releaseCaches();
    for (const [, child] of this.children) child.releaseAllCaches();
  }
}

/** A named container, for PyTorch `Sequential`/`ModuleList`/plain attribute groups (`predict_action.0`, `h.{i}`). */
export class Container extends Module {
  add<M extends Module>(name: string | number, module: M): M {
    return this.registerModule(String(name), module);
  }
}
