//! Outbound HTTP behind an SSRF guard (issue 10).
