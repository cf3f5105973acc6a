//! Outbound HTTP behind the SSRF guard: a real client against servers the tests start on
//! loopback addresses (127.0.0.0/8, ::1, port 0). Every request is bounded in time, and no
//! test sends anything anywhere else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod allowed;
mod limits;
mod refused;
mod servers;
