"""The image service (Glance v2): image records, their data in a pluggable store, and the API."""
