#!/usr/bin/env node
// Bundles the compiled service (tsc's output, decorator metadata included) so that a start reads two files instead
// of some 2,000 modules: resolving, reading and compiling them was most of the start-up (2.8 s → 1.65 s on a slow
// machine, with 100,000 tasks stored). esbuild only joins JavaScript here; it never compiles the TypeScript, which
// would lose the metadata Nest's injection reads.
// Two files come out: main.js, the entry, with only what must run before the rest is even parsed (the young
// generation's cap: parsing a 6 MB script already grows it, which on Node 24 left the direct bench 40 MiB higher),
// and serve.js, everything else, which main.js imports.
// Usage: node scripts/bundle.mjs <compiled folder> <output folder> [--only]
//   --only: the bundle replaces the compiled tree it came from (npm run build: dist/ holds main.js and serve.js alone)
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * Left out, loaded from node_modules when (if ever) asked for: native or optional modules, packages Nest loads
 * only for features this service does not use, packages that use files beside their own code (pino starts its
 * transports' worker threads from them, swagger-ui-dist serves them), and undici, which the service loads only
 * when a proxy is set (0.7 MB of source every start would otherwise keep in memory).
 */
export const EXTERNAL = [
  'sqlite3',
  'pg-native',
  'undici',
  'pino',
  'pino-pretty',
  'swagger-ui-dist',
  '@nestjs/microservices',
  '@nestjs/websockets',
  '@nestjs/platform-express',
  '@fastify/multipart',
  '@fastify/view',
];

/** CommonJS code inside an ES module bundle still finds `require`, `__filename` and `__dirname`. */
const COMMONJS_GLOBALS = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  "const __dirname = __fileURLToPath(new URL('.', import.meta.url));",
].join(' ');

/**
 * @nestjs/typeorm reads two optional typeorm exports through a createRequire of its own, which a bundler cannot
 * see: left as it is, the bundle loads all of typeorm a second time from node_modules at start (modules required at run
 * time: 734 with that second copy, 81 without).
 * The same lookup is pointed at the bundled typeorm; the build fails if that file no longer reads as expected.
 */
const ONE_TYPEORM = {
  name: 'one-typeorm',
  setup(build) {
    build.onLoad({ filter: /@nestjs[\\/]typeorm[\\/]dist[\\/]common[\\/]typeorm-compat\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const lookup = "require('typeorm')";
      if (!source.includes(lookup)) throw new Error(`${path} no longer contains ${lookup}: check how it loads typeorm before bundling it`);
      return { contents: `import * as bundledTypeorm from 'typeorm';\n${source.replace(lookup, 'bundledTypeorm')}`, loader: 'js' };
    });
  },
};

/**
 * Nest's ConsoleLogger and Logger each build an Intl.DateTimeFormat when their modules load, for the timestamps of
 * their own lines.
 * The service logs through pino and never prints one, but building that formatter reads ICU's locale and calendar
 * data out of the node binary: 6.5 MiB more resident memory for the life of the process (measured on Node 24;
 * a bare node rests 6.5 MiB higher after the same call). The formatter is built on its first use instead; the
 * build fails if that module no longer reads as expected.
 */
const LAZY_NEST_CLOCK = {
  name: 'lazy-nest-clock',
  setup(build) {
    build.onLoad({ filter: /@nestjs[\\/]common[\\/]services[\\/](console-)?logger\.service\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const eager = /const dateTimeFormatter = (new Intl\.DateTimeFormat\([^;]*\));/;
      if (!eager.test(source)) throw new Error(`${path} no longer builds its dateTimeFormatter as expected: check it before bundling it`);
      const lazy = 'let lazyDateTimeFormatter;\nconst dateTimeFormatter = { format: (time) => (lazyDateTimeFormatter ??= $1).format(time) };';
      return { contents: source.replace(eager, lazy), loader: 'js' };
    });
  },
};

/**
 * The bundle in ASCII alone. esbuild escapes strings but leaves regular expressions as they are, and a few of
 * validator.js's (letters of other alphabets) made V8 keep the whole 6 MB script as a two-byte string: 13 MB of
 * heap instead of 6.5 on Node 20, 16.5 MB outside it on Node 24. Each other character becomes its \uXXXX escape,
 * which means the same in strings, templates, regular expressions and identifiers; one escaped by a backslash of its
 * own (an identity escape, the same character) loses that backslash.
 */
function asciiOnly(text) {
  return text.replace(/(\\*)([\u0080-\uffff])/g, (_match, slashes, character) => {
    const kept = slashes.length % 2 === 1 ? slashes.slice(1) : slashes;
    return `${kept}\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

const ENTRY = 'main.js';
const REST = 'serve.js';

export async function bundle(compiled, out, { only = false } = {}) {
  // loaded here, not at the top: npm test and npm run bench import this file before they install what is missing
  const { build } = await import('esbuild');
  const options = (file, external) => ({
    entryPoints: [resolve(compiled, file)],
    outfile: resolve(out, file),
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    external,
    plugins: [ONE_TYPEORM, LAZY_NEST_CLOCK],
    banner: { js: COMMONJS_GLOBALS },
    // whitespace and syntax only: names stay, for Nest's messages and for stack traces
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    // node --enable-source-maps dist/main.js maps stack traces back to src/
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const [file, external] of [[ENTRY, [`./${REST}`]], [REST, EXTERNAL]]) {
    const { outputFiles } = await build({ ...options(file, external), write: false });
    for (const output of outputFiles) writeFileSync(output.path, output.path.endsWith('.js') ? asciiOnly(output.text) : output.contents);
  }
  if (only) {
    const keep = new Set([ENTRY, REST].flatMap((file) => [file, `${file}.map`]));
    for (const entry of readdirSync(out)) if (!keep.has(entry)) rmSync(resolve(out, entry), { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const [compiled, out] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  if (!compiled || !out) {
    console.error('usage: node scripts/bundle.mjs <compiled folder> <output folder> [--only]');
    process.exit(2);
  }
  await bundle(compiled, out, { only: process.argv.includes('--only') });
}
