"""Pure functions that build Helm values from typed settings (unit-tested without Pulumi)."""
