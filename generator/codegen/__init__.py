"""From a validated schema to Python source: the IR, the type mapper, nested models, rendering."""
