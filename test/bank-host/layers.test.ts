// The bank host is built in layers, and every import points down. From the bottom:
//
//   basics      bank-host/errors.ts, config.ts, keys.ts: the error hierarchy, the host's settings, its keys
//   store       bank-host/store/: the LevelDB database, group commit, locks (knows no domain: the group
//               committer carries events of a type parameter to a sink it is given)
//   domain      audit/, then ledger/ and devices/, then customers/. Within the domain the order is
//               audit < ledger, devices < customers: every action leaves an audit record, so the ledger,
//               the device registry and the customers' operator functions use audit/ (its event type and
//               audit/operator-action.ts); customers open accounts, so they use ledger/. audit/ uses none
//               of them, and ledger/ and devices/ do not use each other. fleet/ (the fleet's state, alerts
//               and operator tokens) sits beside customers/, above ledger/ and devices/.
//   operations  bank-host/operations/: the handlers of kiosk requests, and HostServices, the bundle of store,
//               settings and keys the layers above hand around (the domain takes narrow parameters instead)
//   server      bank-host/server/ (the kiosk channel and its dispatcher) and admin/ (the admin socket and
//               its commands), side by side: neither uses the other
//   console     bank-host/console/: the operator console's HTTP listener and the metrics, above both
//   host        bank-host/host.ts: assembles a host from all of the above
//   cli         bank-host/cli/: the operator's command line
//
// A file may import files of its own folder and files of any layer below its own, never one above or one
// beside it in the same layer, and the imports of bank-host form no circle, type-only imports included.
// Outside itself bank-host imports only protocol/ (and packages). docs/ledger.md ("How the code is laid
// out") says the same in prose.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';

const ROOT = 'bank-host';

interface Layer {
  readonly name: string;
  /** Imports go only to a lower rank; two units of one rank do not import each other. */
  readonly rank: number;
  /** Files whose path (from the repository root) starts with one of these belong to the layer. */
  readonly paths: readonly string[];
}

const LAYERS: readonly Layer[] = [
  { name: 'basics', rank: 0, paths: ['bank-host/errors.ts', 'bank-host/config.ts', 'bank-host/keys.ts'] },
  { name: 'store', rank: 1, paths: ['bank-host/store/'] },
  { name: 'audit', rank: 2, paths: ['bank-host/audit/'] },
  { name: 'ledger', rank: 3, paths: ['bank-host/ledger/'] },
  { name: 'devices', rank: 3, paths: ['bank-host/devices/'] },
  { name: 'customers', rank: 4, paths: ['bank-host/customers/'] },
  // The fleet's state, its alerts and the operators who may watch it: it reads the ledger's open items and
  // the kiosks' reports (devices/), and records through audit/; beside customers/, which it does not use.
  { name: 'fleet', rank: 4, paths: ['bank-host/fleet/'] },
  { name: 'operations', rank: 5, paths: ['bank-host/operations/'] },
  { name: 'server', rank: 6, paths: ['bank-host/server/'] },
  { name: 'admin', rank: 6, paths: ['bank-host/admin/'] },
  // The operator console's HTTP listener and the Prometheus metrics: they read the fleet and the kiosk
  // channel's counters (server/), so they sit above server/ and admin/, below the host that starts them.
  // Its browser code (console/ui/) imports only Preact and the fleet's plain view types.
  { name: 'console', rank: 6.5, paths: ['bank-host/console/'] },
  { name: 'host', rank: 7, paths: ['bank-host/host.ts', 'bank-host/host-store.ts', 'bank-host/host-migrate.ts'] },
  { name: 'cli', rank: 8, paths: ['bank-host/cli/'] },
];

/** Lines a bank-host file may have: past this, it has more than one job. */
const FILE_LINES_MAX = 500;

