"""Claims (issue 18): JHT, JKM and JKK from intake to payment. See ``docs/claims.md``."""
