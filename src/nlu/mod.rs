//! Text → intent (placeholder until the matcher lands).
