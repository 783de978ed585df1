"""The node catalogue: one module per node type (SPEC as data + one run function). Imports only `flows`."""
