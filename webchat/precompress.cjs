// Writes node_modules/botframework-webchat/dist/webchat.js.br and .gz beside the bundle, once (scripts/bootstrap runs
// it after npm ci): the bot serves them through aiohttp's precompressed-sibling support (bot/channels/webpage.py).
// Node's own zlib has brotli; the Python environment has no brotli library, so it is done here, at install time.
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const bundle = path.join(__dirname, "node_modules", "botframework-webchat", "dist", "webchat.js");
const source = fs.readFileSync(bundle);
const outputs = {
  ".br": () =>
    zlib.brotliCompressSync(source, {
      params: {
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: source.length,
      },
    }),
  ".gz": () => zlib.gzipSync(source, { level: zlib.constants.Z_BEST_COMPRESSION }),
};
for (const [suffix, compress] of Object.entries(outputs)) {
  const target = bundle + suffix;
  const partial = target + ".partial";
  fs.writeFileSync(partial, compress());
  fs.renameSync(partial, target); // never a half-written file where the server looks
  process.stdout.write(`precompress: ${path.basename(target)} ${fs.statSync(target).size} bytes (from ${source.length})\n`);
}
