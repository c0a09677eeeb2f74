// define.ts — definePlugin: what a plugin module default-exports. It only checks the shape and
// tags the object; the loader validates options and the host runs setup at server start.
import type { OptionsOf, OptionsSchema, OptionsValidator } from './options.js';
import type { Plugin, PluginDefinition } from './types.js';

/** A plugin whose options are declared with `option.*` specs: setup gets them typed. */
export function definePlugin<const S extends OptionsSchema = Record<never, never>>(
  def: Omit<PluginDefinition<OptionsOf<S>>, 'options'> & { options?: S },
): Plugin<OptionsOf<S>>;
/** A plugin that validates its options with its own function (return the typed options, or throw). */
export function definePlugin<O>(def: Omit<PluginDefinition<O>, 'options'> & { options: OptionsValidator<O> }): Plugin<O>;
export function definePlugin(def: PluginDefinition<unknown>): Plugin<unknown> {
  if (typeof def !== 'object' || def === null) throw new TypeError('definePlugin: expected { name, setup }');
  if (typeof def.name !== 'string' || def.name === '') throw new TypeError('definePlugin: name must be a non-empty string');
  if (typeof def.setup !== 'function') throw new TypeError(`definePlugin(${def.name}): setup must be a function`);
  return Object.freeze({ ...def, kind: 'zkts-plugin' as const });
}
