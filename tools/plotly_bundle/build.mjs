// Build the pack's partial plotly.js: plotly's core with only the trace types the pack draws.
//
//   cd tools/plotly_bundle && npm install && node build.mjs scatter bar heatmap waterfall
//
// plotly publishes partial bundles on npm, but none holds both the heatmap (capacity page) and the waterfall
// (consensus page): the cartesian one lacks the waterfall, the finance one the heatmap. This builds the same
// way plotly's own partial bundles are built (esbuild, IIFE exposing window.Plotly, attribute descriptions
// stripped since only plotly's schema documentation reads them) and writes the trace list into the banner,
// where tests/test_print.py reads it. Use the plotly.js version of the installed Python plotly package:
// python -c "import plotly.offline as o; print(o.get_plotlyjs_version())".
import { build } from 'esbuild';
import { readFileSync, writeFileSync, copyFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, '../../sop_lib/templates/pack/plotly-partial.min.js');
const traces = process.argv.slice(2);
if (traces.length === 0) {
    console.error('usage: node build.mjs <trace> [<trace> …]   e.g. scatter bar heatmap waterfall');
    process.exit(2);
}
const require = createRequire(import.meta.url);
const plotlyDir = dirname(require.resolve('plotly.js/package.json'));
const version = JSON.parse(readFileSync(join(plotlyDir, 'package.json'), 'utf8')).version;

const entryDir = mkdtempSync(join(tmpdir(), 'sop-plotly-'));
const entry = join(entryDir, 'index.js');
const lib = (name) => JSON.stringify(join(plotlyDir, 'lib', name));
writeFileSync(entry, [
    `var Plotly = require(${lib('core')});`,
    `Plotly.register([${traces.map((t) => `require(${lib(t)})`).join(', ')}]);`,
    'module.exports = Plotly;',
].join('\n'));

// attribute descriptions feed plotly's schema documentation, not drawing: dropped, as plotly's bundles do
const dropDescriptions = {
    name: 'drop-descriptions',
    setup(b) {
        b.onLoad({ filter: /plotly\.js[\\/]src[\\/].*\.js$/ }, (args) => {
            const code = readFileSync(args.path, 'utf8')
                .replace(/\n\s*description: \[[\s\S]*?\]\.join\([^)]*\),?/g, '')
                .replace(/\n\s*description: '.*',?/g, '');
            return { contents: code, loader: 'js', resolveDir: dirname(args.path) };
        });
    },
};

const banner = `/**
* plotly.js (partial bundle for the S&OP pack - minified) v${version}
* traces: ${traces.join(', ')}
* Copyright 2012-2026, Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license (plotly.js-LICENSE.txt)
*/`;
await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: 'Plotly',
    target: 'es2016',
    define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
    alias: { stream: 'stream-browserify' },
    legalComments: 'eof',
    banner: { js: banner },
    footer: { js: 'window.Plotly = Plotly;' },
    // the one stylesheet plotly's core requires is maplibre's, for map traces only: not bundled
    loader: { '.css': 'empty' },
    plugins: [dropDescriptions],
    logLevel: 'info',
});
copyFileSync(join(plotlyDir, 'LICENSE'), resolve(dirname(out), 'plotly.js-LICENSE.txt'));
console.log(`plotly.js ${version} with ${traces.join(', ')} → ${out}`);
