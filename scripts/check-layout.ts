// bun scripts/check-layout.ts: the house rules a reader can rely on without reading every file.
//   1. No import cycles among cli/, core/ and native/: static imports and exports, `import type`
//      included (a cycle of types is still two files that cannot be understood apart), and
//      dynamic import("…") with a literal specifier.
//   2. core/ imports nothing from cli/ or native/: the protocol computes, the shells do the IO.
//   3. No source file over 450 lines outside test/ and fixtures (STYLE.md: split at ~400 along
//      a seam the reader can name).
// Prints one line per violation and exits 1 when there is any; silent and 0 when there is none.
// `bun scripts/check-layout.ts [DIR]` checks the tree at DIR (default: this repository).

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const ROOT = resolve(process.argv[2] ?? resolve(import.meta.dir, ".."));
const LAYERS = ["cli", "core", "native"];
const MAX_LINES = 450;
const SOURCE = /\.(ts|js|c|h|sh)$/;
/** Not walked for file sizes: tests and their fixtures, what is built or installed. */
const SKIP_DIRS = new Set(["node_modules", ".git", "test", "fixtures", "dist", "build", "crashes"]);

interface Edge {
  to: string;
  kind: "import" | "type" | "dynamic";
}

function walk(dir: string, keep: (path: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP_DIRS.has(name)) walk(path, keep, out);
    } else if (keep(path)) out.push(path);
  }
  return out;
}

const rel = (path: string) => relative(ROOT, path);

/** The repository file a relative specifier names, or null for a package or a builtin. */
function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Every import of a file, read from its syntax tree (so comments and strings do not count). */
function importsOf(path: string): { specifier: string; kind: Edge["kind"] }[] {
  const sf = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: { specifier: string; kind: Edge["kind"] }[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      // `import type {…}`, or `import { type A, type B }` with nothing else; the same for exports
      const allTypes = (names: ts.NamedImportBindings | ts.NamedExportBindings | undefined) =>
        names !== undefined && (ts.isNamedImports(names) || ts.isNamedExports(names)) && names.elements.length > 0 && names.elements.every((e) => e.isTypeOnly);
      const typeOnly = ts.isImportDeclaration(node)
        ? node.importClause?.isTypeOnly === true || (node.importClause?.name === undefined && allTypes(node.importClause?.namedBindings))
        : node.isTypeOnly || allTypes(node.exportClause);
      found.push({ specifier: node.moduleSpecifier.text, kind: typeOnly ? "type" : "import" });
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1 && ts.isStringLiteralLike(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === "require")) {
        found.push({ specifier: (node.arguments[0] as ts.StringLiteralLike).text, kind: "dynamic" });
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, kind: "type" });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const problems: string[] = [];

// ---- the import graph of cli/, core/, native/ ----

const files = LAYERS.flatMap((layer) => (existsSync(join(ROOT, layer)) ? walk(join(ROOT, layer), (p) => p.endsWith(".ts")) : []));
const graph = new Map<string, Edge[]>();
for (const file of files) {
  const edges: Edge[] = [];
  for (const { specifier, kind } of importsOf(file)) {
    const target = resolveSpecifier(file, specifier);
    if (target === null) continue;
    const layer = rel(target).split("/")[0]!;
    if (!LAYERS.includes(layer)) continue;
    edges.push({ to: target, kind });
    if (rel(file).startsWith("core/") && layer !== "core") {
      problems.push(`${rel(file)} imports ${rel(target)}: core/ imports nothing from cli/ or native/`);
    }
  }
  graph.set(file, edges);
}

// Tarjan's strongly connected components: each component of more than one file (or a file
// importing itself) holds at least one cycle; one shortest cycle through it is shown.
let counter = 0;
const index = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
const components: string[][] = [];
function connect(v: string): void {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const { to } of graph.get(v) ?? []) {
    if (!index.has(to)) {
      connect(to);
      low.set(v, Math.min(low.get(v)!, low.get(to)!));
    } else if (onStack.has(to)) low.set(v, Math.min(low.get(v)!, index.get(to)!));
  }
  if (low.get(v) === index.get(v)) {
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).some((e) => e.to === v)) components.push(component);
  }
}
for (const file of files) if (!index.has(file)) connect(file);

/** The shortest path from start back to start inside one component, as `a → (type) b → a`. */
function shortestCycle(start: string, within: Set<string>): string {
  const previous = new Map<string, { from: string; kind: Edge["kind"] }>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const { to, kind } of graph.get(v) ?? []) {
      if (!within.has(to) || previous.has(to)) continue;
      previous.set(to, { from: v, kind });
      if (to === start) {
        const steps: string[] = [];
        for (let at = start, first = true; first || at !== start; first = false) {
          const p = previous.get(at)!;
          steps.unshift(`${p.kind === "import" ? "" : `(${p.kind}) `}${rel(at)}`);
          at = p.from;
        }
        return [rel(start), ...steps].join(" → ");
      }
      queue.push(to);
    }
  }
  return rel(start);
}

for (const component of components) {
  const within = new Set(component);
  const start = [...component].sort()[0]!;
  const others = component.length > 2 ? ` (${component.length} files in the knot: ${component.map(rel).sort().join(", ")})` : "";
  problems.push(`import cycle: ${shortestCycle(start, within)}${others}`);
}

// ---- file sizes ----

for (const file of walk(ROOT, (p) => SOURCE.test(p))) {
  const lines = readFileSync(file, "utf8").split("\n").length - 1;
  if (lines > MAX_LINES) problems.push(`${rel(file)} has ${lines} lines: at most ${MAX_LINES} outside test/ and fixtures`);
}

for (const p of problems) console.error(`layout: ${p}`);
if (problems.length) {
  console.error(`layout: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
  process.exit(1);
}
