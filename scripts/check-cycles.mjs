// Fails the lint step on circular imports, as BullMQ's build does: cycles make start-up order fragile.
import { parseDependencyTree, parseCircular, prettyCircular } from 'dpdm';

const roots = ['app/**/*.ts', 'cli/**/*.ts', 'core/**/*.ts', 'ingest/**/*.ts', 'queue/**/*.ts', 'inference/**/*.ts', 'trainer/**/*.ts', 'tracking/**/*.ts', 'web/**/*.ts'];
const tree = await parseDependencyTree(roots, { transform: true, skipDynamicImports: false, exclude: /node_modules|web\/dist|web\/dashboard/ });
const cycles = parseCircular(tree);
if (cycles.length > 0) {
  console.error(`circular imports (${cycles.length}):\n${prettyCircular(cycles)}`);
  process.exit(1);
}
console.log(`no circular imports in ${Object.keys(tree).length} modules`);
