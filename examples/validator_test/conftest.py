"""The root conftest of the validator's tests: opt in to synapsegen's test kit fixtures."""

pytest_plugins = ["synapsegen.testing.pytest_plugin"]
