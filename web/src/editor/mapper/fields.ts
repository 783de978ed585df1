// Which node config fields hold a mapping the mapper can open (the inspector asks before loading the mapper):
// transform.map's expression and the body a system connector sends.

const MAPPED_FIELDS: Record<string, string> = {
  "transform.map": "expression",
  "connector.erp": "body",
  "connector.oms": "body",
  "connector.wms": "body",
  "connector.tms": "body",
};

export function mapsField(nodeType: string, path: string): boolean {
  return MAPPED_FIELDS[nodeType] === path;
}
