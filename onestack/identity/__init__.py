"""The identity service (Keystone v3 API): users, projects, roles, the catalog and tokens."""
