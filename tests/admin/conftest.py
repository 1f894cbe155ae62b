"""Import tests run against the demo programme."""
