// loader.ts — turns what the server was given (zoo.cfg's plugin.N lines, or the `plugins` option)
// into plugin instances with validated, typed options. Everything is loaded and every option
// checked before any plugin's setup runs, so a typo in plugin.3.schemaFile stops the server at
// start with a message naming plugin.3 and the option, and nothing half-started.
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ZktsError } from '../errors.js';
import { describe } from './boundary.js';
import { validateOptions } from './options.js';
import { definePlugin } from './define.js';
import type { Plugin, PluginAuthProvider, PluginSpec } from './types.js';

export interface LoadedPlugin {
  /** The N of plugin.N (or the position from 1). */
  id: string;
  /** "plugin.N (name)". */
  label: string;
  plugin: Plugin<unknown>;
  options: unknown;
}

export function isPlugin(v: unknown): v is Plugin<unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { kind?: unknown }).kind === 'zkts-plugin' &&
    typeof (v as { name?: unknown }).name === 'string' &&
    typeof (v as { setup?: unknown }).setup === 'function'
  );
}

/** Imports a plugin module: an absolute path, a file URL, or a package resolved from `baseDir`. */
export async function importPlugin(module: string, label: string, baseDir = process.cwd()): Promise<Plugin<unknown>> {
  const mod = await importModule(module, label, baseDir);
  const p = mod.default ?? mod.plugin;
  if (!isPlugin(p)) {
    throw new ZktsError(
      'ZKTS_ERR_CONFIG',
      `${label}: ${module} does not export a plugin; its default export must be definePlugin({ name, setup }) from 'zkts/plugin'`,
    );
  }
  return p;
}

function isAuthProvider(v: unknown): v is PluginAuthProvider {
  const p = v as Partial<PluginAuthProvider> | null;
  return typeof p === 'object' && p !== null && typeof p.scheme === 'string' && typeof p.authenticate === 'function' && typeof p.matches === 'function';
}

/**
 * zoo.cfg's authProvider.N=<module>: a plugin that registers auth providers (ctx.authProvider), or
 * a module whose default export is one PluginAuthProvider ({ scheme, authenticate, matches }),
 * which becomes a plugin that registers it.
 */
export async function importAuthProvider(module: string, label: string, baseDir = process.cwd()): Promise<Plugin<unknown>> {
  const mod = await importModule(module, label, baseDir);
  const p = mod.default ?? mod.plugin ?? mod.authProvider;
  if (isPlugin(p)) return p;
  if (isAuthProvider(p)) return definePlugin({ name: `auth-${p.scheme}`, setup: (ctx) => ctx.authProvider(p) }) as Plugin<unknown>;
  throw new ZktsError(
    'ZKTS_ERR_CONFIG',
    `${label}: ${module} exports neither an auth provider ({ scheme, authenticate, matches }) nor a plugin (definePlugin from 'zkts/plugin') as its default export`,
  );
}

async function importModule(module: string, label: string, baseDir: string): Promise<Record<string, unknown>> {
  const isPath = isAbsolute(module) || module.startsWith('.');
  const specifier = isPath ? pathToFileURL(isAbsolute(module) ? module : join(baseDir, module)).href : module;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    if (isPath || (e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw loadError(label, module, e);
    // A package installed next to the operator's project rather than next to zkts.
    let resolved: string;
    try {
      resolved = createRequire(join(baseDir, 'zoo.cfg')).resolve(module);
    } catch {
      throw loadError(label, module, e);
    }
    try {
      mod = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
    } catch (e2) {
      throw loadError(label, module, e2);
    }
  }
  return mod;
}

function loadError(label: string, module: string, e: unknown): ZktsError {
  const hint = module.endsWith('.ts')
    ? ' (a .ts plugin needs a TypeScript loader: compile it to .js, or run zkts with node --import tsx)'
    : '; check the path (relative paths are from the directory zkts was started in) or install the package';
  return new ZktsError('ZKTS_ERR_CONFIG', `${label}: cannot load ${module}: ${describe(e)}${hint}`, { cause: e });
}

function rawOptions(o: Readonly<Record<string, unknown>> | ReadonlyMap<string, string> | undefined): Record<string, unknown> {
  if (o === undefined) return {};
  if (o instanceof Map) return Object.fromEntries(o);
  return { ...(o as Record<string, unknown>) };
}

/** Loads every spec and validates every plugin's options; throws ZktsError on the first bad one. */
export async function loadPlugins(specs: readonly PluginSpec[], baseDir?: string): Promise<LoadedPlugin[]> {
  const out: LoadedPlugin[] = [];
  for (const [i, spec] of specs.entries()) {
    const entry: Exclude<PluginSpec, Plugin<any>> = 'kind' in spec ? { plugin: spec } : spec;
    const id = entry.id ?? (entry.authProvider ? `authProvider.${i + 1}` : String(i + 1));
    const where = entry.authProvider ? id : `plugin.${id}`;
    const load = entry.authProvider ? importAuthProvider : importPlugin;
    const plugin = typeof entry.plugin === 'string' ? await load(entry.plugin, where, baseDir) : entry.plugin;
    if (!isPlugin(plugin)) throw new ZktsError('ZKTS_ERR_CONFIG', `${where}: not a plugin; make it with definePlugin({ name, setup }) from 'zkts/plugin'`);
    const label = `${where} (${plugin.name})`;
    if (out.some((p) => p.id === id)) throw new ZktsError('ZKTS_ERR_CONFIG', `${label}: another plugin is already ${where}; give each one its own id`);
    const raw = rawOptions(entry.options);
    let options: unknown;
    const schema = plugin.options;
    if (typeof schema === 'function') {
      try {
        options = schema(raw);
      } catch (e) {
        throw new ZktsError('ZKTS_ERR_CONFIG', `${label}: bad options: ${(e as Error).message ?? String(e)}`, { cause: e });
      }
    } else {
      const r = validateOptions(schema ?? {}, raw);
      if ('problems' in r) {
        const list = r.problems.map((p) => `${where}.${p.option}: ${p.message}`).join('; ');
        throw new ZktsError('ZKTS_ERR_CONFIG', `${label}: ${list}`);
      }
      options = Object.freeze(r.options);
    }
    out.push({ id, label, plugin, options });
  }
  return out;
}
