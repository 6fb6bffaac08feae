"""Every built-in connector against the connector contract suite (linesight.testing.contract)."""
