"""The commands of ``synapsegen`` (:mod:`synapsegen.cli` picks one by its word), one module each.

- :mod:`.generate`: ``synapsegen [generate]`` and ``synapsegen check``: write or check the
  output folder
- :mod:`.watch`: ``--watch``: generate again whenever an input changes
- :mod:`.openapi`: ``synapsegen openapi``: the synapses' OpenAPI document
- :mod:`.schema`: ``synapsegen schema``: the schema language's JSON Schema
- :mod:`.inputs`: what a run works on: the command line over ``[tool.synapsegen]``
- :mod:`.arguments`: the argument parsers' common parts (one-line errors, help's layout)

``synapsegen diff`` and ``synapsegen explain`` live with what they run:
:mod:`synapsegen.diff.command`, :mod:`synapsegen.explain`.
"""
