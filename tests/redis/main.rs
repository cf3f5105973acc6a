//! Redis tests: the Redis and Redis Cluster stores against real Redis servers (started by
//! `scripts/test`, or by the tests themselves for faults), alone and behind the application.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod chaos;
mod cluster;
mod custom_actions;
mod fault;
mod http;
mod library;
mod limits;
mod scenarios;
mod shutdown;
mod stops;
mod store;
mod tls;
