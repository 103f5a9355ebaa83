"""The gateway as an OAuth 2.1 resource server: token validation, metadata, upstream credentials."""
