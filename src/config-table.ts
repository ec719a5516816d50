/** The README's configuration table, generated from the schema so that the two cannot drift apart. */
import { CONFIG_VARIABLES } from './config.ts';

export function configTableMarkdown(): string {
  const rows = Object.entries(CONFIG_VARIABLES).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.default === undefined ? '(unset)' : `\`${spec.default}\``} | ${spec.doc} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
