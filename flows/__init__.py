"""The flow document: model, schema, graph checks, node-type descriptions. Pure data, no IO."""
