// Reads a YAML document from a file. Syntax errors name the file, line and column.
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { ConfigError } from './validate.ts';

/** Parses YAML text; `source` names it in errors. An empty document is undefined. */
export function parseYaml(text: string, source: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: '', message: `${pos === undefined ? '' : `line ${pos.line}, column ${pos.col}: `}${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    );
  }
  try {
    // Aliases are bounded (a "billion laughs" document is refused), and an alias without its
    // anchor is the author's error, not a crash.
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `${(err as Error).message.split('\n')[0]}` }]);
  }
}

/** Alias expansions a document may make (the yaml library's default): configs need a handful. */
const MAX_ALIAS_COUNT = 100;

/** Reads and parses a YAML file. @throws ConfigError when it cannot be read or parsed. */
export async function readYamlFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read the file: ${(err as Error).message}` }]);
  }
  return parseYaml(text, path);
}
