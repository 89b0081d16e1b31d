// Prints the wire names of the official JS SDK's serialization schemas, as
// JSON {"Model": ["wire_name", ...]}, for the models named on the command
// line. Run from a directory whose node_modules holds @elevenlabs/elevenlabs-js.
// An object schema lists its raw property names; a union lists the names
// of all its members.
const fs = require("fs");
const path = require("path");

const pkg = path.dirname(require.resolve("@elevenlabs/elevenlabs-js/package.json", { paths: [process.cwd()] }));
const types = path.join(pkg, "serialization", "types");

function wireNames(name, seen) {
  if (seen.has(name)) return [];
  seen.add(name);
  const file = path.join(types, name + ".js");
  const schema = require(file)[name];
  if (schema && typeof schema.getType === "function" && schema.getType() === "object") {
    return schema._getRawProperties();
  }
  // A union: the object schemas it is made of are the files it requires.
  const src = fs.readFileSync(file, "utf8");
  const out = new Set();
  for (const m of src.matchAll(/require\("\.\/(\w+)"\)/g)) {
    for (const n of wireNames(m[1], seen)) out.add(n);
  }
  return [...out];
}

const result = {};
for (const name of process.argv.slice(2)) {
  result[name] = wireNames(name, new Set());
}
process.stdout.write(JSON.stringify(result));
