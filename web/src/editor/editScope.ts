// The config fields a mapper may change in a flow whose structure stays read-only; mirrors flows/edit_scope.py,
// which the server applies to every save of a mapper (it refuses anything else with 403).

/** Top-level config fields a mapper may edit, by node type; "*" applies to every type (samples). */
const MAPPER_FIELDS: Record<string, string[]> = {
  "transform.map": ["expression"],
  "transform.lookup": ["table", "key"],
  "*": ["sample", "samples"],
};

/** Whether a mapper may change the config field at `path` (e.g. "expression", "rules[0].when") of a node type. */
export function mapperMayEdit(nodeType: string, path: string): boolean {
  const top = path.split(/[.[]/)[0];
  return (MAPPER_FIELDS[nodeType] || []).includes(top) || MAPPER_FIELDS["*"].includes(top);
}
