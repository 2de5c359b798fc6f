"""Patient access: identifiers, password policy and hashing (DESIGN.md "Access rules")."""
