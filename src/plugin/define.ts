// define.ts — definePlugin: what a plugin module default-exports. It only checks the shape and
// tags the object; the loader validates options and the host runs setup at server start.
import type { OptionsOf, OptionsSchema, OptionsValidator } from './options.js';
import type { Plugin, PluginDefinition } from './types.js';

type Def<O> = Omit<PluginDefinition<O>, 'options'>;

/** A plugin that checks its options with a function: it returns them typed, or throws. */
export function definePlugin<O>(def: Def<O> & { options: OptionsValidator<O> }): Plugin<O>;
/** A plugin whose options are declared with `option.*` specs: setup gets them typed. */
export function definePlugin<const S extends OptionsSchema>(def: Def<OptionsOf<S>> & { options: S }): Plugin<OptionsOf<S>>;
/** A plugin without options. */
export function definePlugin(def: Def<Record<never, never>>): Plugin<Record<never, never>>;
export function definePlugin(def: PluginDefinition<unknown>): Plugin<unknown> {
  if (typeof def !== 'object' || def === null) throw new TypeError('definePlugin: expected { name, setup }');
  if (typeof def.name !== 'string' || def.name === '') throw new TypeError('definePlugin: name must be a non-empty string');
  if (typeof def.setup !== 'function') throw new TypeError(`definePlugin(${def.name}): setup must be a function`);
  return Object.freeze({ ...def, kind: 'zkts-plugin' as const });
}
