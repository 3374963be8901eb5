// A worker thread's code as one ES module, bundled with esbuild (which tsx already brings) once
// per process and entry. A worker that registers tsx itself takes ~200–300 ms to start (measured:
// 264 and 362 ms); a bundled one ~50 ms. Native addons (onnxruntime-node, better-sqlite3) stay
// outside the bundle, imported by their absolute file URLs so the data: URL module finds them.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const bundles = new Map<string, Promise<URL>>();

/**
 * The data: URL of `entry` bundled with its imports, `external` packages left outside (resolved
 * from the entry's folder). Built on first use; later calls share the build.
 */
export function bundledWorkerUrl(entry: URL, external: readonly string[] = []): Promise<URL> {
  let bundled = bundles.get(entry.href);
  if (bundled === undefined) {
    bundled = bundle(entry, external);
    bundles.set(entry.href, bundled);
  }
  return bundled;
}

async function bundle(entry: URL, external: readonly string[]): Promise<URL> {
  const resolve = createRequire(entry).resolve;
  const paths = new Map(external.map((name) => [name, pathToFileURL(resolve(name)).href]));
  const filter = new RegExp(`^(${external.map((n) => n.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})$`);
  const result = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: external.length === 0 ? [] : [{ name: 'native-addons-external', setup: (b) => void b.onResolve({ filter }, (args) => ({ path: paths.get(args.path)!, external: true })) }],
  });
  return new URL(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0]!.text).toString('base64')}`);
}