function layerOf(file: string): Layer | undefined {
  return LAYERS.find((layer) => layer.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(full)));
    else if (/\.(ts|tsx|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

/** Every module a file names: imports and re-exports (type-only ones too), `import x = require()`,
 *  dynamic `import()`, and `import('…')` in a type. */
function moduleSpecifiers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      found.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The repository path a relative specifier names (`../store/database.js` → `bank-host/store/database.ts`);
 *  undefined for packages and Node's modules. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier)).replace(/\.(m?js|jsx)$/, '.ts');
}

interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

async function bankHostImports(): Promise<{ files: string[]; edges: ImportEdge[]; outside: ImportEdge[] }> {
  const files = await sourceFiles(ROOT);
  const edges: ImportEdge[] = [];
  const outside: ImportEdge[] = [];
  for (const file of files) {
    for (const specifier of moduleSpecifiers(file, await readFile(file, 'utf8'))) {
      const to = resolveSpecifier(file, specifier);
      if (to === undefined) continue;
      (to.startsWith(`${ROOT}/`) ? edges : outside).push({ from: file, to });
    }
  }
  return { files, edges, outside };
}

/** Every circle of the import graph, each once, as the path that closes it (a → b → a). */
function importCircles(files: readonly string[], edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>(files.map((file) => [file, []]));
  for (const { from, to } of edges) next.get(from)?.push(to);
  // Tarjan's strongly connected components: a component of more than one file, or a file that imports
  // itself, holds a circle; one circle through it is reported.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const connect = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter++;
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file)!, index.get(to)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (next.get(file) ?? []).includes(file)) circles.push(circleThrough(file, new Set(component), next));
  };
  for (const file of files) if (!index.has(file)) connect(file);
  return circles;
}

/** A shortest path from `start` back to itself inside one strongly connected component. */
function circleThrough(start: string, component: ReadonlySet<string>, next: ReadonlyMap<string, readonly string[]>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const to of next.get(file) ?? []) {
      if (!component.has(to)) continue;
      if (to === start) {
        const circle = [start];
        for (let at = file; at !== start; at = cameFrom.get(at)!) circle.unshift(at);
        circle.unshift(start);
        return circle;
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, file);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

test('every bank-host file belongs to a layer', async (t) => {
  const { files } = await bankHostImports();
  t.true(files.length > 40, `found ${files.length} files under ${ROOT}/`);
  t.deepEqual(files.filter((file) => layerOf(file) === undefined), [], 'place a new folder or root file in LAYERS, and say why in the comment above');
});

test('a bank-host file imports only its own folder and the layers below its own', async (t) => {
  const { edges } = await bankHostImports();
  const upward: string[] = [];
  for (const { from, to } of edges) {
    const source = layerOf(from);
    const target = layerOf(to);
    if (source === undefined || target === undefined) continue; // the test above names the file
    if (source === target) continue; // a layer's own files (its folder; basics are three root files)
    if (target.rank >= source.rank) {
      upward.push(`${from} (${source.name}) imports ${to} (${target.name}): ${target.rank === source.rank ? 'a layer beside its own' : 'a layer above its own'}`);
    }
  }
  t.deepEqual([...new Set(upward)], []);
});

test('the imports of bank-host form no circle', async (t) => {
  const { files, edges } = await bankHostImports();
  t.deepEqual(importCircles(files, edges).map((circle) => circle.join(' -> ')), []);
});

test('the cycle check finds a circle of two files and one of three', (t) => {
  const files = ['a.ts', 'b.ts', 'c.ts', 'd.ts', 'e.ts'];
  const edges = [
    { from: 'a.ts', to: 'b.ts' },
    { from: 'b.ts', to: 'a.ts' },
    { from: 'c.ts', to: 'd.ts' },
    { from: 'd.ts', to: 'e.ts' },
    { from: 'e.ts', to: 'c.ts' },
    { from: 'e.ts', to: 'a.ts' },
  ];
  t.deepEqual(
    importCircles(files, edges).map((circle) => circle.join(' -> ')).sort(),
    ['a.ts -> b.ts -> a.ts', 'c.ts -> d.ts -> e.ts -> c.ts'],
  );
  t.deepEqual(importCircles(files, edges.slice(2, 4)), []);
});

test('outside itself bank-host imports only protocol/', async (t) => {
  const { outside } = await bankHostImports();
  t.deepEqual(outside.filter(({ to }) => !to.startsWith('protocol/')).map(({ from, to }) => `${from} imports ${to}`), []);
});

test(`no bank-host file is longer than ${FILE_LINES_MAX} lines`, async (t) => {
  const long: string[] = [];
  for (const file of await sourceFiles(ROOT)) {
    const lines = (await readFile(file, 'utf8')).split('\n').length - 1;
    if (lines > FILE_LINES_MAX) long.push(`${file}: ${lines} lines`);
  }
  t.deepEqual(long, []);
});
