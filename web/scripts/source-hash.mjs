// Writes static/app/source-hash.txt: sha256 over the sorted relative paths and bytes of the UI sources.
// tests/web/test_bundle.py recomputes it, so a bundle not rebuilt after a source change fails the tests.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(fileURLToPath(import.meta.url), "..", "..");

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

const topLevel = readdirSync(web).filter(
  (name) =>
    ["index.html", "package.json", "package-lock.json"].includes(name) ||
    /^vite\.config\.[a-z]+$/.test(name) ||
    /^tsconfig.*\.json$/.test(name),
);
const files = [...walk(join(web, "src")), ...topLevel.map((n) => join(web, n))]
  .map((f) => relative(web, f).split(sep).join("/"))
  .sort();

const hash = createHash("sha256");
for (const rel of files) {
  hash.update(rel + "\0");
  hash.update(readFileSync(join(web, rel)));
  hash.update("\0");
}
writeFileSync(join(web, "static", "app", "source-hash.txt"), hash.digest("hex") + "\n");
console.log(`source hash over ${files.length} files written`);
