"""What server and client must agree on: domain structs, rules, the journal document, the wire."""
