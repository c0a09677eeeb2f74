// json-config.ts — a subtree whose znodes must hold JSON matching a JSON Schema. Writes are
// checked at prep: an invalid one fails with BadArguments (and a log line saying why), a valid
// one is stored normalised (compact JSON) unless normalise=false, so every replica stores the
// same bytes whatever spacing the client sent. The mount point itself is not checked (it is the
// "directory"); with allowEmpty=true, empty znodes (intermediate directories) are allowed below.
//
//   plugin.2=./examples/plugins/json-config.ts
//   plugin.2.prefix=/config
//   plugin.2.schemaFile=./conf/config.schema.json        (or plugin.2.schema={"type":"object",…})
//
// In your own plugin, import from 'zkts/plugin'.
import { readFile } from 'node:fs/promises';
import { Code, definePlugin, option } from '../../src/plugin/index.js';
import { checkSchema, type Schema, validate } from './json-schema-lite.js';

export default definePlugin({
  name: 'json-config',
  version: '1.0.0',
  options: {
    prefix: option.string({ default: '/config', pattern: /^\/./, description: 'the subtree whose nodes hold JSON' }),
    schemaFile: option.string({ optional: true, description: 'a JSON Schema file' }),
    schema: option.string({ optional: true, description: 'the JSON Schema itself, inline' }),
    normalise: option.boolean({ default: true }),
    allowEmpty: option.boolean({ default: false }),
  },
  async setup(ctx) {
    const { prefix, schemaFile, normalise, allowEmpty } = ctx.options;
    if ((schemaFile === undefined) === (ctx.options.schema === undefined)) {
      throw new Error('give exactly one of the options schemaFile and schema');
    }
    const text = schemaFile !== undefined ? await readFile(schemaFile, 'utf8') : ctx.options.schema!;
    let schema: Schema;
    try {
      schema = JSON.parse(text) as Schema;
      checkSchema(schema);
    } catch (e) {
      throw new Error(`the schema ${schemaFile ?? '(inline)'} is not usable: ${(e as Error).message}`);
    }
    ctx.nodeBehaviour(prefix, {
      validateWrite(w) {
        if (w.path === prefix) return undefined;
        if (w.data === null || w.data.length === 0) {
          if (allowEmpty) return undefined;
          ctx.log('info', `${w.op} ${w.path} refused: empty data is not JSON`);
          return { error: Code.BadArguments };
        }
        let value: unknown;
        try {
          value = JSON.parse(w.data.toString('utf8'));
        } catch (e) {
          ctx.log('info', `${w.op} ${w.path} refused: not JSON (${(e as Error).message})`);
          return { error: Code.BadArguments };
        }
        const errors = validate(schema, value);
        if (errors.length > 0) {
          ctx.log('info', `${w.op} ${w.path} refused: ${errors.map((e) => `${e.at || '(root)'} ${e.message}`).join('; ')}`);
          return { error: Code.BadArguments };
        }
        return normalise ? { data: Buffer.from(JSON.stringify(value)) } : undefined;
      },
    });
  },
});
