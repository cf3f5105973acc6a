//! The JavaScript sandbox (issue 10).
