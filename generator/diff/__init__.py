"""``synapsegen diff``: what a schema change does to peers that run the other version.

Miners and validators upgrade at different times, so for a while every pair of versions talks.
``synapsegen diff OLD NEW`` (or ``--against REV``) compares two versions of a protocol on the
validated, preset-expanded schema (not on text) and reports each change once per synapse it
touches, with a stable SG6xx rule code and a category: compatible, breaking for old miners,
breaking for old validators, breaking for both, signature-breaking or stream-breaking.

The modules, one job each:

- :mod:`.findings`: the codes, the categories, a finding and how it is printed;
- :mod:`.sources`: the two versions read from files, folders or a git revision, and validated;
- :mod:`.values`: field and model schemas compared as sets of accepted values, per direction;
- :mod:`.streams`: the token stream compared (framing, payload, end, rules, token);
- :mod:`.protocol`: synapses matched by name and compared, the findings collected;
- :mod:`.command`: the command line.

docs/protocol-changes.md explains the categories and the workflow.
"""
