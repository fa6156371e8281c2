// Validates an unpacked Teams app package with Microsoft's own validator, @microsoft/app-manifest (webchat/,
// devDependency): `node teams_validator.cjs <dir>` prints one JSON object (tests/bot/test_teams_validator.py).
//
// Offline: the validator resolves a developer.microsoft.com/json-schemas/teams/... `$schema` to the copy it bundles
// and only fetches other URLs; fetch is replaced by a function that throws, so a schema it does not bundle is an
// error here, never a download.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

globalThis.fetch = async (url) => {
  throw new Error(`network access refused (${url}): the validator should use its bundled schema`);
};
const webchat = path.resolve(__dirname, "..", "..", "webchat", "package.json");
const requireWebchat = createRequire(webchat);
const { AppManifestUtils } = requireWebchat("@microsoft/app-manifest");
const root = path.dirname(requireWebchat.resolve("@microsoft/app-manifest/package.json"));
const bundled = path.join(root, "build", "json-schemas", "teams");

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

// Every localisation schema the package bundles (1.8 and later) has patterns like `\[\b([0-9]|...)\b]\.name$`
// whose lone `]` JavaScript rejects in unicode mode, which is how Ajv compiles them: validateAgainstSchema(file)
// throws "Invalid regular expression" for any file. Outside a character class a lone `]` means a literal `]`, so
// escaping it keeps each pattern's meaning; any other pattern that still fails stops the run.
function compilable(schema) {
  const patterns = {};
  for (const [pattern, rule] of Object.entries(schema.patternProperties || {})) {
    const fixed = pattern.replace(/\\b\]/g, "\\b\\]");
    new RegExp(fixed, "u");
    patterns[fixed] = rule;
  }
  return { ...schema, patternProperties: patterns };
}

function versions() {
  return fs
    .readdirSync(bundled)
    .filter((name) => /^v\d+\.\d+$/.test(name))
    .map((name) => name.slice(1))
    .sort((a, b) => a.split(".")[0] - b.split(".")[0] || a.split(".")[1] - b.split(".")[1]);
}

async function main(dir) {
  const manifestFile = path.join(dir, "manifest.json");
  const [manifest, manifestErrors] = await AppManifestUtils.readAndValidateTeamsManifest(manifestFile);
  const languages = {};
  const info = manifest.localizationInfo || {};
  const schemaFile = path.join(bundled, `v${manifest.manifestVersion}`, "MicrosoftTeams.Localization.schema.json");
  for (const entry of info.additionalLanguages || []) {
    const strings = readJson(path.join(dir, entry.file));
    const schema = compilable(readJson(schemaFile));
    languages[entry.languageTag] = await AppManifestUtils.validateAgainstSchema(strings, schema);
  }
  const validator = readJson(path.join(root, "package.json")).version;
  const all = versions();
  return {
    validator,
    versions: all,
    newest: all[all.length - 1],
    manifestVersion: manifest.manifestVersion,
    defaultLanguageTag: info.defaultLanguageTag || null,
    manifest: manifestErrors,
    languages,
  };
}

main(process.argv[2])
  .then((result) => process.stdout.write(JSON.stringify(result) + "\n"))
  .catch((error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
  });
